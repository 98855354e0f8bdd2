"""Committee staff import a session's proposals from a spreadsheet: preview, then all or nothing."""

import io
import os
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from openpyxl import Workbook

from accounts.models import Proposer
from core.workflow import Refused
from proposals import imports
from proposals.models import Event, Proposal, SpreadsheetImport

from .xlsx import HEADERS, proposal_row, rows_of, with_member, workbook_bytes, zip_bomb

State = Proposal.State


@pytest.fixture
def client(client):
    # Messages are asserted in the English msgids, whatever the catalog says.
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def staff(world, client):
    client.force_login(world.tiwei)
    return client


def upload(client, world, data, name="提案.xlsx", accept=False):
    response = client.post(
        reverse("proposals:import_upload"),
        {
            "file": SimpleUploadedFile(name, data),
            "session": world.session.pk,
            "period": Proposal.Period.PLENARY,
            **({"accept_at_once": "on"} if accept else {}),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return SpreadsheetImport.objects.get(token=response.url.rstrip("/").rsplit("/", 1)[1])


def preview(world, data):
    return imports.read_proposals(data, session=world.session, period="plenary")


def imported(world):
    return Proposal.objects.filter(session=world.session).exclude(pk=world.proposal.pk)


def test_the_template_has_chinese_headers_and_an_example_row_that_imports(staff, world):
    response = staff.get(reverse("proposals:import_template"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    rows = rows_of(response.content)
    assert rows[0] == HEADERS
    assert rows[1][1] == "张华"

    token = upload(staff, world, response.content).token
    page = staff.get(reverse("proposals:import_preview", args=[token]))
    assert page.context["preview"].ok, page.context["preview"].file_errors
    staff.post(reverse("proposals:import_confirm", args=[token]))
    proposal = imported(world).get()
    assert proposal.title == imports.EXAMPLE_TITLE
    assert proposal.state == State.SUBMITTED


def test_the_preview_shows_every_row_matched_and_saves_nothing(staff, world):
    data = workbook_bytes(
        [
            proposal_row("关于甲的建议", 建议承办单位="区科技局、重庆市梁平区经济和信息化委员会"),
            proposal_row("关于乙的建议", first="李四", 附议人="张华", 提案类型="联名提案"),
        ]
    )
    token = upload(staff, world, data).token
    response = staff.get(reverse("proposals:import_preview", args=[token]))
    result = response.context["preview"]
    assert result.ok
    first, second = result.rows
    assert (first.number, second.number) == (2, 3)
    assert first.first_proposer == world.zhanghua_proposer
    assert first.units == [world.kjj_unit, world.jxw_unit]
    assert second.cosigners == [world.zhanghua_proposer]
    assert second.kind == Proposal.Kind.COSIGNED
    assert "关于乙的建议" in response.content.decode()
    assert not imported(world).exists()


def test_confirming_imports_every_row_with_its_events_waiting_for_review(staff, world):
    data = workbook_bytes(
        [
            proposal_row("关于甲的建议", 提出时间="2026-01-05"),
            proposal_row("关于乙的建议", first="李四", 附议人="张华", 同意公开="否：涉及个人信息"),
        ]
    )
    token = upload(staff, world, data).token
    response = staff.post(reverse("proposals:import_confirm", args=[token]))
    assert response.status_code == 302
    first, second = imported(world).order_by("id")
    assert first.state == second.state == State.SUBMITTED
    assert first.on_paper and first.created_by == world.tiwei
    assert first.submitted_at.date().isoformat() == "2026-01-05"
    assert list(first.suggested_units.all()) == [world.kjj_unit]
    assert first.number is None
    assert [(e.proposer.name, e.position) for e in second.proposer_list.all()] == [
        ("李四", 0),
        ("张华", 1),
    ]
    assert second.kind == Proposal.Kind.COSIGNED
    assert not second.consent_to_publish and second.no_publish_reason == "涉及个人信息"
    verbs = list(Event.objects.filter(proposal=first).values_list("verb", flat=True))
    assert verbs == ["created", "imported", "submitted"]
    done = staff.get(response.url)
    assert "2" in done.content.decode()


def test_the_committee_may_accept_them_at_once_numbered_in_row_order(staff, world):
    data = workbook_bytes([proposal_row(f"关于第{i}件事的建议") for i in range(3)])
    token = upload(staff, world, data, accept=True).token
    staff.post(reverse("proposals:import_confirm", args=[token]))
    rows = imported(world).order_by("id")
    # Proposal 069 is in the session already: the file continues from there.
    assert [(p.title, p.number, p.state) for p in rows] == [
        ("关于第0件事的建议", 70, State.ACCEPTED),
        ("关于第1件事的建议", 71, State.ACCEPTED),
        ("关于第2件事的建议", 72, State.ACCEPTED),
    ]
    assert Event.objects.filter(proposal__in=rows, verb="accepted").count() == 3


def test_every_problem_is_named_by_row_and_column_and_nothing_is_saved(staff, world):
    data = workbook_bytes(
        [
            proposal_row("关于甲的建议"),
            proposal_row("关于乙的建议", first="王五", 建议承办单位="区交通局"),
            proposal_row("关于丙的建议", 理由="", 同意公开="否"),
            proposal_row("关于丁的建议", 提案类型="联名提案", 类别="不存在的类别"),
            proposal_row("关于戊的建议", 办法和建议="=1+1", 提出时间="明年"),
        ]
    )
    token = upload(staff, world, data).token
    response = staff.get(reverse("proposals:import_preview", args=[token]))
    result = response.context["preview"]
    assert not result.ok
    errors = {(row.number, key) for row in result.rows for key in row.errors}
    assert errors == {
        (3, "first_proposer"),
        (3, "units"),
        (4, "reasons"),
        (4, "consent"),
        (5, "kind"),
        (5, "category"),
        (6, "suggestions"),
        (6, "submitted_on"),
    }
    assert result.unmatched_proposers == ["王五"]
    assert result.unmatched_units == ["区交通局"]
    page = response.content.decode()
    assert "B3" in page and "王五" in page
    assert 'id="import-confirm"' not in page

    response = staff.post(reverse("proposals:import_confirm", args=[token]))
    assert not imported(world).exists()
    assert not Event.objects.filter(verb="imported").exists()


def make_sheet_of(count):
    book = Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(HEADERS)
    row = proposal_row()
    for _i in range(count):
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def word_document():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


def merged_header(sheet):
    sheet.merge_cells("A1:B1")


def formula_in_a_cell(sheet):
    sheet["F2"] = "=CONCATENATE(A2,B2)"


MALFORMED = {
    "not_xlsx": (lambda: "案由,第一提案人\n关于甲的建议,张华\n".encode(), "not an Excel .xlsx"),
    "word_document": (lambda: word_document(), "not an Excel .xlsx"),
    "broken_zip": (lambda: b"PK\x03\x04" + b"\0" * 200, "not an Excel .xlsx"),
    "macros": (
        lambda: with_member(workbook_bytes([proposal_row()]), "xl/vbaProject.bin", b"\0" * 100),
        "macros",
    ),
    "zip_bomb": (lambda: zip_bomb(workbook_bytes([proposal_row()])), "unpacks to far more"),
    "merged_header": (
        lambda: workbook_bytes([proposal_row()], edit=merged_header),
        "header row has merged cells (A1:B1)",
    ),
    "missing_column": (
        lambda: workbook_bytes([proposal_row()[:5]], headers=HEADERS[:5]),
        "lacks the columns",
    ),
    "empty": (lambda: workbook_bytes([]), "no proposals below its header row"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_a_malformed_file_gets_a_clear_message_and_saves_nothing(staff, world, case):
    make, message = MALFORMED[case]
    token = upload(staff, world, make()).token
    response = staff.get(reverse("proposals:import_preview", args=[token]))
    assert response.status_code == 200
    result = response.context["preview"]
    assert any(message in error for error in result.file_errors), result.file_errors
    assert 'id="import-confirm"' not in response.content.decode()
    staff.post(reverse("proposals:import_confirm", args=[token]))
    assert not imported(world).exists()


def test_a_formula_is_refused_in_its_cell(world):
    result = preview(world, workbook_bytes([proposal_row()], edit=formula_in_a_cell))
    assert result.rows[0].errors == {
        "reasons": ["Formulas are not imported: please type the value itself."]
    }


def test_a_sheet_of_100000_rows_is_refused_without_reading_them_all(world):
    data = make_sheet_of(100_000)
    # CPU time, not the wall clock: the machine may be busy with others' work.
    started = time.process_time()
    result = preview(world, data)
    assert time.process_time() - started < 10
    assert result.file_errors == [
        "The sheet has more than 5000 rows; please split it into several files."
    ]
    assert result.rows == []


def test_a_file_with_too_much_declared_data_is_refused(world, monkeypatch):
    monkeypatch.setattr("core.spreadsheets.MAX_UNCOMPRESSED_BYTES", 1000)
    result = preview(world, workbook_bytes([proposal_row()]))
    assert "unpacks to far more" in result.file_errors[0]


def test_a_row_repeated_in_the_file_or_already_in_the_session_is_a_problem(world):
    rows = [
        proposal_row("关于甲的建议"),
        proposal_row("关于甲的建议"),
        proposal_row(world.proposal.title),
    ]
    result = preview(world, workbook_bytes(rows))
    assert [r.errors.get("title") for r in result.rows] == [
        None,
        ["Same title and first proposer as row 2."],
        ["This first proposer already has a proposal of this title in the session."],
    ]


def test_a_name_shared_by_two_proposers_is_not_guessed(world):
    Proposer.objects.create(name="张华")
    result = preview(world, workbook_bytes([proposal_row()]))
    assert "Several proposers" in result.rows[0].errors["first_proposer"][0]


def test_confirming_twice_imports_once(staff, world):
    token = upload(staff, world, workbook_bytes([proposal_row()])).token
    staff.post(reverse("proposals:import_confirm", args=[token]))
    staff.post(reverse("proposals:import_confirm", args=[token]))
    assert imported(world).count() == 1


def test_a_refusal_in_the_middle_undoes_every_row(staff, world, monkeypatch):
    from proposals.services import registration

    real_tell = registration._tell_accepted
    calls = []

    def tell(proposals, items):
        calls.append(len(proposals))
        if len(calls) == 2:
            raise Refused("boom")
        return real_tell(proposals, items)

    # Two rows a batch: the second batch fails after the first was written.
    monkeypatch.setattr(registration, "BATCH_SIZE", 2)
    monkeypatch.setattr(registration, "_tell_accepted", tell)
    data = workbook_bytes([proposal_row(f"关于第{i}件事的建议") for i in range(5)])
    token = upload(staff, world, data, accept=True).token
    response = staff.post(reverse("proposals:import_confirm", args=[token]))
    assert response.status_code == 302
    assert calls == [2, 2]
    assert not imported(world).exists()
    assert not Event.objects.filter(verb="imported").exists()
    assert SpreadsheetImport.objects.get(token=token).status == "previewed"


def test_only_committee_staff_import(client, world):
    client.force_login(world.kjj)
    assert client.get(reverse("proposals:import_upload")).status_code == 403
    assert client.get(reverse("proposals:import_template")).status_code == 403


def test_another_users_upload_is_not_found(staff, client, world):
    token = upload(staff, world, workbook_bytes([proposal_row()])).token
    other = type(world.tiwei).objects.create(username="tiwei2", is_committee_staff=True)
    client.force_login(other)
    assert client.get(reverse("proposals:import_preview", args=[token])).status_code == 404
    assert client.post(reverse("proposals:import_confirm", args=[token])).status_code == 404
    assert not imported(world).exists()


def test_confirm_is_post_only(staff, world):
    token = upload(staff, world, workbook_bytes([proposal_row()])).token
    assert staff.get(reverse("proposals:import_confirm", args=[token])).status_code == 405


def test_the_progress_reports_the_rows_saved(staff, world):
    token = upload(staff, world, workbook_bytes([proposal_row()])).token
    url = reverse("proposals:import_progress", args=[token])
    assert staff.get(url).json() == {"done": 0, "total": None, "finished": False}
    staff.post(reverse("proposals:import_confirm", args=[token]))
    assert staff.get(url).json() == {"done": 1, "total": 1, "finished": True}


def test_the_progress_is_kept_in_the_shared_cache_not_on_local_disk(
    staff, world, monkeypatch, settings, tmp_path
):
    """Another app server answers the poll: the progress is in the cache all servers share."""
    from django.core.cache import cache

    from proposals.views import imports as views

    settings.MEDIA_ROOT = str(tmp_path)
    token = upload(staff, world, workbook_bytes([proposal_row(f"关于{i}的建议") for i in range(3)]))
    token = token.token
    seen = []

    def write(token_, done, total):
        real_write(token_, done, total)
        # What a poll answered by any server reads while the import runs.
        seen.append(cache.get(views.PROGRESS_KEY.format(token=token_)))

    real_write = views.write_progress
    monkeypatch.setattr(views, "write_progress", write)
    monkeypatch.setattr("proposals.services.registration.BATCH_SIZE", 2)
    staff.post(reverse("proposals:import_confirm", args=[token]))
    assert seen == [{"done": 2, "total": 3}, {"done": 3, "total": 3}]
    assert cache.get(views.PROGRESS_KEY.format(token=token)) is None
    assert not any(tmp_path.rglob("*.json"))


def test_the_progress_page_reads_the_cache(staff, world):
    from django.core.cache import cache

    from proposals.views import imports as views

    token = upload(staff, world, workbook_bytes([proposal_row()])).token
    cache.set(views.PROGRESS_KEY.format(token=token), {"done": 250, "total": 2000})
    url = reverse("proposals:import_progress", args=[token])
    assert staff.get(url).json() == {"done": 250, "total": 2000, "finished": False}


def test_proposers_are_told_when_their_imported_proposals_are_accepted(staff, world):
    from accounts.models import Notification

    data = workbook_bytes([proposal_row(f"关于第{i}件事的建议") for i in range(2)])
    token = upload(staff, world, data, accept=True).token
    staff.post(reverse("proposals:import_confirm", args=[token]))
    notes = Notification.objects.filter(recipient=world.zhanghua, verb="accepted")
    assert sorted(n.message for n in notes) == [
        "Your proposal “关于第0件事的建议” was accepted as 第070号.",
        "Your proposal “关于第1件事的建议” was accepted as 第071号.",
    ]


def test_the_rows_are_saved_in_batches_not_one_by_one(world):
    """A hundred rows take a few dozen writes, not several a row (row by row: 1,500)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(count, start):
        data = workbook_bytes([proposal_row(f"关于第{start + i}件事的建议") for i in range(count)])
        with CaptureQueriesContext(connection) as context:
            saved = imports.import_proposals(
                data,
                world.tiwei,
                session=world.session,
                period="plenary",
                accept_at_once=True,
                file_name="x.xlsx",
            )
        assert len(saved) == count
        writes = [q for q in context.captured_queries if not q["sql"].startswith("SELECT")]
        return len(writes)

    # SQLite splits a bulk insert at its variable limit; PostgreSQL does not.
    assert queries_for(100, 0) < 40
    assert Event.objects.filter(verb="imported").count() == 100


@pytest.mark.skipif(not os.environ.get("TIAN_PERF"), reason="timing: set TIAN_PERF=1 to run")
def test_2000_rows_import_in_under_30_seconds(world):
    data = workbook_bytes([proposal_row(f"关于第{i}件事的建议") for i in range(2000)])
    started, cpu = time.monotonic(), time.process_time()
    saved = imports.import_proposals(
        data,
        world.tiwei,
        session=world.session,
        period="plenary",
        accept_at_once=True,
        file_name="2000.xlsx",
    )
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu
    print(f"2,000 rows imported in {elapsed:.1f} s ({cpu:.1f} s CPU)")
    assert len(saved) == 2000
    assert saved[-1].number == 69 + 2000
    assert elapsed < 30, elapsed
