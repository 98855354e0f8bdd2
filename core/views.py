"""What every workflow view does the same way: run a step, show a refusal, go back safely."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.urls import Resolver404, resolve

from .workflow import Refused


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


def safe_next(request, default):
    """The `next` the form carried, if it is a path of this site that resolves; else `default`.

    Only a local absolute path is taken ("/work/…"): never a scheme, a host, "//…", a
    backslash or a control character, and never a path that is not one of ours.
    """
    target = request.POST.get("next") or request.GET.get("next") or ""
    if is_local_path(target):
        return target
    return default


def is_local_path(target):
    if not target or len(target) > 2000 or not target.startswith("/"):
        return False
    if target.startswith("//") or "\\" in target or any(ord(c) < 32 for c in target):
        return False
    try:
        resolve(target.split("?", 1)[0].split("#", 1)[0])
    except Resolver404:
        return False
    return True


def redirect_next(request, default):
    return redirect(safe_next(request, default))
