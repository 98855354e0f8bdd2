"""Receipts (回执): each proposer's feedback on a sent letter, by personal link or on paper."""

import datetime

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.notifications import notify, notify_proposer
from core.workflow import Refused
from proposals import access, deadlines
from proposals.models import ContactRecord
from proposals.workflow import committee_people, record_event, unit_people

from ..models import Receipt, ReplyLetter
from .text import round_suffix

SENT_STATES = [ReplyLetter.State.SENT, ReplyLetter.State.PUBLISHED, ReplyLetter.State.UNPUBLISHED]

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
    if receipt.letter.sent_at is None:
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
    logged_in = actor is not None and actor.is_authenticated
    record_event(
        proposal,
        actor if logged_in else receipt.proposer.user,
        "receipt_submitted",
        comment="；".join(p for p in (summary, opinion) if p),
        obj=receipt,
        # Answered through the personal link: the proposer, not "the system".
        actor_name=""
        if logged_in
        else _("%(name)s (through the personal receipt link)") % {"name": receipt.proposer},
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
        [
            Receipt(letter=letter, session_id=letter.session_id, proposer=p, requested_at=now)
            for p in people
        ],
        ignore_conflicts=True,
    )
    proposal = letter.assignment.proposal
    for receipt in letter.receipts.select_related("proposer__user"):
        message = _(
            "%(unit)s replied to your proposal %(number)s “%(title)s”%(round)s. "
            "Please read the reply and fill in the receipt:"
        ) % {
            "unit": letter.assignment.unit.short_name,
            "number": proposal.display_number,
            "title": proposal.title,
            "round": round_suffix(letter.round),
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
        letter__sent_at__isnull=False,
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
                "Reminder: please fill in your receipt on the reply to %(number)s “%(title)s”%(round)s:"
            ) % {
                "number": proposal.display_number,
                "title": proposal.title,
                "round": round_suffix(receipt.letter.round),
            }
            notify_proposer(receipt.proposer, "receipt_reminder", message, receipt_url(receipt))
            record_event(
                proposal, None, "receipt_reminded", comment=str(receipt.proposer), obj=receipt
            )
            sent += 1
    return sent


RECEIPT_FIELDS = (
    "contacted",
    "contact_method",
    "leader_took_part",
    "attitude",
    "result",
    "opinion",
)


@transaction.atomic
def correct_paper_receipt(receipt, actor, reason, **values):
    """Committee staff correct what was typed from a paper receipt, with a reason.

    Only a paper receipt, whose form staff typed: an online receipt is the proposer's own
    word and is never changed. The event keeps the old and the new values.
    """
    if not access.is_committee(actor):
        raise Refused(_("Only committee staff correct paper receipts."))
    receipt = (
        Receipt.objects.select_for_update().select_related("letter__assignment").get(pk=receipt.pk)
    )
    if not receipt.is_submitted or receipt.channel != Receipt.Channel.PAPER:
        raise Refused(_("Only a submitted paper receipt can be corrected."))
    if not (reason or "").strip():
        raise Refused(_("Please give the reason for the correction."))
    unknown = set(values) - set(RECEIPT_FIELDS)
    if unknown:
        raise ValueError(f"Not correctable: {unknown}")
    attitude = values.get("attitude", receipt.attitude)
    result = values.get("result", receipt.result)
    opinion = values.get("opinion", receipt.opinion)
    if attitude not in attitude_ratings():
        raise Refused(_("Please rate the handling attitude."))
    if result not in result_ratings():
        raise Refused(_("Please rate the handling result."))
    if Receipt.Rating.DISSATISFIED in (attitude, result) and not opinion.strip():
        raise Refused(_("Please tell us why you are dissatisfied."))
    changes = []
    for name, value in values.items():
        old = getattr(receipt, name)
        if old != value:
            changes.append(f"{Receipt._meta.get_field(name).verbose_name}：{old} → {value}")
            setattr(receipt, name, value)
    if not changes:
        raise Refused(_("Nothing was changed."))
    receipt.save(update_fields=[*values])
    record_event(
        receipt.letter.assignment.proposal,
        actor,
        "receipt_corrected",
        comment="；".join([*changes, reason]),
        obj=receipt,
    )
    return receipt
