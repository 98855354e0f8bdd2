"""`manage.py realign_deadlines --user STAFF --was REPLY_MONTHS=3 [--reason ...]`.

After a deadline rule in settings (TIAN_*) was changed and the app restarted: the open
deadlines that followed the rule as it was move to the rule as it is, each with an audit
event and a message to its unit. Dates set by hand and approved extensions stay.
"""

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from core.workflow import Refused
from proposals.services import rules_changed

RULES = (
    "RETURN_WINDOW_WORKING_DAYS",
    "CO_OPINION_MONTHS",
    "FIRST_CONTACT_WORKING_DAYS",
    "REPLY_MONTHS",
    "PLENARY_REPLY_MONTHS",
    "REHANDLING_MONTHS",
)


class Command(BaseCommand):
    help = "Move open deadlines that followed a deadline rule as it was to the rule as it is."

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="The committee staff member acting.")
        parser.add_argument(
            "--was", action="append", required=True, help="RULE=VALUE before the change."
        )
        parser.add_argument("--reason", default="", help="Why the rule changed.")

    def handle(self, *args, **options):
        try:
            user = User.objects.get(username=options["user"])
        except User.DoesNotExist as exc:
            raise CommandError(f"No user {options['user']!r}.") from exc
        before = {}
        for item in options["was"]:
            key, _sep, value = item.partition("=")
            if key not in RULES or not value.isdigit():
                raise CommandError(f"--was {item!r}: expected one of {', '.join(RULES)}=N.")
            before[key] = int(value)
        try:
            moved = rules_changed(user, before, options["reason"])
        except Refused as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{len(moved)} open deadlines moved.")
