"""Stage 5: handling — co-handling opinions (协办意见), contacts (沟通联系), the reply."""

import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Unit
from accounts.notifications import notify
from core.storage import storage_failure_reason
from core.workflow import Refused

from ..models import Assignment, ContactRecord, CoOpinion, Proposal
from ..workflow import record_event, unit_people
from .base import TRANSITIONS, check_state, lock, lock_assignment, require_unit_member, set_state

State = Proposal.State


@transaction.atomic
def send_opinion(assignment, actor, title, body, doc_number="", signatory="", attachment=None):
    """A co-handling unit sends its opinion (协办意见) to the lead unit."""
    assignment = lock_assignment(assignment)
    require_unit_member(actor, assignment.unit)
    proposal = lock(assignment.proposal)
    check_state(proposal, "send_opinion")
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
            "signatory": signatory,
            "created_by": actor,
            "sent_at": timezone.now(),
        },
    )
    if attachment is not None:
        try:
            opinion.attachment.save(attachment.name, attachment, save=True)
        except OSError as exc:  # a full disk: refused, the opinion's row rolled back with it
            raise Refused(
                _(
                    "The attachment could not be stored (%(reason)s). Nothing was saved; "
                    "please try again later or tell the system administrator."
                )
                % {"reason": storage_failure_reason(exc)}
            ) from exc
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
    assignment = lock_assignment(assignment)
    require_unit_member(actor, assignment.unit)
    proposal = lock(assignment.proposal)
    check_state(proposal, "record_contact")
    if not assignment.is_active:
        raise Refused(_("This assignment is no longer active."))
    if assignment.acknowledged_at is None:
        raise Refused(_("Acknowledge the proposal (签收) before recording contacts."))
    if method not in ContactRecord.Method.values:
        raise Refused(_("Choose how the proposer was contacted."))
    if isinstance(contacted_on, datetime.datetime):
        contacted_on = timezone.localdate(contacted_on)
    if contacted_on > timezone.localdate():
        raise Refused(_("The date of a contact cannot be in the future."))
    assigned_on = timezone.localdate(assignment.assigned_at)
    if contacted_on < assigned_on:
        raise Refused(
            _("The date of a contact cannot be before the assignment (%(date)s).")
            % {"date": assigned_on.isoformat()}
        )
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


def expect_reply(assignment, proposal):
    """Refused unless the proposal expects a reply letter from this assignment now.

    Every step of a letter before it is sent calls this under the row locks: the
    assignment is a replying one (lead or split), still active, of the proposal's current
    round, acknowledged by its unit, and the proposal is in handling.
    """
    if assignment.role == Assignment.Role.CO:
        raise Refused(_("Only the lead unit (or each unit in split handling) drafts the reply."))
    if not assignment.is_active:
        raise Refused(
            _("This assignment is no longer active: the proposal was returned or reassigned.")
        )
    if assignment.round != proposal.current_round:
        raise Refused(
            _(
                "This assignment belongs to round %(round)s; the proposal is now in round %(current)s."
            )
            % {"round": assignment.round, "current": proposal.current_round}
        )
    if proposal.state == State.ASSIGNED or assignment.acknowledged_at is None:
        raise Refused(_("Acknowledge the proposal (签收) before replying to it."))
    if proposal.state not in TRANSITIONS["draft_reply"]:
        raise Refused(
            _("No reply is expected while the proposal is “%(state)s”.")
            % {"state": proposal.get_state_display()}
        )


def mark_replied(proposal, actor, assignment, sent_at):
    """A replying unit sent its letter: the assignment is replied; once every replying unit
    of the round has, the proposal moves handling → replied.

    Called by `replies.services.send` with the proposal's row locked.
    """
    Assignment.objects.filter(pk=assignment.pk, replied_at__isnull=True).update(replied_at=sent_at)
    replying = proposal.assignments.filter(
        is_active=True,
        round=proposal.current_round,
        role__in=[Assignment.Role.LEAD, Assignment.Role.SPLIT],
    )
    if replying.filter(replied_at__isnull=True).exists():
        return proposal
    check_state(proposal, "reply")
    set_state(proposal, State.REPLIED)
    record_event(proposal, actor, "replied", State.HANDLING, State.REPLIED)
    return proposal
