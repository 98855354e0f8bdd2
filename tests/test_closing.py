"""Receipts overview, paper receipts, and the committee's re-handling and closing queue."""

import datetime

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, include, path, reverse
from django.utils import timezone

from config.urls import urlpatterns as project_urlpatterns
from proposals import deadlines
from proposals import services as proposal_services
from proposals.models import Assignment, Proposal, ProposalProposer
from replies import services as reply_services
from replies.models import Receipt, ReplyLetter

from .test_receipt_services import handling_proposal, lead_of, rate, receipt_of, send_reply

Rating = Receipt.Rating
State = Proposal.State

# Until proposals/closing_urls.py is mounted in config/urls.py, the tests mount it here.
urlpatterns = [
    path("work/closing/", include("replies.closing_urls")),
    *project_urlpatterns,
]


def mount_closing_urls(settings):
    try:
        reverse("closing:queue", urlconf="config.urls")
    except NoReverseMatch:
        settings.ROOT_URLCONF = "tests.test_closing"


@pytest.fixture(autouse=True)
def closing_urls(settings):
    mount_closing_urls(settings)


@pytest.fixture
def client(client):
    # Asserted in the English msgids, whatever the catalog says.
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def staff(client, world):
    client.force_login(world.tiwei)
    return client


def html(response):
    return response.content.decode()


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def letter(world):
    ProposalProposer.objects.create(
        proposal=world.proposal, proposer=world.lisi_proposer, position=1
    )
    return send_reply(world, world.lead)


def replied(world, number, *, rating=None, proposers=None, title=None):
    """A replied proposal of 区科技局; its receipts rated `rating` (None: left missing)."""
    proposal = handling_proposal(
        world, number, title=title or f"关于第{number}号事项的建议", proposers=proposers
    )
    letter = send_reply(world, lead_of(proposal))
    if rating:
        for receipt in letter.receipts.all():
            rate(receipt, attitude=rating, result=rating, opinion="意见")
    proposal.refresh_from_db()
    return proposal


def of_another_unit(world, number):
    """A replied proposal of 区教委, with 李四's receipt missing."""
    now = timezone.now()
    proposal = Proposal.objects.create(
        session=world.session,
        number=number,
        title="关于学校午餐的建议",
        reasons="理由",
        suggestions="建议",
        state=State.HANDLING,
        review_outcome="accept",
        handling_mode="single",
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.lisi_proposer, position=0)
    assignment = Assignment.objects.create(
        proposal=proposal,
        unit=world.other_unit,
        role="lead",
        assigned_at=now,
        acknowledged_at=now,
    )
    letter = ReplyLetter.objects.create(
        assignment=assignment,
        title="区教委的答复函",
        salutation="李四委员：",
        body="正文",
        state=ReplyLetter.State.SENT,
        sent_at=now,
    )
    Receipt.objects.create(letter=letter, proposer=world.lisi_proposer, requested_at=now)
    return proposal


# --- the receipts overview ---------------------------------------------------------------------


def test_committee_staff_see_every_letter_with_receipts_in_and_missing(staff, world, letter):
    rate(receipt_of(letter, world.zhanghua_proposer), opinion="很满意")
    of_another_unit(world, 90)
    response = staff.get(reverse("closing:receipts"))
    assert response.status_code == 200
    assert {row.assignment.unit for row in response.context["page"]} == {
        world.kjj_unit,
        world.other_unit,
    }
    page = html(response)
    assert "很满意" in page
    assert 'class="receipt-row missing"' in page
    assert (
        reverse("closing:paper_receipt", args=[receipt_of(letter, world.lisi_proposer).pk]) in page
    )
    assert response.context["totals"] == {"asked": 3, "given": 1, "missing": 2, "dissatisfied": 0}


def test_a_unit_sees_only_its_own_letters(client, world, letter):
    of_another_unit(world, 90)
    client.force_login(world.kjj)
    response = client.get(reverse("closing:receipts"))
    assert [row.assignment.unit for row in response.context["page"]] == [world.kjj_unit]
    assert "关于学校午餐的建议" not in html(response)
    client.force_login(world.jxw)  # the co-handling unit sent no letter
    response = client.get(reverse("closing:receipts"))
    assert list(response.context["page"]) == []


