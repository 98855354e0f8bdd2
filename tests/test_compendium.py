"""The session's compendium (提案及办理答复汇编): made by committee staff, kept until the
session's replies change, with a table of contents whose page numbers are right."""

import datetime
import re
import shutil
import subprocess
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone

from accounts.models import User
from core.models import StoredFile
from proposals.models import Session
from replies import services
from replies.models import Compendium, ReplyLetter
from replies.services import compendium as books

needs_poppler = pytest.mark.skipif(
    not shutil.which("pdftotext"), reason="poppler-utils (pdftotext) is not installed"
)


@pytest.fixture(autouse=True)
def inline(settings):
    cache.clear()
    settings.COMPENDIUM_IN_THREAD = False


@pytest.fixture
def demo(db):
    call_command("load_demo", "--force", stdout=StringIO())
    ReplyLetter.objects.update(contact_person="王明", contact_phone="023-53221234")


@pytest.fixture
def session(demo):
    return Session.objects.get(is_current=True)


@pytest.fixture
def tiwei(demo):
    return User.objects.get(username="tiwei")


def make(client, user, session, capture):
    client.force_login(user)
    with capture(execute=True):
        return client.post(f"/work/compendium/{session.pk}/start/")


def pdf_pages(pdf, tmp_path):
    path = tmp_path / "book.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(
        ["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()
    return text.split("\f")


def test_only_committee_staff_reach_the_compendium(client, session):
    client.force_login(User.objects.get(username="kjj"))
    assert client.get("/work/compendium/").status_code == 403
    assert client.post(f"/work/compendium/{session.pk}/start/").status_code == 403
    assert client.get(f"/work/compendium/{session.pk}/download/").status_code == 403
    client.logout()
    assert client.get("/work/compendium/").status_code == 302


@needs_poppler
def test_the_compendium_has_a_cover_contents_with_right_page_numbers_and_no_contacts(
    client, session, tiwei, django_capture_on_commit_callbacks, tmp_path
):
    response = make(client, tiwei, session, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert f"/work/compendium/{session.pk}/download/" in page
    download = client.get(f"/work/compendium/{session.pk}/download/")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"
    assert download["Content-Disposition"].startswith("attachment")
    pages = pdf_pages(download.content, tmp_path)
    assert "提案及办理答复汇编" in pages[0]
    contents = pages[1]
    assert re.search(r"目\s*录", contents)
    letters = list(books.session_letters(session))
    assert len(letters) >= 4
    for letter in letters:
        assert letter.assignment.proposal.category.name in contents
    # Every entry's page number leads to the page where its letter begins.
    for letter in letters:
        number = f"{letter.assignment.proposal.number:03d}"
        entry = re.search(rf"^\s*第{number}号.*?(\d+)[ \t]*$", contents, re.M | re.S)
        first_page = int(entry.group(1))
        assert first_page > 2
        assert f"第{number}号提案" in re.sub(r"\s+", "", pages[first_page - 1])
        assert letter.assignment.unit.name in pages[first_page - 1]
    everything = "".join(pages)
    for private in ("023-53221234", "王明", "联系电话", "扫码填写回执", "抄送"):
        assert private not in everything


def test_the_book_is_kept_until_a_reply_of_the_session_changes(
    client, session, tiwei, django_capture_on_commit_callbacks, monkeypatch
):
    made = []
    real = books.render_book

    def counting(*args, **kwargs):
        made.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(books, "render_book", counting)
    make(client, tiwei, session, django_capture_on_commit_callbacks)
    make(client, tiwei, session, django_capture_on_commit_callbacks)
    assert len(made) == 1
    first = Compendium.objects.get()
    assert first.state == Compendium.State.READY
    assert StoredFile.objects.filter(name=first.file_name).exists()

    letter = ReplyLetter.objects.get(assignment__proposal__number=69)
    services.correct_typo(letter, tiwei, "更正笔误", text=letter.body.replace("创建", "创设", 1))
    assert books.current(session) is None
    page = client.get(f"/work/compendium/?session={session.pk}").content.decode()
    assert "/download/" not in page
    assert client.get(f"/work/compendium/{session.pk}/download/").status_code == 404

    make(client, tiwei, session, django_capture_on_commit_callbacks)
    assert len(made) == 2
    second = books.current(session)
    assert second.state == Compendium.State.READY and second.pk != first.pk
    # The book of the replies as they were is gone, with its file.
    assert not Compendium.objects.filter(pk=first.pk).exists()
    assert not StoredFile.objects.filter(name=first.file_name).exists()


def test_unpublishing_a_reply_changes_the_digest(session, tiwei):
    before = books.session_digest(session)
    letter = ReplyLetter.objects.get(assignment__proposal__number=69)
    services.unpublish(letter, tiwei, "数据待核实")
    assert books.session_digest(session) != before


def test_progress_is_reported_while_the_book_is_made(session, tiwei):
    seen = []

    def progress(force=False, **values):
        seen.append(values)

    pdf, pages = books.render_book(session, progress)
    assert pdf.startswith(b"%PDF-")
    letters = books.session_letters(session).count()
    assert [v["done"] for v in seen if "done" in v and "stage" not in v] == list(
        range(1, letters + 1)
    )
    layout = Compendium.Stage.LAYOUT
    laid_out = [v["pages"] for v in seen if v.get("stage") == layout and "pages" in v]
    assert laid_out and laid_out == sorted(laid_out) and max(laid_out) <= pages
    assert seen[-1] == {"stage": Compendium.Stage.WRITING, "pages": pages}


def test_the_page_shows_progress_of_a_book_being_made(client, session, tiwei):
    now = timezone.now()
    Compendium.objects.create(
        session=session,
        digest=books.session_digest(session),
        letters=400,
        done=120,
        started_at=now,
        heartbeat_at=now,
    )
    client.force_login(tiwei)
    page = client.get(f"/work/compendium/?session={session.pk}").content.decode()
    assert 'max="400" value="120"' in page
    status = client.get(f"/work/compendium/{session.pk}/status/").json()
    assert status["state"] == "running" and status["done"] == 120 and status["letters"] == 400
    assert not status["finished"]


def test_a_book_whose_maker_died_is_made_anew(
    client, session, tiwei, django_capture_on_commit_callbacks
):
    long_ago = timezone.now() - datetime.timedelta(hours=1)
    stale = Compendium.objects.create(
        session=session,
        digest=books.session_digest(session),
        letters=4,
        started_at=long_ago,
        heartbeat_at=long_ago,
    )
    make(client, tiwei, session, django_capture_on_commit_callbacks)
    stale.refresh_from_db()
    assert stale.state == Compendium.State.READY


def test_a_session_without_published_replies_is_refused_with_a_message(
    client, tiwei, django_capture_on_commit_callbacks
):
    empty = Session.objects.create(term=Session.objects.first().term, number=9)
    response = make(client, tiwei, empty, django_capture_on_commit_callbacks)
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "This session has no published replies yet." in page or "尚无" in page
    assert not Compendium.objects.exists()


def test_a_failure_is_recorded_and_may_be_retried(
    client, session, tiwei, django_capture_on_commit_callbacks, monkeypatch
):
    def broken(*args, **kwargs):
        raise RuntimeError("font missing")

    monkeypatch.setattr(books, "render_book", broken)
    make(client, tiwei, session, django_capture_on_commit_callbacks)
    failed = Compendium.objects.get()
    assert failed.state == Compendium.State.FAILED and "font missing" in failed.error
    page = client.get(f"/work/compendium/?session={session.pk}").content.decode()
    assert f"/work/compendium/{session.pk}/start/" in page
    monkeypatch.undo()
    make(client, tiwei, session, django_capture_on_commit_callbacks)
    failed.refresh_from_db()
    assert failed.state == Compendium.State.READY
