"""Logging filters on the root handlers (config/settings.py, LOGGING).

Whoever reads the log must not learn a proposer's phone number or be able to open their
receipt link or a password reset link: phone numbers become 139****0058, tokens are cut
to their first characters. A refused request (403) is one line, not a traceback.
"""

import logging
import re

# Mainland mobile numbers, with an optional +86 / 86 in front.
PHONE = re.compile(r"(?<!\d)((?:\+?86[- ]?)?1[3-9]\d)(\d{4})(\d{4})(?!\d)")
# Personal links: /r/<receipt token>/ and /accounts/reset/<uid>/<token>/.
RECEIPT_PATH = re.compile(r"(/r/)(?!mine/)([^/\s?\"']{6})[^/\s?\"']+")
RESET_PATH = re.compile(r"(/reset/[^/\s]+/)([^/\s?\"']{4})[^/\s?\"']+")
# Anything else that looks like a secret: a long unbroken run of token characters.
LONG_TOKEN = re.compile(r"(?<![\w:-])([A-Za-z0-9_\-:]{6})[A-Za-z0-9_\-:]{26,}")
SHORTENED = "…"


def mask(text):
    text = PHONE.sub(r"\1****\3", text)
    text = RECEIPT_PATH.sub(r"\1\2" + SHORTENED, text)
    text = RESET_PATH.sub(r"\1\2" + SHORTENED, text)
    return LONG_TOKEN.sub(r"\1" + SHORTENED, text)


class MaskSecretsFilter(logging.Filter):
    def filter(self, record):
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 — a broken record is logging's to report
            return True
        masked = mask(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = mask(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class ShortForbiddenFilter(logging.Filter):
    """Django logs a PermissionDenied with its traceback: a refusal is not an error."""

    def filter(self, record):
        if getattr(record, "status_code", None) == 403:
            record.exc_info = None
            record.exc_text = None
            record.stack_info = None
        return True
