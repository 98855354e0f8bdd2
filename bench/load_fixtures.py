"""What `make load` needs in its database, made through the services; run by bench/load.py as
`manage.py shell -c` with the served app's settings (its secret key signs the receipt links).

Reads LOAD_RECEIPTS and LOAD_ACCEPTED from the environment; prints one JSON line:
- receipts: pending receipts of sent letters whose links have not expired, one proposer each
  as far as the data allows, with the personal link (/r/<token>/) each proposer opens;
- accepted: ids of LOAD_ACCEPTED proposals of the current session made for the load, each
  submitted and accepted (立案) by the committee through the services, in the state the
  assignment meeting (交办会) takes them in;
- units: ids of active units to assign them to; letters: published letters' ids;
  pages: the public column's pages; search: whether /search/ exists on this code.
"""

import json
import os

from django.urls import Resolver404, resolve

from accounts.models import Unit, User
from proposals import services as proposal_services
from proposals.models import Category, Proposal, ProposalProposer, Proposer, Session
from replies import services as reply_services
from replies.models import Receipt
from replies.views.public import PAGE_SIZE, public_letters

RECEIPTS = int(os.environ.get("LOAD_RECEIPTS", "200"))
ACCEPTED = int(os.environ.get("LOAD_ACCEPTED", "300"))


def pending_receipts():
    """RECEIPTS pending receipts with live links, distinct proposers first."""
    candidates = (
        Receipt.objects.filter(submitted_at__isnull=True, letter__sent_at__isnull=False)
        .select_related("letter")
        .order_by("-letter__sent_at", "id")
    )
    chosen, others, proposers = [], [], set()
    for receipt in candidates.iterator():
        if reply_services.receipt_link_expired(receipt):
            break  # ordered by sending date: all the rest are older
        if receipt.proposer_id in proposers:
            others.append(receipt)
        else:
            proposers.add(receipt.proposer_id)
            chosen.append(receipt)
        if len(chosen) >= RECEIPTS:
            break
    chosen += others[: RECEIPTS - len(chosen)]
    if len(chosen) < RECEIPTS:
        raise SystemExit(
            f"only {len(chosen)} pending receipts with live links: generate more proposals"
        )
    return chosen, len(proposers)


def accepted_proposals(staff):
    session = Session.objects.get(is_current=True)
    category = Category.objects.filter(is_active=True).order_by("id").first()
    proposers = list(Proposer.objects.filter(user__isnull=False).order_by("id")[:50])
    ids = []
    for i in range(ACCEPTED):
        # A draft on paper, as staff register it; then the two steps through the services.
        proposal = Proposal.objects.create(
            session=session,
            title=f"关于负载测试第{i + 1}件提案的建议",
            reasons="负载测试：交办会批量交办前已立案的提案。",
            suggestions="建议按规定时限办理并答复。",
            category=category,
            kind=Proposal.Kind.INDIVIDUAL,
            consent_to_publish=True,
            on_paper=True,
            created_by=staff,
        )
        ProposalProposer.objects.create(
            proposal=proposal,
            proposer=proposers[i % len(proposers)],
            position=0,
            status=ProposalProposer.Status.CONFIRMED,
        )
        proposal_services.submit(proposal, staff, tell_committee=False)
        proposal_services.accept(proposal, staff)
        ids.append(proposal.pk)
    return ids


def search_exists():
    try:
        resolve("/search/")
    except Resolver404:
        return False
    return True


staff = User.objects.get(username="tiwei")
receipts, distinct = pending_receipts()
accepted = accepted_proposals(staff)
units = list(
    Unit.objects.filter(is_active=True, memberships__isnull=False)
    .distinct()
    .order_by("id")
    .values_list("id", flat=True)[:6]
)
letters = list(public_letters().order_by("-id").values_list("id", flat=True)[:500])
pages = max(1, -(-public_letters().count() // PAGE_SIZE))
print(
    json.dumps(
        {
            "receipts": [{"id": r.pk, "url": reply_services.receipt_url(r)} for r in receipts],
            "distinct_proposers": distinct,
            "accepted": accepted,
            "units": units,
            "letters": letters,
            "pages": pages,
            "search": search_exists(),
        }
    )
)
