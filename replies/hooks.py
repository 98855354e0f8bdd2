"""What reply letters add to the proposal screens (see proposals.hooks), registered at start."""

import datetime

from django.db.models import Q
from django.utils.translation import pgettext_lazy

from accounts.models import Membership
from proposals import deadlines, hooks
from proposals.access import unit_ids
from proposals.models import Assignment, Proposal, Reminder

from . import access
from .models import Receipt, ReplyLetter

hooks.EVENT_LABELS.update(
    {
        "reply_drafted": pgettext_lazy("event", "Reply letter drafted"),
        "reply_submitted": pgettext_lazy("event", "Reply letter submitted for sign-off"),
        "reply_sent_back": pgettext_lazy("event", "Reply letter sent back"),
        "reply_signed": pgettext_lazy("event", "Reply letter signed off"),
        "reply_reopened": pgettext_lazy("event", "Signed reply letter reopened"),
        "reply_sent": pgettext_lazy("event", "Reply letter sent"),
        "reply_published": pgettext_lazy("event", "Reply letter published"),
        "reply_typo_corrected": pgettext_lazy(
            "event", "Typing errors corrected in the public reply"
        ),
        "correction_submitted": pgettext_lazy("event", "Correction submitted for sign-off"),
        "correction_sent_back": pgettext_lazy("event", "Correction sent back"),
        "reply_corrected": pgettext_lazy("event", "Correction signed off and sent"),
        "reply_unpublished": pgettext_lazy("event", "Reply taken off the public site"),
        "receipt_submitted": pgettext_lazy("event", "Receipt received"),
        "receipt_reminded": pgettext_lazy("event", "Receipt reminder sent"),
        "receipt_corrected": pgettext_lazy("event", "Paper receipt corrected"),
    }
)

# The drafting of a letter is the issuing unit's business (and the committee's) until sent.
DRAFTING_VERBS = frozenset(
    {
        "reply_drafted",
        "reply_submitted",
        "reply_sent_back",
        "reply_signed",
        "reply_reopened",
        "correction_submitted",
        "correction_sent_back",
    }
)
RECEIPT_VERBS = frozenset({"receipt_submitted", "receipt_reminded", "receipt_corrected"})


def proposal_letters(user, proposal):
    """The proposal's letters the user may read, with their units, by round.

    The proposal page's letters section and its timeline's rules both need them: they are
    read once and kept on the proposal object (per user), not queried for each."""
    kept = proposal.__dict__.setdefault("_visible_letters", {})
    if user.pk not in kept:
        kept[user.pk] = list(
            access.visible_letters(user)
            .filter(assignment__proposal=proposal)
            .select_related("assignment__unit")
            .order_by("round", "id")
        )
    return list(kept[user.pk])


@hooks.register("timeline_rules")
def timeline_rules(user, proposal, internal):
    """Letter drafting events for those who read the letter's working papers; another
    proposer's ratings and opinion for the committee and the units only."""
    insiders = {
        letter.pk for letter in proposal_letters(user, proposal) if access.is_internal(user, letter)
    }
    rules = {
        "replyletter": hooks.TimelineRule(
            internal_ids=insiders, internal_verbs=DRAFTING_VERBS, states=ReplyLetter.State
        )
    }
    if not internal:
        rules["receipt"] = hooks.TimelineRule(internal_verbs=RECEIPT_VERBS)
    return rules


@hooks.register("workspace_panels")
def signoff_panel(user):
    leading = unit_ids(user, Membership.Role.LEADER)
    if not leading:
        return None
    waiting = ReplyLetter.objects.filter(assignment__unit_id__in=leading).filter(
        Q(state=ReplyLetter.State.AWAITING_SIGNOFF)
        | Q(revisions__decision="", revisions__correction_reason__gt="")
    )
    return {"signoff": waiting.distinct().count()}


@hooks.register("proposal_page")
def letters_section(request, proposal, viewer):
    """The reply letters the viewer may open, their receipts, and "Draft the reply"."""
    letters = proposal_letters(viewer.user, proposal)
    lettered = {(letter.assignment_id, letter.round) for letter in letters}
    drafting = [
        a
        for a in viewer.my_assignments
        if a.role != Assignment.Role.CO
        and a.round == proposal.current_round
        and a.acknowledged_at is not None
        and (a.pk, a.round) not in lettered
        and proposal.state == Proposal.State.HANDLING
    ]
    receipts = []
    if letters:
        # The units and the committee see them all, a proposer their own.
        receipts = Receipt.objects.filter(letter__in=[letter.pk for letter in letters])
        if not viewer.internal:
            receipts = (
                receipts.filter(proposer=viewer.proposer) if viewer.proposer else receipts.none()
            )
        receipts = list(
            receipts.select_related("proposer", "letter").order_by("letter__round", "id")
        )
    if not (letters or drafting or receipts):
        return None
    return {
        "template": "replies/_proposal_section.html",
        "actions_template": "replies/_proposal_actions.html" if drafting else "",
        "has_actions": bool(drafting),
        "letters": letters,
        "drafting": drafting,
        "receipts": receipts,
    }


@hooks.register("reminder_items")
def publishing_deadlines(today, soon):
    """Sent replies not yet published: due 20 working days after sending (DESIGN.md)."""
    letters = (
        ReplyLetter.objects.filter(
            state=ReplyLetter.State.SENT,
            # Older than a year, a reply left unpublished was decided on long ago.
            sent_at__date__gte=today - datetime.timedelta(days=365),
        )
        .exclude(disclosure=ReplyLetter.Disclosure.NONE)
        .select_related("assignment__proposal", "assignment__unit")
        .order_by("sent_at")
    )
    letters = list(letters)
    if not letters:
        return []
    first = deadlines.as_local_date(letters[0].sent_at)
    corrections = deadlines.load_corrections(first, soon + datetime.timedelta(days=90))
    return [
        (
            letter.assignment,
            Reminder.Kind.PUBLISH,
            deadlines.publish_due(letter.sent_at, corrections).due,
        )
        for letter in letters
    ]
