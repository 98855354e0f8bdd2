"""The proposal workflow: stages 1–5 of DESIGN.md, each transition once.

Views, admin actions and management commands call these functions; none of
them sets a status field itself. Every function here:

- checks that the actor may do it and that the proposal is in a state that
  allows it (else raises `Refused` with a message for the user);
- runs in a transaction with `select_for_update` on the row it changes;
- writes an audit `Event` (who, when, from, to, comment);
- notifies the people the step hands work to, after commit.

Allowed proposal transitions (action: from → to):

    submit        draft → awaiting_cosigners | submitted
    cosign        awaiting_cosigners → submitted (once every co-signer answered)
    withdraw      draft | awaiting_cosigners | submitted → withdrawn   (a proposer)
                  accepted | assigned | handling → withdrawn          (committee, on request)
    (request_withdrawal: the first proposer asks for it after acceptance; no state change)
    accept        submitted → accepted (gets the next number in its session)
    merge         submitted → merged
    convert       submitted → converted
    reject        submitted → rejected
    assign        accepted → assigned
    acknowledge   assigned → handling (the first lead or split unit to acknowledge)
    (send reply   handling → replied: in replies.services, once every replying unit sent)
    rehandle      replied → handling (round + 1, a unit replies again)
    close         replied → closed

Assignment-level steps (return requests, co-handling opinions, contact records)
leave the proposal's state alone but are audited the same way.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Unit, User
from accounts.notifications import notify, notify_contact

from . import access, deadlines
from .models import (
    Assignment,
    ContactRecord,
    CoOpinion,
    Event,
    Proposal,
    ProposalSigner,
    RejectionReason,
    Session,
)

State = Proposal.State

TRANSITIONS = {
    "submit": {State.DRAFT},
    "cosign": {State.AWAITING_COSIGNERS},
    "withdraw_by_proposer": {State.DRAFT, State.AWAITING_COSIGNERS, State.SUBMITTED},
    "withdraw_by_committee": {State.ACCEPTED, State.ASSIGNED, State.HANDLING},
    "accept": {State.SUBMITTED},
    "merge": {State.SUBMITTED},
    "convert": {State.SUBMITTED},
    "reject": {State.SUBMITTED},
    "assign": {State.ACCEPTED},
    "acknowledge": {State.ASSIGNED, State.HANDLING},
    "request_return": {State.ASSIGNED, State.HANDLING},
    "decide_return": {State.ASSIGNED, State.HANDLING},
    "send_opinion": {State.ASSIGNED, State.HANDLING},
    "record_contact": {State.ASSIGNED, State.HANDLING, State.REPLIED},
    "rehandle": {State.REPLIED},
    "close": {State.REPLIED},
}


class Refused(ValidationError):
    """A transition that may not happen now; the message says why, for the user."""


# --- helpers -----------------------------------------------------------------------------


def record_event(proposal, actor, verb, from_state="", to_state="", comment="", obj=None):
    return Event.objects.create(
        proposal=proposal,
        actor=actor if actor is not None and actor.is_authenticated else None,
        verb=verb,
        from_state=from_state,
        to_state=to_state,
        comment=comment or "",
        object_type=obj._meta.model_name if obj is not None else "",
        object_id=obj.pk if obj is not None else None,
    )


def _lock(proposal):
    """Re-read the proposal under a row lock: decisions are made on the locked row."""
    return Proposal.objects.select_for_update().get(pk=proposal.pk)


def _lock_assignment(assignment):
    return Assignment.objects.select_for_update().select_related("unit").get(pk=assignment.pk)


def _check_state(proposal, action):
    if proposal.state not in TRANSITIONS[action]:
        raise Refused(
            _("This cannot be done while the proposal is “%(state)s”.")
            % {"state": proposal.get_state_display()}
        )


def _require_committee(actor):
    if not access.is_committee(actor):
        raise Refused(_("Only committee staff can do this."))


def _require_unit_member(actor, unit):
    if not access.is_unit_member(actor, unit):
        raise Refused(_("Only the people of %(unit)s can do this.") % {"unit": unit})


def _set_state(proposal, to_state, **fields):
    proposal.state = to_state
    for name, value in fields.items():
        setattr(proposal, name, value)
    proposal.save(update_fields=["state", "updated_at", *fields])


def unit_people(units, role=None):
    memberships = Membership.objects.filter(unit__in=units, user__is_active=True)
    if role:
        memberships = memberships.filter(role=role)
    return User.objects.filter(pk__in=memberships.values("user_id"))


def committee_people():
    return User.objects.filter(is_committee_staff=True, is_active=True)


def proposer_users(proposal):
    """The proposers' accounts; a co-signer who declined is no longer one of them."""
    signers = ProposalSigner.objects.filter(proposal=proposal).exclude(
        status=ProposalSigner.Status.DECLINED
    )
    return User.objects.filter(proposer__signatures__in=signers, is_active=True).distinct()


