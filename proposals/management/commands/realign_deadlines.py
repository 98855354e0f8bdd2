"""`manage.py realign_deadlines --user STAFF --was REPLY_MONTHS=3 [--reason ...]`.

The rules are `DeadlineRule` rows, changed in the admin (which moves the open deadlines by
itself). This command is for a rule changed another way (its row edited in the database, or
a `TIAN_*` default before the rules were rows): the open deadlines that followed the rule as
it was (`--was`, its length in the rule's unit) move to the rule as it is, each with an audit
event and a message to its unit. Dates set by hand and approved extensions stay.
"""

import dataclasses

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from core.workflow import Refused
from proposals import deadlines
from proposals.services import rules_changed

# The setting names of the rules whose dates are stored, and their clocks.
RULES = {
    key: clock
    for clock, (key, _unit, _start) in deadlines.DEFAULTS.items()
    if clock in deadlines.STORED_CLOCKS
}


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
        before, now = {}, deadlines.current_rules()
        for item in options["was"]:
            key, _sep, value = item.partition("=")
            if key not in RULES or not value.isdigit():
                raise CommandError(f"--was {item!r}: expected one of {', '.join(RULES)}=N.")
            clock = RULES[key]
            before[clock] = dataclasses.replace(now[clock], length=int(value))
        try:
            moved = rules_changed(user, before, options["reason"])
        except Refused as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"{len(moved)} open deadlines moved.")
