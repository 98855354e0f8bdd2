"""The proposer's screens: my proposals, writing and submitting, co-signing, withdrawing."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.views import add_refusal_to_form, require, run
from core.workflow import Refused

from .. import access, services
from ..forms import CommentForm, CosignForm, ProposalForm
from ..models import Proposal, ProposalProposer

PAGE_SIZE = 50


def require_proposer(user):
    """The user's proposer profile; 403 for anyone who has none."""
    proposer = access.proposer_of(user)
    require(proposer is not None)
    return proposer


def first_proposer_name(proposal_ref="pk"):
    """The first proposer's name, as a subquery: no query per row."""
    return Subquery(
        ProposalProposer.objects.filter(proposal=OuterRef(proposal_ref), position=0).values(
            "proposer__name"
        )[:1]
    )


@login_required
def my_proposals(request):
    proposer = require_proposer(request.user)
    mine = ProposalProposer.objects.filter(proposer=proposer)
    # As access.visible_proposals: not what they declined, nor someone else's draft.
    listed = mine.exclude(status=ProposalProposer.Status.DECLINED).exclude(
        position__gt=0, proposal__state=Proposal.State.DRAFT
    )
    proposals = (
        Proposal.objects.filter(pk__in=listed.values("proposal_id"))
        .select_related("session__term", "category")
        .annotate(
            first_proposer=first_proposer_name(),
            my_position=Subquery(mine.filter(proposal=OuterRef("pk")).values("position")[:1]),
        )
        .order_by("-created_at", "-id")
    )
    page = Paginator(proposals, PAGE_SIZE).get_page(request.GET.get("page"))
    requests = (
        mine.filter(
            status=ProposalProposer.Status.PENDING,
            position__gt=0,
            proposal__state=Proposal.State.AWAITING_COSIGNERS,
        )
        .select_related("proposal")
        .annotate(first_proposer=first_proposer_name("proposal_id"))
        .order_by("proposal__submitted_at", "proposal_id")
    )
    return render(
        request,
        "work/proposer/my_proposals.html",
        {"page": page, "cosign_requests": requests, "proposer": proposer},
    )


def _save_proposal(request, form):
    """Save the draft, and submit it when asked; all or nothing. Returns the proposal or None."""
    creating = form.instance.pk is None
    try:
        with transaction.atomic():
            proposal = form.save_draft(request.user)
            if form.submitting:
                proposal = services.submit(proposal, request.user)
    except Refused as exc:
        if creating:
            # The rolled-back row must not look saved when the form is shown again.
            form.instance.pk = None
        add_refusal_to_form(form, exc)
        return None
    if not form.submitting:
        messages.success(request, _("The draft was saved."))
    elif proposal.state == Proposal.State.AWAITING_COSIGNERS:
        messages.success(
            request,
            _("The proposal was sent to its co-signers; it goes to review once they confirm."),
        )
    else:
        messages.success(request, _("The proposal was submitted for review."))
    return proposal


def is_submitting(request):
    return request.method == "POST" and request.POST.get("action") == "submit"


@login_required
def create(request):
    proposer = require_proposer(request.user)
    form = ProposalForm(request.POST or None, proposer=proposer, submitting=is_submitting(request))
    if request.method == "POST" and form.is_valid():
        proposal = _save_proposal(request, form)
        if proposal is not None:
            return redirect(proposal)
    return render(request, "work/proposer/proposal_form.html", {"form": form, "proposal": None})


@login_required
def edit(request, pk):
    proposer = require_proposer(request.user)
    proposal = access.get_proposal_for_user(request.user, pk)
    require(access.is_first_proposer(request.user, proposal))
    if proposal.state != Proposal.State.DRAFT:
        messages.error(request, _("Only a draft can be edited."))
        return redirect(proposal)
    form = ProposalForm(
        request.POST or None,
        instance=proposal,
        proposer=proposer,
        submitting=is_submitting(request),
    )
    if request.method == "POST" and form.is_valid():
        saved = _save_proposal(request, form)
        if saved is not None:
            return redirect(saved)
    return render(request, "work/proposer/proposal_form.html", {"form": form, "proposal": proposal})


def require_proposer_or_committee(user):
    require(access.is_committee(user) or access.proposer_of(user) is not None)


@login_required
@require_POST
def submit(request, pk):
    require_proposer_or_committee(request.user)
    proposal = access.get_proposal_for_user(request.user, pk)
    result, ok = run(request, services.submit, proposal, request.user)
    if ok:
        if result.state == Proposal.State.AWAITING_COSIGNERS:
            messages.success(
                request,
                _("The proposal was sent to its co-signers; it goes to review once they confirm."),
            )
        else:
            messages.success(request, _("The proposal was submitted for review."))
    return redirect(proposal)


@login_required
@require_POST
def cosign(request, pk):
    require_proposer(request.user)
    proposal = access.get_proposal_for_user(request.user, pk)
    form = CosignForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose whether to co-sign the proposal."))
        return redirect(proposal)
    confirm = form.cleaned_data["decision"] == "confirm"
    _result, ok = run(
        request,
        services.respond_as_cosigner,
        proposal,
        request.user,
        confirm,
        form.cleaned_data["comment"],
        success=_("You co-signed the proposal.")
        if confirm
        else _("You declined to co-sign the proposal."),
    )
    if ok and not confirm:
        # Having declined, the proposal is no longer theirs to see.
        return redirect("proposals:mine")
    return redirect(proposal)


@login_required
@require_POST
def withdraw(request, pk):
    require_proposer_or_committee(request.user)
    proposal = access.get_proposal_for_user(request.user, pk)
    form = CommentForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["comment"]))
        return redirect(proposal)
    if (
        not access.is_committee(request.user)
        and proposal.state in services.TRANSITIONS["withdraw_by_committee"]
    ):
        # Accepted already: the proposer asks, the committee decides.
        run(
            request,
            services.request_withdrawal,
            proposal,
            request.user,
            form.cleaned_data["comment"],
            success=_("Your request to withdraw the proposal was sent to the committee."),
        )
        return redirect(proposal)
    run(
        request,
        services.withdraw,
        proposal,
        request.user,
        form.cleaned_data["comment"],
        success=_("The proposal was withdrawn."),
    )
    return redirect(proposal)
