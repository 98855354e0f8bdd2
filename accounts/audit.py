"""The security record: what is written to it, and from where.

Everything here listens (Django's and axes' signals, the accounts' own signals, model
signals, the admin's LogEntry) or is called from one place (the admin's change views of
personal data); nothing else in the code has to remember to write a row. The request a row
belongs to (who, from which address) comes from `SecurityRecordMiddleware`, which also
records every .xlsx download.
"""

import contextvars
from urllib.parse import unquote

from axes.helpers import get_client_ip_address
from axes.signals import user_locked_out
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Group
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_init, post_save
from django.dispatch import receiver

from core.spreadsheets import XLSX_CONTENT_TYPE

from .models import Membership, SecurityEvent, User
from .signals import password_changed, password_reset_issued

Kind = SecurityEvent.Kind

_current_request = contextvars.ContextVar("security_record_request", default=None)

# The flags on User that give powers: a change to any of them is a role change.
ROLE_FLAGS = ("is_active", "is_staff", "is_superuser", "is_committee_staff")


def ip_of(request):
    if request is None:
        return None
    try:
        return get_client_ip_address(request) or None
    except Exception:  # noqa: BLE001 — an address we cannot read is not worth a failed request
        return request.META.get("REMOTE_ADDR") or None


def record(kind, *, request=None, actor=None, obj=None, actor_name="", about=None, **details):
    """Write one row. `request` defaults to the one being served (if any); `actor` to its
    user; `obj` is what the event is about (a model instance, or a string), or `about`
    gives it as (object type, object id, text)."""
    request = request if request is not None else _current_request.get()
    if actor is None and request is not None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            actor = user
    if actor is not None and not actor.pk:
        actor = None
    object_type = object_id = object_repr = ""
    if obj is not None:
        if hasattr(obj, "_meta"):
            object_type = obj._meta.label_lower
            object_id = str(obj.pk or "")
        object_repr = str(obj)[:200]
    if about is not None:
        object_type, object_id, object_repr = (str(part) for part in about)
    if actor is not None and actor.is_superuser:
        details.setdefault("superuser", True)
    return SecurityEvent.objects.create(
        kind=kind,
        actor=actor,
        actor_name=(actor.get_username() if actor is not None else actor_name or "")[:150],
        object_type=object_type,
        object_id=object_id[:64],
        object_repr=object_repr[:200],
        ip_address=ip_of(request),
        details=details,
    )


class SecurityRecordMiddleware:
    """Knows the request being served (for the rows its signals write) and records every
    spreadsheet download: who, which list, with which filters."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        token = _current_request.set(request)
        try:
            response = self.get_response(request)
            if (
                response.status_code == 200
                and response.get("Content-Type", "").startswith(XLSX_CONTENT_TYPE)
                and getattr(request, "user", None) is not None
                and request.user.is_authenticated
            ):
                record_export(request, response)
            return response
        finally:
            _current_request.reset(token)


def record_export(request, response):
    match = request.resolver_match
    disposition = response.get("Content-Disposition", "")
    filename = ""
    if "filename*=UTF-8''" in disposition:
        filename = unquote(disposition.split("filename*=UTF-8''", 1)[1])
    filters = {
        key: values if len(values) > 1 else values[0]
        for key, values in request.GET.lists()
        if any(values)
    }
    record(
        Kind.EXPORTED,
        request=request,
        obj=filename or request.path,
        path=request.path,
        view=match.view_name if match else "",
        filters=filters,
    )


def record_personal_data_view(request, obj):
    """An administrator opened a page with someone's personal data (phone, address, email)."""
    record(Kind.PERSONAL_DATA_VIEWED, request=request, obj=obj, path=request.path)


# --- logins, lockouts, passwords ----------------------------------------------------------------


@receiver(user_logged_in)
def on_login(sender, request, user, **kwargs):
    record(Kind.LOGIN, request=request, actor=user, obj=user)


@receiver(user_login_failed)
def on_login_failed(sender, credentials, request=None, **kwargs):
    username = str(credentials.get("username", ""))[:150]
    record(Kind.LOGIN_FAILED, request=request, actor_name=username, obj=username)


@receiver(user_logged_out)
def on_logout(sender, request, user, **kwargs):
    if user is not None:
        record(Kind.LOGOUT, request=request, actor=user, obj=user)


