"""Time the statistics page: `manage.py bench_statistics` (median of 5, server time).

For one session (the current one, or --session) and for all sessions, it renders the page
as committee staff through the whole Django stack: warm (the figures are in the cache,
as for everyone after the first visitor since the data last changed) and computed (the
cache emptied before each request, so every aggregate runs in the database).
"""

import statistics as stats
import time

from django.core.cache import cache
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.db.models import Q
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from proposals.models import Proposal, Session


class Command(BaseCommand):
    help = "Print the statistics page's server time (median of 5) for one and for all sessions."

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
        client = Client()
        client.force_login(user)
        self.stdout.write(
            f"{Proposal.objects.count()} proposals on {connection.vendor}; "
            f"median of {runs} runs, server time of GET /work/statistics/"
        )
        url = reverse("statistics:index")
        with override_settings(ALLOWED_HOSTS=["*"]):
            for label, value in ((str(chosen), chosen.pk), ("all sessions", "")):
                for mode in ("warm", "computed"):
                    times, queries = self.measure(client, url, value, runs, mode == "computed")
                    self.stdout.write(
                        f"  {label:<28} {mode:<9} {stats.median(times):8.1f} ms  "
                        f"(min {min(times):.1f}, max {max(times):.1f}; {queries} queries)"
                    )

    def measure(self, client, url, session, runs, empty_cache):
        client.get(url, {"session": session})  # warms the connection, the plan cache, the cache
        times = []
        queries = 0
        for _ in range(runs):
            if empty_cache:
                cache.clear()
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = client.get(url, {"session": session})
                times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                raise CommandError(f"GET {url} answered {response.status_code}")
            queries = len(captured)
        return times, queries
