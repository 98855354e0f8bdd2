"""The proposal page and the workspace: what each viewer sees and may do."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from accounts.models import Membership, Unit
from proposals import deadlines, services
from proposals.models import (
    Assignment,
    Event,
    Proposal,
    ProposalProposer,
    RejectionReason,
)
from tests.conftest import make_user

State = Proposal.State


def tr_event(msgid):
    with translation.override("zh-hans"):
        return translation.pgettext("event", msgid)


def tr(msgid, **params):
    with translation.override("zh-hans"):
        text = gettext(msgid)
    return text % params if params else text


def shows(response, text):
    return escape(str(text)) in response.content.decode()


def detail(client, user, proposal):
    client.force_login(user)
    return client.get(reverse("proposals:detail", args=[proposal.pk]))


def make_proposal(world, state=State.DRAFT, cosigners=(), number=None, **fields):
    proposal = Proposal.objects.create(
        session=world.session,
        number=number,
        title=fields.pop("title", "关于完善社区养老服务的建议"),
        reasons="社区养老服务供给不足。",
        suggestions="增加日间照料中心。",
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


@pytest.fixture
def park(world):
    """A second co-handling unit on 069 (工业园区管委会) with its own handler."""
    unit = Unit.objects.create(name="重庆市梁平区工业园区管委会", short_name="工业园区管委会")
    user = make_user("park", "园区经办人")
    Membership.objects.create(user=user, unit=unit)
    assignment = Assignment.objects.create(
        proposal=world.proposal,
        unit=unit,
        role=Assignment.Role.CO,
        assigned_at=timezone.now(),
        opinion_due=datetime.date.today() + datetime.timedelta(days=30),
    )
    return type("Park", (), {"unit": unit, "user": user, "assignment": assignment})


def send_opinion(assignment, user, body):
    return services.send_opinion(
        assignment, user, title=f"{assignment.unit.name}关于第069号提案的会办意见", body=body
    )


# --- what is shown -------------------------------------------------------------------------------


def test_the_page_shows_the_proposal_and_its_assignments(client, world):
    world.proposal.is_key = True
    world.proposal.supervising_leader = "区政协副主席"
    world.proposal.save()
    response = detail(client, world.tiwei, world.proposal)
    assert response.status_code == 200
    for text in (
        "第069号",
        "关于加快创建国家级高新区的建议",
        str(world.session),
        "经济建设",
        "区政协副主席",
        "张华",
        "理由",
        "建议",
        "重庆市梁平区科学技术局",
        "重庆市梁平区经济和信息化委员会",
        tr("In handling"),
        tr("First proposer"),
        tr("Key proposal"),
    ):
        assert shows(response, text), text


def test_each_deadline_says_how_it_was_worked_out(client, world):
    assigned = timezone.now()
    rule = deadlines.reply_due(assigned)
    Assignment.objects.filter(pk=world.lead.pk).update(assigned_at=assigned, reply_due=rule.due)
    response = detail(client, world.kjj, world.proposal)
    assert f'title="{escape(str(rule.explanation))}"' in response.content.decode()
    window = deadlines.return_window(world.co.assigned_at)
    assert shows(response, window.explanation)
    opinion_rule = deadlines.co_opinion_due(world.co.assigned_at)
    assert shows(response, opinion_rule.explanation)


def test_a_changed_or_extended_deadline_gives_its_reason(client, world):
    Assignment.objects.filter(pk=world.lead.pk).update(
        extended_due=datetime.date.today() + datetime.timedelta(days=120),
        extension_reason="需市级部门批复",
    )
    Assignment.objects.filter(pk=world.co.pk).update(due_change_reason="春节假期较长")
    response = detail(client, world.tiwei, world.proposal)
    assert shows(response, tr("Extended: %(reason)s", reason="需市级部门批复"))
    assert shows(response, tr("Set at assignment: %(reason)s", reason="春节假期较长"))


def test_the_timeline_translates_known_verbs_and_shows_unknown_ones_raw(client, world):
    services.acknowledge(world.co, world.jxw)
    Event.objects.create(
        proposal=world.proposal,
        actor=world.tiwei,
        verb="accepted",
        from_state=State.SUBMITTED,
        to_state=State.ACCEPTED,
        comment="符合立案标准",
    )
    Event.objects.create(proposal=world.proposal, verb="frobnicated", to_state="limbo")
    response = detail(client, world.zhanghua, world.proposal)
    timeline = response.context["timeline"]
    assert [row["verb"] for row in timeline] == ["acknowledged", "accepted", "frobnicated"]
    assert shows(response, tr_event("Acknowledged"))
    assert shows(response, tr_event("Accepted"))
    assert shows(response, f"{tr('Submitted')} → {tr('Accepted')}")
    assert shows(response, "符合立案标准")
    assert shows(response, "提案委")
    assert timeline[2]["label"] == "frobnicated"
    assert shows(response, "frobnicated")
    assert timeline[2]["to_state"] == "limbo"


def test_the_co_handling_opinions_are_shown_only_to_those_allowed(client, world, park):
    send_opinion(world.co, world.jxw, "经信委的意见正文")
    send_opinion(park.assignment, park.user, "园区的意见正文")

    lead = detail(client, world.kjj, world.proposal)
    assert shows(lead, "经信委的意见正文") and shows(lead, "园区的意见正文")

    committee = detail(client, world.tiwei, world.proposal)
    assert shows(committee, "经信委的意见正文") and shows(committee, "园区的意见正文")

    own = detail(client, world.jxw, world.proposal)
    assert shows(own, "经信委的意见正文")
    assert not shows(own, "园区的意见正文")
    assert not shows(own, "重庆市梁平区工业园区管委会关于第069号提案的会办意见")

    proposer = detail(client, world.zhanghua, world.proposal)
    assert not shows(proposer, "经信委的意见正文")
    assert not shows(proposer, "园区的意见正文")
    # Not even the titles, through the timeline.
    assert not shows(proposer, "关于第069号提案的会办意见")
    assert shows(proposer, tr_event("Co-handling opinion sent"))


def test_the_lead_unit_sees_which_co_units_are_outstanding(client, world, park):
    send_opinion(world.co, world.jxw, "经信委的意见正文")
    response = detail(client, world.kjj, world.proposal)
    assert [a.unit.short_name for a in response.context["outstanding"]] == ["工业园区管委会"]
    assert shows(response, tr("Still outstanding"))
    co = detail(client, world.jxw, world.proposal)
    assert not shows(co, tr("Still outstanding"))
    proposer = detail(client, world.zhanghua, world.proposal)
    assert not shows(proposer, tr("Still outstanding"))


def test_contact_records_are_shown_to_the_proposer_and_the_units(client, world):
    services.record_contact(
        world.lead, world.kjj, datetime.date.today(), "visit", "局长、张华", True, "实地走访园区"
    )
    for user in (world.zhanghua, world.kjj, world.jxw, world.tiwei):
        response = detail(client, user, world.proposal)
        assert shows(response, "实地走访园区"), user
        assert shows(response, tr("a leader took part")), user


def test_return_requests_are_shown_to_the_units_and_committee_not_the_proposer(client, world):
    services.request_return(world.co, world.jxw, "职责不符的理由")
    assert shows(detail(client, world.tiwei, world.proposal), "职责不符的理由")
    assert shows(detail(client, world.kjj, world.proposal), "职责不符的理由")
    proposer = detail(client, world.zhanghua, world.proposal)
    assert not shows(proposer, "职责不符的理由")
    assert not shows(proposer, tr("Return requested"))


def test_a_returned_assignment_stays_in_the_history_for_the_committee_only(client, world):
    services.request_return(world.co, world.jxw, "职责不符")
    services.decide_return(world.co, world.tiwei, True, "同意", new_unit=world.other_unit)
    committee = detail(client, world.tiwei, world.proposal)
    assert [a.unit for a in committee.context["assignments"]] == [
        world.kjj_unit,
        world.jxw_unit,
        world.other_unit,
    ]
    assert shows(committee, tr("no longer active"))
    proposer = detail(client, world.zhanghua, world.proposal)
    assert [a.unit for a in proposer.context["assignments"]] == [world.kjj_unit, world.other_unit]
    # The unit that gave the proposal back no longer sees it.
    assert detail(client, world.jxw, world.proposal).status_code == 404


def test_the_review_outcome_is_shown_to_proposers_and_committee(client, world):
    reason = RejectionReason.objects.create(code="vague", label="空泛无具体建议")
    proposal = make_proposal(world, State.SUBMITTED)
    services.reject(proposal, world.tiwei, reason, "请补充具体措施")
    for user in (world.zhanghua, world.tiwei):
        response = detail(client, user, proposal)
        assert shows(response, "空泛无具体建议")
        assert shows(response, "请补充具体措施")
        assert shows(response, tr("Reject"))


def test_the_review_comment_is_not_shown_to_the_units(client, world):
    Proposal.objects.filter(pk=world.proposal.pk).update(review_comment="内部审查意见")
    assert shows(detail(client, world.zhanghua, world.proposal), "内部审查意见")
    assert not shows(detail(client, world.kjj, world.proposal), "内部审查意见")


def test_merged_proposals_are_linked_both_ways(client, world):
    merged = make_proposal(world, State.SUBMITTED, title="关于建设科技园区的建议")
    services.merge(merged, world.proposal, world.tiwei, "内容相近")
    into = detail(client, world.zhanghua, world.proposal)
    assert shows(into, "关于建设科技园区的建议")
    assert merged.get_absolute_url() in into.content.decode()
    back = detail(client, world.zhanghua, merged)
    assert shows(back, "关于加快创建国家级高新区的建议")
    assert world.proposal.get_absolute_url() in back.content.decode()
    # The lead unit learns of the merged proposal, without a link it could not open.
    unit = detail(client, world.kjj, world.proposal)
    assert shows(unit, "关于建设科技园区的建议")
    assert merged.get_absolute_url() not in unit.content.decode()


def test_co_signers_status_is_shown_while_awaiting(client, world):
    proposal = make_proposal(world, State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer])
    response = detail(client, world.zhanghua, proposal)
    assert shows(response, "李四")
    assert shows(response, tr("Awaiting confirmation"))


# --- who gets in ---------------------------------------------------------------------------------


@pytest.mark.parametrize("user", ["outsider", "lisi"])
def test_the_page_is_404_for_those_it_does_not_concern(client, world, user):
    assert detail(client, getattr(world, user), world.proposal).status_code == 404


def test_the_page_sends_an_anonymous_visitor_to_log_in(client, world):
    response = client.get(reverse("proposals:detail", args=[world.proposal.pk]))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# --- the buttons ---------------------------------------------------------------------------------


def action_urls(response):
    """The action URLs the page links or posts to."""
    html = response.content.decode()
    return set(re.findall(r'(?:href|action)="(/work/proposals/[^"]*)"', html)) - {
        response.wsgi_request.path
    }


def url(name, obj):
    return reverse(f"proposals:{name}", args=[obj.pk])


def test_a_co_unit_is_offered_acknowledge_return_and_opinion_then_contact(client, world):
    response = detail(client, world.jxw, world.proposal)
    assert {
        url("acknowledge", world.co),
        url("request_return", world.co),
        url("opinion", world.co),
    } <= action_urls(response)
    # Contacts come with handling, after acknowledging.
    assert url("contact", world.co) not in action_urls(response)
    assert url("withdraw", world.proposal) not in action_urls(response)
    services.acknowledge(world.co, world.jxw)
    assert url("contact", world.co) in action_urls(detail(client, world.jxw, world.proposal))


def test_the_lead_unit_that_acknowledged_is_offered_only_contact(client, world):
    actions = action_urls(detail(client, world.kjj, world.proposal))
    assert url("contact", world.lead) in actions
    assert url("acknowledge", world.lead) not in actions
    assert url("request_return", world.lead) not in actions
    assert url("opinion", world.lead) not in actions
    assert url("opinion", world.co) not in actions


def test_the_opinion_button_goes_once_the_opinion_is_sent(client, world):
    send_opinion(world.co, world.jxw, "意见")
    assert url("opinion", world.co) not in action_urls(detail(client, world.jxw, world.proposal))


def test_the_return_button_goes_when_the_window_has_closed(client, world):
    Assignment.objects.filter(pk=world.co.pk).update(
        assigned_at=timezone.now() - datetime.timedelta(days=40)
    )
    actions = action_urls(detail(client, world.jxw, world.proposal))
    assert url("request_return", world.co) not in actions
    assert url("acknowledge", world.co) in actions


def test_the_first_proposer_of_an_assigned_proposal_may_only_ask_to_withdraw(client, world):
    response = detail(client, world.zhanghua, world.proposal)
    assert action_urls(response) == {url("withdraw", world.proposal)}
    assert response.context["actions"]["withdraw_is_request"]
    client.post(url("withdraw", world.proposal), {"comment": "已另行解决"})
    world.proposal.refresh_from_db()
    assert world.proposal.state == "handling"
    assert world.proposal.events.filter(verb="withdrawal_requested").exists()


def test_the_committee_may_withdraw_an_assigned_proposal_with_a_reason(client, world):
    response = detail(client, world.tiwei, world.proposal)
    assert url("withdraw", world.proposal) in action_urls(response)
    assert shows(response, tr("Reason for the withdrawal"))
    assert url("acknowledge", world.co) not in action_urls(response)


def test_the_first_proposer_may_edit_submit_and_withdraw_a_draft(client, world):
    proposal = make_proposal(world)
    actions = action_urls(detail(client, world.zhanghua, proposal))
    assert actions == {url("edit", proposal), url("submit", proposal), url("withdraw", proposal)}


def test_a_pending_co_signer_may_cosign_but_not_withdraw(client, world):
    proposal = make_proposal(world, State.AWAITING_COSIGNERS, cosigners=[world.lisi_proposer])
    assert action_urls(detail(client, world.lisi, proposal)) == {url("cosign", proposal)}
    assert action_urls(detail(client, world.zhanghua, proposal)) == {url("withdraw", proposal)}


def test_the_committee_reviews_a_submitted_and_assigns_an_accepted_proposal(client, world):
    submitted = make_proposal(world, State.SUBMITTED)
    assert url("review", submitted) in action_urls(detail(client, world.tiwei, submitted))
    accepted = make_proposal(world, State.ACCEPTED, number=70)
    actions = action_urls(detail(client, world.tiwei, accepted))
    assert url("assign", accepted) in actions
    assert url("review", accepted) not in actions


def test_a_closed_proposal_offers_nobody_anything(client, world):
    Proposal.objects.filter(pk=world.proposal.pk).update(state=State.CLOSED)
    for user in (world.tiwei, world.kjj, world.jxw, world.zhanghua):
        assert action_urls(detail(client, user, world.proposal)) == set(), user


# --- queries -------------------------------------------------------------------------------------


def add_work(world, n):
    """n more co-units, each with a sent opinion and a contact record (and their events)."""
    first = Unit.objects.count()
    for i in range(first, first + n):
        unit = Unit.objects.create(name=f"协办单位{i}", short_name=f"协办{i}")
        user = make_user(f"co{i}", f"协办经办人{i}")
        Membership.objects.create(user=user, unit=unit)
        assignment = Assignment.objects.create(
            proposal=world.proposal,
            unit=unit,
            role=Assignment.Role.CO,
            assigned_at=timezone.now(),
            opinion_due=datetime.date.today() + datetime.timedelta(days=30),
        )
        send_opinion(assignment, user, f"意见{i}")
        services.acknowledge(assignment, user)
        services.record_contact(assignment, user, datetime.date.today(), "phone", summary="电话")


# Session, user, memberships, proposer profile, proposal, signers, assignments, calendar
# corrections, opinions, contacts, merged proposals, events, unread notifications; units
# also ask which of theirs leads, and a proposer sees no opinion so asks for none; the reply
# letters the viewer may open (once: the letters section and the timeline's rules share them).
# + extension requests and 督办 notes for the committee and the units
DETAIL_QUERIES = {"tiwei": 16, "kjj": 17, "jxw": 17, "zhanghua": 13}


@pytest.mark.parametrize("user", DETAIL_QUERIES)
def test_the_page_makes_as_many_queries_for_4_units_as_for_1(
    client, world, django_assert_num_queries, user
):
    client.force_login(getattr(world, user))
    target = reverse("proposals:detail", args=[world.proposal.pk])
    add_work(world, 1)
    deadlines.current_rules()  # The deadline rules: read once, then from the cache.
    with django_assert_num_queries(DETAIL_QUERIES[user]):
        client.get(target)
    add_work(world, 3)
    with django_assert_num_queries(DETAIL_QUERIES[user]):
        response = client.get(target)
    assert len(response.context["assignments"]) == 6
    assert len(response.context["timeline"]) == 12


# --- merged proposals ----------------------------------------------------------------------------


def merge_into(world, target, number):
    """A proposal of 李四's, merged into `target`."""
    merged = Proposal.objects.create(
        session=world.session,
        number=number,
        title=f"并入的提案{number}",
        reasons="理由",
        suggestions="建议",
        category=world.category,
        state=State.MERGED,
        merged_into=target,
    )
    ProposalProposer.objects.create(proposal=merged, proposer=world.lisi_proposer, position=0)
    return merged


