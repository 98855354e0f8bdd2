"""Workflow steps as admin actions: the same services, permission checks and audit trail."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from proposals.models import CoOpinion, Event, Proposal, ProposalProposer, RejectionReason
from replies.models import ReplyLetter

State = Proposal.State


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def run_action(client, model, action, objects, **form):
    data = {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects]}
    if form:
        data.update({"apply": "1", **form})
    return client.post(changelist(model), data)


def messages_of(response):
    return [str(m) for m in response.wsgi_request._messages]


def submitted(world, title="关于加强科技人才引进的建议"):
    proposal = Proposal.objects.create(
        session=world.session,
        title=title,
        reasons="理由",
        suggestions="建议",
        state=State.SUBMITTED,
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.zhanghua_proposer)
    return proposal


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


def make_staff(user):
    user.is_staff = True
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label__in=["proposals", "replies"])
    )
    return type(user).objects.get(pk=user.pk)


def test_an_action_that_needs_a_reason_asks_for_it_first(admin_client, world):
    proposal = submitted(world)
    response = run_action(admin_client, Proposal, "action__reject", [proposal])
    assert response.status_code == 200
    assert "admin/workflow_action.html" in [t.name for t in response.templates]
    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED


def test_reject_through_the_admin_goes_through_the_workflow(admin_client, world):
    proposal = submitted(world)
    reason = RejectionReason.objects.create(code="vague", label="空泛无具体建议")
    response = run_action(
        admin_client, Proposal, "action__reject", [proposal], reason=reason.pk, comment="无具体建议"
    )
    assert response.status_code == 302
    proposal.refresh_from_db()
    assert proposal.state == State.REJECTED
    event = Event.objects.get(proposal=proposal, verb="rejected")
    assert event.actor == world.admin and "无具体建议" in event.comment


def test_accept_then_assign_in_bulk_through_the_admin(admin_client, world):
    proposals = [submitted(world, f"建议{i}") for i in range(3)]
    run_action(admin_client, Proposal, "action__accept", proposals, comment="")
    assert sorted(
        Proposal.objects.filter(pk__in=[p.pk for p in proposals]).values_list("number", flat=True)
    ) == [70, 71, 72]
    run_action(
        admin_client,
        Proposal,
        "action__assign",
        proposals,
        mode="joint",
        lead=world.kjj_unit.pk,
        co_units=[world.jxw_unit.pk],
        comment="交办会",
    )
    for proposal in proposals:
        proposal.refresh_from_db()
        assert proposal.state == State.ASSIGNED
        assert proposal.assignments.count() == 2


def test_a_refused_step_is_reported_and_changes_nothing(admin_client, world):
    proposal = submitted(world)
    proposal.state = State.WITHDRAWN
    proposal.save()
    response = run_action(admin_client, Proposal, "action__accept", [proposal], comment="")
    proposal.refresh_from_db()
    assert proposal.number is None
    assert any("撤案" in m or "Withdrawn" in m or "已撤" in m for m in messages_of(response))


def test_unit_steps_in_the_admin_check_unit_membership(admin_client, world, client):
    # The superuser is in no unit: acknowledging for 区科技局 is refused.
    world.lead.acknowledged_at = None
    world.lead.save()
    from proposals.models import Assignment

    response = run_action(admin_client, Assignment, "action__acknowledge", [world.lead])
    world.lead.refresh_from_db()
    assert world.lead.acknowledged_at is None
    assert messages_of(response)
    # kjj, given admin access, may.
    client.force_login(make_staff(world.kjj))
    run_action(client, Assignment, "action__acknowledge", [world.lead])
    world.lead.refresh_from_db()
    assert world.lead.acknowledged_by == world.kjj


@pytest.mark.django_db
def test_the_seed_path_works_through_admin_actions(world, client):
    """Draft, send back, resubmit, sign, send, publish — all as admin actions."""
    from proposals.models import Assignment

    CoOpinion.objects.create(
        assignment=world.co, title="会办意见", body="意见", sent_at=timezone.now()
    )
    kjj, leader = make_staff(world.kjj), make_staff(world.kjj_leader)
    client.force_login(kjj)
    run_action(client, Assignment, "action__start_draft", [world.lead])
    letter = ReplyLetter.objects.get(assignment=world.lead)
    letter.body += "一、总体情况\n正文。"
    letter.result_class = "B"
    letter.save()
    run_action(client, ReplyLetter, "action__submit", [letter], outstanding_reason="")
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.AWAITING_SIGNOFF

    client.force_login(leader)
    run_action(client, ReplyLetter, "action__send_back", [letter], comment="请补充数据")
    letter.refresh_from_db()
    assert (letter.state, letter.signoff_comment) == (ReplyLetter.State.DRAFT, "请补充数据")

    client.force_login(kjj)
    letter.body += "\n累计兑付资金2800余万元。"
    letter.save()
    run_action(client, ReplyLetter, "action__submit", [letter], outstanding_reason="")
    # The handler cannot sign.
    run_action(client, ReplyLetter, "action__sign", [letter])
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.AWAITING_SIGNOFF

    client.force_login(leader)
    run_action(client, ReplyLetter, "action__sign", [letter])
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.SIGNED
    assert letter.attestation == "此答复函已经区科技局主要领导审签。"

    client.force_login(kjj)
    run_action(client, ReplyLetter, "action__send", [letter])
    client.force_login(world.admin)
    run_action(client, ReplyLetter, "action__publish", [letter])
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.PUBLISHED
    verbs = set(Event.objects.filter(object_id=letter.pk).values_list("verb", flat=True))
    assert {
        "reply_drafted",
        "reply_sent_back",
        "reply_signed",
        "reply_sent",
        "reply_published",
    } <= verbs
