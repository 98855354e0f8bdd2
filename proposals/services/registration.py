"""Paper proposals registered by the committee in a batch: a session's spreadsheet.

One proposal at a time is `RegisterForm.save_draft` → `submit` → `accept`: about twenty
queries a proposal, which is 50 s for a session's 2,000. `register_paper_proposals` does
the same steps for a whole batch with a handful of queries a batch: the proposals, their
proposers, units and audit events are bulk-inserted; the session row is locked once and
the numbers follow in row order. Every proposal gets the same audit trail as one
registered by hand (created, imported, submitted, and accepted when numbered at once), and
its proposers are told of the acceptance, after commit.
"""

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify_contact, notify_many
from core.workflow import Refused

from ..models import Event, Proposal, ProposalProposer, Session
from .base import require_committee
from .review import next_number

# Rows a batch: the progress moves every batch; the inserts stay a few hundred rows each.
BATCH_SIZE = 250

State = Proposal.State
Status = ProposalProposer.Status


@dataclass
class PaperProposal:
    """One proposal as the committee received it on paper (or in its spreadsheet)."""

    first_proposer: object
    title: str
    reasons: str
    suggestions: str
    kind: str
    cosigners: list = field(default_factory=list)
    category: object = None
    units: list = field(default_factory=list)
    consent_to_publish: bool = True
    no_publish_reason: str = ""
    submitted_at: object = None
    # Said in the "imported" event: where the proposal came from (file and row).
    source: str = ""


def _check(item, position):
    missing = [
        label
        for label, value in (
            (_("title"), item.title),
            (_("reasons"), item.reasons),
            (_("suggestions"), item.suggestions),
        )
        if not (value or "").strip()
    ]
    problem = None
    if item.first_proposer is None:
        problem = _("The first proposer is missing.")
    elif missing:
        problem = _("Please fill in: %(fields)s.") % {"fields": "、".join(missing)}
    elif not item.consent_to_publish and not item.no_publish_reason.strip():
        problem = _("Please give the reason why the proposal should not be published.")
    elif any(not p.is_member for p in item.cosigners):
        problem = _("Only members co-sign.")
    elif item.first_proposer in item.cosigners:
        problem = _("The first proposer cannot also be one of the co-signers.")
    if problem:
        raise Refused(
            _("%(source)s: %(problem)s") % {"source": item.source or position, "problem": problem}
        )


@transaction.atomic
def register_paper_proposals(
    items, actor, *, session, period, accept_at_once=False, batch_size=None, progress=None
):
    """Register `items` (PaperProposal) in `session`, submitted, or accepted and numbered
    in their order; all or nothing. `progress(done, total)` after each batch.
    Returns the proposals in order."""
    require_committee(actor)
    batch_size = batch_size or BATCH_SIZE
    items = list(items)
    for position, item in enumerate(items, 1):
        _check(item, position)
    # One lock for the whole batch: two imports into a session run one after the other,
    # and the numbers follow on from the last one without a gap or a repeat.
    if accept_at_once:
        number = next_number(session)
    else:
        Session.objects.select_for_update().get(pk=session.pk)
        number = None
    actor_name = actor.get_full_name()
    saved = []
    total = len(items)
    for start in range(0, total, batch_size):
        chunk = items[start : start + batch_size]
        now = timezone.now()
        proposals = []
        for item in chunk:
            proposal = Proposal(
                session=session,
                title=item.title,
                reasons=item.reasons,
                suggestions=item.suggestions,
                category=item.category,
                kind=item.kind,
                period=period,
                consent_to_publish=item.consent_to_publish,
                no_publish_reason=item.no_publish_reason,
                state=State.SUBMITTED,
                on_paper=True,
                created_by=actor,
                submitted_at=item.submitted_at or now,
            )
            if accept_at_once:
                proposal.state = State.ACCEPTED
                proposal.number = number
                proposal.review_outcome = Proposal.ReviewOutcome.ACCEPT
                proposal.reviewed_at = now
                number += 1
            proposals.append(proposal)
        Proposal.objects.bulk_create(proposals)

        signers, units, events = [], [], []
        Through = Proposal.suggested_units.through
        for proposal, item in zip(proposals, chunk, strict=True):
            wanted = [item.first_proposer, *item.cosigners]
            signers.extend(
                ProposalProposer(
                    proposal=proposal,
                    proposer=proposer,
                    position=position,
                    status=Status.CONFIRMED,
                    responded_at=now if position else None,
                )
                for position, proposer in enumerate(wanted)
            )
            units.extend(Through(proposal=proposal, unit=unit) for unit in item.units)
            # The trail of a paper proposal registered by hand, step by step.
            steps = [
                ("created", "", ""),
                ("imported", "", "", item.source),
                ("submitted", State.DRAFT, State.SUBMITTED),
            ]
            if accept_at_once:
                steps.append(("accepted", State.SUBMITTED, State.ACCEPTED))
            events.extend(
                Event(
                    proposal=proposal,
                    session=session,
                    actor=actor,
                    actor_name=actor_name,
                    verb=step[0],
                    from_state=step[1],
                    to_state=step[2],
                    comment=step[3] if len(step) > 3 else "",
                    created_at=now,
                )
                for step in steps
            )
        ProposalProposer.objects.bulk_create(signers)
        Through.objects.bulk_create(units)
        Event.objects.bulk_create(events)
        if accept_at_once:
            _tell_accepted(proposals, chunk)
        saved.extend(proposals)
        if progress is not None:
            progress(len(saved), total)
    return saved


def _tell_accepted(proposals, items):
    """What `accept` tells each proposal's proposers, for a batch in two queries."""
    proposers = {p.pk: p for item in items for p in [item.first_proposer, *item.cosigners]}
    users = {
        u.pk: u
        for u in User.objects.filter(pk__in=[p.user_id for p in proposers.values() if p.user_id])
    }
    messages = []
    for proposal, item in zip(proposals, items, strict=True):
        message = _("Your proposal “%(title)s” was accepted as %(number)s.") % {
            "title": proposal.title,
            "number": proposal.display_number,
        }
        url = proposal.get_absolute_url()
        recipients = []
        for proposer in [item.first_proposer, *item.cosigners]:
            user = users.get(proposer.user_id)
            if user is not None:
                recipients.append(user)
            else:
                notify_contact(email=proposer.email, message=message, url=url)
        messages.append((recipients, "accepted", message, url))
    notify_many(messages)
