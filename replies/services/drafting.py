"""Drafting (起草) a reply letter and submitting it for sign-off (审签)."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Unit
from accounts.notifications import notify
from core.forms import date_window
from core.workflow import Refused
from proposals import access
from proposals.models import Assignment, ContactRecord, Proposal, ProposalProposer
from proposals.services import expect_reply
from proposals.workflow import unit_people

from ..models import ReplyLetter, ReplyRevision
from .base import (
    TRANSITIONS,
    State,
    check_expected,
    check_state,
    event,
    lock,
    require_handler,
    set_state,
)
from .text import round_suffix

EDITABLE_FIELDS = (
    "title",
    "salutation",
    "body",
    "result_class",
    "letter_date",
    "contact_person",
    "contact_phone",
    "disclosure",
    "public_summary",
    "nondisclosure_reason",
)

# Far beyond any real letter (the 069 letter has 3,351 characters), and small enough that
# rendering it as a PDF on demand stays quick.
MAX_BODY_CHARS = 30_000


# --- what a new draft starts from --------------------------------------------------------------


def receivers(proposal):
    """Everyone the reply goes to: each proposer who did not decline to co-sign, then the
    proposers of the proposals merged into this one."""
    entries = (
        ProposalProposer.objects.filter(
            proposal__in=[proposal.pk, *proposal.merged_proposals.values_list("pk", flat=True)]
        )
        .exclude(status=ProposalProposer.Status.DECLINED)
        .select_related("proposer")
        .order_by("proposal_id", "position")
    )
    return unique([entry.proposer for entry in entries])


def unique(seq):
    seen, out = set(), []
    for item in seq:
        if item.pk not in seen:
            seen.add(item.pk)
            out.append(item)
    return out


def salutation_for(proposal):
    """张华委员： / 张华、李四委员： / 民盟梁平区委："""
    proposers = [
        entry.proposer
        for entry in proposal.proposer_list.select_related("proposer").exclude(
            status=ProposalProposer.Status.DECLINED
        )
    ]
    members = [p.name for p in proposers if p.is_member]
    collectives = [p.name for p in proposers if not p.is_member]
    parts = []
    if members:
        parts.append("、".join(members) + "委员")
    parts.extend(collectives)
    return "、".join(parts) + "："


def title_for(assignment):
    proposal = assignment.proposal
    committee = proposal.session.term.committee
    return (
        f"{assignment.unit.name}关于政协{committee}{proposal.session}"
        f"{proposal.display_number}提案的答复函{round_suffix(assignment.round)}"
    )


def opening_for(assignment):
    proposal = assignment.proposal
    pronoun = "你" if proposal.proposer_list.count() <= 1 else "你们"
    number = proposal.display_number.removeprefix("第")
    co_units = [
        a.unit.short_name
        for a in proposal.assignments.filter(
            is_active=True, round=assignment.round, role=Assignment.Role.CO
        ).select_related("unit")
    ]
    opening = f"{pronoun}提出的《{proposal.title}》（第{number}提案）收悉，"
    if co_units:
        opening += f"经与{'、'.join(co_units)}等协办单位共同研究办理，"
    return opening + "现答复如下："


def default_cc_units(assignment):
    proposal = assignment.proposal
    co = Unit.objects.filter(
        assignments__proposal=proposal,
        assignments__round=assignment.round,
        assignments__role=Assignment.Role.CO,
        assignments__is_active=True,
    )
    offices = Unit.objects.filter(
        kind__in=[Unit.Kind.COMMITTEE, Unit.Kind.SUPERVISION], is_active=True
    )
    return unique([*co, *offices])


def outstanding_opinions(assignment):
    """The co-handling units of the letter's proposal and round whose opinion is not in."""
    if assignment.role != Assignment.Role.LEAD:
        return []
    return list(
        assignment.proposal.assignments.filter(
            is_active=True, round=assignment.round, role=Assignment.Role.CO
        )
        .exclude(opinion__sent_at__isnull=False)
        .select_related("unit")
    )


def has_contact(assignment):
    """Whether the unit recorded a contact with the proposer (沟通联系) for this assignment."""
    return ContactRecord.objects.filter(assignment=assignment).exists()


# --- drafting ----------------------------------------------------------------------------------


@transaction.atomic
def start_draft(assignment, actor):
    """Start the reply letter of a lead or split unit, prefilled from the case."""
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("unit", "proposal__session__term")
        .get(pk=assignment.pk)
    )
    if not access.is_unit_member(actor, assignment.unit_id, Membership.Role.HANDLER):
        raise Refused(_("Only a handler of %(unit)s can do this.") % {"unit": assignment.unit})
    proposal = Proposal.objects.select_for_update().get(pk=assignment.proposal_id)
    existing = ReplyLetter.objects.filter(assignment=assignment, round=assignment.round)
    if existing.exists():
        return existing.get()
    expect_reply(assignment, proposal)
    letter = ReplyLetter.objects.create(
        assignment=assignment,
        round=assignment.round,
        title=title_for(assignment),
        salutation=salutation_for(proposal),
        body=opening_for(assignment) + "\n\n",
        # The letter names a person: the handler's real name, never a login name.
        contact_person=actor.full_name,
        contact_phone=actor.phone,
        disclosure=(
            ReplyLetter.Disclosure.FULL
            if proposal.consent_to_publish
            else ReplyLetter.Disclosure.NONE
        ),
        nondisclosure_reason="" if proposal.consent_to_publish else proposal.no_publish_reason,
        drafted_by=actor,
    )
    letter.cc_units.set(default_cc_units(assignment))
    event(letter, actor, "reply_drafted", "", State.DRAFT)
    return letter