def _tell_proposers(proposal, verb, message):
    url = proposal.get_absolute_url()
    notify(proposer_users(proposal), verb, message, url)
    signers = proposal.signers.exclude(status=ProposalSigner.Status.DECLINED)
    for signer in signers.select_related("proposer"):
        if signer.proposer.user_id is None:
            notify_contact(email=signer.proposer.email, message=message, url=url)


def _with_comment(message, comment):
    if comment:
        return _("%(message)s Comment: %(comment)s") % {"message": message, "comment": comment}
    return message


# --- stage 1: submission -------------------------------------------------------------------


@transaction.atomic
def submit(proposal, actor):
    """A proposer submits a draft; a joint proposal first waits for its co-signers."""
    proposal = _lock(proposal)
    _check_state(proposal, "submit")
    if not (access.is_committee(actor) or access.is_first_proposer(actor, proposal)):
        raise Refused(_("Only the first proposer can submit this proposal."))
    _validate_complete(proposal)
    pending = proposal.signers.filter(status=ProposalSigner.Status.PENDING, position__gt=0)
    to_state = State.AWAITING_COSIGNERS if pending.exists() else State.SUBMITTED
    from_state = proposal.state
    _set_state(proposal, to_state, submitted_at=timezone.now())
    record_event(proposal, actor, "submitted", from_state, to_state)
    if to_state == State.AWAITING_COSIGNERS:
        users = User.objects.filter(proposer__signatures__in=pending, is_active=True)
        notify(
            users,
            "cosign_requested",
            _("%(proposer)s asks you to co-sign the proposal “%(title)s”.")
            % {"proposer": proposal.signers.first().proposer, "title": proposal.title},
            proposal.get_absolute_url(),
        )
    else:
        _tell_committee_submitted(proposal)
    return proposal


def _validate_complete(proposal):
    missing = [
        label
        for label, value in (
            (_("title"), proposal.title),
            (_("reasons"), proposal.reasons),
            (_("suggestions"), proposal.suggestions),
        )
        if not (value or "").strip()
    ]
    if missing:
        raise Refused(_("Please fill in: %(fields)s.") % {"fields": "、".join(missing)})
    if not proposal.consent_to_publish and not proposal.no_publish_reason.strip():
        raise Refused(_("Please give the reason why the proposal should not be published."))


def _tell_committee_submitted(proposal):
    notify(
        committee_people(),
        "submitted",
        _("A proposal was submitted for review: “%(title)s”.") % {"title": proposal.title},
        proposal.get_absolute_url(),
    )


@transaction.atomic
def respond_as_cosigner(proposal, actor, confirm, comment=""):
    """A co-signer confirms (附议) or declines; when all have answered, the proposal goes to review."""
    proposal = _lock(proposal)
    _check_state(proposal, "cosign")
    proposer = access.proposer_of(actor)
    signer = (
        proposal.signers.filter(proposer=proposer, position__gt=0).first() if proposer else None
    )
    if signer is None:
        raise Refused(_("You are not a co-signer of this proposal."))
    if signer.status != ProposalSigner.Status.PENDING:
        raise Refused(_("You have already answered."))
    signer.status = ProposalSigner.Status.CONFIRMED if confirm else ProposalSigner.Status.DECLINED
    signer.responded_at = timezone.now()
    signer.save(update_fields=["status", "responded_at"])
    verb = "cosign_confirmed" if confirm else "cosign_declined"
    record_event(proposal, actor, verb, comment=comment, obj=signer)
    first_users = User.objects.filter(
        proposer__signatures__proposal=proposal, proposer__signatures__position=0
    )
    message = (
        _("%(name)s co-signed “%(title)s”.")
        if confirm
        else _("%(name)s declined to co-sign “%(title)s”.")
    ) % {"name": proposer, "title": proposal.title}
    notify(first_users, verb, _with_comment(message, comment), proposal.get_absolute_url())
    if not proposal.signers.filter(status=ProposalSigner.Status.PENDING).exists():
        from_state = proposal.state
        _set_state(proposal, State.SUBMITTED)
        record_event(proposal, None, "submitted", from_state, State.SUBMITTED)
        _tell_committee_submitted(proposal)
    return proposal


