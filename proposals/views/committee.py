"""Committee staff screens: register from paper, review, assign (one or many), return requests."""

import datetime

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import CharField, DateField, Prefetch, Value
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from core.views import add_refusal_to_form, require
from core.workflow import Refused

from .. import access, deadlines, exports, services, similar
from ..forms import (
    AssignForm,
    BulkAssignForm,
    BulkFilterForm,
    RegisterForm,
    ReturnDecisionForm,
    ReviewForm,
    active_units,
)
from ..models import Assignment, Proposal, ProposalProposer, Session
from .proposer import first_proposer_name

QUEUE_PAGE_SIZE = 50
BULK_PAGE_SIZE = 500

Outcome = Proposal.ReviewOutcome


def require_committee(user):
    require(access.is_committee(user))


def signers_in_order():
    return Prefetch(
        "proposer_list",
        queryset=ProposalProposer.objects.select_related("proposer").order_by("position"),
    )


@login_required
def register(request):
    """A proposal received on paper, registered for its proposers and submitted at once."""
    require_committee(request.user)
    form = RegisterForm(request.POST or None, submitting=True)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                proposal = form.save_draft(request.user)
                proposal = services.submit(proposal, request.user)
        except Refused as exc:
            form.instance.pk = None
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, _("The proposal was registered and submitted for review."))
            return redirect(proposal)
    return render(request, "work/committee/register.html", {"form": form})


@login_required
def review_queue_export(request):
    """The review queue as .xlsx, oldest first as on the page."""
    require_committee(request.user)
    queue = Proposal.objects.filter(state=Proposal.State.SUBMITTED).annotate(
        first_proposer=first_proposer_name(),
        lead_unit=Value(None, output_field=CharField()),
        reply_due=Value(None, output_field=DateField()),
    )
    return exports.proposals_xlsx(
        queue.order_by("submitted_at", "id"), file_stem="待审查提案", title="待审查"
    )


@login_required
def review_queue(request):
    require_committee(request.user)
    queue = (
        Proposal.objects.filter(state=Proposal.State.SUBMITTED)
        .select_related("session__term", "category")
        .prefetch_related(signers_in_order())
        .order_by("submitted_at", "id")
    )
    page = Paginator(queue, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "work/committee/review_queue.html", {"page": page})


@login_required
def review(request, pk):
    require_committee(request.user)
    proposal = access.get_proposal_for_user(request.user, pk)
    if request.method != "POST" and proposal.state != Proposal.State.SUBMITTED:
        messages.info(request, _("This proposal is not waiting for review."))
        return redirect(proposal)
    form = ReviewForm(request.POST or None, proposal=proposal)
    if request.method == "POST" and form.is_valid():
        try:
            message = _review(proposal, request.user, form.cleaned_data)
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, message)
            return redirect(proposal)
    signers = proposal.proposer_list.select_related("proposer").order_by("position")
    return render(
        request,
        "work/committee/review.html",
        {
            "proposal": proposal,
            "proposer_list": signers,
            "form": form,
            "similar": similar.similar_proposals(proposal),
        },
    )


def _review(proposal, actor, data):
    """Call the service for the chosen outcome; the success message for it."""
    outcome, comment = data["outcome"], data["comment"]
    if outcome == Outcome.ACCEPT:
        proposal = services.accept(proposal, actor, comment)
        return _("Accepted as %(number)s.") % {"number": proposal.display_number}
    if outcome == Outcome.MERGE:
        into = data["merge_into_proposal"]
        services.merge(proposal, into, actor, comment)
        return _("Merged into %(number)s.") % {"number": into.display_number}
    if outcome == Outcome.CONVERT:
        services.convert(proposal, actor, comment)
        return _("Turned into an opinion and forwarded.")
    services.reject(proposal, actor, data["rejection_reason"], comment)
    return _("The proposal was not accepted; its proposers are told the reason.")


