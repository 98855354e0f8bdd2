import json

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Count
from django.http import HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from core import pagecache
from core.paginator import EstimatingPaginator
from core.spreadsheets import xlsx_response
from core.views import is_local_path, require

from . import outbox, sessions
from .forms import (
    AuditFilterForm,
    PasswordChangeForm,
    PasswordResetRequestForm,
    ReauthenticateForm,
    RetryOutboxForm,
    SetPasswordForm,
)
from .models import Notification, OutboxMessage, SecurityEvent


@require_GET
@never_cache
def healthz(request):
    """For load balancers and monitors: 200 when the database answers."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 — any failure means "not healthy"
        return JsonResponse(
            {"status": "error", "database": str(exc.__class__.__name__)}, status=503
        )
    return JsonResponse({"status": "ok", "database": "ok"})


@login_required
def notifications(request):
    items = request.user.notifications.all()[:100]
    return render(request, "accounts/notifications.html", {"notifications": items})


@login_required
def open_notification(request, pk):
    """Follow a notification's link, marking it read; only the recipient's own."""
    note = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if note.read_at is None:
        note.read_at = timezone.now()
        note.save(update_fields=["read_at"])
        pagecache.person_changed([request.user.pk])
    target = note.url if note.url and url_has_allowed_host_and_scheme(note.url, None) else None
    return redirect(target or "notifications")


@login_required
@require_POST
def mark_all_read(request):
    request.user.notifications.filter(read_at__isnull=True).update(read_at=timezone.now())
    pagecache.person_changed([request.user.pk])
    return redirect("notifications")


OUTBOX_PAGE_ROWS = 200


@login_required
def outbox_page(request):
    """Email and SMS that could not be sent yet, or at all, for committee staff to see and
    send again (after fixing an address, or once the mail server is back)."""
    require(outbox.may_look_after(request.user))
    form = RetryOutboxForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        chosen = OutboxMessage.objects.filter(pk__in=[m.pk for m in form.cleaned_data["chosen"]])
        count = outbox.retry(chosen, by=request.user)
        messages.success(
            request,
            ngettext(
                "%(count)d message will be sent again.",
                "%(count)d messages will be sent again.",
                count,
            )
            % {"count": count},
        )
        return redirect("outbox")
    rows = list(outbox.trouble().order_by("-created_at", "-id")[:OUTBOX_PAGE_ROWS])
    counts = dict(
        outbox.trouble()
        .order_by()
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    return render(
        request,
        "accounts/outbox.html",
        {
            "form": form,
            "rows": rows,
            "failed": counts.get(OutboxMessage.State.FAILED, 0),
            "retrying": counts.get(OutboxMessage.State.PENDING, 0),
            "shown": OUTBOX_PAGE_ROWS,
            "title": _("Messages not sent"),
        },
    )


class LoginView(auth_views.LoginView):
    """Django's login, going on only to a page of this site (next=abc went to "abc")."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        channels = settings.TIAN_SECURITY["PASSWORD_RESET_CHANNELS"]
        return {**super().get_context_data(**kwargs), "self_service_reset": bool(channels)}

    def get_redirect_url(self):
        target = super().get_redirect_url()
        return target if is_local_path(target) else ""


class LogoutView(auth_views.LogoutView):
    def get_redirect_url(self):
        target = super().get_redirect_url()
        return target if is_local_path(target) else None


# --- passwords -----------------------------------------------------------------------------------


class PasswordChangeView(auth_views.PasswordChangeView):
    """Every account's own change (and the forced one: accounts.middleware)."""

    form_class = PasswordChangeForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}

    def form_valid(self, form):
        response = super().form_valid(form)
        sessions.mark_authenticated(self.request)
        messages.success(self.request, _("Your password was changed."))
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Asking for a one-time link oneself: only where email or SMS is set up for it
    (TIAN_PASSWORD_RESET_CHANNELS); otherwise an administrator issues it."""

    form_class = PasswordResetRequestForm

    def post(self, request, *args, **kwargs):
        if not settings.TIAN_SECURITY["PASSWORD_RESET_CHANNELS"]:
            # Nothing to send through: the page only says whom to ask.
            return self.get(request, *args, **kwargs)
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        channels = settings.TIAN_SECURITY["PASSWORD_RESET_CHANNELS"]
        return {**super().get_context_data(**kwargs), "channels": channels}

    def form_valid(self, form):
        form.save(self.request)
        return HttpResponseRedirect(self.get_success_url())


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    form_class = SetPasswordForm

    def get_form_kwargs(self):
        return {**super().get_form_kwargs(), "request": self.request}


@login_required
def reauthenticate(request):
    """The password again before signing; then back to where the user was."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    target = target if is_local_path(target) else reverse("workspace")
    form = ReauthenticateForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        sessions.mark_authenticated(request)
        return redirect(target)
    return render(request, "registration/reauthenticate.html", {"form": form, "next": target})


# --- the security record, for the audit administrator ---------------------------------------

AUDIT_PAGE_SIZE = 50


def may_read_the_record(user):
    """The audit administrator (accounts/roles.py), and a superuser at installation."""
    return user.has_perm("accounts.view_securityevent")


def filtered_record(request):
    form = AuditFilterForm(request.GET or None)
    return form, form.filter(SecurityEvent.objects.all())


@login_required
@require_GET
def audit_record(request):
    """The security record: filter by person, time, kind and object; newest first."""
    require(may_read_the_record(request.user))
    form, queryset = filtered_record(request)
    queryset = queryset.order_by("-created_at", "-id")
    paginator = EstimatingPaginator(queryset, AUDIT_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "accounts/audit.html",
        {"form": form, "page": page, "query": query.urlencode()},
    )


@login_required
@require_GET
def audit_export(request):
    """The filtered record as .xlsx (the download is itself recorded, with its filters)."""
    require(may_read_the_record(request.user))
    _form, queryset = filtered_record(request)
    kinds = dict(SecurityEvent.Kind.choices)
    rows = (
        (
            timezone.localtime(created_at).strftime("%Y-%m-%d %H:%M:%S"),
            str(kinds.get(kind, kind)),
            actor_name,
            object_type,
            object_id,
            object_repr,
            ip_address or "",
            json.dumps(details, ensure_ascii=False, sort_keys=True) if details else "",
        )
        for created_at, kind, actor_name, object_type, object_id, object_repr, ip_address, details in (
            queryset.order_by("-created_at", "-id")
            .values_list(
                "created_at",
                "kind",
                "actor_name",
                "object_type",
                "object_id",
                "object_repr",
                "ip_address",
                "details",
            )
            .iterator(chunk_size=2000)
        )
    )
    headers = [
        _("Time"),
        _("Kind"),
        _("Person"),
        _("Object type"),
        _("Object id"),
        _("Object"),
        _("IP address"),
        _("Details"),
    ]
    return xlsx_response(
        "安全审计记录", _("Security record"), headers, rows, [20, 16, 16, 18, 10, 30, 16, 60]
    )
