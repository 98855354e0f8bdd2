"""Who may see what — the one place the proposals app checks access.

Committee staff see every proposal; a unit's people see the proposals assigned
to their unit; a proposer sees the proposals they signed. Everyone else, nothing.
"""

from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from accounts.models import Membership

from .models import Assignment, Proposal, ProposalSigner


def is_committee(user):
    return user.is_authenticated and (user.is_committee_staff or user.is_superuser)


def unit_ids(user, role=None):
    """The ids of the units the user belongs to (optionally with one role)."""
    if not user.is_authenticated:
        return []
    cache_name = f"_unit_ids_{role or 'any'}"
    if not hasattr(user, cache_name):
        memberships = Membership.objects.filter(user=user, unit__is_active=True)
        if role:
            memberships = memberships.filter(role=role)
        setattr(user, cache_name, list(memberships.values_list("unit_id", flat=True)))
    return getattr(user, cache_name)


def visible_proposals(user):
    """The proposals that concern the user."""
    qs = Proposal.objects.all()
    if not user.is_authenticated:
        return qs.none()
    if is_committee(user):
        return qs
    condition = Q(pk__in=[])
    units = unit_ids(user)
    if units:
        condition |= Q(
            Exists(
                Assignment.objects.filter(
                    proposal=OuterRef("pk"), unit_id__in=units, is_active=True
                )
            )
        )
    proposer = getattr(user, "proposer", None) if hasattr(user, "proposer") else None
    if proposer is not None:
        condition |= Q(
            Exists(ProposalSigner.objects.filter(proposal=OuterRef("pk"), proposer=proposer))
        )
    return qs.filter(condition)


def get_proposal_for_user(user, pk):
    """The proposal, if the user may see it; 404 otherwise (outsiders learn nothing)."""
    try:
        return visible_proposals(user).get(pk=pk)
    except Proposal.DoesNotExist:
        raise Http404 from None