def check_body_length(body):
    if len(body) > MAX_BODY_CHARS:
        raise Refused(
            _("The letter is longer than %(count)s characters.") % {"count": MAX_BODY_CHARS}
        )


def next_revision_number(letter):
    last = letter.revisions.order_by("-number").values_list("number", flat=True).first()
    return (last or 0) + 1


def validate_letter(letter):
    if not letter.title.strip() or not letter.salutation.strip():
        raise Refused(_("The letter needs a title and a salutation."))
    if not letter.body.strip():
        raise Refused(_("The letter has no text."))
    check_body_length(letter.body)
    if letter.letter_date is not None:
        session = letter.assignment.proposal.session
        first, last = date_window(session.opened_on.year if session.opened_on else None)
        if not first <= letter.letter_date <= last:
            raise Refused(
                _("The date of the letter must be between %(first)s and %(last)s.")
                % {"first": first.isoformat(), "last": last.isoformat()}
            )
    if letter.disclosure == ReplyLetter.Disclosure.SUMMARY and not letter.public_summary.strip():
        raise Refused(_("Please write the summary to be published."))
    if letter.disclosure == ReplyLetter.Disclosure.NONE and not letter.nondisclosure_reason.strip():
        raise Refused(_("Please give the reason why the reply is not public."))
    check_consent(letter)


def check_consent(letter):
    """A proposer who did not consent to publication is never published."""
    proposal = letter.assignment.proposal
    if letter.disclosure != ReplyLetter.Disclosure.NONE and not proposal.consent_to_publish:
        raise Refused(
            _(
                "The proposer did not consent to publication (%(reason)s): "
                "the reply must be marked not public."
            )
            % {"reason": proposal.no_publish_reason or "—"}
        )


def why_not_editable(letter):
    """Why the letter's text cannot be changed now, or None while it is a draft."""
    if letter.state == State.SIGNED:
        return _(
            "The letter is signed and its text is frozen. Reopen it to change it; it must then be signed again."
        )
    if letter.state not in TRANSITIONS["save_draft"]:
        return _("This cannot be done while the letter is “%(state)s”.") % {
            "state": letter.get_state_display()
        }
    return None


@transaction.atomic
def save_draft(letter, actor, cc_units=None, **fields):
    """Change a draft's text. A signed letter is frozen: reopen it first."""
    letter = lock(letter)
    require_handler(actor, letter)
    why = why_not_editable(letter)
    if why:
        raise Refused(why)
    check_expected(letter)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {unknown}")
    check_body_length(fields.get("body", ""))
    for name, value in fields.items():
        setattr(letter, name, value)
    letter.save(update_fields=[*fields, "updated_at"])
    if cc_units is not None:
        letter.cc_units.set(cc_units)
    return letter


@transaction.atomic
def submit_for_signoff(letter, actor, outstanding_reason="", no_contact_reason=""):
    """Send the draft to the unit's leader; every submission keeps a revision.

    Two things the leader should know are asked for first: co-handling opinions still
    outstanding, and a reply drafted without any contact with the proposer (DESIGN.md:
    such a reply may be sent back). Either needs a reason, which the leader reads.
    """
    letter = lock(letter)
    require_handler(actor, letter)
    check_state(letter, "submit_for_signoff")
    check_expected(letter)
    validate_letter(letter)
    if not letter.result_class:
        raise Refused(_("Please choose the result class (A, B, C or D)."))
    outstanding = outstanding_opinions(letter.assignment)
    if outstanding and not outstanding_reason.strip():
        raise Refused(
            _(
                "Co-handling opinions are still outstanding from %(units)s. "
                "Wait for them, or record why the letter goes to sign-off now."
            )
            % {"units": "、".join(a.unit.short_name for a in outstanding)}
        )
    contacted = has_contact(letter.assignment)
    if not contacted and not no_contact_reason.strip():
        raise Refused(
            _(
                "No contact with the proposer is recorded. Record the contact (沟通联系) "
                "first, or say why the reply goes to sign-off without one."
            )
        )
    number = next_revision_number(letter)
    ReplyRevision.objects.create(
        letter=letter,
        number=number,
        title=letter.title,
        salutation=letter.salutation,
        body=letter.body,
        result_class=letter.result_class,
        submitted_by=actor,
        submitted_at=timezone.now(),
    )
    set_state(
        letter,
        State.AWAITING_SIGNOFF,
        outstanding_opinions_reason=outstanding_reason if outstanding else "",
        no_contact_reason="" if contacted else no_contact_reason,
    )
    notes = [outstanding_reason if outstanding else "", "" if contacted else no_contact_reason]
    event(
        letter,
        actor,
        "reply_submitted",
        State.DRAFT,
        State.AWAITING_SIGNOFF,
        "；".join(note for note in notes if note),
    )
    leaders = unit_people([letter.assignment.unit], Membership.Role.LEADER)
    message = _("The reply letter “%(title)s” waits for your sign-off (revision %(n)s).") % {
        "title": letter.title,
        "n": number,
    }
    if not contacted:
        message += " " + _("No contact with the proposer was recorded: %(reason)s") % {
            "reason": no_contact_reason
        }
    notify(leaders, "signoff_requested", message, letter.get_absolute_url())
    return letter


def diff_since_last_seen(letter):
    """(previous, current) revisions: what the signer saw last time, and what is new."""
    revisions = list(letter.revisions.order_by("-number"))
    if not revisions:
        return None, None
    current, older = revisions[0], revisions[1:]
    # The last revision a signer read; if none was read, the one before the current.
    previous = next((r for r in older if r.seen_by_signer_at), older[0] if older else None)
    return previous, current


def mark_seen(letter):
    letter.revisions.filter(seen_by_signer_at__isnull=True).update(seen_by_signer_at=timezone.now())
