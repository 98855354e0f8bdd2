"""`manage.py send_reminders [--date YYYY-MM-DD]`: the units' daily deadline digest.

Run it daily (cron or a systemd timer). Each reminder goes once: running it again the same
day, or any later day, sends nothing twice.
"""

import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from proposals.services.reminders import send_reminders


class Command(BaseCommand):
    help = "Remind units of deadlines due soon or passed, and committee staff of what is overdue."

    def add_arguments(self, parser):
        parser.add_argument("--date", help="Remind as of this day (YYYY-MM-DD) instead of today.")

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date: {exc}") from exc
        started = time.monotonic()
        units, count = send_reminders(today)
        self.stdout.write(
            ngettext(
                "%(count)d reminder sent to %(units)d units in %(seconds).1f s.",
                "%(count)d reminders sent to %(units)d units in %(seconds).1f s.",
                count,
            )
            % {"count": count, "units": units, "seconds": time.monotonic() - started}
        )