def links_to(response, proposal):
    return f'href="{proposal.get_absolute_url()}"' in response.content.decode()


@pytest.mark.parametrize(
    "user, links", [("tiwei", True), ("lisi", True), ("kjj", False), ("zhanghua", False)]
)
def test_a_merged_in_proposal_is_linked_only_for_who_may_open_it(client, world, user, links):
    merged = merge_into(world, world.proposal, 70)
    # 李四 co-signed 069 too, so reads its page; 069's unit and 张华 may not open 李四's proposal.
    ProposalProposer.objects.create(
        proposal=world.proposal,
        proposer=world.lisi_proposer,
        position=1,
        status=ProposalProposer.Status.CONFIRMED,
    )
    response = detail(client, getattr(world, user), world.proposal)
    assert response.status_code == 200
    assert shows(response, merged)
    assert links_to(response, merged) is links


@pytest.mark.parametrize("user, links", [("tiwei", True), ("lisi", False)])
def test_the_proposal_merged_into_is_linked_only_for_who_may_open_it(client, world, user, links):
    merged = merge_into(world, world.proposal, 70)
    response = detail(client, getattr(world, user), merged)
    assert response.status_code == 200
    assert shows(response, world.proposal)
    assert links_to(response, world.proposal) is links


def test_merged_in_proposals_cost_no_query_of_their_own(client, world, django_assert_num_queries):
    client.force_login(world.tiwei)
    target = reverse("proposals:detail", args=[world.proposal.pk])
    deadlines.current_rules()  # The deadline rules: read once, then from the cache.
    for number in (70, 71, 72):
        merge_into(world, world.proposal, number)
    with django_assert_num_queries(DETAIL_QUERIES["tiwei"]):
        response = client.get(target)
    assert len(response.context["merged_in"]) == 3


