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
    """The ids of the units the user belongs to (optionally with one role).

    One query per request: the memberships are read once and kept on the user object.
    """
    if not user.is_authenticated:
        return []
    if not hasattr(user, "_memberships"):
        user._memberships = list(
            Membership.objects.filter(user=user, unit__is_active=True).values_list(
                "unit_id", "role"
            )
        )
    return list(dict.fromkeys(u for u, r in user._memberships if role is None or r == role))


def visible_proposals(user):
    """The proposals that concern the user."""
    qs = Proposal.objects.all()
    if not user.is_authenticated:
        return qs.none()
    condition = Q(pk__in=[])
    if is_committee(user):
        # Everything but a member's unsubmitted draft, which stays theirs until submitted.
        condition |= ~Q(state=Proposal.State.DRAFT)
    units = unit_ids(user)
    if units:
        condition |= Q(
            Exists(
                Assignment.objects.filter(
                    proposal=OuterRef("pk"), unit_id__in=units, is_active=True
                )
            )
        )
    proposer = proposer_of(user)
    if proposer is not None:
        condition |= Q(
            Exists(
                ProposalSigner.objects.filter(proposal=OuterRef("pk"), proposer=proposer).exclude(
                    status=ProposalSigner.Status.DECLINED
                )
            )
            # A draft is its first proposer's until submitted.
            & (
                ~Q(state=Proposal.State.DRAFT)
                | Q(
                    Exists(
                        ProposalSigner.objects.filter(
                            proposal=OuterRef("pk"), proposer=proposer, position=0
                        )
                    )
                )
            )
        )
    return qs.filter(condition)


def get_proposal_for_user(user, pk):
    """The proposal, if the user may see it; 404 otherwise (outsiders learn nothing)."""
    try:
        return visible_proposals(user).get(pk=pk)
    except Proposal.DoesNotExist:
        raise Http404 from None


def is_unit_member(user, unit, role=None):
    unit_id = unit.pk if hasattr(unit, "pk") else unit
    return user.is_authenticated and unit_id in unit_ids(user, role)


def is_unit_leader(user, unit):
    return is_unit_member(user, unit, Membership.Role.LEADER)


def proposer_of(user):
    """The user's proposer profile, or None."""
    if not user.is_authenticated:
        return None
    try:
        return user.proposer
    except Exception:  # RelatedObjectDoesNotExist
        return None


def is_first_proposer(user, proposal):
    proposer = proposer_of(user)
    return proposer is not None and proposal.signers.filter(proposer=proposer, position=0).exists()


def get_assignment_for_unit_member(user, pk):
    """An active or past assignment of one of the user's units; 404 for anyone else."""
    try:
        return Assignment.objects.select_related("proposal", "unit").get(
            pk=pk, unit_id__in=unit_ids(user)
        )
    except Assignment.DoesNotExist:
        raise Http404 from None


def visible_opinions(user, proposal):
    """Co-handling opinions: the committee and the lead unit see all; a co-unit its own."""
    from .models import CoOpinion

    opinions = CoOpinion.objects.filter(assignment__proposal=proposal).select_related(
        "assignment__unit"
    )
    if is_committee(user):
        return opinions
    units = unit_ids(user)
    lead_units = set(
        proposal.assignments.filter(
            is_active=True, role=Assignment.Role.LEAD, unit_id__in=units
        ).values_list("unit_id", flat=True)
    )
    if lead_units:
        return opinions.filter(sent_at__isnull=False) | opinions.filter(
            assignment__unit_id__in=units
        )
    return opinions.filter(assignment__unit_id__in=units)
