"""Stages 3–4: assignment (交办), acknowledgement (签收), return requests (退回), deadlines."""

import datetime

from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from core.workflow import Refused

from .. import deadlines
from ..models import Assignment, Proposal
from ..workflow import committee_people, record_event, unit_people, with_comment
from .base import (
    check_state,
    lock,
    lock_assignment,
    require_committee,
    require_unit_member,
    set_state,
)

State = Proposal.State


def _plan_roles(mode, lead, co_units, split_units):
    """[(unit, role)] for a handling mode, or Refused if the choice does not fit it."""
    Mode = Proposal.HandlingMode
    co_units = [u for u in (co_units or []) if u is not None]
    split_units = [u for u in (split_units or []) if u is not None]
    if mode == Mode.SINGLE:
        if lead is None:
            raise Refused(_("Choose the handling unit."))
        return [(lead, Assignment.Role.LEAD)]
    if mode == Mode.SPLIT:
        units = split_units or ([lead] if lead else []) + co_units
        if len(units) < 2:
            raise Refused(_("Split handling needs at least two units."))
        return [(u, Assignment.Role.SPLIT) for u in units]
    if mode == Mode.JOINT:
        if lead is None:
            raise Refused(_("Choose the lead unit."))
        if not co_units:
            raise Refused(_("Joint handling needs at least one co-handling unit."))
        if lead in co_units:
            raise Refused(_("The lead unit cannot also be a co-handling unit."))
        return [(lead, Assignment.Role.LEAD)] + [(u, Assignment.Role.CO) for u in co_units]
    raise Refused(_("Choose a handling mode."))


def check_units(units):
    seen = set()
    for unit in units:
        if not unit.is_active:
            raise Refused(_("%(unit)s is not an active unit.") % {"unit": unit})
        if unit.pk in seen:
            raise Refused(_("%(unit)s is chosen twice.") % {"unit": unit})
        seen.add(unit.pk)


@transaction.atomic
def assign(
    proposal,
    actor,
    mode,
    lead=None,
    co_units=(),
    split_units=(),
    reply_due=None,
    opinion_due=None,
    due_change_reason="",
    comment="",
    notify_units=True,
    corrections=None,
):
    """交办: hand an accepted proposal to its unit(s), with deadlines from the rules.

    `corrections` (from deadlines.load_corrections) spares a bulk assignment one calendar
    query per proposal.
    """
    require_committee(actor)
    plan = _plan_roles(mode, lead, co_units, split_units)
    check_units([unit for unit, _role in plan])
    proposal = lock(proposal)
    check_state(proposal, "assign")
    now = timezone.now()
    today = timezone.localdate(now)
    plenary = proposal.period == Proposal.Period.PLENARY
    default_reply = deadlines.reply_due(today, corrections, plenary).due
    default_opinion = deadlines.co_opinion_due(today, corrections).due
    changed = (reply_due and reply_due != default_reply) or (
        opinion_due and opinion_due != default_opinion
    )
    if changed and not due_change_reason.strip():
        raise Refused(_("Please give the reason for changing the deadline."))
    if reply_due and reply_due > deadlines.max_reply_due(today, corrections).due:
        raise Refused(_("The reply deadline cannot be more than six months after assignment."))
    if reply_due and reply_due < today:
        raise Refused(_("The reply deadline cannot be in the past."))
    rows = [
        Assignment(
            proposal=proposal,
            session_id=proposal.session_id,
            unit=unit,
            role=role,
            round=proposal.current_round,
            assigned_at=now,
            assigned_by=actor,
            reply_due=(reply_due or default_reply) if role != Assignment.Role.CO else None,
            opinion_due=(opinion_due or default_opinion) if role == Assignment.Role.CO else None,
            due_change_reason=due_change_reason if changed else "",
        )
        for unit, role in plan
    ]
    Assignment.objects.bulk_create(rows)
    from_state = proposal.state
    set_state(proposal, State.ASSIGNED, handling_mode=mode)
    summary = "、".join(
        f"{unit.short_name}（{Assignment.Role(role).label}）" for unit, role in plan
    )
    record_event(
        proposal,
        actor,
        "assigned",
        from_state,
        State.ASSIGNED,
        "；".join(part for part in (summary, due_change_reason, comment) if part),
    )
    if notify_units:
        _tell_assigned_units(proposal, plan, comment)
    return proposal


def _tell_assigned_units(proposal, plan, comment=""):
    for unit, role in plan:
        notify(
            unit_people([unit]),
            "assigned",
            with_comment(
                _("%(number)s “%(title)s” was assigned to %(unit)s as %(role)s.")
                % {
                    "number": proposal.display_number,
                    "title": proposal.title,
                    "unit": unit.short_name,
                    "role": Assignment.Role(role).label,
                },
                comment,
            ),
            proposal.get_absolute_url(),
        )


