"""Receipts (回执), re-handling and closing: the services of stages 8–9."""

import datetime

import pytest
from django.core import mail, signing
from django.utils import timezone, translation

from accounts import sms
from accounts.models import Notification, Proposer
from core.workflow import Refused
from proposals import deadlines
from proposals import services as proposal_services
from proposals.models import Assignment, Event, Proposal, ProposalProposer
from replies import services
from replies import services as reply_services
from replies.models import Receipt, ReplyLetter

from .conftest import contact

Rating = Receipt.Rating
State = Proposal.State


# --- helpers shared by the receipt and closing tests ---------------------------------------------


def handling_proposal(world, number, title="关于完善社区养老服务的建议", proposers=None):
    """A proposal in handling by 区科技局 alone (单办), with its proposers."""
    now = timezone.now()
    proposal = Proposal.objects.create(
        session=world.session,
        number=number,
        title=title,
        reasons="理由",
        suggestions="建议",
        category=world.category,
        state=State.HANDLING,
        review_outcome=Proposal.ReviewOutcome.ACCEPT,
        handling_mode=Proposal.HandlingMode.SINGLE,
        submitted_at=now,
    )
    for position, proposer in enumerate(proposers or [world.zhanghua_proposer]):
        ProposalProposer.objects.create(proposal=proposal, proposer=proposer, position=position)
    Assignment.objects.create(
        proposal=proposal,
        unit=world.kjj_unit,
        role=Assignment.Role.LEAD,
        assigned_at=now,
        acknowledged_at=now,
        reply_due=timezone.localdate() + datetime.timedelta(days=90),
    )
    return proposal


def send_reply(world, assignment, body="一、总体情况\n区科技局已将创建工作纳入规划。"):
    """Draft, sign and send the unit's reply letter of the proposal's current round."""
    letter = services.start_draft(assignment, world.kjj)
    services.save_draft(letter, world.kjj, body=letter.body + body, result_class="B")
    contact(assignment, world.kjj)
    services.submit_for_signoff(letter, world.kjj, outstanding_reason="协办意见已电话反馈")
    services.sign(letter, world.kjj_leader)
    return services.send(letter, world.kjj)


def lead_of(proposal):
    proposal.refresh_from_db()
    return Assignment.objects.get(
        proposal=proposal, round=proposal.current_round, role=Assignment.Role.LEAD, is_active=True
    )


def receipt_of(letter, proposer):
    return Receipt.objects.get(letter=letter, proposer=proposer)


def rate(receipt, actor=None, attitude=Rating.SATISFIED, result=Rating.SATISFIED, **kwargs):
    kwargs.setdefault("contacted", True)
    kwargs.setdefault("contact_method", "meeting")
    kwargs.setdefault("leader_took_part", True)
    return services.submit_receipt(receipt, actor, attitude=attitude, result=result, **kwargs)


def refused(func, *args, match="", **kwargs):
    with pytest.raises(Refused) as info:
        func(*args, **kwargs)
    if match:
        assert match in " ".join(info.value.messages)


def with_tian(settings, **values):
    # A new dict: pytest-django restores the attribute, not a dict changed in place.
    settings.TIAN = {**settings.TIAN, **values}


@pytest.fixture(autouse=True)
def english():
    # Refusals are matched in the English msgids, whatever the catalog says.
    with translation.override("en"):
        yield


@pytest.fixture
def letter(world):
    """The reply to 069, sent to 张华 and the co-signer 李四."""
    ProposalProposer.objects.create(
        proposal=world.proposal, proposer=world.lisi_proposer, position=1
    )
    return send_reply(world, world.lead)


@pytest.fixture
def zhang(letter, world):
    return receipt_of(letter, world.zhanghua_proposer)


@pytest.fixture
def li(letter, world):
    return receipt_of(letter, world.lisi_proposer)


# --- the personal link -------------------------------------------------------------------------


def test_a_token_opens_its_own_receipt(zhang):
    opened = services.receipt_from_token(services.receipt_token(zhang))
    assert opened == zhang
    assert opened.proposer.name == "张华"
    assert services.receipt_url(zhang) == f"/r/{services.receipt_token(zhang)}/"


def test_every_proposer_gets_a_different_token_opening_only_their_receipt(zhang, li):
    token_zhang, token_li = services.receipt_token(zhang), services.receipt_token(li)
    assert token_zhang != token_li
    assert services.receipt_from_token(token_li) == li
    assert services.receipt_from_token(token_zhang) == zhang


def invalid(token):
    with pytest.raises(services.BadReceiptLink) as info:
        services.receipt_from_token(token)
    assert info.value.reason == "invalid"


