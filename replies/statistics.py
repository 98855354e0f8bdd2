"""Statistics (DESIGN.md, "Statistics"): the figures committees publish, counted in SQL.

`statistics(session, today)` returns every table of the page; the view and the Excel
export render the same `Table` objects, so the two cannot disagree. The counts are
aggregated in the database, a few grouped queries for the whole page, whatever the number
of proposals; only the divisions (rates) are done here.

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
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db import DatabaseError, connection
from django.db.models import BooleanField, Case, Count, Exists, F, OuterRef, Q, Value, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.models import Unit
from proposals import deadlines
from proposals.models import Assignment, Category, ContactRecord, Event, Proposal, Session

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
        if not self.column.is_rate:
            return str(self.value)
        return "—" if self.value is None else f"{self.value * 100:.1f}%"


@dataclass
class Row:
    key: object
    label: str
    counts: dict = field(default_factory=dict)

    def add(self, counts):
        for key, value in counts.items():
            self.counts[key] = self.counts.get(key, 0) + (value or 0)

    def value(self, column):
        if not column.is_rate:
            return self.counts.get(column.key, 0)
        numerator, denominator = (self.counts.get(k, 0) for k in column.rate_of)
        return numerator / denominator if denominator else None

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

    @property
    def lines(self):
        """The rows with their cells, as the page and the workbook show them."""
        return [
            {"row": row, "cells": row.cells(self.columns), "is_total": row is self.total}
            for row in self.all_rows()
        ]


def _finish(counts):
    """The counts worked out from others: receipts not returned, satisfied or basically."""
    for prefix in ("attitude", "result"):
        counts[f"{prefix}_content"] = counts.get(f"{prefix}_satisfied", 0) + counts.get(
            f"{prefix}_basically", 0
        )
    counts["missing"] = counts.get("asked", 0) - counts.get("returned", 0)
    return counts


# --- the queries -------------------------------------------------------------------------------


def _scope(prefix, session):
    return Q(**{f"{prefix}session": session}) if session is not None else Q()


def _handling_counts(today, per_unit):
    """Count expressions over assignments annotated by `_assignments`."""
    if per_unit:
        replying = Q(role__in=REPLYING)
        count = "id"
        distinct = False
    else:
        # Filtered to replying assignments already; a proposal counts once.
        replying = Q()
        count = "proposal"
        distinct = True

    def n(condition):
        condition = replying & condition
        return Count(count, filter=condition or None, distinct=distinct)

    unreplied = Q(replied_at__isnull=True)
    late = Q(replied_on__gt=F("due"))
    overdue = unreplied & Q(due__lt=today)
    if per_unit:
        return {
            "assigned": n(Q()),
            "acknowledged": n(Q(acknowledged_at__isnull=False)),
            "replied": n(~unreplied),
            "on_time": n(~unreplied & ~late),
            "face": n(~unreplied & Q(face=True)),
            "overdue": n(overdue),
            "co": Count("id", filter=Q(role=Role.CO)),
            "opinions": Count("id", filter=Q(role=Role.CO, opinion__sent_at__isnull=False)),
        }
    # A proposal is replied (on time, face to face) when none of its replying units is not.
    return {
        "assigned": n(Q()),
        "not_replied": n(unreplied),
        "not_on_time": n(unreplied | late),
        "not_face": n(unreplied | Q(face=False)),
        "overdue": n(overdue),
    }


def _assignments(session):
    face = ContactRecord.objects.filter(
        assignment=OuterRef("pk"),
        method__in=ContactRecord.FACE_TO_FACE,
        contacted_on__lte=OuterRef("replied_on"),
    )
    return (
        Assignment.objects.filter(_scope("proposal__", session))
        .filter(is_active=True, proposal__state__in=HANDLED)
        .annotate(
            due=Coalesce("extended_due", "reply_due"),
            # The day it was sent where the committee is, whoever looks.
            replied_on=TruncDate("replied_at", tzinfo=timezone.get_default_timezone()),
        )
        # Looked up only for a sent reply: co-handling units' rows skip the subquery.
        .annotate(
            face=Case(
                When(Q(role__in=REPLYING, replied_at__isnull=False), then=Exists(face)),
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


def _letters(session):
    return ReplyLetter.objects.filter(
        _scope("assignment__proposal__", session),
        sent_at__isnull=False,
        assignment__proposal__state__in=HANDLED,
    )


def _receipt_counts():
    returned = Q(submitted_at__isnull=False)
    counts = {"asked": Count("id"), "returned": Count("id", filter=returned)}
    for rating in Receipt.ATTITUDE_RATINGS:
        counts[f"attitude_{rating}"] = Count("id", filter=returned & Q(attitude=rating))
    for rating in Receipt.RESULT_RATINGS:
        counts[f"result_{rating}"] = Count("id", filter=returned & Q(result=rating))
    return counts


def _receipts(session):
    return Receipt.objects.filter(
        _scope("letter__assignment__proposal__", session),
        letter__sent_at__isnull=False,
        letter__assignment__proposal__state__in=HANDLED,
    )


def _without(row, keys):
    return {k: v for k, v in row.items() if k not in keys}


def proposal_cube(session, today):
    """Round-1 figures of proposals, by (session, category, kind): the cells the session,
    category and kind tables add up. Four queries: proposals, assignments, letters,
    receipts. Also the proposals by session and state, for the chart."""
    cells = {}
    by_state = {}

    def add(key, counts):
        _add(cells.setdefault(key, {}), counts)

    intake = (
        Proposal.objects.filter(_scope("", session))
        .exclude(state__in=NOT_RECEIVED)
        .values_list("session", "category", "kind", "state")
        .annotate(n=Count("id"))
        .order_by()
    )
    for session_id, category_id, kind, state, n in intake:
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
        add((session_id, category_id, kind), counts)
        band = next(b for b, _label, states in STATE_BANDS if state in states)
        key = (session_id, band)
        by_state[key] = by_state.get(key, 0) + n

    keys = ["proposal__session", "proposal__category", "proposal__kind"]
    handling = (
        _assignments(session)
        .filter(round=1, role__in=REPLYING)
        .values(*keys)
        .annotate(**_handling_counts(today, per_unit=False))
        .order_by()
    )
    for row in handling:
        assigned = row["assigned"]
        add(
            tuple(row[k] for k in keys),
            {
                "assigned": assigned,
                "replied": assigned - row["not_replied"],
                "on_time": assigned - row["not_on_time"],
                "face": assigned - row["not_face"],
                "overdue": row["overdue"],
            },
        )

    keys = [f"assignment__{k}" for k in keys]
    letters = _letters(session).filter(round=1).values(*keys).annotate(**_letter_counts())
    for row in letters.order_by():
        add(tuple(row[k] for k in keys), _without(row, keys))

    keys = [f"letter__{k}" for k in keys]
    receipts = (
        _receipts(session).filter(letter__round=1).values(*keys).annotate(**_receipt_counts())
    )
    for row in receipts.order_by():
        add(tuple(row[k] for k in keys), _without(row, keys))
    return cells, by_state


def _contact_late(today):
    """An open replying assignment without a reply or a recorded contact, past its
    first-contact deadline: counted once in Python as the latest assignment day late."""
    cutoff = deadlines.latest_start_due_before(deadlines.first_contact_due, today)
    until = datetime.datetime.combine(
        cutoff + datetime.timedelta(days=1), datetime.time(), tzinfo=timezone.get_default_timezone()
    )
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


def unit_rows(session, today):
    """Figures of units' assignments, by (unit, round): three queries, and one for the
    calendar of first contacts."""
    cells = {}

    def add(key, counts):
        _add(cells.setdefault(key, {}), counts)

    handling = (
        _assignments(session)
        .annotate(contact_late=_contact_late(today))
        .values("unit", "round")
        .annotate(
            **_handling_counts(today, per_unit=True),
            contact_overdue=Count("id", filter=Q(contact_late=True)),
        )
        .order_by()
    )
    for row in handling:
        add((row["unit"], row["round"]), _without(row, ("unit", "round")))
    keys = ("assignment__unit", "round")
    for row in _letters(session).values(*keys).annotate(**_letter_counts()).order_by():
        add((row[keys[0]], row[keys[1]]), _without(row, keys))
    keys = ("letter__assignment__unit", "letter__round")
    for row in _receipts(session).values(*keys).annotate(**_receipt_counts()).order_by():
        add((row[keys[0]], row[keys[1]]), _without(row, keys))
    return cells


# --- the page's tables -------------------------------------------------------------------------


@dataclass
class Statistics:
    session: Session | None
    tables: dict  # key → Table
    sessions: list  # the sessions in scope, oldest first
    by_state: dict  # (session id, band) → proposals
    definitions: dict = field(default_factory=lambda: DEFINITIONS)


def _add(target, counts):
    for name, value in counts.items():
        target[name] = target.get(name, 0) + (value or 0)


def _rolled_up(cells, position):
    """The cube's cells added up by the key at `position`: {value: counts}."""
    rows = {}
    for key, counts in cells.items():
        _add(rows.setdefault(key[position], {}), counts)
    return rows


