"""When a session started, when its user last gave their password, when it was last used.

Kept in the session as Unix times; the middleware (accounts/middleware.py) ends it after the
idle timeout or the absolute lifetime, and `needs_reauthentication` asks for the password
again before a leader signs (TIAN_REAUTH_BEFORE_SIGNING_MINUTES).
"""

import functools
import time
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from core.views import is_local_path

LOGIN_AT = "tian_login_at"
AUTH_AT = "tian_auth_at"
SEEN_AT = "tian_seen_at"


@receiver(user_logged_in)
def remember_login(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    now = int(time.time())
    request.session[LOGIN_AT] = now
    request.session[AUTH_AT] = now
    request.session[SEEN_AT] = now


def mark_authenticated(request):
    """The user has just given their password again."""
    request.session[AUTH_AT] = int(time.time())


def needs_reauthentication(request):
    minutes = settings.TIAN_SECURITY["REAUTH_BEFORE_SIGNING_MINUTES"]
    if not minutes:
        return False
    given = request.session.get(AUTH_AT, 0)
    return time.time() - given > minutes * 60


def recent_password_required(view):
    """Before a view that signs: the password given within the configured minutes, or
    the user is asked for it and sent back to the page they signed from."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.user.is_authenticated and needs_reauthentication(request):
            back = _local(request, request.POST.get("back", "")) or _local(
                request, request.META.get("HTTP_REFERER", "")
            )
            back = back or request.path
            if request.method != "GET" and back == request.path:
                back = reverse("workspace")
            query = urlencode({"next": back})
            return redirect(f"{reverse('reauthenticate')}?{query}")
        return view(request, *args, **kwargs)

    return wrapper


def _local(request, url):
    """The path (and query) of a URL of this site, or ""."""
    parts = urlsplit(url)
    if parts.netloc and parts.netloc != request.get_host():
        return ""
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    return path if is_local_path(path) else ""
