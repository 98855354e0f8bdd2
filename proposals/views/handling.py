"""The handling units' screens: the inbox, acknowledgement, return requests, opinions, contacts."""

import datetime
import os
from collections import defaultdict

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import (
    BooleanField,
    Case,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    Subquery,
    When,
)
from django.db.models.functions import Coalesce
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.views import add_refusal_to_form, require, run, safe_next
from core.workflow import Refused

from .. import access, deadlines, exports, services
from ..handling_forms import ContactForm, OpinionForm, ReturnRequestForm, attachment_content_type
from ..models import (
    Assignment,
    ContactRecord,
    CoOpinion,
    ExtensionRequest,
    Proposal,
    SupervisionNote,
)

Role = Assignment.Role
# The proposal states in which a unit still has work on an assignment.
OPEN_STATES = (Proposal.State.ASSIGNED, Proposal.State.HANDLING)


# --- the inbox ---------------------------------------------------------------------------------


def sent_opinion():
    return CoOpinion.objects.filter(assignment=OuterRef("pk"), sent_at__isnull=False)


def open_assignments(units=None):
    """Active assignments of the current round on proposals still being handled, with their
    deadline in force (`deadline`) and whether their part is done; of `units`, or of all."""
    if units is None:
        # Driven from the few open proposals: the planner otherwise walks every assignment.
        queryset = Assignment.objects.filter(
            proposal__in=Proposal.objects.filter(state__in=OPEN_STATES)
        )
    else:
        queryset = Assignment.objects.filter(unit_id__in=units)
    return (
        queryset.filter(
            is_active=True,
            round=F("proposal__current_round"),
            proposal__state__in=OPEN_STATES,
        )
        .select_related("proposal", "unit")
        # The lists show numbers and titles, never the texts.
        .defer("proposal__reasons", "proposal__suggestions", "proposal__review_comment")
        .annotate(
            # A co-unit's deadline is its opinion; the others' the reply (an extension replaces it).
            deadline=Case(
                When(role=Role.CO, then=F("opinion_due")),
                default=Coalesce(F("extended_due"), F("reply_due")),
            ),
            opinion_sent=Exists(sent_opinion()),
            first_contact=Subquery(
                ContactRecord.objects.filter(assignment=OuterRef("pk"))
                .order_by("contacted_on")
                .values("contacted_on")[:1]
            ),
            reply_sent=ExpressionWrapper(Q(replied_at__isnull=False), output_field=BooleanField()),
        )
        .order_by(F("deadline").asc(nulls_last=True), "proposal__number", "id")
    )


def late_or_due(today, until):
    """The open part of an assignment (its reply, or a co-unit's opinion) is due by `until`
    (or overdue when `until` is yesterday); on `open_assignments()`."""
    return Q(role__in=[Role.LEAD, Role.SPLIT], deadline__lte=until, reply_sent=False) | Q(
        role=Role.CO, deadline__lte=until, opinion_sent=False
    )


def contact_window(today):
    """The calendar corrections the first-contact deadlines of open work can reach, in one
    query: two years back (work older than that and still without a contact is for a person
    to look at, not a calendar), a month ahead."""
    return deadlines.load_corrections(
        today - datetime.timedelta(days=2 * 366), today + datetime.timedelta(days=31)
    )


def first_contact_late(today, corrections):
    """On `open_assignments()`: a replying unit that has neither replied nor contacted the
    proposer, past its first-contact deadline (DESIGN.md: 15 working days from assignment).
    The deadline is counted in Python once, as the latest assignment day already late."""
    cutoff = deadlines.latest_start_due_before(deadlines.first_contact_due, today, corrections)
    until = datetime.datetime.combine(
        cutoff + datetime.timedelta(days=1), datetime.time(), tzinfo=timezone.get_default_timezone()
    )
    return Q(
        role__in=[Role.LEAD, Role.SPLIT],
        reply_sent=False,
        first_contact__isnull=True,
        assigned_at__lt=until,
    )


def by_urgency(queryset, today):
    """Overdue first, then the nearest deadline (done work and no deadline last)."""
    late = late_or_due(today, today - datetime.timedelta(days=1))
    return queryset.annotate(
        urgency=Case(When(late, then=0), When(deadline__isnull=False, then=1), default=2)
    ).order_by("urgency", F("deadline").asc(nulls_last=True), "proposal__number", "id")


def waiting_for_co_opinions():
    """A lead assignment whose co-units of the same round have not all sent their opinion."""
    outstanding_co = Assignment.objects.filter(
        proposal=OuterRef("proposal"), round=OuterRef("round"), role=Role.CO, is_active=True
    ).filter(~Exists(sent_opinion()))
    return Q(role=Role.LEAD) & Exists(outstanding_co)


def inbox_sections(units, today):
    """The four inbox querysets of a user's units: new, in handling, waiting, overdue."""
    base = by_urgency(open_assignments(units), today)
    return {
        "new": base.filter(acknowledged_at__isnull=True),
        "handling": base.filter(acknowledged_at__isnull=False),
        "waiting": base.filter(waiting_for_co_opinions()),
        "overdue": base.filter(late_or_due(today, today - datetime.timedelta(days=1))),
    }


