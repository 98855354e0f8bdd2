"""Committee staff screens: register from paper, review, assign one or many, return requests."""

import datetime
import time

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Proposer, Unit
from proposals import deadlines, services
from proposals.models import (
    Assignment,
    Category,
    Event,
    Proposal,
    ProposalProposer,
    RejectionReason,
)

State = Proposal.State


@pytest.fixture
def client(client):
    # Messages are asserted in the English msgids, whatever the catalog says.
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def staff(world, client):
    client.force_login(world.tiwei)
    return client


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def make_proposal(
    world, state=State.SUBMITTED, number=None, title="关于完善社区养老服务的建议", **kw
):
    proposal = Proposal.objects.create(
        session=world.session,
        number=number,
        title=title,
        reasons="理由",
        suggestions="建议",
        category=kw.pop("category", world.category),
        state=state,
        submitted_at=timezone.now(),
        **kw,
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.zhanghua_proposer, position=0)
    return proposal


def make_accepted(world, count, category=None, start=100):
    """`count` accepted proposals numbered from `start`, with their first proposer."""
    proposals = Proposal.objects.bulk_create(
        Proposal(
            session=world.session,
            number=start + i,
            title=f"关于第{i}项工作的建议",
            reasons="理由",
            suggestions="建议",
            category=category or world.category,
            state=State.ACCEPTED,
            review_outcome=Proposal.ReviewOutcome.ACCEPT,
        )
        for i in range(count)
    )
    ProposalProposer.objects.bulk_create(
        ProposalProposer(proposal=p, proposer=world.zhanghua_proposer, position=0)
        for p in proposals
    )
    return proposals


