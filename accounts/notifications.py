"""Notifications: an in-app inbox row, and email and SMS through the outbox.

Workflow code calls `notify()` inside its transaction: the inbox rows and the outbox rows
(accounts/outbox.py) commit with the step or not at all, and `manage.py send_outbox` sends
the email and SMS afterwards, retrying while the mail server or the gateway is down.
"""

from django.conf import settings

from core import pagecache

from .models import Notification
from .outbox import enqueue_email, enqueue_emails, enqueue_sms


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
    pagecache.person_changed(row.recipient_id for row in rows)
    emails = sorted({row.recipient.email for row in rows if row.recipient.email})
    if emails:
        absolute = absolute_url(url)
        body = message if not absolute or message.endswith(absolute) else f"{message}\n\n{absolute}"
        enqueue_email(emails, header_safe(subject or message), body)
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
                mails.append((user.email, header_safe(message), body))
    Notification.objects.bulk_create(rows)
    pagecache.person_changed(row.recipient_id for row in rows)
    enqueue_emails(mails)
    return rows


def notify_contact(email="", phone="", message="", url="", subject=None):
    """Reach someone who may have no login (a proposer): by email and by SMS."""
    absolute = absolute_url(url)
    text = f"{message} {absolute}".strip()
    if email:
        enqueue_email([email], header_safe(subject or message), text)
    if phone:
        enqueue_sms(phone, text)


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
