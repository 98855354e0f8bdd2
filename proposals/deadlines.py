"""Deadline arithmetic: the Chinese working-day calendar and the rules of DESIGN.md, "Deadlines".

A day is a working day if it is Monday to Friday and not a public holiday, or a weekend day
made a working day (调休). The `holidays` library supplies the State Council's yearly
arrangements; `CalendarDay` rows are corrections by committee staff and win over the library.

Nothing here is cached beyond one computation except the library's own (static) data and
`latest_start_due_before`'s walk, which is remembered for the corrections and rules it read
(they are its key), so a deadline always reflects the corrections of the moment. The due dates stored on `Assignment`
(`reply_due`, `opinion_due`) are snapshots taken at assignment: the workflow recomputes them
when the calendar is corrected or a rule changes.

The rules (which event starts each clock, its length, its unit) are `DeadlineRule` rows,
changed in the admin through `services.change_rule`; `current_rules` reads them with one
small query and keeps them in the cache until a rule changes. `settings.TIAN` only gives the
values the rows start from (and stands in for a row that is missing).

Every rule function accepts a date or an aware datetime (taken as the local date in
settings.TIME_ZONE, Asia/Shanghai) and an optional `corrections` mapping {date: is_working_day}
from `load_corrections`, for callers that compute many deadlines with one query.
"""

import calendar
import contextlib
import datetime
import functools
import threading
from dataclasses import dataclass

import holidays
from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone
from django.utils.functional import lazy
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _

from proposals.models import CalendarDay, DeadlineRule

ONE_DAY = datetime.timedelta(days=1)


# --- dates -------------------------------------------------------------------------------------


def as_local_date(value):
    """A date, or an aware datetime converted to its local date (Asia/Shanghai)."""
    if isinstance(value, datetime.datetime):
        # The default zone, not the request's: a deadline must not depend on who looks at it.
        return timezone.localdate(value, timezone.get_default_timezone())
    if isinstance(value, datetime.date):
        return value
    raise TypeError(f"Expected a date or datetime, got {type(value).__name__}.")


def local_today():
    return timezone.localdate(timezone=timezone.get_default_timezone())


def add_months(start, n):
    """`start` plus `n` calendar months, clamped to the month's end (Jan 31 + 1 → Feb 28/29)."""
    start = as_local_date(start)
    month_index = start.year * 12 + start.month - 1 + n
    year, month = divmod(month_index, 12)
    month += 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return datetime.date(year, month, day)


# --- the working-day calendar ------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _library_year(year):
    """(holidays, make-up working days) the library knows for `year`, as frozensets."""
    # Next year's notice can turn a day of this year into a working day (2002's moved
    # 2001-12-29), so the following year is loaded too.
    cal = holidays.China(years=(year, year + 1))
    days_off = frozenset(day for day in cal if day.year == year)
    days_on = frozenset(day for day in cal.weekend_workdays if day.year == year)
    return days_off, days_on


def _is_weekend(day):
    return day.weekday() >= 5


def _library_is_working_day(day):
    days_off, days_on = _library_year(day.year)
    if _is_weekend(day):
        return day in days_on
    return day not in days_off


def load_corrections(first, last):
    """Staff corrections between `first` and `last` (inclusive) as {date: is_working_day}."""
    return dict(
        CalendarDay.objects.filter(date__range=(first, last))
        .order_by()
        .values_list("date", "is_working_day")
    )


class _Calendar:
    """The library's calendar with staff corrections, fetched a window at a time.

    With `corrections` given, they are taken as complete and nothing is queried; otherwise
    the corrections for [first, last] are loaded in one query, and a further window only if
    the computation walks past it.
    """

    def __init__(self, first, last, corrections=None):
        self._fixed = corrections is not None
        self._days = dict(corrections) if self._fixed else {}
        self._window = datetime.timedelta(days=max((last - first).days, 31))
        if not self._fixed:
            self._first, self._last = first, last
            self._days.update(load_corrections(first, last))

    def _ensure(self, day):
        if self._fixed:
            return
        if day > self._last:
            new_last = day + self._window
            self._days.update(load_corrections(self._last + ONE_DAY, new_last))
            self._last = new_last
        elif day < self._first:
            new_first = day - self._window
            self._days.update(load_corrections(new_first, self._first - ONE_DAY))
            self._first = new_first

    def is_working_day(self, day):
        self._ensure(day)
        corrected = self._days.get(day)
        if corrected is not None:
            return corrected
        return _library_is_working_day(day)

    def is_holiday(self, day):
        """Off for a reason other than an ordinary weekend."""
        if self.is_working_day(day):
            return False
        return (
            not _is_weekend(day)
            or day in _library_year(day.year)[0]
            or self._days.get(day) is False
        )


def is_working_day(day, corrections=None):
    """Whether `day` is a working day. One query unless `corrections` is given."""
    day = as_local_date(day)
    return _Calendar(day, day, corrections).is_working_day(day)


def _walk(start, n, cal):
    """The n-th working day after `start`, with the days skipped and weekend days counted."""
    if n < 0:
        raise ValueError("The number of working days cannot be negative.")
    day, counted, skipped, weekend_counted = start, 0, [], []
    while counted < n:
        day += ONE_DAY
        if cal.is_working_day(day):
            counted += 1
            if _is_weekend(day):
                weekend_counted.append(day)
        else:
            skipped.append(day)
    return day, skipped, weekend_counted


def _window_for(n):
    # Generous: even Spring Festival plus weekends leaves five working days in any 14.
    return datetime.timedelta(days=2 * n + 30)


def add_working_days(start, n, corrections=None):
    """The n-th working day after `start` (`start` itself is not counted)."""
    start = as_local_date(start)
    cal = _Calendar(start, start + _window_for(n), corrections)
    return _walk(start, n, cal)[0]


def working_days_between(a, b, corrections=None):
    """Working days after `a` up to and including `b`; negative if `b` is before `a`.

    The inverse of `add_working_days`: working_days_between(a, add_working_days(a, n)) == n.
    """
    a, b = as_local_date(a), as_local_date(b)
    if b < a:
        return -working_days_between(b, a, corrections)
    cal = _Calendar(a, b, corrections)
    count, day = 0, a
    while day < b:
        day += ONE_DAY
        count += cal.is_working_day(day)
    return count


# --- explanations (rendered lazily, in the language active when shown) ------------------------


def _format_date(day):
    return day.isoformat()


def _format_runs(days):
    """Consecutive days as ranges: "2024-10-01 – 2024-10-07, 2024-10-12"."""
    runs = []
    for day in days:
        if runs and runs[-1][1] + ONE_DAY == day:
            runs[-1][1] = day
        else:
            runs.append([day, day])
    parts = [
        _format_date(first)
        if first == last
        else gettext("%(first)s – %(last)s")
        % {"first": _format_date(first), "last": _format_date(last)}
        for first, last in runs
    ]
    return pgettext("list separator", ", ").join(parts)


def _holiday_runs(skipped, cal):
    """The skipped days in runs that hold a holiday; plain weekends go without saying."""
    runs = []
    for day in skipped:
        if runs and runs[-1][-1] + ONE_DAY == day:
            runs[-1].append(day)
        else:
            runs.append([day])
    return [day for run in runs if any(cal.is_holiday(d) for d in run) for day in run]


# What a deadline is counted from: the event sentence and the rule text per unit.
ASSIGNMENT, SENDING, REHANDLING = "assignment", "sending", "rehandling"
MONTHS, WORKING_DAYS, DAYS = "months", "working_days", "days"

_EVENTS = {
    ASSIGNMENT: _("Assigned on %(date)s"),
    SENDING: _("Sent on %(date)s"),
    REHANDLING: _("Re-handling decided on %(date)s"),
}

_RULES = {
    (DAYS, ASSIGNMENT): lambda n: ngettext(
        "%(count)d day from assignment", "%(count)d days from assignment", n
    ),
    (DAYS, SENDING): lambda n: ngettext(
        "%(count)d day after sending", "%(count)d days after sending", n
    ),
    (DAYS, REHANDLING): lambda n: ngettext(
        "%(count)d day from the re-handling decision",
        "%(count)d days from the re-handling decision",
        n,
    ),
    (MONTHS, SENDING): lambda n: ngettext(
        "%(count)d month after sending", "%(count)d months after sending", n
    ),
    (WORKING_DAYS, REHANDLING): lambda n: ngettext(
        "%(count)d working day from the re-handling decision",
        "%(count)d working days from the re-handling decision",
        n,
    ),
    (MONTHS, ASSIGNMENT): lambda n: ngettext(
        "%(count)d month from assignment", "%(count)d months from assignment", n
    ),
    (MONTHS, REHANDLING): lambda n: ngettext(
        "%(count)d month from the re-handling decision",
        "%(count)d months from the re-handling decision",
        n,
    ),
    (WORKING_DAYS, ASSIGNMENT): lambda n: ngettext(
        "%(count)d working day from assignment", "%(count)d working days from assignment", n
    ),
    (WORKING_DAYS, SENDING): lambda n: ngettext(
        "%(count)d working day after sending", "%(count)d working days after sending", n
    ),
}


