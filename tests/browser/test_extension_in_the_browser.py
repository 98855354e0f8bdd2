"""延期 in the browser: a unit's handler asks for a later reply deadline with a reason, the
committee staff approve it with a date of their own, and the unit sees that date in its inbox
and on the proposal page.

Buttons and fields are found by name, form and URL, never by their text: the catalog may
still be English or already Chinese.
"""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from proposals.models import Assignment, Event, ExtensionRequest

from .conftest import log_in

REASON = "需协调市级部门统筹资金，调研尚未完成"


@pytest.fixture
def open_as(browser, live_server):
    """A logged-in page for a user, in a browser context of their own."""
    contexts = []

    def open_page(username):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        log_in(page, live_server, username)
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_a_unit_asks_for_an_extension_and_sees_the_date_the_committee_granted(
    live_world, live_server, open_as
):
    world = live_world
    lead = world.lead
    today = timezone.localdate()
    before = lead.reply_due
    wished = today + datetime.timedelta(days=120)
    granted = today + datetime.timedelta(days=110)
    inbox = live_server.url + reverse("proposals:inbox")
    ask = reverse("proposals:request_extension", args=[lead.pk])

    # 1. 区科技局's handler asks from the inbox row, with a reason and the date wished.
    kjj = open_as("kjj")
    kjj.goto(inbox)
    row = kjj.locator(f"tr[data-assignment='{lead.pk}']").first
    expect(row).to_contain_text(before.isoformat())
    row.locator(f"a[href^='{ask}']").click()
    kjj.wait_for_selector("input[name=wished_due]")
    assert ask in kjj.url
    kjj.fill("input[name=wished_due]", wished.isoformat())
    kjj.fill("textarea[name=reason]", REASON)
    kjj.locator("form:has(textarea[name=reason]) button[type=submit]").click()
    kjj.wait_for_url(inbox)
    request = ExtensionRequest.objects.get(assignment=lead)
    assert request.status == ExtensionRequest.Status.REQUESTED
    assert (request.wished_due, request.reason, request.requested_by) == (wished, REASON, world.kjj)
    # The row says the request waits; no second request is offered.
    row = kjj.locator(f"tr[data-assignment='{lead.pk}']").first
    expect(row.locator(f"a[href^='{ask}']")).to_have_count(0)

    # 2. The committee staff see the request with its reason and approve an earlier date.
    tiwei = open_as("tiwei")
    tiwei.goto(live_server.url + reverse("proposals:extension_requests"))
    card = tiwei.locator(f"#extension-{request.pk}")
    expect(card).to_contain_text(REASON)
    expect(card).to_contain_text(wished.isoformat())
    form = card.locator("form.extension-decision")
    form.locator("input[name=decision][value=approve]").check()
    form.locator("input[name=new_due]").fill(granted.isoformat())
    form.locator("input[name=comment]").fill("同意延期，请按期办复")
    form.locator("button[type=submit]").click()
    tiwei.wait_for_url(live_server.url + reverse("proposals:extension_requests"))
    expect(tiwei.locator(f"#extension-{request.pk}")).to_have_count(0)

    lead = Assignment.objects.get(pk=lead.pk)
    assert lead.extended_due == granted and lead.due == granted
    assert lead.reply_due == before  # the original stays on record
    assert Event.objects.filter(proposal=lead.proposal, verb="extension_approved").exists()

    # 3. The unit sees the new date in its inbox (marked extended) and on the proposal page.
    kjj.goto(inbox)
    row = kjj.locator(f"tr[data-assignment='{lead.pk}']").first
    expect(row).to_contain_text(granted.isoformat())
    expect(row).not_to_contain_text(before.isoformat())
    kjj.goto(live_server.url + lead.proposal.get_absolute_url())
    assignment = kjj.locator(f"li.assignment[data-assignment='{lead.pk}']")
    expect(assignment.locator(f"time[datetime='{granted.isoformat()}']").first).to_be_visible()
    expect(kjj.locator("body")).to_contain_text("同意延期，请按期办复")