def test_changing_any_one_character_of_a_token_makes_it_invalid(zhang):
    token = services.receipt_token(zhang)
    for i, ch in enumerate(token):
        invalid(token[:i] + ("A" if ch != "A" else "B") + token[i + 1 :])
    invalid(token[:-1])
    invalid(token + "x")
    invalid("")
    invalid("not-a-token")


def test_a_payload_pointing_at_another_receipt_needs_the_server_key(zhang, li, settings):
    forged = {"r": li.pk, "p": li.proposer_id}
    invalid(signing.dumps(forged, key="another-key", salt=services.RECEIPT_SALT))
    invalid(signing.dumps(forged, salt="another.salt"))
    # 张华's signature on 李四's payload.
    payload = signing.dumps(forged, salt=services.RECEIPT_SALT).rsplit(":", 1)[0]
    signature = services.receipt_token(zhang).rsplit(":", 1)[1]
    invalid(f"{payload}:{signature}")


def test_a_token_binds_the_receipt_to_its_proposer(zhang, li):
    # Even correctly signed, receipt and proposer must belong together.
    invalid(signing.dumps({"r": zhang.pk, "p": li.proposer_id}, salt=services.RECEIPT_SALT))
    invalid(signing.dumps({"r": zhang.pk}, salt=services.RECEIPT_SALT))
    invalid(signing.dumps([zhang.pk], salt=services.RECEIPT_SALT))


def test_a_link_expires_after_the_configured_days(zhang, settings):
    with_tian(settings, RECEIPT_LINK_DAYS=30)
    letter = zhang.letter
    letter.sent_at = timezone.now() - datetime.timedelta(days=29)
    letter.save(update_fields=["sent_at"])
    assert services.receipt_from_token(services.receipt_token(zhang)) == zhang
    letter.sent_at = timezone.now() - datetime.timedelta(days=31)
    letter.save(update_fields=["sent_at"])
    with pytest.raises(services.BadReceiptLink) as info:
        services.receipt_from_token(services.receipt_token(zhang))
    assert info.value.reason == "expired"
    assert services.receipt_link_expires_on(zhang) == timezone.localdate(
        letter.sent_at
    ) + datetime.timedelta(days=30)


def test_a_used_link_still_opens_after_expiry_to_show_what_was_submitted(zhang, settings):
    rate(zhang)
    with_tian(settings, RECEIPT_LINK_DAYS=1)
    ReplyLetter.objects.filter(pk=zhang.letter_id).update(
        sent_at=timezone.now() - datetime.timedelta(days=100)
    )
    assert services.receipt_from_token(services.receipt_token(zhang)).is_submitted


# --- submitting --------------------------------------------------------------------------------


def test_a_receipt_is_submitted_once_and_reuse_is_refused(zhang, world):
    rate(zhang, attitude=Rating.SATISFIED, result=Rating.BASICALLY, opinion="感谢")
    refused(rate, zhang, attitude=Rating.DISSATISFIED, opinion="改了", match="already submitted")
    zhang.refresh_from_db()
    assert (zhang.attitude, zhang.result, zhang.opinion) == ("satisfied", "basically", "感谢")
    assert zhang.channel == Receipt.Channel.ONLINE and zhang.entered_by is None
    assert Event.objects.filter(verb="receipt_submitted", object_id=zhang.pk).count() == 1
    assert Notification.objects.filter(recipient=world.kjj, verb="receipt_submitted").exists()


def test_an_opinion_is_required_when_dissatisfied(zhang, world):
    refused(rate, zhang, result=Rating.DISSATISFIED, opinion="  ", match="dissatisfied")
    refused(rate, zhang, attitude=Rating.DISSATISFIED, match="dissatisfied")
    zhang.refresh_from_db()
    assert not zhang.is_submitted
    rate(zhang, result=Rating.DISSATISFIED, opinion="建议明确时间表")
    zhang.refresh_from_db()
    assert zhang.is_dissatisfied
    assert Notification.objects.filter(recipient=world.tiwei, verb="receipt_dissatisfied").exists()


def test_understand_is_a_result_rating_only_where_configured(zhang, li, settings):
    assert Rating.UNDERSTAND not in services.result_ratings()
    refused(rate, zhang, result=Rating.UNDERSTAND, match="result")
    with_tian(settings, RESULT_RATING_UNDERSTAND=True)
    assert services.result_ratings() == ["satisfied", "basically", "understand", "dissatisfied"]
    refused(rate, li, attitude=Rating.UNDERSTAND, match="attitude")
    rate(zhang, result=Rating.UNDERSTAND)
    zhang.refresh_from_db()
    assert zhang.result == Rating.UNDERSTAND