def test_the_overview_filters_missing_and_dissatisfied(staff, world):
    replied(world, 91, rating=Rating.SATISFIED)
    unhappy = replied(world, 92, rating=Rating.DISSATISFIED)
    waiting = replied(world, 93)

    def shown(show):
        response = staff.get(reverse("closing:receipts"), {"show": show, "session": ""})
        return {row.assignment.proposal_id for row in response.context["page"]}

    assert shown("missing") == {waiting.pk}
    assert shown("dissatisfied") == {unhappy.pk}
    assert len(shown("")) == 3


def test_the_overview_shows_only_the_current_round_and_the_final_ratings(staff, world, letter):
    zhang = receipt_of(letter, world.zhanghua_proposer)
    rate(zhang, attitude=Rating.DISSATISFIED, opinion="第一轮不满意")
    proposal_services.order_rehandling(world.proposal, world.tiwei, comment="再办")
    second = send_reply(world, lead_of(world.proposal))
    for receipt in second.receipts.all():
        rate(receipt, attitude=Rating.SATISFIED, result=Rating.SATISFIED)
    reply_services.close(world.proposal, world.tiwei)
    response = staff.get(reverse("closing:receipts"))
    assert [row.pk for row in response.context["page"]] == [second.pk]
    page = html(response)
    assert "第一轮不满意" not in page
    assert 'class="state state-closed"' in page


def test_the_overview_needs_committee_staff_or_a_unit(client, world):
    url = reverse("closing:receipts")
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(world.zhanghua)
    assert client.get(url).status_code == 403


def test_the_overview_takes_the_same_queries_for_3_letters_and_20(
    staff, world, django_assert_num_queries
):
    def count():
        with CaptureQueriesContext(connection) as captured:
            response = staff.get(reverse("closing:receipts"))
        return len(captured), len(response.context["page"])

    for number in range(100, 103):
        replied(
            world,
            number,
            rating=Rating.SATISFIED,
            proposers=[world.zhanghua_proposer, world.lisi_proposer],
        )
    deadlines.current_rules()  # The deadline rules: read once, then from the cache.
    few, rows = count()
    assert rows == 3
    for number in range(103, 120):
        replied(world, number, proposers=[world.zhanghua_proposer, world.lisi_proposer])
    many, rows = count()
    assert rows == 20
    assert few == many, (few, many)
    with django_assert_num_queries(few):
        staff.get(reverse("closing:receipts"))


# --- paper receipts ----------------------------------------------------------------------------


PAPER = {
    "contacted": "yes",
    "contact_method": "visit",
    "attitude": "basically",
    "result": "basically",
}


def test_committee_staff_enter_a_paper_receipt(staff, world, letter):
    receipt = receipt_of(letter, world.lisi_proposer)
    url = reverse("closing:paper_receipt", args=[receipt.pk])
    response = staff.get(url)
    assert response.status_code == 200
    assert 'name="attitude" value="dissatisfied"' in html(response)
    response = staff.post(url, PAPER)
    assert response.status_code == 302 and response["Location"] == reverse("closing:receipts")
    receipt.refresh_from_db()
    assert (receipt.channel, receipt.entered_by, receipt.contact_method) == (
        Receipt.Channel.PAPER,
        world.tiwei,
        "visit",
    )
    assert receipt.leader_took_part is None  # left blank on paper


def test_the_unit_being_rated_does_not_enter_its_own_paper_receipt(client, world, letter):
    receipt = receipt_of(letter, world.zhanghua_proposer)
    client.force_login(world.kjj)
    url = reverse("closing:paper_receipt", args=[receipt.pk])
    assert client.post(url, {"attitude": "satisfied", "result": "satisfied"}).status_code == 403
    receipt.refresh_from_db()
    assert not receipt.is_submitted


