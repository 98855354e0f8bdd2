"""django-csp's middleware, with the policy built once rather than twice per response.

django-csp 4 builds the Content-Security-Policy header (and the report-only one) anew for
every response, from the settings, through dataclasses and string joins: about a third of
what a 304 of a cached public page costs. Nearly every response here uses the policy as
configured (no nonce, no per-view decorator): those get the strings built once per process
(and again when a test changes the settings). Anything else is django-csp's own way.
"""

import functools
import http.client

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, PolicyParts
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

# What a view's decorators (csp.decorators) leave on a response to change its policy.
OVERRIDES = (
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)
DEBUG_EXEMPT = (http.client.INTERNAL_SERVER_ERROR, http.client.NOT_FOUND)


@functools.cache
def configured():
    """(header, value, exempting attribute, excluded path prefixes) of each policy set."""
    found = []
    for header, report_only, exempt, setting in (
        (HEADER, False, "_csp_exempt", "CONTENT_SECURITY_POLICY"),
        (HEADER_REPORT_ONLY, True, "_csp_exempt_ro", "CONTENT_SECURITY_POLICY_REPORT_ONLY"),
    ):
        value = build_policy(**vars(PolicyParts()), report_only=report_only)
        prefixes = tuple((getattr(settings, setting, None) or {}).get("EXCLUDE_URL_PREFIXES") or ())
        if value:
            found.append((header, value, exempt, prefixes))
    return tuple(found)


@receiver(setting_changed)
def _forget(setting, **kwargs):
    if setting.startswith("CONTENT_SECURITY_POLICY") or setting == "DEBUG":
        configured.cache_clear()


class CSPMiddleware(DjangoCSPMiddleware):
    def process_response(self, request, response):
        if getattr(request, "_csp_nonce", None) is not None or any(
            hasattr(response, name) for name in OVERRIDES
        ):
            return super().process_response(request, response)
        if settings.DEBUG and response.status_code in DEBUG_EXEMPT:
            return response
        for header, value, exempt, prefixes in configured():
            if (
                header not in response
                and not getattr(response, exempt, False)
                and not request.path_info.startswith(prefixes)
            ):
                response[header] = value
        # As django-csp: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response
