"""The transition table and what every step does first: lock the row, check the state."""

from django.utils.translation import gettext as _

from core.workflow import Refused

from .. import access
from ..models import Assignment, Proposal
from ..transitions import TRANSITIONS

State = Proposal.State

__all__ = ["TRANSITIONS", "check_state", "lock", "lock_assignment", "set_state"]


def lock(proposal):
    """Re-read the proposal under a row lock: decisions are made on the locked row."""
    return Proposal.objects.select_for_update().get(pk=proposal.pk)


def lock_assignment(assignment):
    return Assignment.objects.select_for_update().select_related("unit").get(pk=assignment.pk)


def check_state(proposal, action):
    if proposal.state not in TRANSITIONS[action]:
        raise Refused(
            _("This cannot be done while the proposal is “%(state)s”.")
            % {"state": proposal.get_state_display()}
        )


def require_committee(actor):
    if not access.is_committee(actor):
        raise Refused(_("Only committee staff can do this."))


def require_unit_member(actor, unit):
    if not access.is_unit_member(actor, unit):
        raise Refused(_("Only the people of %(unit)s can do this.") % {"unit": unit})


def set_state(proposal, to_state, **fields):
    """The one place a proposal's state is written."""
    proposal.state = to_state
    for name, value in fields.items():
        setattr(proposal, name, value)
    proposal.save(update_fields=["state", "updated_at", *fields])
