"""Stage 10: key proposals (重点提案), their supervising leader, and 督办 notes to units."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from core.workflow import Refused

from ..models import SupervisionNote
from ..transitions import TRANSITIONS
from ..workflow import committee_people, record_event, unit_people
from .base import check_state, lock, lock_assignment, require_committee, require_unit_member

# A key proposal is marked among those the committee accepted and still handles or handled.
KEY_STATES = TRANSITIONS["mark_key"]


@transaction.atomic
def mark_key(proposal, actor, is_key, supervising_leader="", comment=""):
    """重点提案: committee staff mark a proposal as key (with its supervising leader) or not."""
    require_committee(actor)
    proposal = lock(proposal)
    check_state(proposal, "mark_key")
    leader = (supervising_leader or "").strip() if is_key else ""
    if is_key and not leader:
        raise Refused(_("Name the leader who supervises the key proposal."))
    if (proposal.is_key, proposal.supervising_leader) == (is_key, leader):
        raise Refused(_("Nothing was changed."))
    old = f"{_('yes') if proposal.is_key else _('no')} {proposal.supervising_leader}".strip()
    proposal.is_key = is_key
    proposal.supervising_leader = leader
    proposal.save(update_fields=["is_key", "supervising_leader", "updated_at"])
    new = f"{_('yes') if is_key else _('no')} {leader}".strip()
    record_event(
        proposal,
        actor,
        "key_marked" if is_key else "key_unmarked",
        comment="；".join(part for part in (f"{old} → {new}", comment) if part),
    )
    return proposal


@transaction.atomic
def supervise(assignment, actor, text):
    """督办: committee staff press one unit on its assignment; the note lands in its inbox."""
    require_committee(actor)
    assignment = lock_assignment(assignment)
    proposal = lock(assignment.proposal)
    check_state(proposal, "supervise")
    if not assignment.is_active or assignment.round != proposal.current_round:
        raise Refused(_("This assignment is no longer active."))
    text = (text or "").strip()
    if not text:
        raise Refused(_("Please write the supervision note."))
    note = SupervisionNote.objects.create(assignment=assignment, text=text, created_by=actor)
    record_event(
        proposal,
        actor,
        "supervised",
        comment=f"{assignment.unit.short_name}：{text}",
        obj=note,
    )
    notify(
        unit_people([assignment.unit]),
        "supervised",
        _("Supervision (督办) of %(number)s “%(title)s”: %(text)s")
        % {"number": proposal.display_number, "title": proposal.title, "text": text},
        proposal.get_absolute_url(),
    )
    return note


@transaction.atomic
def answer_supervision(note, actor, answer):
    """A unit's person answers a 督办 note; the committee staff are told."""
    note = SupervisionNote.objects.select_for_update().get(pk=note.pk)
    assignment = lock_assignment(note.assignment)
    require_unit_member(actor, assignment.unit)
    proposal = lock(assignment.proposal)
    check_state(proposal, "answer_supervision")
    if note.answered_at is not None:
        raise Refused(_("This supervision note was already answered."))
    answer = (answer or "").strip()
    if not answer:
        raise Refused(_("Please write the answer."))
    note.answer = answer
    note.answered_by = actor
    note.answered_at = timezone.now()
    note.save(update_fields=["answer", "answered_by", "answered_at"])
    record_event(
        proposal,
        actor,
        "supervision_answered",
        comment=f"{assignment.unit.short_name}：{answer}",
        obj=note,
    )
    recipients = [note.created_by] if note.created_by_id else []
    notify(
        [*recipients, *committee_people()],
        "supervision_answered",
        _("%(unit)s answered the supervision of %(number)s “%(title)s”: %(answer)s")
        % {
            "unit": assignment.unit.short_name,
            "number": proposal.display_number,
            "title": proposal.title,
            "answer": answer,
        },
        proposal.get_absolute_url(),
    )
    return note