@transaction.atomic
def withdraw(proposal, actor, comment=""):
    """撤案: the first proposer before acceptance; committee staff after it, on request."""
    proposal = _lock(proposal)
    if proposal.state in TRANSITIONS["withdraw_by_proposer"]:
        if not (access.is_first_proposer(actor, proposal) or access.is_committee(actor)):
            raise Refused(_("Only the first proposer can withdraw this proposal."))
    elif proposal.state in TRANSITIONS["withdraw_by_committee"]:
        if not access.is_committee(actor):
            raise Refused(
                _(
                    "An accepted proposal can only be withdrawn with the committee’s approval: "
                    "ask the committee staff."
                )
            )
        if not comment.strip():
            raise Refused(_("Please give the reason for the withdrawal."))
    else:
        _check_state(proposal, "withdraw_by_proposer")
    from_state = proposal.state
    _set_state(proposal, State.WITHDRAWN, review_outcome=Proposal.ReviewOutcome.WITHDRAW)
    proposal.assignments.filter(is_active=True).update(is_active=False)
    record_event(proposal, actor, "withdrawn", from_state, State.WITHDRAWN, comment)
    _tell_proposers(
        proposal,
        "withdrawn",
        _with_comment(
            _("The proposal “%(title)s” was withdrawn.") % {"title": proposal.title}, comment
        ),
    )
    return proposal


@transaction.atomic
def request_withdrawal(proposal, actor, reason):
    """After acceptance the first proposer asks the committee to withdraw the proposal;
    committee staff decide (withdraw it, or not)."""
    proposal = _lock(proposal)
    if proposal.state not in TRANSITIONS["withdraw_by_committee"]:
        _check_state(proposal, "withdraw_by_committee")
    if not access.is_first_proposer(actor, proposal):
        raise Refused(_("Only the first proposer can ask to withdraw this proposal."))
    if not reason.strip():
        raise Refused(_("Please give the reason for the withdrawal."))
    record_event(proposal, actor, "withdrawal_requested", comment=reason)
    notify(
        committee_people(),
        "withdrawal_requested",
        _("%(proposer)s asks to withdraw %(number)s “%(title)s”: %(reason)s")
        % {
            "proposer": access.proposer_of(actor),
            "number": proposal.display_number,
            "title": proposal.title,
            "reason": reason,
        },
        proposal.get_absolute_url(),
    )
    return proposal


# --- stage 2: review -------------------------------------------------------------------------


def next_number(session):
    """The next proposal number in a session: the session row is locked, so two staff
    accepting at the same moment get consecutive numbers, never the same one."""
    Session.objects.select_for_update().get(pk=session.pk)
    last = Proposal.objects.filter(session=session).aggregate(n=Max("number"))["n"]
    return (last or 0) + 1


@transaction.atomic
def accept(proposal, actor, comment=""):
    """立案: the proposal gets the next number in its session."""
    _require_committee(actor)
    proposal = _lock(proposal)
    _check_state(proposal, "accept")
    number = next_number(proposal.session)
    from_state = proposal.state
    _set_state(
        proposal,
        State.ACCEPTED,
        number=number,
        review_outcome=Proposal.ReviewOutcome.ACCEPT,
        review_comment=comment,
        reviewed_at=timezone.now(),
    )
    record_event(proposal, actor, "accepted", from_state, State.ACCEPTED, comment)
    _tell_proposers(
        proposal,
        "accepted",
        _with_comment(
            _("Your proposal “%(title)s” was accepted as %(number)s.")
            % {"title": proposal.title, "number": proposal.display_number},
            comment,
        ),
    )
    return proposal


