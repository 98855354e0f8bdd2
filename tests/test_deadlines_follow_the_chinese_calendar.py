"""The hard calendar cases: Spring Festival and National Day 2025/2026 with their make-up
working days, a deadline falling on a holiday, 31 January plus a month, and a correction of
the calendar after the proposal was assigned."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Notification
from proposals import deadlines, services
from proposals.models import Assignment, CalendarDay, DeadlineRule, Event, Proposal
from tests.test_services import make_proposal

D = datetime.date
State = Proposal.State


@pytest.fixture(autouse=True)
def english(db):
    with translation.override("en"):
        yield


# --- Spring Festival and National Day, 2025 and 2026 ----------------------------------------


def test_spring_festival_2025_is_off_from_28_january_to_4_february_with_two_days_worked():
    day = D(2025, 1, 28)
    while day <= D(2025, 2, 4):
        assert not deadlines.is_working_day(day), day
        day += datetime.timedelta(days=1)
    assert deadlines.is_working_day(D(2025, 1, 26))  # Sunday before
    assert deadlines.is_working_day(D(2025, 2, 8))  # Saturday after
    assert not deadlines.is_working_day(D(2025, 2, 9))  # an ordinary Sunday


def test_a_return_window_across_spring_festival_2025_counts_the_make_up_sunday():
    # Friday 24 January: the make-up Sunday 26th, Monday 27th, then 5, 6, 7 February.
    window = deadlines.return_window(D(2025, 1, 24))
    assert window.due == D(2025, 2, 7)
    explanation = str(window.explanation)
    assert "2025-01-28 – 2025-02-04" in explanation
    assert "2025-01-26 (make-up working day)" in explanation


def test_first_contact_across_spring_festival_2025_counts_both_make_up_days():
    # Jan 24 → the 26th (Sun), 27th; Feb 5, 6, 7, the 8th (Sat); Feb 10–14, 17–20: fifteen.
    assert deadlines.first_contact_due(D(2025, 1, 24)).due == D(2025, 2, 20)


def test_a_reply_from_the_end_of_october_2024_lands_in_spring_festival_2025():
    # 31 October + 3 months is 31 January 2025, a holiday: the first working day after it.
    deadline = deadlines.reply_due(D(2024, 10, 31))
    assert deadline.due == D(2025, 2, 5)
    assert "2025-01-31, not a working day" in str(deadline.explanation)
    assert deadlines.reply_due(D(2024, 10, 30)).due == D(2025, 2, 5)


def test_publishing_across_national_day_2025_skips_the_eight_days_and_counts_the_make_ups():
    # Sent Thursday 25 September: 26, the make-up Sunday 28th, 29, 30; Oct 9, 10, the
    # make-up Saturday 11th, 13–17, 20–24, 27, 28, 29: twenty.
    deadline = deadlines.publish_due(D(2025, 9, 25))
    assert deadline.due == D(2025, 10, 29)
    explanation = str(deadline.explanation)
    assert "2025-10-01 – 2025-10-08" in explanation
    assert "2025-09-28, 2025-10-11 (make-up working days)" in explanation


def test_spring_festival_2026_is_off_from_the_15th_to_the_23rd_with_two_saturdays_worked():
    day = D(2026, 2, 15)
    while day <= D(2026, 2, 23):
        assert not deadlines.is_working_day(day), day
        day += datetime.timedelta(days=1)
    assert deadlines.is_working_day(D(2026, 2, 14))  # Saturday before
    assert deadlines.is_working_day(D(2026, 2, 28))  # Saturday after
    assert deadlines.is_working_day(D(2026, 2, 24))


def test_a_return_window_across_spring_festival_2026_counts_the_make_up_saturday():
    # Feb 13, the make-up Saturday Feb 14, then Feb 24, 25, 26.
    window = deadlines.return_window(D(2026, 2, 12))
    assert window.due == D(2026, 2, 26)
    explanation = str(window.explanation)
    assert "2026-02-15 – 2026-02-23" in explanation
    assert "2026-02-14 (make-up working day)" in explanation


def test_first_contact_across_spring_festival_2026_counts_both_make_up_saturdays():
    # Feb 10–14 (five, the 14th a Saturday worked), Feb 24–28 (five, the 28th worked), Mar 2–6.
    assert deadlines.first_contact_due(D(2026, 2, 9)).due == D(2026, 3, 6)


def test_national_day_2025_is_eight_days_off_with_make_up_days_around_it():
    assert deadlines.add_working_days(D(2025, 9, 26), 1) == D(2025, 9, 28)  # Sunday worked
    assert deadlines.add_working_days(D(2025, 9, 30), 1) == D(2025, 10, 9)
    # Oct 9, 10, the make-up Saturday Oct 11, Oct 13, 14.
    assert deadlines.add_working_days(D(2025, 9, 30), 5) == D(2025, 10, 14)


def test_national_day_2026_with_the_make_up_sunday_before_and_saturday_after():
    assert deadlines.is_working_day(D(2026, 9, 20))  # Sunday
    assert deadlines.is_working_day(D(2026, 10, 10))  # Saturday
    assert deadlines.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)
    # Oct 8, 9, the make-up Saturday Oct 10, Oct 12, 13.
    assert deadlines.return_window(D(2026, 9, 30)).due == D(2026, 10, 13)


# --- a deadline on a holiday ------------------------------------------------------------------


def test_a_reply_due_on_national_day_2025_moves_to_the_first_working_day_after():
    deadline = deadlines.reply_due(D(2025, 7, 1))
    assert deadline.due == D(2025, 10, 9)
    assert "2025-10-01, not a working day" in str(deadline.explanation)


def test_a_co_opinion_due_in_spring_festival_2026_moves_to_the_24th():
    assert deadlines.co_opinion_due(D(2026, 1, 16)).due == D(2026, 2, 24)


def test_a_reply_due_on_a_make_up_sunday_stays_there():
    # 2026-09-20 is a Sunday worked for National Day.
    assert deadlines.reply_due(D(2026, 6, 20)).due == D(2026, 9, 20)


# --- 31 January plus one month ----------------------------------------------------------------


@pytest.mark.parametrize(
    "assigned_on, due",
    [
        # Feb 28, 2025 is a Friday.
        (D(2025, 1, 31), D(2025, 2, 28)),
        # Feb 28, 2026 is the Saturday worked after Spring Festival: it stays.
        (D(2026, 1, 31), D(2026, 2, 28)),
        # 2028 is a leap year: Feb 29, a Tuesday.
        (D(2028, 1, 31), D(2028, 2, 29)),
    ],
)
def test_a_co_opinion_from_31_january_is_due_at_the_end_of_february(assigned_on, due):
    assert deadlines.co_opinion_due(assigned_on).due == due


def test_six_months_from_31_august_ends_on_the_last_day_of_february_or_after_it():
    # Feb 28, 2026 (a make-up Saturday) — the latest an extension may go.
    assert deadlines.max_reply_due(D(2025, 8, 31)).due == D(2026, 2, 28)


# --- a correction of the calendar after assignment -------------------------------------------


def assign_on(world, day, role=Assignment.Role.LEAD, **fields):
    proposal = make_proposal(world, state=State.HANDLING, number=fields.pop("number", 300))
    assigned_at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(10)))
    due_rule = deadlines.co_opinion_due if role == Assignment.Role.CO else deadlines.reply_due
    due = due_rule(day).due
    return Assignment.objects.create(
        proposal=proposal,
        unit=world.kjj_unit,
        role=role,
        assigned_at=assigned_at,
        acknowledged_at=assigned_at,
        reply_due=None if role == Assignment.Role.CO else fields.pop("reply_due", due),
        opinion_due=due if role == Assignment.Role.CO else None,
        **fields,
    )


def test_a_holiday_added_after_assignment_moves_the_open_reply_deadline(world):
    assigned = assign_on(world, D(2026, 6, 15))
    assert assigned.reply_due == D(2026, 9, 15)
    CalendarDay.objects.create(date=D(2026, 9, 15), is_working_day=False, note="临时调整")
    moved = services.calendar_corrected(world.tiwei, D(2026, 9, 15), None, "临时调整")
    assert [a.pk for a in moved] == [assigned.pk]
    assigned.refresh_from_db()
    assert assigned.reply_due == D(2026, 9, 16)
    event = Event.objects.get(proposal=assigned.proposal, verb="deadline_recomputed")
    assert "2026-09-15 → 2026-09-16" in event.comment
    assert Notification.objects.filter(recipient=world.kjj, verb="deadline_changed").exists()


def test_a_make_up_day_added_after_assignment_moves_a_co_opinion_off_a_holiday(world):
    # Assigned 2026-01-16: a month later is 16 February, Spring Festival: due the 24th.
    co = assign_on(world, D(2026, 1, 16), role=Assignment.Role.CO)
    assert co.opinion_due == D(2026, 2, 24)
    # The committee's own arrangement: Monday 23 February is worked after all.
    CalendarDay.objects.create(date=D(2026, 2, 23), is_working_day=True, note="本地调整")
    moved = services.calendar_corrected(world.tiwei, D(2026, 2, 23), None, "本地调整")
    assert [a.pk for a in moved] == [co.pk]
    co.refresh_from_db()
    assert co.opinion_due == D(2026, 2, 23)
    event = Event.objects.get(proposal=co.proposal, verb="deadline_recomputed")
    assert "2026-02-24 → 2026-02-23" in event.comment and "本地调整" in event.comment


def test_a_correction_after_assignment_moves_the_first_contact_deadline_shown(world):
    # Not stored: counted on the page from the assignment, by the calendar as it is now.
    assigned = assign_on(world, D(2026, 6, 15))
    before = deadlines.first_contact_due(assigned.assigned_at).due
    assert before == D(2026, 7, 7)  # Dragon Boat Festival, 19 June, skipped
    CalendarDay.objects.create(date=D(2026, 6, 30), is_working_day=False, note="临时调整")
    assert deadlines.first_contact_due(assigned.assigned_at).due == D(2026, 7, 8)


def test_removing_the_correction_moves_it_back(world):
    assigned = assign_on(world, D(2026, 6, 15))
    CalendarDay.objects.create(date=D(2026, 9, 15), is_working_day=False)
    services.calendar_corrected(world.tiwei, D(2026, 9, 15), None)
    CalendarDay.objects.filter(date=D(2026, 9, 15)).delete()
    services.calendar_corrected(world.tiwei, D(2026, 9, 15), False)
    assigned.refresh_from_db()
    assert assigned.reply_due == D(2026, 9, 15)


def test_a_working_day_correction_moves_a_working_day_count(world):
    co = assign_on(world, D(2026, 8, 14), role=Assignment.Role.CO)
    assert co.opinion_due == D(2026, 9, 14)  # a Monday
    # The Sunday before made a working day does not move a month deadline on a Monday.
    CalendarDay.objects.create(date=D(2026, 9, 13), is_working_day=True)
    assert services.calendar_corrected(world.tiwei, D(2026, 9, 13), None) == []


def test_a_deadline_set_by_hand_or_replied_or_closed_stays(world):
    by_hand = assign_on(world, D(2026, 6, 15), number=301, due_change_reason="会议决定")
    replied = assign_on(world, D(2026, 6, 15), number=302, replied_at=timezone.now())
    other_date = assign_on(world, D(2026, 6, 15), number=303, reply_due=D(2026, 9, 30))
    CalendarDay.objects.create(date=D(2026, 9, 15), is_working_day=False)
    assert services.calendar_corrected(world.tiwei, D(2026, 9, 15), None) == []
    for assignment in (by_hand, replied, other_date):
        before = assignment.reply_due
        assignment.refresh_from_db()
        assert assignment.reply_due == before


def test_only_committee_staff_move_deadlines(world):
    from core.workflow import Refused

    with pytest.raises(Refused):
        services.calendar_corrected(world.kjj, D(2026, 9, 15), None)


def test_a_correction_saved_in_the_admin_moves_the_deadlines(client, world):
    assigned = assign_on(world, D(2026, 6, 15))
    client.force_login(world.admin)
    response = client.post(
        reverse("admin:proposals_calendarday_add"),
        {"date": "2026-09-15", "is_working_day": "", "note": "临时调整"},
    )
    assert response.status_code == 302
    assigned.refresh_from_db()
    assert assigned.reply_due == D(2026, 9, 16)
    day = CalendarDay.objects.get()
    client.post(reverse("admin:proposals_calendarday_delete", args=[day.pk]), {"post": "yes"})
    assigned.refresh_from_db()
    assert assigned.reply_due == D(2026, 9, 15)


# --- plenary proposals' own reply period -------------------------------------------------------


def rule(clock):
    return DeadlineRule.objects.get(clock=clock)


def test_a_plenary_proposal_may_be_given_its_own_reply_period(world):
    today = timezone.localdate()
    waiting = assign_on(world, today, number=312)  # a plenary proposal, assigned today
    interim_open = assign_on(world, today, number=313)
    Proposal.objects.filter(pk=interim_open.proposal_id).update(period="interim")
    services.change_rule(rule("plenary_reply"), world.tiwei, 5, "months", "大会提案五个月办结")
    assert deadlines.reply_due(D(2026, 3, 10), plenary=True).due == D(2026, 8, 10)
    assert deadlines.reply_due(D(2026, 3, 10)).due == D(2026, 6, 10)
    plenary = make_proposal(world, state=State.ACCEPTED, number=310, period="plenary")
    interim = make_proposal(world, state=State.ACCEPTED, number=311, period="interim")
    for proposal in (plenary, interim):
        services.assign(proposal, world.tiwei, "single", lead=world.kjj_unit)
    assert plenary.assignments.get().reply_due == deadlines.reply_due(today, plenary=True).due
    assert interim.assignments.get().reply_due == deadlines.reply_due(today).due
    # The open plenary assignment moved to five months; the interim one kept three.
    waiting.refresh_from_db()
    interim_open.refresh_from_db()
    assert waiting.reply_due == deadlines.reply_due(today, plenary=True).due
    assert interim_open.reply_due == deadlines.reply_due(today).due
    event = Event.objects.get(proposal=waiting.proposal, verb="deadline_rule_changed")
    assert "reply to a plenary proposal" in event.comment
    assert "as the reply rule → 5 months from assignment" in event.comment
    # Emptied again, plenary proposals follow the reply rule.
    services.change_rule(rule("plenary_reply"), world.tiwei, None, "months", "恢复")
    waiting.refresh_from_db()
    assert waiting.reply_due == deadlines.reply_due(today).due


# --- a changed rule ----------------------------------------------------------------------------


def test_a_changed_rule_moves_the_open_deadlines_that_followed_it(world):
    today = timezone.localdate()
    followed = assign_on(world, today, number=320)
    by_hand = assign_on(world, today, number=321, reply_due=today + datetime.timedelta(days=100))
    replied = assign_on(world, today, number=322, replied_at=timezone.now())
    closed = assign_on(world, today, number=323)
    Proposal.objects.filter(pk=closed.proposal_id).update(state=State.CLOSED)
    co = assign_on(world, today, role=Assignment.Role.CO, number=324)
    three_months = deadlines.reply_due(today).due
    moved = services.change_rule(rule("reply"), world.tiwei, 4, "months", "区政府办通知")
    moved = {a.pk for a in moved}
    assert followed.pk in moved
    assert not moved & {by_hand.pk, replied.pk, closed.pk, co.pk}
    followed.refresh_from_db()
    four_months = deadlines.reply_due(today).due
    assert four_months == deadlines.months_deadline(today, 4, "assignment", "").due
    assert followed.reply_due == four_months > three_months
    for kept, due in (
        (by_hand, today + datetime.timedelta(days=100)),
        (replied, three_months),
        (closed, three_months),
    ):
        kept.refresh_from_db()
        assert kept.reply_due == due
    co.refresh_from_db()
    assert co.opinion_due == deadlines.co_opinion_due(today).due
    event = Event.objects.get(proposal=followed.proposal, verb="deadline_rule_changed")
    assert f"{three_months} → {four_months}" in event.comment
    assert "3 months from assignment → 4 months from assignment" in event.comment
    assert "区政府办通知" in event.comment
    assert not Event.objects.filter(proposal__in=[replied.proposal, closed.proposal]).exists()
    assert Notification.objects.filter(recipient=world.kjj, verb="deadline_changed").exists()
    changed = rule("reply")
    assert (changed.length, changed.changed_by, changed.note) == (4, world.tiwei, "区政府办通知")


def test_a_rule_no_committee_means_is_refused_and_nothing_moves(world):
    from core.workflow import Refused

    today = timezone.localdate()
    followed = assign_on(world, today, number=320)
    before = followed.reply_due
    for length, unit in ((0, "months"), (7, "months"), (None, "months"), (5, "weeks")):
        with pytest.raises(Refused):
            services.change_rule(rule("reply"), world.tiwei, length, unit, "试试")
    with pytest.raises(Refused):
        services.change_rule(rule("reply"), world.tiwei, 4, "months", "  ")
    with pytest.raises(Refused):
        services.change_rule(rule("reply"), world.kjj, 4, "months", "单位改不了")
    followed.refresh_from_db()
    assert followed.reply_due == before
    assert rule("reply").length == 3


def test_a_working_day_rule_changed_moves_nothing_stored_but_counts_anew(world):
    today = timezone.localdate()
    assign_on(world, today, number=320)
    assert (
        services.change_rule(rule("first_contact"), world.tiwei, 10, "working_days", "新规") == []
    )
    assert deadlines.first_contact_due(today).due == deadlines.add_working_days(today, 10)


def test_the_rule_page_in_the_admin_changes_a_rule_and_moves_the_deadlines(client, world):
    today = timezone.localdate()
    followed = assign_on(world, today, number=320)
    client.force_login(world.admin)
    listing = client.get(reverse("admin:proposals_deadlinerule_changelist"))
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == len(DeadlineRule.Clock)
    reply = rule("reply")
    url = reverse("admin:proposals_deadlinerule_change", args=[reply.pk])
    page = client.get(url)
    assert page.status_code == 200
    form = page.context["adminform"].form
    assert set(form.fields) == {"length", "unit", "reason"}  # the clock and its start are shown
    # Refused in Chinese-or-English next to the form, nothing saved.
    for bad in (
        {"length": "0", "unit": "months", "reason": "x"},
        {"length": "99999999999", "unit": "months", "reason": "x"},
        {"length": "4", "unit": "weeks", "reason": "x"},
        {"length": "4", "unit": "months", "reason": ""},
        {"length": "abc", "unit": "months", "reason": "x"},
    ):
        response = client.post(url, bad)
        assert response.status_code == 200, bad
        assert response.context["adminform"].form.errors, bad
    assert rule("reply").length == 3
    response = client.post(
        url,
        {
            "length": "4",
            "unit": "months",
            "reason": "区政府办通知",
            "clock": "receipt",
            "starts_at": "sending",
        },
    )
    assert response.status_code == 302
    reply.refresh_from_db()
    assert (reply.clock, reply.starts_at, reply.length) == ("reply", "assignment", 4)
    followed.refresh_from_db()
    assert followed.reply_due == deadlines.months_deadline(today, 4, "assignment", "").due
    assert Event.objects.filter(proposal=followed.proposal, verb="deadline_rule_changed").exists()
    assert client.get(reverse("admin:proposals_deadlinerule_add")).status_code == 403
    deleting = client.post(
        reverse("admin:proposals_deadlinerule_delete", args=[reply.pk]), {"post": "yes"}
    )
    assert deleting.status_code == 403
    assert DeadlineRule.objects.filter(pk=reply.pk).exists()


def test_the_command_moves_them_in_the_name_of_a_committee_staff_member(world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    today = timezone.localdate()
    assign_on(world, today, number=320)
    # A rule changed outside the admin (its row edited), as a `TIAN_*` default once was.
    DeadlineRule.objects.filter(clock="reply").update(length=4)
    deadlines.forget_rules()
    out = StringIO()
    call_command("realign_deadlines", "--user", "tiwei", "--was", "REPLY_MONTHS=3", stdout=out)
    assert "open deadlines moved" in out.getvalue()
    assert not out.getvalue().startswith("0 ")
    with pytest.raises(CommandError):
        call_command("realign_deadlines", "--user", "kjj", "--was", "REPLY_MONTHS=3")
    with pytest.raises(CommandError):
        call_command("realign_deadlines", "--user", "tiwei", "--was", "NONSENSE=3")
