"""The security record: what is written to it, the audit page that reads it, and that nothing
in it is changed or deleted before its retention period."""

import datetime
import os

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.checks import run_checks
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.db.utils import DatabaseError
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import Membership, RecordProtected, SecurityEvent, User, retention_days
from accounts.signals import password_changed, password_reset_issued

from .conftest import PASSWORD, make_user
from .xlsx import rows_of

Kind = SecurityEvent.Kind


def events(kind, **filters):
    return SecurityEvent.objects.filter(kind=kind, **filters)


@pytest.fixture
def auditor(world):
    user = make_user("auditor", "审计员", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.AUDIT_ADMIN))
    return user


def old_event(days, **fields):
    """A row as if written `days` ago."""
    fields.setdefault("kind", Kind.LOGIN)
    return SecurityEvent.objects.create(
        created_at=timezone.now() - datetime.timedelta(days=days), **fields
    )


# --- what is recorded ----------------------------------------------------------------------------


def test_logins_failures_and_logouts_are_recorded_with_the_address(world, client):
    client.post(reverse("login"), {"username": "kjj", "password": "wrong"}, REMOTE_ADDR="10.1.2.3")
    failed = events(Kind.LOGIN_FAILED).get()
    assert failed.actor is None and failed.actor_name == "kjj"
    assert failed.ip_address == "10.1.2.3"
    assert "wrong" not in str(failed.details)
    client.post(reverse("login"), {"username": "kjj", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3")
    login = events(Kind.LOGIN).get()
    assert login.actor == world.kjj and login.ip_address == "10.1.2.3"
    assert "superuser" not in login.details
    client.post(reverse("logout"))
    assert events(Kind.LOGOUT, actor=world.kjj).exists()


def test_a_lockout_is_recorded(world, client, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "kjj", "password": "wrong"})
    locked = events(Kind.LOCKED_OUT).get()
    assert locked.actor_name == "kjj"


def test_password_changes_and_resets_issued_are_recorded(world):
    password_changed.send(sender=User, user=world.kjj, by=world.kjj, how="self", request=None)
    password_reset_issued.send(
        sender=User, user=world.kjj, by=world.admin, how="admin", request=None
    )
    changed = events(Kind.PASSWORD_CHANGED).get()
    assert changed.actor == world.kjj and changed.object_id == str(world.kjj.pk)
    assert changed.details["how"] == "self"
    issued = events(Kind.PASSWORD_RESET_ISSUED).get()
    assert issued.actor == world.admin and issued.object_repr == str(world.kjj)
    assert issued.details == {"how": "admin", "superuser": True}


def test_group_permission_flag_and_membership_changes_are_recorded(world):
    before = events(Kind.ROLES_CHANGED).count()
    auditors = Group.objects.get(name=roles.AUDIT_ADMIN)
    world.lisi.groups.add(auditors)
    added = events(Kind.ROLES_CHANGED).latest("id")
    assert added.object_id == str(world.lisi.pk)
    assert added.details["added"] == [roles.AUDIT_ADMIN]
    world.lisi.groups.remove(auditors)
    assert events(Kind.ROLES_CHANGED).latest("id").details["removed"] == [roles.AUDIT_ADMIN]
    world.lisi.user_permissions.add(Permission.objects.get(codename="view_unit"))
    assert events(Kind.ROLES_CHANGED).latest("id").details["field"] == "user_permissions"
    auditors.user_set.add(world.zhanghua)  # from the group's side
    assert events(Kind.ROLES_CHANGED).latest("id").object_repr == roles.AUDIT_ADMIN
    auditors.user_set.clear()
    world.lisi.user_permissions.clear()
    assert events(Kind.ROLES_CHANGED).latest("id").details["removed"] == [
        str(Permission.objects.get(codename="view_unit"))
    ]

    world.lisi.is_staff = True
    world.lisi.save()
    assert events(Kind.ROLES_CHANGED).latest("id").details["flags"] == {"is_staff": [False, True]}
    world.lisi.full_name = "李四四"
    world.lisi.save()  # not a role change
    count = events(Kind.ROLES_CHANGED).count()
    membership = Membership.objects.create(user=world.lisi, unit=world.kjj_unit)
    membership.delete()
    changes = list(events(Kind.ROLES_CHANGED).order_by("id")[count:])
    assert [e.details["change"] for e in changes] == ["added", "removed"]
    assert events(Kind.ROLES_CHANGED).count() == before + 9


def test_admin_views_of_personal_data_are_recorded(world, admin_client):
    admin_client.get(reverse("admin:accounts_user_change", args=[world.zhanghua.pk]))
    admin_client.get(reverse("admin:accounts_proposer_change", args=[world.zhanghua_proposer.pk]))
    viewed = list(events(Kind.PERSONAL_DATA_VIEWED).order_by("id"))
    assert [(e.object_type, e.object_id) for e in viewed] == [
        ("accounts.user", str(world.zhanghua.pk)),
        ("accounts.proposer", str(world.zhanghua_proposer.pk)),
    ]
    assert all(e.actor == world.admin for e in viewed)


def test_every_spreadsheet_download_is_recorded_with_its_filters(world, client):
    client.force_login(world.tiwei)
    response = client.get(reverse("proposals:export"), {"q": "高新区", "state": ""})
    b"".join(response.streaming_content)
    export = events(Kind.EXPORTED).get()
    assert export.actor == world.tiwei
    assert export.details["view"] == "proposals:export"
    assert export.details["filters"] == {"q": "高新区"}
    assert export.object_repr.endswith(".xlsx")
    response = client.get(reverse("statistics:xlsx"))
    assert response.status_code == 200
    assert events(Kind.EXPORTED, details__view="statistics:xlsx").exists()


# --- the audit page ------------------------------------------------------------------------------


def test_the_audit_page_filters_by_person_time_kind_and_object(world, client, auditor):
    old_event(10, actor=world.kjj, actor_name="kjj", object_repr="区科技局")
    old_event(2, kind=Kind.LOGIN_FAILED, actor_name="nobody", object_repr="nobody")
    old_event(1, kind=Kind.EXPORTED, actor=world.tiwei, actor_name="tiwei", object_repr="提案列表")
    client.force_login(auditor)

    def shown(**filters):
        response = client.get(reverse("audit:record"), filters)
        assert response.status_code == 200
        return [e.actor_name for e in response.context["page"]]

    assert shown(person="科技局经办人") == ["kjj"]  # by full name
    assert shown(person="nobody") == ["nobody"]
    assert shown(kind="exported") == ["tiwei"]
    assert shown(object="区科技") == ["kjj"]
    since = (timezone.localdate() - datetime.timedelta(days=3)).isoformat()
    assert shown(since=since, kind="login_failed") == ["nobody"]
    until = (timezone.localdate() - datetime.timedelta(days=5)).isoformat()
    assert shown(until=until) == ["kjj"]


@pytest.mark.parametrize(
    "filters",
    [
        {"since": "9999-12-31"},
        {"until": "0001-01-01"},
        {"since": "2022-02-30"},
        {"kind": "nonsense"},
        {"person": "a\nb"},
        {"since": "2024-05-01", "until": "2024-04-01"},
        {"page": "99999"},
        {"object": "x" * 300},
    ],
)
def test_bad_filters_get_a_message_not_a_500(world, client, auditor, filters):
    client.force_login(auditor)
    assert client.get(reverse("audit:record"), filters).status_code == 200
    assert client.get(reverse("audit:export"), filters).status_code == 200


def test_the_audit_page_costs_the_same_queries_for_few_rows_and_many(
    world, client, auditor, django_assert_max_num_queries
):
    client.force_login(auditor)
    client.get(reverse("audit:record"))  # warm: sessions, permissions, translations
    for i in range(3):
        old_event(1, actor=world.kjj, actor_name="kjj", object_repr=f"row {i}")
    with django_assert_max_num_queries(8) as few:
        client.get(reverse("audit:record"))
    SecurityEvent.objects.bulk_create(
        SecurityEvent(kind=Kind.LOGIN, actor=world.kjj, actor_name="kjj") for _ in range(120)
    )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("audit:record"))
    assert len(response.context["page"]) == 50
    assert response.context["page"].paginator.count >= 123


