from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Exists, F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext

from accounts.models import OutboxMessage
from core import pagecache
from core.paginator import EstimatingPaginator
from core.views import require

from .. import access, deadlines, exports, hooks, search
from ..access import visible_proposals
from ..filters import ProposalFilter
from ..models import (
    Assignment,
    ContactRecord,
    ExtensionRequest,
    Proposal,
    ProposalProposer,
    SupervisionNote,
)
from .handling import corrections_for, inbox_sections, with_extension_state
from .proposer import first_proposer_name

PAGE_SIZE = 25
State = Proposal.State


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


def workspace_panels(user):
    """What waits for the user, by role: a few counts and links above the list."""
    panels = {}
    units = access.unit_ids(user)
    if units:
        sections = inbox_sections(units, deadlines.local_today())
        panels["inbox"] = {name: qs.count() for name, qs in sections.items()}
        panels["inbox"]["supervision"] = SupervisionNote.objects.filter(
            assignment__unit_id__in=units, answered_at__isnull=True
        ).count()
    if access.is_committee(user):
        panels["committee"] = {
            "review": Proposal.objects.filter(state=State.SUBMITTED).count(),
            "returns": Assignment.objects.filter(
                is_active=True, return_status=Assignment.ReturnStatus.REQUESTED
            ).count(),
            "extensions": ExtensionRequest.objects.filter(
                status=ExtensionRequest.Status.REQUESTED
            ).count(),
            # Email and SMS the outbox gave up on (accounts/outbox.py): someone should look.
            "outbox_failed": OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED).count(),
        }
    for extra in hooks.call("workspace_panels", user):
        panels.update(extra)
    panels["proposer"] = access.proposer_of(user) is not None
    return panels


def filtered_proposals(request):
    """The workspace's filter and the proposals it leaves: the page and its download share them."""
    base = visible_proposals(request.user)
    filterset = ProposalFilter(request.GET or None, queryset=base, request=request)
    return filterset, (filterset.qs if filterset.is_bound else base)


def highlight_rows(rows, words):
    """The title with the searched words marked, and an excerpt of the text around them."""
    texts = {
        pk: f"{reasons} {suggestions}"
        for pk, reasons, suggestions in Proposal.objects.filter(pk__in=[r.pk for r in rows])
        .order_by()
        .values_list("pk", "reasons", "suggestions")
    }
    for row in rows:
        row.title_marked = search.highlight(row.title, words)
        row.excerpt = search.excerpt(texts.get(row.pk, ""), words)


def may_export(user):
    """Staff download their lists: committee staff and the units' people."""
    return access.is_committee(user) or bool(access.unit_ids(user))


@login_required
def workspace_export(request):
    """The workspace list as .xlsx, with the page's filters (its GET parameters)."""
    require(may_export(request.user))
    _filterset, queryset = filtered_proposals(request)
    queryset = with_lead(
        queryset.select_related(None).annotate(first_proposer=first_proposer_name())
    ).order_by("-created_at", "-id")
    return exports.proposals_xlsx(queryset)


@login_required
def workspace(request):
    """The proposals that concern the user, newest first; kept rendered until the next step
    (core/pagecache.py)."""
    return pagecache.kept(
        request,
        "workspace",
        lambda: render(request, "work/workspace.html", _workspace_context(request)),
    )


def _workspace_context(request):
    filterset, queryset = filtered_proposals(request)
    words = filterset.search_words()
    shown = filterset.queryset if words else queryset
    shown = shown.select_related("session__term", "category").defer(
        "reasons", "suggestions", "review_comment"
    )
    # Searched: best match first (search.Ranked, with the other filters); else newest first.
    rows = filterset.ranked(shown, words) if words else shown.order_by("-created_at", "-id")
    page = EstimatingPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    # The lead unit and deadline of the rows shown only, not of every row OFFSET skips.
    rows = list(page.object_list)
    lead = {
        pk: (unit, due)
        for pk, unit, due in with_lead(Proposal.objects.filter(pk__in=[r.pk for r in rows]))
        .order_by()
        .values_list("pk", "lead_unit", "reply_due")
    }
    today = deadlines.local_today()
    soon = deadlines.add_working_days(today, settings.TIAN["DUE_SOON_WORKING_DAYS"])
    for row in rows:
        row.lead_unit, row.reply_due = lead.get(row.pk, (None, None))
        # Badges only while a reply is still awaited.
        awaited = row.reply_due is not None and row.state in (State.ASSIGNED, State.HANDLING)
        row.is_late = awaited and row.reply_due < today
        row.is_due_soon = awaited and today <= row.reply_due <= soon
    if words:
        highlight_rows(rows, words)
    page.object_list = rows
    query = request.GET.copy()
    query.pop("page", None)
    return {
        "filter": filterset,
        "page": page,
        "query": query.urlencode(),
        "panels": workspace_panels(request.user),
        "due_soon_days": settings.TIAN["DUE_SOON_WORKING_DAYS"],
        "may_export": may_export(request.user),
    }