def _render_rule(unit, anchor, count):
    return _RULES[unit, anchor](count) % {"count": count}


def _render_months(anchor, start, what, count, raw_due, due):
    if raw_due == due:
        reckoning = ngettext(
            "%(what)s due %(count)d month later: %(due)s",
            "%(what)s due %(count)d months later: %(due)s",
            count,
        )
    else:
        reckoning = ngettext(
            "%(what)s due %(count)d month later, %(date)s, not a working day, "
            "so the next working day: %(due)s",
            "%(what)s due %(count)d months later, %(date)s, not a working day, "
            "so the next working day: %(due)s",
            count,
        )
    reckoning %= {
        "what": what,
        "count": count,
        "date": _format_date(raw_due),
        "due": _format_date(due),
    }
    return gettext("%(event)s; %(reckoning)s.") % {
        "event": _EVENTS[anchor] % {"date": _format_date(start)},
        "reckoning": reckoning,
    }


def _render_days(anchor, start, what, count, raw_due, due):
    if raw_due == due:
        reckoning = ngettext(
            "%(what)s due %(count)d day later: %(due)s",
            "%(what)s due %(count)d days later: %(due)s",
            count,
        )
    else:
        reckoning = ngettext(
            "%(what)s due %(count)d day later, %(date)s, not a working day, "
            "so the next working day: %(due)s",
            "%(what)s due %(count)d days later, %(date)s, not a working day, "
            "so the next working day: %(due)s",
            count,
        )
    reckoning %= {
        "what": what,
        "count": count,
        "date": _format_date(raw_due),
        "due": _format_date(due),
    }
    return gettext("%(event)s; %(reckoning)s.") % {
        "event": _EVENTS[anchor] % {"date": _format_date(start)},
        "reckoning": reckoning,
    }


def _render_working_days(anchor, start, what, count, holidays_skipped, weekend_counted, due):
    steps = [
        ngettext(
            "%(what)s due within %(count)d working day",
            "%(what)s due within %(count)d working days",
            count,
        )
        % {"what": what, "count": count}
    ]
    if holidays_skipped:
        steps.append(
            ngettext(
                "skipping %(days)s (holiday)",
                "skipping %(days)s (holidays)",
                len(holidays_skipped),
            )
            % {"days": _format_runs(holidays_skipped)}
        )
    if weekend_counted:
        steps.append(
            ngettext(
                "counting %(days)s (make-up working day)",
                "counting %(days)s (make-up working days)",
                len(weekend_counted),
            )
            % {"days": _format_runs(weekend_counted)}
        )
    reckoning = gettext("%(steps)s: %(due)s") % {
        "steps": pgettext("clause separator", ", ").join(steps),
        "due": _format_date(due),
    }
    return gettext("%(event)s; %(reckoning)s.") % {
        "event": _EVENTS[anchor] % {"date": _format_date(start)},
        "reckoning": reckoning,
    }


_rule_lazy = lazy(_render_rule, str)
_months_lazy = lazy(_render_months, str)
_working_days_lazy = lazy(_render_working_days, str)
_days_lazy = lazy(_render_days, str)


# --- deadlines ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Deadline:
    """A due date and how it was worked out.

    `rule` ("3 months from assignment") and `explanation` (a sentence naming the start and
    due dates, and the holidays and make-up working days on the way) are lazy translations.
    """

    due: datetime.date
    rule: str
    start: datetime.date
    explanation: str

    def is_overdue(self, today=None, extended_due=None):
        return is_overdue(self.due, today=today, extended_due=extended_due)


def months_deadline(start, months, anchor, what, corrections=None):
    """`months` calendar months after `start`; a due date off work moves to the next working day.

    That follows the Civil Code (民法典 第二百零三条): a period whose last day is a day off
    ends on the first day after it.
    """
    start = as_local_date(start)
    raw_due = add_months(start, months)
    cal = _Calendar(raw_due, raw_due + datetime.timedelta(days=31), corrections)
    due = raw_due
    while not cal.is_working_day(due):
        due += ONE_DAY
    return Deadline(
        due=due,
        rule=_rule_lazy(MONTHS, anchor, months),
        start=start,
        explanation=_months_lazy(anchor, start, what, months, raw_due, due),
    )