def _total(rows, label):
    total = Row("total", label)
    for row in rows:
        total.add(row.counts)
    _finish(total.counts)
    return total


CACHE_SECONDS = 24 * 3600

# PostgreSQL's default price of a random read (4) is that of a spinning disk. The tables
# these figures read are in memory, and at that price one session's queries scan every
# assignment, letter and receipt of all sessions (hash joins) instead of following the
# indexes from the session's proposals: ten times the rows. The price of a cached read is
# set for the statistics' queries only, and reset after them (two queries more).
RANDOM_PAGE_COST = "1.1"


@contextlib.contextmanager
def _priced_as_cached():
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('random_page_cost', %s, false)", [RANDOM_PAGE_COST])
        try:
            yield
        except Exception:
            # In a transaction the error aborted, the SET is undone with it.
            with contextlib.suppress(DatabaseError):
                cursor.execute("RESET random_page_cost")
            raise
        cursor.execute("RESET random_page_cost")


def data_version():
    """What changes whenever a figure may: the latest audit event (one indexed query)."""
    latest = Event.objects.order_by("-pk").values_list("pk", "created_at").first()
    return f"{latest[0]}@{latest[1].timestamp()}" if latest else "0"


def figures(session, today, use_cache=True):
    """The counts of each table's rows: {table key: {row key: counts}}, and "by_state".

    Kept in the cache until the data changes. Every change the figures depend on is a
    workflow step, and every step writes an audit event (append-only, so ids only grow):
    the latest event is the version of the data. `today` is in the key too, since what is
    overdue changes at midnight.
    """
    version = data_version()
    key = f"statistics:v1:{session.pk if session else 'all'}:{today.isoformat()}:{version}"
    if use_cache and (cached := cache.get(key)) is not None:
        return cached
    with _priced_as_cached():
        cells, by_state = proposal_cube(session, today)
        units = unit_rows(session, today)
    result = {
        "sessions": _rolled_up(cells, 0),
        "categories": _rolled_up(cells, 1),
        "kinds": _rolled_up(cells, 2),
        "units": _rolled_up({k: v for k, v in units.items() if k[1] == 1}, 0),
        # Round 2 and any later round, beside round 1.
        "round2": _rolled_up({k: v for k, v in units.items() if k[1] > 1}, 0),
        "by_state": by_state,
    }
    for name, rows in result.items():
        if name != "by_state":
            for counts in rows.values():
                _finish(counts)
    cache.set(key, result, CACHE_SECONDS)
    return result


def _rows(counts_by_key, order, names):
    """Rows in the given order of keys, then any other key by name."""
    missing = pgettext_lazy("statistics", "None")
    rows = [Row(k, names.get(k, missing), counts_by_key[k]) for k in order if k in counts_by_key]
    others = [Row(k, names.get(k, missing), c) for k, c in counts_by_key.items() if k not in order]
    return rows + sorted(others, key=lambda r: str(r.label))


def statistics(session, today, unit_ids=None, use_cache=True):
    """Every table of the statistics page, for one session (or all: None).

    `unit_ids`: the units whose rows a unit's people see (None: every unit, for committee
    staff); the totals are always of every unit.
    """
    total_label = pgettext_lazy("statistics", "Total")
    counts = figures(session, today, use_cache)
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
        u.pk: u.short_name or u.name for u in Unit.objects.filter(pk__in=unit_ids_counted)
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