@login_required
def assign(request, pk):
    require_committee(request.user)
    proposal = access.get_proposal_for_user(request.user, pk)
    if request.method != "POST" and proposal.state != Proposal.State.ACCEPTED:
        messages.info(request, _("Only an accepted proposal can be assigned."))
        return redirect(proposal)
    today = timezone.localdate()
    reply = deadlines.reply_due(today, plenary=proposal.period == Proposal.Period.PLENARY)
    opinion = deadlines.co_opinion_due(today)
    form = AssignForm(
        request.POST or None, proposal=proposal, reply_deadline=reply, opinion_deadline=opinion
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.assign(
                proposal,
                request.user,
                **form.unit_arguments(),
                reply_due=data["reply_due"],
                opinion_due=data["opinion_due"],
                due_change_reason=data["due_change_reason"],
                comment=data["comment"],
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                _("%(proposal)s was assigned.") % {"proposal": proposal.display_number},
            )
            return redirect(proposal)
    return render(
        request,
        "work/committee/assign.html",
        {
            "proposal": proposal,
            "proposer_list": proposal.proposer_list.select_related("proposer").order_by("position"),
            "suggested_units": proposal.suggested_units.all(),
            "units_by_similar": similar.suggested_units(proposal),
            "form": form,
        },
    )


@login_required
def assign_bulk(request):
    """The assignment meeting: many accepted proposals to the same unit(s), all or none."""
    require_committee(request.user)
    if "session" in request.GET or "category" in request.GET:
        filter_form = BulkFilterForm(request.GET)
        filter_form.is_valid()
        session = filter_form.cleaned_data.get("session")
        category = filter_form.cleaned_data.get("category")
    else:
        # The assignment meeting is about the current session, unless staff pick another.
        session = Session.objects.filter(is_current=True).first()
        category = None
        filter_form = BulkFilterForm(initial={"session": session})
    form = BulkAssignForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = services.bulk_assign(
                form.selected_proposals(),
                request.user,
                **form.unit_arguments(),
                comment=form.cleaned_data["comment"],
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d proposal was assigned.",
                    "%(count)d proposals were assigned.",
                    len(done),
                )
                % {"count": len(done)},
            )
            return redirect(request.get_full_path())
    accepted = Proposal.objects.filter(state=Proposal.State.ACCEPTED)
    if session is not None:
        accepted = accepted.filter(session=session)
    if category is not None:
        accepted = accepted.filter(category=category)
    accepted = (
        accepted.select_related("category")
        .annotate(first_proposer=first_proposer_name())
        .prefetch_related("suggested_units")
        .order_by("number", "id")
    )
    page = Paginator(accepted, BULK_PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "work/committee/assign_bulk.html",
        {
            "filter_form": filter_form,
            "form": form,
            "page": page,
            "selected": set(request.POST.getlist("proposals")),
            "query": query.urlencode(),
        },
    )


def _return_requests_page(request, bound=None, status=200):
    """The waiting return requests, each with its decision form (`bound` keeps what was typed)."""
    requests = list(
        Assignment.objects.filter(return_status=Assignment.ReturnStatus.REQUESTED, is_active=True)
        .select_related("unit", "proposal", "return_requested_by")
        .order_by("return_requested_at", "id")
    )
    corrections = {}
    if requests:
        # One query for the calendar corrections of every window on the page.
        days = [deadlines.as_local_date(a.assigned_at) for a in requests]
        corrections = deadlines.load_corrections(min(days), max(days) + datetime.timedelta(days=90))
    unit_choices = [("", "---------")] + [(u.pk, str(u)) for u in active_units()]
    for row in requests:
        row.window = deadlines.return_window(row.assigned_at, corrections)
        form = (bound or {}).get(row.pk) or ReturnDecisionForm(auto_id=f"r{row.pk}_%s")
        # Share one list of units among the forms instead of a query per row.
        form.fields["new_unit"].choices = unit_choices
        row.form = form
    return render(
        request, "work/committee/return_requests.html", {"requests": requests}, status=status
    )


@login_required
def return_requests(request):
    require_committee(request.user)
    return _return_requests_page(request)


@login_required
@require_POST
def decide_return(request, pk):
    require_committee(request.user)
    assignment = get_object_or_404(Assignment.objects.select_related("unit", "proposal"), pk=pk)
    form = ReturnDecisionForm(request.POST, auto_id=f"r{assignment.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        approve = data["decision"] == "approve"
        try:
            services.decide_return(
                assignment, request.user, approve, data["comment"], data["new_unit"]
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            if approve:
                message = _(
                    "The return request of %(unit)s was approved; %(new)s takes %(number)s over."
                ) % {
                    "unit": assignment.unit,
                    "new": data["new_unit"],
                    "number": assignment.proposal.display_number,
                }
            else:
                message = _("The return request of %(unit)s was refused.") % {
                    "unit": assignment.unit
                }
            messages.success(request, message)
            return redirect("proposals:return_requests")
    if assignment.return_status != Assignment.ReturnStatus.REQUESTED or not assignment.is_active:
        # Decided meanwhile: the row is gone from the list, so say it at the top.
        for error in form.non_field_errors() or [_("This return request was already decided.")]:
            messages.error(request, error)
        return redirect(reverse("proposals:return_requests"))
    return _return_requests_page(request, bound={assignment.pk: form})
