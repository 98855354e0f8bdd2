"""Stage 9: re-handling (重新办理) and closing (办结)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify
from core.workflow import Refused

from .. import deadlines
from ..models import Assignment, Proposal
from ..workflow import record_event, tell_proposers, unit_people, with_comment
from .assignment import check_units
from .base import check_state, lock, require_committee, set_state

State = Proposal.State


@transaction.atomic
def order_rehandling(proposal, actor, unit=None, comment="", reply_due=None):
    """重新办理: a second round — a unit (the same or another) replies again."""
    require_committee(actor)
    proposal = lock(proposal)
    check_state(proposal, "rehandle")
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
    check_units([unit])
    now = timezone.now()
    today = timezone.localdate(now)
    due = reply_due or deadlines.rehandling_due(today).due
    if due < today:
        raise Refused(_("The reply deadline cannot be in the past."))
    latest = deadlines.max_reply_due(today).due
    if due > latest:
        raise Refused(
            _("The reply deadline cannot be later than %(date)s, six months from now.")
            % {"date": latest.isoformat()}
        )
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
    set_state(proposal, State.HANDLING, current_round=new_round)
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
        with_comment(
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
    tell_proposers(
        proposal,
        "rehandling_ordered",
        _("Your proposal %(number)s “%(title)s” will be handled again by %(unit)s.")
        % {"number": proposal.display_number, "title": proposal.title, "unit": unit.short_name},
    )
    return proposal


def mark_closed(proposal, actor, comment=""):
    """办结: replied → closed. Called by `replies.services.close`, which owns the rule of
    when a proposal may be closed (its receipts) and holds the proposal's row lock."""
    require_committee(actor)
    check_state(proposal, "close")
    from_state = proposal.state
    set_state(proposal, State.CLOSED, closed_at=timezone.now())
    record_event(proposal, actor, "closed", from_state, State.CLOSED, comment)
    tell_proposers(
        proposal,
        "closed",
        with_comment(
            _("Your proposal %(number)s “%(title)s” is closed.")
            % {"number": proposal.display_number, "title": proposal.title},
            comment,
        ),
    )
    return proposal