def inbox_rows(units, today):
    """The four inbox sections of a user's units as lists, from one query.

    The same rows, order and conditions as `inbox_sections`, but its four querysets cost
    four compilations and round trips for what is one set of open assignments: here each
    row says which sections it belongs to, and a row in two sections is the same object in
    both (the attributes the view adds do not depend on the section)."""
    rows = list(
        by_urgency(open_assignments(units), today).annotate(
            waiting=ExpressionWrapper(waiting_for_co_opinions(), output_field=BooleanField())
        )
    )
    return {
        "new": [a for a in rows if a.acknowledged_at is None],
        "handling": [a for a in rows if a.acknowledged_at is not None],
        "waiting": [a for a in rows if a.waiting],
        # by_urgency's first rank is exactly late_or_due(today, yesterday).
        "overdue": [a for a in rows if a.urgency == 0],
    }


def corrections_for(starts):
    """The calendar corrections every deadline counted from `starts` can reach, in one query."""
    days = [deadlines.as_local_date(start) for start in starts]
    if not days:
        return {}
    horizon = deadlines.reach()
    return deadlines.load_corrections(min(days), max(days) + horizon)


def _outstanding_units(waiting):
    """{(proposal id, round): [units]} of co-units whose opinion is not in yet."""
    rows = (
        Assignment.objects.filter(
            proposal_id__in={a.proposal_id for a in waiting}, role=Role.CO, is_active=True
        )
        .filter(~Exists(sent_opinion()))
        .select_related("unit")
        .order_by("unit__name")
    )
    result = defaultdict(list)
    for row in rows:
        result[row.proposal_id, row.round].append(row.unit)
    return result


def mark_urgency(assignment, today, soon):
    """`is_late` and `is_due_soon` (within the working days of DUE_SOON_WORKING_DAYS)."""
    done = assignment.opinion_sent if assignment.role == Role.CO else assignment.reply_sent
    deadline = None if done else assignment.deadline
    assignment.is_late = deadline is not None and deadline < today
    assignment.is_due_soon = deadline is not None and today <= deadline <= soon


def with_extension_state(assignments, requests=None):
    """`extension_waiting` and `extensions_left` on each assignment, in one query (none when
    the caller has the `requests` already)."""
    if requests is None:
        rows = ExtensionRequest.objects.filter(
            assignment_id__in=[a.pk for a in assignments]
        ).values_list("assignment_id", "status")
    else:
        rows = [(r.assignment_id, r.status) for r in requests]
    waiting, used = set(), defaultdict(int)
    for assignment_id, status in rows:
        if status == ExtensionRequest.Status.REQUESTED:
            waiting.add(assignment_id)
        elif status == ExtensionRequest.Status.APPROVED:
            used[assignment_id] += 1
    limit = settings.TIAN["EXTENSIONS_MAX"]
    for assignment in assignments:
        assignment.extension_waiting = assignment.pk in waiting
        assignment.extensions_left = max(limit - used[assignment.pk], 0)


@login_required
@require_GET
def inbox_export(request):
    """The inbox as .xlsx: every open assignment of the user's units, deadline first."""
    units = access.unit_ids(request.user)
    require(units)
    today = deadlines.local_today()
    roles = exports.labels(Role.choices)
    rows = (
        open_assignments(units)
        .select_related(None)
        .values_list(
            "proposal__number",
            "proposal__title",
            "unit__short_name",
            "role",
            "assigned_at",
            "acknowledged_at",
            "deadline",
            "opinion_sent",
            "reply_sent",
        )
        .iterator(chunk_size=exports.CHUNK_SIZE)
    )

    def lines():
        for number, title, unit, role, assigned, acknowledged, due, opinion, reply in rows:
            done = opinion if role == Role.CO else reply
            yield (
                exports.number_label(number),
                title,
                unit,
                roles.get(role, role),
                assigned,
                acknowledged,
                due,
                "是" if done else "否",
                "是" if not done and due is not None and due < today else "",
            )

    return exports.xlsx_response(
        "办理事项",
        "办理事项",
        [
            "提案号",
            "案由",
            "承办单位",
            "承办方式",
            "交办时间",
            "签收时间",
            "期限",
            "已办复",
            "逾期",
        ],
        lines(),
        [10, 44, 14, 10, 12, 12, 12, 8, 8],
    )