def paper_data(world, **overrides):
    data = {
        "first_proposer": world.zhanghua_proposer.pk,
        "cosigners": [world.lisi_proposer.pk],
        "title": "关于发展智慧农业的建议",
        "reasons": "我区农业数字化程度不高。",
        "suggestions": "一、建设智慧农业示范基地。",
        "category": world.category.pk,
        "suggested_units": [world.kjj_unit.pk],
        "consent_to_publish": "on",
        "period": "plenary",
        "session": world.session.pk,
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


COMMITTEE_GET = [
    ("proposals:register", False),
    ("proposals:review_queue", False),
    ("proposals:review", True),
    ("proposals:assign", True),
    ("proposals:assign_bulk", False),
    ("proposals:return_requests", False),
]


@pytest.mark.parametrize("name, with_pk", COMMITTEE_GET)
@pytest.mark.parametrize("username", ["zhanghua", "kjj", "kjj_leader", "outsider"])
def test_every_committee_page_is_forbidden_to_other_roles(world, client, name, with_pk, username):
    client.force_login(getattr(world, username))
    url = reverse(name, args=[world.proposal.pk] if with_pk else [])
    assert client.get(url).status_code == 403
    assert client.post(url, {}).status_code == 403


@pytest.mark.parametrize("name, with_pk", COMMITTEE_GET)
def test_every_committee_page_sends_anonymous_users_to_login(world, client, name, with_pk):
    url = reverse(name, args=[world.proposal.pk] if with_pk else [])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


# --- register --------------------------------------------------------------------------------


def test_staff_register_a_paper_joint_proposal_and_it_goes_to_review(world, staff):
    response = staff.post(reverse("proposals:register"), paper_data(world))
    proposal = Proposal.objects.get(title="关于发展智慧农业的建议")
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert messages_of(response) == ["The proposal was registered and submitted for review."]
    assert proposal.state == State.SUBMITTED
    assert proposal.on_paper
    assert proposal.kind == Proposal.Kind.COSIGNED
    assert proposal.created_by == world.tiwei
    assert [
        (s.proposer, s.position, s.status) for s in proposal.proposer_list.order_by("position")
    ] == [
        (world.zhanghua_proposer, 0, "confirmed"),
        (world.lisi_proposer, 1, "confirmed"),
    ]
    verbs = list(Event.objects.filter(proposal=proposal).values_list("verb", "actor"))
    assert verbs == [("created", world.tiwei.pk), ("submitted", world.tiwei.pk)]


@pytest.mark.parametrize(
    "proposer_kind, proposal_kind",
    [
        (Proposer.Kind.PARTY, Proposal.Kind.PARTY),
        (Proposer.Kind.GROUP, Proposal.Kind.PARTY),
        (Proposer.Kind.SECTOR, Proposal.Kind.SECTOR),
        (Proposer.Kind.SPECIAL_COMMITTEE, Proposal.Kind.SPECIAL_COMMITTEE),
    ],
)
def test_a_collective_first_proposer_sets_the_kind(world, staff, proposer_kind, proposal_kind):
    collective = Proposer.objects.create(name="民盟梁平区委", kind=proposer_kind)
    staff.post(
        reverse("proposals:register"),
        paper_data(world, first_proposer=collective.pk, cosigners=None),
    )
    assert Proposal.objects.get(title="关于发展智慧农业的建议").kind == proposal_kind


def test_a_paper_member_proposal_without_cosigners_is_individual(world, staff):
    staff.post(reverse("proposals:register"), paper_data(world, cosigners=None))
    assert Proposal.objects.get(title="关于发展智慧农业的建议").kind == Proposal.Kind.INDIVIDUAL


def test_registering_validates_like_the_proposer_form_and_keeps_the_input(world, staff):
    response = staff.post(
        reverse("proposals:register"),
        paper_data(world, suggestions="", consent_to_publish=None, first_proposer=""),
    )
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {
        "suggestions",
        "no_publish_reason",
        "first_proposer",
    }
    assert "我区农业数字化程度不高。" in response.content.decode()
    assert not Proposal.objects.filter(title="关于发展智慧农业的建议").exists()


def test_the_first_proposer_cannot_also_cosign_a_paper_proposal(world, staff):
    response = staff.post(
        reverse("proposals:register"), paper_data(world, cosigners=[world.zhanghua_proposer.pk])
    )
    assert "cosigners" in response.context["form"].errors
    assert not Proposal.objects.filter(title="关于发展智慧农业的建议").exists()


# --- review queue ----------------------------------------------------------------------------


def test_the_review_queue_lists_submitted_proposals_oldest_first(world, staff):
    later = make_proposal(world, title="后提交")
    earlier = make_proposal(world, title="先提交")
    Proposal.objects.filter(pk=earlier.pk).update(
        submitted_at=timezone.now() - datetime.timedelta(days=1)
    )
    make_proposal(world, state=State.DRAFT, title="草稿")
    response = staff.get(reverse("proposals:review_queue"))
    assert [p.title for p in response.context["page"]] == ["先提交", "后提交"]
    html = response.content.decode()
    assert "(2)" in html
    assert reverse("proposals:review", args=[later.pk]) in html
    assert "张华" in html


@pytest.mark.parametrize("count", [3, 20])
def test_the_review_queue_costs_the_same_queries_for_3_and_20(
    world, staff, count, django_assert_num_queries
):
    for i in range(count):
        proposal = make_proposal(world, title=f"提案{i}")
        ProposalProposer.objects.create(proposal=proposal, proposer=world.lisi_proposer, position=1)
    # session, user, count, page, signers, unread notifications
    with django_assert_num_queries(6):
        response = staff.get(reverse("proposals:review_queue"))
    assert len(response.context["page"]) == count


# --- review ----------------------------------------------------------------------------------


def test_accepting_gives_the_next_number_and_says_it(world, staff):
    proposal = make_proposal(world)
    response = staff.get(reverse("proposals:review", args=[proposal.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for outcome in ("accept", "merge", "convert", "reject"):
        assert f'name="outcome" value="{outcome}"' in html
    response = staff.post(
        reverse("proposals:review", args=[proposal.pk]), {"outcome": "accept", "comment": "同意"}
    )
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert messages_of(response) == ["Accepted as 第070号."]
    proposal.refresh_from_db()
    assert (proposal.state, proposal.number, proposal.review_comment) == (
        State.ACCEPTED,
        70,
        "同意",
    )


def test_merging_names_the_accepted_proposal_by_its_number(world, staff):
    proposal = make_proposal(world)
    response = staff.post(
        reverse("proposals:review", args=[proposal.pk]), {"outcome": "merge", "merge_into": "69"}
    )
    assert messages_of(response) == ["Merged into 第069号."]
    proposal.refresh_from_db()
    assert (proposal.state, proposal.merged_into) == (State.MERGED, world.proposal)


@pytest.mark.parametrize("number, error", [("", "Give the number"), ("12", "no proposal number")])
def test_merging_needs_an_existing_number_in_the_session(world, staff, number, error):
    proposal = make_proposal(world)
    response = staff.post(
        reverse("proposals:review", args=[proposal.pk]), {"outcome": "merge", "merge_into": number}
    )
    assert response.status_code == 200
    assert error in response.context["form"].errors["merge_into"][0]
    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED


def test_merging_into_a_withdrawn_proposal_is_refused(world, staff):
    make_proposal(world, state=State.WITHDRAWN, number=70)
    proposal = make_proposal(world)
    response = staff.post(
        reverse("proposals:review", args=[proposal.pk]), {"outcome": "merge", "merge_into": "70"}
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "A proposal can only be merged into an accepted proposal."
    ]
    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED


def test_converting_turns_the_proposal_into_an_opinion(world, staff):
    proposal = make_proposal(world)
    staff.post(
        reverse("proposals:review", args=[proposal.pk]), {"outcome": "convert", "comment": "转交"}
    )
    proposal.refresh_from_db()
    assert proposal.state == State.CONVERTED


def test_rejecting_needs_a_coded_reason(world, staff):
    reason = RejectionReason.objects.create(code="R04", label="空泛无具体建议")
    proposal = make_proposal(world)
    url = reverse("proposals:review", args=[proposal.pk])
    response = staff.post(url, {"outcome": "reject", "comment": "请补充具体建议"})
    assert response.status_code == 200
    assert "rejection_reason" in response.context["form"].errors
    assert "请补充具体建议" in response.content.decode()
    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED
    staff.post(url, {"outcome": "reject", "rejection_reason": reason.pk, "comment": "请补充"})
    proposal.refresh_from_db()
    assert (proposal.state, proposal.rejection_reason) == (State.REJECTED, reason)


def test_an_outcome_is_required(world, staff):
    proposal = make_proposal(world)
    response = staff.post(reverse("proposals:review", args=[proposal.pk]), {"comment": "x"})
    assert "outcome" in response.context["form"].errors


def test_accepting_a_withdrawn_proposal_is_refused_and_changes_nothing(world, staff):
    proposal = make_proposal(world, state=State.WITHDRAWN)
    url = reverse("proposals:review", args=[proposal.pk])
    response = staff.get(url)
    assert response.status_code == 302
    assert messages_of(response) == ["This proposal is not waiting for review."]
    response = staff.post(url, {"outcome": "accept"})
    assert response.status_code == 200
    assert "cannot be done" in response.context["form"].non_field_errors()[0]
    proposal.refresh_from_db()
    assert (proposal.state, proposal.number) == (State.WITHDRAWN, None)


def test_reviewing_an_unknown_proposal_is_404(world, staff):
    assert staff.get(reverse("proposals:review", args=[99999])).status_code == 404


# --- assign ----------------------------------------------------------------------------------


def test_the_assign_form_is_prefilled_from_the_rules_and_the_suggested_units(world, staff):
    proposal = make_proposal(world, state=State.ACCEPTED, number=70)
    proposal.suggested_units.set([world.kjj_unit, world.jxw_unit])
    response = staff.get(reverse("proposals:assign", args=[proposal.pk]))
    assert response.status_code == 200
    form = response.context["form"]
    today = timezone.localdate()
    assert form.initial["reply_due"] == deadlines.reply_due(today).due
    assert form.initial["opinion_due"] == deadlines.co_opinion_due(today).due
    assert (form.initial["mode"], form.initial["lead"], form.initial["co_units"]) == (
        "joint",
        world.kjj_unit.pk,
        [world.jxw_unit.pk],
    )
    html = response.content.decode()
    assert str(deadlines.reply_due(today).explanation) in html
    for mode in ("single", "split", "joint"):
        assert f'name="mode" value="{mode}"' in html


def assign_data(world, **overrides):
    today = timezone.localdate()
    data = {
        "mode": "joint",
        "lead": world.kjj_unit.pk,
        "co_units": [world.jxw_unit.pk],
        "reply_due": deadlines.reply_due(today).due.isoformat(),
        "opinion_due": deadlines.co_opinion_due(today).due.isoformat(),
        "due_change_reason": "",
        "comment": "请认真办理",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_staff_assign_a_proposal_in_joint_mode(world, staff):
    proposal = make_proposal(world, state=State.ACCEPTED, number=70)
    response = staff.post(reverse("proposals:assign", args=[proposal.pk]), assign_data(world))
    assert response.status_code == 302
    assert response["Location"] == proposal.get_absolute_url()
    assert messages_of(response) == ["第070号 was assigned."]
    proposal.refresh_from_db()
    assert (proposal.state, proposal.handling_mode) == (State.ASSIGNED, "joint")
    rows = {a.unit: a for a in proposal.assignments.all()}
    today = timezone.localdate()
    assert rows[world.kjj_unit].role == "lead"
    assert rows[world.kjj_unit].reply_due == deadlines.reply_due(today).due
    assert rows[world.jxw_unit].opinion_due == deadlines.co_opinion_due(today).due


def test_changing_a_deadline_needs_a_reason_shown_at_the_field(world, staff):
    proposal = make_proposal(world, state=State.ACCEPTED, number=70)
    url = reverse("proposals:assign", args=[proposal.pk])
    earlier = deadlines.reply_due(timezone.localdate()).due - datetime.timedelta(days=30)
    response = staff.post(url, assign_data(world, reply_due=earlier.isoformat()))
    assert response.status_code == 200
    assert "due_change_reason" in response.context["form"].errors
    assert earlier.isoformat() in response.content.decode()
    assert not proposal.assignments.exists()
    staff.post(
        url, assign_data(world, reply_due=earlier.isoformat(), due_change_reason="年度重点工作")
    )
    lead = proposal.assignments.get(role="lead")
    assert (lead.reply_due, lead.due_change_reason) == (earlier, "年度重点工作")


def test_a_mode_that_does_not_fit_the_units_is_refused(world, staff):
    proposal = make_proposal(world, state=State.ACCEPTED, number=70)
    response = staff.post(
        reverse("proposals:assign", args=[proposal.pk]), assign_data(world, co_units=None)
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [
        "Joint handling needs at least one co-handling unit."
    ]
    proposal.refresh_from_db()
    assert proposal.state == State.ACCEPTED
    assert not proposal.assignments.exists()


def test_a_proposal_not_accepted_cannot_be_assigned(world, staff):
    proposal = make_proposal(world)
    url = reverse("proposals:assign", args=[proposal.pk])
    response = staff.get(url)
    assert response.status_code == 302
    assert messages_of(response) == ["Only an accepted proposal can be assigned."]
    response = staff.post(url, assign_data(world))
    assert response.status_code == 200
    assert "cannot be done" in response.context["form"].non_field_errors()[0]
    assert not proposal.assignments.exists()


# --- bulk assignment -------------------------------------------------------------------------


def test_the_bulk_page_lists_accepted_proposals_of_the_current_session(world, staff):
    accepted = make_accepted(world, 3)
    other_category = Category.objects.create(name="社会建设")
    make_accepted(world, 2, category=other_category, start=200)
    make_proposal(world, title="未立案")
    response = staff.get(reverse("proposals:assign_bulk"))
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 5
    html = response.content.decode()
    assert f'name="proposals" value="{accepted[0].pk}"' in html
    response = staff.get(
        reverse("proposals:assign_bulk"),
        {"session": world.session.pk, "category": other_category.pk},
    )
    assert [p.number for p in response.context["page"]] == [200, 201]


@pytest.mark.parametrize("count", [3, 20])
def test_the_bulk_page_costs_the_same_queries_for_3_and_20(
    world, staff, count, django_assert_num_queries
):
    for proposal in make_accepted(world, count):
        proposal.suggested_units.set([world.kjj_unit])
    # session, user, current session, count, page, suggested units, unread notifications,
    # the session and category choices of the filter, and the units of the form
    with django_assert_num_queries(10):
        response = staff.get(reverse("proposals:assign_bulk"))
    assert len(response.context["page"]) == count


def test_staff_assign_many_proposals_in_one_post(world, staff):
    proposals = make_accepted(world, 3)
    response = staff.post(
        reverse("proposals:assign_bulk"),
        {"proposals": [p.pk for p in proposals], "mode": "single", "lead": world.kjj_unit.pk},
    )
    assert response.status_code == 302
    assert messages_of(response) == ["3 proposals were assigned."]
    assert set(
        Proposal.objects.filter(pk__in=[p.pk for p in proposals]).values_list("state", flat=True)
    ) == {State.ASSIGNED}
    assert Assignment.objects.filter(unit=world.kjj_unit, proposal__in=proposals).count() == 3


def test_one_proposal_that_cannot_be_assigned_stops_them_all_and_is_named(world, staff):
    proposals = make_accepted(world, 3)
    Proposal.objects.filter(pk=proposals[1].pk).update(state=State.WITHDRAWN)
    response = staff.post(
        reverse("proposals:assign_bulk"),
        {"proposals": [p.pk for p in proposals], "mode": "single", "lead": world.kjj_unit.pk},
    )
    assert response.status_code == 200
    [error] = response.context["form"].non_field_errors()
    assert error.startswith("第101号")
    assert not Assignment.objects.filter(proposal__in=proposals).exists()
    html = response.content.decode()
    assert f'value="{proposals[0].pk}" id="proposal-{proposals[0].pk}" checked' in html


def test_bulk_assignment_needs_a_selection(world, staff):
    make_accepted(world, 2)
    response = staff.post(
        reverse("proposals:assign_bulk"), {"mode": "single", "lead": world.kjj_unit.pk}
    )
    assert response.status_code == 200
    assert "proposals" in response.context["form"].errors


def post_bulk(staff, world, proposals):
    data = {
        "proposals": [p.pk for p in proposals],
        "mode": "joint",
        "lead": world.kjj_unit.pk,
        "co_units": [world.jxw_unit.pk],
    }
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        response = staff.post(reverse("proposals:assign_bulk"), data)
    assert response.status_code == 302
    return time.perf_counter() - started, len(queries)


def test_300_proposals_are_assigned_by_one_post(world, staff, capsys):
    few = make_accepted(world, 10, start=1000)
    many = make_accepted(world, 300)
    _seconds, few_queries = post_bulk(staff, world, few)
    seconds, many_queries = post_bulk(staff, world, many)
    assert Proposal.objects.filter(pk__in=[p.pk for p in many], state=State.ASSIGNED).count() == 300
    assert Assignment.objects.filter(proposal__in=many).count() == 600
    per_proposal = (many_queries - few_queries) / 290
    with capsys.disabled():
        print(
            f"\nbulk assignment of 300 on {connection.vendor}: {seconds:.2f} s, "
            f"{many_queries} queries ({few_queries} for 10; {per_proposal:.1f} per proposal)"
        )
    # Linear in the number of proposals, with a small constant per proposal.
    assert per_proposal <= 10


# --- return requests -------------------------------------------------------------------------


@pytest.fixture
def return_request(world):
    return services.request_return(world.co, world.jxw, "不属于我委职责范围")


def test_staff_see_the_waiting_return_requests_with_their_window(world, staff, return_request):
    response = staff.get(reverse("proposals:return_requests"))
    assert response.status_code == 200
    [row] = response.context["requests"]
    assert row == world.co
    assert row.window.due == deadlines.return_window(world.co.assigned_at).due
    html = response.content.decode()
    assert "不属于我委职责范围" in html
    assert reverse("proposals:decide_return", args=[world.co.pk]) in html
    assert 'name="decision" value="approve"' in html


@pytest.mark.parametrize("count", [1, 5])
def test_the_return_requests_page_costs_the_same_queries_for_1_and_5(
    world, staff, count, django_assert_num_queries
):
    for proposal in make_accepted(world, count):
        services.assign(proposal, world.tiwei, "single", lead=world.other_unit)
        services.request_return(proposal.assignments.get(), world.outsider, "不属于我委")
    # session, user, requests, calendar corrections, units, unread notifications
    with django_assert_num_queries(6):
        response = staff.get(reverse("proposals:return_requests"))
    assert len(response.context["requests"]) == count


def test_approving_a_return_reassigns_the_proposal(world, staff, return_request):
    new_unit = Unit.objects.create(name="重庆市梁平区招商投资局", short_name="区招商投资局")
    response = staff.post(
        reverse("proposals:decide_return", args=[world.co.pk]),
        {"decision": "approve", "new_unit": new_unit.pk, "comment": "改由区招商投资局协办"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("proposals:return_requests")
    assert messages_of(response) == [
        "The return request of 区经济信息委 was approved; 区招商投资局 takes 第069号 over."
    ]
    world.co.refresh_from_db()
    assert (world.co.is_active, world.co.return_status) == (False, "approved")
    assert world.co.replaced_by.unit == new_unit


def test_refusing_a_return_keeps_the_unit(world, staff, return_request):
    staff.post(
        reverse("proposals:decide_return", args=[world.co.pk]),
        {"decision": "refuse", "comment": "属于职责范围"},
    )
    world.co.refresh_from_db()
    assert (world.co.is_active, world.co.return_status) == (True, "refused")


def test_approving_without_a_unit_shows_the_error_in_the_list(world, staff, return_request):
    response = staff.post(
        reverse("proposals:decide_return", args=[world.co.pk]),
        {"decision": "approve", "comment": "我的意见"},
    )
    assert response.status_code == 200
    [row] = response.context["requests"]
    assert "new_unit" in row.form.errors
    assert "我的意见" in response.content.decode()
    world.co.refresh_from_db()
    assert world.co.return_status == "requested"


def test_reassigning_to_a_unit_already_on_the_proposal_is_refused(world, staff, return_request):
    response = staff.post(
        reverse("proposals:decide_return", args=[world.co.pk]),
        {"decision": "approve", "new_unit": world.kjj_unit.pk},
    )
    assert response.status_code == 200
    [row] = response.context["requests"]
    assert row.form.non_field_errors() == ["区科技局 is already handling this proposal."]
    world.co.refresh_from_db()
    assert (world.co.is_active, world.co.return_status) == (True, "requested")


def test_a_decided_request_cannot_be_decided_again(world, staff, return_request):
    url = reverse("proposals:decide_return", args=[world.co.pk])
    staff.post(url, {"decision": "refuse"})
    response = staff.post(url, {"decision": "refuse", "comment": "再次"})
    assert response.status_code == 302
    assert messages_of(response)[-1] == "There is no return request waiting for a decision."


def test_decide_return_is_post_only_and_404_for_an_unknown_assignment(world, staff):
    assert staff.get(reverse("proposals:decide_return", args=[world.co.pk])).status_code == 405
    response = staff.post(reverse("proposals:decide_return", args=[99999]), {"decision": "refuse"})
    assert response.status_code == 404


@pytest.mark.parametrize("username", ["jxw", "kjj_leader", "zhanghua", "outsider"])
def test_only_staff_decide_return_requests(world, client, return_request, username):
    client.force_login(getattr(world, username))
    response = client.post(
        reverse("proposals:decide_return", args=[world.co.pk]), {"decision": "refuse"}
    )
    assert response.status_code == 403
    world.co.refresh_from_db()
    assert world.co.return_status == "requested"
