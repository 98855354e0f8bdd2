"""The proposal workflow, transition by transition: what it does, what it refuses, what it records."""

import datetime

import pytest
from django.core import mail
from django.utils import timezone, translation

from accounts.models import Notification, Proposer
from core.workflow import Refused
from proposals import services
from proposals.models import (
    Assignment,
    ContactRecord,
    CoOpinion,
    Event,
    Proposal,
    ProposalProposer,
    RejectionReason,
)

State = Proposal.State


@pytest.fixture(autouse=True)
def english():
    """Refusal messages are matched in English; the UI itself is Chinese."""
    with translation.override("en"):
        yield


def make_proposal(world, state=State.DRAFT, cosigners=(), **fields):
    proposal = Proposal.objects.create(
        session=world.session,
        title=fields.pop("title", "关于完善社区养老服务的建议"),
        reasons=fields.pop("reasons", "理由"),
        suggestions=fields.pop("suggestions", "建议"),
        category=world.category,
        state=state,
        kind=Proposal.Kind.COSIGNED if cosigners else Proposal.Kind.INDIVIDUAL,
        **fields,
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.zhanghua_proposer, position=0)
    for position, proposer in enumerate(cosigners, start=1):
        ProposalProposer.objects.create(
            proposal=proposal,
            proposer=proposer,
            position=position,
            status=ProposalProposer.Status.PENDING,
        )
    return proposal


def events(proposal, verb):
    return list(Event.objects.filter(proposal=proposal, verb=verb))


def assert_refused(func, *args, match="", **kwargs):
    with pytest.raises(Refused) as info:
        func(*args, **kwargs)
    if match:
        assert match in " ".join(info.value.messages)
    return info.value


# --- submission ----------------------------------------------------------------------------


def test_submit_sends_an_individual_proposal_to_review(world):
    proposal = make_proposal(world)
    services.submit(proposal, world.zhanghua)
    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED
    assert proposal.submitted_at is not None
    [event] = events(proposal, "submitted")
    assert (event.actor, event.from_state, event.to_state) == (world.zhanghua, "draft", "submitted")
    assert Notification.objects.filter(recipient=world.tiwei, verb="submitted").exists()


def test_submit_makes_a_joint_proposal_wait_for_its_cosigners(world):
    proposal = make_proposal(world, cosigners=[world.lisi_proposer])
    services.submit(proposal, world.zhanghua)
    proposal.refresh_from_db()
    assert proposal.state == State.AWAITING_COSIGNERS
    assert Notification.objects.filter(recipient=world.lisi, verb="cosign_requested").exists()


def test_a_cosigner_confirming_sends_the_proposal_to_review(world):
    proposal = make_proposal(world, cosigners=[world.lisi_proposer])
    services.submit(proposal, world.zhanghua)
    services.respond_as_cosigner(proposal, world.lisi, confirm=True)
    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED
    assert proposal.proposer_list.get(proposer=world.lisi_proposer).status == "confirmed"
    assert events(proposal, "cosign_confirmed")
    assert Notification.objects.filter(recipient=world.zhanghua, verb="cosign_confirmed").exists()


def test_a_cosigner_can_decline_and_cannot_answer_twice(world):
    proposal = make_proposal(world, cosigners=[world.lisi_proposer])
    services.submit(proposal, world.zhanghua)
    services.respond_as_cosigner(proposal, world.lisi, confirm=False, comment="不熟悉该领域")
    proposal.refresh_from_db()
    assert proposal.proposer_list.get(proposer=world.lisi_proposer).status == "declined"
    assert proposal.state == State.SUBMITTED
    assert_refused(services.respond_as_cosigner, proposal, world.lisi, confirm=True)


def test_someone_who_is_not_a_cosigner_cannot_confirm(world):
    proposal = make_proposal(world, cosigners=[world.lisi_proposer])
    services.submit(proposal, world.zhanghua)
    assert_refused(services.respond_as_cosigner, proposal, world.kjj, confirm=True)


def test_only_the_first_proposer_submits(world):
    proposal = make_proposal(world, cosigners=[world.lisi_proposer])
    assert_refused(services.submit, proposal, world.lisi, match="first proposer")
    assert_refused(services.submit, proposal, world.kjj)
    proposal.refresh_from_db()
    assert proposal.state == State.DRAFT
    assert not events(proposal, "submitted")


def test_an_incomplete_proposal_cannot_be_submitted(world):
    proposal = make_proposal(world, suggestions="  ")
    assert_refused(services.submit, proposal, world.zhanghua)
    proposal.consent_to_publish = False
    proposal.suggestions = "建议"
    proposal.save()
    assert_refused(services.submit, proposal, world.zhanghua)
    proposal.refresh_from_db()
    assert proposal.state == State.DRAFT