@transaction.atomic
def merge(proposal, into, actor, comment=""):
    """并案: merged into an accepted proposal, whose reply its proposers will receive."""
    _require_committee(actor)
    proposal = _lock(proposal)
    _check_state(proposal, "merge")
    into = Proposal.objects.get(pk=into.pk)
    if into.pk == proposal.pk:
        raise Refused(_("A proposal cannot be merged into itself."))
    if into.number is None or into.state in (
        State.MERGED,
        State.CONVERTED,
        State.REJECTED,
        State.WITHDRAWN,
    ):
        raise Refused(_("A proposal can only be merged into an accepted proposal."))
    from_state = proposal.state
    _set_state(
        proposal,
        State.MERGED,
        merged_into=into,
        review_outcome=Proposal.ReviewOutcome.MERGE,
        review_comment=comment,
        reviewed_at=timezone.now(),
    )
    record_event(
        proposal, actor, "merged", from_state, State.MERGED, comment or str(into), obj=into
    )
    record_event(into, actor, "merged_in", comment=str(proposal), obj=proposal)
    _tell_proposers(
        proposal,
        "merged",
        _with_comment(
            _(
                "Your proposal “%(title)s” was merged into %(number)s “%(into)s”; "
                "you will receive its reply."
            )
            % {"title": proposal.title, "number": into.display_number, "into": into.title},
            comment,
        ),
    )
    return proposal


@transaction.atomic
def convert(proposal, actor, comment=""):
    """转为意见建议: forwarded as an opinion or suggestion."""
    _require_committee(actor)
    proposal = _lock(proposal)
    _check_state(proposal, "convert")
    from_state = proposal.state
    _set_state(
        proposal,
        State.CONVERTED,
        review_outcome=Proposal.ReviewOutcome.CONVERT,
        review_comment=comment,
        reviewed_at=timezone.now(),
    )
    record_event(proposal, actor, "converted", from_state, State.CONVERTED, comment)
    _tell_proposers(
        proposal,
        "converted",
        _with_comment(
            _("Your proposal “%(title)s” was turned into an opinion and forwarded.")
            % {"title": proposal.title},
            comment,
        ),
    )
    return proposal


@transaction.atomic
def reject(proposal, actor, reason, comment=""):
    """不予立案, with a coded reason from the configurable list."""
    _require_committee(actor)
    if not isinstance(reason, RejectionReason):
        raise Refused(_("Please choose a reason."))
    proposal = _lock(proposal)
    _check_state(proposal, "reject")
    from_state = proposal.state
    _set_state(
        proposal,
        State.REJECTED,
        rejection_reason=reason,
        review_outcome=Proposal.ReviewOutcome.REJECT,
        review_comment=comment,
        reviewed_at=timezone.now(),
    )
    text = f"{reason.label}：{comment}" if comment else reason.label
    record_event(proposal, actor, "rejected", from_state, State.REJECTED, text)
    _tell_proposers(
        proposal,
        "rejected",
        _("Your proposal “%(title)s” was not accepted. Reason: %(reason)s")
        % {"title": proposal.title, "reason": text},
    )
    return proposal


# --- stage 3: assignment ----------------------------------------------------------------------


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


