"""Statistics (DESIGN.md, "Statistics"): the figures committees publish, counted in SQL.

`statistics(session, today)` returns every table of the page; the view and the Excel
export render the same `Table` objects, so the two cannot disagree. The counts are
aggregated in the database, a few grouped queries for the whole page, whatever the number
of proposals; only the divisions (rates) are done here. They are kept per session, and
counted again only where a workflow step changed them ("kept counts" below).

Who is counted (the definitions the page states, `DEFINITIONS`):

- a session's, a category's and a proposer kind's figures count proposals; a unit's count
  its assignments (active ones: a returned assignment counts for the unit that took over);
- a 并案 proposal counts through the one it was merged into (it has no assignment, letter
  or receipt of its own: its proposers' receipts are on the letter of that proposal);
- a 分办 proposal is replied when every unit has replied, on time when every unit has;
- round 1 everywhere but in the round-2 table, which reports re-handling beside it.
"""

import contextlib
import datetime
import functools
import hashlib
import pickle
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection, connections, router
from django.db.models import (
    BooleanField,
    Case,
    Count,
    Exists,
    F,
    OuterRef,
    Q,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Unit
from proposals import deadlines
from proposals.models import (
    STATISTICS_PARTS,
    Assignment,
    Category,
    ContactRecord,
    CoOpinion,
    Event,
    Proposal,
    Session,
    statistics_part,
)

from .models import Receipt, ReplyLetter

State = Proposal.State
Role = Assignment.Role
Rating = Receipt.Rating

HANDLED = [State.ASSIGNED, State.HANDLING, State.REPLIED, State.CLOSED]
ACCEPTED = [State.ACCEPTED, *HANDLED]
NOT_RECEIVED = [State.DRAFT, State.AWAITING_COSIGNERS]
REPLYING = [Role.LEAD, Role.SPLIT]
CLASSES = ["A", "B", "C", "D"]

# Where a proposal stands, for the chart of proposals by state (fewer bands than states).
STATE_BANDS = [
    ("review", pgettext_lazy("statistics", "Awaiting review"), [State.SUBMITTED]),
    ("accepted", pgettext_lazy("statistics", "Accepted, not assigned"), [State.ACCEPTED]),
    ("handling", pgettext_lazy("statistics", "In handling"), [State.ASSIGNED, State.HANDLING]),
    ("replied", pgettext_lazy("statistics", "Replied"), [State.REPLIED]),
    ("closed", pgettext_lazy("statistics", "Closed"), [State.CLOSED]),
    (
        "not_accepted",
        pgettext_lazy("statistics", "Merged, turned into opinions, not accepted or withdrawn"),
        [State.MERGED, State.CONVERTED, State.REJECTED, State.WITHDRAWN],
    ),
]


# --- the definitions the page states -----------------------------------------------------------

DEFINITIONS = {
    "reply_rate": _(
        "Replied ÷ assigned. Assigned: accepted (立案) and assigned (交办), not withdrawn. "
        "Replied: the first-round letter sent to the proposer; a split (分办) proposal when "
        "every unit has replied."
    ),
    "on_time_rate": _(
        "Replied on or before the reply deadline in force (an approved extension's date) "
        "÷ assigned."
    ),
    "face_rate": _(
        "Replied with a face-to-face contact (meeting, forum, visit) recorded on or before "
        "the day the letter was sent ÷ replied."
    ),
    "class_share": _(
        "Letters of that result class ÷ letters sent (round 1; the class after any "
        "correction by the committee)."
    ),
    "rating_rate": _(
        "Receipts with that rating ÷ receipts returned, for the handling attitude and the "
        "handling result separately; satisfied and basically satisfied are also given "
        "together."
    ),
    "missing": _("Receipts asked for and not returned yet; its rate is ÷ receipts asked for."),
    "counting": _(
        "A session's, a category's and a proposer kind's figures count proposals; a unit's "
        "count its assignments (a returned assignment counts for the unit that took it "
        "over). A merged (并案) proposal counts through the one it was merged into. "
        "Round-2 replies and receipts are reported in their own table, not mixed in."
    ),
    "overdue": _(
        "Not replied, and the reply deadline in force is before today (an approved "
        "extension is not overdue)."
    ),
    "contact_overdue": _(
        "Being handled, not replied, no contact with the proposer recorded, and the "
        "first-contact deadline (counted from assignment by the deadline rules) is before today."
    ),
}


# --- columns -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A figure of a table: a count, or a rate of two counts."""

    key: str
    label: str
    group: str
    rate_of: tuple = ()  # (numerator key, denominator key) for a rate
    definition: str = ""

    @property
    def is_rate(self):
        return bool(self.rate_of)

    def text(self, value):
        """A figure of this column as the page shows it."""
        if not self.rate_of:
            return str(value)
        return "—" if value is None else f"{value * 100:.1f}%"


def _count(key, label, group, definition=""):
    return Column(key, label, group, definition=definition)


def _rate(key, label, group, numerator, denominator, definition):
    return Column(key, label, group, (numerator, denominator), definition)


REVIEW = pgettext_lazy("statistics", "Review")
HANDLING = pgettext_lazy("statistics", "Handling")
CO_HANDLING = pgettext_lazy("statistics", "Co-handling")
RESULT_CLASS = pgettext_lazy("statistics", "Result class")
RECEIPTS = pgettext_lazy("statistics", "Receipts")
ATTITUDE = pgettext_lazy("statistics", "Handling attitude")
RESULT = pgettext_lazy("statistics", "Handling result")

INTAKE_COLUMNS = [
    _count("received", pgettext_lazy("statistics", "Received"), REVIEW),
    _count("accepted", pgettext_lazy("statistics", "Accepted"), REVIEW),
    _count("merged", pgettext_lazy("statistics", "Merged"), REVIEW),
    _count("converted", pgettext_lazy("statistics", "Turned into opinions"), REVIEW),
    _count("rejected", pgettext_lazy("statistics", "Not accepted"), REVIEW),
    _count("withdrawn", pgettext_lazy("statistics", "Withdrawn"), REVIEW),
    _count("pending", pgettext_lazy("statistics", "Awaiting review"), REVIEW),
]


def _handling_columns(per_unit):
    columns = [_count("assigned", pgettext_lazy("statistics", "Assigned"), HANDLING)]
    if per_unit:
        columns.append(
            _count("acknowledged", pgettext_lazy("statistics", "Acknowledged"), HANDLING)
        )
    columns += [
        _count("replied", pgettext_lazy("statistics", "Replied"), HANDLING),
        _count("on_time", pgettext_lazy("statistics", "Replied on time"), HANDLING),
        _count("face", pgettext_lazy("statistics", "Met face to face"), HANDLING),
        _rate(
            "reply_rate",
            pgettext_lazy("statistics", "Reply rate"),
            HANDLING,
            "replied",
            "assigned",
            DEFINITIONS["reply_rate"],
        ),
        _rate(
            "on_time_rate",
            pgettext_lazy("statistics", "On-time reply rate"),
            HANDLING,
            "on_time",
            "assigned",
            DEFINITIONS["on_time_rate"],
        ),
        _rate(
            "face_rate",
            pgettext_lazy("statistics", "Face-to-face rate"),
            HANDLING,
            "face",
            "replied",
            DEFINITIONS["face_rate"],
        ),
        _count(
            "overdue",
            pgettext_lazy("statistics", "Overdue now"),
            HANDLING,
            DEFINITIONS["overdue"],
        ),
    ]
    if per_unit:
        columns.append(
            _count(
                "contact_overdue",
                pgettext_lazy("statistics", "First contact overdue now"),
                HANDLING,
                DEFINITIONS["contact_overdue"],
            )
        )
    return columns


CO_COLUMNS = [
    _count("co", pgettext_lazy("statistics", "As co-handling unit"), CO_HANDLING),
    _count("opinions", pgettext_lazy("statistics", "Opinions sent"), CO_HANDLING),
]

CLASS_COLUMNS = [_count("letters", pgettext_lazy("statistics", "Letters sent"), RESULT_CLASS)]
for _letter in CLASSES:
    CLASS_COLUMNS += [
        _count(f"class_{_letter}", _letter, RESULT_CLASS),
        _rate(
            f"share_{_letter}",
            pgettext_lazy("statistics", "%(class)s share") % {"class": _letter},
            RESULT_CLASS,
            f"class_{_letter}",
            "letters",
            DEFINITIONS["class_share"],
        ),
    ]

RECEIPT_COLUMNS = [
    _count("asked", pgettext_lazy("statistics", "Asked for"), RECEIPTS),
    _count("returned", pgettext_lazy("statistics", "Returned"), RECEIPTS),
    _count("missing", pgettext_lazy("statistics", "No feedback"), RECEIPTS, DEFINITIONS["missing"]),
    _rate(
        "missing_rate",
        pgettext_lazy("statistics", "No-feedback rate"),
        RECEIPTS,
        "missing",
        "asked",
        DEFINITIONS["missing"],
    ),
]

RATING_LABELS = {
    Rating.SATISFIED: (
        pgettext_lazy("statistics", "Satisfied"),
        pgettext_lazy("statistics", "Satisfaction rate"),
    ),
    Rating.BASICALLY: (
        pgettext_lazy("statistics", "Basically satisfied"),
        pgettext_lazy("statistics", "Basic satisfaction rate"),
    ),
    Rating.UNDERSTAND: (
        pgettext_lazy("statistics", "Understand"),
        pgettext_lazy("statistics", "Understanding rate"),
    ),
    Rating.DISSATISFIED: (
        pgettext_lazy("statistics", "Dissatisfied"),
        pgettext_lazy("statistics", "Dissatisfaction rate"),
    ),
}


def _rating_columns(prefix, group, ratings):
    columns = []
    for rating in ratings:
        count_label, rate_label = RATING_LABELS[rating]
        columns.append(_count(f"{prefix}_{rating}", count_label, group))
        columns.append(
            _rate(
                f"{prefix}_{rating}_rate",
                rate_label,
                group,
                f"{prefix}_{rating}",
                "returned",
                DEFINITIONS["rating_rate"],
            )
        )
    columns.append(
        _rate(
            f"{prefix}_content_rate",
            pgettext_lazy("statistics", "Satisfied and basically satisfied rate"),
            group,
            f"{prefix}_content",
            "returned",
            DEFINITIONS["rating_rate"],
        )
    )
    return columns


ATTITUDE_COLUMNS = _rating_columns("attitude", ATTITUDE, Receipt.ATTITUDE_RATINGS)
RESULT_COLUMNS = _rating_columns("result", RESULT, Receipt.RESULT_RATINGS)
SATISFACTION_COLUMNS = RECEIPT_COLUMNS + ATTITUDE_COLUMNS + RESULT_COLUMNS

PROPOSAL_COLUMNS = INTAKE_COLUMNS + _handling_columns(False) + CLASS_COLUMNS + SATISFACTION_COLUMNS
UNIT_COLUMNS = _handling_columns(True) + CO_COLUMNS + CLASS_COLUMNS + SATISFACTION_COLUMNS
ROUND2_COLUMNS = _handling_columns(True) + CLASS_COLUMNS + SATISFACTION_COLUMNS


# --- rows and tables ---------------------------------------------------------------------------


@dataclass
class Cell:
    value: object  # an int for a count; a fraction (or None: nothing to divide by) for a rate
    column: Column

    @property
    def text(self):
        return self.column.text(self.value)


@dataclass
class Row:
    key: object
    label: str
    counts: dict = field(default_factory=dict)

    def add(self, counts):
        for key, value in counts.items():
            self.counts[key] = self.counts.get(key, 0) + (value or 0)

    def value(self, column):
        # Called for every cell of the page: no property, no generator.
        counts, rate_of = self.counts, column.rate_of
        if not rate_of:
            return counts.get(column.key, 0)
        denominator = counts.get(rate_of[1], 0)
        return counts.get(rate_of[0], 0) / denominator if denominator else None

    def cells(self, columns):
        return [Cell(self.value(c), c) for c in columns]


@dataclass
class Table:
    key: str
    title: str
    dimension: str  # the heading of the first column
    columns: list
    rows: list
    total: Row | None = None

    @property
    def groups(self):
        """The column groups in order, with how many columns each spans."""
        spans = []
        for column in self.columns:
            if spans and spans[-1][0] == column.group:
                spans[-1][1] += 1
            else:
                spans.append([column.group, 1])
        return spans

    def all_rows(self):
        return [*self.rows, self.total] if self.total is not None else list(self.rows)


def _finish(counts):
    """The counts worked out from others: receipts not returned, satisfied or basically."""
    for prefix in ("attitude", "result"):
        counts[f"{prefix}_content"] = counts.get(f"{prefix}_satisfied", 0) + counts.get(
            f"{prefix}_basically", 0
        )
    counts["missing"] = counts.get("asked", 0) - counts.get("returned", 0)
    return counts


# --- the queries -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What the queries count: every session (None), one session, or some parts of one.

    A session's assignments, letters and receipts carry its id (copied from the proposal),
    so each table's rows of one session are read by that column, not reached through the
    session's proposals. A proposal is in part id % STATISTICS_PARTS of its session
    (proposals.models); `by_part` counts part by part, `parts` only those parts.
    """

    session: int | None = None
    by_part: bool = False
    parts: tuple | None = None
    by_session: bool = False  # every session, session by session (a "part" each)

    @property
    def keys(self):
        return ["part"] if self.by_part or self.by_session else []

    @property
    def whole_sessions(self):
        return self.parts is None and (self.session is not None or self.by_session)

    def apply(self, queryset, part_of, *paths):
        """The rows in scope, annotated with their part when counted by part.

        `part_of`: the field that holds the proposal's id (an assignment's or the proposal's
        own); `paths`: the model's own ("") and each table's on the way to the proposal,
        all of which carry the session. For some parts only, the session is filtered where
        the part is (an index has both), and the other tables are reached from those rows:
        filtered by the session too, the planner would read the whole session's rows."""
        if self.session is not None:
            if self.parts is not None:
                paths = [part_of.rpartition("__")[0] + "__" if "__" in part_of else ""]
            queryset = queryset.filter(**{f"{path}session": self.session for path in paths})
        if self.by_part:
            queryset = queryset.annotate(part=statistics_part(part_of))
            if self.parts is not None:
                queryset = queryset.filter(part__in=self.parts)
        elif self.by_session:
            queryset = queryset.annotate(part=F("session"))
        return queryset


