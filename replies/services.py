"""The reply-letter workflow: stages 6–7 of DESIGN.md, each transition once.

Views, admin actions and commands call these functions; none sets a status
field itself. Each checks the actor and the state, locks the row it changes,
writes an audit event on the proposal, and notifies after commit.

Allowed letter transitions (action: from → to):

    start_draft           (none) → draft            lead or split unit
    save_draft            draft → draft             the unit's people
    submit_for_signoff    draft → awaiting_signoff  the unit's people; keeps a revision
    send_back             awaiting_signoff → draft  a leader of the issuing unit, with a comment
    sign                  awaiting_signoff → signed a leader of the issuing unit; numbers it
    reopen                signed → draft            the unit's people, with a reason
    send                  signed → sent             the unit's people; the proposal is replied
    publish               sent → published          committee staff or the publish permission
    correct               published → published     the same; a new public version
    withdraw_publication  published → withdrawn     the same, with a reason
"""

import datetime
import re

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Unit
from accounts.notifications import notify, notify_proposer
from proposals import access, deadlines
from proposals.models import Assignment, ContactRecord, Proposal, ProposalSigner
from proposals.services import Refused, committee_people, record_event, unit_people

from .models import DocNumberSequence, Publication, Receipt, ReplyLetter, ReplyRevision

State = ReplyLetter.State

TRANSITIONS = {
    "save_draft": {State.DRAFT},
    "submit_for_signoff": {State.DRAFT},
    "send_back": {State.AWAITING_SIGNOFF},
    "sign": {State.AWAITING_SIGNOFF},
    "reopen": {State.SIGNED},
    "send": {State.SIGNED},
    "publish": {State.SENT, State.WITHDRAWN},
    "correct": {State.PUBLISHED},
    "withdraw_publication": {State.PUBLISHED},
}

RECEIPT_INVITATION = "对以上答复有什么意见，请填写在答复函回执单上，以便进一步改进工作。"
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


def _lock(letter):
    return (
        ReplyLetter.objects.select_for_update()
        .select_related("assignment__unit", "assignment__proposal")
        .get(pk=letter.pk)
    )


def _check_state(letter, action):
    if letter.state not in TRANSITIONS[action]:
        raise Refused(
            _("This cannot be done while the letter is “%(state)s”.")
            % {"state": letter.get_state_display()}
        )


def _require_unit(actor, letter):
    if not access.is_unit_member(actor, letter.assignment.unit_id):
        raise Refused(
            _("Only the people of %(unit)s can do this.") % {"unit": letter.assignment.unit}
        )


def _require_leader(actor, letter):
    if not access.is_unit_leader(actor, letter.assignment.unit_id):
        raise Refused(
            _("Only a leader of %(unit)s can sign off its letters.")
            % {"unit": letter.assignment.unit}
        )


def can_publish(user):
    return access.is_committee(user) or user.has_perm("replies.publish_replyletter")


def _require_publisher(actor):
    if not can_publish(actor):
        raise Refused(_("You may not publish reply letters."))


def _event(letter, actor, verb, from_state="", to_state="", comment=""):
    record_event(letter.assignment.proposal, actor, verb, from_state, to_state, comment, obj=letter)


def _set_state(letter, to_state, **fields):
    letter.state = to_state
    for name, value in fields.items():
        setattr(letter, name, value)
    letter.save(update_fields=["state", "updated_at", *fields])


# --- what a new draft starts from --------------------------------------------------------------


def receivers(proposal):
    """Everyone the reply goes to: each proposer who did not decline to co-sign, then the
    proposers of the proposals merged into this one."""
    signers = (
        ProposalSigner.objects.filter(
            proposal__in=[proposal.pk, *proposal.merged_proposals.values_list("pk", flat=True)]
        )
        .exclude(status=ProposalSigner.Status.DECLINED)
        .select_related("proposer")
        .order_by("proposal_id", "position")
    )
    return _unique([s.proposer for s in signers])


def _unique(seq):
    seen, out = set(), []
    for item in seq:
        if item.pk not in seen:
            seen.add(item.pk)
            out.append(item)
    return out


