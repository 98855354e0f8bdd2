"""提案及办理答复汇编: a session's published replies as one book (a PDF), made on request.

The book has a cover, a table of contents by category with page numbers (WeasyPrint's
target-counter), and each reply on the site in the letter format of the reply PDF, in its
public version: the publication's text, without contact person, phone, receipt QR or copy
list. Letters not disclosed (disclosure "none") are not in the book.

Making it takes a while (400 replies: see README), so `start` records a Compendium row and
makes the book after commit in a background thread of the app server that was asked; the
progress (stage, replies collected, pages laid out) and the finished file are written to the
database, where every app server reads them. A book is kept while its session's replies
stay as they were: `session_digest` changes when a reply of the session is published,
corrected or taken off the site, and the next request makes a new book.
"""

import hashlib
import logging
import threading
import time

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.files.base import ContentFile
from django.db import close_old_connections, connections, transaction
from django.db.models import OuterRef, Subquery
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from core.storage import DatabaseStorage
from core.workflow import Refused

from ..models import Compendium, Publication, ReplyLetter
from ..pdf import _font_config, public_letter_context

log = logging.getLogger(__name__)

# A compendium whose maker has not reported for this long died with its server: start anew.
STALE_SECONDS = 300
# Progress is written at most this often (one UPDATE of one row).
PROGRESS_SECONDS = 0.5
STORAGE_PREFIX = "compendia/"


def session_letters(session):
    """The session's replies on the public site, in the order of the book."""
    latest = Publication.objects.filter(letter=OuterRef("pk")).order_by("-version")
    return (
        ReplyLetter.objects.filter(is_public=True, assignment__proposal__session=session)
        .exclude(disclosure=ReplyLetter.Disclosure.NONE)
        .annotate(publication_id=Subquery(latest.values("pk")[:1]))
        .filter(publication_id__isnull=False)
        .select_related(
            "assignment__unit", "assignment__proposal__category", "assignment__proposal__session"
        )
        .order_by(
            "assignment__proposal__category__position",
            "assignment__proposal__category__name",
            "assignment__proposal__number",
            "assignment__unit__name",
            "pk",
        )
    )


def session_digest(session):
    """A digest of the session's published versions: which letters, which publication."""
    rows = session_letters(session).order_by("pk").values_list("pk", "publication_id")
    raw = ";".join(f"{pk}:{publication}" for pk, publication in rows)
    return hashlib.sha256(f"{session.pk}|{raw}".encode()).hexdigest()


def current(session):
    """The session's compendium for its replies as they are now, or None."""
    return Compendium.objects.filter(session=session, digest=session_digest(session)).first()


def _is_stale(compendium, now):
    return (
        compendium.state == Compendium.State.RUNNING
        and (now - compendium.heartbeat_at).total_seconds() > STALE_SECONDS
    )


def start(session, actor):
    """The session's compendium: the kept one, the one being made, or a new one being made.

    Committee staff only (the view checks, `proposals.access.is_committee`). A book of no
    replies is refused.
    """
    digest = session_digest(session)
    now = timezone.now()
    with transaction.atomic():
        compendium = (
            Compendium.objects.select_for_update().filter(session=session, digest=digest).first()
        )
        if compendium is not None and (
            compendium.state == Compendium.State.READY
            or (compendium.state == Compendium.State.RUNNING and not _is_stale(compendium, now))
        ):
            return compendium
        count = session_letters(session).count()
        if not count:
            raise Refused(_("This session has no published replies yet."))
        values = {
            "state": Compendium.State.RUNNING,
            "stage": Compendium.Stage.LETTERS,
            "letters": count,
            "done": 0,
            "pages": 0,
            "error": "",
            "file_name": "",
            "size": 0,
            "started_by": actor,
            "started_at": now,
            "heartbeat_at": now,
            "finished_at": None,
        }
        if compendium is None:
            compendium = Compendium.objects.create(session=session, digest=digest, **values)
        else:
            for name, value in values.items():
                setattr(compendium, name, value)
            compendium.save()
        pk = compendium.pk
        transaction.on_commit(lambda: launch(pk))
    log.info("Compendium %s of %s started by %s", pk, session, actor)
    return compendium


def launch(pk):
    """Make the book in a thread of this server (COMPENDIUM_IN_THREAD), or here and now."""
    if getattr(settings, "COMPENDIUM_IN_THREAD", True):
        threading.Thread(target=_run_in_thread, args=(pk,), daemon=True).start()
    else:
        build(pk)


def _run_in_thread(pk):
    close_old_connections()
    try:
        build(pk)
    finally:
        # The thread's own connections (they are per thread).
        connections.close_all()


class _Progress:
    """Writes the progress to the compendium's row, at most every PROGRESS_SECONDS."""

    def __init__(self, pk):
        self.pk = pk
        self.last = 0.0

    def __call__(self, force=False, **values):
        now = time.monotonic()
        if not force and now - self.last < PROGRESS_SECONDS:
            return
        self.last = now
        Compendium.objects.filter(pk=self.pk).update(heartbeat_at=timezone.now(), **values)


