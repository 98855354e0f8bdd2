"""Personal data encrypted at rest, and shown masked.

`EncryptedCharField` is django-fernet-encrypted-fields' field with the keys taken from the
environment (settings.FIELD_ENCRYPTION_KEYS, Fernet keys, newest first) instead of derived
from SECRET_KEY: rotating the secret key (sessions, signed links) must not make the phone
numbers unreadable, and rotating the encryption key is its own step (README, "Personal
data encrypted at rest"). The database holds a Fernet token (AES-128-CBC + HMAC-SHA256,
random IV): equal numbers do not look equal, so nothing can filter or search by them.
"""

import logging

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from encrypted_fields.fields import EncryptedCharField as LibraryEncryptedCharField

log = logging.getLogger(__name__)

# Every Fernet token starts with the version byte 0x80, base64 "gA"; a phone number never does.
TOKEN_PREFIX = "gAAAAA"


def fernet():
    keys = getattr(settings, "FIELD_ENCRYPTION_KEYS", None)
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS (DJANGO_FIELD_ENCRYPTION_KEYS) is empty.")
    return MultiFernet([Fernet(key) for key in keys])


class EncryptedCharField(LibraryEncryptedCharField):
    """A CharField stored encrypted; '' stays '' (blank, not NULL)."""

    @property
    def f(self):
        # Read per use (cheap: no key derivation), so that a test's or a rotation's keys apply.
        return fernet()

    def get_prep_value(self, value):
        if value in (None, ""):
            return value
        return super().get_prep_value(value)

    def to_python(self, value):
        # Decrypt only what is a token: a form's plaintext (the library flags the field
        # object during clean() for this, which is not thread-safe) and rows written before
        # encryption read as they are.
        if isinstance(value, str) and value.startswith(TOKEN_PREFIX):
            try:
                value = self.f.decrypt(value.encode()).decode()
            except InvalidToken:
                # A key missing from FIELD_ENCRYPTION_KEYS (a rotation dropped it too soon):
                # say so, show the token rather than fail the page.
                log.error("An encrypted %s could not be decrypted with any key.", self.name)
        return models.CharField.to_python(self, value)

    def clean(self, value, model_instance):
        return models.CharField.clean(self, value, model_instance)


def mask_phone(value):
    """139****0058: enough to recognise a number, not to call it."""
    value = (value or "").strip()
    if not value:
        return ""
    if len(value) < 7:
        return "****"
    return f"{value[:3]}****{value[-4:]}"