def test_the_audit_record_exports_to_xlsx_and_the_export_is_recorded(world, client, auditor):
    old_event(1, kind=Kind.LOGIN_FAILED, actor_name="kjj", ip_address="10.0.0.1")
    old_event(1, kind=Kind.LOGIN, actor=world.tiwei, actor_name="tiwei")
    client.force_login(auditor)
    response = client.get(reverse("audit:export"), {"kind": "login_failed"})
    assert response.status_code == 200
    rows = rows_of(b"".join(response.streaming_content))
    assert rows[0][:3] == ("Time", "Kind", "Person") or len(rows[0]) == 8
    assert len(rows) == 2
    assert rows[1][2] == "kjj" and rows[1][6] == "10.0.0.1"
    export = events(Kind.EXPORTED, actor=auditor).get()
    assert export.details["filters"] == {"kind": "login_failed"}


# --- nothing changed, nothing deleted before its time ------------------------------------------------


def test_a_row_cannot_be_changed_through_the_orm(world):
    event = SecurityEvent.objects.create(kind=Kind.LOGIN, actor_name="kjj")
    event.actor_name = "forged"
    with pytest.raises(RecordProtected):
        event.save()
    with pytest.raises(RecordProtected):
        SecurityEvent.objects.filter(pk=event.pk).update(actor_name="forged")
    with pytest.raises(RecordProtected), transaction.atomic():
        SecurityEvent.objects.bulk_update([event], ["actor_name"])
    assert SecurityEvent.objects.get(pk=event.pk).actor_name == "kjj"


