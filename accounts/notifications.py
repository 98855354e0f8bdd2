"""Notifications: an in-app inbox row now, email and SMS after the transaction commits.

Workflow code calls `notify()` inside its transaction; if the transaction rolls
back, nothing is sent and no row remains.
"""

import logging
from importlib import import_module

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction

from .models import Notification

log = logging.getLogger(__name__)


def notify(recipients, verb, message, url="", subject=None):
    """Tell each user (in the app and by email); duplicates and inactive users are skipped."""
    if url and message.rstrip().endswith(("：", ":")):
        # "… please fill in the receipt:" reads on to its link, in the app as in the mail.
        message = f"{message.rstrip()} {absolute_url(url)}"
    seen = set()
    rows = []
    for user in recipients:
        if user is None or not user.is_active or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(recipient=user, verb=verb, message=message, url=url))
    Notification.objects.bulk_create(rows)
    emails = sorted({row.recipient.email for row in rows if row.recipient.email})
    if emails:
        absolute = absolute_url(url)
        body = message if not absolute or message.endswith(absolute) else f"{message}\n\n{absolute}"
        transaction.on_commit(lambda: _send_email(emails, header_safe(subject or message), body))
    return rows


def notify_many(messages):
    """`notify` for many messages at once, e.g. a batch of proposals accepted together:
    `messages` are (recipients, verb, message, url); one insert for all their rows."""
    rows = []
    mails = []
    for recipients, verb, message, url in messages:
        if url and message.rstrip().endswith(("：", ":")):
            message = f"{message.rstrip()} {absolute_url(url)}"
        seen = set()
        for user in recipients:
            if user is None or not user.is_active or user.pk in seen:
                continue
            seen.add(user.pk)
            rows.append(Notification(recipient=user, verb=verb, message=message, url=url))
            if user.email:
                absolute = absolute_url(url)
                body = (
                    message
                    if not absolute or message.endswith(absolute)
                    else f"{message}\n\n{absolute}"
                )
                mails.append(([user.email], header_safe(message), body))
    Notification.objects.bulk_create(rows)
    if mails:
        transaction.on_commit(lambda: [_send_email(*mail) for mail in mails])
    return rows


def notify_contact(email="", phone="", message="", url="", subject=None):
    """Reach someone who may have no login (a proposer): by email and by SMS."""
    absolute = absolute_url(url)
    text = f"{message} {absolute}".strip()
    if email:
        transaction.on_commit(lambda: _send_email([email], header_safe(subject or message), text))
    if phone:
        transaction.on_commit(lambda: send_sms(phone, text))


def notify_proposer(proposer, verb, message, url=""):
    """Reach a proposer where they are: in the app and by their account's email when they
    log in, else by the email on their profile; and by SMS whenever there is a phone."""
    user = proposer.user if proposer.user_id else None
    if user is not None and user.is_active:
        notify([user], verb, message, url)
        notify_contact(phone=proposer.phone, message=message, url=url)
    else:
        notify_contact(email=proposer.email, phone=proposer.phone, message=message, url=url)


def header_safe(text, limit=60):
    """One line for a mail header: a line break there would have the message refused."""
    return " ".join(str(text).split())[:limit]


def absolute_url(url):
    if not url or url.startswith("http"):
        return url
    return settings.SITE_URL.rstrip("/") + url


def _send_email(addresses, subject, body):
    """One message per address: recipients never see each other's addresses."""
    messages = [EmailMessage(subject, body, None, [address]) for address in addresses]
    try:
        get_connection().send_messages(messages)
    except Exception:  # noqa: BLE001 — a mail outage must not undo committed work
        log.exception("Sending email to %s failed", addresses)


def send_sms(phone, text):
    """Send one SMS through the configured backend (settings.SMS_BACKEND)."""
    path = getattr(settings, "SMS_BACKEND", "accounts.sms.ConsoleBackend")
    module_name, class_name = path.rsplit(".", 1)
    backend = getattr(import_module(module_name), class_name)()
    try:
        backend.send(phone, text)
    except Exception:  # noqa: BLE001
        log.exception("Sending SMS to %s failed", phone)
