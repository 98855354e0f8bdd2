"""`manage.py send_receipt_reminders [--date YYYY-MM-DD]`: remind proposers of their receipt.

Run it daily (cron or a systemd timer). A proposer who has not answered
RECEIPT_REMINDER_WORKING_DAYS working days after the letter was sent is reminded once;
running it again the same day, or any later day, never reminds them a second time.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import ngettext

from replies import services


class Command(BaseCommand):
    help = "Remind proposers who have not given their receipt yet (each only once)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--date",
            help="Count the working days up to this day (YYYY-MM-DD) instead of today.",
        )

    def handle(self, *args, **options):
        today = None
        if options["date"]:
            try:
                today = datetime.date.fromisoformat(options["date"])
            except ValueError as exc:
                raise CommandError(f"--date: {exc}") from exc
        count = services.send_receipt_reminders(today)
        self.stdout.write(
            ngettext("%(count)d reminder sent.", "%(count)d reminders sent.", count)
            % {"count": count}
        )