def bulk_assign(proposals, actor, mode, lead=None, co_units=(), split_units=(), comment=""):
    """Assign many accepted proposals the same way, in one transaction: all or none.

    Returns the proposals. Refused names the proposal that could not be assigned.
    """
    require_committee(actor)
    done = []
    today = timezone.localdate()
    corrections = deadlines.load_corrections(today, today + datetime.timedelta(days=400))
    with transaction.atomic():
        for proposal in proposals:
            try:
                done.append(
                    assign(
                        proposal,
                        actor,
                        mode,
                        lead=lead,
                        co_units=co_units,
                        split_units=split_units,
                        comment=comment,
                        notify_units=False,
                        corrections=corrections,
                    )
                )
            except Refused as exc:
                raise Refused(
                    _("%(proposal)s: %(reason)s")
                    % {"proposal": proposal, "reason": " ".join(exc.messages)}
                ) from exc
        plan = _plan_roles(mode, lead, co_units, split_units)
        for unit, role in plan:
            notify(
                unit_people([unit]),
                "assigned",
                with_comment(
                    _("%(count)s proposals were assigned to %(unit)s as %(role)s.")
                    % {
                        "count": len(done),
                        "unit": unit.short_name,
                        "role": Assignment.Role(role).label,
                    },
                    comment,
                ),
                reverse("workspace"),
            )
    return done


@transaction.atomic
def acknowledge(assignment, actor):
    """签收. The first lead or split unit to acknowledge puts the proposal in handling."""
    assignment = lock_assignment(assignment)
    require_unit_member(actor, assignment.unit)
    proposal = lock(assignment.proposal)
    check_state(proposal, "acknowledge")
    if not assignment.is_active:
        raise Refused(_("This assignment is no longer active."))
    if assignment.acknowledged_at:
        raise Refused(
            _("%(unit)s already acknowledged this proposal on %(date)s.")
            % {
                "unit": assignment.unit,
                "date": timezone.localtime(assignment.acknowledged_at).strftime("%Y-%m-%d"),
            }
        )
    if assignment.return_status == Assignment.ReturnStatus.REQUESTED:
        raise Refused(_("A return request for this assignment is waiting for a decision."))
    assignment.acknowledged_at = timezone.now()
    assignment.acknowledged_by = actor
    assignment.save(update_fields=["acknowledged_at", "acknowledged_by"])
    from_state = proposal.state
    to_state = from_state
    if from_state == State.ASSIGNED and assignment.role != Assignment.Role.CO:
        to_state = State.HANDLING
        set_state(proposal, to_state)
    record_event(
        proposal,
        actor,
        "acknowledged",
        from_state,
        to_state,
        assignment.unit.short_name,
        assignment,
    )
    return assignment


def return_window(assignment):
    return deadlines.return_window(assignment.assigned_at)


@transaction.atomic
def request_return(assignment, actor, reason):
    """退回申请: within the window after assignment, with a reason."""
    assignment = lock_assignment(assignment)
    require_unit_member(actor, assignment.unit)
    proposal = lock(assignment.proposal)
    check_state(proposal, "request_return")
    if not assignment.is_active:
        raise Refused(_("This assignment is no longer active."))
    if not reason.strip():
        raise Refused(_("Please give the reason for the return request."))
    if assignment.acknowledged_at:
        raise Refused(_("An acknowledged proposal cannot be returned."))
    if assignment.return_status == Assignment.ReturnStatus.REQUESTED:
        raise Refused(_("A return request is already waiting for a decision."))
    window = return_window(assignment)
    if timezone.localdate() > window.due:
        raise Refused(
            _("The window for return requests closed on %(date)s.")
            % {"date": window.due.strftime("%Y-%m-%d")}
        )
    assignment.return_status = Assignment.ReturnStatus.REQUESTED
    assignment.return_reason = reason
    assignment.return_requested_at = timezone.now()
    assignment.return_requested_by = actor
    assignment.save(
        update_fields=[
            "return_status",
            "return_reason",
            "return_requested_at",
            "return_requested_by",
        ]
    )
    record_event(proposal, actor, "return_requested", comment=reason, obj=assignment)
    notify(
        committee_people(),
        "return_requested",
        _("%(unit)s asks to return %(number)s “%(title)s”: %(reason)s")
        % {
            "unit": assignment.unit.short_name,
            "number": proposal.display_number,
            "title": proposal.title,
            "reason": reason,
        },
        proposal.get_absolute_url(),
    )
    return assignment


