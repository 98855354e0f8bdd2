"""延期: a replying unit asks for a later reply deadline, committee staff decide.

At most `TIAN["EXTENSIONS_MAX"]` extensions per assignment, never past `REPLY_MAX_MONTHS`
from assignment. The date granted becomes `Assignment.extended_due`, the deadline in force
("overdue" is measured against it). Committee staff may also extend directly
(`extend_deadline`); that leaves an approved request as well, through the same code.
"""

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from core.workflow import Refused

from .. import deadlines
from ..models import Assignment, ExtensionRequest
from ..workflow import committee_people, record_event, unit_people, with_comment
from .base import check_state, lock, lock_assignment, require_committee, require_unit_member

Status = ExtensionRequest.Status


def extensions_left(assignment):
    """How many more extensions the assignment may be granted."""
    used = assignment.extension_requests.filter(status=Status.APPROVED).count()
    return max(settings.TIAN["EXTENSIONS_MAX"] - used, 0)


def _check_extendable(assignment, proposal):
    if not assignment.is_active or assignment.role == Assignment.Role.CO:
        raise Refused(_("Only an active replying unit's deadline can be extended."))
    if assignment.round != proposal.current_round or assignment.replied_at is not None:
        raise Refused(_("This unit has already replied; there is nothing to extend."))
    if extensions_left(assignment) <= 0:
        raise Refused(
            _("The reply deadline of %(unit)s was already extended; no further extension.")
            % {"unit": assignment.unit.short_name}
        )


def _check_new_due(assignment, new_due):
    limit = deadlines.max_reply_due(timezone.localdate(assignment.assigned_at)).due
    if new_due > limit:
        raise Refused(
            _("A reply deadline cannot be later than %(date)s, six months after assignment.")
            % {"date": limit.isoformat()}
        )
    if assignment.due and new_due <= assignment.due:
        raise Refused(
            _("An extension must be later than the deadline in force, %(date)s.")
            % {"date": assignment.due.isoformat()}
        )
    if new_due < timezone.localdate():
        raise Refused(_("The new deadline cannot be in the past."))


@transaction.atomic
def request_extension(assignment, actor, wished_due, reason):
    """A unit's person asks for the reply deadline to move to `wished_due`, with a reason."""
    assignment = lock_assignment(assignment)
    require_unit_member(actor, assignment.unit)
    proposal = lock(assignment.proposal)
    check_state(proposal, "request_extension")
    if assignment.acknowledged_at is None:
        raise Refused(_("Acknowledge the proposal (签收) before asking for an extension."))
    _check_extendable(assignment, proposal)
    if assignment.extension_requests.filter(status=Status.REQUESTED).exists():
        raise Refused(_("An extension request is already waiting for a decision."))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("Please give the reason for the extension."))
    _check_new_due(assignment, wished_due)
    request = ExtensionRequest.objects.create(
        assignment=assignment,
        reason=reason,
        wished_due=wished_due,
        previous_due=assignment.due,
        requested_by=actor,
    )
    record_event(
        proposal,
        actor,
        "extension_requested",
        comment=f"{assignment.unit.short_name}：{assignment.due or '—'} → {wished_due}；{reason}",
        obj=assignment,
    )
    notify(
        committee_people(),
        "extension_requested",
        _(
            "%(unit)s asks to extend the reply deadline of %(number)s “%(title)s” to %(date)s: %(reason)s"
        )
        % {
            "unit": assignment.unit.short_name,
            "number": proposal.display_number,
            "title": proposal.title,
            "date": wished_due.isoformat(),
            "reason": reason,
        },
        proposal.get_absolute_url(),
    )
    return request


def _grant(request, assignment, proposal, actor, new_due, comment, verb):
    """Set the extended deadline; the one place `extended_due` is written."""
    _check_new_due(assignment, new_due)
    old = assignment.due
    assignment.extended_due = new_due
    assignment.extension_reason = request.reason
    assignment.save(update_fields=["extended_due", "extension_reason"])
    request.status = Status.APPROVED
    request.granted_due = new_due
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.comment = comment
    request.save(update_fields=["status", "granted_due", "decided_by", "decided_at", "comment"])
    change = f"{old or '—'} → {new_due}"
    record_event(
        proposal,
        actor,
        verb,
        comment="；".join(
            part
            for part in (f"{assignment.unit.short_name}：{change}", request.reason, comment)
            if part
        ),
        obj=assignment,
    )
    notify(
        unit_people([assignment.unit]),
        "deadline_extended",
        with_comment(
            _("The reply deadline of %(number)s “%(title)s” is extended: %(change)s.")
            % {"number": proposal.display_number, "title": proposal.title, "change": change},
            comment,
        ),
        proposal.get_absolute_url(),
    )
    return request


@transaction.atomic
def decide_extension(request, actor, approve, new_due=None, comment=""):
    """Committee staff approve (with the wished date or another) or refuse, with a comment."""
    require_committee(actor)
    request = ExtensionRequest.objects.select_for_update().get(pk=request.pk)
    assignment = lock_assignment(request.assignment)
    proposal = lock(assignment.proposal)
    if request.status != Status.REQUESTED:
        raise Refused(_("This extension request was already decided."))
    comment = (comment or "").strip()
    if approve:
        # Refusing stays possible whatever happened since: a request is never left hanging.
        check_state(proposal, "decide_extension")
        _check_extendable(assignment, proposal)
        return _grant(
            request,
            assignment,
            proposal,
            actor,
            new_due or request.wished_due,
            comment,
            "extension_approved",
        )
    if not comment:
        raise Refused(_("Please say why the extension is refused."))
    request.status = Status.REFUSED
    request.decided_by = actor
    request.decided_at = timezone.now()
    request.comment = comment
    request.save(update_fields=["status", "decided_by", "decided_at", "comment"])
    record_event(
        proposal,
        actor,
        "extension_refused",
        comment=f"{assignment.unit.short_name}：{comment}",
        obj=assignment,
    )
    notify(
        unit_people([assignment.unit]),
        "extension_refused",
        with_comment(
            _(
                "The extension of the reply deadline of %(number)s “%(title)s” was refused; "
                "the deadline stays %(date)s."
            )
            % {
                "number": proposal.display_number,
                "title": proposal.title,
                "date": assignment.due.isoformat() if assignment.due else "—",
            },
            comment,
        ),
        proposal.get_absolute_url(),
    )
    return request


@transaction.atomic
def extend_deadline(assignment, actor, extended_due, reason):
    """Committee staff extend a reply deadline directly (no request from the unit)."""
    require_committee(actor)
    assignment = lock_assignment(assignment)
    proposal = lock(assignment.proposal)
    check_state(proposal, "decide_extension")
    _check_extendable(assignment, proposal)
    if assignment.extension_requests.filter(status=Status.REQUESTED).exists():
        raise Refused(_("An extension request is waiting for a decision: decide it instead."))
    reason = (reason or "").strip()
    if not reason:
        raise Refused(_("Please give the reason for the extension."))
    _check_new_due(assignment, extended_due)
    request = ExtensionRequest.objects.create(
        assignment=assignment,
        reason=reason,
        wished_due=extended_due,
        previous_due=assignment.due,
        requested_by=actor,
    )
    _grant(request, assignment, proposal, actor, extended_due, "", "deadline_extended")
    return assignment
