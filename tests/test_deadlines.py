"""Deadline arithmetic against real calendar facts (State Council holiday notices)."""

import datetime

import pytest
from django.utils import translation
from django.utils.functional import Promise

from proposals import deadlines
from proposals.models import CalendarDay, DeadlineRule

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


# --- the calendar ------------------------------------------------------------------------------


def test_national_day_2024_is_off_and_its_make_up_weekend_days_are_working_days():
    for day in range(1, 8):
        assert not deadlines.is_working_day(D(2024, 10, day))
    assert D(2024, 9, 29).weekday() == 6  # a Sunday
    assert D(2024, 10, 12).weekday() == 5  # a Saturday
    assert deadlines.is_working_day(D(2024, 9, 29))
    assert deadlines.is_working_day(D(2024, 10, 12))
    assert deadlines.is_working_day(D(2024, 10, 8))


def test_spring_festival_2025_is_off_and_its_make_up_weekend_days_are_working_days():
    day = D(2025, 1, 28)
    while day <= D(2025, 2, 4):
        assert not deadlines.is_working_day(day), day
        day += datetime.timedelta(days=1)
    assert deadlines.is_working_day(D(2025, 1, 26))  # Sunday
    assert deadlines.is_working_day(D(2025, 2, 8))  # Saturday
    assert deadlines.is_working_day(D(2025, 2, 5))


def test_plain_weekends_are_skipped():
    assert not deadlines.is_working_day(D(2024, 11, 16))
    assert not deadlines.is_working_day(D(2024, 11, 17))
    assert deadlines.add_working_days(D(2024, 11, 15), 1) == D(2024, 11, 18)
    assert deadlines.add_working_days(D(2024, 11, 15), 5) == D(2024, 11, 22)


def test_the_start_day_itself_is_not_counted():
    assert deadlines.add_working_days(D(2024, 11, 18), 1) == D(2024, 11, 19)
    assert deadlines.add_working_days(D(2024, 11, 18), 0) == D(2024, 11, 18)


def test_counting_across_national_day_uses_the_make_up_days():
    assert deadlines.add_working_days(D(2024, 9, 27), 1) == D(2024, 9, 29)
    assert deadlines.add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 8)
    # Oct 8, 9, 10, 11 and the make-up Saturday Oct 12.
    assert deadlines.add_working_days(D(2024, 9, 30), 5) == D(2024, 10, 12)


def test_counting_across_spring_festival_uses_the_make_up_days():
    assert deadlines.add_working_days(D(2025, 1, 24), 1) == D(2025, 1, 26)
    assert deadlines.add_working_days(D(2025, 1, 27), 1) == D(2025, 2, 5)
    # Jan 26, 27, Feb 5, 6, 7 and the make-up Saturday Feb 8.
    assert deadlines.working_days_between(D(2025, 1, 24), D(2025, 2, 8)) == 6


def test_working_days_between_is_the_inverse_of_add_working_days():
    start = D(2024, 9, 20)
    for n in (0, 1, 7, 15, 40):
        due = deadlines.add_working_days(start, n)
        assert deadlines.working_days_between(start, due) == n
    assert deadlines.working_days_between(D(2024, 10, 12), D(2024, 9, 30)) == -5


def test_a_correction_turns_a_working_day_into_a_holiday_and_the_deadline_moves():
    assert deadlines.add_working_days(D(2024, 11, 15), 1) == D(2024, 11, 18)
    CalendarDay.objects.create(date=D(2024, 11, 18), is_working_day=False, note="临时放假")
    assert not deadlines.is_working_day(D(2024, 11, 18))
    assert deadlines.add_working_days(D(2024, 11, 15), 1) == D(2024, 11, 19)


def test_a_correction_makes_a_saturday_a_working_day():
    CalendarDay.objects.create(date=D(2024, 11, 16), is_working_day=True, note="调休上班")
    assert deadlines.is_working_day(D(2024, 11, 16))
    assert deadlines.add_working_days(D(2024, 11, 15), 1) == D(2024, 11, 16)