def test_a_logged_in_proposer_submits_only_their_own_receipt(zhang, world):
    refused(rate, zhang, world.lisi, match="another proposer")
    rate(zhang, world.zhanghua)
    zhang.refresh_from_db()
    assert zhang.is_submitted and zhang.entered_by is None


def test_staff_enter_a_paper_receipt_and_are_recorded_as_entering_it(zhang, li, world):
    paper = Receipt.Channel.PAPER
    refused(rate, zhang, None, channel=paper, match="paper")
    refused(rate, zhang, world.outsider, channel=paper, match="paper")
    refused(rate, zhang, world.zhanghua, channel=paper, match="paper")
    # The handling unit would be rating its own work.
    refused(rate, li, world.kjj, channel=paper, match="committee")
    rate(zhang, world.tiwei, channel=paper, contacted=None, contact_method="")
    zhang.refresh_from_db()
    li.refresh_from_db()
    assert (zhang.channel, zhang.entered_by, zhang.contacted) == (paper, world.tiwei, None)
    assert not li.is_submitted


def test_a_co_signer_gives_a_separate_receipt(zhang, li, world):
    rate(zhang, attitude=Rating.SATISFIED, result=Rating.SATISFIED)
    status = reply_services.receipt_status(world.proposal)
    receipts, missing, dissatisfied = status.receipts, status.missing, status.dissatisfied
    assert {r.proposer.name for r in receipts} == {"张华", "李四"}
    assert [r.proposer.name for r in missing] == ["李四"]
    rate(li, attitude=Rating.BASICALLY, result=Rating.DISSATISFIED, opinion="进度太慢")
    zhang.refresh_from_db()
    li.refresh_from_db()
    assert (zhang.result, zhang.opinion) == ("satisfied", "")
    assert (li.result, li.opinion) == ("dissatisfied", "进度太慢")
    status = reply_services.receipt_status(world.proposal)
    missing, dissatisfied = status.missing, status.dissatisfied
    assert missing == [] and [r.proposer.name for r in dissatisfied] == ["李四"]


def test_proposers_of_a_merged_proposal_get_their_own_receipt(world):
    merged = Proposal.objects.create(
        session=world.session, title="并案提案", state=State.MERGED, merged_into=world.proposal
    )
    wang = Proposer.objects.create(name="王五", email="wangwu@example.org")
    ProposalProposer.objects.create(proposal=merged, proposer=wang, position=0)
    letter = send_reply(world, world.lead)
    receipt = receipt_of(letter, wang)
    assert services.receipt_from_token(services.receipt_token(receipt)) == receipt


# --- reminders ---------------------------------------------------------------------------------