class Day:
    """What the figures of open work depend on besides the data: today (what is overdue),
    and the day from which a first contact is overdue, which the working-day calendar and
    the rules move (one small query, made when first needed)."""

    def __init__(self, today):
        self.today = today

    @functools.cached_property
    def first_contact_cutoff(self):
        # The rules read once, not from the cache for each day it walks back.
        with deadlines.rules_as(deadlines.current_rules()):
            return deadlines.latest_start_due_before(deadlines.first_contact_due, self.today)

    @property
    def stamp(self):
        return (self.today.isoformat(), self.first_contact_cutoff.isoformat())


def _handling_counts(day, per_unit):
    """Count expressions over assignments annotated by `_assignments`."""
    unreplied = Q(replied_at__isnull=True)
    late = Q(replied_on__gt=F("due"))
    overdue = unreplied & Q(due__lt=day.today)
    if per_unit:
        replying = Q(role__in=REPLYING)

        def n(condition):
            return Count("id", filter=replying & condition)

        return {
            "assigned": Count("id", filter=replying),
            "acknowledged": n(Q(acknowledged_at__isnull=False)),
            "replied": n(~unreplied),
            "on_time": n(~unreplied & ~late),
            "face": n(~unreplied & Q(face=True)),
            "overdue": n(overdue),
            "co": Count("id", filter=Q(role=Role.CO)),
            "opinions": Count("id", filter=Q(opinion_sent=True)),
        }

    # Filtered to replying assignments already; a proposal counts once. Its replying units
    # in a round are one lead unit (a constraint) or split units: a lead's rows are counted
    # as they are, and only split units' rows distinct (which sorts them: few are split).
    def proposals(condition):
        return Count("id", filter=Q(role=Role.LEAD) & condition) + Count(
            "proposal", filter=Q(role=Role.SPLIT) & condition, distinct=True
        )

    # A proposal is replied (on time, face to face) when none of its replying units is not.
    return {
        "assigned": proposals(Q()),
        "not_replied": proposals(unreplied),
        "not_on_time": proposals(unreplied | late),
        "not_face": proposals(unreplied | Q(face=False)),
        "overdue": proposals(overdue),
    }


