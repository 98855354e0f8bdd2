"""The one-time link that lets a person whose account the roster import created set a
password and so activate the account.

Built on Django's password-reset token generator, with a salt of its own (a reset link is
not an activation link, nor the reverse) and a hash of the password and the active flag:
once the password is set and the account active, the link no longer works.
"""

from datetime import datetime

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.urls import reverse
from django.utils.crypto import constant_time_compare
from django.utils.encoding import force_bytes
from django.utils.http import base36_to_int, urlsafe_base64_encode


class ActivationTokenGenerator(PasswordResetTokenGenerator):
    key_salt = "accounts.tokens.ActivationTokenGenerator"

    def _make_hash_value(self, user, timestamp):
        return f"{user.pk}{user.password}{user.is_active}{timestamp}"

    def check_token(self, user, token):
        """Django's check, with the activation's own lifetime (ACCOUNT_ACTIVATION_DAYS)."""
        if not (user and token):
            return False
        try:
            ts_b36, _hash = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        days = getattr(settings, "ACCOUNT_ACTIVATION_DAYS", 30)
        return (self._num_seconds(self._now()) - ts) <= days * 24 * 3600

    def _now(self):
        return datetime.now()


activation_token = ActivationTokenGenerator()


def activation_path(user):
    """The link's path, e.g. /accounts/activate/MTI/cb3x-…/ (reversed by the caller's urls)."""
    return reverse(
        "activate",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": activation_token.make_token(user),
        },
    )
