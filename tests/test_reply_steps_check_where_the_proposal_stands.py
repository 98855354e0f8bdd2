"""Every step of a letter checks, under the row lock, that the proposal still expects it.

The probes: a lead unit that never acknowledged could draft, sign and send, and the
proposal stayed 已交办 for ever; a letter of a returned assignment, or of a withdrawn
proposal, was still sent and asked for receipts; after re-handling went to another unit,
the first unit's round-1 assignment could start a round-2 letter; only handlers draft and
send, only leaders sign.
"""

import datetime

import pytest
from django.utils import timezone, translation

from accounts.models import Unit
from core.workflow import Refused
from proposals import services as proposal_services
from proposals.models import Assignment, CoOpinion, Proposal
from replies import services
from replies.models import Receipt, ReplyLetter

from .conftest import contact

State = ReplyLetter.State


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refused(func, *args, match="", **kwargs):
    with pytest.raises(Refused) as info:
        func(*args, **kwargs)
    if match:
        assert match in " ".join(info.value.messages), info.value.messages
    return info.value


def opinion_in(world):
    CoOpinion.objects.create(
        assignment=world.co, title="会办意见", body="意见", sent_at=timezone.now()
    )


def ready_to_sign(world):
    opinion_in(world)
    letter = services.start_draft(world.lead, world.kjj)
    letter = services.save_draft(
        letter, world.kjj, body=letter.body + "一、总体情况\n正文。", result_class="B"
    )
    return services.submit_for_signoff(letter, world.kjj)


def assigned_not_acknowledged(world):
    proposal = Proposal.objects.create(
        session=world.session,
        number=71,
        title="关于建设科技孵化器的建议",
        reasons="理由",
        suggestions="建议",
        state=Proposal.State.ACCEPTED,
    )
    proposal.proposer_list.create(proposer=world.zhanghua_proposer)
    proposal_services.assign(proposal, world.tiwei, "single", lead=world.kjj_unit)
    return proposal, Assignment.objects.get(proposal=proposal)


def test_a_unit_that_did_not_acknowledge_cannot_draft(world):
    proposal, assignment = assigned_not_acknowledged(world)
    refused(services.start_draft, assignment, world.kjj, match="Acknowledge")
    assert not ReplyLetter.objects.filter(assignment=assignment).exists()
    proposal_services.acknowledge(assignment, world.kjj)
    letter = services.start_draft(assignment, world.kjj)
    assert letter.state == State.DRAFT


def test_sending_moves_the_proposal_to_replied_through_its_own_workflow(world):
    letter = services.sign(ready_to_sign(world), world.kjj_leader)
    services.send(letter, world.kjj)
    world.proposal.refresh_from_db()
    world.lead.refresh_from_db()
    assert world.proposal.state == Proposal.State.REPLIED
    assert world.lead.replied_at is not None
    replied = world.proposal.events.get(verb="replied")
    assert (replied.from_state, replied.to_state) == ("handling", "replied")


def test_a_letter_of_a_returned_assignment_is_neither_signed_nor_sent(world):
    letter = ready_to_sign(world)
    Assignment.objects.filter(pk=world.lead.pk).update(is_active=False)
    refused(services.sign, letter, world.kjj_leader, match="no longer active")
    ReplyLetter.objects.filter(pk=letter.pk).update(state=State.SIGNED)
    refused(services.send, letter, world.kjj, match="no longer active")
    assert not Receipt.objects.exists()
    assert ReplyLetter.objects.get(pk=letter.pk).sent_at is None


def test_a_letter_of_a_withdrawn_proposal_is_not_sent(world):
    letter = services.sign(ready_to_sign(world), world.kjj_leader)
    proposal_services.withdraw(world.proposal, world.tiwei, "提案人申请撤案")
    refused(services.send, letter, world.kjj)
    assert not Receipt.objects.exists()
    world.proposal.refresh_from_db()
    assert world.proposal.state == Proposal.State.WITHDRAWN