def salutation_for(proposal):
    """张华委员： / 张华、李四委员： / 民盟梁平区委："""
    signers = [
        s.proposer for s in proposal.signers.select_related("proposer").exclude(status="declined")
    ]
    members = [p.name for p in signers if p.is_member]
    collectives = [p.name for p in signers if not p.is_member]
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
        f"{proposal.display_number}提案的答复函"
    )


def opening_for(assignment):
    proposal = assignment.proposal
    pronoun = "你" if proposal.signers.count() <= 1 else "你们"
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
    return _unique([*co, *offices])


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


# --- drafting ----------------------------------------------------------------------------------


@transaction.atomic
def start_draft(assignment, actor):
    """Start the reply letter of a lead or split unit, prefilled from the case."""
    assignment = (
        Assignment.objects.select_for_update()
        .select_related("unit", "proposal__session__term")
        .get(pk=assignment.pk)
    )
    if not access.is_unit_member(actor, assignment.unit_id):
        raise Refused(_("Only the people of %(unit)s can do this.") % {"unit": assignment.unit})
    if not assignment.is_active or assignment.role == Assignment.Role.CO:
        raise Refused(_("Only the lead unit (or each unit in split handling) drafts the reply."))
    proposal = Proposal.objects.select_for_update().get(pk=assignment.proposal_id)
    if proposal.state not in (Proposal.State.ASSIGNED, Proposal.State.HANDLING):
        raise Refused(
            _("A reply cannot be drafted while the proposal is “%(state)s”.")
            % {"state": proposal.get_state_display()}
        )
    existing = ReplyLetter.objects.filter(assignment=assignment, round=proposal.current_round)
    if existing.exists():
        return existing.get()
    letter = ReplyLetter.objects.create(
        assignment=assignment,
        round=proposal.current_round,
        title=title_for(assignment),
        salutation=salutation_for(proposal),
        body=opening_for(assignment) + "\n\n",
        contact_person=actor.get_full_name(),
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
    _event(letter, actor, "reply_drafted", "", State.DRAFT)
    return letter


def _validate_letter(letter):
    if not letter.title.strip() or not letter.salutation.strip():
        raise Refused(_("The letter needs a title and a salutation."))
    if not letter.body.strip():
        raise Refused(_("The letter has no text."))
    if letter.disclosure == ReplyLetter.Disclosure.SUMMARY and not letter.public_summary.strip():
        raise Refused(_("Please write the summary to be published."))
    if letter.disclosure == ReplyLetter.Disclosure.NONE and not letter.nondisclosure_reason.strip():
        raise Refused(_("Please give the reason why the reply is not public."))
    _check_consent(letter)


def _check_consent(letter):
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
    letter = _lock(letter)
    _require_unit(actor, letter)
    why = why_not_editable(letter)
    if why:
        raise Refused(why)
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {unknown}")
    for name, value in fields.items():
        setattr(letter, name, value)
    letter.save(update_fields=[*fields, "updated_at"])
    if cc_units is not None:
        letter.cc_units.set(cc_units)
    return letter


@transaction.atomic
def submit_for_signoff(letter, actor, outstanding_reason=""):
    """Send the draft to the unit's leader; every submission keeps a revision."""
    letter = _lock(letter)
    _require_unit(actor, letter)
    _check_state(letter, "submit_for_signoff")
    _validate_letter(letter)
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
    number = (
        letter.revisions.order_by("-number").values_list("number", flat=True).first() or 0
    ) + 1
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
    _set_state(
        letter,
        State.AWAITING_SIGNOFF,
        outstanding_opinions_reason=outstanding_reason if outstanding else "",
    )
    _event(
        letter,
        actor,
        "reply_submitted",
        State.DRAFT,
        State.AWAITING_SIGNOFF,
        outstanding_reason if outstanding else "",
    )
    leaders = unit_people([letter.assignment.unit], Membership.Role.LEADER)
    notify(
        leaders,
        "signoff_requested",
        _("The reply letter “%(title)s” waits for your sign-off (revision %(n)s).")
        % {"title": letter.title, "n": number},
        letter.get_absolute_url(),
    )
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


def _mark_seen(letter):
    letter.revisions.filter(seen_by_signer_at__isnull=True).update(seen_by_signer_at=timezone.now())


# --- sign-off ----------------------------------------------------------------------------------


@transaction.atomic
def send_back(letter, actor, comment):
    """The leader sends the draft back with a comment the drafter sees."""
    letter = _lock(letter)
    _require_leader(actor, letter)
    _check_state(letter, "send_back")
    if not comment.strip():
        raise Refused(_("Please say what should change."))
    _mark_seen(letter)
    _set_state(letter, State.DRAFT, signoff_comment=comment)
    _event(letter, actor, "reply_sent_back", State.AWAITING_SIGNOFF, State.DRAFT, comment)
    recipients = [u for u in [letter.drafted_by] if u] or list(
        unit_people([letter.assignment.unit], Membership.Role.HANDLER)
    )
    notify(
        recipients,
        "reply_sent_back",
        _("%(leader)s sent the reply letter “%(title)s” back: %(comment)s")
        % {"leader": actor, "title": letter.title, "comment": comment},
        letter.get_absolute_url(),
    )
    return letter


def next_doc_number(unit, year):
    """The unit's next document number this year; the sequence row is locked, so never reused."""
    if not unit.doc_number_template:
        return ""
    sequence, _created = DocNumberSequence.objects.select_for_update().get_or_create(
        unit=unit, year=year
    )
    sequence.last += 1
    sequence.save(update_fields=["last"])
    return unit.doc_number_template.format(year=year, n=sequence.last)


def attestation_for(unit, title):
    return f"此答复函已经{unit.short_name}{title or '领导'}审签。"


@transaction.atomic
def sign(letter, actor):
    """审签: the leader signs; the text freezes, the letter gets its number and attestation."""
    letter = _lock(letter)
    _require_leader(actor, letter)
    _check_state(letter, "sign")
    unit = letter.assignment.unit
    membership = Membership.objects.filter(
        user=actor, unit=unit, role=Membership.Role.LEADER
    ).first()
    title = membership.title if membership else ""
    now = timezone.now()
    today = timezone.localdate(now)
    doc_number = letter.doc_number or next_doc_number(unit, today.year)
    _mark_seen(letter)
    _set_state(
        letter,
        State.SIGNED,
        signed_by=actor,
        signed_at=now,
        signer_title=title,
        attestation=attestation_for(unit, title),
        doc_number=doc_number,
        letter_date=letter.letter_date or today,
        signoff_comment="",
    )
    _event(letter, actor, "reply_signed", State.AWAITING_SIGNOFF, State.SIGNED, doc_number)
    notify(
        [u for u in [letter.drafted_by] if u],
        "reply_signed",
        _("%(leader)s signed the reply letter “%(title)s” (%(number)s).")
        % {"leader": actor, "title": letter.title, "number": doc_number},
        letter.get_absolute_url(),
    )
    return letter


@transaction.atomic
def reopen(letter, actor, reason):
    """Change a signed letter: it goes back to draft and needs signing again."""
    letter = _lock(letter)
    _require_unit(actor, letter)
    _check_state(letter, "reopen")
    if not reason.strip():
        raise Refused(_("Please give the reason for changing a signed letter."))
    _set_state(letter, State.DRAFT, signed_by=None, signed_at=None, attestation="")
    _event(letter, actor, "reply_reopened", State.SIGNED, State.DRAFT, reason)
    return letter


# --- sending and publishing -------------------------------------------------------------------


@transaction.atomic
def send(letter, actor):
    """送达: to every proposer (and merged proposals' proposers), copied to the cc units."""
    letter = _lock(letter)
    _require_unit(actor, letter)
    _check_state(letter, "send")
    now = timezone.now()
    _set_state(letter, State.SENT, sent_at=now)
    proposal = Proposal.objects.select_for_update().get(pk=letter.assignment.proposal_id)
    people = receivers(proposal)
    _event(letter, actor, "reply_sent", State.SIGNED, State.SENT, letter.doc_number)
    # The proposal is replied once every replying unit of this round has sent its letter.
    replying = proposal.assignments.filter(
        is_active=True, round=letter.round, role__in=[Assignment.Role.LEAD, Assignment.Role.SPLIT]
    )
    unsent = replying.exclude(letters__round=letter.round, letters__sent_at__isnull=False).exists()
    if not unsent and proposal.state == Proposal.State.HANDLING:
        proposal.state = Proposal.State.REPLIED
        proposal.save(update_fields=["state", "updated_at"])
        record_event(proposal, actor, "replied", Proposal.State.HANDLING, Proposal.State.REPLIED)
    request_receipts(letter, people, now)
    cc = list(letter.cc_units.all())
    notify(
        unit_people(cc),
        "reply_copied",
        _("Copy: %(unit)s replied to %(number)s “%(title)s”.")
        % {
            "unit": letter.assignment.unit.short_name,
            "number": proposal.display_number,
            "title": proposal.title,
        },
        proposal.get_absolute_url(),
    )
    return letter


def public_text(letter):
    if letter.disclosure == ReplyLetter.Disclosure.SUMMARY:
        return letter.public_summary
    return letter.body


@transaction.atomic
def publish(letter, actor):
    """公开, as the letter's disclosure says; a not-public letter is refused."""
    _require_publisher(actor)
    letter = _lock(letter)
    _check_state(letter, "publish")
    if letter.disclosure == ReplyLetter.Disclosure.NONE:
        raise Refused(
            _("This reply is not public: %(reason)s") % {"reason": letter.nondisclosure_reason}
        )
    _check_consent(letter)
    now = timezone.now()
    version = (
        letter.publications.order_by("-version").values_list("version", flat=True).first() or 0
    ) + 1
    Publication.objects.create(
        letter=letter,
        version=version,
        title=letter.title,
        text=public_text(letter),
        published_at=now,
        published_by=actor,
    )
    from_state = letter.state
    _set_state(letter, State.PUBLISHED, published_at=now)
    _event(letter, actor, "reply_published", from_state, State.PUBLISHED)
    return letter


def current_publication(letter):
    return letter.publications.filter(withdrawn_at__isnull=True).order_by("-version").first()


@transaction.atomic
def correct(letter, actor, reason, title=None, text=None):
    """Correct a published reply: a new public version, the old ones kept."""
    _require_publisher(actor)
    letter = _lock(letter)
    _check_state(letter, "correct")
    if not reason.strip():
        raise Refused(_("Please give the reason for the correction."))
    current = current_publication(letter)
    now = timezone.now()
    if current:
        current.withdrawn_at = now
        current.withdraw_reason = reason
        current.save(update_fields=["withdrawn_at", "withdraw_reason"])
    version = (current.version if current else 0) + 1
    Publication.objects.create(
        letter=letter,
        version=version,
        title=title or (current.title if current else letter.title),
        text=text or (current.text if current else public_text(letter)),
        published_at=now,
        published_by=actor,
        reason=reason,
    )
    letter.save(update_fields=["updated_at"])
    _event(letter, actor, "reply_corrected", comment=reason)
    return letter


@transaction.atomic
def withdraw_publication(letter, actor, reason):
    """撤回 a published reply from the public site, with a reason; the history stays."""
    _require_publisher(actor)
    letter = _lock(letter)
    _check_state(letter, "withdraw_publication")
    if not reason.strip():
        raise Refused(_("Please give the reason for the withdrawal."))
    letter.publications.filter(withdrawn_at__isnull=True).update(
        withdrawn_at=timezone.now(), withdraw_reason=reason
    )
    _set_state(letter, State.WITHDRAWN)
    _event(letter, actor, "reply_withdrawn", State.PUBLISHED, State.WITHDRAWN, reason)
    return letter


# 一、 … 十二、: a first-level heading when the paragraph is short.
SECTION_HEADING = re.compile(r"^[一二三四五六七八九十]+、")
SECTION_HEADING_MAX_CHARS = 40


def letter_paragraphs(body):
    """A plain-text body as [(kind, text)], kind "heading" or "para": one per non-blank line.

    The one reading of a letter's text, for the staff page, the diff, the public page,
    the receipt page and the PDF alike.
    """
    paragraphs = []
    for line in body.splitlines():
        text = line.strip()
        if not text:
            continue
        is_heading = SECTION_HEADING.match(text) and len(text) < SECTION_HEADING_MAX_CHARS
        paragraphs.append(("heading" if is_heading else "para", text))
    return paragraphs


# --- receipts (回执) -------------------------------------------------------------------------

RECEIPT_SALT = "replies.receipt"


class BadReceiptLink(Exception):
    """A receipt link that is forged, altered, or no longer valid; `reason` says which."""

    def __init__(self, reason, receipt=None):
        super().__init__(reason)
        self.reason = reason  # "invalid" | "expired"
        self.receipt = receipt  # for "expired" only: whose link it was, to say whom to ask


def receipt_token(receipt):
    """The personal, unguessable link token: signed, bound to one receipt (proposer × round)."""
    # No timestamp: the same link in the message, the reminder and the QR code. Expiry is
    # counted from the sending date instead (receipt_link_expired).
    return signing.Signer(salt=RECEIPT_SALT).sign_object(
        {"r": receipt.pk, "p": receipt.proposer_id}
    )


def receipt_from_token(token):
    """The receipt a token opens, or BadReceiptLink. Never reveals another proposer's data."""
    try:
        data = signing.Signer(salt=RECEIPT_SALT).unsign_object(token)
        receipt = Receipt.objects.select_related(
            "letter__assignment__unit", "letter__assignment__proposal", "proposer"
        ).get(pk=data["r"], proposer_id=data["p"])
    except (signing.BadSignature, KeyError, TypeError, ValueError, Receipt.DoesNotExist):
        raise BadReceiptLink("invalid") from None
    if receipt.letter.state not in (State.SENT, State.PUBLISHED, State.WITHDRAWN):
        raise BadReceiptLink("invalid")
    if not receipt.is_submitted and receipt_link_expired(receipt):
        raise BadReceiptLink("expired", receipt)
    return receipt


def receipt_link_expires_on(receipt):
    sent = timezone.localdate(receipt.letter.sent_at or receipt.requested_at or timezone.now())
    return sent + datetime.timedelta(days=settings.TIAN["RECEIPT_LINK_DAYS"])


def receipt_link_expired(receipt, today=None):
    return (today or timezone.localdate()) > receipt_link_expires_on(receipt)


def receipt_url(receipt):
    return reverse("receipts:form", args=[receipt_token(receipt)])


def result_ratings():
    """The ratings offered for the handling result; 理解 only where configured."""
    ratings = [Receipt.Rating.SATISFIED, Receipt.Rating.BASICALLY]
    if settings.TIAN.get("RESULT_RATING_UNDERSTAND"):
        ratings.append(Receipt.Rating.UNDERSTAND)
    return [*ratings, Receipt.Rating.DISSATISFIED]


def attitude_ratings():
    return [Receipt.Rating.SATISFIED, Receipt.Rating.BASICALLY, Receipt.Rating.DISSATISFIED]


@transaction.atomic
def submit_receipt(
    receipt,
    actor=None,
    *,
    attitude,
    result,
    contacted=None,
    contact_method="",
    leader_took_part=None,
    opinion="",
    channel=Receipt.Channel.ONLINE,
):
    """A proposer's receipt, online (through their link or logged in) or from paper by staff.

    Accepts one submission: a second one is refused and changes nothing.
    """
    receipt = (
        Receipt.objects.select_for_update().select_related("letter__assignment").get(pk=receipt.pk)
    )
    if receipt.is_submitted:
        raise Refused(_("This receipt was already submitted."))
    if channel == Receipt.Channel.PAPER:
        # Not the handling unit: it would be rating its own work.
        if actor is None or not access.is_committee(actor):
            raise Refused(_("Only committee staff enter paper receipts."))
    elif actor is not None and actor.is_authenticated:
        proposer = access.proposer_of(actor)
        if proposer is None or proposer.pk != receipt.proposer_id:
            raise Refused(_("This receipt belongs to another proposer."))
    if attitude not in attitude_ratings():
        raise Refused(_("Please rate the handling attitude."))
    if result not in result_ratings():
        raise Refused(_("Please rate the handling result."))
    dissatisfied = Receipt.Rating.DISSATISFIED in (attitude, result)
    if dissatisfied and not opinion.strip():
        raise Refused(_("Please tell us why you are dissatisfied."))
    if contact_method and contact_method not in ContactRecord.Method.values:
        raise Refused(_("Choose how you were contacted."))
    receipt.attitude = attitude
    receipt.result = result
    receipt.contacted = contacted
    receipt.contact_method = contact_method if contacted else ""
    receipt.leader_took_part = leader_took_part if contacted else None
    receipt.opinion = opinion
    receipt.channel = channel
    receipt.entered_by = actor if channel == Receipt.Channel.PAPER else None
    receipt.submitted_at = timezone.now()
    receipt.save()
    letter = receipt.letter
    proposal = letter.assignment.proposal
    summary = _("%(proposer)s: attitude %(attitude)s, result %(result)s") % {
        "proposer": receipt.proposer,
        "attitude": receipt.get_attitude_display(),
        "result": receipt.get_result_display(),
    }
    record_event(
        proposal,
        actor if actor is not None and actor.is_authenticated else None,
        "receipt_submitted",
        comment="；".join(p for p in (summary, opinion) if p),
        obj=receipt,
    )
    recipients = list(unit_people([letter.assignment.unit]))
    if dissatisfied:
        recipients += list(committee_people())
    notify(
        recipients,
        "receipt_dissatisfied" if dissatisfied else "receipt_submitted",
        _("Receipt on %(number)s “%(title)s” — %(summary)s")
        % {"number": proposal.display_number, "title": proposal.title, "summary": summary},
        proposal.get_absolute_url(),
    )
    return receipt


def request_receipts(letter, people, now):
    """Create the pending receipts of a sent letter and send each proposer their own link."""
    Receipt.objects.bulk_create(
        [Receipt(letter=letter, proposer=p, requested_at=now) for p in people],
        ignore_conflicts=True,
    )
    proposal = letter.assignment.proposal
    for receipt in letter.receipts.select_related("proposer__user"):
        message = _(
            "%(unit)s replied to your proposal %(number)s “%(title)s”. "
            "Please read the reply and fill in the receipt:"
        ) % {
            "unit": letter.assignment.unit.short_name,
            "number": proposal.display_number,
            "title": proposal.title,
        }
        notify_proposer(receipt.proposer, "reply_received", message, receipt_url(receipt))


def send_receipt_reminders(today=None):
    """Remind each proposer who has not answered after the configured working days — once.

    Run daily (management command `send_receipt_reminders`). Returns the number sent.
    """
    today = today or timezone.localdate()
    days = settings.TIAN["RECEIPT_REMINDER_WORKING_DAYS"]
    sent = 0
    pending = Receipt.objects.filter(
        submitted_at__isnull=True,
        reminded_at__isnull=True,
        letter__state__in=[State.SENT, State.PUBLISHED, State.WITHDRAWN],
    ).select_related("letter__assignment__proposal", "letter__assignment__unit", "proposer__user")
    for receipt in pending.iterator(chunk_size=500):
        asked = timezone.localdate(receipt.requested_at or receipt.letter.sent_at)
        if deadlines.add_working_days(asked, days) > today or receipt_link_expired(receipt, today):
            continue
        with transaction.atomic():
            # Claim the reminder first: a second run (or a parallel one) finds it taken.
            claimed = Receipt.objects.filter(pk=receipt.pk, reminded_at__isnull=True).update(
                reminded_at=timezone.now()
            )
            if not claimed:
                continue
            proposal = receipt.letter.assignment.proposal
            message = _(
                "Reminder: please fill in your receipt on the reply to %(number)s “%(title)s”:"
            ) % {"number": proposal.display_number, "title": proposal.title}
            notify_proposer(receipt.proposer, "receipt_reminder", message, receipt_url(receipt))
            record_event(
                proposal, None, "receipt_reminded", comment=str(receipt.proposer), obj=receipt
            )
            sent += 1
    return sent
