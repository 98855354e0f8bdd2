"""Committee staff import a 50-row sheet: a bad row is shown by cell, fixed, then all 50 saved."""

import re

from proposals.models import Proposal

from ..xlsx import proposal_row, workbook_bytes
from .conftest import log_in

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def sheet(first_of_row_2):
    rows = [proposal_row(f"关于第{i}件事的建议") for i in range(50)]
    rows[0] = proposal_row("关于第0件事的建议", first=first_of_row_2)
    return workbook_bytes(rows)


def upload(page, base, data):
    page.goto(f"{base}/work/proposals/import/")
    page.set_input_files(
        "input[name=file]",
        files=[{"name": "第一次会议提案.xlsx", "mimeType": XLSX, "buffer": data}],
    )
    page.get_by_role("button", name=re.compile("上传并预览|Upload and preview")).click()
    page.wait_for_url(re.compile(r"/work/proposals/import/[\w-]+/$"))


def test_staff_fix_a_bad_row_then_import_the_whole_sheet(live_world, live_server, page):
    base = live_server.url
    log_in(page, live_server, "tiwei")

    upload(page, base, sheet("王五"))
    row = page.locator("#row-2")
    assert "B2" in row.inner_text() and "王五" in row.inner_text()
    assert "王五" in page.locator("#row-errors").inner_text()
    assert page.locator("#import-confirm").count() == 0
    assert not Proposal.objects.filter(title="关于第0件事的建议").exists()

    upload(page, base, sheet("张华"))
    assert page.locator("tr.has-error").count() == 0
    assert page.locator("table.import-preview tbody tr").count() == 50
    page.get_by_role("button", name=re.compile("^(导入|Import)$")).click()
    page.wait_for_url(re.compile(r"/done/$"))
    assert "50" in page.locator("#import-result").inner_text()
    imported = Proposal.objects.filter(title__startswith="关于第", title__endswith="件事的建议")
    assert imported.count() == 50
    assert set(imported.values_list("state", flat=True)) == {Proposal.State.SUBMITTED}
