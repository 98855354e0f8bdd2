"""What every workflow view does the same way."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied

from ..services import Refused


def run(request, action, *args, success=None, **kwargs):
    """Call a workflow function; report a refusal as a message instead of failing.

    Returns (result, ok).
    """
    try:
        result = action(*args, **kwargs)
    except Refused as exc:
        messages.error(request, " ".join(exc.messages))
        return None, False
    if success:
        messages.success(request, success)
    return result, True


def add_refusal_to_form(form, exc):
    """Show a workflow refusal above the form, keeping what the user typed."""
    for message in exc.messages:
        form.add_error(None, message)


def require(condition):
    """403 unless the user's role allows the view at all (object access is 404 elsewhere)."""
    if not condition:
        raise PermissionDenied
