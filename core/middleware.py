"""Refuse what no form should ever receive, before any view or database sees it."""

from django.http import HttpResponseBadRequest
from django.template.loader import render_to_string


class RejectNullBytesMiddleware:
    """A NUL character in the path, the query string or a form field is 400, not a 500.

    PostgreSQL cannot store or compare text with NUL in it; Django's form fields refuse it,
    but some views read parameters directly (the admin's autocomplete, filters).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or "%00" in request.META.get("QUERY_STRING", ""):
            return self._bad(request)
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            try:
                for key, values in request.POST.lists():
                    if "\x00" in key or any("\x00" in value for value in values):
                        return self._bad(request)
            except Exception:  # noqa: BLE001 — a body Django cannot parse is its own 400
                pass
        return self.get_response(request)

    def _bad(self, request):
        return HttpResponseBadRequest(render_to_string("400.html", request=request))