def test_a_paper_receipt_is_refused_to_outsiders_and_other_roles(client, world, letter):
    receipt = receipt_of(letter, world.zhanghua_proposer)
    url = reverse("closing:paper_receipt", args=[receipt.pk])
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(world.outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, PAPER).status_code == 404
    client.force_login(world.zhanghua)
    assert client.get(url).status_code == 403
    client.force_login(world.tiwei)
    assert client.get(reverse("closing:paper_receipt", args=[99999])).status_code == 404
    receipt.refresh_from_db()
    assert not receipt.is_submitted


def test_an_invalid_paper_receipt_keeps_the_input(staff, world, letter):
    receipt = receipt_of(letter, world.zhanghua_proposer)
    url = reverse("closing:paper_receipt", args=[receipt.pk])
    response = staff.post(url, {"attitude": "dissatisfied", "result": "basically", "opinion": ""})
    assert response.status_code == 200
    assert response.context["form"].errors["opinion"] == [
        "Please tell us why you are dissatisfied."
    ]
    assert 'value="dissatisfied" id="id_attitude_2" required checked' in html(response)
    receipt.refresh_from_db()
    assert not receipt.is_submitted


def test_a_submitted_receipt_shows_read_only_and_is_not_changed(staff, world, letter):
    receipt = receipt_of(letter, world.zhanghua_proposer)
    rate(receipt, opinion="网上提交的意见")
    url = reverse("closing:paper_receipt", args=[receipt.pk])
    response = staff.post(url, {**PAPER, "opinion": "纸质"})
    assert response.status_code == 200
    page = html(response)
    assert "This receipt was already submitted." in page and "网上提交的意见" in page
    assert 'name="attitude"' not in page
    receipt.refresh_from_db()
    assert (receipt.channel, receipt.opinion) == (Receipt.Channel.ONLINE, "网上提交的意见")


# --- the queue ---------------------------------------------------------------------------------


def test_the_queue_sorts_replied_proposals_by_what_they_need(staff, world):
    unhappy = replied(world, 91, rating=Rating.DISSATISFIED)
    happy = replied(world, 92, rating=Rating.SATISFIED)
    waiting = replied(world, 93)
    response = staff.get(reverse("closing:queue"))
    assert response.status_code == 200
    ctx = response.context
    assert [p.pk for p in ctx["decide"]] == [unhappy.pk]
    assert [p.pk for p in ctx["ready"]] == [happy.pk]
    assert [p.pk for p in ctx["waiting"]] == [waiting.pk]
    form = ctx["decide"][0].rehandle_form
    assert form.initial == {
        "unit": world.kjj_unit.pk,
        "reply_due": deadlines.rehandling_due(deadlines.local_today()).due,
    }
    page = html(response)
    assert f'action="{reverse("closing:rehandle", args=[unhappy.pk])}"' in page
    assert f'name="proposals" value="{happy.pk}"' in page
    assert f'formaction="{reverse("closing:close", args=[happy.pk])}"' in page


def test_a_proposal_whose_receipt_period_passed_is_ready_to_close(staff, world):
    late = replied(world, 94)
    ReplyLetter.objects.filter(assignment__proposal=late).update(
        sent_at=timezone.now() - datetime.timedelta(days=60)
    )
    response = staff.get(reverse("closing:queue"))
    assert [p.pk for p in response.context["ready"]] == [late.pk]


def test_the_queue_is_for_committee_staff_only(client, world):
    url = reverse("closing:queue")
    assert client.get(url).status_code == 302
    for user in (world.kjj, world.zhanghua, world.outsider):
        client.force_login(user)
        assert client.get(url).status_code == 403


