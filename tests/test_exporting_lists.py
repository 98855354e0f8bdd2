"""Staff download their lists as .xlsx, with the page's filters, Chinese headers and plain dates."""

import datetime
import io
import os
import re
import time
import tracemalloc

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from proposals.exports import PROPOSAL_HEADERS
from proposals.models import Proposal, ProposalProposer

from .xlsx import rows_of

State = Proposal.State


@pytest.fixture
def staff(world, client):
    client.force_login(world.tiwei)
    return client


def download(client, url):
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return rows_of(b"".join(response.streaming_content))


def make_proposals(world, count, state=State.SUBMITTED, title="关于第{i}件事的建议"):
    submitted = timezone.make_aware(datetime.datetime(2022, 7, 20, 10, 30))
    proposals = Proposal.objects.bulk_create(
        (
            Proposal(
                session=world.session,
                title=title.format(i=i),
                reasons="理由",
                suggestions="建议",
                category=world.category,
                state=state,
                submitted_at=submitted,
            )
            for i in range(count)
        ),
        batch_size=5000,
    )
    ProposalProposer.objects.bulk_create(
        (ProposalProposer(proposal=p, proposer=world.zhanghua_proposer) for p in proposals),
        batch_size=5000,
    )
    return proposals


def test_the_workspace_downloads_with_its_filters_chinese_headers_and_dates(staff, world):
    make_proposals(world, 2)
    rows = download(staff, reverse("proposals:export") + "?state=handling")
    assert rows[0] == PROPOSAL_HEADERS
    assert len(rows) == 2
    number, title, first, kind, category, session, *_rest = rows[1]
    assert (number, title, first, category) == ("第069号", world.proposal.title, "张华", "经济建设")
    assert session == "第十五届委员会第一次会议"
    # Lead unit and its reply deadline, as the page shows them.
    assert rows[1][8] == "区科技局"
    assert rows[1][9] == world.lead.reply_due.isoformat()

    rows = download(staff, reverse("proposals:export") + "?state=submitted")
    assert len(rows) == 3
    assert rows[1][10] == "2022-07-20"


def test_the_page_links_its_download_with_the_same_filters(staff, world):
    page = staff.get(reverse("workspace") + "?state=handling&q=高新区")
    assert reverse("proposals:export") + "?state=handling&amp;q=" in page.content.decode()


def test_a_title_that_looks_like_a_formula_stays_text(staff, world):
    make_proposals(world, 1, title='=HYPERLINK("http://example.com")')
    rows = download(staff, reverse("proposals:export") + "?state=submitted")
    assert rows[1][1] == '=HYPERLINK("http://example.com")'
    response = staff.get(reverse("proposals:export") + "?state=submitted")
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert book.active["B2"].data_type == "s"


def test_the_review_queue_downloads(staff, world):
    make_proposals(world, 3)
    rows = download(staff, reverse("proposals:review_queue_export"))
    assert len(rows) == 4
    assert {row[7] for row in rows[1:]} == {str(Proposal.State.SUBMITTED.label)}


def test_a_proposer_without_a_unit_may_not_download(client, world):
    client.force_login(world.zhanghua)
    assert client.get(reverse("proposals:export")).status_code == 403
    assert client.get(reverse("proposals:review_queue_export")).status_code == 403


def test_a_unit_downloads_only_what_it_sees(client, world):
    make_proposals(world, 3)
    client.force_login(world.outsider)
    rows = download(client, reverse("proposals:export"))
    assert rows == [PROPOSAL_HEADERS]


def test_the_download_costs_the_same_queries_for_few_rows_and_many(staff, world):
    make_proposals(world, 3)
    with CaptureQueriesContext(connection) as few:
        download(staff, reverse("proposals:export"))
    make_proposals(world, 300)
    with CaptureQueriesContext(connection) as many:
        rows = download(staff, reverse("proposals:export"))
    assert len(rows) == 305
    assert len(many) == len(few)


