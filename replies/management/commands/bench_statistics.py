"""Time the statistics page: `manage.py bench_statistics` (median of 5, server time).

For one session (the current one, or --session) and for all sessions, it renders the page
as committee staff through the whole Django stack:

- warm: nothing changed since the page was last rendered (as for everyone after the first
  visitor since the last step);
- after a step: one workflow step in the session just before each request (a unit records
  a phone contact with the proposer), as in a busy committee, where every step changes the
  figures of its session;
- a new day: the first request of each day (the page asked for a day later each time), when
  what is overdue is counted again for the sessions with open work;
- computed: the cache emptied before each request, so that every count is made anew.

The steps are real: each run records contact records in the database it measures (and
audit events), so run it on a copy (`generate_data`'s database, a bench copy).
"""

import datetime
import itertools
import statistics as stats
import time
from unittest import mock

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Q
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, User
from proposals import deadlines, services
from proposals.models import Assignment, Proposal, Session

MODES = ("warm", "after a step", "a new day", "computed")


class QueryCount:
    """Counts the queries run (an execute wrapper: cheaper than the debug cursor, which
    formats every query's SQL, and so would be timed with the page)."""

    def __init__(self):
        self.n = 0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        return execute(sql, params, many, context)


class Command(BaseCommand):
    help = (
        "Print the statistics page's server time (median of 5) for one and for all sessions: "
        "warm, after a step (records contacts in the database), and computed."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runs", type=int, default=5)
        parser.add_argument("--session", type=int, help="session id (default: the current one)")

    def handle(self, *args, runs, session, **options):
        user = User.objects.filter(
            Q(is_committee_staff=True) | Q(is_superuser=True), is_active=True
        ).first()
        if user is None:
            raise CommandError("No committee staff user: run load_demo or generate_data first.")
        chosen = (
            Session.objects.filter(pk=session).first()
            if session
            else Session.objects.filter(is_current=True).first()
        )
        if chosen is None:
            raise CommandError("No such session.")
        self.steps = self.open_assignments(chosen)
        client = Client()
        client.force_login(user)
        self.stdout.write(
            f"{Proposal.objects.count()} proposals on {connection.vendor}; "
            f"median of {runs} runs, server time of GET /work/statistics/"
        )
        url = reverse("statistics:index")
        with override_settings(ALLOWED_HOSTS=["*"]):
            for label, value in ((str(chosen), chosen.pk), ("all sessions", "")):
                for mode in MODES:
                    times, queries = self.measure(client, url, value, runs, mode)
                    self.stdout.write(
                        f"  {label:<28} {mode:<12} {stats.median(times):8.1f} ms  "
                        f"(min {min(times):.1f}, max {max(times):.1f}; {queries} queries)"
                    )

    def open_assignments(self, session):
        """Assignments of the session open to a contact record, each with a handler of its
        unit: (assignment, handler), taken in turn by the steps."""
        handlers = dict(
            Membership.objects.filter(role=Membership.Role.HANDLER, user__is_active=True)
            .order_by("unit_id", "user_id")
            .values_list("unit_id", "user")
        )
        assignments = (
            Assignment.objects.filter(
                session=session,
                is_active=True,
                acknowledged_at__isnull=False,
                proposal__state__in=[Proposal.State.HANDLING, Proposal.State.REPLIED],
                unit__in=list(handlers),
            )
            .select_related("unit", "proposal")
            .order_by("?")[:50]
        )
        steps = [(a, User.objects.get(pk=handlers[a.unit_id])) for a in assignments]
        if not steps:
            raise CommandError("The session has no assignment in handling for the steps.")
        return itertools.cycle(steps)

    def step(self):
        assignment, handler = next(self.steps)
        services.record_contact(
            assignment,
            handler,
            contacted_on=timezone.localdate(),
            method="phone",
            summary="电话沟通（bench_statistics）",
        )

    def measure(self, client, url, session, runs, mode):
        client.get(url, {"session": session})  # warms the connection, the plan cache, the cache
        times = []
        queries = 0
        for run in range(runs):
            if mode == "computed":
                cache.clear()
            elif mode == "after a step":
                self.step()
            # The day the page counts for: a day later each run for "a new day".
            today = deadlines.local_today() + datetime.timedelta(
                days=run + 1 if mode == "a new day" else 0
            )
            # Counted by a wrapper, not the debug cursor, which formats every query's SQL.
            counted = QueryCount()
            with (
                mock.patch.object(deadlines, "local_today", return_value=today),
                connection.execute_wrapper(counted),
            ):
                started = time.perf_counter()
                response = client.get(url, {"session": session})
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"GET {url} answered {response.status_code}")
            queries = counted.n
        return times, queries
