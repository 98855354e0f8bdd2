"""`manage.py send_outbox [--once] [--interval SECONDS]`: send the outbox's email and SMS.

Two ways to run it (README, "Notifications"; deploy/systemd/):

- continuously, as a service (`tian-outbox.service`): polls every --interval seconds (5 by
  default), sends what is due, survives database restarts and stops cleanly on SIGTERM;
- from a timer (`tian-outbox-once.timer`, every minute): `--once` sends every message due
  now, each at most once in the run, and exits.

Any number of workers may run at once, on any servers: they claim messages with
SELECT … FOR UPDATE SKIP LOCKED and never send one twice (accounts/outbox.py).
"""

import argparse
import contextlib
import logging
import signal
import threading
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import Error as DatabaseError
from django.db import close_old_connections, connection

from accounts import outbox

log = logging.getLogger("tian.outbox")

PURGE_EVERY_SECONDS = 3600


class Command(BaseCommand):
    help = "Send the email and SMS waiting in the outbox, retrying failures with back-off."

    def add_arguments(self, parser):
        parser.add_argument(
            "--once", action="store_true", help="Send what is due now and exit (for a timer)."
        )
        parser.add_argument(
            "--interval",
            type=float,
            default=5.0,
            help="Seconds between looks at the outbox when running continuously (default 5).",
        )
        parser.add_argument(
            "--batch-size", type=int, help="Messages claimed at a time (settings.OUTBOX)."
        )
        # For tests: stop after this many polls.
        parser.add_argument("--max-polls", type=int, help=argparse.SUPPRESS)

    def handle(self, *args, **options):
        if options["interval"] <= 0:
            raise CommandError("--interval must be more than 0 seconds.")
        limit = options["batch_size"]
        if limit is not None and limit < 1:
            raise CommandError("--batch-size must be at least 1.")
        if options["once"]:
            result = outbox.deliver_all_due(limit=limit)
            purged = outbox.purge_sent()
            self.report(result, purged, always=True)
            return
        self.run_forever(limit, options["interval"], options["max_polls"])

    def run_forever(self, limit, interval, max_polls):
        stop = threading.Event()
        self.on_signals(stop)
        polls = 0
        next_purge = 0.0
        self.stdout.write(f"Sending the outbox every {interval:g} s; stop with SIGTERM or Ctrl-C.")
        while not stop.is_set():
            close_old_connections()
            full = False
            try:
                result = outbox.deliver(limit=limit)
                purged = 0
                if time.monotonic() >= next_purge:
                    purged = outbox.purge_sent()
                    next_purge = time.monotonic() + PURGE_EVERY_SECONDS
                self.report(result, purged)
                full = result.claimed >= (limit or outbox.config("BATCH_SIZE"))
            except DatabaseError:
                # PostgreSQL restarting, a failover: drop the connection, try again later.
                log.exception("The outbox worker lost the database; retrying in %g s", interval)
                connection.close()
            polls += 1
            if max_polls is not None and polls >= max_polls:
                break
            if not full:
                stop.wait(interval)
        self.stdout.write("Outbox worker stopped.")

    def on_signals(self, stop):
        def handler(signum, frame):
            stop.set()

        for signum in (signal.SIGTERM, signal.SIGINT):
            # Outside the main thread (tests) no signal reaches us: nothing to install.
            with contextlib.suppress(ValueError):
                signal.signal(signum, handler)

    def report(self, result, purged=0, always=False):
        if not (always or result.claimed or purged):
            return
        self.stdout.write(
            f"Outbox: {result.sent} sent, {result.retrying} to retry, {result.failed} failed"
            + (f", {purged} old sent messages deleted" if purged else "")
            + "."
        )
