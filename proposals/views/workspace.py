from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext, pgettext_lazy

from accounts.models import Membership

from .. import access, deadlines
from ..access import visible_proposals
from ..filters import ProposalFilter
from ..models import Assignment, ContactRecord, Proposal, ProposalSigner
from ..services import TRANSITIONS
from .handling import corrections_for, inbox_sections

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
    if access.is_committee(user):
        panels["committee"] = {
            "review": Proposal.objects.filter(state=State.SUBMITTED).count(),
            "returns": Assignment.objects.filter(
                is_active=True, return_status=Assignment.ReturnStatus.REQUESTED
            ).count(),
        }
    leading = access.unit_ids(user, Membership.Role.LEADER)
    if leading:
        from replies.models import ReplyLetter

        panels["signoff"] = ReplyLetter.objects.filter(
            state=ReplyLetter.State.AWAITING_SIGNOFF, assignment__unit_id__in=leading
        ).count()
    panels["proposer"] = access.proposer_of(user) is not None
    return panels


@login_required
def workspace(request):
    """The proposals that concern the user, newest first."""
    base = visible_proposals(request.user)
    filterset = ProposalFilter(request.GET or None, queryset=base, request=request)
    queryset = filterset.qs if filterset.is_bound else base
    queryset = (
        queryset.select_related("session__term", "category")
        .defer("reasons", "suggestions", "review_comment")
        .order_by("-created_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
    # The lead unit and deadline of the rows shown only, not of every row OFFSET skips.
    rows = list(page.object_list)
    lead = {
        pk: (unit, due)
        for pk, unit, due in with_lead(Proposal.objects.filter(pk__in=[r.pk for r in rows]))
        .order_by()
        .values_list("pk", "lead_unit", "reply_due")
    }
    for row in rows:
        row.lead_unit, row.reply_due = lead.get(row.pk, (None, None))
    page.object_list = rows
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "work/workspace.html",
        {
            "filter": filterset,
            "page": page,
            "query": query.urlencode(),
            "panels": workspace_panels(request.user),
        },
    )


# --- the proposal page ---------------------------------------------------------------------------

# The audit verbs of the timeline; a verb not listed here is shown as it is stored.
EVENT_LABELS = {
    "created": pgettext_lazy("event", "Created"),
    "registered": pgettext_lazy("event", "Registered from paper"),
    "submitted": pgettext_lazy("event", "Submitted"),
    "cosign_confirmed": pgettext_lazy("event", "Co-signed"),
    "cosign_declined": pgettext_lazy("event", "Declined to co-sign"),
    "withdrawn": pgettext_lazy("event", "Withdrawn"),
    "withdrawal_requested": pgettext_lazy("event", "Withdrawal requested"),
    "accepted": pgettext_lazy("event", "Accepted"),
    "merged": pgettext_lazy("event", "Merged into another proposal"),
    "merged_in": pgettext_lazy("event", "Another proposal merged in"),
    "converted": pgettext_lazy("event", "Turned into an opinion"),
    "rejected": pgettext_lazy("event", "Not accepted"),
    "assigned": pgettext_lazy("event", "Assigned"),
    "acknowledged": pgettext_lazy("event", "Acknowledged"),
    "return_requested": pgettext_lazy("event", "Return requested"),
    "return_approved": pgettext_lazy("event", "Return approved"),
    "return_refused": pgettext_lazy("event", "Return refused"),
    "opinion_sent": pgettext_lazy("event", "Co-handling opinion sent"),
    "contact_recorded": pgettext_lazy("event", "Contact with the proposer recorded"),
    "edited": pgettext_lazy("event", "Edited"),
    "reply_drafted": pgettext_lazy("event", "Reply letter drafted"),
    "reply_submitted": pgettext_lazy("event", "Reply letter submitted for sign-off"),
    "reply_sent_back": pgettext_lazy("event", "Reply letter sent back"),
    "reply_signed": pgettext_lazy("event", "Reply letter signed off"),
    "reply_reopened": pgettext_lazy("event", "Signed reply letter reopened"),
    "reply_sent": pgettext_lazy("event", "Reply letter sent"),
    "replied": pgettext_lazy("event", "Replied"),
    "reply_published": pgettext_lazy("event", "Reply letter published"),
    "reply_corrected": pgettext_lazy("event", "Published reply corrected"),
    "reply_withdrawn": pgettext_lazy("event", "Reply withdrawn from publication"),
    "receipt_submitted": pgettext_lazy("event", "Receipt received"),
    "receipt_reminded": pgettext_lazy("event", "Receipt reminder sent"),
    "rehandling_ordered": pgettext_lazy("event", "Re-handling ordered"),
    "closed": pgettext_lazy("event", "Closed"),
}

# Decisions whose comment is addressed to the proposer.
PROPOSER_COMMENT_VERBS = {
    "submitted",
    "withdrawal_requested",
    "cosign_confirmed",
    "cosign_declined",
    "withdrawn",
    "accepted",
    "merged",
    "converted",
    "rejected",
    "closed",
}

# The drafting of a letter is the issuing unit's business until it is sent.
DRAFTING_VERBS = {
    "reply_drafted",
    "reply_submitted",
    "reply_sent_back",
    "reply_signed",
    "reply_reopened",
}

# Return requests are between the units and the committee; proposers do not see them.
INTERNAL_VERBS = {"return_requested", "return_approved", "return_refused"}

ROLE_ORDER = {Assignment.Role.LEAD: 0, Assignment.Role.SPLIT: 1, Assignment.Role.CO: 2}


def state_label(value, object_type=""):
    if not value:
        return ""
    if object_type == "replyletter":
        from replies.models import ReplyLetter

        states = ReplyLetter.State
    else:
        states = State
    return states(value).label if value in states.values else value


def timeline(events, internal, visible_opinion_ids, drafting_letter_ids=()):
    """The audit events as the viewer may read them."""
    rows = []
    for event in events:
        if event.verb in INTERNAL_VERBS and not internal:
            continue
        if event.verb in DRAFTING_VERBS and event.object_id not in drafting_letter_ids:
            continue
        if event.verb.startswith("receipt_") and not internal:
            continue  # another proposer's ratings and opinion are theirs
        comment = event.comment
        # The comment names the opinion's title: only for those who may read the opinion.
        if event.verb == "opinion_sent" and event.object_id not in visible_opinion_ids:
            comment = ""
        # Comments meant for the units (assignment notes, deadlines) are not the proposer's.
        if not internal and event.verb not in PROPOSER_COMMENT_VERBS:
            comment = ""
        rows.append(
            {
                "at": event.created_at,
                "actor": event.actor,
                "verb": event.verb,
                "label": EVENT_LABELS.get(event.verb, event.verb),
                "from_state": state_label(event.from_state, event.object_type),
                "to_state": state_label(event.to_state, event.object_type),
                "comment": comment,
            }
        )
    return rows


def _deadline_notes(assignment, corrections):
    """Attach how each of the assignment's deadlines was worked out."""
    assignment.reply_note = assignment.opinion_note = assignment.return_window = None
    if assignment.extended_due:
        assignment.reply_note = gettext("Extended: %(reason)s") % {
            "reason": assignment.extension_reason or "—"
        }
    elif assignment.reply_due:
        rule = deadlines.reply_due(assignment.assigned_at, corrections)
        assignment.reply_note = _explain(assignment, rule, assignment.reply_due)
    if assignment.opinion_due:
        rule = deadlines.co_opinion_due(assignment.assigned_at, corrections)
        assignment.opinion_note = _explain(assignment, rule, assignment.opinion_due)
    if assignment.is_active and not assignment.acknowledged_at:
        assignment.return_window = deadlines.return_window(assignment.assigned_at, corrections)


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


def available_actions(user, proposal, signers, my_assignments, sent_opinion_ids, today=None):
    """The buttons this viewer may use on this proposal now (the services decide in the end)."""
    state = proposal.state
    committee = access.is_committee(user)
    proposer = access.proposer_of(user)
    signer = next((s for s in signers if proposer and s.proposer_id == proposer.pk), None)
    first = signer is not None and signer.position == 0
    by_proposer = state in TRANSITIONS["withdraw_by_proposer"]
    by_committee = state in TRANSITIONS["withdraw_by_committee"]
    today = today or deadlines.local_today()
    units = []
    for assignment in my_assignments:
        fresh = not assignment.acknowledged_at and (
            assignment.return_status != Assignment.ReturnStatus.REQUESTED
        )
        window = assignment.return_window
        actions = {
            "assignment": assignment,
            "acknowledge": fresh and state in TRANSITIONS["acknowledge"],
            "request_return": fresh
            and state in TRANSITIONS["request_return"]
            and window is not None
            and today <= window.due,
            "opinion": assignment.role == Assignment.Role.CO
            and state in TRANSITIONS["send_opinion"]
            and assignment.pk not in sent_opinion_ids,
            "contact": state in TRANSITIONS["record_contact"],
        }
        if any(value for key, value in actions.items() if key != "assignment"):
            units.append(actions)
    return {
        "edit": first and state == State.DRAFT,
        "submit": (first or committee) and state == State.DRAFT,
        "cosign": signer is not None
        and signer.position > 0
        and signer.status == ProposalSigner.Status.PENDING
        and state == State.AWAITING_COSIGNERS,
        "withdraw": (by_proposer and (first or committee))
        or (by_committee and (committee or first)),
        "withdraw_needs_comment": by_committee,
        "withdraw_is_request": by_committee and first and not committee,
        "review": committee and state == State.SUBMITTED,
        "assign": committee and state == State.ACCEPTED,
        "units": units,
    }


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
    signers = list(proposal.signers.select_related("proposer"))
    is_signer = proposer is not None and any(
        s.proposer_id == proposer.pk and s.status != ProposalSigner.Status.DECLINED for s in signers
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
        _deadline_notes(assignment, corrections)
    my_assignments = [a for a in assignments if a.is_active and a.unit_id in units]
    # The reply letters this viewer may open (replies decides), and the replying units
    # of the viewer that have no letter yet in this round.
    from replies.access import is_internal as is_internal_letter
    from replies.access import visible_letters

    letters = list(
        visible_letters(user)
        .filter(assignment__proposal=proposal)
        .select_related("assignment__unit")
        .order_by("round", "id")
    )
    lettered = {(letter.assignment_id, letter.round) for letter in letters}
    # Receipts: the units and the committee see them all, a proposer their own.
    from replies.models import Receipt

    receipts = []
    if letters:
        receipts = Receipt.objects.filter(letter__in=[letter.pk for letter in letters])
        if not (committee or is_unit_viewer):
            receipts = receipts.filter(proposer=proposer) if proposer else receipts.none()
        receipts = list(
            receipts.select_related("proposer", "letter").order_by("letter__round", "id")
        )
    drafting = [
        a
        for a in my_assignments
        if a.role != Assignment.Role.CO
        and a.round == proposal.current_round
        and (a.pk, a.round) not in lettered
        and proposal.state in (State.ASSIGNED, State.HANDLING)
    ]

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
    if committee or is_unit_viewer or is_signer:
        contacts = list(
            ContactRecord.objects.filter(assignment__proposal=proposal).select_related(
                "assignment__unit", "created_by"
            )
        )
    merged_in = list(proposal.merged_proposals.order_by("number", "id"))
    related = [p.pk for p in merged_in] + (
        [proposal.merged_into_id] if proposal.merged_into_id else []
    )
    # Linked only where the viewer may open them; the titles are shown either way.
    linkable = (
        set(visible_proposals(user).filter(pk__in=related).values_list("pk", flat=True))
        if related
        else set()
    )
    events = timeline(
        proposal.events.select_related("actor"),
        internal,
        {o.pk for o in opinions},
        {letter.pk for letter in letters if is_internal_letter(user, letter)},
    )
    return render(
        request,
        "work/proposal_detail.html",
        {
            "proposal": proposal,
            "signers": signers,
            "show_cosign_status": proposal.state in (State.DRAFT, State.AWAITING_COSIGNERS),
            "show_review": committee or is_signer,
            "internal": internal,
            "assignments": assignments,
            "opinions": opinions,
            "outstanding": outstanding,
            "show_outstanding": committee or is_lead_viewer,
            "contacts": contacts,
            "merged_in": merged_in,
            "linkable": linkable,
            "timeline": events,
            "today": deadlines.local_today(),
            "actions": available_actions(user, proposal, signers, my_assignments, sent_opinion_ids),
            "letters": letters,
            "drafting": drafting,
            "receipts": receipts,
        },
    )