def working_days_deadline(start, n, anchor, what, corrections=None):
    """The n-th working day after `start`."""
    start = as_local_date(start)
    cal = _Calendar(start, start + _window_for(n), corrections)
    due, skipped, weekend_counted = _walk(start, n, cal)
    return Deadline(
        due=due,
        rule=_rule_lazy(WORKING_DAYS, anchor, n),
        start=start,
        explanation=_working_days_lazy(
            anchor, start, what, n, _holiday_runs(skipped, cal), weekend_counted, due
        ),
    )


# --- the rules (DeadlineRule rows, cached) -----------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """A clock as counted: from which event (`starts_at`), how long, in which unit."""

    clock: str
    starts_at: str
    length: int | None
    unit: str


# Each clock's setting (today's value, the default when no row says otherwise), unit and start.
DEFAULTS = {
    "return_window": ("RETURN_WINDOW_WORKING_DAYS", WORKING_DAYS, ASSIGNMENT),
    "co_opinion": ("CO_OPINION_MONTHS", MONTHS, ASSIGNMENT),
    "first_contact": ("FIRST_CONTACT_WORKING_DAYS", WORKING_DAYS, ASSIGNMENT),
    "reply": ("REPLY_MONTHS", MONTHS, ASSIGNMENT),
    "plenary_reply": ("PLENARY_REPLY_MONTHS", MONTHS, ASSIGNMENT),
    "reply_max": ("REPLY_MAX_MONTHS", MONTHS, ASSIGNMENT),
    "publish": ("PUBLISH_WORKING_DAYS", WORKING_DAYS, SENDING),
    "receipt": ("RECEIPT_WORKING_DAYS", WORKING_DAYS, SENDING),
    "rehandling": ("REHANDLING_MONTHS", MONTHS, REHANDLING),
}
# The clocks whose dates are stored on the assignment (and move when the rule changes).
STORED_CLOCKS = ("co_opinion", "reply", "plenary_reply", "rehandling")

RULES_CACHE_KEY = "deadline-rules"
# With the per-process default cache (meant for one worker), other processes see a changed
# rule within this long; a shared cache (Redis) keeps the rules until a rule changes.
LOCAL_RULES_SECONDS = 60

_previous_rules = threading.local()


def default_rules():
    """The rules as `settings.TIAN` gives them: the values before any row was changed."""
    return {
        clock: Rule(clock, start, settings.TIAN.get(key), unit)
        for clock, (key, unit, start) in DEFAULTS.items()
    }


def _cache_is_shared():
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def _rules_from_database():
    rules = default_rules()
    for clock, starts_at, length, unit in DeadlineRule.objects.order_by().values_list(
        "clock", "starts_at", "length", "unit"
    ):
        if clock in rules:
            rules[clock] = Rule(clock, starts_at, length, unit)
    return rules


def current_rules():
    """{clock: Rule} in force: one small query, then the cache until a rule changes."""
    override = getattr(_previous_rules, "values", None) or {}
    if len(override) == len(DEFAULTS):
        return override
    changed_in = getattr(_previous_rules, "changed_in", None)
    if changed_in is not None and changed_in is _transaction():
        # A rule changed in this transaction: read it as it is here, cache nothing (a
        # rollback would leave the cache saying what never was).
        rules = _rules_from_database()
    else:
        _previous_rules.changed_in = None
        rules = cache.get(RULES_CACHE_KEY)
        if rules is None:
            rules = _rules_from_database()
            cache.set(RULES_CACHE_KEY, rules, None if _cache_is_shared() else LOCAL_RULES_SECONDS)
    if override:
        rules = {**rules, **override}
    return rules


def _transaction():
    """The outermost atomic block running, if any: what a rule changed in belongs to."""
    return connection.atomic_blocks[0] if connection.atomic_blocks else None


def forget_rules():
    """Called by the service that changes a rule: dropped now and again after commit."""
    _previous_rules.changed_in = _transaction()
    cache.delete(RULES_CACHE_KEY)

    def after_commit():
        _previous_rules.changed_in = None
        cache.delete(RULES_CACHE_KEY)

    transaction.on_commit(after_commit)


@contextlib.contextmanager
def rules_as(values):
    """Count by other rules for a while ({"reply": Rule(...)}): the rules as they were, to
    tell which stored deadlines followed them (services.calendar.rules_changed)."""
    previous = getattr(_previous_rules, "values", None) or {}
    _previous_rules.values = {**previous, **values}
    try:
        yield
    finally:
        _previous_rules.values = previous


def _rule(clock):
    return current_rules()[clock]


