"""django-axes' lockout page, saying how long is left (AXES_LOCKOUT_CALLABLE)."""

import math

from axes.helpers import get_client_username, get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.shortcuts import render
from django.utils import timezone


def remaining_minutes(request, credentials=None):
    """Whole minutes until the lockout of this username and address ends (at least 1)."""
    cool_off = get_cool_off(request)
    if not cool_off:
        return None
    attempts = AccessAttempt.objects.filter(
        username=get_client_username(request, credentials) or "",
        ip_address=getattr(request, "axes_ip_address", None),
    )
    last = attempts.order_by("-attempt_time").values_list("attempt_time", flat=True).first()
    if last is None:
        return math.ceil(cool_off.total_seconds() / 60)
    left = (last + cool_off - timezone.now()).total_seconds()
    return max(1, math.ceil(left / 60))


def lockout_response(request, original_response=None, credentials=None):
    minutes = remaining_minutes(request, credentials)
    return render(
        request,
        settings.AXES_LOCKOUT_TEMPLATE,
        {"minutes": minutes},
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
