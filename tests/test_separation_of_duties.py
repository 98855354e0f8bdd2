"""三员分立: the system, security and audit administrators each do their own work and none of
the others' — in the admin and in the staff UI. (accounts/roles.py names what each holds.)"""

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from accounts import roles
from accounts.models import Membership, SecurityEvent, User

from .conftest import make_user


def administrator(username, role):
    user = make_user(username, username, is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def admins(world):
    world.sysadmin = administrator("sysadmin", roles.SYSTEM_ADMIN)
    world.secadmin = administrator("secadmin", roles.SECURITY_ADMIN)
    world.auditor = administrator("auditor", roles.AUDIT_ADMIN)
    return world


def as_user(client, user):
    client.force_login(user)
    return client


def perms_of(role):
    group = Group.objects.get(name=role)
    return {
        f"{app}.{codename}"
        for app, codename in group.permissions.values_list("content_type__app_label", "codename")
    }


# --- the roles themselves --------------------------------------------------------------------------


def test_the_three_groups_exist_with_exactly_their_permissions(db):
    for role, wanted in roles.ROLE_PERMISSIONS.items():
        assert perms_of(role) == set(wanted), role


def test_no_power_is_held_by_two_roles(db):
    # Reading a unit's or a user's name is shared; changing anything, never.
    system, security, audit = (
        {perm for perm in perms_of(role) if ".view_" not in perm} for role in roles.ROLES
    )
    assert not system & security
    assert not system & audit
    assert not security & audit


def test_the_roles_have_no_business_permission(db):
    for role in roles.ROLES:
        held = perms_of(role)
        for model in ("proposal", "assignment", "replyletter", "receipt", "publication"):
            assert not any(perm.endswith(f"_{model}") and "view_" not in perm for perm in held)
    # Reading the record is the auditor's alone; assigning roles the security administrator's.
    assert "accounts.view_securityevent" not in perms_of(roles.SYSTEM_ADMIN)
    assert "accounts.view_securityevent" not in perms_of(roles.SECURITY_ADMIN)
    assert "accounts.assign_roles" not in perms_of(roles.SYSTEM_ADMIN)


# --- the admin ----------------------------------------------------------------------------------------

ADMIN_PAGES = {
    # page: the roles that may open it
    "admin:accounts_user_changelist": {"sysadmin", "secadmin"},
    "admin:accounts_user_add": {"sysadmin"},
    "admin:accounts_unit_add": {"sysadmin"},
    "admin:accounts_proposer_add": {"sysadmin"},
    "admin:proposals_calendarday_add": {"sysadmin"},
    "admin:proposals_category_add": {"sysadmin"},
    "admin:proposals_session_add": {"sysadmin"},
    "admin:auth_group_changelist": {"secadmin"},
    "admin:auth_group_add": {"secadmin"},
    "admin:accounts_membership_add": {"secadmin"},
    "admin:axes_accessattempt_changelist": {"secadmin"},
    "admin:accounts_securityevent_changelist": {"auditor"},
    "admin:proposals_event_changelist": {"auditor"},
    "admin:proposals_proposal_changelist": set(),
    "admin:replies_replyletter_changelist": set(),
    "admin:accounts_securityevent_add": set(),
}


@pytest.mark.parametrize("who", ["sysadmin", "secadmin", "auditor"])
def test_each_administrator_opens_only_their_own_admin_pages(client, admins, who):
    as_user(client, getattr(admins, who))
    for name, allowed in ADMIN_PAGES.items():
        status = client.get(reverse(name)).status_code
        assert status == (200 if who in allowed else 403), (who, name, status)


def test_the_security_administrator_assigns_roles_but_not_personal_details(client, admins):
    w = admins
    as_user(client, w.secadmin)
    page = client.get(reverse("admin:accounts_user_change", args=[w.kjj.pk]))
    assert page.status_code == 200
    fields = page.context["adminform"].form.fields
    assert "groups" in fields and "is_committee_staff" in fields
    assert "full_name" not in fields and "phone" not in fields and "is_superuser" not in fields
    w.zhanghua.phone = "13900000069"
    w.zhanghua.save()
    assert (
        "13900000069"
        not in client.get(
            reverse("admin:accounts_user_change", args=[w.zhanghua.pk])
        ).content.decode()
    )
    data = {"groups": [], "user_permissions": [], "is_staff": "", "is_committee_staff": "on"}
    data.update(inline_management("memberships", w.kjj))
    response = client.post(reverse("admin:accounts_user_change", args=[w.kjj.pk]), data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    w.kjj.refresh_from_db()
    assert w.kjj.is_committee_staff
    # Setting someone's password is not theirs.
    url = reverse("admin:auth_user_password_change", args=[w.kjj.pk])
    assert client.get(url).status_code == 403


def test_the_system_administrator_edits_personal_details_but_not_roles(client, admins):
    w = admins
    as_user(client, w.sysadmin)
    page = client.get(reverse("admin:accounts_user_change", args=[w.kjj.pk]))
    fields = page.context["adminform"].form.fields
    assert "full_name" in fields
    for name in ("groups", "user_permissions", "is_staff", "is_committee_staff", "is_superuser"):
        assert name not in fields
    auditors = Group.objects.get(name=roles.AUDIT_ADMIN)
    data = {
        "username": "kjj",
        "full_name": "科技局王经办",
        "phone": "",
        "email": "",
        "is_active": "on",
        # Forged: read-only fields are not taken.
        "groups": [auditors.pk],
        "is_superuser": "on",
        "is_committee_staff": "on",
        **inline_management("memberships", w.kjj),
    }
    response = client.post(reverse("admin:accounts_user_change", args=[w.kjj.pk]), data)
    assert response.status_code == 302
    w.kjj.refresh_from_db()
    assert w.kjj.full_name == "科技局王经办"
    assert not w.kjj.is_superuser and not w.kjj.is_committee_staff
    assert not w.kjj.groups.exists()


def test_nobody_gives_themselves_a_role(client, admins):
    w = admins
    as_user(client, w.secadmin)
    page = client.get(reverse("admin:accounts_user_change", args=[w.secadmin.pk]))
    fields = page.context["adminform"].form.fields
    assert "groups" not in fields and "is_committee_staff" not in fields


def role_change(user, groups, **flags):
    data = {"groups": [g.pk for g in groups], "user_permissions": [], "is_staff": "on"}
    data.update({flag: "on" for flag, value in flags.items() if value})
    data.update(inline_management("memberships", user))
    return data


def inline_management(prefix, user):
    count = user.memberships.count() if user.pk else 0
    data = {
        f"{prefix}-TOTAL_FORMS": str(count),
        f"{prefix}-INITIAL_FORMS": str(count),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, membership in enumerate(user.memberships.order_by("pk")):
        data.update(
            {
                f"{prefix}-{i}-id": str(membership.pk),
                f"{prefix}-{i}-user": str(user.pk),
                f"{prefix}-{i}-unit": str(membership.unit_id),
                f"{prefix}-{i}-role": membership.role,
                f"{prefix}-{i}-title": membership.title,
            }
        )
    return data


def test_one_person_holds_one_administrator_role_and_no_business_role(client, admins):
    w = admins
    as_user(client, w.secadmin)
    url = reverse("admin:accounts_user_change", args=[w.sysadmin.pk])
    system, audit = (Group.objects.get(name=n) for n in (roles.SYSTEM_ADMIN, roles.AUDIT_ADMIN))
    response = client.post(url, role_change(w.sysadmin, [system, audit]))
    assert response.status_code == 200
    assert "最多" in response.content.decode() or response.context["adminform"].form.errors
    response = client.post(url, role_change(w.sysadmin, [system], is_committee_staff=True))
    assert response.status_code == 200
    w.sysadmin.refresh_from_db()
    assert not w.sysadmin.is_committee_staff
    assert set(w.sysadmin.groups.values_list("name", flat=True)) == {roles.SYSTEM_ADMIN}
    # A unit role is a business role too.
    response = client.post(
        reverse("admin:accounts_membership_add"),
        {"user": w.auditor.pk, "unit": w.kjj_unit.pk, "role": "handler", "title": ""},
    )
    assert response.status_code == 200
    assert not Membership.objects.filter(user=w.auditor).exists()
    # …and an ordinary unit person may be given one.
    response = client.post(
        reverse("admin:accounts_membership_add"),
        {"user": w.lisi.pk, "unit": w.kjj_unit.pk, "role": "handler", "title": ""},
    )
    assert response.status_code == 302


def test_the_role_groups_are_read_only_and_reserved_permissions_not_grantable(client, admins):
    w = admins
    as_user(client, w.secadmin)
    audit = Group.objects.get(name=roles.AUDIT_ADMIN)
    page = client.get(reverse("admin:auth_group_change", args=[audit.pk]))
    assert page.status_code == 200
    assert "permissions" not in page.context["adminform"].form.fields
    response = client.post(reverse("admin:auth_group_delete", args=[audit.pk]), {"post": "yes"})
    assert response.status_code == 403
    page = client.get(reverse("admin:auth_group_add"))
    offered = page.context["adminform"].form.fields["permissions"].queryset
    reserved = Permission.objects.get(codename="view_securityevent")
    assert reserved not in offered
    assert offered.filter(codename="view_unit").exists()


def test_the_security_administrator_lifts_a_lockout(client, admins):
    attempt = AccessAttempt.objects.create(
        username="kjj", ip_address="10.0.0.9", user_agent="x", failures_since_start=5
    )
    as_user(client, admins.secadmin)
    response = client.post(
        reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"}
    )
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert SecurityEvent.objects.filter(
        kind=SecurityEvent.Kind.ADMIN_CHANGE, actor=admins.secadmin, details__action="deletion"
    ).exists()


def test_the_auditor_changes_nothing_in_the_admin(client, admins):
    w = admins
    event = SecurityEvent.objects.create(kind=SecurityEvent.Kind.LOGIN, actor_name="kjj")
    as_user(client, w.auditor)
    change = reverse("admin:accounts_securityevent_change", args=[event.pk])
    assert client.get(change).status_code == 200
    client.post(change, {"kind": "logout", "actor_name": "forged"})
    event.refresh_from_db()
    assert event.kind == "login" and event.actor_name == "kjj"
    delete = reverse("admin:accounts_securityevent_delete", args=[event.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert SecurityEvent.objects.filter(pk=event.pk).exists()


# --- the staff UI ---------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["sysadmin", "secadmin", "auditor"])
def test_no_administrator_does_a_business_step(client, admins, who):
    w = admins
    as_user(client, getattr(w, who))
    assert client.get(reverse("proposals:detail", args=[w.proposal.pk])).status_code == 404
    assert client.get(reverse("proposals:review_queue")).status_code == 403
    assert client.post(reverse("proposals:review", args=[w.proposal.pk]), {}).status_code == 403
    assert client.get(reverse("proposals:inbox")).status_code in (403, 404)
    assert client.get(reverse("proposals:export")).status_code == 403
    response = client.post(reverse("proposals:acknowledge", args=[w.co.pk]))
    assert response.status_code in (403, 404)
    w.co.refresh_from_db()
    assert w.co.acknowledged_at is None


@pytest.mark.parametrize(
    ("who", "status"),
    [("sysadmin", 403), ("secadmin", 403), ("auditor", 200), ("tiwei", 403), ("kjj", 403)],
)
def test_only_the_auditor_reads_the_security_record_in_the_staff_ui(client, admins, who, status):
    as_user(client, getattr(admins, who))
    assert client.get(reverse("audit:record")).status_code == status
    assert client.get(reverse("audit:export")).status_code == status


def test_the_superusers_login_and_admin_changes_are_recorded(client, world):
    client.post(reverse("login"), {"username": "admin", "password": "demo-pass-069"})
    login = SecurityEvent.objects.get(kind=SecurityEvent.Kind.LOGIN, actor=world.admin)
    assert login.details["superuser"] is True
    assert login.ip_address == "127.0.0.1"
    client.post(
        reverse("admin:accounts_unit_change", args=[world.other_unit.pk]),
        {
            "name": world.other_unit.name,
            "short_name": "教委",
            "kind": "government",
            "doc_number_template": "",
            "is_active": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    change = SecurityEvent.objects.get(kind=SecurityEvent.Kind.ADMIN_CHANGE)
    assert change.actor == world.admin and change.details["superuser"] is True
    assert change.object_type == "accounts.unit" and change.object_id == str(world.other_unit.pk)


def test_a_superuser_cannot_hold_an_administrator_role(db):
    assert roles.conflicts({roles.AUDIT_ADMIN}, is_superuser=True)
    assert not roles.conflicts({roles.AUDIT_ADMIN})
    assert User  # the model the roles are groups of
