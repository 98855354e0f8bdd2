"""The outbox: email and SMS written with the step that caused them, sent by a worker.

`enqueue_email` / `enqueue_sms` add rows inside the caller's transaction: if the step rolls
back, no message remains; if it commits, the message is kept until it is sent, whatever
the mail server or SMS gateway does meanwhile. `deliver()` (run by `manage.py send_outbox`,
and right after commit when settings.OUTBOX["DELIVER_ON_COMMIT"]) sends what is due:

- it claims up to BATCH_SIZE due rows with SELECT … FOR UPDATE SKIP LOCKED and, in the same
  short transaction, marks them `sending` with a lease (next_attempt_at = now + LEASE_SECONDS)
  and counts the attempt: another worker skips the locked rows, then finds them not due;
- it sends each outside any transaction and marks it `sent` as soon as its send returned;
- a failed send is retried after RETRY_SECONDS × 2^(attempts-1) (at most RETRY_MAX_SECONDS),
  and after MAX_ATTEMPTS attempts the row is `failed`: committee staff see it on their
  workspace and at /accounts/outbox/, the admin lists it, and both can send it again.

A worker killed between a send and its `sent` mark leaves the row `sending`; after the lease
another worker sends it again. That is the one case of a second copy, and it needs a crash
in the instant between the server's "accepted" and the database's commit.
"""

import contextlib
import datetime
import logging
from dataclasses import dataclass
from importlib import import_module

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from core import pagecache

from .access import is_committee
from .models import OutboxMessage

log = logging.getLogger("tian.outbox")

State = OutboxMessage.State
Channel = OutboxMessage.Channel


def config(name):
    return settings.OUTBOX[name]


# --- writing -------------------------------------------------------------------------------------


def enqueue_email(addresses, subject, body):
    """One row per address: recipients never see each other's addresses."""
    rows = [
        OutboxMessage(channel=Channel.EMAIL, address=address, subject=subject, body=body)
        for address in addresses
        if address
    ]
    return _enqueue(rows)


def enqueue_emails(mails):
    """Many emails in one insert: `mails` are (address, subject, body)."""
    return _enqueue(
        [
            OutboxMessage(channel=Channel.EMAIL, address=address, subject=subject, body=body)
            for address, subject, body in mails
            if address
        ]
    )


def enqueue_sms(phone, text):
    if not phone:
        return []
    return _enqueue([OutboxMessage(channel=Channel.SMS, address=phone, body=text)])


def _enqueue(rows):
    if not rows:
        return rows
    now = timezone.now()
    for row in rows:
        row.next_attempt_at = now
    with transaction.atomic():
        created = OutboxMessage.objects.bulk_create(rows)
        if config("DELIVER_ON_COMMIT"):
            # bulk_create sets the ids on PostgreSQL and SQLite (RETURNING).
            ids = [row.pk for row in created]
            transaction.on_commit(lambda: deliver_after_commit(ids))
    return created


def deliver_after_commit(ids):
    """Try the step's own messages at once; whatever fails stays for the worker."""
    try:
        deliver(ids=ids)
    except Exception:  # noqa: BLE001 — the step is committed; the worker will retry
        log.exception("Delivering outbox messages %s after commit failed", ids)


# --- sending -------------------------------------------------------------------------------------


@dataclass
class Result:
    sent: int = 0
    retrying: int = 0
    failed: int = 0

    @property
    def claimed(self):
        return self.sent + self.retrying + self.failed

    def add(self, other):
        self.sent += other.sent
        self.retrying += other.retrying
        self.failed += other.failed


def due(now=None):
    now = now or timezone.now()
    return OutboxMessage.objects.filter(
        state__in=[State.PENDING, State.SENDING], next_attempt_at__lte=now
    )


def claim(now=None, limit=None, ids=None, due_before=None):
    """Take up to `limit` messages due at `due_before` (default: now) for this worker, leased
    from `now` (see the module's docstring)."""
    now = now or timezone.now()
    limit = limit or config("BATCH_SIZE")
    with transaction.atomic():
        queryset = (
            due(due_before or now)
            .select_for_update(skip_locked=True)
            .order_by("next_attempt_at", "id")
        )
        if ids is not None:
            queryset = queryset.filter(pk__in=ids)
        rows = list(queryset[:limit])
        if rows:
            lease = now + datetime.timedelta(seconds=config("LEASE_SECONDS"))
            OutboxMessage.objects.filter(pk__in=[row.pk for row in rows]).update(
                state=State.SENDING, attempts=F("attempts") + 1, next_attempt_at=lease
            )
            for row in rows:
                row.state, row.attempts, row.next_attempt_at = (
                    State.SENDING,
                    row.attempts + 1,
                    lease,
                )
    return rows


def deliver(now=None, limit=None, ids=None):
    """Claim one batch of due messages and send it. Returns a Result."""
    return send_rows(claim(now=now, limit=limit, ids=ids), now)