# --- the workspace -------------------------------------------------------------------------------


def test_the_workspace_shows_a_unit_its_inbox_counts(client, world):
    client.force_login(world.jxw)
    response = client.get(reverse("workspace"))
    assert response.context["panels"]["inbox"] == {
        "new": 1,
        "handling": 0,
        "waiting": 0,
        "overdue": 0,
        "supervision": 0,
    }
    assert reverse("proposals:inbox") in response.content.decode()
    assert "committee" not in response.context["panels"]
    assert reverse("proposals:create") not in response.content.decode()


def test_the_workspace_shows_the_committee_its_queues(client, world):
    make_proposal(world, State.SUBMITTED)
    make_proposal(world, State.SUBMITTED)
    services.request_return(world.co, world.jxw, "职责不符")
    client.force_login(world.tiwei)
    response = client.get(reverse("workspace"))
    assert response.context["panels"]["committee"] == {
        "review": 2,
        "returns": 1,
        "extensions": 0,
        "outbox_failed": 0,
    }
    html = response.content.decode()
    assert reverse("proposals:review_queue") in html
    assert reverse("proposals:return_requests") in html
    assert "inbox" not in response.context["panels"]


def test_the_workspace_offers_a_proposer_their_proposals_and_a_new_one(client, world):
    client.force_login(world.zhanghua)
    html = client.get(reverse("workspace")).content.decode()
    assert reverse("proposals:mine") in html
    assert reverse("proposals:create") in html
    assert reverse("proposals:inbox") not in html