def _check_units(units):
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
    _require_committee(actor)
    plan = _plan_roles(mode, lead, co_units, split_units)
    _check_units([unit for unit, _role in plan])
    proposal = _lock(proposal)
    _check_state(proposal, "assign")
    now = timezone.now()
    today = timezone.localdate(now)
    default_reply = deadlines.reply_due(today, corrections).due
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
    _set_state(proposal, State.ASSIGNED, handling_mode=mode)
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
            _with_comment(
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
    _require_committee(actor)
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
                _with_comment(
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


# --- stage 4: acknowledgement and return requests ------------------------------------------


@transaction.atomic
def acknowledge(assignment, actor):
    """签收. The first lead or split unit to acknowledge puts the proposal in handling."""
    assignment = _lock_assignment(assignment)
    _require_unit_member(actor, assignment.unit)
    proposal = _lock(assignment.proposal)
    _check_state(proposal, "acknowledge")
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
        _set_state(proposal, to_state)
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
    assignment = _lock_assignment(assignment)
    _require_unit_member(actor, assignment.unit)
    proposal = _lock(assignment.proposal)
    _check_state(proposal, "request_return")
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
    _require_committee(actor)
    assignment = _lock_assignment(assignment)
    proposal = _lock(assignment.proposal)
    _check_state(proposal, "decide_return")
    if assignment.return_status != Assignment.ReturnStatus.REQUESTED:
        raise Refused(_("There is no return request waiting for a decision."))
    now = timezone.now()
    replacement = None
    if approve:
        if new_unit is None:
            raise Refused(_("Choose the unit that takes the proposal over."))
        _check_units([new_unit])
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
            reply_due=deadlines.reply_due(today).due if assignment.reply_due else None,
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
        _with_comment(message, comment),
        proposal.get_absolute_url(),
    )
    return replacement or assignment


# --- stage 5: handling -----------------------------------------------------------------------


@transaction.atomic
def send_opinion(assignment, actor, title, body, doc_number="", signer="", attachment=None):
    """A co-handling unit sends its opinion (协办意见) to the lead unit."""
    assignment = _lock_assignment(assignment)
    _require_unit_member(actor, assignment.unit)
    proposal = _lock(assignment.proposal)
    _check_state(proposal, "send_opinion")
    if assignment.role != Assignment.Role.CO or not assignment.is_active:
        raise Refused(_("Only an assigned co-handling unit sends a co-handling opinion."))
    if CoOpinion.objects.filter(assignment=assignment, sent_at__isnull=False).exists():
        raise Refused(_("%(unit)s has already sent its opinion.") % {"unit": assignment.unit})
    if not title.strip() or not body.strip():
        raise Refused(_("The opinion needs a title and a text."))
    opinion, _created = CoOpinion.objects.update_or_create(
        assignment=assignment,
        defaults={
            "title": title,
            "body": body,
            "doc_number": doc_number,
            "signer": signer,
            "created_by": actor,
            "sent_at": timezone.now(),
        },
    )
    if attachment is not None:
        opinion.attachment.save(attachment.name, attachment, save=True)
    record_event(
        proposal,
        actor,
        "opinion_sent",
        comment=f"{assignment.unit.short_name}：{title}",
        obj=opinion,
    )
    leads = proposal.assignments.filter(
        is_active=True, round=assignment.round, role=Assignment.Role.LEAD
    ).values("unit")
    notify(
        unit_people(Unit.objects.filter(pk__in=leads)),
        "opinion_received",
        _("%(unit)s sent its co-handling opinion on %(number)s “%(title)s”.")
        % {
            "unit": assignment.unit.short_name,
            "number": proposal.display_number,
            "title": proposal.title,
        },
        proposal.get_absolute_url(),
    )
    return opinion


@transaction.atomic
def record_contact(
    assignment,
    actor,
    contacted_on,
    method,
    participants="",
    leader_took_part=False,
    summary="",
):
    """沟通记录: a handling unit's contact with the proposer."""
    assignment = _lock_assignment(assignment)
    _require_unit_member(actor, assignment.unit)
    proposal = _lock(assignment.proposal)
    _check_state(proposal, "record_contact")
    if not assignment.is_active:
        raise Refused(_("This assignment is no longer active."))
    if method not in ContactRecord.Method.values:
        raise Refused(_("Choose how the proposer was contacted."))
    if contacted_on > timezone.localdate():
        raise Refused(_("The date of a contact cannot be in the future."))
    if isinstance(contacted_on, datetime.datetime):
        contacted_on = contacted_on.date()
    record = ContactRecord.objects.create(
        assignment=assignment,
        contacted_on=contacted_on,
        method=method,
        participants=participants,
        leader_took_part=leader_took_part,
        summary=summary,
        created_by=actor,
    )
    record_event(
        proposal,
        actor,
        "contact_recorded",
        comment=f"{assignment.unit.short_name}：{record.get_method_display()} {summary}".strip(),
        obj=record,
    )
    return record


# --- stage 9: re-handling and closing -----------------------------------------------------------


def receipt_status(proposal):
    """The receipts of the proposal's current round: (receipts, missing, dissatisfied, period_over).

    `period_over` is true once the receipt period of every letter of the round has passed.
    """
    from replies.models import Receipt

    receipts = list(
        Receipt.objects.filter(
            letter__assignment__proposal=proposal, letter__round=proposal.current_round
        ).select_related("proposer", "letter")
    )
    missing = [r for r in receipts if not r.is_submitted]
    dissatisfied = [r for r in receipts if r.is_submitted and r.is_dissatisfied]
    today = timezone.localdate()
    sent_dates = {timezone.localdate(r.letter.sent_at) for r in receipts if r.letter.sent_at}
    period_over = bool(sent_dates) and all(deadlines.receipt_due(d).due < today for d in sent_dates)
    return receipts, missing, dissatisfied, period_over


@transaction.atomic
def order_rehandling(proposal, actor, unit=None, comment="", reply_due=None):
    """重新办理: a second round — a unit (the same or another) replies again."""
    _require_committee(actor)
    proposal = _lock(proposal)
    _check_state(proposal, "rehandle")
    if not comment.strip():
        raise Refused(_("Please explain why the proposal is handled again."))
    previous = (
        proposal.assignments.filter(
            is_active=True,
            round=proposal.current_round,
            role__in=[Assignment.Role.LEAD, Assignment.Role.SPLIT],
        )
        .select_related("unit")
        .first()
    )
    unit = unit or (previous.unit if previous else None)
    if unit is None:
        raise Refused(_("Choose the unit that handles the proposal again."))
    _check_units([unit])
    now = timezone.now()
    today = timezone.localdate(now)
    due = reply_due or deadlines.rehandling_due(today).due
    if due < today:
        raise Refused(_("The reply deadline cannot be in the past."))
    new_round = proposal.current_round + 1
    Assignment.objects.create(
        proposal=proposal,
        unit=unit,
        role=Assignment.Role.LEAD,
        round=new_round,
        assigned_at=now,
        assigned_by=actor,
        acknowledged_at=now,
        acknowledged_by=actor,
        reply_due=due,
    )
    from_state = proposal.state
    _set_state(proposal, State.HANDLING, current_round=new_round)
    record_event(
        proposal,
        actor,
        "rehandling_ordered",
        from_state,
        State.HANDLING,
        _("Round %(round)s: %(unit)s, reply due %(due)s. %(comment)s")
        % {"round": new_round, "unit": unit.short_name, "due": due, "comment": comment},
    )
    notify(
        unit_people([unit]),
        "rehandling_ordered",
        _with_comment(
            _("%(number)s “%(title)s” is to be handled again (round %(round)s); reply by %(due)s.")
            % {
                "number": proposal.display_number,
                "title": proposal.title,
                "round": new_round,
                "due": due,
            },
            comment,
        ),
        proposal.get_absolute_url(),
    )
    _tell_proposers(
        proposal,
        "rehandling_ordered",
        _("Your proposal %(number)s “%(title)s” will be handled again by %(unit)s.")
        % {"number": proposal.display_number, "title": proposal.title, "unit": unit.short_name},
    )
    return proposal


def closable(proposal):
    """(True, "") when the proposal may be closed without an explanation, else (False, why)."""
    receipts, missing, dissatisfied, period_over = receipt_status(proposal)
    if dissatisfied:
        names = "、".join(str(r.proposer) for r in dissatisfied)
        return False, _("%(names)s is dissatisfied.") % {"names": names}
    if missing and not period_over:
        names = "、".join(str(r.proposer) for r in missing)
        return False, _("Receipts are still missing from %(names)s.") % {"names": names}
    return True, ""


@transaction.atomic
def close(proposal, actor, comment=""):
    """办结: when every receipt is in and none dissatisfied, or the receipt period passed.

    Otherwise committee staff may still close it, with an explanation.
    """
    _require_committee(actor)
    proposal = _lock(proposal)
    _check_state(proposal, "close")
    ok, why = closable(proposal)
    if not ok and not comment.strip():
        raise Refused(
            _("%(why)s Order re-handling, or give an explanation for closing it.") % {"why": why}
        )
    from_state = proposal.state
    _set_state(proposal, State.CLOSED, closed_at=timezone.now())
    record_event(proposal, actor, "closed", from_state, State.CLOSED, comment)
    _tell_proposers(
        proposal,
        "closed",
        _with_comment(
            _("Your proposal %(number)s “%(title)s” is closed.")
            % {"number": proposal.display_number, "title": proposal.title},
            comment,
        ),
    )
    return proposal


def bulk_close(proposals, actor, comment=""):
    """Close many proposals at once: all or none; a refusal names the proposal."""
    _require_committee(actor)
    done = []
    with transaction.atomic():
        for proposal in proposals:
            try:
                done.append(close(proposal, actor, comment))
            except Refused as exc:
                raise Refused(
                    _("%(proposal)s: %(reason)s")
                    % {"proposal": proposal, "reason": " ".join(exc.messages)}
                ) from exc
    return done
