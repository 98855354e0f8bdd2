"""Extensions (延期), key proposals and 督办: the units' requests and answers, the committee's
decisions and its supervision page."""

from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Exists, F, Prefetch, Q, Window
from django.db.models.functions import RowNumber
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.views import add_refusal_to_form, require, safe_next
from core.workflow import Refused

from .. import access, deadlines, services
from ..models import Assignment, ExtensionRequest, Proposal, SupervisionNote
from ..supervision_forms import (
    ExtensionDecisionForm,
    ExtensionRequestForm,
    KeyProposalForm,
    SupervisionAnswerForm,
    SupervisionNoteForm,
)
from ..transitions import TRANSITIONS
from .handling import (
    contact_window,
    corrections_for,
    first_contact_late,
    late_or_due,
    mark_urgency,
    open_assignments,
    sent_opinion,
)

# The supervision page shows each unit's most urgent rows; all of one unit on request.
ROWS_PER_UNIT = 10


def _require_committee(user):
    require(access.is_committee(user))


def _visible_proposal(request, pk):
    return get_object_or_404(access.visible_proposals(request.user), pk=pk)


# --- extensions --------------------------------------------------------------------------------


@login_required
def request_extension(request, pk):
    """A unit's person asks to extend the reply deadline of one of the unit's assignments."""
    require(access.unit_ids(request.user))
    assignment = access.get_assignment_for_unit_member(request.user, pk)
    limit = deadlines.max_reply_due(assignment.assigned_at)
    form = ExtensionRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.request_extension(assignment, request.user, data["wished_due"], data["reason"])
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, _("The extension request was sent to the committee staff."))
            return redirect(safe_next(request, assignment.proposal.get_absolute_url()))
    return render(
        request,
        "work/handling/request_extension.html",
        {
            "assignment": assignment,
            "proposal": assignment.proposal,
            "form": form,
            "limit": limit,
        },
    )


def _extension_requests_page(request, bound=None):
    waiting = list(
        ExtensionRequest.objects.filter(status=ExtensionRequest.Status.REQUESTED)
        .select_related("assignment__proposal", "assignment__unit", "requested_by")
        .order_by("requested_at", "id")
    )
    corrections = corrections_for(r.assignment.assigned_at for r in waiting)
    for row in waiting:
        row.limit = deadlines.max_reply_due(row.assignment.assigned_at, corrections)
        row.form = (bound or {}).get(row.pk) or ExtensionDecisionForm(auto_id=f"x{row.pk}_%s")
    return render(request, "work/committee/extension_requests.html", {"requests": waiting})


@login_required
@require_GET
def extension_requests(request):
    _require_committee(request.user)
    return _extension_requests_page(request)


