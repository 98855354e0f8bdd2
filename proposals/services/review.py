"""Stage 2: review (审查) — accept with a number, merge, convert, reject."""

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from core.workflow import Refused

from ..models import Proposal, RejectionReason, Session
from ..workflow import record_event, tell_proposers, with_comment
from .base import check_state, lock, require_committee, set_state

State = Proposal.State


def next_number(session):
    """The next proposal number in a session: the session row is locked, so two staff
    accepting at the same moment get consecutive numbers, never the same one."""
    Session.objects.select_for_update().get(pk=session.pk)
    last = Proposal.objects.filter(session=session).aggregate(n=Max("number"))["n"]
    return (last or 0) + 1


@transaction.atomic
def accept(proposal, actor, comment=""):
    """立案: the proposal gets the next number in its session."""
    require_committee(actor)
    proposal = lock(proposal)
    check_state(proposal, "accept")
    number = next_number(proposal.session)
    from_state = proposal.state
    set_state(
        proposal,
        State.ACCEPTED,
        number=number,
        review_outcome=Proposal.ReviewOutcome.ACCEPT,
        review_comment=comment,
        reviewed_at=timezone.now(),
    )
    record_event(proposal, actor, "accepted", from_state, State.ACCEPTED, comment)
    tell_proposers(
        proposal,
        "accepted",
        with_comment(
            _("Your proposal “%(title)s” was accepted as %(number)s.")
            % {"title": proposal.title, "number": proposal.display_number},
            comment,
        ),
    )
    return proposal


@transaction.atomic
def merge(proposal, into, actor, comment=""):
    """并案: merged into an accepted proposal, whose reply its proposers will receive."""
    require_committee(actor)
    proposal = lock(proposal)
    check_state(proposal, "merge")
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
    set_state(
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
    tell_proposers(
        proposal,
        "merged",
        with_comment(
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
    require_committee(actor)
    proposal = lock(proposal)
    check_state(proposal, "convert")
    from_state = proposal.state
    set_state(
        proposal,
        State.CONVERTED,
        review_outcome=Proposal.ReviewOutcome.CONVERT,
        review_comment=comment,
        reviewed_at=timezone.now(),
    )
    record_event(proposal, actor, "converted", from_state, State.CONVERTED, comment)
    tell_proposers(
        proposal,
        "converted",
        with_comment(
            _("Your proposal “%(title)s” was turned into an opinion and forwarded.")
            % {"title": proposal.title},
            comment,
        ),
    )
    return proposal


@transaction.atomic
def reject(proposal, actor, reason, comment=""):
    """不予立案, with a coded reason from the configurable list."""
    require_committee(actor)
    if not isinstance(reason, RejectionReason):
        raise Refused(_("Please choose a reason."))
    proposal = lock(proposal)
    check_state(proposal, "reject")
    from_state = proposal.state
    set_state(
        proposal,
        State.REJECTED,
        rejection_reason=reason,
        review_outcome=Proposal.ReviewOutcome.REJECT,
        review_comment=comment,
        reviewed_at=timezone.now(),
    )
    text = f"{reason.label}：{comment}" if comment else reason.label
    record_event(proposal, actor, "rejected", from_state, State.REJECTED, text)
    tell_proposers(
        proposal,
        "rejected",
        _("Your proposal “%(title)s” was not accepted. Reason: %(reason)s")
        % {"title": proposal.title, "reason": text},
    )
    return proposal
