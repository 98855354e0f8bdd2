"""SMS backends. Plug a real gateway by writing a class with `send(phone, text)`
and naming it in the SMS_BACKEND setting (see README, "SMS")."""

import logging

log = logging.getLogger("tian.sms")

# Test runs read what was "sent" here, as Django's locmem email backend does.
outbox = []


class ConsoleBackend:
    """Logs the message: the default, for development and for offices without a gateway."""

    def send(self, phone, text):
        log.info("SMS to %s: %s", phone, text)


class LocmemBackend:
    def send(self, phone, text):
        outbox.append((phone, text))
