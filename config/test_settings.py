"""The real settings, with what a test run needs that the environment may not give."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "tests-only-secret-key")
# A fixed key: tests read what they wrote (never a production key).
os.environ.setdefault(
    "DJANGO_FIELD_ENCRYPTION_KEYS", "dGVzdHMtb25seS1maWVsZC1lbmNyeXB0aW9uLWtleTA="
)
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

from .settings import *  # noqa: E402, F403

# Fast hashing: tests log in hundreds of times.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SMS_BACKEND = "accounts.sms.LocmemBackend"
# Tests read mail.outbox / sms.outbox right after a step: the outbox is tried on commit
# (tests/test_outbox.py turns this off to exercise the worker alone).
OUTBOX = {**OUTBOX, "DELIVER_ON_COMMIT": True}  # noqa: F405
STORAGES["staticfiles"]["BACKEND"] = "django.contrib.staticfiles.storage.StaticFilesStorage"  # noqa: F405
# Tests serve no collected static files; WhiteNoise need not look for them.
WHITENOISE_AUTOREFRESH = True
STATIC_ROOT = VAR_DIR / "test-static"  # noqa: F405
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# A run with DATABASE_REPLICA_URL set reads the test database through both aliases; the
# replica tests (tests/replica/) point `replica` at the real standby themselves.
if "replica" in DATABASES:  # noqa: F405
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}  # noqa: F405
# Each test's world is new: no worker memo of the public column (tests turn it on to test it).
TIAN_PUBLIC_MEMO_SECONDS = 0
# The test client and the live server speak plain HTTP; the redirect to HTTPS is tested
# with override_settings (tests/test_security_headers_and_logs.py).
SECURE_SSL_REDIRECT = False
