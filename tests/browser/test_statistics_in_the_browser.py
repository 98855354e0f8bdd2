"""Committee staff open the statistics, switch session and download the workbook.

Links and controls are found by their name, id or data attribute, never by their text:
the catalog may still be English or already Chinese.
"""

import openpyxl
import pytest
from django.core.cache import cache
from django.urls import reverse

from proposals.models import Session

from ..test_receipt_services import send_reply
from .conftest import log_in


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_committee_staff_read_the_statistics_switch_session_and_download_them(
    live_world, live_server, page, tmp_path
):
    w = live_world
    send_reply(w, w.lead)  # proposal 069 replied: figures beyond zero
    earlier = Session.objects.create(term=w.term, number=2)
    log_in(page, live_server, "tiwei")
    page.click(f"a[href='{reverse('statistics:index')}']")
    page.wait_for_url(f"{live_server.url}{reverse('statistics:index')}")

    units = page.locator("table[data-table=units]")
    kjj = units.locator("tr", has=page.locator("th", has_text="区科技局"))
    assert kjj.locator("td[data-column=replied]").inner_text() == "1"
    assert kjj.locator("td[data-column=reply_rate]").inner_text() == "100.0%"
    assert page.locator("#chart-units svg rect.reply").count() >= 2
    assert page.locator("#chart-states svg rect").count() >= 2

    # Another session: nothing there yet.
    page.select_option("select[name=session]", str(earlier.pk))
    page.click("form.filters button[type=submit]")
    page.wait_for_url(f"**session={earlier.pk}*")
    assert page.locator("table[data-table=units] td[data-column=replied]").count() == 0

    # All sessions, and the workbook of what the page shows.
    page.select_option("select[name=session]", "")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**session=")
    received = page.locator(
        "table[data-table=sessions] tr.total td[data-column=received]"
    ).inner_text()
    with page.expect_download() as info:
        page.click("a[data-download=all]")
    path = tmp_path / "statistics.xlsx"
    info.value.save_as(path)
    assert info.value.suggested_filename.endswith(".xlsx")
    book = openpyxl.load_workbook(path)
    assert len(book.sheetnames) == 5
    # The sessions' sheet ends with the total; "received" is its first figure.
    *_sessions, total = book.worksheets[0].iter_rows(min_row=4, values_only=True)
    assert total[1] == int(received)
    # The units' sheet: assigned, acknowledged, replied.
    rows = {r[0]: r for r in book.worksheets[1].iter_rows(min_row=4, values_only=True)}
    assert rows["区科技局"][1:4] == (1, 1, 1)
