"""The seed's path end to end in the browser: draft, send back, revise, sign, send, publish, read."""

import datetime
import re

import pytest
from django.utils import timezone

from proposals.models import Assignment, Proposal, ProposalProposer
from replies.models import ReplyLetter

from .conftest import log_in

TITLE = "关于支持科技型企业知识价值信用贷款的建议"


@pytest.fixture
def fresh_proposal(live_world):
    """A proposal in handling at 区科技局 (单办), by 张华."""
    w = live_world
    proposal = Proposal.objects.create(
        session=w.session,
        number=70,
        title=TITLE,
        reasons="理由",
        suggestions="建议",
        category=w.category,
        state=Proposal.State.HANDLING,
        handling_mode=Proposal.HandlingMode.SINGLE,
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=w.zhanghua_proposer)
    now = timezone.now()
    Assignment.objects.create(
        proposal=proposal,
        unit=w.kjj_unit,
        role=Assignment.Role.LEAD,
        assigned_at=now,
        acknowledged_at=now,
        reply_due=timezone.localdate() + datetime.timedelta(days=90),
    )
    # 区科技局 publishes its own replies, as on the district site.
    type(w.kjj_unit).objects.filter(pk=w.kjj_unit.pk).update(publishes_own_replies=True)
    return proposal


@pytest.fixture
def as_user(browser, live_server):
    contexts = []

    def open_as(username=None):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        if username:
            log_in(page, live_server, username)
        return page

    yield open_as
    for context in contexts:
        context.close()


def letter_of(proposal):
    return ReplyLetter.objects.get(assignment__proposal=proposal)


def test_a_reply_goes_from_draft_to_the_public_site(fresh_proposal, live_server, as_user):
    base = live_server.url
    kjj = as_user("kjj")

    # kjj records the meeting with 张华 from the proposal page, then drafts the reply there.
    kjj.goto(f"{base}/work/proposals/{fresh_proposal.pk}/")
    kjj.get_by_role("link", name=re.compile("记录沟通|Record a contact")).click()
    kjj.select_option("select[name=method]", "meeting")
    kjj.fill("textarea[name=summary]", "面商办理思路")
    kjj.get_by_role("button", name=re.compile("保存沟通记录|Save the contact")).click()
    kjj.wait_for_url(re.compile(rf"/work/proposals/{fresh_proposal.pk}/$"))
    kjj.get_by_role("button", name=re.compile("起草答复函|Draft the reply")).click()
    kjj.wait_for_url(re.compile(r"/work/replies/\d+/edit/"))
    body = kjj.locator("textarea[name=body]")
    assert body.input_value().startswith(f"你提出的《{TITLE}》（第070号提案）收悉")
    body.fill(body.input_value() + "一、总体情况\n区科技局高度重视。\n二、下一步工作\n继续推进。")
    kjj.check("input[name=result_class][value=B]")
    kjj.get_by_role("button", name=re.compile("保存草稿|Save the draft")).click()
    kjj.wait_for_url(re.compile(r"/work/replies/\d+/$"))
    kjj.get_by_role("button", name=re.compile("提交审签|Submit for sign-off")).first.click()
    letter = letter_of(fresh_proposal)
    assert letter.state == ReplyLetter.State.AWAITING_SIGNOFF

    # kjj_leader sends it back with a comment, from the sign-off queue on a phone.
    leader = as_user("kjj_leader")
    leader.set_viewport_size({"width": 375, "height": 740})
    leader.goto(f"{base}/work/replies/signoff/")
    leader.get_by_text(TITLE).first.click()
    leader.wait_for_url(re.compile(rf"/work/replies/{letter.pk}/signoff/"))
    leader.fill("textarea[name=comment]", "请补充知识价值信用贷款的具体数据")
    leader.get_by_role(
        "button", name=re.compile("按此意见退回|Send back with this comment")
    ).click()
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.DRAFT

    # kjj sees the comment, revises and resubmits.
    kjj.goto(f"{base}/work/replies/{letter.pk}/")
    assert "请补充知识价值信用贷款的具体数据" in kjj.content()
    kjj.goto(f"{base}/work/replies/{letter.pk}/edit/")
    body = kjj.locator("textarea[name=body]")
    body.fill(body.input_value() + "\n为159家科技型企业发放知识价值信用贷款2.6亿元。")
    kjj.get_by_role("button", name=re.compile("保存草稿|Save the draft")).click()
    kjj.wait_for_url(re.compile(r"/work/replies/\d+/$"))
    kjj.get_by_role("button", name=re.compile("提交审签|Submit for sign-off")).first.click()
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.AWAITING_SIGNOFF

    # kjj_leader sees what changed and signs.
    leader.goto(f"{base}/work/replies/{letter.pk}/signoff/")
    assert "2.6亿元" in leader.locator("ins").all_inner_texts()[-1]
    scroll_width = leader.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375
    leader.get_by_role("button", name=re.compile("^(审签|Sign)$")).click()
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.SIGNED
    assert letter.attestation == "此答复函已经区科技局主要领导审签。"

    # kjj sends it and publishes it.
    kjj.goto(f"{base}/work/replies/{letter.pk}/")
    kjj.get_by_role("button", name=re.compile("送达提案人|Send to the proposers")).click()
    kjj.get_by_role("button", name=re.compile("^(公开|Publish)$")).click()
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.PUBLISHED

    # The PDF downloads.
    response = kjj.request.get(f"{base}/work/replies/{letter.pk}/pdf/")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.body()[:5] == b"%PDF-"

    # An anonymous visitor reads it on the public site.
    visitor = as_user()
    visitor.goto(f"{base}/")
    visitor.get_by_text(letter.title).first.click()
    assert visitor.locator("h1").inner_text().endswith("第070号提案的答复函")
    text = visitor.content()
    assert "2.6亿元" in text
    assert "此答复函已经区科技局主要领导审签。" in text
    assert "13900000069" not in text