def peak_memory_of_download(client, url):
    tracemalloc.start()
    response = client.get(url)
    for _chunk in response.streaming_content:
        pass
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def test_the_download_does_not_hold_its_rows_in_memory(staff, world):
    url = reverse("proposals:export")
    make_proposals(world, 1000)
    small = peak_memory_of_download(staff, url)
    make_proposals(world, 4000)
    large = peak_memory_of_download(staff, url)
    # The rows pass through to the file; what stays is openpyxl's table of distinct
    # strings (here a title a row): well under a kilobyte a row, where model instances
    # would be several.
    assert (large - small) / 4000 < 1000, (small, large)


@pytest.mark.skipif(not os.environ.get("TIAN_PERF"), reason="timing: set TIAN_PERF=1 to run")
def test_100000_rows_download_in_under_20_seconds(staff, world):
    make_proposals(world, 100_000)
    started = time.monotonic()
    response = staff.get(reverse("proposals:export"))
    size = sum(len(chunk) for chunk in response.streaming_content)
    elapsed = time.monotonic() - started
    peak = peak_memory_of_download(staff, reverse("proposals:export"))
    print(f"100,000 rows: {elapsed:.1f} s, file {size / 1e6:.1f} MB, peak {peak / 1e6:.1f} MB")
    assert elapsed < 20


def test_the_receipts_download_one_row_a_receipt_with_the_pages_filters(staff, world):
    from replies.models import Receipt

    from .test_closing import replied

    replied(world, 91, rating=Receipt.Rating.SATISFIED)
    replied(world, 92, rating=Receipt.Rating.DISSATISFIED)
    replied(world, 93)
    url = reverse("closing:receipts_export")
    rows = download(staff, url + "?session=&show=")
    assert rows[0][:3] == ["提案号", "案由", "承办单位"]
    assert sorted(row[0] for row in rows[1:]) == ["第091号", "第092号", "第093号"]
    rows = download(staff, url + "?session=&show=dissatisfied")
    assert [row[0] for row in rows[1:]] == ["第092号"]
    assert rows[1][6] == "已反馈"
    assert rows[1][8] == str(Receipt.Rating.DISSATISFIED.label)
    # The sending date, as a date.
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", rows[1][4])
    page = staff.get(reverse("closing:receipts") + "?session=&show=missing")
    assert url + "?session=&amp;show=missing" in page.content.decode()


def test_a_proposer_may_not_download_the_receipts(client, world):
    client.force_login(world.zhanghua)
    assert client.get(reverse("closing:receipts_export")).status_code == 403


def test_a_unit_downloads_its_inbox_with_deadlines(client, world):
    client.force_login(world.kjj)
    rows = download(client, reverse("proposals:inbox_export"))
    assert rows[0][:4] == ["提案号", "案由", "承办单位", "承办方式"]
    assert [row[:3] for row in rows[1:]] == [["第069号", world.proposal.title, "区科技局"]]
    assert rows[1][6] == world.lead.reply_due.isoformat()
    client.force_login(world.zhanghua)
    assert client.get(reverse("proposals:inbox_export")).status_code == 403


def test_the_closing_queue_downloads_where_each_proposal_stands(staff, world):
    from replies.models import Receipt

    from .test_closing import replied

    replied(world, 91, rating=Receipt.Rating.SATISFIED)
    replied(world, 92, rating=Receipt.Rating.DISSATISFIED)
    replied(world, 93)
    rows = download(staff, reverse("closing:queue_export"))
    assert rows[0][0] == "提案号"
    assert [(row[0], row[3], row[8]) for row in rows[1:]] == [
        ("第091号", "区科技局", "可以办结"),
        ("第092号", "区科技局", "待决定重新办理或办结"),
        ("第093号", "区科技局", "等待回执"),
    ]
    assert rows[3][6] == "张华"
    client = staff
    client.force_login(world.kjj)
    assert client.get(reverse("closing:queue_export")).status_code == 403