def test_a_correction_wins_over_the_library():
    CalendarDay.objects.create(date=D(2024, 10, 7), is_working_day=True)
    CalendarDay.objects.create(date=D(2024, 9, 29), is_working_day=False)
    assert deadlines.is_working_day(D(2024, 10, 7))
    assert not deadlines.is_working_day(D(2024, 9, 29))
    assert deadlines.add_working_days(D(2024, 9, 27), 1) == D(2024, 9, 30)
    assert deadlines.add_working_days(D(2024, 9, 30), 1) == D(2024, 10, 7)


def test_corrections_given_by_the_caller_are_used_without_a_query(django_assert_num_queries):
    corrections = {D(2024, 11, 18): False}
    with django_assert_num_queries(0):
        assert deadlines.add_working_days(D(2024, 11, 15), 1, corrections) == D(2024, 11, 19)
        assert not deadlines.is_working_day(D(2024, 11, 18), corrections)


def test_load_corrections_returns_the_range_asked_for():
    CalendarDay.objects.create(date=D(2024, 11, 16), is_working_day=True)
    CalendarDay.objects.create(date=D(2025, 3, 3), is_working_day=False)
    assert deadlines.load_corrections(D(2024, 11, 1), D(2024, 11, 30)) == {D(2024, 11, 16): True}


def test_forty_working_days_cost_at_most_one_query(django_assert_max_num_queries):
    CalendarDay.objects.create(date=D(2024, 10, 31), is_working_day=False)
    with django_assert_max_num_queries(1):
        due = deadlines.add_working_days(D(2024, 9, 1), 40)
    # September brings 21 (with the make-up 14th and 29th, without the 16th and 17th);
    # October 8–30 brings 18 (with the make-up 12th); the 31st is corrected to a holiday.
    assert due == D(2024, 11, 1)


def test_a_rule_costs_at_most_one_query(django_assert_max_num_queries):
    # The rules are read once (one small query), then kept in the cache.
    with django_assert_max_num_queries(2):
        deadlines.first_contact_due(D(2025, 1, 20))
    with django_assert_max_num_queries(1):
        deadlines.first_contact_due(D(2025, 1, 20))
    with django_assert_max_num_queries(1):
        deadlines.reply_due(D(2024, 7, 1))


def test_a_walk_past_the_loaded_window_still_sees_later_corrections():
    start = D(2024, 11, 1)
    CalendarDay.objects.bulk_create(
        CalendarDay(date=start + datetime.timedelta(days=i), is_working_day=False)
        for i in range(1, 46)
    )
    # 45 corrected days off, through Monday 16 December, outrun the first window.
    assert deadlines.add_working_days(start, 1) == D(2024, 12, 17)


# --- months ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, months, expected",
    [
        (D(2023, 1, 31), 1, D(2023, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 1, D(2024, 3, 29)),
        (D(2024, 8, 31), 3, D(2024, 11, 30)),
        (D(2024, 11, 30), 3, D(2025, 2, 28)),
        (D(2024, 12, 15), 1, D(2025, 1, 15)),
        (D(2024, 3, 31), -1, D(2024, 2, 29)),
        (D(2022, 4, 20), 3, D(2022, 7, 20)),
    ],
)
def test_add_months_keeps_to_the_end_of_short_months(start, months, expected):
    assert deadlines.add_months(start, months) == expected


# --- the rules ---------------------------------------------------------------------------------


def test_reply_due_in_the_seed_case_is_three_months_from_assignment():
    deadline = deadlines.reply_due(D(2022, 4, 20))
    assert deadline.due == D(2022, 7, 20)
    assert deadline.start == D(2022, 4, 20)
    assert str(deadline.rule) == "3 months from assignment"
    assert str(deadline.explanation) == (
        "Assigned on 2022-04-20; reply due 3 months later: 2022-07-20."
    )


def test_a_month_deadline_on_a_holiday_moves_to_the_next_working_day():
    deadline = deadlines.reply_due(D(2024, 7, 1))
    assert deadline.due == D(2024, 10, 8)
    explanation = str(deadline.explanation)
    assert "2024-07-01" in explanation
    assert "2024-10-01, not a working day" in explanation
    assert explanation.endswith("2024-10-08.")


