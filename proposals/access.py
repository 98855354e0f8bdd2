"""Who may see and do what — the one place the proposals app checks access.

Committee staff see every proposal; a unit's people see the proposals assigned
to their unit; a proposer sees the proposals they are a proposer of. Everyone
else, nothing. What each of them reads of the history (`timeline`) and which
buttons they are offered (`available_actions`) are decided here too.
"""

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import pgettext_lazy

from accounts.access import is_committee  # noqa: F401 (the apps call access.is_committee)
from accounts.models import Membership

from . import hooks
from .models import Assignment, CoOpinion, Proposal, ProposalProposer
from .transitions import TRANSITIONS


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
                ProposalProposer.objects.filter(proposal=OuterRef("pk"), proposer=proposer).exclude(
                    status=ProposalProposer.Status.DECLINED
                )
            )
            # A draft is its first proposer's until submitted.
            & (
                ~Q(state=Proposal.State.DRAFT)
                | Q(
                    Exists(
                        ProposalProposer.objects.filter(
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
    except ObjectDoesNotExist:  # no profile; a database error is not "no profile"
        return None


def is_first_proposer(user, proposal):
    proposer = proposer_of(user)
    return proposer is not None and (
        proposal.proposer_list.filter(proposer=proposer, position=0).exists()
    )


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


# --- the history, as each viewer may read it --------------------------------------------------

hooks.EVENT_LABELS.update(
    {
        "created": pgettext_lazy("event", "Created"),
        "registered": pgettext_lazy("event", "Registered from paper"),
        "imported": pgettext_lazy("event", "Imported from a spreadsheet"),
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
        "deadline_changed": pgettext_lazy("event", "Deadline changed"),
        "deadline_extended": pgettext_lazy("event", "Deadline extended"),
        "deadline_recomputed": pgettext_lazy("event", "Deadline moved with the calendar"),
        "deadline_rule_changed": pgettext_lazy("event", "Deadline moved with a changed rule"),
        "opinion_sent": pgettext_lazy("event", "Co-handling opinion sent"),
        "contact_recorded": pgettext_lazy("event", "Contact with the proposer recorded"),
        "edited": pgettext_lazy("event", "Edited"),
        "changed_in_admin": pgettext_lazy("event", "Changed by an administrator"),
        "created_in_admin": pgettext_lazy("event", "Created by an administrator"),
        "replied": pgettext_lazy("event", "Replied"),
        "rehandling_ordered": pgettext_lazy("event", "Re-handling ordered"),
        "closed": pgettext_lazy("event", "Closed"),
        "key_marked": pgettext_lazy("event", "Marked as a key proposal"),
        "key_unmarked": pgettext_lazy("event", "No longer a key proposal"),
        "extension_requested": pgettext_lazy("event", "Extension requested"),
        "extension_approved": pgettext_lazy("event", "Extension approved"),
        "extension_refused": pgettext_lazy("event", "Extension refused"),
        "supervised": pgettext_lazy("event", "Supervision note (督办)"),
        "supervision_answered": pgettext_lazy("event", "Supervision answered"),
    }
)

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

# Between the units and the committee only: return requests, deadlines, administrators.
INTERNAL_VERBS = {
    "imported",
    "return_requested",
    "return_approved",
    "return_refused",
    "deadline_changed",
    "deadline_extended",
    "deadline_recomputed",
    "deadline_rule_changed",
    "extension_requested",
    "extension_approved",
    "extension_refused",
    "supervised",
    "supervision_answered",
    "changed_in_admin",
    "created_in_admin",
}


def timeline(user, proposal, events, internal, visible_opinion_ids):
    """The audit events of a proposal as the viewer may read them.

    `internal`: the viewer is committee staff or one of the proposal's units. Events about
    other apps' objects (reply letters, receipts) follow the rules those apps register.
    """
    rules = {}
    for answer in hooks.call("timeline_rules", user, proposal, internal):
        rules.update(answer)
    rows = []
    for event in events:
        rule = rules.get(event.object_type)
        if event.verb in INTERNAL_VERBS and not internal:
            continue
        if rule is not None and rule.hides(event):
            continue
        comment = event.comment
        # The comment names the opinion's title: only for those who may read the opinion.
        if event.verb == "opinion_sent" and event.object_id not in visible_opinion_ids:
            comment = ""
        # Comments meant for the units (assignment notes, deadlines) are not the proposer's.
        if not internal and event.verb not in PROPOSER_COMMENT_VERBS:
            comment = ""
        label_state = rule.state_label if rule is not None else _proposal_state_label
        # The labels are lazy translations, which the page would translate again each time
        # it tests or prints one (`default`, `!=`, the output): translated once here.
        rows.append(
            {
                "at": event.created_at,
                "actor": event.actor_name or event.actor,
                "verb": event.verb,
                "label": str(hooks.EVENT_LABELS.get(event.verb, event.verb)),
                "from_state": str(label_state(event.from_state)) if event.from_state else "",
                "to_state": str(label_state(event.to_state)) if event.to_state else "",
                "comment": comment,
            }
        )
    return rows


def _proposal_state_label(value):
    states = Proposal.State
    return states(value).label if value in states.values else value


# --- the buttons each viewer is offered ----------------------------------------------------------


def unit_actions(proposal, assignment, sent_opinion_ids, today):
    """What a unit's person may do on one of the unit's assignments now."""
    state = proposal.state
    acknowledged = assignment.acknowledged_at is not None
    waiting = assignment.return_status == Assignment.ReturnStatus.REQUESTED
    window = getattr(assignment, "return_window", None)
    current = assignment.is_active and assignment.round == proposal.current_round
    return {
        "assignment": assignment,
        "acknowledge": current
        and not acknowledged
        and not waiting
        and state in TRANSITIONS["acknowledge"],
        "request_return": current
        and not acknowledged
        and not waiting
        and state in TRANSITIONS["request_return"]
        and window is not None
        and today <= window.due,
        "opinion": current
        and assignment.role == Assignment.Role.CO
        and state in TRANSITIONS["send_opinion"]
        and assignment.pk not in sent_opinion_ids,
        # Contact comes with handling: after acknowledging, while the reply is written or read.
        "contact": current and acknowledged and state in TRANSITIONS["record_contact"],
        # 延期: set by the caller, `extension_waiting` and `extensions_left` on the assignment.
        "extension": current
        and acknowledged
        and assignment.role != Assignment.Role.CO
        and assignment.replied_at is None
        and state in TRANSITIONS["request_extension"]
        and not getattr(assignment, "extension_waiting", False)
        and getattr(assignment, "extensions_left", 0) > 0,
    }


def available_actions(user, proposal, entries, my_assignments, sent_opinion_ids, today=None):
    """The buttons this viewer may use on this proposal now (the services decide in the end).

    `entries`: the proposal's proposer list; `my_assignments`: the viewer's units'
    assignments of it.
    """
    state = proposal.state
    committee = is_committee(user)
    proposer = proposer_of(user)
    entry = next((e for e in entries if proposer and e.proposer_id == proposer.pk), None)
    first = entry is not None and entry.position == 0
    by_proposer = state in TRANSITIONS["withdraw_by_proposer"]
    by_committee = state in TRANSITIONS["withdraw_by_committee"]
    today = today or timezone.localdate()
    units = []
    for assignment in my_assignments:
        actions = unit_actions(proposal, assignment, sent_opinion_ids, today)
        if any(value for key, value in actions.items() if key != "assignment"):
            units.append(actions)
    return {
        "edit": first and state == Proposal.State.DRAFT,
        "submit": (first or committee) and state == Proposal.State.DRAFT,
        "cosign": entry is not None
        and entry.position > 0
        and entry.status == ProposalProposer.Status.PENDING
        and state == Proposal.State.AWAITING_COSIGNERS,
        "withdraw": (by_proposer and (first or committee))
        or (by_committee and (committee or first)),
        "withdraw_needs_comment": by_committee,
        "withdraw_is_request": by_committee and first and not committee,
        "review": committee and state == Proposal.State.SUBMITTED,
        "assign": committee and state == Proposal.State.ACCEPTED,
        "key": committee and state in TRANSITIONS["mark_key"],
        "supervise": committee and state in TRANSITIONS["supervise"],
        "units": units,
    }
