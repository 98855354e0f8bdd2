"""The whole receipt loop on a phone: dissatisfied, re-handled, satisfied, closed."""

import pytest
from django.core.cache import cache
from django.utils import timezone

from accounts.models import Notification
from proposals import services as proposal_services
from proposals.models import Assignment, Proposal, ProposalProposer
from replies import services as reply_services

from ..conftest import contact
from ..test_closing import mount_closing_urls
from .conftest import log_in

TITLE = "关于建设梁平区科技企业孵化器的建议"
NO_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


@pytest.fixture(autouse=True)
def setup(settings):
    mount_closing_urls(settings)
    cache.clear()  # the receipt rate limit
    yield
    cache.clear()


def fresh_proposal_with_a_sent_reply(w):
    """张华's proposal, through review, assignment and handling to a sent reply letter."""
    proposal = Proposal.objects.create(
        session=w.session,
        title=TITLE,
        reasons="我区科技型中小企业缺少孵化场地。",
        suggestions="建议由区科技局牵头建设孵化器。",
        category=w.category,
        created_by=w.zhanghua,
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=w.zhanghua_proposer, position=0)
    proposal_services.submit(proposal, w.zhanghua)
    proposal_services.accept(proposal, w.tiwei)
    proposal_services.assign(
        proposal, w.tiwei, Proposal.HandlingMode.JOINT, lead=w.kjj_unit, co_units=[w.jxw_unit]
    )
    lead = Assignment.objects.get(proposal=proposal, role=Assignment.Role.LEAD)
    proposal_services.acknowledge(lead, w.kjj)
    reply(w, lead, "一、基本情况\n区科技局已完成孵化器选址。")
    return proposal


def reply(w, assignment, body):
    letter = reply_services.start_draft(assignment, w.kjj)
    reply_services.save_draft(letter, w.kjj, body=letter.body + "\n" + body, result_class="B")
    contact(assignment, w.kjj)
    reply_services.submit_for_signoff(letter, w.kjj, outstanding_reason="协办单位已电话反馈意见")
    reply_services.sign(letter, w.kjj_leader)
    return reply_services.send(letter, w.kjj)


def latest_link(w):
    """The link in 张华's newest "reply received" notification."""
    note = Notification.objects.filter(recipient=w.zhanghua, verb="reply_received").first()
    return note.url


def assert_fits_the_phone(phone):
    assert phone.evaluate("window.innerWidth") == 375
    assert phone.evaluate(NO_SCROLL), phone.evaluate("document.documentElement.scrollWidth")


def answer(phone, contacted, attitude, result, opinion=""):
    phone.check(f"input[name=contacted][value={contacted}]")
    if contacted == "yes":
        phone.check("input[name=contact_method][value=phone]")
        phone.check("input[name=leader_took_part][value=no]")
    phone.check(f"input[name=attitude][value={attitude}]")
    phone.check(f"input[name=result][value={result}]")
    if opinion:
        phone.fill("textarea[name=opinion]", opinion)
    phone.click("button.submit")


def test_a_dissatisfied_receipt_leads_to_a_second_round_and_closing(
    live_world, live_server, phone, page
):
    w = live_world
    proposal = fresh_proposal_with_a_sent_reply(w)

    # 张华 opens the link of the reply on the phone and reads the letter.
    phone.goto(live_server.url + latest_link(w))
    assert phone.locator("h2.letter-title").is_visible()
    assert TITLE in phone.locator("p.proposal-line").inner_text()
    assert phone.locator("p.heading", has_text="一、基本情况").is_visible()
    assert phone.locator("p.para", has_text="区科技局已完成孵化器选址。").is_visible()
    assert_fits_the_phone(phone)
    # Big touch targets, readable text.
    for selector in ("label.choice", "button.submit", "details.letter > summary"):
        box = phone.locator(selector).first.bounding_box()
        assert box["height"] >= 44, selector
    assert phone.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 16
    assert (
        phone.evaluate("parseFloat(getComputedStyle(document.querySelector('textarea')).fontSize)")
        >= 16
    )
    # The letter folds away on a small screen.
    phone.click("details.letter > summary")
    assert not phone.locator("p.heading", has_text="一、基本情况").is_visible()

    # Dissatisfied without an opinion: the error sits by the field, the choices stay.
    answer(phone, "yes", "basically", "dissatisfied")
    assert phone.locator("#q-opinion .error").is_visible()
    assert phone.is_checked("input[name=result][value=dissatisfied]")
    assert_fits_the_phone(phone)
    phone.fill("textarea[name=opinion]", "孵化器建设没有明确时间表。")
    phone.click("button.submit")
    assert "孵化器建设没有明确时间表。" in phone.locator("dl.receipt-summary").inner_text()
    assert phone.locator("form.receipt-form").count() == 0
    assert_fits_the_phone(phone)

    # The committee orders re-handling in its queue (on a desktop).
    log_in(page, live_server, "tiwei")
    page.goto(f"{live_server.url}/work/closing/")
    row = page.locator(f"#proposal-{proposal.pk}")
    assert "孵化器建设没有明确时间表。" in row.inner_text()
    row.locator("form.rehandle-form textarea[name=comment]").fill(
        "请明确孵化器建设时间表后再次答复。"
    )
    row.locator("form.rehandle-form button[type=submit]").click()
    page.wait_for_url(f"{live_server.url}/work/closing/")
    proposal.refresh_from_db()
    assert (proposal.state, proposal.current_round) == (Proposal.State.HANDLING, 2)

    # The unit replies in round 2.
    second = Assignment.objects.get(proposal=proposal, round=2, role=Assignment.Role.LEAD)
    assert second.unit == w.kjj_unit
    letter2 = reply(w, second, "一、再次办理情况\n孵化器将于明年6月建成投用。")
    assert letter2.round == 2

    # 张华 opens the new link and is satisfied.
    link2 = latest_link(w)
    phone.goto(live_server.url + link2)
    assert phone.locator("p.para", has_text="孵化器将于明年6月建成投用。").is_visible()
    answer(phone, "no", "satisfied", "satisfied")
    assert phone.locator("dl.receipt-summary .rating.satisfied").count() == 2
    assert_fits_the_phone(phone)

    # The committee closes it.
    page.goto(f"{live_server.url}/work/closing/")
    page.check(f"input[name=proposals][value='{proposal.pk}']")
    page.click("form.bulk-close .sticky-actions button[type=submit]")
    page.wait_for_url(f"{live_server.url}/work/closing/")
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.CLOSED
    assert proposal.closed_at <= timezone.now()
    closed_row = page.locator(f"#closed-{proposal.pk}")
    assert closed_row.locator(".rating.satisfied").count() == 2

    # The first link still shows the round-1 answer, read-only.
    phone.goto(
        live_server.url
        + Notification.objects.filter(recipient=w.zhanghua, verb="reply_received").last().url
    )
    assert phone.locator(".rating.dissatisfied").count() == 1
    assert phone.locator("form.receipt-form").count() == 0