def test_after_rehandling_by_another_unit_the_first_unit_starts_no_round_two_letter(world):
    letter = services.sign(ready_to_sign(world), world.kjj_leader)
    services.send(letter, world.kjj)
    other = Unit.objects.create(name="重庆市梁平区发展和改革委员会", short_name="区发展改革委")
    proposal_services.order_rehandling(
        world.proposal, world.tiwei, unit=other, comment="改由发改委"
    )
    # "Draft the reply" on the old assignment only leads back to its round-1 letter.
    assert services.start_draft(world.lead, world.kjj) == letter
    assert list(ReplyLetter.objects.values_list("assignment", "round")) == [(world.lead.pk, 1)]
    # A round-1 assignment without a letter is not asked for one in round 2.
    ReplyLetter.objects.filter(pk=letter.pk).update(assignment=world.co)
    refused(services.start_draft, world.lead, world.kjj, match="round 1")


def test_a_round_one_letter_is_not_edited_once_round_two_began(world):
    letter = services.start_draft(world.lead, world.kjj)
    Proposal.objects.filter(pk=world.proposal.pk).update(current_round=2)
    refused(services.save_draft, letter, world.kjj, body="新的正文", match="round 1")


def test_handlers_draft_and_send_leaders_sign(world):
    refused(services.start_draft, world.lead, world.kjj_leader, match="handler")
    letter = ready_to_sign(world)
    refused(services.sign, letter, world.kjj, match="leader")
    letter = services.sign(letter, world.kjj_leader)
    refused(services.send, letter, world.kjj_leader, match="handler")
    services.send(letter, world.kjj)


def test_a_reply_without_contact_goes_to_sign_off_only_with_a_reason_the_leader_reads(world):
    world.lead.contacts.all().delete()
    opinion_in(world)
    letter = services.start_draft(world.lead, world.kjj)
    letter = services.save_draft(letter, world.kjj, body=letter.body + "正文", result_class="A")
    refused(services.submit_for_signoff, letter, world.kjj, match="No contact")
    services.submit_for_signoff(letter, world.kjj, no_contact_reason="提案人出差，已电话留言")
    letter.refresh_from_db()
    assert letter.no_contact_reason == "提案人出差，已电话留言"
    note = world.kjj_leader.notifications.get(verb="signoff_requested")
    assert "提案人出差，已电话留言" in note.message


def test_a_recorded_contact_needs_no_reason(world):
    world.lead.contacts.all().delete()
    contact(world.lead, world.kjj)
    letter = ready_to_sign(world)
    assert letter.state == State.AWAITING_SIGNOFF
    assert letter.no_contact_reason == ""


def test_the_contact_person_is_the_handlers_real_name(world):
    world.kjj.full_name = ""
    world.kjj.save()
    letter = services.start_draft(world.lead, world.kjj)
    # Never the login name.
    assert letter.contact_person == ""


def test_a_unit_with_its_own_register_types_the_number_at_sign_off(world):
    Unit.objects.filter(pk=world.kjj_unit.pk).update(types_doc_numbers=True)
    letter = ready_to_sign(world)
    letter = services.sign(letter, world.kjj_leader, doc_number="45")
    assert letter.doc_number == f"梁平科技函〔{timezone.localdate().year}〕45号"
    # The yearly sequence goes on after it; the same number is refused on another letter.
    other = ReplyLetter.objects.create(
        assignment=world.lead,
        round=2,
        title="t",
        salutation="s",
        body="b",
        state=State.AWAITING_SIGNOFF,
    )
    refused(services.typed_doc_number, world.kjj_unit, timezone.localdate().year, "45", other)


def test_a_unit_without_its_own_register_cannot_type_a_number(world):
    letter = ready_to_sign(world)
    refused(services.sign, letter, world.kjj_leader, doc_number="45", match="yearly sequence")


def test_the_letter_date_stays_near_the_session(world):
    opinion_in(world)
    letter = services.start_draft(world.lead, world.kjj)
    letter = services.save_draft(
        letter,
        world.kjj,
        body=letter.body + "正文",
        result_class="A",
        letter_date=datetime.date(9999, 12, 31),
    )
    refused(services.submit_for_signoff, letter, world.kjj, match="date of the letter")
