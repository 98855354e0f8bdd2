"""延期: a replying unit asks for a later reply deadline; committee staff approve or refuse."""

import datetime

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Notification
from core.workflow import Refused
from proposals import deadlines, services
from proposals.models import Assignment, Event, ExtensionRequest, Proposal

Status = ExtensionRequest.Status


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


def today():
    return timezone.localdate()


def later(days):
    return today() + datetime.timedelta(days=days)


def refused(func, *args, match="", **kwargs):
    with pytest.raises(Refused) as info:
        func(*args, **kwargs)
    assert match in " ".join(info.value.messages)


def ask(world, days=120, reason="需跨部门协调资金"):
    return services.request_extension(world.lead, world.kjj, later(days), reason)


# --- the services ------------------------------------------------------------------------------


def test_a_unit_asks_and_the_committee_is_told(world):
    request = ask(world)
    assert request.status == Status.REQUESTED
    assert request.previous_due == world.lead.reply_due
    assert Event.objects.filter(proposal=world.proposal, verb="extension_requested").exists()
    assert Notification.objects.filter(recipient=world.tiwei, verb="extension_requested").exists()
    world.lead.refresh_from_db()
    assert world.lead.extended_due is None


def test_approving_sets_the_deadline_in_force_and_tells_the_unit(world):
    request = ask(world)
    services.decide_extension(request, world.tiwei, True, comment="同意")
    world.lead.refresh_from_db()
    assert world.lead.extended_due == later(120)
    assert world.lead.due == later(120)
    request.refresh_from_db()
    assert (request.status, request.granted_due, request.decided_by) == (
        Status.APPROVED,
        later(120),
        world.tiwei,
    )
    assert Event.objects.filter(verb="extension_approved").exists()
    assert Notification.objects.filter(recipient=world.kjj, verb="deadline_extended").exists()


def test_the_committee_may_grant_another_date_than_the_one_asked(world):
    request = ask(world, days=150)
    services.decide_extension(request, world.tiwei, True, new_due=later(110))
    world.lead.refresh_from_db()
    assert world.lead.extended_due == later(110)


def test_refusing_needs_a_comment_and_keeps_the_deadline(world):
    request = ask(world)
    refused(services.decide_extension, request, world.tiwei, False, match="why")
    services.decide_extension(request, world.tiwei, False, comment="理由不充分")
    world.lead.refresh_from_db()
    assert world.lead.extended_due is None
    assert Notification.objects.filter(recipient=world.kjj, verb="extension_refused").exists()
    assert Event.objects.filter(verb="extension_refused", comment__contains="理由不充分").exists()


def test_a_decided_request_cannot_be_decided_again(world):
    request = ask(world)
    services.decide_extension(request, world.tiwei, True)
    refused(services.decide_extension, request, world.tiwei, False, comment="x", match="already")


def test_only_one_extension_by_default(world):
    services.decide_extension(ask(world), world.tiwei, True)
    refused(ask, world, days=150, match="no further extension")
    refused(
        services.extend_deadline, world.lead, world.tiwei, later(160), "再延", match="no further"
    )


def test_the_setting_allows_a_second_extension(world, settings):
    settings.TIAN = {**settings.TIAN, "EXTENSIONS_MAX": 2}
    services.decide_extension(ask(world, days=100), world.tiwei, True)
    services.decide_extension(ask(world, days=120), world.tiwei, True)
    world.lead.refresh_from_db()
    assert world.lead.extended_due == later(120)


def test_never_past_six_months_from_assignment(world):
    limit = deadlines.max_reply_due(world.lead.assigned_at).due
    refused(
        services.request_extension,
        world.lead,
        world.kjj,
        limit + datetime.timedelta(days=1),
        "x",
        match="cannot be later than",
    )
    request = services.request_extension(world.lead, world.kjj, limit, "x")
    refused(
        services.decide_extension,
        request,
        world.tiwei,
        True,
        new_due=limit + datetime.timedelta(days=1),
        match="cannot be later than",
    )


def test_an_extension_must_be_later_than_the_deadline_in_force(world):
    refused(
        services.request_extension,
        world.lead,
        world.kjj,
        world.lead.reply_due,
        "x",
        match="later than the deadline in force",
    )


def test_a_second_request_waits_for_the_first(world):
    ask(world)
    refused(ask, world, days=130, match="already waiting")


def test_the_database_holds_one_waiting_request_per_assignment(world):
    ask(world)
    with pytest.raises(IntegrityError), transaction.atomic():
        ExtensionRequest.objects.create(assignment=world.lead, reason="x", wished_due=later(100))


def test_only_the_units_own_people_ask_and_only_the_committee_decides(world):
    refused(services.request_extension, world.lead, world.outsider, later(100), "x")
    refused(services.request_extension, world.lead, world.tiwei, later(100), "x")
    request = ask(world)
    refused(services.decide_extension, request, world.kjj, True, match="committee")


def test_a_co_unit_or_an_unacknowledged_assignment_cannot_ask(world):
    world.co.acknowledged_at = timezone.now()
    world.co.save()
    refused(services.request_extension, world.co, world.jxw, later(60), "x", match="replying unit")
    Assignment.objects.filter(pk=world.lead.pk).update(acknowledged_at=None)
    refused(ask, world, match="Acknowledge")


def test_a_replied_unit_cannot_ask(world):
    Assignment.objects.filter(pk=world.lead.pk).update(replied_at=timezone.now())
    refused(ask, world, match="already replied")


def test_the_committees_direct_extension_leaves_an_approved_request(world):
    services.extend_deadline(world.lead, world.tiwei, later(100), "市级统筹")
    world.lead.refresh_from_db()
    assert world.lead.extended_due == later(100)
    request = ExtensionRequest.objects.get(assignment=world.lead)
    assert (request.status, request.granted_due) == (Status.APPROVED, later(100))
    assert Event.objects.filter(verb="deadline_extended").exists()


def test_an_approved_extension_is_what_overdue_is_measured_against(world):
    Assignment.objects.filter(pk=world.lead.pk).update(reply_due=today())
    world.lead.refresh_from_db()
    services.extend_deadline(world.lead, world.tiwei, later(30), "x")
    world.lead.refresh_from_db()
    assert not deadlines.is_overdue(world.lead.reply_due, later(5), world.lead.extended_due)


# --- the screens -------------------------------------------------------------------------------


def test_the_handler_asks_from_the_proposal_page(client, world):
    client.force_login(world.kjj)
    page = client.get(world.proposal.get_absolute_url())
    url = reverse("proposals:request_extension", args=[world.lead.pk])
    assert url in page.content.decode()
    response = client.post(url, {"wished_due": later(120).isoformat(), "reason": "协调资金"})
    assert response.status_code == 302
    assert ExtensionRequest.objects.filter(assignment=world.lead, status=Status.REQUESTED).exists()
    page = client.get(world.proposal.get_absolute_url())
    assert url not in page.content.decode()


def test_the_inbox_row_offers_the_extension_and_returns_there(client, world):
    client.force_login(world.kjj)
    inbox = reverse("proposals:inbox")
    url = reverse("proposals:request_extension", args=[world.lead.pk])
    assert url in client.get(inbox).content.decode()
    response = client.post(
        url, {"wished_due": later(120).isoformat(), "reason": "协调资金", "next": inbox}
    )
    assert response.url == inbox