def test_a_month_deadline_on_a_plain_weekend_moves_to_monday():
    # 2024-11-30 is a Saturday.
    assert deadlines.reply_due(D(2024, 8, 31)).due == D(2024, 12, 2)


def test_a_month_deadline_on_a_make_up_working_day_stays():
    # 2025-02-08 is the Saturday worked for Spring Festival.
    assert deadlines.rehandling_due(D(2024, 11, 8)).due == D(2025, 2, 8)


def test_the_return_window_explains_the_labour_day_holidays_and_make_up_day():
    deadline = deadlines.return_window(D(2022, 4, 29))
    # May 5, 6, the make-up Saturday May 7, May 9 and 10.
    assert deadline.due == D(2022, 5, 10)
    assert str(deadline.rule) == "5 working days from assignment"
    assert str(deadline.explanation) == (
        "Assigned on 2022-04-29; return request due within 5 working days, "
        "skipping 2022-04-30 – 2022-05-04 (holidays), "
        "counting 2022-05-07 (make-up working day): 2022-05-10."
    )


def test_a_working_day_explanation_leaves_out_plain_weekends():
    deadline = deadlines.return_window(D(2024, 11, 15))
    assert deadline.due == D(2024, 11, 22)
    assert str(deadline.explanation) == (
        "Assigned on 2024-11-15; return request due within 5 working days: 2024-11-22."
    )


def test_a_correction_shows_in_the_explanation():
    CalendarDay.objects.create(date=D(2024, 11, 18), is_working_day=False)
    CalendarDay.objects.create(date=D(2024, 11, 23), is_working_day=True)
    deadline = deadlines.return_window(D(2024, 11, 15))
    # Nov 19, 20, 21, 22 and the corrected Saturday Nov 23.
    assert deadline.due == D(2024, 11, 23)
    explanation = str(deadline.explanation)
    assert "skipping 2024-11-16 – 2024-11-18 (holidays)" in explanation
    assert "counting 2024-11-23 (make-up working day)" in explanation


def test_first_contact_is_fifteen_working_days_across_spring_festival():
    deadline = deadlines.first_contact_due(D(2025, 1, 20))
    assert deadline.due == D(2025, 2, 14)
    explanation = str(deadline.explanation)
    assert "2025-01-28 – 2025-02-04 (holidays)" in explanation
    assert "counting 2025-01-26, 2025-02-08 (make-up working days)" in explanation


def test_co_opinion_is_one_month_from_assignment():
    deadline = deadlines.co_opinion_due(D(2024, 1, 31))
    assert deadline.due == D(2024, 2, 29)
    assert str(deadline.rule) == "1 month from assignment"


def test_max_reply_due_is_six_months_from_assignment():
    assert deadlines.max_reply_due(D(2022, 4, 20)).due == D(2022, 10, 20)


def test_publish_and_receipt_count_working_days_after_sending():
    publish = deadlines.publish_due(D(2024, 9, 20))
    receipt = deadlines.receipt_due(D(2024, 9, 20))
    assert publish.due == D(2024, 10, 23)
    assert receipt.due == D(2024, 10, 16)
    assert str(publish.rule) == "20 working days after sending"
    assert str(publish.explanation).startswith("Sent on 2024-09-20; publishing due within 20")


def test_rehandling_is_three_months_from_the_decision():
    deadline = deadlines.rehandling_due(D(2022, 8, 15))
    assert deadline.due == D(2022, 11, 15)
    assert str(deadline.rule) == "3 months from the re-handling decision"
    assert str(deadline.explanation).startswith("Re-handling decided on 2022-08-15;")


def set_rule(clock, length, unit=None):
    """Change a rule's row as the admin's service would, without moving anything."""
    rule = DeadlineRule.objects.get(clock=clock)
    rule.length = length
    rule.unit = unit or rule.unit
    rule.save()
    deadlines.forget_rules()


