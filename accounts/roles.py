"""The three administrators of 三员分立 (separation of duties, 等保2.0 level 3).

Each is a Django group whose permissions are defined here, in code, and put in place after
every `migrate` (a post_migrate receiver: the permissions of the later apps — proposals'
audit events, axes' lockouts — exist only once those apps are migrated, which a migration of
accounts cannot wait for). The groups' permissions are therefore not edited in the admin
(GroupAdmin shows them read-only); a change to a role is a change to this file.

- System administrator (系统管理员): units, users' accounts and personal details, proposers,
  the calendar and the rules (terms, sessions, categories, rejection reasons). Cannot read
  the security record, cannot assign roles or permissions, has no business step.
- Security administrator (安全管理员): groups and permissions, the committee-staff and staff
  flags, unit roles (memberships), lockouts (axes). No business step, no personal details
  to change, no security record.
- Audit administrator (审计管理员): reads and exports the security record and the
  proposals' workflow events. Changes nothing.

A superuser is for installation only; its every login and admin change is on the record.
Nobody holds two of the roles, and nobody holding one has a business role (committee staff
or a unit membership): the admin forms refuse it (`conflicts`).
"""

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.checks import Error, Tags, register
from django.db import DEFAULT_DB_ALIAS, connections
from django.utils.translation import gettext as _

from .models import MINIMUM_RETENTION_DAYS

SYSTEM_ADMIN = "系统管理员"
SECURITY_ADMIN = "安全管理员"
AUDIT_ADMIN = "审计管理员"


def crud(app_label, model, *actions):
    return [f"{app_label}.{action}_{model}" for action in actions]


ROLE_PERMISSIONS = {
    SYSTEM_ADMIN: [
        *crud("accounts", "user", "add", "change", "view"),
        *crud("accounts", "unit", "add", "change", "view"),
        *crud("accounts", "proposer", "add", "change", "view"),
        "accounts.view_membership",
        *crud("proposals", "term", "add", "change", "view"),
        *crud("proposals", "session", "add", "change", "view"),
        *crud("proposals", "category", "add", "change", "view"),
        *crud("proposals", "rejectionreason", "add", "change", "view"),
        *crud("proposals", "calendarday", "add", "change", "delete", "view"),
    ],
    SECURITY_ADMIN: [
        "accounts.view_user",
        "accounts.assign_roles",
        *crud("accounts", "membership", "add", "change", "delete", "view"),
        "accounts.view_unit",
        *crud("auth", "group", "add", "change", "delete", "view"),
        "auth.view_permission",
        *crud("axes", "accessattempt", "view", "delete"),
        "axes.view_accessfailurelog",
        "axes.view_accesslog",
    ],
    AUDIT_ADMIN: [
        "accounts.view_securityevent",
        "proposals.view_event",
    ],
}

ROLES = tuple(ROLE_PERMISSIONS)

# Held only through the role groups: a group or a user's own permissions made in the admin
# never carry them (else a security administrator could build a second audit role).
RESERVED_PERMISSIONS = ["accounts.view_securityevent", "accounts.assign_roles"]


def grantable_permissions(queryset):
    """`queryset` of Permission without the reserved ones."""
    for perm in RESERVED_PERMISSIONS:
        app_label, codename = perm.split(".")
        queryset = queryset.exclude(content_type__app_label=app_label, codename=codename)
    return queryset


def role_names(user):
    """The administrator roles the user holds (names of ROLES)."""
    if not user.pk:
        return set()
    return set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))


def conflicts(roles, *, is_superuser=False, is_committee_staff=False, has_memberships=False):
    """Why this combination breaks separation of duties, as messages (empty if it does not)."""
    roles = set(roles) & set(ROLES)
    problems = []
    if len(roles) > 1:
        problems.append(
            _("One person holds at most one of the administrator roles: %(roles)s.")
            % {"roles": "、".join(sorted(roles))}
        )
    if roles and is_superuser:
        problems.append(_("An administrator role cannot be given to a superuser."))
    if roles and (is_committee_staff or has_memberships):
        problems.append(
            _(
                "An administrator (%(roles)s) has no business role: neither committee staff "
                "nor a member of a unit."
            )
            % {"roles": "、".join(sorted(roles))}
        )
    return problems


def sync_role_groups(using=DEFAULT_DB_ALIAS, **kwargs):
    """Create the three groups and give each exactly its permissions (post_migrate)."""
    # Not while accounts is migrated only part of the way (`migrate accounts 0002`): the
    # security record, which the change is written to, may not exist yet.
    if "accounts_securityevent" not in connections[using].introspection.table_names():
        return
    for name, perms in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted += Permission.objects.filter(
                content_type__app_label=app_label, codename=codename
            )
        group.permissions.set(wanted)


@register(Tags.security)
def check_audit_retention(app_configs, **kwargs):
    """The security record is kept at least six months (网络安全法 art. 21)."""
    days = getattr(settings, "AUDIT_RETENTION_DAYS", None)
    if days is not None and int(days) < MINIMUM_RETENTION_DAYS:
        return [
            Error(
                f"AUDIT_RETENTION_DAYS is {days}: the security record must be kept at least "
                f"{MINIMUM_RETENTION_DAYS} days (six months).",
                id="accounts.E010",
            )
        ]
    return []