@transaction.atomic
def decide_return(assignment, actor, approve, comment="", new_unit=None):
    """Committee staff approve a return request (and reassign) or refuse it."""
    require_committee(actor)
    assignment = lock_assignment(assignment)
    proposal = lock(assignment.proposal)
    check_state(proposal, "decide_return")
    if assignment.return_status != Assignment.ReturnStatus.REQUESTED:
        raise Refused(_("There is no return request waiting for a decision."))
    now = timezone.now()
    replacement = None
    if approve:
        if new_unit is None:
            raise Refused(_("Choose the unit that takes the proposal over."))
        check_units([new_unit])
        if proposal.assignments.filter(
            unit=new_unit, round=assignment.round, is_active=True
        ).exists():
            raise Refused(_("%(unit)s is already handling this proposal.") % {"unit": new_unit})
        # Off first: the one-lead-per-round constraint must hold at every statement.
        Assignment.objects.filter(pk=assignment.pk).update(is_active=False)
        assignment.is_active = False
        today = timezone.localdate(now)
        replacement = Assignment.objects.create(
            proposal=proposal,
            unit=new_unit,
            role=assignment.role,
            round=assignment.round,
            assigned_at=now,
            assigned_by=actor,
            reply_due=deadlines.reply_due(
                today, plenary=proposal.period == Proposal.Period.PLENARY
            ).due
            if assignment.reply_due
            else None,
            opinion_due=deadlines.co_opinion_due(today).due if assignment.opinion_due else None,
        )
        assignment.replaced_by = replacement
    assignment.return_status = (
        Assignment.ReturnStatus.APPROVED if approve else Assignment.ReturnStatus.REFUSED
    )
    assignment.return_decided_at = now
    assignment.return_decided_by = actor
    assignment.return_comment = comment
    assignment.save(
        update_fields=[
            "is_active",
            "replaced_by",
            "return_status",
            "return_decided_at",
            "return_decided_by",
            "return_comment",
        ]
    )
    if approve:
        text = _("Reassigned from %(old)s to %(new)s.") % {
            "old": assignment.unit.short_name,
            "new": new_unit.short_name,
        }
        record_event(
            proposal,
            actor,
            "return_approved",
            comment="；".join(p for p in (text, comment) if p),
            obj=assignment,
        )
        message = _("The return request of %(unit)s for %(number)s was approved. %(text)s") % {
            "unit": assignment.unit.short_name,
            "number": proposal.display_number,
            "text": text,
        }
        _tell_assigned_units(proposal, [(new_unit, replacement.role)], comment)
    else:
        record_event(proposal, actor, "return_refused", comment=comment, obj=assignment)
        message = _("The return request of %(unit)s for %(number)s was refused.") % {
            "unit": assignment.unit.short_name,
            "number": proposal.display_number,
        }
    notify(
        unit_people([assignment.unit]),
        "return_decided",
        with_comment(message, comment),
        proposal.get_absolute_url(),
    )
    return replacement or assignment


def _check_reply_due(assignment, due, today):
    limit = deadlines.max_reply_due(timezone.localdate(assignment.assigned_at)).due
    if due > limit:
        raise Refused(
            _("A reply deadline cannot be later than %(date)s, six months after assignment.")
            % {"date": limit.isoformat()}
        )
    if due < today:
        raise Refused(_("The new deadline cannot be in the past."))


@transaction.atomic
def change_deadline(assignment, actor, reason, reply_due=None, opinion_due=None):
    """Committee staff correct an assignment's deadline as set at assignment, with a reason."""
    require_committee(actor)
    assignment = lock_assignment(assignment)
    proposal = lock(assignment.proposal)
    check_state(proposal, "change_deadline")
    if not assignment.is_active:
        raise Refused(_("This assignment is no longer active."))
    if not (reason or "").strip():
        raise Refused(_("Please give the reason for changing the deadline."))
    today = timezone.localdate()
    changes = []
    if reply_due is not None and assignment.role != Assignment.Role.CO:
        _check_reply_due(assignment, reply_due, today)
        if reply_due != assignment.reply_due:
            changes.append(("reply_due", assignment.reply_due, reply_due))
    if opinion_due is not None and assignment.role == Assignment.Role.CO:
        if opinion_due < today:
            raise Refused(_("The new deadline cannot be in the past."))
        if opinion_due != assignment.opinion_due:
            changes.append(("opinion_due", assignment.opinion_due, opinion_due))
    if not changes:
        raise Refused(_("The deadline is unchanged."))
    for name, _old, new in changes:
        setattr(assignment, name, new)
    assignment.due_change_reason = reason
    assignment.save(update_fields=[name for name, _old, _new in changes] + ["due_change_reason"])
    text = "；".join(f"{old or '—'} → {new}" for _name, old, new in changes)
    record_event(
        proposal,
        actor,
        "deadline_changed",
        comment=f"{assignment.unit.short_name}：{text}；{reason}",
        obj=assignment,
    )
    notify(
        unit_people([assignment.unit]),
        "deadline_changed",
        _("The deadline of %(number)s “%(title)s” changed: %(change)s. %(reason)s")
        % {
            "number": proposal.display_number,
            "title": proposal.title,
            "change": text,
            "reason": reason,
        },
        proposal.get_absolute_url(),
    )
    return assignment
