"""Where work is listed, overdue and due-soon work is marked, and the unit inbox puts it first."""

import datetime

from django.urls import reverse
from django.utils import timezone

from proposals import deadlines
from proposals.models import Assignment, Proposal
from tests.test_services import make_proposal

State = Proposal.State


def later(days):
    return timezone.localdate() + datetime.timedelta(days=days)


def assigned(world, number, reply_due, replied=False):
    proposal = make_proposal(world, state=State.HANDLING, number=number)
    return Assignment.objects.create(
        proposal=proposal,
        unit=world.kjj_unit,
        assigned_at=timezone.now(),
        acknowledged_at=timezone.now(),
        reply_due=reply_due,
        replied_at=timezone.now() if replied else None,
    )


def test_the_inbox_puts_overdue_work_first_then_the_nearest_deadline(client, world):
    far = assigned(world, 201, later(80))
    replied_late = assigned(world, 202, later(-10), replied=True)
    late = assigned(world, 203, later(-2))
    very_late = assigned(world, 204, later(-20))
    client.force_login(world.kjj)
    rows = client.get(reverse("proposals:inbox")).context["sections"]["handling"]
    order = [a.pk for a in rows]
    assert order[:2] == [very_late.pk, late.pk]
    # A replied row is not late, whatever its date; it sorts among the rest by its date.
    assert order.index(replied_late.pk) > order.index(late.pk)
    # The seed's lead (due in 90 days) after the one due in 80.
    assert order.index(far.pk) < order.index(world.lead.pk)


def test_inbox_rows_carry_overdue_and_due_soon_badges(client, world):
    late = assigned(world, 201, later(-1))
    soon_day = deadlines.add_working_days(timezone.localdate(), 2)
    soon = assigned(world, 202, soon_day)
    far = assigned(world, 203, later(80))
    client.force_login(world.kjj)
    response = client.get(reverse("proposals:inbox"))
    rows = {a.pk: a for a in response.context["sections"]["handling"]}
    assert rows[late.pk].is_late and not rows[late.pk].is_due_soon
    assert rows[soon.pk].is_due_soon and not rows[soon.pk].is_late
    assert not rows[far.pk].is_late and not rows[far.pk].is_due_soon
    html = response.content.decode()
    assert 'class="state late"' in html and 'class="state due-soon"' in html


def test_due_soon_counts_working_days_not_calendar_days(client, world, settings):
    settings.TIAN = {**settings.TIAN, "DUE_SOON_WORKING_DAYS": 1}
    next_working_day = deadlines.add_working_days(timezone.localdate(), 1)
    beyond = deadlines.add_working_days(timezone.localdate(), 2)
    first = assigned(world, 201, next_working_day)
    second = assigned(world, 202, beyond)
    client.force_login(world.kjj)
    rows = {a.pk: a for a in client.get(reverse("proposals:inbox")).context["sections"]["handling"]}
    assert rows[first.pk].is_due_soon and not rows[second.pk].is_due_soon


def test_the_workspace_list_marks_late_and_due_soon_replies(client, world):
    late = assigned(world, 201, later(-1))
    soon = assigned(world, 202, deadlines.add_working_days(timezone.localdate(), 1))
    replied = assigned(world, 203, later(-1))
    Proposal.objects.filter(pk=replied.proposal_id).update(state=State.REPLIED)
    client.force_login(world.tiwei)
    rows = {p.pk: p for p in client.get(reverse("workspace")).context["page"].object_list}
    assert rows[late.proposal_id].is_late
    assert rows[soon.proposal_id].is_due_soon
    assert not rows[replied.proposal_id].is_late


def test_an_extension_takes_a_row_out_of_overdue(client, world):
    late = assigned(world, 201, later(-1))
    Assignment.objects.filter(pk=late.pk).update(extended_due=later(30))
    client.force_login(world.kjj)
    response = client.get(reverse("proposals:inbox"))
    assert late.pk not in [a.pk for a in response.context["sections"]["overdue"]]
    row = next(a for a in response.context["sections"]["handling"] if a.pk == late.pk)
    assert not row.is_late
