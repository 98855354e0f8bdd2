"""What must never happen is refused by the database itself, whatever the code above it does."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from proposals.models import Assignment, Proposal
from replies.models import Receipt, ReplyLetter


def refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def letter(world):
    return ReplyLetter.objects.create(
        assignment=world.lead, title="答复函", salutation="张华委员：", body="正文"
    )


def test_two_proposals_cannot_share_a_number_in_a_session(world):
    refused(lambda: Proposal.objects.create(session=world.session, number=69, title="另一件"))


def test_a_proposal_cannot_have_two_active_lead_units_in_a_round(world):
    refused(
        lambda: Assignment.objects.create(
            proposal=world.proposal, unit=world.other_unit, role="lead", assigned_at=timezone.now()
        )
    )


def test_a_returned_lead_makes_room_for_its_successor(world):
    Assignment.objects.filter(pk=world.lead.pk).update(is_active=False)
    Assignment.objects.create(
        proposal=world.proposal, unit=world.other_unit, role="lead", assigned_at=timezone.now()
    )


def test_one_receipt_per_proposer_per_letter_round(world):
    reply = letter(world)
    Receipt.objects.create(letter=reply, proposer=world.zhanghua_proposer)
    refused(lambda: Receipt.objects.create(letter=reply, proposer=world.zhanghua_proposer))


@pytest.mark.parametrize("field", ["attitude", "result"])
def test_a_rating_outside_its_choices_is_refused(world, field):
    reply = letter(world)
    refused(
        lambda: Receipt.objects.create(
            letter=reply, proposer=world.zhanghua_proposer, **{field: "great"}
        )
    )


def test_understand_is_not_a_rating_of_attitude(world):
    reply = letter(world)
    refused(
        lambda: Receipt.objects.create(
            letter=reply, proposer=world.zhanghua_proposer, attitude="understand"
        )
    )


def test_a_submitted_receipt_carries_both_ratings(world):
    reply = letter(world)
    refused(
        lambda: Receipt.objects.create(
            letter=reply,
            proposer=world.zhanghua_proposer,
            attitude="satisfied",
            submitted_at=timezone.now(),
        )
    )


def test_a_document_number_is_never_used_twice(world):
    first = letter(world)
    first.doc_number = "梁平科技函〔2022〕45号"
    first.save()
    second = ReplyLetter.objects.create(assignment=world.co, title="t", salutation="s", body="b")
    second.doc_number = "梁平科技函〔2022〕45号"
    refused(second.save)