def test_submitting_twice_is_refused(world):
    proposal = make_proposal(world)
    services.submit(proposal, world.zhanghua)
    assert_refused(services.submit, proposal, world.zhanghua)
    assert len(events(proposal, "submitted")) == 1


# --- withdrawal ----------------------------------------------------------------------------


def test_the_proposer_withdraws_before_acceptance(world):
    proposal = make_proposal(world, state=State.SUBMITTED)
    services.withdraw(proposal, world.zhanghua, "已另行反映")
    proposal.refresh_from_db()
    assert proposal.state == State.WITHDRAWN
    assert proposal.review_outcome == "withdraw"
    [event] = events(proposal, "withdrawn")
    assert event.comment == "已另行反映"


def test_after_acceptance_only_the_committee_withdraws_and_with_a_reason(world):
    proposal = make_proposal(world, state=State.SUBMITTED)
    services.accept(proposal, world.tiwei)
    assert_refused(services.withdraw, proposal, world.zhanghua, match="committee")
    assert_refused(services.withdraw, proposal, world.tiwei, "")
    services.withdraw(proposal, world.tiwei, "提案人书面申请撤案")
    proposal.refresh_from_db()
    assert proposal.state == State.WITHDRAWN


def test_a_closed_proposal_cannot_be_withdrawn(world):
    proposal = make_proposal(world, state=State.CLOSED)
    assert_refused(services.withdraw, proposal, world.tiwei, "理由")


# --- review --------------------------------------------------------------------------------


def test_accepting_gives_the_next_number_in_the_session(world):
    first = make_proposal(world, state=State.SUBMITTED)
    second = make_proposal(world, state=State.SUBMITTED)
    services.accept(first, world.tiwei)
    services.accept(second, world.tiwei, "同意立案")
    first.refresh_from_db()
    second.refresh_from_db()
    # Proposal 069 exists in the world's session.
    assert (first.number, second.number) == (70, 71)
    assert second.display_number == "第071号"
    assert second.state == State.ACCEPTED
    [event] = events(second, "accepted")
    assert (event.from_state, event.to_state, event.comment) == (
        "submitted",
        "accepted",
        "同意立案",
    )
    assert Notification.objects.filter(recipient=world.zhanghua, verb="accepted").count() == 2


def test_only_committee_staff_review(world):
    proposal = make_proposal(world, state=State.SUBMITTED)
    for user in (world.kjj, world.zhanghua, world.kjj_leader):
        assert_refused(services.accept, proposal, user, match="committee")
    proposal.refresh_from_db()
    assert proposal.number is None


def test_a_withdrawn_proposal_cannot_be_accepted(world):
    proposal = make_proposal(world, state=State.WITHDRAWN)
    error = assert_refused(services.accept, proposal, world.tiwei)
    assert "Withdrawn" in " ".join(error.messages) or "撤" in " ".join(error.messages)
    proposal.refresh_from_db()
    assert proposal.number is None
    assert not events(proposal, "accepted")


def test_merge_links_the_proposal_to_the_accepted_one(world):
    proposal = make_proposal(world, state=State.SUBMITTED)
    services.merge(proposal, world.proposal, world.tiwei, "内容相近")
    proposal.refresh_from_db()
    assert proposal.state == State.MERGED
    assert proposal.merged_into == world.proposal
    assert events(proposal, "merged")
    assert events(world.proposal, "merged_in")


def test_merge_refuses_an_unaccepted_target_and_itself(world):
    proposal = make_proposal(world, state=State.SUBMITTED)
    other = make_proposal(world, state=State.SUBMITTED)
    assert_refused(services.merge, proposal, other, world.tiwei)
    assert_refused(services.merge, proposal, proposal, world.tiwei)


def test_convert_and_reject_record_the_outcome(world):
    converted = make_proposal(world, state=State.SUBMITTED)
    services.convert(converted, world.tiwei, "转区政府办研究")
    converted.refresh_from_db()
    assert converted.state == State.CONVERTED

    reason = RejectionReason.objects.create(code="personal", label="个人事务")
    rejected = make_proposal(world, state=State.SUBMITTED)
    services.reject(rejected, world.tiwei, reason, "属个人诉求")
    rejected.refresh_from_db()
    assert rejected.state == State.REJECTED
    assert rejected.rejection_reason == reason
    [event] = events(rejected, "rejected")
    assert "个人事务" in event.comment and "属个人诉求" in event.comment
    note = Notification.objects.get(recipient=world.zhanghua, verb="rejected")
    assert "个人事务" in note.message


