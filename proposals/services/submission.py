"""Stage 1: a proposal is written, submitted, co-signed, or withdrawn (撤案)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import User
from accounts.notifications import notify
from core.workflow import Refused

from .. import access
from ..models import Proposal, ProposalProposer
from ..workflow import committee_people, record_event, tell_proposers, with_comment
from .base import TRANSITIONS, check_state, lock, set_state

State = Proposal.State


@transaction.atomic
def submit(proposal, actor, submitted_at=None, tell_committee=True):
    """A proposer submits a draft; a joint proposal first waits for its co-signers.

    `submitted_at`: the date on a paper proposal, when staff register it later.
    `tell_committee=False`: the committee itself brings the proposal in (an import of a
    whole session), so it is not told once for every row.
    """
    proposal = lock(proposal)
    check_state(proposal, "submit")
    if not (access.is_committee(actor) or access.is_first_proposer(actor, proposal)):
        raise Refused(_("Only the first proposer can submit this proposal."))
    _validate_complete(proposal)
    pending = proposal.proposer_list.filter(status=ProposalProposer.Status.PENDING, position__gt=0)
    to_state = State.AWAITING_COSIGNERS if pending.exists() else State.SUBMITTED
    from_state = proposal.state
    set_state(proposal, to_state, submitted_at=submitted_at or timezone.now())
    record_event(proposal, actor, "submitted", from_state, to_state)
    if to_state == State.AWAITING_COSIGNERS:
        users = User.objects.filter(proposer__listings__in=pending, is_active=True)
        notify(
            users,
            "cosign_requested",
            _("%(proposer)s asks you to co-sign the proposal “%(title)s”.")
            % {"proposer": proposal.proposer_list.first().proposer, "title": proposal.title},
            proposal.get_absolute_url(),
        )
    elif tell_committee:
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
    proposal = lock(proposal)
    check_state(proposal, "cosign")
    proposer = access.proposer_of(actor)
    signer = (
        proposal.proposer_list.filter(proposer=proposer, position__gt=0).first()
        if proposer
        else None
    )
    if signer is None:
        raise Refused(_("You are not a co-signer of this proposal."))
    if signer.status != ProposalProposer.Status.PENDING:
        raise Refused(_("You have already answered."))
    signer.status = (
        ProposalProposer.Status.CONFIRMED if confirm else ProposalProposer.Status.DECLINED
    )
    signer.responded_at = timezone.now()
    signer.save(update_fields=["status", "responded_at"])
    verb = "cosign_confirmed" if confirm else "cosign_declined"
    record_event(proposal, actor, verb, comment=comment, obj=signer)
    first_users = User.objects.filter(
        proposer__listings__proposal=proposal, proposer__listings__position=0
    )
    message = (
        _("%(name)s co-signed “%(title)s”.")
        if confirm
        else _("%(name)s declined to co-sign “%(title)s”.")
    ) % {"name": proposer, "title": proposal.title}
    notify(first_users, verb, with_comment(message, comment), proposal.get_absolute_url())
    if not proposal.proposer_list.filter(status=ProposalProposer.Status.PENDING).exists():
        from_state = proposal.state
        set_state(proposal, State.SUBMITTED)
        record_event(proposal, None, "submitted", from_state, State.SUBMITTED)
        _tell_committee_submitted(proposal)
    return proposal


@transaction.atomic
def withdraw(proposal, actor, comment=""):
    """撤案: the first proposer before acceptance; committee staff after it, on request."""
    proposal = lock(proposal)
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
        check_state(proposal, "withdraw_by_proposer")
    from_state = proposal.state
    set_state(proposal, State.WITHDRAWN, review_outcome=Proposal.ReviewOutcome.WITHDRAW)
    proposal.assignments.filter(is_active=True).update(is_active=False)
    record_event(proposal, actor, "withdrawn", from_state, State.WITHDRAWN, comment)
    tell_proposers(
        proposal,
        "withdrawn",
        with_comment(
            _("The proposal “%(title)s” was withdrawn.") % {"title": proposal.title}, comment
        ),
    )
    return proposal


@transaction.atomic
def request_withdrawal(proposal, actor, reason):
    """After acceptance the first proposer asks the committee to withdraw the proposal;
    committee staff decide (withdraw it, or not)."""
    proposal = lock(proposal)
    if proposal.state not in TRANSITIONS["withdraw_by_committee"]:
        check_state(proposal, "withdraw_by_committee")
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
