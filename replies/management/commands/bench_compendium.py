"""Time the session's compendium: `manage.py bench_compendium [--session ID] [--limit N]`.

Makes the book of the session with the most published replies (or --session) here and now,
as the background thread would, and prints the replies, pages, size and seconds for each
stage. With --limit, only the first N replies of the session (to time exactly 400).
Nothing is stored.
"""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count, Q

from proposals.models import Session
from replies.models import Compendium, ReplyLetter
from replies.services import compendium as books


class Command(BaseCommand):
    help = "Print how long the compendium of one session takes to make."

    def add_arguments(self, parser):
        parser.add_argument("--session", type=int, help="session id (default: most replies)")
        parser.add_argument("--limit", type=int, help="only the first N replies")

    def handle(self, *args, session, limit, **options):
        public = Q(proposals__assignments__letters__is_public=True) & ~Q(
            proposals__assignments__letters__disclosure=ReplyLetter.Disclosure.NONE
        )
        sessions = Session.objects.select_related("term")
        if session:
            chosen = sessions.filter(pk=session).first()
        else:
            chosen = (
                sessions.annotate(n=Count("proposals__assignments__letters", filter=public))
                .order_by("-n")
                .first()
            )
        if chosen is None:
            raise CommandError("No such session.")
        if limit:
            real = books.session_letters

            def session_letters(s):
                qs = real(s)
                keep = list(qs.values_list("pk", flat=True)[:limit])
                return qs.filter(pk__in=keep)

            books.session_letters = session_letters
        marks = {}
        start = time.monotonic()

        def progress(force=False, **values):
            stage = values.get("stage")
            if stage and stage not in marks:
                marks[stage] = time.monotonic() - start

        pdf, pages = books.render_book(chosen, progress)
        total = time.monotonic() - start
        letters = books.session_letters(chosen).count()
        self.stdout.write(
            f"{chosen}: {letters} replies, {pages} pages, {len(pdf) / 1e6:.1f} MB in {total:.1f} s "
            f"(collecting {marks.get(Compendium.Stage.LAYOUT, 0):.1f} s, "
            f"layout {marks.get(Compendium.Stage.WRITING, 0) - marks.get(Compendium.Stage.LAYOUT, 0):.1f} s, "
            f"writing {total - marks.get(Compendium.Stage.WRITING, 0):.1f} s)"
        )