def test_the_queue_takes_the_same_queries_for_a_few_proposals_and_many(
    staff, world, django_assert_num_queries
):
    def count():
        with CaptureQueriesContext(connection) as captured:
            response = staff.get(reverse("closing:queue"))
        ctx = response.context
        return len(captured), sum(len(ctx[k]) for k in ("decide", "ready", "waiting", "closed"))

    def batch(start, n):
        ratings = [Rating.DISSATISFIED, Rating.SATISFIED, None, "close"]
        for i in range(n):
            rating = ratings[i % 4]
            p = replied(world, start + i, rating=None if rating in (None, "close") else rating)
            if rating == "close":
                reply_services.close(p, world.tiwei, "说明")

    batch(200, 4)
    deadlines.current_rules()  # The deadline rules: read once, then from the cache.
    few, rows = count()
    assert rows == 4
    batch(300, 20)
    many, rows = count()
    assert rows == 24
    assert few == many, (few, many)
    with django_assert_num_queries(few):
        staff.get(reverse("closing:queue"))


def test_closed_proposals_show_their_final_ratings_in_the_queue(staff, world):
    done = replied(world, 95, rating=Rating.SATISFIED)
    reply_services.close(done, world.tiwei)
    response = staff.get(reverse("closing:queue"))
    assert [p.pk for p in response.context["closed"]] == [done.pk]
    assert f'id="closed-{done.pk}"' in html(response)
    assert [r.attitude for r in response.context["closed"][0].receipt_status.receipts] == [
        "satisfied"
    ]


# --- ordering re-handling ----------------------------------------------------------------------


def test_staff_order_rehandling_by_another_unit(staff, world):
    unhappy = replied(world, 91, rating=Rating.DISSATISFIED)
    due = timezone.localdate() + datetime.timedelta(days=60)
    response = staff.post(
        reverse("closing:rehandle", args=[unhappy.pk]),
        {"unit": world.jxw_unit.pk, "reply_due": due.isoformat(), "comment": "请改由经信委办理"},
    )
    assert response.status_code == 302 and response["Location"] == reverse("closing:queue")
    unhappy.refresh_from_db()
    assert (unhappy.state, unhappy.current_round) == (State.HANDLING, 2)
    second = lead_of(unhappy)
    assert (second.unit, second.reply_due) == (world.jxw_unit, due)


def test_rehandling_without_a_comment_keeps_the_input_and_changes_nothing(staff, world):
    unhappy = replied(world, 91, rating=Rating.DISSATISFIED)
    due = (timezone.localdate() + datetime.timedelta(days=50)).isoformat()
    response = staff.post(
        reverse("closing:rehandle", args=[unhappy.pk]),
        {"unit": world.jxw_unit.pk, "reply_due": due, "comment": ""},
    )
    assert response.status_code == 200
    form = response.context["decide"][0].rehandle_form
    assert form.errors["comment"] == ["Please explain why it is handled again."]
    page = html(response)
    assert f'value="{due}"' in page
    assert f'<option value="{world.jxw_unit.pk}" selected>' in page
    unhappy.refresh_from_db()
    assert (unhappy.state, unhappy.current_round) == (State.REPLIED, 1)


def test_a_refused_rehandling_shows_the_reason(staff, world):
    unhappy = replied(world, 91, rating=Rating.DISSATISFIED)
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = staff.post(
        reverse("closing:rehandle", args=[unhappy.pk]),
        {"unit": world.kjj_unit.pk, "reply_due": past, "comment": "再办"},
    )
    assert response.status_code == 200
    assert "The reply deadline cannot be in the past." in html(response)
    unhappy.refresh_from_db()
    assert unhappy.current_round == 1


def test_rehandling_a_proposal_no_longer_replied_says_so(staff, world):
    proposal = handling_proposal(world, 96)
    due = (timezone.localdate() + datetime.timedelta(days=50)).isoformat()
    response = staff.post(
        reverse("closing:rehandle", args=[proposal.pk]),
        {"unit": world.kjj_unit.pk, "reply_due": due, "comment": "再办"},
    )
    assert response.status_code == 302
    assert "In handling" in messages_of(response)[0]
    assert not Assignment.objects.filter(proposal=proposal, round=2).exists()