def _assignments():
    return (
        Assignment.objects.filter(is_active=True, proposal__state__in=HANDLED)
        .annotate(
            due=Coalesce("extended_due", "reply_due"),
            # The day it was sent where the committee is, whoever looks.
            replied_on=TruncDate("replied_at", tzinfo=timezone.get_default_timezone()),
        )
        # Met face to face on or before the day the reply was sent (the first such contact
        # is kept on the assignment).
        .annotate(
            face=Case(
                When(
                    Q(
                        role__in=REPLYING,
                        replied_at__isnull=False,
                        face_to_face_on__lte=F("replied_on"),
                    ),
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
    )


def _letter_counts():
    counts = {"letters": Count("id")}
    for letter in CLASSES:
        counts[f"class_{letter}"] = Count("id", filter=Q(result_class=letter))
    return counts


def _receipt_counts():
    returned = Q(submitted_at__isnull=False)
    counts = {"asked": Count("id"), "returned": Count("id", filter=returned)}
    for rating in Receipt.ATTITUDE_RATINGS:
        counts[f"attitude_{rating}"] = Count("id", filter=returned & Q(attitude=rating))
    for rating in Receipt.RESULT_RATINGS:
        counts[f"result_{rating}"] = Count("id", filter=returned & Q(result=rating))
    return counts


def _contact_cutoff_time(day):
    """The start of the day after the latest assignment day whose first contact is late."""
    return datetime.datetime.combine(
        day.first_contact_cutoff + datetime.timedelta(days=1),
        datetime.time(),
        tzinfo=timezone.get_default_timezone(),
    )


def _contact_late(day):
    """An open replying assignment without a reply or a recorded contact, past its
    first-contact deadline: counted once in Python as the latest assignment day late."""
    until = _contact_cutoff_time(day)
    candidate = Q(
        role__in=REPLYING,
        replied_at__isnull=True,
        proposal__state__in=[State.ASSIGNED, State.HANDLING],
        assigned_at__lt=until,
    )
    # Looked up only for the candidates: most rows skip the subquery.
    return Case(
        When(candidate, then=~Exists(ContactRecord.objects.filter(assignment=OuterRef("pk")))),
        default=Value(False),
        output_field=BooleanField(),
    )


def _contact_overdue():
    """Count of assignments annotated `contact_late` (`_contact_late`)."""
    return Count("id", filter=Q(contact_late=True))


TABLES = ("sessions", "categories", "kinds", "units", "round2", "by_state")


def _empty():
    return {table: {} for table in TABLES}


def _add(target, counts):
    for name, value in counts.items():
        target[name] = target.get(name, 0) + (value or 0)


def _without(row, keys):
    return {k: v for k, v in row.items() if k not in keys}


PROPOSAL_KEYS = ("session", "category", "kind")


def _assignments_in(scope):
    return scope.apply(_assignments(), "proposal", "", "proposal__")


def _by_proposal(scope):
    """An assignment's keys of the session, category and kind tables (and its part)."""
    return [*scope.keys, *(f"proposal__{k}" for k in PROPOSAL_KEYS)]


def _queries(scope, day):
    """The five queries of a scope, by name (see `_tally`): what each reads and groups by."""
    keys = [*scope.keys, *PROPOSAL_KEYS]
    intake = (
        scope.apply(Proposal.objects.exclude(state__in=NOT_RECEIVED), "id", "")
        .values(*keys, "state")
        .annotate(n=Count("id"))
        .order_by()
    )

    assignments = _assignments_in(scope)
    handling = (
        assignments.filter(round=1, role__in=REPLYING)
        .values(*_by_proposal(scope))
        .annotate(**_handling_counts(day, per_unit=False))
        .order_by()
    )
    # Looked up for co-handling units' rows only (a join would read every opinion).
    opinion_sent = Case(
        When(
            Q(role=Role.CO),
            then=Exists(CoOpinion.objects.filter(assignment=OuterRef("pk"), sent_at__isnull=False)),
        ),
        default=Value(False),
        output_field=BooleanField(),
    )
    unit_handling = (
        assignments.annotate(contact_late=_contact_late(day), opinion_sent=opinion_sent)
        .values(*scope.keys, "unit", "round")
        .annotate(
            **_handling_counts(day, per_unit=True),
            contact_overdue=_contact_overdue(),
        )
        .order_by()
    )

    def by_proposal_and_unit(queryset, to_assignment, counts):
        prefix = f"{to_assignment}proposal__"
        keys = [*(prefix + k for k in PROPOSAL_KEYS), f"{to_assignment}unit", "round"]
        return queryset.values(*scope.keys, *keys).annotate(**counts).order_by()

    letters = ReplyLetter.objects.filter(
        sent_at__isnull=False, assignment__proposal__state__in=HANDLED
    )
    letters = scope.apply(
        letters, "assignment__proposal", "", "assignment__", "assignment__proposal__"
    )
    receipts = Receipt.objects.filter(
        letter__sent_at__isnull=False, letter__assignment__proposal__state__in=HANDLED
    ).annotate(round=F("letter__round"))
    receipts = scope.apply(
        receipts,
        "letter__assignment__proposal",
        "",
        "letter__",
        "letter__assignment__",
        "letter__assignment__proposal__",
    )
    return {
        "intake": intake,
        "handling": handling,
        "unit_handling": unit_handling,
        "letters": by_proposal_and_unit(letters, "assignment__", _letter_counts()),
        "receipts": by_proposal_and_unit(receipts, "letter__assignment__", _receipt_counts()),
    }


# What is overdue moves with the day alone; everything else only with a step. On a new day
# the kept counts keep all but these figures, which are counted again from the open work
# alone (unreplied replying assignments: few beside a session's) and put in their place.
DAY_FIGURES = ("overdue", "contact_overdue")


def _day_queries(scope, day):
    """The two queries of the figures of `DAY_FIGURES`: the same count expressions as
    `_queries`, over the open work only (every overdue count needs it open)."""
    open_work = _assignments_in(scope).filter(role__in=REPLYING, replied_at__isnull=True)
    return {
        "handling": open_work.filter(round=1)
        .values(*_by_proposal(scope))
        .annotate(overdue=_handling_counts(day, per_unit=False)["overdue"])
        .order_by(),
        "unit_handling": open_work.annotate(contact_late=_contact_late(day))
        .values(*scope.keys, "unit", "round")
        .annotate(
            overdue=_handling_counts(day, per_unit=True)["overdue"],
            contact_overdue=_contact_overdue(),
        )
        .order_by(),
    }


def _day_tally(scope, day, compiled=True):
    """The figures of `DAY_FIGURES` of a scope, as `_tally` gives them (by part)."""
    counted = _Counted()
    rows = _fetched(scope, day, day_figures=True, compiled=compiled)
    for row in rows["handling"]:
        counted.by_proposal(row, "proposal__", {"overdue": row["overdue"]})
    for row in rows["unit_handling"]:
        counts = {"overdue": row["overdue"], "contact_overdue": row["contact_overdue"]}
        counted.by_unit(row, row["unit"], row["round"], counts)
    return counted.parts


def _with_day(counts, day_counts):
    """A copy of `counts` with the figures of `day_counts` in place of its own day figures."""
    new = {
        table: dict(rows)
        if table == "by_state"
        else {
            key: {name: n for name, n in row.items() if name not in DAY_FIGURES}
            for key, row in rows.items()
        }
        for table, rows in counts.items()
    }
    _added(new, day_counts, 1)
    return new


class _Counted:
    """Counts being added up from the queries' rows: {part: {table: {row key: counts}}}."""

    def __init__(self):
        self.parts = {}

    def tables_of(self, row):
        part = row.get("part")
        tables = self.parts.get(part)
        if tables is None:
            tables = self.parts[part] = _empty()
        return tables

    def by_proposal(self, row, prefix, counts):
        """To the session's, category's and kind's rows of the proposal."""
        tables = self.tables_of(row)
        for table, key in zip(("sessions", "categories", "kinds"), PROPOSAL_KEYS, strict=True):
            _add(tables[table].setdefault(row[prefix + key], {}), counts)

    def by_unit(self, row, unit, round_number, counts):
        table = "units" if round_number == 1 else "round2"
        _add(self.tables_of(row)[table].setdefault(unit, {}), counts)


def _tally(scope, day, compiled=True):
    """Every table's counts (before `_finish`) by part: {part: {table: {row key: counts}}},
    "by_state" among the tables; one part, None, unless the scope counts by part.

    Five queries (`_queries`): proposals; assignments by proposal (the session, category
    and kind tables count proposals) and by unit; letters; receipts (both by session,
    category, kind, unit and round at once); and one for the calendar of first contacts.
    Round 1 everywhere but in the round-2 table.
    """
    counted = _Counted()
    rows = _fetched(scope, day, compiled=compiled)
    for row in rows["intake"]:
        state, n = row["state"], row["n"]
        counts = {"received": n}
        if state in ACCEPTED:
            counts["accepted"] = n
        elif state == State.SUBMITTED:
            counts["pending"] = n
        else:
            counts[
                {
                    State.MERGED: "merged",
                    State.CONVERTED: "converted",
                    State.REJECTED: "rejected",
                    State.WITHDRAWN: "withdrawn",
                }[state]
            ] = n
        counted.by_proposal(row, "", counts)
        band = next(b for b, _label, states in STATE_BANDS if state in states)
        by_state = counted.tables_of(row)["by_state"]
        key = (row["session"], band)
        by_state[key] = by_state.get(key, 0) + n

    for row in rows["handling"]:
        assigned = row["assigned"]
        counts = {
            "assigned": assigned,
            "replied": assigned - row["not_replied"],
            "on_time": assigned - row["not_on_time"],
            "face": assigned - row["not_face"],
            "overdue": row["overdue"],
        }
        counted.by_proposal(row, "proposal__", counts)

    by_unit = ["unit", "round"]
    for row in rows["unit_handling"]:
        counted.by_unit(row, row["unit"], row["round"], _without(row, ["part", *by_unit]))

    for name, to_assignment in (("letters", "assignment__"), ("receipts", "letter__assignment__")):
        prefix = f"{to_assignment}proposal__"
        keys = [*(prefix + k for k in PROPOSAL_KEYS), f"{to_assignment}unit", "round"]
        for row in rows[name]:
            tally = _without(row, ["part", *keys])
            if row["round"] == 1:
                counted.by_proposal(row, prefix, tally)
            counted.by_unit(row, row[f"{to_assignment}unit"], row["round"], tally)
    return counted.parts


# A step counts again one part of its session: the same five queries each time, but for
# another session, part and day. Building and compiling them (Django's expressions, some
# thirty filtered counts) took longer than running them, so the queries of a session (whole,
# by part, or some parts of it) are compiled once per process, with stand-ins for the
# session, the parts and the day, and run with the real values in the stand-ins' places;
# their rows skip Django's conversions too (counts and keys come as they are). The number
# of parts is rounded up to a power of two (the last one repeated), so that a few shapes
# serve every step.
_STAND_IN_SESSION = -917_000_001
_STAND_IN_PARTS = -917_000_100
_STAND_IN_DAY = datetime.date(1901, 2, 3)
_STAND_IN_CUTOFF = datetime.date(1901, 3, 4)
_compiled = {}


class _StandInDay(Day):
    """A day whose values stand in for any day's in the compiled queries."""

    def __init__(self):
        super().__init__(_STAND_IN_DAY)
        self.first_contact_cutoff = _STAND_IN_CUTOFF


def _day_values(day, database):
    """The values a day puts into the queries (`_handling_counts`, `_contact_late`), as the
    database is given them."""
    ops = database.ops
    return [
        ops.adapt_datefield_value(day.today),
        ops.adapt_datetimefield_value(_contact_cutoff_time(day)),
    ]


def _stand_ins(shape, database):
    """The stand-in values, in the order `_fetched` gives the real ones."""
    return [
        _STAND_IN_SESSION,
        *(_STAND_IN_PARTS - i for i in range(shape)),
        *_day_values(_StandInDay(), database),
    ]


def _compiled_queries(day_figures, database, by_part, shape):
    """{name: (SQL, params, slots)} of the five queries (or the day figures' two) of a
    session, by part or not, for `shape` parts (0: every part). `slots`: (position in the
    params, index of the real value, the param's type) of each stand-in, found once here.

    Every stand-in must be somewhere, and no other day may be (a day the stand-ins do not
    reach would be counted as the stand-in's 1901): refused here rather than miscounted."""
    key = (day_figures, database.alias, by_part, shape, settings.TIME_ZONE, settings.USE_TZ)
    compiled = _compiled.get(key)
    if compiled is None:
        queries = _day_queries if day_figures else _queries
        parts = tuple(_STAND_IN_PARTS - i for i in range(shape)) or None
        scope = Scope(_STAND_IN_SESSION, by_part=by_part, parts=parts)
        stand_ins = _stand_ins(shape, database)
        index = {value: i for i, value in enumerate(stand_ins)}
        compiled, found = {}, set()
        for name, queryset in queries(scope, _StandInDay()).items():
            sql, params = queryset.query.get_compiler(connection=database).as_sql()
            slots = []
            for position, param in enumerate(params):
                i = None
                # (SQLite is given days as text: a stand-in day is its text there.)
                if isinstance(param, int | str | datetime.date) and not isinstance(param, bool):
                    i = index.get(param)
                if i is not None:
                    slots.append((position, i, type(param)))
                elif _is_day(param):
                    raise AssertionError(f"{name}: a day that is not a stand-in: {param!r}")
            found.update(i for _position, i, _type in slots)
            compiled[name] = (sql, params, slots)
        missing = set(range(len(stand_ins))) - found
        assert not missing, f"stand-ins missing from the compiled queries: {missing}"
        _compiled[key] = compiled
    return compiled


def _is_day(param):
    """A date or datetime, or its text as SQLite is given it."""
    if isinstance(param, datetime.date):
        return True
    if not isinstance(param, str):
        return False
    try:
        datetime.date.fromisoformat(param[:10])
    except ValueError:
        return False
    return True


def _fetched(scope, day, day_figures=False, compiled=True):
    """The rows of the five queries (`_queries`), or of the day figures' two (`_day_queries`),
    as dicts: compiled once for a session (above), unless `compiled` is False (as Django
    builds them: the direct count the kept and compiled ones are checked against)."""
    if not compiled or scope.session is None or scope.parts == ():
        return (_day_queries if day_figures else _queries)(scope, day)
    database = connections[router.db_for_read(Proposal)]
    chosen = scope.parts or ()
    shape = 1 << (len(chosen) - 1).bit_length() if chosen else 0
    parts = (*chosen, *chosen[-1:] * (shape - len(chosen)))
    values = [scope.session, *parts, *_day_values(day, database)]
    rows = {}
    with database.cursor() as cursor:
        queries = _compiled_queries(day_figures, database, scope.by_part, shape)
        for name, (sql, params, slots) in queries.items():
            params = list(params)
            for position, i, kind in slots:
                # An int as the type the stand-in was given (psycopg's Int4 for a part).
                params[position] = kind(values[i]) if issubclass(kind, int) else values[i]
            cursor.execute(sql, params)
            names = [column[0] for column in cursor.description]
            rows[name] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    return rows


# PostgreSQL prices a join by how many rows it expects from each side. Every table of one
# session is filtered by the same session, and the planner, taking the filters as
# independent, expects an assignment of the session to find its proposal of the session
# once in ten (sessions): it then follows thousands of rows one index lookup at a time.
# For whole sessions the joins are made by hashing instead (set for these queries only,
# and reset after them: two queries more); a few parts' rows are few enough for lookups.
@contextlib.contextmanager
def _joined_by_hashing(scope):
    if connection.vendor != "postgresql" or not scope.whole_sessions:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('enable_nestloop', 'off', false)")
        try:
            yield
        except Exception:
            # In a transaction the error aborted, the SET is undone with it.
            with contextlib.suppress(DatabaseError):
                cursor.execute("RESET enable_nestloop")
            raise
        cursor.execute("RESET enable_nestloop")


def tally(scope, day, compiled=True):
    """The counts of a scope (`_tally`), with the planner set for its size."""
    with _joined_by_hashing(scope):
        return _tally(scope, day, compiled)


def _added(total, tally, sign):
    """Add a tally's counts to `total` (sign 1), or take them out (-1)."""
    for table, rows in tally.items():
        target = total[table]
        if table == "by_state":
            for key, n in rows.items():
                target[key] = target.get(key, 0) + sign * n
            continue
        for key, counts in rows.items():
            row = target.get(key)
            if row is None:
                target[key] = {name: sign * n for name, n in counts.items()}
            else:
                for name, n in counts.items():
                    row[name] = row.get(name, 0) + sign * n


def _drop_empty(total):
    """Rows left with nothing to count once a part was taken out (every row counted in
    the database counts something)."""
    for rows in total.values():
        empty = [k for k, v in rows.items() if not (any(v.values()) if isinstance(v, dict) else v)]
        for key in empty:
            del rows[key]


def _pickled(counts):
    return pickle.dumps(counts, pickle.HIGHEST_PROTOCOL)


def _unpickled(data):
    return pickle.loads(data)  # noqa: S301 — our own cache entries


def _swapped(total, old, new):
    """Take `old` counts out of `total` and put `new` in; `new` pickled, to be kept."""
    _added(total, old, -1)
    _added(total, new, 1)
    return _pickled(new)


def _summed(tallies):
    total = _empty()
    for tally in tallies:
        _added(total, tally, 1)
    return total


def _finished(tally):
    """The tables as the page shows them: counts worked out from others added (a copy)."""
    return {
        table: dict(rows) if table == "by_state" else {k: _finish(dict(c)) for k, c in rows.items()}
        for table, rows in tally.items()
    }


def _is_open(tally):
    """Whether anything counted may change by itself, as days pass: only an unreplied
    replying assignment becomes overdue (its reply, its first contact)."""
    return any(
        counts.get("assigned", 0) > counts.get("replied", 0)
        for table in ("units", "round2")
        for counts in tally[table].values()
    )


# --- kept counts -------------------------------------------------------------------------------

# Every change a figure depends on is a workflow step, and every step writes an audit event
# (append-only: ids only grow) with the proposal's session. A session's latest event is the
# version of its figures; the events since a kept version name the proposals, hence the
# parts, that changed. Once steps come to a session, its counts are kept part by part: a
# step makes one part (a 64th of the session) counted again, the session's figures are the
# sum of its parts, and all sessions' the sum of the sessions'. A session no step came to
# since it was counted is counted as a whole (cheaper), and kept as a sum only.
#
# What is overdue changes at midnight (and the first contacts overdue with the calendar): a
# part (or session) with no unreplied replying assignment does not depend on the day, and
# is kept across days; another has its day figures (`DAY_FIGURES`) counted again on a new
# day, from its open work alone, and keeps the rest.
#
# Kept for a week (an old session is counted about once a week).
KEPT_SECONDS = 7 * 24 * 3600
# A step whose transaction commits after a later step's, and after someone counted in
# between, has an event older than the version that reader kept. A count keeps the events
# written this long before it that it saw; with the session's next step, those it did not
# see are counted too (a step's transaction takes well under a second).
LATE_COMMIT = datetime.timedelta(seconds=30)


def versions(session=None):
    """{session id: version} of every session, or of the one given: one query, an index
    probe per session. A version is the latest event's id and time (the time tells apart a
    database made anew)."""
    sessions = Session.objects.order_by()
    if session is not None:
        sessions = sessions.filter(pk=session.pk)
    latest = Event.objects.filter(session=OuterRef("pk")).order_by("-pk")
    rows = sessions.annotate(
        event=Subquery(latest.values("pk")[:1]), at=Subquery(latest.values("created_at")[:1])
    ).values_list("pk", "event", "at")
    return {pk: (event, at.timestamp()) if event else (0, 0.0) for pk, event, at in rows}


def digest(session_versions):
    """A short key for the versions of several sessions."""
    text = ",".join(f"{pk}:{v[0]}:{v[1]}" for pk, v in sorted(session_versions.items()))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


_UNREAD = object()


def _kept_key(session_id, what):
    # With the number of parts: kept parts of another number are not these.
    return f"statistics:v2:{STATISTICS_PARTS}:{what}:{session_id}"


def _follows(earlier, later):
    """Whether the data at version `later` is the data at `earlier` and the events since
    (not a database made anew, where ids start again)."""
    return earlier[0] < later[0] or earlier == later


def _valid(kept, version, day):
    return (
        kept is not None
        and kept["version"] == version
        and (not kept["open"] or kept["stamp"] == day.stamp)
    )


def _changed_parts(session_id, parts, version, now):
    """The parts to count again, and the recent events seen now ({id}, None: not known).

    Those of the proposals with events since the kept version, or with recent events the
    kept count did not see (all of them, nothing usable being kept)."""
    if parts is None or not _follows(parts["version"], version):
        return set(range(STATISTICS_PARTS)), None
    stale = set()
    if parts["version"] == version:
        return stale, parts["seen"]
    kept_version, seen = parts["version"][0], parts["seen"]
    since = Q(pk__gt=kept_version) | Q(created_at__gte=parts["read_at"] - LATE_COMMIT)
    events = (
        Event.objects.filter(since, session=session_id)
        .annotate(part=statistics_part("proposal"))
        .order_by()
        .values_list("pk", "part", "created_at")
    )
    recent = now - LATE_COMMIT
    now_seen = set()
    for pk, part, created_at in events:
        if pk > kept_version or seen is None or pk not in seen:
            stale.add(part)
        if created_at >= recent:
            now_seen.add(pk)
    return stale, now_seen


def _session_counts(session_id, version, day, kept=_UNREAD):
    """A session's counts (before `_finish`), kept; counted again where they changed.

    Kept twice: the sum, which the pages read, and the sum with every part's counts, in
    one entry (so the two agree whoever wrote last). The parts counted again are taken
    out of the sum and their new counts put in, whatever the number of parts. Each part's
    counts are kept pickled: reading and writing the entry copies them, and only the parts
    counted again are unpickled. `kept`: the kept sum, if already read."""
    if kept is _UNREAD:
        kept = cache.get(_kept_key(session_id, "counts"))
    if _valid(kept, version, day):
        return kept["counts"]
    read_at = timezone.now()  # (the version was read just before)
    key = _kept_key(session_id, "parts")
    parts = cache.get(key)
    if parts is None and kept is not None and kept["version"] == version:
        # Only the day moved on: what is overdue counted again.
        day_counts = _summed(_day_tally(Scope(session_id), day).values())
        return _keep(session_id, version, day, _with_day(kept["counts"], day_counts))
    if parts is None and kept is None:
        # Nothing kept: counted as a whole, which is cheaper than part by part. Counted by
        # part once steps come (from the first one on).
        return _keep(session_id, version, day, _summed(tally(Scope(session_id), day).values()))
    stale, seen = _changed_parts(session_id, parts, version, read_at)
    if parts is not None and parts["version"] == version:
        read_at = parts["read_at"]  # nothing read since: what was seen then stands
    if len(stale) > STATISTICS_PARTS // 2:
        # Most of the session (its first step, or steps in most parts): counted whole, part
        # by part, which reads each table once rather than part after part.
        stale = set(range(STATISTICS_PARTS))
        if seen is None:
            recent = Event.objects.filter(session=session_id, created_at__gte=read_at - LATE_COMMIT)
            seen = set(recent.values_list("pk", flat=True))
        fresh = tally(Scope(session_id, by_part=True), day)
        kept_parts, counts = {}, _empty()
    else:
        fresh = tally(Scope(session_id, by_part=True, parts=tuple(stale)), day) if stale else {}
        kept_parts, counts = parts["parts"], parts["counts"]
        # Parts with open work kept on another day: their day figures counted again.
        on_another_day = {
            p
            for p, (stamp, is_open, _c) in kept_parts.items()
            if is_open and stamp != day.stamp and p not in stale
        }
        if on_another_day:
            few = len(on_another_day) <= STATISTICS_PARTS // 2
            scope = Scope(session_id, by_part=True, parts=tuple(on_another_day) if few else None)
            day_counts = _day_tally(scope, day)
        for p in on_another_day:
            old = _unpickled(kept_parts[p][2])
            new = _with_day(old, day_counts.get(p, _empty()))
            kept_parts[p] = (day.stamp, True, _swapped(counts, old, new))
    for p in stale:
        old = _unpickled(kept_parts[p][2]) if p in kept_parts else _empty()
        new = fresh.get(p, _empty())
        kept_parts[p] = (day.stamp, _is_open(new), _swapped(counts, old, new))
    _drop_empty(counts)
    cache.set(
        key,
        {
            "version": version,
            "read_at": read_at,
            "seen": seen,
            "parts": kept_parts,
            "counts": counts,
        },
        KEPT_SECONDS,
    )
    return _keep(session_id, version, day, counts)


def _keep(session_id, version, day, counts):
    kept = {"version": version, "stamp": day.stamp, "open": _is_open(counts), "counts": counts}
    cache.set(_kept_key(session_id, "counts"), kept, KEPT_SECONDS)
    return counts


# With most sessions to count anew (a cold cache), one pass over all of them, session by
# session: at 100,000 proposals in 15 sessions, 2.9 s against 3.7 s for 15 passes.
ONE_PASS_SHARE = 0.75


def figures(session, today, use_cache=True, session_versions=None):
    """The counts of each table's rows: {table key: {row key: counts}}, and "by_state".

    Kept, and counted again where the data changed (above); `use_cache=False` counts
    everything directly, by the queries as Django builds them (what the kept and compiled
    counts are checked against). `session_versions`: from `versions(session)`, if read.
    """
    day = Day(today)
    if not use_cache:
        scope = Scope(session.pk if session else None)
        return _finished(_summed(tally(scope, day, compiled=False).values()))
    if session_versions is None:
        session_versions = versions(session)
    if session is not None:
        return _finished(_session_counts(session.pk, session_versions[session.pk], day))
    return _finished(_all_counts(session_versions, day))


ALL_KEY = "statistics:v3:all"


def _all_counts(session_versions, day):
    """All sessions' counts: the sum of the sessions', kept with each session's own counts
    and version, so that after a step its session's old counts are taken out of the sum and
    the new ones put in, rather than every session added up again."""
    kept = cache.get(ALL_KEY)
    if kept is None or kept["of"].keys() != session_versions.keys():
        return _all_counted_again(session_versions, day)
    of = kept["of"]
    new_day = kept["stamp"] != day.stamp
    stale = [
        pk
        for pk, version in session_versions.items()
        if of[pk][0] != version or (new_day and of[pk][1])
    ]
    if len(stale) > ONE_PASS_SHARE * len(session_versions):
        return _all_counted_again(session_versions, day)
    counts = kept["counts"]
    for pk in stale:
        new = _session_counts(pk, session_versions[pk], day)
        pickled = _swapped(counts, _unpickled(of[pk][2]), new)
        of[pk] = (session_versions[pk], _is_open(new), pickled)
    if stale or new_day:
        _drop_empty(counts)
        cache.set(ALL_KEY, {"stamp": day.stamp, "of": of, "counts": counts}, KEPT_SECONDS)
    return counts


def _kept_session(version, counts):
    return (version, _is_open(counts), _pickled(counts))


def _all_counted_again(session_versions, day):
    keys = {pk: _kept_key(pk, "counts") for pk in session_versions}
    kept = cache.get_many(keys.values())
    unkept = [pk for pk, key in keys.items() if key not in kept]
    counted = {}
    if len(unkept) > ONE_PASS_SHARE * len(session_versions):
        # A cold cache: every session counted in one pass, session by session.
        by_session = tally(Scope(by_session=True), day)
        counted = {
            pk: _keep(pk, session_versions[pk], day, by_session.get(pk, _empty())) for pk in unkept
        }
    tallies = {
        pk: counted[pk] if pk in counted else _session_counts(pk, version, day, kept.get(keys[pk]))
        for pk, version in session_versions.items()
    }
    counts = _summed(tallies.values())
    of = {pk: _kept_session(session_versions[pk], tally) for pk, tally in tallies.items()}
    cache.set(ALL_KEY, {"stamp": day.stamp, "of": of, "counts": counts}, KEPT_SECONDS)
    return counts


# --- the page's tables -------------------------------------------------------------------------


@dataclass
class Statistics:
    session: Session | None
    tables: dict  # key → Table
    sessions: list  # the sessions in scope, oldest first
    by_state: dict  # (session id, band) → proposals
    definitions: dict = field(default_factory=lambda: DEFINITIONS)


def _total(rows, label):
    total = Row("total", label)
    for row in rows:
        total.add(row.counts)
    _finish(total.counts)
    return total


def _rows(counts_by_key, order, names):
    """Rows in the given order of keys, then any other key by name."""
    missing = pgettext_lazy("statistics", "None")
    rows = [Row(k, names.get(k, missing), counts_by_key[k]) for k in order if k in counts_by_key]
    others = [Row(k, names.get(k, missing), c) for k, c in counts_by_key.items() if k not in order]
    return rows + sorted(others, key=lambda r: str(r.label))


def statistics(session, today, unit_ids=None, use_cache=True, session_versions=None):
    """Every table of the statistics page, for one session (or all: None).

    `unit_ids`: the units whose rows a unit's people see (None: every unit, for committee
    staff); the totals are always of every unit. `session_versions`: see `figures`.
    """
    total_label = pgettext_lazy("statistics", "Total")
    counts = figures(session, today, use_cache, session_versions)
    sessions = list(
        Session.objects.select_related("term")
        .filter(pk__in=[session.pk] if session else list(counts["sessions"]))
        .order_by("term__number", "number")
    )
    categories = sorted(
        Category.objects.filter(pk__in=[k for k in counts["categories"] if k]),
        key=lambda c: (c.position, c.name),
    )
    kinds = dict(Proposal.Kind.choices)
    unit_ids_counted = set(counts["units"]) | set(counts["round2"])
    unit_names = {
        pk: short_name or name
        for pk, short_name, name in Unit.objects.filter(pk__in=unit_ids_counted)
        .order_by()
        .values_list("pk", "short_name", "name")
    }

    def proposal_table(key, title, dimension, order, names):
        rows = _rows(counts[key], order, names)
        return Table(key, title, dimension, PROPOSAL_COLUMNS, rows, _total(rows, total_label))

    def unit_table(key, title, columns):
        rows = _rows(counts[key], [], unit_names)
        rows.sort(key=lambda r: (-r.counts.get("assigned", 0), str(r.label)))
        total = _total(rows, total_label)
        if unit_ids is not None:
            rows = [r for r in rows if r.key in unit_ids]
        return Table(key, title, _("Unit"), columns, rows, total)

    sessions_table = proposal_table(
        "sessions",
        pgettext_lazy("statistics", "By session"),
        _("Session"),
        [s.pk for s in sessions],
        {s.pk: str(s) for s in sessions},
    )
    if session is not None:
        # One session: its row is the total.
        sessions_table.total = None
    # The order of the page and of the workbook.
    tables = {
        "sessions": sessions_table,
        "units": unit_table("units", pgettext_lazy("statistics", "By unit"), UNIT_COLUMNS),
        "categories": proposal_table(
            "categories",
            pgettext_lazy("statistics", "By category"),
            _("Category"),
            [c.pk for c in categories],
            {c.pk: c.name for c in categories},
        ),
        "kinds": proposal_table(
            "kinds",
            pgettext_lazy("statistics", "By proposer kind"),
            pgettext_lazy("statistics", "Proposer kind"),
            list(kinds),
            kinds,
        ),
        "round2": unit_table(
            "round2",
            pgettext_lazy("statistics", "Re-handling (round 2), by unit"),
            ROUND2_COLUMNS,
        ),
    }
    return Statistics(session, tables, sessions, counts["by_state"])
