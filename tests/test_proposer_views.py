"""The proposer's screens: my proposals, writing, editing, submitting, co-signing, withdrawing."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from accounts.models import Proposer
from proposals.models import Event, Proposal, ProposalProposer, Session

State = Proposal.State
Status = ProposalProposer.Status


@pytest.fixture
def client(client):
    # Messages are asserted in the English msgids, whatever the catalog says.
    client.cookies["django_language"] = "en"
    return client


def make_proposal(world, state=State.DRAFT, first=None, cosigners=(), **fields):
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
    ProposalProposer.objects.create(
        proposal=proposal, proposer=first or world.zhanghua_proposer, position=0
    )
    for position, proposer in enumerate(cosigners, start=1):
        ProposalProposer.objects.create(
            proposal=proposal, proposer=proposer, position=position, status=Status.PENDING
        )
    return proposal


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def proposal_data(world, **overrides):
    data = {
        "title": "关于发展智慧农业的建议",
        "reasons": "我区农业数字化程度不高。",
        "suggestions": "一、建设智慧农业示范基地。",
        "category": world.category.pk,
        "suggested_units": [world.kjj_unit.pk, world.jxw_unit.pk],
        "consent_to_publish": "on",
        "no_publish_reason": "",
        "period": "plenary",
        "session": world.session.pk,
        "action": "draft",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- my proposals --------------------------------------------------------------------------


def test_my_proposals_lists_every_proposal_the_proposer_signed_newest_first(world, client):
    own = make_proposal(world, title="我的草稿")
    cosigned = make_proposal(
        world, state=State.SUBMITTED, first=world.lisi_proposer, title="李四的提案"
    )
    ProposalProposer.objects.create(
        proposal=cosigned, proposer=world.zhanghua_proposer, position=1, status=Status.CONFIRMED
    )
    make_proposal(world, first=world.lisi_proposer, title="与我无关的提案")
    client.force_login(world.zhanghua)
    response = client.get(reverse("proposals:mine"))
    assert response.status_code == 200
    page = list(response.context["page"])
    assert [p.title for p in page] == [cosigned.title, own.title, world.proposal.title]
    assert [p.first_proposer for p in page] == ["李四", "张华", "张华"]
    assert [p.my_position for p in page] == [1, 0, 0]
    html = response.content.decode()
    assert "第069号" in html
    assert reverse("proposals:edit", args=[own.pk]) in html


def test_my_proposals_shows_the_cosign_requests_waiting_for_the_proposer(world, client):
    waiting = make_proposal(
        world, state=State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer], title="待附议"
    )
    client.force_login(world.lisi)
    response = client.get(reverse("proposals:mine"))
    [item] = response.context["cosign_requests"]
    assert item.proposal == waiting
    assert item.first_proposer == "张华"
    html = response.content.decode()
    assert f'action="{reverse("proposals:cosign", args=[waiting.pk])}"' in html
    assert 'name="decision" value="confirm"' in html
    assert 'name="decision" value="decline"' in html


def test_a_request_already_answered_is_not_shown_again(world, client):
    proposal = make_proposal(world, state=State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer])
    proposal.proposer_list.filter(position=1).update(status=Status.CONFIRMED)
    client.force_login(world.lisi)
    assert list(client.get(reverse("proposals:mine")).context["cosign_requests"]) == []


@pytest.mark.parametrize("count", [3, 20])
def test_my_proposals_costs_the_same_queries_for_3_and_20_proposals(
    world, client, count, django_assert_num_queries
):
    for i in range(count):
        make_proposal(world, title=f"提案{i}", cosigners=[world.lisi_proposer])
        make_proposal(
            world,
            state=State.AWAITING_COSIGNERS,
            first=world.lisi_proposer,
            cosigners=[world.zhanghua_proposer],
            title=f"请附议{i}",
        )
    client.force_login(world.zhanghua)
    # session, user, proposer, count, page, cosign requests, unread notifications
    with django_assert_num_queries(7):
        response = client.get(reverse("proposals:mine"))
    assert response.status_code == 200
    assert len(response.context["cosign_requests"]) == count


def test_my_proposals_is_only_for_proposers(world, client):
    client.force_login(world.kjj)
    assert client.get(reverse("proposals:mine")).status_code == 403
    client.force_login(world.tiwei)
    assert client.get(reverse("proposals:mine")).status_code == 403


@pytest.mark.parametrize(
    "name, args",
    [
        ("proposals:mine", []),
        ("proposals:create", []),
        ("proposals:edit", [1]),
        ("proposals:submit", [1]),
        ("proposals:cosign", [1]),
        ("proposals:withdraw", [1]),
    ],
)
def test_anonymous_users_are_sent_to_login(client, name, args):
    url = reverse(name, args=args)
    response = client.post(url) if name not in ("proposals:mine",) else client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- create ----------------------------------------------------------------------------------


def test_the_new_proposal_form_offers_the_current_session_and_other_members(world, client):
    Session.objects.create(term=world.term, number=2)
    Proposer.objects.create(name="民盟梁平区委", kind=Proposer.Kind.PARTY)
    client.force_login(world.zhanghua)
    response = client.get(reverse("proposals:create"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["session"] == world.session.pk
    assert list(form.fields["cosigners"].queryset) == [world.lisi_proposer]
    html = response.content.decode()
    assert 'name="action" value="draft"' in html
    assert 'name="action" value="submit"' in html
    assert "Save draft" in html


def test_a_member_saves_a_joint_draft(world, client):
    client.force_login(world.zhanghua)
    response = client.post(
        reverse("proposals:create"), proposal_data(world, cosigners=[world.lisi_proposer.pk])
    )
    proposal = Proposal.objects.get(title="关于发展智慧农业的建议")
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert messages_of(response) == ["The draft was saved."]
    assert proposal.state == State.DRAFT
    assert proposal.kind == Proposal.Kind.COSIGNED
    assert proposal.created_by == world.zhanghua
    assert proposal.session == world.session
    assert not proposal.on_paper
    assert set(proposal.suggested_units.all()) == {world.kjj_unit, world.jxw_unit}
    signers = list(proposal.proposer_list.order_by("position"))
    assert [(s.proposer, s.position, s.status) for s in signers] == [
        (world.zhanghua_proposer, 0, Status.CONFIRMED),
        (world.lisi_proposer, 1, Status.PENDING),
    ]
    [event] = Event.objects.filter(proposal=proposal)
    assert (event.verb, event.actor) == ("created", world.zhanghua)


def test_a_member_submits_an_individual_proposal_straight_to_review(world, client):
    client.force_login(world.zhanghua)
    response = client.post(reverse("proposals:create"), proposal_data(world, action="submit"))
    proposal = Proposal.objects.get(title="关于发展智慧农业的建议")
    assert response.status_code == 302
    assert proposal.state == State.SUBMITTED
    assert proposal.kind == Proposal.Kind.INDIVIDUAL
    assert messages_of(response) == ["The proposal was submitted for review."]
    verbs = list(Event.objects.filter(proposal=proposal).values_list("verb", flat=True))
    assert verbs == ["created", "submitted"]


def test_a_submitted_joint_proposal_waits_for_its_cosigners(world, client):
    client.force_login(world.zhanghua)
    response = client.post(
        reverse("proposals:create"),
        proposal_data(world, action="submit", cosigners=[world.lisi_proposer.pk]),
    )
    proposal = Proposal.objects.get(title="关于发展智慧农业的建议")
    assert proposal.state == State.AWAITING_COSIGNERS
    assert "co-signers" in messages_of(response)[0]


def test_the_session_defaults_to_the_current_one(world, client):
    client.force_login(world.zhanghua)
    client.post(reverse("proposals:create"), proposal_data(world, session=""))
    assert Proposal.objects.get(title="关于发展智慧农业的建议").session == world.session


def test_without_a_current_session_the_form_says_so(world, client):
    Session.objects.update(is_current=False)
    client.force_login(world.zhanghua)
    response = client.post(reverse("proposals:create"), proposal_data(world, session=""))
    assert response.status_code == 200
    assert "No session is open" in response.context["form"].errors["session"][0]
    assert not Proposal.objects.filter(title="关于发展智慧农业的建议").exists()


def test_submitting_needs_reasons_and_suggestions_and_keeps_the_input(world, client):
    client.force_login(world.zhanghua)
    response = client.post(
        reverse("proposals:create"),
        proposal_data(world, action="submit", reasons="  ", suggestions=""),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert set(form.errors) == {"reasons", "suggestions"}
    assert "关于发展智慧农业的建议" in response.content.decode()
    assert not Proposal.objects.filter(title="关于发展智慧农业的建议").exists()


def test_a_draft_may_be_saved_half_written(world, client):
    client.force_login(world.zhanghua)
    client.post(reverse("proposals:create"), proposal_data(world, reasons="", suggestions=""))
    assert Proposal.objects.get(title="关于发展智慧农业的建议").state == State.DRAFT


def test_not_consenting_to_publish_needs_a_reason(world, client):
    client.force_login(world.zhanghua)
    response = client.post(
        reverse("proposals:create"), proposal_data(world, consent_to_publish=None)
    )
    assert response.status_code == 200
    assert "no_publish_reason" in response.context["form"].errors
    assert not Proposal.objects.filter(title="关于发展智慧农业的建议").exists()
    client.post(
        reverse("proposals:create"),
        proposal_data(world, consent_to_publish=None, no_publish_reason="涉及企业商业信息"),
    )
    proposal = Proposal.objects.get(title="关于发展智慧农业的建议")
    assert (proposal.consent_to_publish, proposal.no_publish_reason) == (False, "涉及企业商业信息")


def test_a_member_cannot_cosign_their_own_proposal(world, client):
    client.force_login(world.zhanghua)
    response = client.post(
        reverse("proposals:create"),
        proposal_data(world, cosigners=[world.zhanghua_proposer.pk]),
    )
    assert response.status_code == 200
    assert "cosigners" in response.context["form"].errors


def test_a_title_is_always_required(world, client):
    client.force_login(world.zhanghua)
    response = client.post(reverse("proposals:create"), proposal_data(world, title=""))
    assert response.status_code == 200
    assert "title" in response.context["form"].errors
    assert "我区农业数字化程度不高。" in response.content.decode()


def test_only_proposers_write_proposals(world, client):
    client.force_login(world.kjj)
    assert client.get(reverse("proposals:create")).status_code == 403
    assert client.post(reverse("proposals:create"), proposal_data(world)).status_code == 403
    assert not Proposal.objects.filter(title="关于发展智慧农业的建议").exists()


# --- edit ------------------------------------------------------------------------------------


def test_the_first_proposer_edits_a_draft_and_changes_its_cosigners(world, client):
    other = Proposer.objects.create(name="王五")
    draft = make_proposal(world, cosigners=[other])
    client.force_login(world.zhanghua)
    url = reverse("proposals:edit", args=[draft.pk])
    form = client.get(url).context["form"]
    assert form.initial["cosigners"] == [other.pk]
    response = client.post(
        url, proposal_data(world, title="改过的案由", cosigners=[world.lisi_proposer.pk])
    )
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.title == "改过的案由"
    assert draft.kind == Proposal.Kind.COSIGNED
    assert [(s.proposer, s.position) for s in draft.proposer_list.order_by("position")] == [
        (world.zhanghua_proposer, 0),
        (world.lisi_proposer, 1),
    ]
    assert Event.objects.filter(proposal=draft, verb="edited", actor=world.zhanghua).exists()


def test_removing_every_cosigner_makes_the_draft_individual(world, client):
    draft = make_proposal(world, cosigners=[world.lisi_proposer])
    client.force_login(world.zhanghua)
    client.post(reverse("proposals:edit", args=[draft.pk]), proposal_data(world))
    draft.refresh_from_db()
    assert draft.kind == Proposal.Kind.INDIVIDUAL
    assert draft.proposer_list.count() == 1


def test_editing_and_submitting_sends_the_draft_to_review(world, client):
    draft = make_proposal(world)
    client.force_login(world.zhanghua)
    client.post(reverse("proposals:edit", args=[draft.pk]), proposal_data(world, action="submit"))
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED


def test_a_submitted_proposal_cannot_be_edited(world, client):
    proposal = make_proposal(world, state=State.SUBMITTED)
    client.force_login(world.zhanghua)
    url = reverse("proposals:edit", args=[proposal.pk])
    for response in (client.get(url), client.post(url, proposal_data(world, title="改"))):
        assert response.status_code == 302
        assert response["Location"] == proposal.get_absolute_url()
        assert messages_of(response)[-1] == "Only a draft can be edited."
    proposal.refresh_from_db()
    assert proposal.title == "关于完善社区养老服务的建议"


def test_a_cosigner_does_not_see_the_draft_before_it_is_submitted(world, client):
    draft = make_proposal(world, cosigners=[world.lisi_proposer])
    client.force_login(world.lisi)
    assert client.get(reverse("proposals:edit", args=[draft.pk])).status_code == 404
    assert client.get(reverse("proposals:detail", args=[draft.pk])).status_code == 404
    assert draft.title not in client.get(reverse("proposals:mine")).content.decode()


def test_another_proposer_gets_404_on_edit(world, client):
    draft = make_proposal(world)
    client.force_login(world.lisi)
    assert client.get(reverse("proposals:edit", args=[draft.pk])).status_code == 404


def test_a_unit_handler_gets_403_on_edit(world, client):
    draft = make_proposal(world)
    client.force_login(world.kjj)
    assert client.get(reverse("proposals:edit", args=[draft.pk])).status_code == 403


# --- submit ----------------------------------------------------------------------------------


def test_the_first_proposer_submits_a_draft(world, client):
    draft = make_proposal(world)
    client.force_login(world.zhanghua)
    response = client.post(reverse("proposals:submit", args=[draft.pk]))
    assert response.status_code == 302
    assert response["Location"] == draft.get_absolute_url()
    assert messages_of(response) == ["The proposal was submitted for review."]
    draft.refresh_from_db()
    assert draft.state == State.SUBMITTED


def test_submit_answers_get_with_405(world, client):
    draft = make_proposal(world)
    client.force_login(world.zhanghua)
    assert client.get(reverse("proposals:submit", args=[draft.pk])).status_code == 405


def test_a_cosigner_cannot_submit_and_nothing_changes(world, client):
    draft = make_proposal(world, cosigners=[world.lisi_proposer])
    client.force_login(world.lisi)
    response = client.post(reverse("proposals:submit", args=[draft.pk]))
    assert response.status_code == 404
    draft.refresh_from_db()
    assert draft.state == State.DRAFT


def test_submitting_twice_is_refused(world, client):
    proposal = make_proposal(world, state=State.SUBMITTED)
    client.force_login(world.zhanghua)
    response = client.post(reverse("proposals:submit", args=[proposal.pk]))
    assert "cannot be done" in messages_of(response)[0]


def test_submit_is_404_for_another_proposer_and_403_for_a_unit(world, client):
    draft = make_proposal(world)
    client.force_login(world.lisi)
    assert client.post(reverse("proposals:submit", args=[draft.pk])).status_code == 404
    client.force_login(world.outsider)
    assert client.post(reverse("proposals:submit", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert draft.state == State.DRAFT


# --- cosign ----------------------------------------------------------------------------------


def test_a_cosigner_confirms_and_the_proposal_goes_to_review(world, client):
    proposal = make_proposal(world, state=State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer])
    client.force_login(world.lisi)
    response = client.post(
        reverse("proposals:cosign", args=[proposal.pk]), {"decision": "confirm", "comment": "同意"}
    )
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert messages_of(response) == ["You co-signed the proposal."]
    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED
    assert Event.objects.get(proposal=proposal, verb="cosign_confirmed").comment == "同意"


def test_a_cosigner_declines(world, client):
    proposal = make_proposal(world, state=State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer])
    client.force_login(world.lisi)
    response = client.post(reverse("proposals:cosign", args=[proposal.pk]), {"decision": "decline"})
    assert messages_of(response) == ["You declined to co-sign the proposal."]
    assert proposal.proposer_list.get(position=1).status == Status.DECLINED


def test_answering_twice_is_refused(world, client):
    other = Proposer.objects.create(name="王五")
    proposal = make_proposal(
        world, state=State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer, other]
    )
    client.force_login(world.lisi)
    url = reverse("proposals:cosign", args=[proposal.pk])
    client.post(url, {"decision": "confirm"})
    response = client.post(url, {"decision": "decline"})
    assert messages_of(response)[-1] == "You have already answered."
    assert proposal.proposer_list.get(proposer=world.lisi_proposer).status == Status.CONFIRMED


def test_a_cosign_without_a_decision_changes_nothing(world, client):
    proposal = make_proposal(world, state=State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer])
    client.force_login(world.lisi)
    response = client.post(reverse("proposals:cosign", args=[proposal.pk]), {"decision": "maybe"})
    assert messages_of(response) == ["Choose whether to co-sign the proposal."]
    assert proposal.proposer_list.get(position=1).status == Status.PENDING


def test_the_first_proposer_cannot_cosign(world, client):
    proposal = make_proposal(world, state=State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer])
    client.force_login(world.zhanghua)
    response = client.post(reverse("proposals:cosign", args=[proposal.pk]), {"decision": "confirm"})
    assert messages_of(response) == ["You are not a co-signer of this proposal."]


def test_cosign_answers_get_with_405_and_strangers_with_404_or_403(world, client):
    proposal = make_proposal(world, state=State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer])
    url = reverse("proposals:cosign", args=[proposal.pk])
    client.force_login(world.lisi)
    assert client.get(url).status_code == 405
    stranger = Proposer.objects.create(name="赵六", user=world.outsider)
    client.force_login(stranger.user)
    assert client.post(url, {"decision": "confirm"}).status_code == 404
    client.force_login(world.kjj)
    assert client.post(url, {"decision": "confirm"}).status_code == 403
    assert proposal.proposer_list.get(position=1).status == Status.PENDING


# --- withdraw --------------------------------------------------------------------------------


def test_the_first_proposer_withdraws_before_acceptance(world, client):
    proposal = make_proposal(world, state=State.SUBMITTED)
    client.force_login(world.zhanghua)
    response = client.post(
        reverse("proposals:withdraw", args=[proposal.pk]), {"comment": "情况已变化"}
    )
    assert response.status_code == 302
    assert messages_of(response) == ["The proposal was withdrawn."]
    proposal.refresh_from_db()
    assert proposal.state == State.WITHDRAWN
    assert Event.objects.get(proposal=proposal, verb="withdrawn").comment == "情况已变化"


def test_after_acceptance_a_proposer_is_told_to_ask_the_committee(world, client):
    proposal = make_proposal(world, state=State.ACCEPTED, number=70)
    client.force_login(world.zhanghua)
    response = client.post(reverse("proposals:withdraw", args=[proposal.pk]), {"comment": "撤"})
    assert "committee" in messages_of(response)[0]
    proposal.refresh_from_db()
    assert proposal.state == State.ACCEPTED


def test_committee_staff_withdraw_an_accepted_proposal_with_a_reason(world, client):
    proposal = make_proposal(world, state=State.ACCEPTED, number=70)
    client.force_login(world.tiwei)
    url = reverse("proposals:withdraw", args=[proposal.pk])
    response = client.post(url, {"comment": ""})
    assert messages_of(response) == ["Please give the reason for the withdrawal."]
    proposal.refresh_from_db()
    assert proposal.state == State.ACCEPTED
    client.post(url, {"comment": "提案人书面申请撤案"})
    proposal.refresh_from_db()
    assert proposal.state == State.WITHDRAWN


def test_withdraw_answers_get_with_405_and_strangers_with_404_or_403(world, client):
    proposal = make_proposal(world, state=State.SUBMITTED)
    url = reverse("proposals:withdraw", args=[proposal.pk])
    client.force_login(world.zhanghua)
    assert client.get(url).status_code == 405
    client.force_login(world.lisi)
    assert client.post(url).status_code == 404
    client.force_login(world.outsider)
    assert client.post(url).status_code == 403
    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED
