"""Stage 10 in the staff UI: key proposals, 督办 notes and their answers, the supervision page."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Notification
from core.workflow import Refused
from proposals import services
from proposals.models import Assignment, Event, Proposal, SupervisionNote
from tests.conftest import contact
from tests.test_services import make_proposal

D = datetime.date

State = Proposal.State


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def later(days):
    return timezone.localdate() + datetime.timedelta(days=days)


def assigned(world, number, reply_due, unit=None, **fields):
    proposal = make_proposal(world, state=State.HANDLING, number=number, **fields)
    return Assignment.objects.create(
        proposal=proposal,
        unit=unit or world.kjj_unit,
        assigned_at=timezone.now(),
        acknowledged_at=timezone.now(),
        reply_due=reply_due,
    )


# --- key proposals ---------------------------------------------------------------------------


def test_committee_staff_mark_a_key_proposal_from_its_page(client, world):
    client.force_login(world.tiwei)
    url = reverse("proposals:mark_key", args=[world.proposal.pk])
    assert url in client.get(world.proposal.get_absolute_url()).content.decode()
    response = client.post(url, {"is_key": "on", "supervising_leader": "区政府副区长 王某"})
    assert response.status_code == 302
    world.proposal.refresh_from_db()
    assert (world.proposal.is_key, world.proposal.supervising_leader) == (True, "区政府副区长 王某")
    assert Event.objects.filter(proposal=world.proposal, verb="key_marked").exists()
    client.post(url, {"supervising_leader": ""})
    world.proposal.refresh_from_db()
    assert not world.proposal.is_key
    assert Event.objects.filter(proposal=world.proposal, verb="key_unmarked").exists()


def test_a_key_proposal_needs_its_leader_named_at_the_field(client, world):
    client.force_login(world.tiwei)
    response = client.post(
        reverse("proposals:mark_key", args=[world.proposal.pk]), {"is_key": "on"}
    )
    assert response.status_code == 200
    assert "supervising_leader" in response.context["form"].errors


def test_units_and_proposers_are_not_offered_key_marking(client, world):
    url = reverse("proposals:mark_key", args=[world.proposal.pk])
    for user in (world.kjj, world.zhanghua):
        client.force_login(user)
        assert url not in client.get(world.proposal.get_absolute_url()).content.decode()
        assert client.post(url, {"is_key": "on", "supervising_leader": "x"}).status_code == 403


def test_a_closed_proposal_is_not_marked(world):
    Proposal.objects.filter(pk=world.proposal.pk).update(state=State.CLOSED)
    with pytest.raises(Refused):
        services.mark_key(world.proposal, world.tiwei, True, "王某")


# --- 督办 notes ----------------------------------------------------------------------------------


def test_a_supervision_note_reaches_the_unit_inbox_and_the_timeline(client, world):
    note = services.supervise(world.lead, world.tiwei, "请加快办理进度")
    assert Notification.objects.filter(recipient=world.kjj, verb="supervised").exists()
    assert not Notification.objects.filter(recipient=world.jxw, verb="supervised").exists()
    client.force_login(world.kjj)
    inbox = client.get(reverse("proposals:inbox"))
    assert [n.pk for n in inbox.context["notes"]] == [note.pk]
    assert inbox.context["sections"]["handling"][0].supervised
    html = inbox.content.decode()
    assert html.count('id="supervision"') == 1
    assert "请加快办理进度" not in html.split("</title>")[0]
    page = client.get(world.proposal.get_absolute_url())
    verbs = [e["verb"] for e in page.context["timeline"]]
    assert "supervised" in verbs
    assert client.get(reverse("workspace")).context["panels"]["inbox"]["supervision"] == 1


def test_the_unit_answers_and_the_committee_is_told(client, world):
    note = services.supervise(world.lead, world.tiwei, "请加快办理进度")
    client.force_login(world.kjj)
    url = reverse("proposals:answer_supervision", args=[note.pk])
    assert client.post(url, {"answer": "  "}).context["form"].errors["answer"]
    response = client.post(url, {"answer": "已召开协调会，月底前答复", "next": "/work/"})
    assert response.status_code == 302
    note.refresh_from_db()
    assert note.answered_by == world.kjj and note.answer.startswith("已召开")
    assert Event.objects.filter(verb="supervision_answered").exists()
    assert Notification.objects.filter(recipient=world.tiwei, verb="supervision_answered").exists()
    assert not client.get(reverse("proposals:inbox")).context["notes"]
    with pytest.raises(Refused):
        services.answer_supervision(note, world.kjj, "again")


def test_another_unit_cannot_read_or_answer_the_note(client, world):
    note = services.supervise(world.lead, world.tiwei, "请加快办理进度")
    client.force_login(world.outsider)
    assert client.get(reverse("proposals:answer_supervision", args=[note.pk])).status_code == 404
    with pytest.raises(Refused):
        services.answer_supervision(note, world.jxw, "不是我们")


def test_the_proposer_does_not_see_supervision_in_the_timeline(client, world):
    services.supervise(world.lead, world.tiwei, "请加快办理进度")
    client.force_login(world.zhanghua)
    page = client.get(world.proposal.get_absolute_url())
    assert "supervised" not in [e["verb"] for e in page.context["timeline"]]
    assert "请加快办理进度" not in page.content.decode()


def test_committee_staff_send_a_note_from_the_proposal_page(client, world):
    client.force_login(world.tiwei)
    url = reverse("proposals:supervise", args=[world.proposal.pk])
    assert url in client.get(world.proposal.get_absolute_url()).content.decode()
    response = client.post(url, {"assignment": world.co.pk, "text": "请尽快提交协办意见"})
    assert response.status_code == 302
    assert SupervisionNote.objects.get().assignment == world.co
    bad = client.post(url, {"assignment": world.co.pk, "text": ""})
    assert "text" in bad.context["form"].errors
    other = assigned(world, 300, later(10), unit=world.other_unit)
    wrong = client.post(url, {"assignment": other.pk, "text": "x"})
    assert "assignment" in wrong.context["form"].errors


def test_only_committee_staff_supervise(client, world):
    with pytest.raises(Refused):
        services.supervise(world.lead, world.kjj, "x")
    client.force_login(world.kjj)
    url = reverse("proposals:supervise", args=[world.proposal.pk])
    assert client.get(url).status_code == 403


# --- the supervision page --------------------------------------------------------------------


def test_the_page_lists_overdue_and_due_soon_work_by_unit_and_the_key_proposals(client, world):
    late = assigned(world, 201, later(-3))
    soon = assigned(world, 202, later(1), unit=world.other_unit)
    far = assigned(world, 203, later(60))
    done = assigned(world, 204, later(-3))
    Assignment.objects.filter(pk=done.pk).update(replied_at=timezone.now())
    services.mark_key(world.proposal, world.tiwei, True, "王某")
    client.force_login(world.tiwei)
    response = client.get(reverse("proposals:supervision"))
    listed = {a.pk: a for group in response.context["units"] for a in group["rows"]}
    assert late.pk in listed and soon.pk in listed
    assert far.pk not in listed and done.pk not in listed
    assert listed[late.pk].is_late and listed[soon.pk].is_due_soon
    assert [p.pk for p in response.context["key"]] == [world.proposal.pk]
    units = response.context["key"][0].units
    assert {a.pk for a in units} == {world.lead.pk, world.co.pk}


def row_cells(html, assignment):
    """The cells of the assignment's first row on the page, white space folded."""
    row = re.search(rf'<tr data-assignment="{assignment.pk}"[^>]*>(.*?)</tr>', html, re.S)
    return [" ".join(cell.split()) for cell in re.findall(r"<td.*?</td>", row.group(1), re.S)]


def test_a_row_shows_the_inbox_cells_and_the_supervise_button(client, world):
    # The page and the unit inbox render a row's first cells from the same partials: none
    # may go missing from either, and the inbox's 督办 badge (a link to its list of notes)
    # stays off this page.
    late = assigned(world, 201, later(-3))
    services.mark_key(late.proposal, world.tiwei, True, "王某")
    services.supervise(late, world.tiwei, "请抓紧")
    client.force_login(world.tiwei)
    cells = row_cells(client.get(reverse("proposals:supervision")).content.decode(), late)
    number, title, role, deadline, action = cells
    assert ">第201号<" in number
    assert late.proposal.get_absolute_url() in title and 'class="state key"' in title
    assert "supervised" not in title
    assert f'datetime="{later(-3).isoformat()}" class="overdue"' in deadline
    assert 'class="state late"' in deadline
    assert reverse("proposals:supervise", args=[late.proposal_id]) in action
    client.force_login(world.kjj)
    inbox = row_cells(client.get(reverse("proposals:inbox")).content.decode(), late)
    badge = re.search(r' <a class="state supervised" href="#supervision">.*?</a>', inbox[1])
    assert badge
    assert [inbox[0], inbox[1].replace(badge.group(0), ""), inbox[2], inbox[4]] == [
        number,
        title,
        role,
        deadline,
    ]


def test_the_page_is_the_committees(client, world):
    client.force_login(world.kjj)
    assert client.get(reverse("proposals:supervision")).status_code == 403


def test_the_page_makes_as_many_queries_for_many_rows_as_for_few(
    client, world, django_assert_num_queries
):
    client.force_login(world.tiwei)
    url = reverse("proposals:supervision")
    assigned(world, 201, later(-3))
    services.mark_key(world.proposal, world.tiwei, True, "王某")
    client.get(url)
    # + the first contacts overdue: the calendar, the counts per unit and the rows.
    with django_assert_num_queries(11) as few:
        client.get(url)
    for n in range(10):
        a = assigned(world, 300 + n, later(-1 - n), unit=[world.kjj_unit, world.other_unit][n % 2])
        services.mark_key(a.proposal, world.tiwei, True, "王某")
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(url)
    assert sum(len(g["rows"]) for g in response.context["units"]) == 11
    assert len(response.context["key"]) == 11


# --- the first contact with the proposer ------------------------------------------------------


def assigned_on(world, number, day, **fields):
    """Assigned at 10:00 on `day`, acknowledged, reply due in three months."""
    a = assigned(world, number, day + datetime.timedelta(days=90), **fields)
    at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    Assignment.objects.filter(pk=a.pk).update(assigned_at=at, acknowledged_at=at)
    a.refresh_from_db()
    return a


def test_the_latest_day_assigned_that_is_late_for_its_first_contact(db):
    from proposals import deadlines

    # 15 working days across Spring Festival 2026 (make-up Saturdays the 14th and 28th):
    # from Friday the 6th and the weekend after, Thursday 5 March; from Monday the 9th, the 6th.
    for day in (6, 7, 8):
        assert deadlines.first_contact_due(D(2026, 2, day)).due == D(2026, 3, 5)
    assert deadlines.first_contact_due(D(2026, 2, 9)).due == D(2026, 3, 6)
    latest = deadlines.latest_start_due_before
    assert latest(deadlines.first_contact_due, D(2026, 3, 6)) == D(2026, 2, 8)
    assert latest(deadlines.first_contact_due, D(2026, 3, 5)) == D(2026, 2, 5)


def test_overdue_first_contacts_are_on_the_supervision_page(client, world):
    from proposals import deadlines

    today = timezone.localdate()
    cutoff = deadlines.latest_start_due_before(deadlines.first_contact_due, today)
    late = assigned_on(world, 401, cutoff)
    not_yet = assigned_on(world, 402, cutoff + datetime.timedelta(days=1))
    contacted = assigned_on(world, 403, cutoff)
    contact(contacted, world.kjj)
    replied = assigned_on(world, 404, cutoff)
    Assignment.objects.filter(pk=replied.pk).update(replied_at=timezone.now())
    co = assigned_on(world, 405, cutoff)
    Assignment.objects.filter(pk=co.pk).update(role=Assignment.Role.CO)
    client.force_login(world.tiwei)
    response = client.get(reverse("proposals:supervision"))
    rows = [a.pk for g in response.context["first_contacts"] for a in g["rows"]]
    assert late.pk in rows
    assert not {not_yet.pk, contacted.pk, replied.pk, co.pk} & set(rows)
    assert response.context["first_contact_count"] >= 1
    html = response.content.decode()
    due = deadlines.first_contact_due(late.assigned_at).due
    number, title, when, first_contact, action = row_cells(html, late)
    assert ">第401号<" in number and late.proposal.get_absolute_url() in title
    assert timezone.localdate(late.assigned_at).isoformat() in when
    assert f'datetime="{due.isoformat()}"' in first_contact and due < today
    assert reverse("proposals:supervise", args=[late.proposal_id]) in action


def test_the_unit_sees_its_first_contact_deadline_on_the_proposal_page(client, world):
    from proposals import deadlines

    today = timezone.localdate()
    cutoff = deadlines.latest_start_due_before(deadlines.first_contact_due, today)
    late = assigned_on(world, 401, cutoff)
    fresh = assigned_on(world, 402, today)
    client.force_login(world.kjj)
    page = client.get(late.proposal.get_absolute_url()).content.decode()
    due = deadlines.first_contact_due(late.assigned_at).due
    assert "first-contact" in page and due.isoformat() in page
    assert 'class="overdue"' in page
    page = client.get(fresh.proposal.get_absolute_url()).content.decode()
    due = deadlines.first_contact_due(fresh.assigned_at).due
    assert due.isoformat() in page and 'class="overdue"' not in page
    contact(late, world.kjj)
    page = client.get(late.proposal.get_absolute_url())
    assignment = next(a for a in page.context["assignments"] if a.pk == late.pk)
    assert assignment.first_contact == today and assignment.first_contact_due is None
    # A proposer sees no first-contact deadline of the units.
    client.force_login(world.zhanghua)
    page = client.get(fresh.proposal.get_absolute_url())
    if page.status_code == 200:
        assert "first-contact" not in page.content.decode()


def test_a_unit_with_many_late_rows_shows_its_most_urgent_and_all_on_request(
    client, world, monkeypatch
):
    monkeypatch.setattr("proposals.views.supervision.ROWS_PER_UNIT", 2)
    rows = [assigned(world, 400 + n, later(-10 + n)) for n in range(4)]
    client.force_login(world.tiwei)
    url = reverse("proposals:supervision")
    [group] = client.get(url).context["units"]
    assert [a.pk for a in group["rows"]] == [rows[0].pk, rows[1].pk]
    assert (group["late"], group["more"]) == (4, 2)
    [group] = client.get(url, {"unit": world.kjj_unit.pk}).context["units"]
    assert [a.pk for a in group["rows"]] == [a.pk for a in rows]
    assert client.get(url, {"unit": "x' or 1=1"}).status_code == 200


def test_supervision_and_its_answer_are_admin_actions_too(client, world):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    client.force_login(world.admin)
    client.post(
        reverse("admin:proposals_assignment_changelist"),
        {
            "action": "action__supervise",
            ACTION_CHECKBOX_NAME: [world.lead.pk],
            "apply": "1",
            "text": "请加快办理",
        },
    )
    note = SupervisionNote.objects.get()
    assert (note.assignment, note.created_by) == (world.lead, world.admin)
    # The administrator is no person of the unit: the answer is refused and nothing changes.
    client.post(
        reverse("admin:proposals_supervisionnote_changelist"),
        {
            "action": "action__answer_supervision",
            ACTION_CHECKBOX_NAME: [note.pk],
            "apply": "1",
            "answer": "已办",
        },
    )
    note.refresh_from_db()
    assert note.answered_at is None