@receiver(user_locked_out)
def on_locked_out(sender, request, username=None, ip_address=None, **kwargs):
    record(
        Kind.LOCKED_OUT,
        request=request,
        actor_name=username or "",
        obj=username or "",
        address=ip_address or "",
    )


@receiver(password_changed)
def on_password_changed(sender, user, by=None, how="", request=None, **kwargs):
    record(Kind.PASSWORD_CHANGED, request=request, actor=by or user, obj=user, how=how)


@receiver(password_reset_issued)
def on_password_reset_issued(sender, user, by=None, how="", request=None, **kwargs):
    record(Kind.PASSWORD_RESET_ISSUED, request=request, actor=by, obj=user, how=how)


# --- roles and permissions ----------------------------------------------------------------------


@receiver(post_init, sender=User)
def remember_role_flags(sender, instance, **kwargs):
    instance._role_flags = {flag: getattr(instance, flag) for flag in ROLE_FLAGS}


@receiver(post_save, sender=User)
def on_user_saved(sender, instance, created, update_fields=None, **kwargs):
    before = getattr(instance, "_role_flags", {})
    now = {flag: getattr(instance, flag) for flag in ROLE_FLAGS}
    instance._role_flags = now
    if created:
        changed = {
            flag: [None, value] for flag, value in now.items() if value and flag != "is_active"
        }
    else:
        changed = {
            flag: [before.get(flag), value]
            for flag, value in now.items()
            if flag in before and before[flag] != value
        }
    if changed:
        record(Kind.ROLES_CHANGED, obj=instance, flags=changed)


def _names(model, pks):
    return sorted(str(item) for item in model.objects.filter(pk__in=pks or []))


def on_m2m_changed(field):
    def receiver_(sender, instance, action, reverse, model, pk_set, **kwargs):
        if action == "pre_clear":
            # What is about to go: read now, record after (from the other side, the ids
            # are of the many; the row names the one they left).
            if not reverse:
                instance._cleared = list(getattr(instance, field).values_list("pk", flat=True))
            return
        if action not in ("post_add", "post_remove", "post_clear"):
            return
        if action != "post_clear" and not pk_set:
            return  # adding what was already there
        if action == "post_clear":
            pk_set = getattr(instance, "_cleared", None) if not reverse else None
            action = "post_remove"
        record(
            Kind.ROLES_CHANGED,
            obj=instance,
            field=field if not reverse else f"{model._meta.model_name} ← {field}",
            added=_names(model, pk_set) if action == "post_add" else [],
            removed=_names(model, pk_set) if action == "post_remove" else [],
        )

    return receiver_


_groups_changed = on_m2m_changed("groups")
_user_permissions_changed = on_m2m_changed("user_permissions")
_group_permissions_changed = on_m2m_changed("permissions")
m2m_changed.connect(_groups_changed, sender=User.groups.through)
m2m_changed.connect(_user_permissions_changed, sender=User.user_permissions.through)
m2m_changed.connect(_group_permissions_changed, sender=Group.permissions.through)


@receiver(post_init, sender=Membership)
def remember_membership(sender, instance, **kwargs):
    instance._was = (instance.unit_id, instance.role)


@receiver(post_save, sender=Membership)
def on_membership_saved(sender, instance, created, **kwargs):
    was, instance._was = getattr(instance, "_was", None), (instance.unit_id, instance.role)
    if not created and was == instance._was:
        return  # the leader's title, not a role
    record(
        Kind.ROLES_CHANGED,
        obj=instance.user,
        membership=str(instance),
        unit=instance.unit_id,
        role=instance.role,
        change="added" if created else "changed",
    )


@receiver(post_delete, sender=Membership)
def on_membership_deleted(sender, instance, **kwargs):
    record(
        Kind.ROLES_CHANGED,
        obj=instance.user,
        membership=str(instance),
        unit=instance.unit_id,
        role=instance.role,
        change="removed",
    )


# --- the admin ------------------------------------------------------------------------------------


@receiver(post_save, sender=LogEntry)
def on_admin_change(sender, instance, created, **kwargs):
    if not created:
        return
    action = {1: "addition", 2: "change", 3: "deletion"}.get(instance.action_flag, "")
    content_type = instance.content_type
    record(
        Kind.ADMIN_CHANGE,
        actor=instance.user,
        about=(
            f"{content_type.app_label}.{content_type.model}" if content_type else "",
            instance.object_id or "",
            instance.object_repr,
        ),
        action=action,
        message=instance.get_change_message(),
    )