def test_rehandle_and_close_are_post_only_for_committee_staff(client, world):
    unhappy = replied(world, 91, rating=Rating.DISSATISFIED)
    urls = [
        reverse("closing:rehandle", args=[unhappy.pk]),
        reverse("closing:close", args=[unhappy.pk]),
        reverse("closing:close_bulk"),
    ]
    for url in urls:
        assert client.post(url).status_code == 302  # to the login page
    client.force_login(world.tiwei)
    for url in urls:
        assert client.get(url).status_code == 405
    assert client.post(reverse("closing:close", args=[99999])).status_code == 404
    assert client.post(reverse("closing:rehandle", args=[99999])).status_code == 404
    for user in (world.kjj, world.zhanghua, world.outsider):
        client.force_login(user)
        for url in urls:
            assert client.post(url, {"comment": "x", "proposals": [unhappy.pk]}).status_code == 403
    unhappy.refresh_from_db()
    assert unhappy.state == State.REPLIED


# --- closing -----------------------------------------------------------------------------------


def test_staff_close_a_ready_proposal(staff, world):
    happy = replied(world, 92, rating=Rating.SATISFIED)
    response = staff.post(reverse("closing:close", args=[happy.pk]), {"comment": ""})
    assert response.status_code == 302
    happy.refresh_from_db()
    assert happy.state == State.CLOSED
    assert "第092号 is closed." in messages_of(response)


def test_closing_a_dissatisfied_proposal_needs_an_explanation(staff, world):
    unhappy = replied(world, 91, rating=Rating.DISSATISFIED)
    url = reverse("closing:close", args=[unhappy.pk])
    response = staff.post(url, {"comment": ""})
    assert response.status_code == 200
    form = response.context["decide"][0].close_form
    assert "give an explanation" in form.non_field_errors()[0]
    unhappy.refresh_from_db()
    assert unhappy.state == State.REPLIED
    assert staff.post(url, {"comment": "提案人已表示理解"}).status_code == 302
    unhappy.refresh_from_db()
    assert unhappy.state == State.CLOSED


def test_a_waiting_proposal_closes_only_with_an_explanation(staff, world):
    waiting = replied(world, 93)
    url = reverse("closing:close", args=[waiting.pk])
    response = staff.post(url, {"comment": ""})
    assert response.status_code == 200
    assert "Receipts are still missing from 张华." in html(response)
    waiting.refresh_from_db()
    assert waiting.state == State.REPLIED
    staff.post(url, {"comment": "提案人已调离"})
    waiting.refresh_from_db()
    assert waiting.state == State.CLOSED


def test_bulk_close_closes_every_ticked_proposal(staff, world):
    first = replied(world, 92, rating=Rating.SATISFIED)
    second = replied(world, 97, rating=Rating.BASICALLY)
    response = staff.post(reverse("closing:close_bulk"), {"proposals": [first.pk, second.pk]})
    assert response.status_code == 302
    assert "2 proposals were closed." in messages_of(response)
    assert set(
        Proposal.objects.filter(pk__in=[first.pk, second.pk]).values_list("state", flat=True)
    ) == {State.CLOSED}


def test_bulk_close_closes_none_when_one_cannot_be_closed(staff, world):
    ready = replied(world, 92, rating=Rating.SATISFIED)
    waiting = replied(world, 93)
    response = staff.post(reverse("closing:close_bulk"), {"proposals": [ready.pk, waiting.pk]})
    assert response.status_code == 200
    errors = response.context["bulk_form"].non_field_errors()
    assert "第093号" in errors[0]
    assert f'name="proposals" value="{ready.pk}" id="close-{ready.pk}" checked' in html(response)
    assert set(
        Proposal.objects.filter(pk__in=[ready.pk, waiting.pk]).values_list("state", flat=True)
    ) == {State.REPLIED}


def test_bulk_close_needs_a_ticked_proposal(staff, world):
    replied(world, 92, rating=Rating.SATISFIED)
    response = staff.post(reverse("closing:close_bulk"), {})
    assert response.status_code == 200
    assert response.context["bulk_form"].errors["proposals"] == ["Tick the proposals to close."]
    assert "Tick the proposals to close." in html(response)
