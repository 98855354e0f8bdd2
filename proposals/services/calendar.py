"""A corrected calendar or a changed deadline rule moves the open deadlines that followed them.

Deadlines are stored on the assignment when it is made (`reply_due`, `opinion_due`). When
committee staff correct a day of the calendar (a holiday the library did not know, a make-up
working day), every open deadline that was the rule's date by the calendar as it was, and is
another date by the calendar as it is now, moves — with an audit event and a message to the
unit. A date set by hand (a reason given at assignment or by "Change the deadline") stays;
an approved extension stays as granted. Closed work (replied, or a proposal no longer being
handled) keeps the dates that applied.

The rules themselves are `DeadlineRule` rows; `change_rule` is the one place they change.
"""

import datetime
from collections import defaultdict

from django.db import transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from core.workflow import Refused

from .. import deadlines
from ..models import Assignment, CoOpinion, DeadlineRule, Proposal
from ..workflow import record_event, unit_people
from .base import require_committee

OPEN_STATES = (Proposal.State.ASSIGNED, Proposal.State.HANDLING)


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
        .annotate(
            # A co-handling unit whose opinion is sent is done: its date stays.
            opinion_sent=Exists(
                CoOpinion.objects.filter(assignment=OuterRef("pk"), sent_at__isnull=False)
            )
        )
        .filter(
            is_active=True,
            round=F("proposal__current_round"),
            proposal__state__in=OPEN_STATES,
            due_change_reason="",
            replied_at__isnull=True,
            opinion_sent=False,
            assigned_at__gte=datetime.datetime.combine(since, datetime.time(), tzinfo=datetime.UTC),
        )
        .select_related("proposal", "unit")
    )


@transaction.atomic
def calendar_corrected(actor, day, was, reason=""):
    """Move the open deadlines a correction of `day` changed; `was` is what the day was before
    (True/False: a correction said so; None: no correction). Returns the assignments moved."""
    require_committee(actor)
    horizon = deadlines.reach()  # The longest rule and a month for moving off a holiday.
    rows = _open_rows(day - horizon)
    if not rows:
        return []
    first = min(deadlines.as_local_date(a.assigned_at) for a in rows)
    after = deadlines.load_corrections(first, first + horizon * 2)
    before = dict(after)
    before.pop(day, None)
    if was is not None:
        before[day] = was
    return _move(
        actor, rows, before, after, {}, reason, _("The calendar was corrected; deadlines moved:")
    )


@transaction.atomic
def rules_changed(actor, rules_before, reason=""):
    """Move the open deadlines that followed the rules as they were (`rules_before`,
    {clock: deadlines.Rule}) to the rules in force now. Returns the assignments moved."""
    require_committee(actor)
    horizon = deadlines.reach({**deadlines.current_rules(), **rules_before})
    rows = _open_rows(deadlines.local_today() - horizon * 2)
    if not rows:
        return []
    first = min(deadlines.as_local_date(a.assigned_at) for a in rows)
    corrections = deadlines.load_corrections(first, first + horizon * 3)
    return _move(
        actor,
        rows,
        corrections,
        corrections,
        rules_before,
        reason,
        _("A deadline rule was changed; deadlines moved:"),
        verb="deadline_rule_changed",
    )


# The longest a rule may be, per unit of time: beyond it no date is a deadline any more.
LONGEST = {
    DeadlineRule.Unit.WORKING_DAYS: 250,
    DeadlineRule.Unit.DAYS: 366,
    DeadlineRule.Unit.MONTHS: 12,
}


def check_rule(clock, length, unit):
    """Refuse a rule no committee could mean; the admin's form shows the reason."""
    if unit not in DeadlineRule.Unit.values:
        raise Refused(_("Choose working days, calendar days or calendar months."))
    if length is None:
        if clock != DeadlineRule.Clock.PLENARY_REPLY:
            raise Refused(_("Give the length of the deadline."))
        return
    if not 1 <= length <= LONGEST[unit]:
        raise Refused(
            _("The length must be between 1 and %(longest)d %(unit)s.")
            % {"longest": LONGEST[unit], "unit": DeadlineRule.Unit(unit).label}
        )
    rules = dict(deadlines.current_rules())
    rules[clock] = deadlines.Rule(clock, rules[clock].starts_at, length, unit)
    with deadlines.rules_as(rules):
        today = deadlines.local_today()
        latest = deadlines.max_reply_due(today, {}).due
        if (
            max(deadlines.reply_due(today, {}).due, deadlines.reply_due(today, {}, True).due)
            > latest
        ):
            raise Refused(
                _(
                    "The reply period cannot be longer than the latest reply date with an "
                    "extension (%(rule)s)."
                )
                % {"rule": deadlines.max_reply_due(today, {}).rule}
            )


def rule_text(rule):
    """ "3 months from assignment", or "as the reply rule" for a plenary rule left empty."""
    if rule.length is None:
        return _("as the reply rule")
    return str(deadlines.by_rule(rule, deadlines.local_today(), "", {}).rule)


@transaction.atomic
def change_rule(rule, actor, length, unit, reason):
    """Set a deadline rule's length and unit of time, with the reason; the open deadlines
    that followed the rule as it was move to it (`rules_changed`). Returns the moved ones."""
    require_committee(actor)
    rule = DeadlineRule.objects.select_for_update().get(pk=rule.pk)
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("Please give the reason for changing the rule."))
    check_rule(rule.clock, length, unit)
    if (rule.length, rule.unit) == (length, unit):
        return []
    before = deadlines.Rule(rule.clock, rule.starts_at, rule.length, rule.unit)
    after = deadlines.Rule(rule.clock, rule.starts_at, length, unit)
    rule.length, rule.unit, rule.note = length, unit, reason
    rule.changed_at, rule.changed_by = timezone.now(), actor
    rule.save(update_fields=["length", "unit", "note", "changed_at", "changed_by"])
    deadlines.forget_rules()
    if rule.clock not in deadlines.STORED_CLOCKS:
        return []
    why = _("%(rule)s: %(before)s → %(after)s (%(reason)s)") % {
        "rule": rule.get_clock_display(),
        "before": rule_text(before),
        "after": rule_text(after),
        "reason": reason,
    }
    return rules_changed(actor, {rule.clock: before}, why)


def _move(actor, rows, before, after, rules_before, reason, heading, verb="deadline_recomputed"):
    now = deadlines.current_rules()  # Once: each row below counts by these, without a query.
    then = {**now, **rules_before}
    moved, by_unit = [], defaultdict(list)
    for assignment in rows:
        with deadlines.rules_as(then):
            field, old_rule = _rule(assignment, before)
        stored = getattr(assignment, field)
        if stored is None or stored != old_rule:
            continue  # Set by hand, or by an earlier rule: not ours to move.
        with deadlines.rules_as(now):
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
            verb,
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
            "\n".join([heading, *lines, reason]).strip(),
        )
    return moved
