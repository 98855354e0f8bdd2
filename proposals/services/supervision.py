"""Stage 10: key proposals (重点提案) and their supervising leader."""

from django.db import transaction
from django.utils.translation import gettext as _

from core.workflow import Refused

from ..models import Proposal
from ..workflow import record_event
from .base import lock, require_committee

# A key proposal is marked among those the committee accepted and still handles or handled.
KEY_STATES = {
    Proposal.State.ACCEPTED,
    Proposal.State.ASSIGNED,
    Proposal.State.HANDLING,
    Proposal.State.REPLIED,
}


@transaction.atomic
def mark_key(proposal, actor, is_key, supervising_leader="", comment=""):
    """重点提案: committee staff mark a proposal as key (with its supervising leader) or not."""
    require_committee(actor)
    proposal = lock(proposal)
    if proposal.state not in KEY_STATES:
        raise Refused(
            _("This cannot be done while the proposal is “%(state)s”.")
            % {"state": proposal.get_state_display()}
        )
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