# --- the proposal page ---------------------------------------------------------------------------

ROLE_ORDER = {Assignment.Role.LEAD: 0, Assignment.Role.SPLIT: 1, Assignment.Role.CO: 2}


def _deadline_notes(assignment, corrections, plenary=False):
    """Attach how each of the assignment's deadlines was worked out."""
    assignment.reply_note = assignment.opinion_note = assignment.return_window = None
    if assignment.extended_due:
        assignment.reply_note = gettext("Extended: %(reason)s") % {
            "reason": assignment.extension_reason or "—"
        }
    elif assignment.reply_due:
        rule = deadlines.reply_due(assignment.assigned_at, corrections, plenary)
        assignment.reply_note = _explain(assignment, rule, assignment.reply_due)
    if assignment.opinion_due:
        rule = deadlines.co_opinion_due(assignment.assigned_at, corrections)
        assignment.opinion_note = _explain(assignment, rule, assignment.opinion_due)
    if assignment.is_active and not assignment.acknowledged_at:
        assignment.return_window = deadlines.return_window(assignment.assigned_at, corrections)


def _first_contacts(proposal, assignments, contacts, corrections):
    """The first contact with the proposer (DESIGN.md: 15 working days from assignment) of each
    replying unit handling the proposal now: when it was made, or by when it is due."""
    first = {}
    for record in contacts:
        day = first.get(record.assignment_id)
        first[record.assignment_id] = min(day, record.contacted_on) if day else record.contacted_on
    open_now = proposal.state in (Proposal.State.ASSIGNED, Proposal.State.HANDLING)
    for assignment in assignments:
        assignment.first_contact = first.get(assignment.pk)
        assignment.first_contact_due = None
        if (
            open_now
            and assignment.is_active
            and assignment.role != Assignment.Role.CO
            and assignment.round == proposal.current_round
            and assignment.replied_at is None
            and assignment.first_contact is None
        ):
            assignment.first_contact_due = deadlines.first_contact_due(
                assignment.assigned_at, corrections
            )


def _explain(assignment, rule, stored):
    if assignment.due_change_reason:
        return gettext("Set at assignment: %(reason)s") % {"reason": assignment.due_change_reason}
    if rule.due != stored:
        # The calendar or the rule changed since; the stored date is the one in force.
        return gettext("Set at assignment to %(due)s. By today's calendar: %(explanation)s") % {
            "due": stored.isoformat(),
            "explanation": rule.explanation,
        }
    return rule.explanation


@dataclass
class Viewer:
    """Who is looking at a proposal page, for the sections other apps add to it."""

    user: object
    committee: bool
    unit_ids: set
    proposer: object
    is_proposer: bool
    internal: bool
    my_assignments: list


