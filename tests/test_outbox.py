"""Notifications that survive outages: the outbox and its worker (accounts/outbox.py).

Email and SMS are rows written in the step's transaction; `manage.py send_outbox` sends
them with retries and back-off, marks each sent as soon as it went, gives up after
OUTBOX["MAX_ATTEMPTS"] attempts and shows failures to committee staff. A real SMTP server
(aiosmtpd) is stopped in the middle of a send-off and started again: every message arrives
once. Two workers on PostgreSQL never send one message twice.
"""

import datetime
import socket
import threading
import time
from io import StringIO

import pytest
from aiosmtpd.controller import Controller
from django.contrib import admin
from django.core import mail
from django.core.management import call_command
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from accounts import outbox, sms
from accounts.models import OutboxMessage, User
from accounts.notifications import notify, notify_contact
from proposals import services
from proposals.models import Proposal
from tests.conftest import make_user

State = OutboxMessage.State


@pytest.fixture
def worker_only(settings):
    """As in production: nothing is sent inside the request, only by the worker."""
    settings.OUTBOX = {**settings.OUTBOX, "DELIVER_ON_COMMIT": False}
    sms.outbox.clear()
    return settings


def people(n, prefix="member"):
    return [
        make_user(f"{prefix}{i}", f"委员{i}", email=f"{prefix}{i}@example.gov.cn") for i in range(n)
    ]


def later(seconds):
    return timezone.now() + datetime.timedelta(seconds=seconds)


# --- written with the step ------------------------------------------------------------------------


def test_a_step_writes_its_messages_and_the_request_sends_nothing(world, worker_only, client):
    world.kjj.email, world.kjj.phone = "kjj@example.gov.cn", "13800000001"
    world.kjj.save()
    proposal = Proposal.objects.create(
        session=world.session,
        title="关于建设产业园的建议",
        reasons="理由",
        suggestions="建议",
        category=world.category,
        state=Proposal.State.ACCEPTED,
        review_outcome=Proposal.ReviewOutcome.ACCEPT,
        submitted_at=timezone.now(),
    )
    services.assign(proposal, world.tiwei, "single", lead=world.kjj_unit)

    assert mail.outbox == []
    (row,) = OutboxMessage.objects.filter(channel="email")
    assert (row.address, row.state, row.attempts) == ("kjj@example.gov.cn", State.PENDING, 0)
    assert row.next_attempt_at <= timezone.now()

    out = StringIO()
    call_command("send_outbox", "--once", stdout=out)
    assert "1 sent, 0 to retry, 0 failed" in out.getvalue()
    assert [m.to for m in mail.outbox] == [["kjj@example.gov.cn"]]
    row.refresh_from_db()
    assert row.state == State.SENT and row.sent_at is not None
    # Run again: nothing is sent twice.
    call_command("send_outbox", "--once", stdout=StringIO())
    assert len(mail.outbox) == 1


def test_a_step_that_rolls_back_leaves_no_message(world, worker_only):
    world.tiwei.email = "tiwei@example.gov.cn"
    world.tiwei.save()
    with pytest.raises(RuntimeError), transaction.atomic():
        notify([world.tiwei], "submitted", "一件提案已提交")
        notify_contact(phone="13900000001", message="提案已立案")
        assert OutboxMessage.objects.count() == 2
        raise RuntimeError("the step failed")
    assert OutboxMessage.objects.count() == 0
    call_command("send_outbox", "--once", stdout=StringIO())
    assert mail.outbox == [] and sms.outbox == []


def test_delivering_on_commit_sends_only_after_the_commit(
    world, django_capture_on_commit_callbacks
):
    world.tiwei.email = "tiwei@example.gov.cn"
    world.tiwei.save()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        notify([world.tiwei], "submitted", "一件提案已提交")
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["tiwei@example.gov.cn"]]
    assert OutboxMessage.objects.get().state == State.SENT


# --- retries, back-off, giving up -----------------------------------------------------------------


class DownGateway:
    """An SMS gateway that refuses everything."""

    def send(self, phone, text):
        raise ConnectionRefusedError("gateway down")


def test_failures_are_retried_with_growing_waits_and_then_given_up(world, worker_only):
    worker_only.SMS_BACKEND = "tests.test_outbox.DownGateway"
    worker_only.OUTBOX = {
        **worker_only.OUTBOX,
        "MAX_ATTEMPTS": 4,
        "RETRY_SECONDS": 60,
        "RETRY_MAX_SECONDS": 150,
    }
    notify_contact(phone="13900000001", message="请填写回执")
    row = OutboxMessage.objects.get()
    waits = []
    now = timezone.now()
    for _attempt in range(4):
        result = outbox.deliver(now=now)
        assert result.claimed == 1
        row.refresh_from_db()
        waits.append((row.next_attempt_at - now).total_seconds())
        # Not due again before its wait is over.
        assert outbox.deliver(now=now + datetime.timedelta(seconds=1)).claimed == 0
        now = row.next_attempt_at
    assert waits[:3] == [60, 120, 150]  # doubling, capped
    assert row.state == State.FAILED and row.attempts == 4
    assert "ConnectionRefusedError: gateway down" in row.last_error
    assert outbox.deliver(now=later(10**6)).claimed == 0  # given up: never tried again


