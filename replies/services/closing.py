"""When a replied proposal may be closed (办结): the rule, once, for one proposal or a list.

A proposal may be closed without an explanation when no receipt of its current round is
dissatisfied, and every receipt is in or the receipt period of every letter has passed.
Otherwise committee staff order re-handling, or close it with an explanation.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from core.workflow import Refused
from proposals import deadlines
from proposals.services import mark_closed
from proposals.services.base import lock, require_committee

from ..models import Receipt


@dataclass
class ReceiptStatus:
    """The receipts of a proposal's current round, and what they mean for closing."""

    receipts: list = field(default_factory=list)
    missing: list = field(default_factory=list)
    dissatisfied: list = field(default_factory=list)
    period_over: bool = False

    @property
    def closable(self):
        return not self.dissatisfied and (not self.missing or self.period_over)

    @property
    def why_not(self):
        if self.dissatisfied:
            names = "、".join(str(r.proposer) for r in self.dissatisfied)
            return _("%(names)s is dissatisfied.") % {"names": names}
        if self.missing and not self.period_over:
            names = "、".join(str(r.proposer) for r in self.missing)
            return _("Receipts are still missing from %(names)s.") % {"names": names}
        return ""


def status_of(receipts, dues, today):
    """The status of one proposal's receipts; `dues` maps a sending day to the receipt due day."""
    sent_days = {deadlines.as_local_date(r.sent_at) for r in receipts if r.sent_at}
    return ReceiptStatus(
        receipts=receipts,
        missing=[r for r in receipts if not r.is_submitted],
        dissatisfied=[r for r in receipts if r.is_submitted and r.is_dissatisfied],
        period_over=bool(sent_days) and all(dues[day] < today for day in sent_days),
    )


def current_round_receipts(**proposal_filter):
    """The receipts of each matching proposal's current round, in one query."""
    return (
        Receipt.objects.filter(letter__round=F("letter__assignment__proposal__current_round"))
        .filter(**{f"letter__assignment__proposal__{k}": v for k, v in proposal_filter.items()})
        .select_related("proposer")
        .annotate(proposal_id=F("letter__assignment__proposal_id"), sent_at=F("letter__sent_at"))
        .order_by("letter_id", "id")
    )


def receipt_dues(sent_days):
    """{sent day: last day of the receipt period}, with one query for the calendar."""
    if not sent_days:
        return {}
    corrections = deadlines.load_corrections(min(sent_days), max(sent_days) + deadlines.reach())
    return {day: deadlines.receipt_due(day, corrections).due for day in sent_days}


def attach_receipt_status(proposals, receipts, today=None):
    """Give each proposal its `receipt_status`, for a whole list in one pass."""
    today = today or timezone.localdate()
    by_proposal = defaultdict(list)
    for receipt in receipts:
        by_proposal[receipt.proposal_id].append(receipt)
    dues = receipt_dues({deadlines.as_local_date(r.sent_at) for r in receipts if r.sent_at})
    for proposal in proposals:
        proposal.receipt_status = status_of(by_proposal[proposal.pk], dues, today)
    return proposals


def receipt_status(proposal, today=None):
    """The status of one proposal's current-round receipts."""
    [proposal] = attach_receipt_status(
        [proposal], list(current_round_receipts(pk=proposal.pk)), today
    )
    return proposal.receipt_status


@transaction.atomic
def close(proposal, actor, comment=""):
    """办结: when every receipt is in and none dissatisfied, or the receipt period passed.

    Otherwise committee staff may still close it, with an explanation.
    """
    require_committee(actor)
    proposal = lock(proposal)
    status = receipt_status(proposal)
    if proposal.state == proposal.State.REPLIED and not status.closable and not comment.strip():
        raise Refused(
            _("%(why)s Order re-handling, or give an explanation for closing it.")
            % {"why": status.why_not}
        )
    return mark_closed(proposal, actor, comment)


def bulk_close(proposals, actor, comment=""):
    """Close many proposals at once: all or none; a refusal names the proposal."""
    require_committee(actor)
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
