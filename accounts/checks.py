"""System checks of the accounts' settings."""

from django.conf import settings
from django.core.checks import Error, register

CONSOLE_SMS = "accounts.sms.ConsoleBackend"


@register()
def console_sms_in_production(app_configs, **kwargs):
    """The console backend writes phone numbers and personal receipt links to the log."""
    if settings.DEBUG or getattr(settings, "SMS_BACKEND", CONSOLE_SMS) != CONSOLE_SMS:
        return []
    if settings.TIAN_SECURITY["SMS_CONSOLE_ALLOWED"]:
        return []
    return [
        Error(
            "TIAN_SMS_BACKEND is the console backend with DJANGO_DEBUG off: it writes "
            "proposers' phone numbers and receipt messages to the log instead of sending them.",
            hint='Set TIAN_SMS_BACKEND to your gateway\'s class (README, "SMS"), or '
            "TIAN_SMS_CONSOLE_ALLOWED=1 where no gateway exists and the log is protected.",
            id="accounts.E001",
        )
    ]
