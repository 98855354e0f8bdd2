from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import render

from .access import get_proposal_for_user, visible_proposals
from .filters import ProposalFilter
from .models import Assignment

PAGE_SIZE = 25


def with_lead(queryset):
    """Annotate each proposal with its lead unit and reply deadline, in the same query."""
    lead = Assignment.objects.filter(
        proposal=OuterRef("pk"), role__in=["lead", "split"], is_active=True
    ).order_by("round", "id")
    lead = lead.filter(round=OuterRef("current_round"))
    return queryset.annotate(
        lead_unit=Subquery(lead.values("unit__short_name")[:1]),
        reply_due=Subquery(
            lead.annotate(due=Coalesce(F("extended_due"), F("reply_due"))).values("due")[:1]
        ),
    )


@login_required
def workspace(request):
    """The proposals that concern the user, newest first."""
    base = visible_proposals(request.user)
    filterset = ProposalFilter(request.GET or None, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_bound else base
    queryset = with_lead(queryset.select_related("session__term", "category")).order_by(
        "-created_at", "-id"
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "work/workspace.html",
        {"filter": filterset, "page": page, "query": query.urlencode()},
    )


@login_required
def detail(request, pk):
    proposal = get_proposal_for_user(request.user, pk)
    signers = proposal.signers.select_related("proposer")
    assignments = proposal.assignments.select_related("unit").filter(is_active=True)
    return render(
        request,
        "work/proposal_detail.html",
        {"proposal": proposal, "signers": signers, "assignments": assignments},
    )