class _PageCounter(logging.Handler):
    """Counts the pages WeasyPrint lays out (its progress log, 'Step 5 - … Page %d') in this
    thread, and reports them."""

    def __init__(self, progress):
        super().__init__(logging.INFO)
        self.thread = threading.get_ident()
        self.progress = progress
        self.pages = 0

    def emit(self, record):
        if threading.get_ident() != self.thread or not str(record.msg).startswith("Step 5"):
            return
        # Repagination (for the contents' page numbers) counts again from 1: keep the most.
        if record.args and isinstance(record.args[0], int) and record.args[0] > self.pages:
            self.pages = record.args[0]
            self.progress(stage=Compendium.Stage.LAYOUT, pages=self.pages)


def book_html(session, letters, publications, progress=None):
    """The compendium's HTML: cover, contents by category, then each letter."""
    sections = []
    categories = []
    for i, letter in enumerate(letters, start=1):
        proposal = letter.assignment.proposal
        publication = publications[letter.publication_id]
        context = public_letter_context(letter, publication)
        anchor = f"reply-{letter.pk}"
        sections.append(
            {
                "anchor": anchor,
                "html": render_to_string("replies/_letter_pdf_body.html", context),
            }
        )
        category = proposal.category.name if proposal.category_id else "其他"
        if not categories or categories[-1]["name"] != category:
            categories.append({"name": category, "entries": []})
        categories[-1]["entries"].append(
            {
                "anchor": anchor,
                "number": proposal.number,
                "title": publication.title,
                "proposal_title": proposal.title,
                "unit": context["unit_name"],
            }
        )
        if progress:
            progress(done=i)
    return render_to_string(
        "replies/compendium_pdf.html",
        {
            "session": session,
            "committee": settings.TIAN["COMMITTEE_NAME"],
            "categories": categories,
            "sections": sections,
            "count": len(sections),
            "made_on": timezone.localdate(),
        },
    )


def _stylesheets():
    import weasyprint

    return [
        weasyprint.CSS(filename=finders.find("css/letter-print.css")),
        weasyprint.CSS(filename=finders.find("css/compendium-print.css")),
    ]


def render_book(session, progress=None):
    """The compendium of a session as PDF bytes (with its letters' count)."""
    letters = list(session_letters(session))
    publications = Publication.objects.in_bulk([letter.publication_id for letter in letters])
    html = book_html(session, letters, publications, progress)
    import weasyprint  # on the first book a worker makes (replies/pdf.py says why)

    logger = weasyprint.PROGRESS_LOGGER
    counter, saved = None, (logger.level, logger.propagate)
    if progress:
        progress(force=True, stage=Compendium.Stage.LAYOUT, done=len(letters))
        # WeasyPrint's progress log, while it lays out the book, goes to the counter only.
        counter = _PageCounter(progress)
        logger.addHandler(counter)
        logger.setLevel(logging.INFO)
        logger.propagate = False
    try:
        document = weasyprint.HTML(string=html, base_url=str(settings.BASE_DIR)).render(
            stylesheets=_stylesheets(), font_config=_font_config()
        )
    finally:
        if counter:
            logger.removeHandler(counter)
            if not logger.handlers:
                logger.setLevel(saved[0])
                logger.propagate = saved[1]
    if progress:
        progress(force=True, stage=Compendium.Stage.WRITING, pages=len(document.pages))
    return document.write_pdf(), len(document.pages)


def build(pk):
    """Make compendium `pk`: render, store the file, drop the session's older books."""
    compendium = Compendium.objects.select_related("session__term").get(pk=pk)
    progress = _Progress(pk)
    try:
        pdf, pages = render_book(compendium.session, progress)
        storage = DatabaseStorage()
        name = f"{STORAGE_PREFIX}{compendium.session_id}-{compendium.digest[:16]}-{pk}.pdf"
        with transaction.atomic():
            older = Compendium.objects.filter(session=compendium.session).exclude(pk=pk)
            for old in older.select_for_update():
                if old.file_name:
                    storage.delete(old.file_name)
            older.exclude(state=Compendium.State.RUNNING).delete()
            if storage.exists(name):
                storage.delete(name)
            storage.save(name, ContentFile(pdf))
            Compendium.objects.filter(pk=pk).update(
                state=Compendium.State.READY,
                stage=Compendium.Stage.DONE,
                file_name=name,
                size=len(pdf),
                pages=pages,
                finished_at=timezone.now(),
                heartbeat_at=timezone.now(),
            )
        log.info("Compendium %s ready: %s pages, %s bytes", pk, pages, len(pdf))
    except Exception as error:  # noqa: BLE001 — recorded on the row, shown on the page
        log.exception("Compendium %s failed", pk)
        Compendium.objects.filter(pk=pk).update(
            state=Compendium.State.FAILED, error=str(error)[:500], heartbeat_at=timezone.now()
        )


def read_file(compendium):
    """The finished book's bytes."""
    if compendium.state != Compendium.State.READY or not compendium.file_name:
        raise Refused(_("The compendium is not ready."))
    with DatabaseStorage().open(compendium.file_name) as f:
        return f.read()