def test_a_row_younger_than_retention_cannot_be_deleted_through_the_orm(world):
    young = old_event(retention_days() - 1)
    with pytest.raises(RecordProtected):
        young.delete()
    with pytest.raises(RecordProtected):
        SecurityEvent.objects.all().delete()
    assert SecurityEvent.objects.filter(pk=young.pk).exists()
    # A row past retention may go.
    old = old_event(retention_days() + 1)
    old.delete()
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()


def test_an_actor_in_the_record_cannot_be_deleted(world):
    from django.db.models import ProtectedError

    SecurityEvent.objects.create(kind=Kind.LOGIN, actor=world.lisi, actor_name="lisi")
    with pytest.raises(ProtectedError):
        world.lisi.delete()


def test_the_admin_offers_no_change_and_no_delete_even_to_a_superuser(world, admin_client):
    event = SecurityEvent.objects.create(kind=Kind.LOGIN, actor_name="kjj")
    old = old_event(retention_days() + 10)
    delete = reverse("admin:accounts_securityevent_delete", args=[old.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    response = admin_client.post(
        reverse("admin:accounts_securityevent_changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk, old.pk], "post": "yes"},
    )
    assert response.status_code in (200, 302)
    assert SecurityEvent.objects.filter(pk__in=[event.pk, old.pk]).count() == 2
    assert admin_client.get(reverse("admin:accounts_securityevent_add")).status_code == 403


def test_purge_deletes_only_rows_past_retention(world):
    young = old_event(retention_days() - 1)
    old = old_event(retention_days() + 1)
    call_command("purge_audit")
    assert SecurityEvent.objects.filter(pk=young.pk).exists()
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()
    purge = events(Kind.RECORD_PURGED).get()
    assert purge.details["rows"] == 1 and purge.details["override"] is False


def test_purge_deletes_younger_rows_only_with_a_recorded_override(world):
    young = old_event(30)
    with pytest.raises(CommandError):
        call_command("purge_audit", "--override")
    with pytest.raises(CommandError):
        call_command("purge_audit", "--override", "--reason", "迁移", "--before", "9999-01-01")
    with pytest.raises(CommandError):
        call_command("purge_audit", "--reason", "迁移")
    call_command("purge_audit")
    assert SecurityEvent.objects.filter(pk=young.pk).exists()
    before = (timezone.localdate() - datetime.timedelta(days=7)).isoformat()
    call_command("purge_audit", "--override", "--reason", "测试数据误入生产", "--before", before)
    assert not SecurityEvent.objects.filter(pk=young.pk).exists()
    purge = events(Kind.RECORD_PURGED, details__override=True).get()
    assert purge.details["reason"] == "测试数据误入生产"
    assert purge.details["rows"] == 1


def test_retention_is_at_least_six_months(settings):
    settings.AUDIT_RETENTION_DAYS = 30
    assert retention_days() == 183
    assert any(m.id == "accounts.E010" for m in run_checks())
    settings.AUDIT_RETENTION_DAYS = 3 * 365
    assert retention_days() == 1095
    assert not any(m.id == "accounts.E010" for m in run_checks())


@pytest.mark.skipif(
    not os.environ.get("DATABASE_URL", "").startswith("postgres"),
    reason="the trigger is PostgreSQL's",
)
def test_postgresql_itself_refuses_to_change_or_delete_young_rows(world):
    event = SecurityEvent.objects.create(kind=Kind.LOGIN, actor_name="kjj")
    old = old_event(400)
    table = SecurityEvent._meta.db_table
    for sql in (
        f"UPDATE {table} SET actor_name = 'forged' WHERE id = %s",
        f"DELETE FROM {table} WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET actor_name = 'forged' WHERE id = %s", [old.pk])
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [old.pk])
    assert SecurityEvent.objects.filter(pk=event.pk, actor_name="kjj").exists()
    assert not SecurityEvent.objects.filter(pk=old.pk).exists()


# --- the proposals' workflow events, on the same terms ---------------------------------------------


def workflow_event(world, verb, days=0, **fields):
    from proposals.models import Event

    return Event.objects.create(
        proposal=world.proposal,
        verb=verb,
        created_at=timezone.now() - datetime.timedelta(days=days),
        **fields,
    )


def test_the_auditor_reads_and_exports_the_workflow_events(world, client, auditor):
    workflow_event(world, "assigned", days=3, actor=world.tiwei, to_state="handling")
    workflow_event(world, "acknowledged", days=1, actor=world.kjj)
    client.force_login(auditor)
    response = client.get(reverse("proposals:events"), {"person": "kjj"})
    assert response.status_code == 200
    assert [e.verb for e in response.context["page"]] == ["acknowledged"]
    response = client.get(reverse("proposals:events"), {"kind": "assigned", "object": "69"})
    assert [e.verb for e in response.context["page"]] == ["assigned"]
    response = client.get(reverse("proposals:events_export"), {"person": "tiwei"})
    rows = rows_of(b"".join(response.streaming_content))
    assert len(rows) == 2 and rows[1][2] == "tiwei" and rows[1][3] == 69
    assert events(Kind.EXPORTED, details__view="proposals:events_export").exists()


@pytest.mark.parametrize("who", ["tiwei", "kjj", "admin_role_system"])
def test_nobody_else_reads_the_workflow_events_page(world, client, who):
    if who == "admin_role_system":
        user = make_user("sysadmin", "系统管理员", is_staff=True)
        user.groups.add(Group.objects.get(name=roles.SYSTEM_ADMIN))
    else:
        user = getattr(world, who)
    client.force_login(user)
    assert client.get(reverse("proposals:events")).status_code == 403
    assert client.get(reverse("proposals:events_export")).status_code == 403


def test_the_events_page_costs_the_same_queries_for_few_rows_and_many(
    world, client, auditor, django_assert_max_num_queries
):
    client.force_login(auditor)
    client.get(reverse("proposals:events"))
    workflow_event(world, "assign", actor=world.tiwei)
    with django_assert_max_num_queries(10) as few:
        client.get(reverse("proposals:events"))
    for _ in range(60):
        workflow_event(world, "acknowledge", actor=world.kjj)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(reverse("proposals:events"), {"since": "2020-01-01"})
    assert len(response.context["page"]) == 50
