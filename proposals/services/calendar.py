"""A corrected calendar moves the open deadlines that followed the rules.

Deadlines are stored on the assignment when it is made (`reply_due`, `opinion_due`). When
committee staff correct a day of the calendar (a holiday the library did not know, a make-up
working day), every open deadline that was the rule's date by the calendar as it was, and is
another date by the calendar as it is now, moves — with an audit event and a message to the
unit. A date set by hand (a reason given at assignment or by "Change the deadline") stays;
an approved extension stays as granted.
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from accounts.notifications import notify

from .. import deadlines
from ..models import Assignment, Proposal
from ..workflow import record_event, unit_people
from .base import require_committee

OPEN_STATES = (Proposal.State.ASSIGNED, Proposal.State.HANDLING)
# The longest rule (six months) and a month for moving off a holiday.
HORIZON = datetime.timedelta(days=31 * 7)


def _rule(assignment, corrections):
    """(field, the rule's date) of the assignment's deadline under `corrections`."""
    if assignment.role == Assignment.Role.CO:
        return "opinion_due", deadlines.co_opinion_due(assignment.assigned_at, corrections).due
    if assignment.round > 1:
        return "reply_due", deadlines.rehandling_due(assignment.assigned_at, corrections).due
    plenary = assignment.proposal.period == Proposal.Period.PLENARY
    return "reply_due", deadlines.reply_due(assignment.assigned_at, corrections, plenary).due


def _open_rows(since):
    return list(
        Assignment.objects.select_for_update(of=("self",))
        .filter(
            is_active=True,
            round=F("proposal__current_round"),
            proposal__state__in=OPEN_STATES,
            due_change_reason="",
            replied_at__isnull=True,
            assigned_at__gte=datetime.datetime.combine(since, datetime.time(), tzinfo=datetime.UTC),
        )
        .select_related("proposal", "unit")
    )


@transaction.atomic
def calendar_corrected(actor, day, was, reason=""):
    """Move the open deadlines a correction of `day` changed; `was` is what the day was before
    (True/False: a correction said so; None: no correction). Returns the assignments moved."""
    require_committee(actor)
    rows = _open_rows(day - HORIZON)
    if not rows:
        return []
    first = min(deadlines.as_local_date(a.assigned_at) for a in rows)
    after = deadlines.load_corrections(first, first + HORIZON * 2)
    before = dict(after)
    before.pop(day, None)
    if was is not None:
        before[day] = was
    return _move(actor, rows, before, after, {}, reason)


@transaction.atomic
def rules_changed(actor, rules_before, reason=""):
    """Move the open deadlines that followed the rules as they were (`rules_before`, e.g.
    {"REPLY_MONTHS": 3}) to the rules in force now. Returns the assignments moved."""
    require_committee(actor)
    rows = _open_rows(deadlines.local_today() - HORIZON * 2)
    if not rows:
        return []
    first = min(deadlines.as_local_date(a.assigned_at) for a in rows)
    corrections = deadlines.load_corrections(first, first + HORIZON * 3)
    return _move(actor, rows, corrections, corrections, rules_before, reason)


def _move(actor, rows, before, after, rules_before, reason):
    moved, by_unit = [], defaultdict(list)
    for assignment in rows:
        with deadlines.rules_as(rules_before):
            field, old_rule = _rule(assignment, before)
        stored = getattr(assignment, field)
        if stored is None or stored != old_rule:
            continue  # Set by hand, or by an earlier rule: not ours to move.
        new = _rule(assignment, after)[1]
        if new == stored:
            continue
        setattr(assignment, field, new)
        moved.append(assignment)
        proposal = assignment.proposal
        change = f"{stored} → {new}"
        record_event(
            proposal,
            actor,
            "deadline_recomputed",
            comment="；".join(p for p in (f"{assignment.unit.short_name}：{change}", reason) if p),
            obj=assignment,
        )
        by_unit[assignment.unit].append(
            _("%(number)s “%(title)s”: %(change)s")
            % {"number": proposal.display_number, "title": proposal.title, "change": change}
        )
    Assignment.objects.bulk_update(moved, ["reply_due", "opinion_due"])
    for unit, lines in by_unit.items():
        notify(
            unit_people([unit]),
            "deadline_changed",
            "\n".join([_("The calendar was corrected; deadlines moved:"), *lines, reason]).strip(),
        )
    return moved