def deliver_all_due(now=None, limit=None):
    """Send every message due when the run starts, batch after batch (`send_outbox --once`).
    Each is tried at most once in the run: a failure is due again only after the start."""
    started = now or timezone.now()
    total = Result()
    while True:
        rows = claim(now=now, limit=limit, due_before=started)
        if not rows:
            return total
        total.add(send_rows(rows, now))


def send_rows(rows, now=None):
    """Send claimed rows; mark each sent right after its send returned."""
    result = Result()
    if not rows:
        return result
    sender = Sender()
    try:
        for row in rows:
            try:
                sender.send(row)
            except Exception as exc:  # noqa: BLE001 — any failure is kept and retried
                if _record_failure(row, exc, now):
                    result.failed += 1
                else:
                    result.retrying += 1
            else:
                OutboxMessage.objects.filter(pk=row.pk).update(
                    state=State.SENT, sent_at=timezone.now(), last_error=""
                )
                result.sent += 1
    finally:
        sender.close()
    return result


def backoff(attempts):
    """Seconds to wait after the `attempts`-th failed attempt."""
    seconds = config("RETRY_SECONDS") * 2 ** max(attempts - 1, 0)
    # At least a second: a failure is never due again within the run that failed it.
    return max(min(seconds, config("RETRY_MAX_SECONDS")), 1)


def _record_failure(row, exc, now=None):
    """Schedule the next attempt, or give up. Returns True when the message failed for good."""
    now = now or timezone.now()
    error = f"{type(exc).__name__}: {exc}"[:2000]
    gave_up = row.attempts >= config("MAX_ATTEMPTS")
    OutboxMessage.objects.filter(pk=row.pk).update(
        state=State.FAILED if gave_up else State.PENDING,
        next_attempt_at=now if gave_up else now + datetime.timedelta(seconds=backoff(row.attempts)),
        last_error=error,
    )
    if gave_up:
        pagecache.bump()  # the committee's workspace counts the messages not sent
    # The address stays out of the log (it is a person's phone or email): the id finds it.
    log.warning(
        "Outbox message %s (%s) attempt %d failed%s: %s",
        row.pk,
        row.channel,
        row.attempts,
        ", giving up" if gave_up else "",
        error,
    )
    return gave_up


class Sender:
    """Sends rows one by one over one mail connection (reopened after a failure)."""

    def __init__(self):
        self.mail = None
        self.sms = None

    def send(self, row):
        if row.channel == Channel.EMAIL:
            self.send_email(row)
        elif row.channel == Channel.SMS:
            self.send_sms(row)
        else:
            raise ValueError(f"Unknown channel {row.channel!r}")

    def send_email(self, row):
        if self.mail is None:
            self.mail = get_connection(fail_silently=False)
        message = EmailMessage(row.subject, row.body, None, [row.address])
        try:
            accepted = self.mail.send_messages([message])
        except Exception:
            self.close_mail()
            raise
        if not accepted:
            raise RuntimeError("The mail backend did not accept the message.")

    def send_sms(self, row):
        if self.sms is None:
            self.sms = sms_backend()
        self.sms.send(row.address, row.body)

    def close_mail(self):
        if self.mail is not None:
            # The connection is gone either way.
            with contextlib.suppress(Exception):
                self.mail.close()
            self.mail = None

    def close(self):
        self.close_mail()


def sms_backend():
    path = getattr(settings, "SMS_BACKEND", "accounts.sms.ConsoleBackend")
    module_name, class_name = path.rsplit(".", 1)
    return getattr(import_module(module_name), class_name)()


# --- looking after it ----------------------------------------------------------------------------


def may_look_after(user):
    """Who sees the failed messages and sends them again: committee staff (and superusers)."""
    return is_committee(user)


def retry(queryset, by=None):
    """Send the chosen failed (or waiting) messages again at once, with a fresh count.
    A message being sent, or sent, is left alone. Returns how many will go again."""
    chosen = queryset.filter(Q(state=State.FAILED) | Q(state=State.PENDING))
    with transaction.atomic():
        ids = list(chosen.select_for_update().values_list("pk", flat=True))
        count = OutboxMessage.objects.filter(pk__in=ids).update(
            state=State.PENDING, attempts=0, next_attempt_at=timezone.now()
        )
        pagecache.changed()
    log.info("%s asked to send outbox messages %s again", by or "Someone", ids)
    return count


def trouble():
    """The messages staff should know about: failed, or waiting for another attempt."""
    return OutboxMessage.objects.filter(
        Q(state=State.FAILED) | Q(state=State.PENDING, attempts__gt=0)
    )


def purge_sent(now=None):
    """Delete sent messages older than KEEP_SENT_DAYS. Returns how many."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=config("KEEP_SENT_DAYS"))
    deleted, _by_model = OutboxMessage.objects.filter(state=State.SENT, sent_at__lt=cutoff).delete()
    return deleted