def test_committee_staff_see_failures_and_send_them_again(world, worker_only, client):
    worker_only.SMS_BACKEND = "tests.test_outbox.DownGateway"
    worker_only.OUTBOX = {**worker_only.OUTBOX, "MAX_ATTEMPTS": 1}
    notify_contact(phone="13900000001", message="请填写回执")
    outbox.deliver()
    row = OutboxMessage.objects.get()
    assert row.state == State.FAILED

    client.force_login(world.tiwei)
    workspace = client.get(reverse("workspace"))
    assert workspace.context["panels"]["committee"]["outbox_failed"] == 1
    assert reverse("outbox") in workspace.content.decode()
    page = client.get(reverse("outbox"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "13900000001" in html and "gateway down" in html

    # Nothing chosen: a message, nothing changed.
    refused = client.post(reverse("outbox"), {})
    assert refused.status_code == 200 and refused.context["form"].errors
    row.refresh_from_db()
    assert row.state == State.FAILED

    worker_only.SMS_BACKEND = "accounts.sms.LocmemBackend"
    response = client.post(reverse("outbox"), {"chosen": [row.pk]})
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.PENDING, 0)
    outbox.deliver()
    assert sms.outbox == [("13900000001", "请填写回执")]
    assert client.get(reverse("workspace")).context["panels"]["committee"]["outbox_failed"] == 0


def test_only_committee_staff_open_the_outbox_page(world, client):
    for user in (world.kjj, world.zhanghua, world.kjj_leader):
        client.force_login(user)
        assert client.get(reverse("outbox")).status_code == 403
        assert client.post(reverse("outbox"), {"chosen": []}).status_code == 403
    client.logout()
    assert client.get(reverse("outbox")).status_code == 302  # to the login page


def test_the_admin_lists_messages_read_only_and_retries_failed_ones(world, worker_only, client):
    worker_only.SMS_BACKEND = "tests.test_outbox.DownGateway"
    worker_only.OUTBOX = {**worker_only.OUTBOX, "MAX_ATTEMPTS": 1}
    notify_contact(phone="13900000001", message="请填写回执")
    outbox.deliver()
    row = OutboxMessage.objects.get()
    client.force_login(world.admin)
    changelist = reverse("admin:accounts_outboxmessage_changelist")
    assert client.get(changelist).status_code == 200
    change = reverse("admin:accounts_outboxmessage_change", args=[row.pk])
    page = client.get(change)
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()
    forged = client.post(change, {"address": "13999999999", "state": "sent", "body": "x"})
    assert forged.status_code == 403
    assert client.get(reverse("admin:accounts_outboxmessage_add")).status_code == 403
    deleted = client.post(reverse("admin:accounts_outboxmessage_delete", args=[row.pk]), {})
    assert deleted.status_code == 403
    row.refresh_from_db()
    assert (row.address, row.state) == ("13900000001", State.FAILED)

    response = client.post(
        changelist, {"action": "retry", "_selected_action": [row.pk], "index": 0}
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.state, row.attempts) == (State.PENDING, 0)


def test_the_admin_retry_needs_the_change_permission(world, client):
    from django.contrib.auth.models import Permission

    world.kjj.is_staff = True
    world.kjj.save()
    world.kjj.user_permissions.add(Permission.objects.get(codename="view_outboxmessage"))
    request = RequestFactory().get("/admin/")
    request.user = User.objects.get(pk=world.kjj.pk)
    model_admin = admin.site._registry[OutboxMessage]
    assert "retry" not in model_admin.get_actions(request)


def test_sent_messages_are_deleted_after_the_days_kept(world, worker_only):
    notify_contact(phone="13900000001", message="一")
    outbox.deliver()
    notify_contact(phone="13900000002", message="二")
    assert outbox.purge_sent(now=later(29 * 86400)) == 0
    assert outbox.purge_sent(now=later(31 * 86400)) == 1
    assert list(OutboxMessage.objects.values_list("address", flat=True)) == ["13900000002"]


def test_the_continuous_worker_polls_and_keeps_going_after_a_database_error(
    world, worker_only, monkeypatch
):
    notify_contact(phone="13900000001", message="一")
    real = outbox.deliver
    calls = []

    def flaky(**kwargs):
        calls.append(1)
        if len(calls) == 1:
            from django.db import OperationalError

            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(outbox, "deliver", flaky)
    monkeypatch.setattr(connection, "close", lambda: None)  # the test's own transaction
    out = StringIO()
    call_command("send_outbox", "--interval", "0.01", "--max-polls", "3", stdout=out)
    assert len(calls) == 3
    assert sms.outbox == [("13900000001", "一")]
    assert "1 sent" in out.getvalue()


# --- a real SMTP server that goes away in the middle of a send-off ----------------------------------


class Inbox:
    """aiosmtpd handler: keeps what it received."""

    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.rcpt_tos, envelope.content.decode()))
        return "250 Message accepted for delivery"

    def subjects(self):
        return sorted(
            line.split(":", 1)[1].strip()
            for _to, content in self.received
            for line in content.splitlines()
            if line.startswith("Subject:")
        )


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_smtp(inbox, port):
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller


@pytest.fixture
def smtp(worker_only):
    port = free_port()
    worker_only.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    worker_only.EMAIL_HOST, worker_only.EMAIL_PORT = "127.0.0.1", port
    worker_only.EMAIL_TIMEOUT = 5
    inbox = Inbox()
    server = {"controller": start_smtp(inbox, port), "port": port, "inbox": inbox}
    yield server
    if server["controller"] is not None:
        server["controller"].stop()


def test_an_smtp_outage_in_the_middle_of_a_send_off_loses_and_doubles_nothing(
    world, smtp, monkeypatch
):
    members = people(5)
    for i, member in enumerate(members):
        notify([member], "assigned", f"第{i}号提案已交办", "/work/", subject=f"proposal-{i}")
    inbox = smtp["inbox"]
    # The server stops right after the second message of the send-off is accepted.
    real_send = outbox.Sender.send_email

    def send_then_fail_over(self, row):
        real_send(self, row)
        if len(inbox.received) == 2 and smtp["controller"] is not None:
            smtp["controller"].stop()
            smtp["controller"] = None

    monkeypatch.setattr(outbox.Sender, "send_email", send_then_fail_over)

    result = outbox.deliver_all_due()
    assert (result.sent, result.retrying, result.failed) == (2, 3, 0)
    assert inbox.subjects() == ["proposal-0", "proposal-1"]
    rows = OutboxMessage.objects.order_by("id")
    assert [r.state for r in rows] == [State.SENT] * 2 + [State.PENDING] * 3
    kept = rows.filter(state=State.PENDING)
    assert all(r.attempts == 1 and r.last_error for r in kept)

    # Still down when the retry is due: kept again, one more attempt counted.
    result = outbox.deliver_all_due(now=later(61))
    assert (result.sent, result.retrying) == (0, 3)
    assert all(r.attempts == 2 and "Connection" in r.last_error for r in kept.all())
    assert len(inbox.received) == 2

    # Back up: the three go, once each; the two already sent are not sent again.
    smtp["controller"] = start_smtp(inbox, smtp["port"])
    result = outbox.deliver_all_due(now=later(61 + 121))
    assert (result.sent, result.retrying, result.failed) == (3, 0, 0)
    assert inbox.subjects() == [f"proposal-{i}" for i in range(5)]
    assert sorted(to for tos, _c in inbox.received for to in tos) == sorted(
        m.email for m in members
    )
    assert outbox.deliver_all_due(now=later(10**6)).claimed == 0
    assert len(inbox.received) == 5
    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.SENT}


def test_a_hanging_mail_server_does_not_hold_up_the_step(world, worker_only, client):
    """With DELIVER_ON_COMMIT off, a step never talks to the mail server."""
    worker_only.EMAIL_BACKEND = "tests.test_outbox.HangingBackend"
    world.kjj.email = "kjj@example.gov.cn"
    world.kjj.save()
    started = time.monotonic()
    notify([world.kjj], "assigned", "交办")
    assert time.monotonic() - started < 1
    assert OutboxMessage.objects.get().state == State.PENDING


class HangingBackend:
    def __init__(self, *args, **kwargs):
        raise AssertionError("the request must not open a mail connection")


# --- two workers, one message each: PostgreSQL's row locks ----------------------------------------


class SlowRecordingGateway:
    sent = []
    lock = threading.Lock()

    def send(self, phone, text):
        time.sleep(0.002)  # long enough for the other worker to come looking
        with self.lock:
            self.sent.append((threading.get_ident(), phone))


@pytest.mark.django_db(transaction=True)
def test_two_workers_in_parallel_never_send_one_message_twice(settings, django_db_blocker):
    if connection.vendor != "postgresql":
        pytest.skip(
            "SQLite has no SELECT … FOR UPDATE SKIP LOCKED and one writer at a time; "
            "the claim is PostgreSQL's row locks (CI runs this on PostgreSQL)."
        )
    settings.SMS_BACKEND = "tests.test_outbox.SlowRecordingGateway"
    settings.OUTBOX = {**settings.OUTBOX, "DELIVER_ON_COMMIT": False, "BATCH_SIZE": 5}
    SlowRecordingGateway.sent = []
    count = 300
    OutboxMessage.objects.bulk_create(
        OutboxMessage(channel="sms", address=f"139{i:08d}", body="通知") for i in range(count)
    )
    results = []
    errors = []
    go = threading.Barrier(4)

    def work():
        try:
            go.wait()
            results.append(outbox.deliver_all_due())
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    phones = [phone for _worker, phone in SlowRecordingGateway.sent]
    assert len(phones) == count and len(set(phones)) == count
    assert sum(r.sent for r in results) == count
    # They did work side by side (else this proves nothing).
    assert len({worker for worker, _phone in SlowRecordingGateway.sent}) > 1
    assert OutboxMessage.objects.filter(state=State.SENT).count() == count