@login_required
@require_GET
def inbox(request):
    """A unit's work: newly assigned, in handling, waiting for co-opinions, overdue."""
    units = access.unit_ids(request.user)
    require(units)
    today = deadlines.local_today()
    sections = inbox_rows(units, today)
    corrections = corrections_for(a.assigned_at for a in (*sections["new"], *sections["handling"]))
    for assignment in sections["new"]:
        assignment.return_window = deadlines.return_window(assignment.assigned_at, corrections)
    for assignment in (*sections["new"], *sections["handling"]):
        # 15 working days to the first contact with the proposer (DESIGN.md, "Deadlines").
        assignment.first_contact_due = deadlines.first_contact_due(
            assignment.assigned_at, corrections
        )
    outstanding = _outstanding_units(sections["waiting"]) if sections["waiting"] else {}
    for assignment in sections["waiting"]:
        assignment.outstanding = outstanding.get((assignment.proposal_id, assignment.round), [])
    soon = deadlines.add_working_days(today, settings.TIAN["DUE_SOON_WORKING_DAYS"], corrections)
    notes = list(
        SupervisionNote.objects.filter(assignment__unit_id__in=units, answered_at__isnull=True)
        .select_related("assignment__proposal", "assignment__unit", "created_by")
        # The list shows the proposal's number and title, never its texts.
        .defer(
            "assignment__proposal__reasons",
            "assignment__proposal__suggestions",
            "assignment__proposal__review_comment",
        )
    )
    supervised = {note.assignment_id for note in notes}
    with_extension_state(sections["handling"])
    for rows in sections.values():
        for assignment in rows:
            mark_urgency(assignment, today, soon)
            assignment.supervised = assignment.pk in supervised
    for assignment in sections["handling"]:
        assignment.can_extend = access.unit_actions(assignment.proposal, assignment, set(), today)[
            "extension"
        ]
    return render(
        request,
        "work/handling/inbox.html",
        {
            "sections": sections,
            "notes": notes,
            "today": today,
            "due_soon_days": settings.TIAN["DUE_SOON_WORKING_DAYS"],
            "inbox_url": reverse("proposals:inbox"),
            "multiple_units": len(units) > 1,
        },
    )


# --- unit actions --------------------------------------------------------------------------------


def _unit_assignment(request, pk):
    """403 for people of no unit, 404 for an assignment of another unit."""
    require(access.unit_ids(request.user))
    return access.get_assignment_for_unit_member(request.user, pk)


@login_required
@require_POST
def acknowledge(request, pk):
    assignment = _unit_assignment(request, pk)
    run(
        request,
        services.acknowledge,
        assignment,
        request.user,
        success=_("%(number)s is acknowledged.")
        % {"number": assignment.proposal.display_number or assignment.proposal.title},
    )
    return redirect(safe_next(request, assignment.proposal.get_absolute_url()))


@login_required
def request_return(request, pk):
    assignment = _unit_assignment(request, pk)
    window = deadlines.return_window(assignment.assigned_at)
    form = ReturnRequestForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.request_return(assignment, request.user, form.cleaned_data["reason"])
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, _("The return request was sent to the committee staff."))
            return redirect(safe_next(request, assignment.proposal.get_absolute_url()))
    return render(
        request,
        "work/handling/request_return.html",
        {
            "assignment": assignment,
            "proposal": assignment.proposal,
            "form": form,
            "window": window,
            "closed": deadlines.local_today() > window.due,
        },
    )


def default_opinion_title(assignment):
    """重庆市梁平区经济和信息化委员会关于第069号提案的会办意见 — the heading units use."""
    return f"{assignment.unit.name}关于{assignment.proposal.display_number}提案的会办意见"


@login_required
def opinion(request, pk):
    assignment = _unit_assignment(request, pk)
    if request.method == "POST":
        form = OpinionForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                services.send_opinion(
                    assignment,
                    request.user,
                    title=data["title"],
                    body=data["body"],
                    doc_number=data["doc_number"],
                    signatory=data["signatory"],
                    attachment=data["attachment"],
                )
            except Refused as exc:
                add_refusal_to_form(form, exc)
            else:
                messages.success(request, _("The co-handling opinion was sent to the lead unit."))
                return redirect(assignment.proposal.get_absolute_url())
    else:
        form = OpinionForm(initial={"title": default_opinion_title(assignment)})
    return render(
        request,
        "work/handling/opinion.html",
        {"assignment": assignment, "proposal": assignment.proposal, "form": form},
    )


@login_required
@require_GET
def opinion_attachment(request, pk):
    """The attachment of a co-handling opinion, to those who may read the opinion; 404 otherwise."""
    try:
        opinion = CoOpinion.objects.select_related("assignment__proposal").get(pk=pk)
    except CoOpinion.DoesNotExist:
        raise Http404 from None
    proposal = opinion.assignment.proposal
    if (
        not opinion.attachment
        or not access.visible_opinions(request.user, proposal).filter(pk=opinion.pk).exists()
    ):
        raise Http404
    try:
        handle = opinion.attachment.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = os.path.basename(opinion.attachment.name)
    return FileResponse(
        handle, as_attachment=True, filename=name, content_type=attachment_content_type(name)
    )


@login_required
def contact(request, pk):
    assignment = _unit_assignment(request, pk)
    form = ContactForm(
        request.POST if request.method == "POST" else None,
        initial={"contacted_on": deadlines.local_today()},
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.record_contact(
                assignment,
                request.user,
                contacted_on=data["contacted_on"],
                method=data["method"],
                participants=data["participants"],
                leader_took_part=data["leader_took_part"],
                summary=data["summary"],
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, _("The contact with the proposer was recorded."))
            return redirect(assignment.proposal.get_absolute_url())
    return render(
        request,
        "work/handling/contact.html",
        {"assignment": assignment, "proposal": assignment.proposal, "form": form},
    )