def test_the_workspace_list_still_filters_and_paginates(client, world):
    for i in range(30):
        make_proposal(world, State.SUBMITTED, title=f"提案{i:02d}")
    client.force_login(world.tiwei)
    response = client.get(reverse("workspace"), {"state": "submitted"})
    assert response.context["page"].paginator.count == 30
    assert len(response.context["page"].object_list) == 25
    response = client.get(reverse("workspace"), {"state": "submitted", "page": 2})
    assert len(response.context["page"].object_list) == 5


# Session, user, memberships, proposer profile, filter choices (session, unit, category),
# count, page, the page's lead units and deadlines, review queue count, return request
# count, unread notifications.
# + the calendar corrections of the "due soon" badge and the extension requests count
# + the count of messages the outbox gave up on
WORKSPACE_QUERIES = 16
# A unit member: no committee counts, but the four inbox counts.
UNIT_WORKSPACE_QUERIES = 17


def test_the_workspace_makes_as_many_queries_for_30_proposals_as_for_5(
    client, world, django_assert_num_queries
):
    client.force_login(world.tiwei)
    for i in range(4):
        make_proposal(world, State.SUBMITTED, title=f"提案{i}")
    with django_assert_num_queries(WORKSPACE_QUERIES):
        small = client.get(reverse("workspace"))
    for i in range(4, 29):
        make_proposal(world, State.SUBMITTED, title=f"提案{i}")
    with django_assert_num_queries(WORKSPACE_QUERIES):
        large = client.get(reverse("workspace"))
    assert (small.context["page"].paginator.count, large.context["page"].paginator.count) == (5, 30)


def test_the_workspace_of_a_unit_member_makes_a_fixed_number_of_queries(
    client, world, django_assert_num_queries
):
    client.force_login(world.kjj)
    with django_assert_num_queries(UNIT_WORKSPACE_QUERIES):
        client.get(reverse("workspace"))
    for i in range(10):
        proposal = make_proposal(world, State.HANDLING, number=100 + i)
        Assignment.objects.create(
            proposal=proposal,
            unit=world.kjj_unit,
            role=Assignment.Role.LEAD,
            assigned_at=timezone.now(),
            reply_due=datetime.date.today() - datetime.timedelta(days=1),
        )
    with django_assert_num_queries(UNIT_WORKSPACE_QUERIES):
        response = client.get(reverse("workspace"))
    assert response.context["panels"]["inbox"]["overdue"] == 10