@login_required
def detail(request, pk):
    """The proposal page: everything about a proposal its viewer may see, and what they may do."""
    user = request.user
    try:
        proposal = (
            visible_proposals(user)
            .select_related("session__term", "category", "merged_into", "rejection_reason")
            .get(pk=pk)
        )
    except Proposal.DoesNotExist:
        raise Http404 from None
    committee = access.is_committee(user)
    units = set(access.unit_ids(user))
    proposer = access.proposer_of(user)
    entries = list(proposal.proposer_list.select_related("proposer"))
    is_proposer = proposer is not None and any(
        e.proposer_id == proposer.pk and e.status != ProposalProposer.Status.DECLINED
        for e in entries
    )

    assignments = sorted(
        proposal.assignments.select_related("unit"),
        key=lambda a: (a.round, ROLE_ORDER.get(a.role, 9), a.id),
    )
    is_unit_viewer = any(a.unit_id in units for a in assignments)
    # Committee and units see the history of assignments (returns included); proposers the
    # units that handle their proposal now.
    internal = committee or is_unit_viewer
    if not internal:
        assignments = [a for a in assignments if a.is_active]
    corrections = corrections_for(a.assigned_at for a in assignments)
    for assignment in assignments:
        _deadline_notes(assignment, corrections, proposal.period == Proposal.Period.PLENARY)
    my_assignments = [a for a in assignments if a.is_active and a.unit_id in units]
    extensions = notes = []
    if internal:
        extensions = list(
            ExtensionRequest.objects.filter(assignment__proposal=proposal)
            .select_related("assignment__unit", "requested_by", "decided_by")
            .order_by("requested_at", "id")
        )
        notes = list(
            SupervisionNote.objects.filter(assignment__proposal=proposal)
            .select_related("assignment__unit", "created_by", "answered_by")
            .order_by("created_at", "id")
        )
        with_extension_state(my_assignments, extensions)
        if not committee:
            # A unit reads its own notes and requests, not those to other units.
            extensions = [e for e in extensions if e.assignment.unit_id in units]
            notes = [n for n in notes if n.assignment.unit_id in units]
    viewer = Viewer(user, committee, units, proposer, is_proposer, internal, my_assignments)
    sections = hooks.call("proposal_page", request, proposal, viewer)

    opinions = list(access.visible_opinions(user, proposal))
    sent_opinion_ids = {o.assignment_id for o in opinions if o.sent_at}
    is_lead_viewer = any(a.role == Assignment.Role.LEAD for a in my_assignments)
    outstanding = []
    if committee or is_lead_viewer:
        outstanding = [
            a
            for a in assignments
            if a.is_active
            and a.role == Assignment.Role.CO
            and a.round == proposal.current_round
            and a.pk not in sent_opinion_ids
        ]

    contacts = []
    if committee or is_unit_viewer or is_proposer:
        contacts = list(
            ContactRecord.objects.filter(assignment__proposal=proposal).select_related(
                "assignment__unit", "created_by"
            )
        )
    if internal:
        _first_contacts(proposal, assignments, contacts, corrections)
    # Linked only where the viewer may open them; the titles are shown either way. Whether
    # the viewer may open a merged-in proposal is asked in the query that lists them.
    merged_in = list(
        proposal.merged_proposals.order_by("number", "id")
        .only("number", "title", "merged_into")
        .annotate(linkable=Exists(visible_proposals(user).filter(pk=OuterRef("pk"))))
    )
    linkable = {m.pk for m in merged_in if m.linkable}
    if (
        proposal.merged_into_id
        and visible_proposals(user).filter(pk=proposal.merged_into_id).exists()
    ):
        linkable.add(proposal.merged_into_id)
    events = access.timeline(
        user,
        proposal,
        proposal.events.select_related("actor"),
        internal,
        {o.pk for o in opinions},
    )
    actions = access.available_actions(user, proposal, entries, my_assignments, sent_opinion_ids)
    return render(
        request,
        "work/proposal_detail.html",
        {
            "proposal": proposal,
            "proposer_entries": entries,
            # The proposers' phone numbers whole for who calls them: the committee and the
            # units handling the proposal now; masked (139****0058) for everyone else.
            "sees_phones": committee or bool(my_assignments),
            "show_cosign_status": proposal.state in (State.DRAFT, State.AWAITING_COSIGNERS),
            "show_review": committee or is_proposer,
            "internal": internal,
            "assignments": assignments,
            "opinions": opinions,
            "outstanding": outstanding,
            "show_outstanding": committee or is_lead_viewer,
            "contacts": contacts,
            "merged_in": merged_in,
            "linkable": linkable,
            "timeline": events,
            "extensions": extensions,
            "supervision_notes": notes,
            "viewer_units": units,
            "today": deadlines.local_today(),
            "actions": actions,
            "sections": sections,
            "has_actions": any(
                actions[key]
                for key in (
                    "edit",
                    "submit",
                    "withdraw",
                    "cosign",
                    "review",
                    "assign",
                    "key",
                    "supervise",
                    "units",
                )
            )
            or any(section.get("has_actions") for section in sections),
        },
    )