@pytest.mark.parametrize(
    "data, field",
    [
        ({"wished_due": "2099-01-01", "reason": "x"}, "wished_due"),
        ({"wished_due": "not a date", "reason": "x"}, "wished_due"),
        ({"wished_due": "", "reason": "   "}, "reason"),
        ({"wished_due": "2026-01-01", "reason": "x" * 1001}, "reason"),
    ],
)
def test_bad_input_is_shown_at_the_field(client, world, data, field):
    client.force_login(world.kjj)
    response = client.post(reverse("proposals:request_extension", args=[world.lead.pk]), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not ExtensionRequest.objects.exists()


def test_a_refusal_is_shown_above_the_form(client, world):
    client.force_login(world.kjj)
    too_late = deadlines.max_reply_due(world.lead.assigned_at).due + datetime.timedelta(days=1)
    response = client.post(
        reverse("proposals:request_extension", args=[world.lead.pk]),
        {"wished_due": too_late.isoformat(), "reason": "x"},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()


def test_another_units_assignment_is_404(client, world):
    client.force_login(world.outsider)
    url = reverse("proposals:request_extension", args=[world.lead.pk])
    assert client.get(url).status_code == 404


def test_the_committee_decides_from_its_list(client, world):
    request = ask(world)
    client.force_login(world.tiwei)
    workspace = client.get(reverse("workspace"))
    assert workspace.context["panels"]["committee"]["extensions"] == 1
    page = client.get(reverse("proposals:extension_requests"))
    assert [r.pk for r in page.context["requests"]] == [request.pk]
    url = reverse("proposals:decide_extension", args=[request.pk])
    response = client.post(url, {"decision": "refuse", "comment": ""})
    assert response.status_code == 200
    assert "comment" in response.context["requests"][0].form.errors
    response = client.post(url, {"decision": "approve", "new_due": later(100).isoformat()})
    assert response.status_code == 302
    world.lead.refresh_from_db()
    assert world.lead.extended_due == later(100)


def test_the_decision_is_post_only_and_the_list_is_the_committees(client, world):
    request = ask(world)
    client.force_login(world.kjj)
    assert client.get(reverse("proposals:extension_requests")).status_code == 403
    url = reverse("proposals:decide_extension", args=[request.pk])
    assert client.post(url, {"decision": "approve"}).status_code == 403
    client.force_login(world.tiwei)
    assert client.get(url).status_code == 405


def test_the_list_makes_as_many_queries_for_many_requests_as_for_one(
    client, world, django_assert_num_queries
):
    from tests.test_services import make_proposal

    client.force_login(world.tiwei)
    ask(world)
    url = reverse("proposals:extension_requests")
    client.get(url)
    with django_assert_num_queries(5) as small:
        client.get(url)
    for n in range(5):
        proposal = make_proposal(world, state=Proposal.State.HANDLING, number=200 + n)
        assignment = Assignment.objects.create(
            proposal=proposal,
            unit=world.kjj_unit,
            assigned_at=timezone.now(),
            acknowledged_at=timezone.now(),
            reply_due=later(90),
        )
        services.request_extension(assignment, world.kjj, later(100), "x")
    with django_assert_num_queries(len(small.captured_queries)):
        response = client.get(url)
    assert len(response.context["requests"]) == 6


def test_the_admin_decides_through_the_same_code(admin_client, world):
    request = ask(world)
    url = reverse("admin:proposals_extensionrequest_changelist")
    admin_client.post(
        url,
        {
            "action": "action__approve_extension",
            ACTION_CHECKBOX_NAME: [request.pk],
            "apply": "1",
            "new_due": later(100).isoformat(),
            "comment": "",
        },
    )
    world.lead.refresh_from_db()
    assert world.lead.extended_due == later(100)
    assert Event.objects.filter(verb="extension_approved", actor=world.admin).exists()


def test_the_admin_shows_extension_requests_read_only(admin_client, world):
    request = ask(world)
    url = reverse("admin:proposals_extensionrequest_change", args=[request.pk])
    response = admin_client.get(url)
    assert response.status_code == 200
    assert b'name="wished_due"' not in response.content


def test_a_request_overtaken_by_the_reply_can_still_be_refused_but_not_approved(world):
    request = ask(world)
    Assignment.objects.filter(pk=world.lead.pk).update(replied_at=timezone.now())
    Proposal.objects.filter(pk=world.proposal.pk).update(state=Proposal.State.REPLIED)
    refused(services.decide_extension, request, world.tiwei, True)
    services.decide_extension(request, world.tiwei, False, comment="已答复，无需延期")
    request.refresh_from_db()
    assert request.status == Status.REFUSED