def test_reminders_go_once_after_the_configured_working_days(
    world, settings, django_capture_on_commit_callbacks
):
    with_tian(settings, RECEIPT_REMINDER_WORKING_DAYS=10)
    wang = Proposer.objects.create(name="王五", email="wangwu@example.org")
    proposal = handling_proposal(world, 70, proposers=[world.zhanghua_proposer, wang])
    with django_capture_on_commit_callbacks(execute=True):
        letter = send_reply(world, lead_of(proposal))
    rate(receipt_of(letter, wang), attitude=Rating.SATISFIED, result=Rating.SATISFIED)
    sms.outbox.clear()
    mail.outbox.clear()
    sent_on = timezone.localdate(letter.sent_at)
    due = deadlines.add_working_days(sent_on, 10)
    assert services.send_receipt_reminders(due - datetime.timedelta(days=1)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_receipt_reminders(due) == 1
    zhang = receipt_of(letter, world.zhanghua_proposer)
    assert zhang.reminded_at is not None
    assert len(sms.outbox) == 1
    phone, text = sms.outbox[0]
    assert phone == "13900000069"
    assert services.receipt_url(zhang) in text
    assert (
        Notification.objects.filter(recipient=world.zhanghua, verb="receipt_reminder").count() == 1
    )
    # Run daily: the next days send nothing more, and 王五 answered, so is never reminded.
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_receipt_reminders(due) == 0
        assert services.send_receipt_reminders(due + datetime.timedelta(days=7)) == 0
    assert len(sms.outbox) == 1
    assert mail.outbox == []
    assert Notification.objects.filter(verb="receipt_reminder").count() == 1


def test_a_proposer_without_an_account_is_reminded_by_email(
    world, settings, django_capture_on_commit_callbacks
):
    with_tian(settings, RECEIPT_REMINDER_WORKING_DAYS=3)
    wang = Proposer.objects.create(name="王五", email="wangwu@example.org")
    proposal = handling_proposal(world, 71, proposers=[wang])
    letter = send_reply(world, lead_of(proposal))
    mail.outbox.clear()
    due = deadlines.add_working_days(timezone.localdate(letter.sent_at), 3)
    with django_capture_on_commit_callbacks(execute=True):
        assert services.send_receipt_reminders(due) == 1
    assert [m.to for m in mail.outbox] == [["wangwu@example.org"]]
    assert services.receipt_url(receipt_of(letter, wang)) in mail.outbox[0].body


# --- re-handling and closing -------------------------------------------------------------------


def test_rehandling_opens_round_two_with_a_new_lead_assignment(zhang, li, world):
    rate(zhang, result=Rating.DISSATISFIED, opinion="没有解决实际问题")
    refused(proposal_services.order_rehandling, world.proposal, world.kjj, comment="再办")
    refused(proposal_services.order_rehandling, world.proposal, world.tiwei, comment=" ")
    proposal_services.order_rehandling(world.proposal, world.tiwei, comment="请进一步办理")
    world.proposal.refresh_from_db()
    assert (world.proposal.state, world.proposal.current_round) == (State.HANDLING, 2)
    second = lead_of(world.proposal)
    assert (second.round, second.unit, second.role) == (2, world.kjj_unit, "lead")
    assert second.reply_due == deadlines.rehandling_due(timezone.localdate()).due
    letter2 = send_reply(world, second, body="一、再次办理情况\n已明确时间表。")
    assert letter2.round == 2
    new = receipt_of(letter2, world.zhanghua_proposer)
    assert new != zhang
    assert services.receipt_token(new) != services.receipt_token(zhang)
    # The round-1 link still shows what was said then; the round-2 link takes a new answer.
    assert services.receipt_from_token(services.receipt_token(zhang)).is_dissatisfied
    rate(new, attitude=Rating.SATISFIED, result=Rating.SATISFIED)
    status = reply_services.receipt_status(world.proposal)
    receipts, missing, dissatisfied = status.receipts, status.missing, status.dissatisfied
    assert {r.letter.round for r in receipts} == {2}
    assert [r.proposer.name for r in missing] == ["李四"] and dissatisfied == []


def test_rehandling_may_go_to_another_unit(zhang, world):
    rate(zhang, attitude=Rating.DISSATISFIED, opinion="态度不好")
    proposal_services.order_rehandling(world.proposal, world.tiwei, world.jxw_unit, comment="改办")
    assert lead_of(world.proposal).unit == world.jxw_unit


def test_closing_waits_for_receipts_unless_the_period_passed_or_staff_explain(world):
    proposal = handling_proposal(world, 72)
    letter = send_reply(world, lead_of(proposal))
    refused(reply_services.close, proposal, world.tiwei, match="张华")
    refused(reply_services.close, proposal, world.kjj)
    proposal.refresh_from_db()
    assert proposal.state == State.REPLIED
    # The receipt period (working days after sending) passes: it may close without a word.
    ReplyLetter.objects.filter(pk=letter.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=60)
    )
    assert reply_services.receipt_status(proposal).closable
    reply_services.close(proposal, world.tiwei)
    proposal.refresh_from_db()
    assert proposal.state == State.CLOSED and proposal.closed_at


def test_closing_a_proposal_with_a_missing_or_dissatisfied_receipt_needs_an_explanation(
    zhang, world
):
    rate(zhang, attitude=Rating.DISSATISFIED, opinion="不满意")
    refused(reply_services.close, world.proposal, world.tiwei, match="张华")
    reply_services.close(world.proposal, world.tiwei, "经协商，提案人同意办结")
    world.proposal.refresh_from_db()
    assert world.proposal.state == State.CLOSED
    event = Event.objects.get(proposal=world.proposal, verb="closed")
    assert event.comment == "经协商，提案人同意办结"


def test_bulk_close_closes_all_or_none(world):
    ready = handling_proposal(world, 73)
    rate(receipt_of(send_reply(world, lead_of(ready)), world.zhanghua_proposer))
    also_ready = handling_proposal(world, 74)
    rate(receipt_of(send_reply(world, lead_of(also_ready)), world.zhanghua_proposer))
    waiting = handling_proposal(world, 75, title="关于改善农村道路的建议")
    send_reply(world, lead_of(waiting))
    refused(reply_services.bulk_close, [ready, also_ready, waiting], world.tiwei, match="第075号")
    states = set(Proposal.objects.filter(number__in=[73, 74, 75]).values_list("state", flat=True))
    assert states == {State.REPLIED}
    reply_services.bulk_close([ready, also_ready], world.tiwei)
    assert set(Proposal.objects.filter(number__in=[73, 74]).values_list("state", flat=True)) == {
        State.CLOSED
    }