def test_reject_needs_a_coded_reason(world):
    proposal = make_proposal(world, state=State.SUBMITTED)
    assert_refused(services.reject, proposal, world.tiwei, None)


def test_review_outcomes_reach_proposers_without_a_login_by_email(
    world, django_capture_on_commit_callbacks
):
    offline = Proposer.objects.create(name="王五", email="wangwu@example.cn")
    proposal = make_proposal(world, state=State.SUBMITTED)
    ProposalProposer.objects.create(proposal=proposal, proposer=offline, position=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.convert(proposal, world.tiwei, "转交办理")
    assert any("wangwu@example.cn" in m.to for m in mail.outbox)
    assert any("转交办理" in m.body for m in mail.outbox)


# --- assignment ----------------------------------------------------------------------------


def accepted(world):
    proposal = make_proposal(world, state=State.SUBMITTED)
    return services.accept(proposal, world.tiwei)


def test_joint_assignment_creates_a_lead_and_co_units_with_rule_deadlines(world):
    proposal = accepted(world)
    services.assign(
        proposal,
        world.tiwei,
        Proposal.HandlingMode.JOINT,
        lead=world.kjj_unit,
        co_units=[world.jxw_unit],
    )
    proposal.refresh_from_db()
    assert proposal.state == State.ASSIGNED
    assert proposal.handling_mode == "joint"
    lead = proposal.assignments.get(role="lead")
    co = proposal.assignments.get(role="co")
    assert lead.unit == world.kjj_unit and co.unit == world.jxw_unit
    today = timezone.localdate()
    assert lead.reply_due > today + datetime.timedelta(days=85)
    assert co.opinion_due > today + datetime.timedelta(days=27)
    assert co.reply_due is None
    assert Notification.objects.filter(recipient=world.kjj, verb="assigned").exists()
    assert Notification.objects.filter(recipient=world.jxw, verb="assigned").exists()
    [event] = events(proposal, "assigned")
    assert "区科技局" in event.comment


def test_split_assignment_gives_every_unit_its_own_reply(world):
    proposal = accepted(world)
    services.assign(proposal, world.tiwei, "split", split_units=[world.kjj_unit, world.jxw_unit])
    roles = set(proposal.assignments.values_list("role", flat=True))
    assert roles == {"split"}
    assert proposal.assignments.filter(reply_due__isnull=False).count() == 2


@pytest.mark.parametrize(
    "mode, kwargs, message",
    [
        ("single", {}, "handling unit"),
        ("joint", {"lead": "kjj_unit"}, "co-handling"),
        ("joint", {"lead": "kjj_unit", "co_units": ["kjj_unit"]}, "lead unit cannot"),
        ("split", {"split_units": ["kjj_unit"]}, "two units"),
        ("", {"lead": "kjj_unit"}, "mode"),
    ],
)
def test_assignment_refuses_a_plan_that_does_not_fit_the_mode(world, mode, kwargs, message):
    proposal = accepted(world)
    resolved = {
        key: (
            [getattr(world, v) for v in value] if isinstance(value, list) else getattr(world, value)
        )
        for key, value in kwargs.items()
    }
    assert_refused(services.assign, proposal, world.tiwei, mode, match=message, **resolved)
    proposal.refresh_from_db()
    assert proposal.state == State.ACCEPTED
    assert not proposal.assignments.exists()


def test_a_changed_deadline_needs_a_reason(world):
    proposal = accepted(world)
    later = timezone.localdate() + datetime.timedelta(days=120)
    assert_refused(
        services.assign, proposal, world.tiwei, "single", lead=world.kjj_unit, reply_due=later
    )
    services.assign(
        proposal,
        world.tiwei,
        "single",
        lead=world.kjj_unit,
        reply_due=later,
        due_change_reason="涉及跨年度预算",
    )
    assert proposal.assignments.get().reply_due == later


def test_a_deadline_past_six_months_is_refused(world):
    proposal = accepted(world)
    assert_refused(
        services.assign,
        proposal,
        world.tiwei,
        "single",
        lead=world.kjj_unit,
        reply_due=timezone.localdate() + datetime.timedelta(days=200),
        due_change_reason="理由",
    )


def test_a_proposal_cannot_be_assigned_twice(world):
    proposal = accepted(world)
    services.assign(proposal, world.tiwei, "single", lead=world.kjj_unit)
    assert_refused(services.assign, proposal, world.tiwei, "single", lead=world.jxw_unit)
    assert proposal.assignments.count() == 1


def test_bulk_assignment_is_all_or_nothing(world):
    good = [accepted(world) for _ in range(3)]
    bad = make_proposal(world, state=State.SUBMITTED)
    error = assert_refused(
        services.bulk_assign, [*good, bad], world.tiwei, "single", lead=world.kjj_unit
    )
    assert bad.title in " ".join(error.messages)
    assert not Assignment.objects.filter(proposal__in=good).exists()
    services.bulk_assign(good, world.tiwei, "single", lead=world.kjj_unit)
    assert Assignment.objects.filter(proposal__in=good).count() == 3
    assert Notification.objects.filter(recipient=world.kjj, verb="assigned").count() == 1


# --- acknowledgement and return requests -----------------------------------------------------


def assigned(world, mode="joint"):
    proposal = accepted(world)
    services.assign(proposal, world.tiwei, mode, lead=world.kjj_unit, co_units=[world.jxw_unit])
    return proposal, proposal.assignments.get(role="lead"), proposal.assignments.get(role="co")


def test_the_lead_unit_acknowledging_puts_the_proposal_in_handling(world):
    proposal, lead, co = assigned(world)
    services.acknowledge(co, world.jxw)
    proposal.refresh_from_db()
    assert proposal.state == State.ASSIGNED
    services.acknowledge(lead, world.kjj)
    proposal.refresh_from_db()
    lead.refresh_from_db()
    assert proposal.state == State.HANDLING
    assert lead.acknowledged_by == world.kjj
    assert [e.to_state for e in events(proposal, "acknowledged")] == ["assigned", "handling"]


def test_acknowledging_twice_is_refused_with_the_date(world):
    proposal, lead, _co = assigned(world)
    services.acknowledge(lead, world.kjj)
    error = assert_refused(services.acknowledge, lead, world.kjj)
    assert timezone.localdate().strftime("%Y-%m-%d") in " ".join(error.messages)
    assert len(events(proposal, "acknowledged")) == 1


def test_another_units_people_cannot_acknowledge(world):
    _proposal, lead, _co = assigned(world)
    for user in (world.jxw, world.outsider, world.tiwei):
        assert_refused(services.acknowledge, lead, user)
    lead.refresh_from_db()
    assert lead.acknowledged_at is None


def test_a_return_request_within_the_window_is_recorded(world):
    proposal, lead, _co = assigned(world)
    services.request_return(lead, world.kjj, "不属于本单位职责")
    lead.refresh_from_db()
    assert lead.return_status == "requested"
    assert events(proposal, "return_requested")[0].comment == "不属于本单位职责"
    assert Notification.objects.filter(recipient=world.tiwei, verb="return_requested").exists()


def test_a_late_return_request_is_refused_naming_the_closing_date(world):
    _proposal, lead, _co = assigned(world)
    Assignment.objects.filter(pk=lead.pk).update(
        assigned_at=timezone.now() - datetime.timedelta(days=30)
    )
    error = assert_refused(services.request_return, lead, world.kjj, "理由", match="closed on")
    assert "20" in " ".join(error.messages)
    lead.refresh_from_db()
    assert lead.return_status == ""


def test_a_return_request_needs_a_reason_and_an_unacknowledged_assignment(world):
    _proposal, lead, _co = assigned(world)
    assert_refused(services.request_return, lead, world.kjj, "  ")
    services.acknowledge(lead, world.kjj)
    assert_refused(services.request_return, lead, world.kjj, "理由")


def test_approving_a_return_reassigns_and_keeps_the_history(world):
    proposal, lead, _co = assigned(world)
    services.request_return(lead, world.kjj, "不属于本单位职责")
    new = services.decide_return(
        lead, world.tiwei, True, "改由区教委主办", new_unit=world.other_unit
    )
    lead.refresh_from_db()
    assert not lead.is_active
    assert lead.return_status == "approved"
    assert lead.replaced_by == new
    assert new.unit == world.other_unit and new.role == "lead" and new.is_active
    assert proposal.assignments.count() == 3
    assert events(proposal, "return_approved")
    assert Notification.objects.filter(recipient=world.kjj, verb="return_decided").exists()
    note = Notification.objects.get(recipient=world.outsider, verb="assigned")
    assert "改由区教委主办" in note.message


def test_refusing_a_return_keeps_the_unit(world):
    proposal, lead, _co = assigned(world)
    services.request_return(lead, world.kjj, "理由")
    services.decide_return(lead, world.tiwei, False, "属于本单位职责，请办理")
    lead.refresh_from_db()
    assert lead.is_active and lead.return_status == "refused"
    note = Notification.objects.get(recipient=world.kjj, verb="return_decided")
    assert "属于本单位职责，请办理" in note.message


def test_a_return_decision_needs_a_pending_request_and_committee_staff(world):
    _proposal, lead, _co = assigned(world)
    assert_refused(services.decide_return, lead, world.tiwei, False)
    services.request_return(lead, world.kjj, "理由")
    assert_refused(services.decide_return, lead, world.kjj, False)
    assert_refused(services.decide_return, lead, world.tiwei, True, new_unit=None)


# --- handling ------------------------------------------------------------------------------


def test_a_co_unit_sends_its_opinion_to_the_lead(world):
    proposal, _lead, co = assigned(world)
    opinion = services.send_opinion(
        co,
        world.jxw,
        "区经济信息委关于第070号提案的会办意见",
        "意见正文",
        doc_number="梁平经信函〔2022〕12号",
    )
    assert opinion.sent_at is not None
    assert events(proposal, "opinion_sent")
    assert Notification.objects.filter(recipient=world.kjj, verb="opinion_received").exists()
    assert_refused(services.send_opinion, co, world.jxw, "标题", "正文", match="already")


def test_an_opinion_from_a_unit_not_assigned_as_co_unit_is_refused(world):
    proposal, lead, co = assigned(world)
    assert_refused(services.send_opinion, lead, world.kjj, "标题", "正文", match="co-handling")
    assert_refused(services.send_opinion, co, world.outsider, "标题", "正文")
    assert not CoOpinion.objects.filter(assignment__proposal=proposal).exists()


def test_a_unit_records_a_contact_with_the_proposer_after_acknowledging(world):
    proposal, lead, _co = assigned(world)
    assert_refused(
        services.record_contact, lead, world.kjj, timezone.localdate(), "meeting", match="签收"
    )
    services.acknowledge(lead, world.kjj)
    record = services.record_contact(
        lead,
        world.kjj,
        timezone.localdate(),
        ContactRecord.Method.MEETING,
        participants="张华、科技局局长",
        leader_took_part=True,
        summary="当面沟通办理思路",
    )
    assert record.leader_took_part
    assert events(proposal, "contact_recorded")[0].object_id == record.pk


def test_a_contact_in_the_future_or_with_no_method_is_refused(world):
    _proposal, lead, _co = assigned(world)
    services.acknowledge(lead, world.kjj)
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    assert_refused(services.record_contact, lead, world.kjj, tomorrow, "phone")
    assert_refused(services.record_contact, lead, world.kjj, timezone.localdate(), "fax")
    assert_refused(services.record_contact, lead, world.outsider, timezone.localdate(), "phone")
    yesterday_of_assignment = timezone.localdate(lead.assigned_at) - datetime.timedelta(days=1)
    assert_refused(services.record_contact, lead, world.kjj, yesterday_of_assignment, "phone")
    # A datetime is taken as its local day, not a TypeError.
    services.record_contact(lead, world.kjj, timezone.now(), "phone")
    assert ContactRecord.objects.filter(assignment=lead).count() == 1


def test_notifications_are_emailed_only_after_commit(world, django_capture_on_commit_callbacks):
    world.kjj.email = "kjj@example.cn"
    world.kjj.save()
    proposal = accepted(world)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.assign(proposal, world.tiwei, "single", lead=world.kjj_unit)
    assert mail.outbox == []
    for callback in callbacks:
        callback()
    assert [m.to for m in mail.outbox] == [["kjj@example.cn"]]


def test_audit_events_are_append_only(world):
    proposal = make_proposal(world)
    event = services.record_event(proposal, world.zhanghua, "created")
    event.comment = "changed"
    with pytest.raises(ValueError):
        event.save()
    with pytest.raises(ValueError):
        event.delete()


def test_after_acceptance_the_first_proposer_asks_and_the_committee_decides(world):
    proposal = make_proposal(world, state=State.SUBMITTED)
    services.accept(proposal, world.tiwei)
    services.request_withdrawal(proposal, world.zhanghua, "问题已解决")
    proposal.refresh_from_db()
    assert proposal.state == State.ACCEPTED
    [event] = events(proposal, "withdrawal_requested")
    assert event.comment == "问题已解决"
    note = Notification.objects.get(recipient=world.tiwei, verb="withdrawal_requested")
    assert "问题已解决" in note.message
    assert_refused(services.request_withdrawal, proposal, world.lisi, "理由")
    assert_refused(services.request_withdrawal, proposal, world.zhanghua, " ")
    services.withdraw(proposal, world.tiwei, "同意提案人撤案申请")
    proposal.refresh_from_db()
    assert proposal.state == State.WITHDRAWN
