import pytest
from django.core.management import call_command

from .conftest import log_in


@pytest.fixture
def demo(transactional_db):
    call_command("load_demo", "--force", verbosity=0)


def test_kjj_sees_proposal_069_in_the_workspace(demo, live_server, page):
    log_in(page, live_server, "kjj")
    assert page.url.startswith(f"{live_server.url}/work/")
    row = page.locator("table.list tr", has_text="关于加快创建国家级高新区的建议")
    assert row.count() == 1
    assert "第069号" in row.inner_text()


def test_a_visitor_reads_the_069_reply_on_the_public_site(demo, live_server, page):
    page.goto(f"{live_server.url}/")
    page.click("text=第069号提案的答复函")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("重庆市梁平区科学技术局关于")
    assert heading.endswith("第069号提案的答复函")
    assert "张华委员" in page.content()