def reach(rules=None):
    """How far past its start any deadline of the rules can fall, moved off holidays included:
    the window of calendar corrections a batch of computations loads in one query."""
    spans = [datetime.timedelta(days=31 * 7)]
    for rule in (rules or current_rules()).values():
        n = rule.length or 0
        if rule.unit == MONTHS:
            spans.append(datetime.timedelta(days=31 * (n + 1)))
        elif rule.unit == DAYS:
            spans.append(datetime.timedelta(days=n + 31))
        else:
            spans.append(_window_for(n))
    return max(spans)


def days_deadline(start, days, anchor, what, corrections=None):
    """`days` calendar days after `start`; a due date off work moves to the next working day."""
    start = as_local_date(start)
    raw_due = start + datetime.timedelta(days=days)
    cal = _Calendar(raw_due, raw_due + datetime.timedelta(days=31), corrections)
    due = raw_due
    while not cal.is_working_day(due):
        due += ONE_DAY
    return Deadline(
        due=due,
        rule=_rule_lazy(DAYS, anchor, days),
        start=start,
        explanation=_days_lazy(anchor, start, what, days, raw_due, due),
    )


def by_rule(rule, start, what, corrections=None):
    """The deadline `rule` gives for a clock started on `start`."""
    count = {MONTHS: months_deadline, DAYS: days_deadline}.get(rule.unit, working_days_deadline)
    return count(start, rule.length, rule.starts_at, what, corrections)


def return_window(assigned_on, corrections=None):
    """Last day a unit may ask for a return (退回申请)."""
    return by_rule(_rule("return_window"), assigned_on, _("return request"), corrections)


def co_opinion_due(assigned_on, corrections=None):
    """Co-handling opinion (协办意见) to the lead unit."""
    return by_rule(_rule("co_opinion"), assigned_on, _("co-handling opinion"), corrections)


def first_contact_due(assigned_on, corrections=None):
    """First contact with the proposer (沟通联系)."""
    return by_rule(
        _rule("first_contact"), assigned_on, _("first contact with the proposer"), corrections
    )


def reply_rule(plenary=False):
    """The reply rule: a plenary proposal's own, where it has one."""
    rules = current_rules()
    if plenary and rules["plenary_reply"].length:
        return rules["plenary_reply"]
    return rules["reply"]


def reply_due(assigned_on, corrections=None, plenary=False):
    """Reply (答复) without an extension; a plenary proposal (大会提案) by its own rule."""
    return by_rule(reply_rule(plenary), assigned_on, _("reply"), corrections)


def max_reply_due(assigned_on, corrections=None):
    """The latest reply date: an approved extension may never go past it."""
    return by_rule(
        _rule("reply_max"), assigned_on, _("reply, even with an extension,"), corrections
    )


def publish_due(sent_on, corrections=None):
    """Publishing (公开) a sent reply."""
    return by_rule(_rule("publish"), sent_on, _("publishing"), corrections)


def receipt_due(sent_on, corrections=None):
    """The proposer's receipt (回执) on a sent reply."""
    return by_rule(_rule("receipt"), sent_on, _("receipt"), corrections)


def rehandling_due(decided_on, corrections=None):
    """Second-round reply after a re-handling (重新办理) decision."""
    return by_rule(_rule("rehandling"), decided_on, _("second-round reply"), corrections)


def latest_start_due_before(deadline, day, corrections=None):
    """The latest start whose `deadline(start)` (a rule function: return_window, …) falls
    before `day`: every clock started on or before it is overdue on `day`. A due date never
    comes earlier for a later start, so a list can filter by assignment date in SQL."""
    day = as_local_date(day)
    if corrections is None:
        corrections = load_corrections(day - reach(), day + datetime.timedelta(days=31))
    # Walked back a day at a time, each day's deadline counted anew: remembered for what it
    # depends on (the rules and corrections in force are part of the key).
    return _latest_start(
        deadline, day, tuple(sorted(corrections.items())), tuple(sorted(current_rules().items()))
    )


@functools.lru_cache(maxsize=64)
def _latest_start(deadline, day, corrections, _rules):
    corrections = dict(corrections)
    start = day - ONE_DAY
    while deadline(start, corrections).due >= day:
        start -= ONE_DAY
    return start


def is_overdue(due, today=None, extended_due=None):
    """Whether `due` (a date or a Deadline) has passed; due today is not yet overdue.

    An approved extension (`extended_due`) replaces the original date, as `Assignment.due` does.
    """
    if isinstance(due, Deadline):
        due = due.due
    in_force = extended_due or due
    if in_force is None:
        return False
    today = local_today() if today is None else as_local_date(today)
    return today > in_force