def test_the_rules_are_rows_with_todays_values():
    rules = {r.clock: (r.length, r.unit, r.starts_at) for r in DeadlineRule.objects.all()}
    assert rules == {
        "return_window": (5, "working_days", "assignment"),
        "co_opinion": (1, "months", "assignment"),
        "first_contact": (15, "working_days", "assignment"),
        "reply": (3, "months", "assignment"),
        "plenary_reply": (None, "months", "assignment"),
        "reply_max": (6, "months", "assignment"),
        "publish": (20, "working_days", "sending"),
        "receipt": (15, "working_days", "sending"),
        "rehandling": (3, "months", "rehandling"),
    }


def test_a_rule_in_calendar_days_moves_off_a_day_off():
    set_rule("co_opinion", 30, "days")
    # 2024-09-01 + 30 days is Tuesday 1 October, National Day: the 8th is the next working day.
    deadline = deadlines.co_opinion_due(D(2024, 9, 1))
    assert deadline.due == D(2024, 10, 8)
    assert str(deadline.rule) == "30 days from assignment"
    assert "2024-10-01, not a working day" in str(deadline.explanation)


def test_a_rule_in_working_days_may_replace_a_rule_in_months():
    set_rule("reply", 60, "working_days")
    assert deadlines.reply_due(D(2024, 11, 1)).due == deadlines.add_working_days(D(2024, 11, 1), 60)


def test_changing_the_rule_changes_the_reply_deadline():
    set_rule("reply", 5)
    deadline = deadlines.reply_due(D(2022, 4, 20))
    assert deadline.due == D(2022, 9, 20)
    assert str(deadline.rule) == "5 months from assignment"


def test_changing_the_return_window_rule_changes_the_window():
    set_rule("return_window", 3)
    assert deadlines.return_window(D(2024, 11, 15)).due == D(2024, 11, 20)


def test_an_aware_datetime_counts_from_its_date_in_shanghai():
    # 17:30 UTC on 19 April is 01:30 on 20 April in Shanghai.
    assigned_at = datetime.datetime(2022, 4, 19, 17, 30, tzinfo=datetime.UTC)
    deadline = deadlines.reply_due(assigned_at)
    assert deadline.start == D(2022, 4, 20)
    assert deadline.due == D(2022, 7, 20)


def test_explanations_are_lazy_and_follow_the_active_language():
    deadline = deadlines.return_window(D(2022, 4, 29))
    assert isinstance(deadline.explanation, Promise)
    assert isinstance(deadline.rule, Promise)
    with translation.override("zh-hans"):
        # Whatever the catalogue says, the dates are in it.
        assert "2022-05-10" in str(deadline.explanation)


# --- overdue -----------------------------------------------------------------------------------


def test_due_today_is_not_overdue_but_tomorrow_is():
    due = D(2024, 10, 8)
    assert not deadlines.is_overdue(due, today=D(2024, 10, 7))
    assert not deadlines.is_overdue(due, today=due)
    assert deadlines.is_overdue(due, today=D(2024, 10, 9))


def test_an_approved_extension_is_not_overdue_until_it_passes():
    due, extended = D(2024, 10, 8), D(2024, 11, 8)
    assert not deadlines.is_overdue(due, today=D(2024, 10, 20), extended_due=extended)
    assert not deadlines.is_overdue(due, today=extended, extended_due=extended)
    assert deadlines.is_overdue(due, today=D(2024, 11, 9), extended_due=extended)


def test_is_overdue_accepts_a_deadline_and_no_deadline():
    deadline = deadlines.reply_due(D(2022, 4, 20))
    assert deadlines.is_overdue(deadline, today=D(2022, 7, 21))
    assert not deadline.is_overdue(today=D(2022, 7, 20))
    assert not deadlines.is_overdue(None, today=D(2022, 7, 21))


def test_is_overdue_defaults_to_today_in_shanghai():
    today = deadlines.local_today()
    assert not deadlines.is_overdue(today)
    assert deadlines.is_overdue(today - datetime.timedelta(days=1))