@login_required
@require_POST
def decide_extension(request, pk):
    _require_committee(request.user)
    extension = get_object_or_404(
        ExtensionRequest.objects.select_related("assignment__unit", "assignment__proposal"), pk=pk
    )
    form = ExtensionDecisionForm(request.POST, auto_id=f"x{extension.pk}_%s")
    if form.is_valid():
        data = form.cleaned_data
        approve = data["decision"] == "approve"
        try:
            services.decide_extension(
                extension, request.user, approve, data["new_due"], data["comment"]
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            message = (
                _("The extension request of %(unit)s was approved.")
                if approve
                else _("The extension request of %(unit)s was refused.")
            )
            messages.success(request, message % {"unit": extension.assignment.unit})
            return redirect("proposals:extension_requests")
    extension.refresh_from_db()
    if extension.status != ExtensionRequest.Status.REQUESTED:
        for error in form.non_field_errors() or [_("This extension request was already decided.")]:
            messages.error(request, error)
        return redirect("proposals:extension_requests")
    return _extension_requests_page(request, bound={extension.pk: form})


# --- key proposals and 督办 -----------------------------------------------------------------------


@login_required
def mark_key(request, pk):
    """Committee staff mark or unmark a key proposal and name its supervising leader."""
    _require_committee(request.user)
    proposal = _visible_proposal(request, pk)
    form = KeyProposalForm(
        request.POST if request.method == "POST" else None,
        initial={"is_key": proposal.is_key, "supervising_leader": proposal.supervising_leader},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.mark_key(
                proposal, request.user, data["is_key"], data["supervising_leader"], data["comment"]
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, _("The key proposal marking was saved."))
            return redirect(proposal.get_absolute_url())
    return render(request, "work/committee/key.html", {"proposal": proposal, "form": form})


def _supervisable(proposal):
    return (
        proposal.assignments.filter(is_active=True, round=proposal.current_round)
        .select_related("unit")
        .order_by("role", "id")
    )


@login_required
def supervise(request, pk):
    """Committee staff send a 督办 note to one of the proposal's units."""
    _require_committee(request.user)
    proposal = _visible_proposal(request, pk)
    form = SupervisionNoteForm(
        request.POST if request.method == "POST" else None,
        assignments=_supervisable(proposal),
        initial={"assignment": request.GET.get("assignment")},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.supervise(data["assignment"], request.user, data["text"])
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                _("The supervision note was sent to %(unit)s.") % {"unit": data["assignment"].unit},
            )
            return redirect(safe_next(request, proposal.get_absolute_url()))
    return render(request, "work/committee/supervise.html", {"proposal": proposal, "form": form})


@login_required
def answer_supervision(request, pk):
    """A unit's person answers a 督办 note to their unit; another unit's note is 404."""
    require(access.unit_ids(request.user))
    note = get_object_or_404(
        SupervisionNote.objects.select_related(
            "assignment__proposal", "assignment__unit", "created_by"
        ),
        pk=pk,
        assignment__unit_id__in=access.unit_ids(request.user),
    )
    form = SupervisionAnswerForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.answer_supervision(note, request.user, form.cleaned_data["answer"])
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, _("The answer was sent to the committee staff."))
            return redirect(safe_next(request, reverse("proposals:inbox")))
    return render(
        request,
        "work/handling/answer_supervision.html",
        {
            "note": note,
            "assignment": note.assignment,
            "proposal": note.assignment.proposal,
            "form": form,
        },
    )


@login_required
@require_GET
def supervision(request):
    """督办: everything overdue or due soon, by unit; and the key proposals' progress."""
    _require_committee(request.user)
    today = deadlines.local_today()
    soon = deadlines.add_working_days(today, settings.TIAN["DUE_SOON_WORKING_DAYS"])
    due = open_assignments().filter(late_or_due(today, soon))
    # Counts per unit in SQL; the rows of one unit when asked (?unit=), else each unit's
    # most urgent few, so that the page stays small when thousands are late.
    counts = {
        row["unit_id"]: row
        for row in due.order_by()
        .values("unit_id")
        .annotate(total=Count("id"), late=Count("id", filter=Q(deadline__lt=today)))
    }
    shown = due.order_by("unit__name", "unit_id", F("deadline").asc(), "proposal__number", "id")
    unit_id = request.GET.get("unit", "")
    if unit_id.isdigit():
        shown = shown.filter(unit_id=int(unit_id))
    else:
        unit_id = ""
        shown = shown.annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("unit_id"),
                order_by=[F("deadline").asc(), F("proposal__number").asc(), F("id").asc()],
            )
        ).filter(rank__lte=ROWS_PER_UNIT)
    by_unit = defaultdict(list)
    for assignment in shown:
        mark_urgency(assignment, today, soon)
        by_unit[assignment.unit].append(assignment)
    units = [
        {
            "unit": unit,
            "rows": items,
            "late": counts[unit.pk]["late"],
            "soon": counts[unit.pk]["total"] - counts[unit.pk]["late"],
            "more": counts[unit.pk]["total"] - len(items),
        }
        for unit, items in by_unit.items()
    ]
    # First contact with the proposer overdue (counted from assignment in working days):
    # counts per unit and each unit's oldest few, two queries and one for the calendar.
    corrections = contact_window(today)
    contact_late = open_assignments().filter(first_contact_late(today, corrections))
    contact_counts = dict(
        contact_late.order_by()
        .values("unit_id")
        .annotate(n=Count("id"))
        .values_list("unit_id", "n")
    )
    contact_rows = defaultdict(list)
    for assignment in (
        contact_late.annotate(
            rank=Window(
                RowNumber(),
                partition_by=F("unit_id"),
                order_by=[F("assigned_at").asc(), F("id").asc()],
            )
        )
        .filter(rank__lte=ROWS_PER_UNIT)
        .order_by("unit__name", "unit_id", "assigned_at", "id")
    ):
        assignment.first_contact_due = deadlines.first_contact_due(
            assignment.assigned_at, corrections
        )
        contact_rows[assignment.unit].append(assignment)
    first_contacts = [
        {"unit": unit, "rows": rows, "count": contact_counts.get(unit.pk, len(rows))}
        for unit, rows in contact_rows.items()
    ]
    for group in first_contacts:
        group["more"] = group["count"] - len(group["rows"])
    current = (
        Assignment.objects.filter(is_active=True)
        .select_related("unit")
        .annotate(opinion_sent=Exists(sent_opinion()))
        .order_by("role", "id")
    )
    key = list(
        Proposal.objects.filter(is_key=True, state__in=TRANSITIONS["mark_key"])
        .select_related("session__term")
        .prefetch_related(Prefetch("assignments", queryset=current, to_attr="active"))
        .order_by("session_id", "number", "id")
    )
    for proposal in key:
        proposal.units = [a for a in proposal.active if a.round == proposal.current_round]
        for assignment in proposal.units:
            assignment.deadline = (
                assignment.opinion_due if assignment.role == Assignment.Role.CO else assignment.due
            )
            assignment.reply_sent = assignment.replied_at is not None
            mark_urgency(assignment, today, soon)
    return render(
        request,
        "work/committee/supervision.html",
        {
            "units": units,
            "key": key,
            "today": today,
            "soon": soon,
            "count": sum(row["total"] for row in counts.values()),
            "first_contacts": first_contacts,
            "first_contact_count": sum(contact_counts.values()),
            "unit_id": unit_id,
            "due_soon_days": settings.TIAN["DUE_SOON_WORKING_DAYS"],
        },
    )
