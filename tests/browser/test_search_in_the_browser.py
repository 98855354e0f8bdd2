"""Search in the browser: a visitor on the public column, staff in the workspace."""

import pytest
from django.core.management import call_command

from .conftest import log_in


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", "--force", verbosity=0)


def test_a_visitor_searches_the_column_and_opens_069(demo, live_server, page):
    page.goto(f"{live_server.url}/")
    page.fill("#site-search-q", "高新区 创建")
    page.press("#site-search-q", "Enter")
    page.wait_for_url(f"{live_server.url}/search/**")
    results = page.locator(".search-results li")
    assert results.count() >= 1
    first = results.first
    assert first.locator("mark").count() >= 1
    first.locator("a.result-title").click()
    heading = page.locator("h1").inner_text()
    assert heading.endswith("第069号提案的答复函")


def test_staff_search_a_proposers_name_and_a_number(demo, live_server, page):
    log_in(page, live_server, "tiwei")
    page.goto(f"{live_server.url}/work/")
    page.fill("input[name=q]", "张华")
    page.click("form.filters button[type=submit]")
    row = page.locator("table.list tr", has_text="关于加快创建国家级高新区的建议")
    assert row.count() == 1
    page.fill("input[name=q]", "第69号")
    page.click("form.filters button[type=submit]")
    rows = page.locator("table.list tbody tr")
    assert "第069号" in rows.first.inner_text()
    page.fill("input[name=q]", "069")
    page.click("form.filters button[type=submit]")
    assert "第069号" in page.locator("table.list tbody tr").first.inner_text()
