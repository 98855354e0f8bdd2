"""Passwords: the one place where a password is set or a reset is issued, the policy's own
validator, and when a password must be changed (set by an administrator, or expired).

Every path that sets a password (the user's own change, a reset link, the admin) calls
`set_password`, which sends `signals.password_changed` after commit; issuing a one-time
link sends `signals.password_reset_issued`.
"""

import datetime
import re

from django.conf import settings
from django.contrib.auth import password_validation
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from . import signals
from .models import User
from .notifications import absolute_url
from .outbox import enqueue_email, enqueue_sms

HOWS = {"self", "reset", "admin", "first_login"}


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django's, with its message in this project's catalog: Django 5.2's own zh_Hans
    catalog lacks it, and a clerk would read it in English."""

    def get_error_message(self):
        return (
            ngettext(
                "This password is too short. It must contain at least %d character.",
                "This password is too short. It must contain at least %d characters.",
                self.min_length,
            )
            % self.min_length
        )


class LettersAndDigitsValidator:
    """At least one letter and one digit (Django's validators check length and commonness)."""

    def validate(self, password, user=None):
        if not (re.search(r"[^\W\d_]", password) and re.search(r"\d", password)):
            raise ValidationError(
                _("The password must contain both letters and digits."),
                code="password_letters_and_digits",
            )

    def get_help_text(self):
        return _("Your password must contain both letters and digits.")


def set_password(user, raw_password, *, by, how, request=None):
    """Set the user's password; `how` is one of HOWS (see accounts/signals.py).

    An administrator setting someone else's password marks it to be changed at the next
    login; the user setting their own clears the mark and restarts the expiry clock.
    """
    if how not in HOWS:
        raise ValueError(how)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        if raw_password is None:
            locked.set_unusable_password()
        else:
            locked.set_password(raw_password)
        locked.must_change_password = how == "admin" and by is not None and by.pk != user.pk
        locked.password_changed_at = timezone.now()
        locked.save(update_fields=["password", "must_change_password", "password_changed_at"])
        transaction.on_commit(
            lambda: signals.password_changed.send(
                sender=User, user=locked, by=by, how=how, request=request
            )
        )
    user.password = locked.password
    user.must_change_password = locked.must_change_password
    user.password_changed_at = locked.password_changed_at
    return locked


def mark_set_by_admin(user, *, by, request=None):
    """The admin's own forms saved a password (Django's user creation or password form)."""
    must = by is not None and by.pk != user.pk
    User.objects.filter(pk=user.pk).update(
        must_change_password=must, password_changed_at=timezone.now()
    )
    user.must_change_password = must
    transaction.on_commit(
        lambda: signals.password_changed.send(
            sender=User, user=user, by=by, how="admin", request=request
        )
    )


def reset_link(user):
    """A one-time link to choose a new password. It stops working once used (the token
    covers the password hash and the last login) or after PASSWORD_RESET_TIMEOUT."""
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = default_token_generator.make_token(user)
    return absolute_url(reverse("password_reset_confirm", args=[uid, token]))


def issue_reset(user, *, by, how, request=None):
    """Issue a one-time link for `user` (how: "admin", "email", "sms"); returns the link."""
    link = reset_link(user)
    signals.password_reset_issued.send(sender=User, user=user, by=by, how=how, request=request)
    return link


def reset_valid_until():
    return timezone.now() + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)


def is_staff_account(user):
    """Staff in the sense of the expiry rule: administrators, committee staff, unit people."""
    return bool(
        user.is_staff or user.is_superuser or user.is_committee_staff or user.memberships.exists()
    )


def password_expired(user, now=None):
    """A staff account's password older than TIAN_PASSWORD_MAX_AGE_DAYS (off when 0)."""
    days = settings.TIAN_SECURITY["PASSWORD_MAX_AGE_DAYS"]
    if not days:
        return False
    changed = user.password_changed_at or user.date_joined
    now = now or timezone.now()
    if changed + datetime.timedelta(days=days) > now:
        return False
    return is_staff_account(user)


def must_change(user):
    return user.must_change_password or password_expired(user)


def send_reset_by_email(user, *, request=None):
    link = issue_reset(user, by=None, how="email", request=request)
    body = _(
        "A new password was asked for your account %(username)s. Choose it here (the link "
        "works once, until %(until)s):\n\n%(link)s\n\nIf you did not ask for it, ignore "
        "this message: your password stays as it is."
    ) % {"username": user.get_username(), "until": _until_text(), "link": link}
    enqueue_email([user.email], _("Choosing a new password"), body)


def send_reset_by_sms(user, *, request=None):
    link = issue_reset(user, by=None, how="sms", request=request)
    enqueue_sms(
        user.phone,
        _("Choose a new password for %(username)s (once, until %(until)s): %(link)s")
        % {"username": user.get_username(), "until": _until_text(), "link": link},
    )


def _until_text():
    return timezone.localtime(reset_valid_until()).strftime("%Y-%m-%d %H:%M")
