"""Sending (送达), publishing (公开), and correcting a letter once it is out.

Two kinds of correction, decided by what changes (README, "Corrections"):

- A correction of typing errors (`correct_typo`): a publisher of the letter changes a few
  characters of the public text and no figure. The page then says so — 更正说明：…，更正于… —
  and the version the leader signed stays one click away.
- A correction of substance (`propose_correction` → `sign_correction`): anything larger,
  any figure, the result class. The unit's people submit the corrected text with a reason;
  the unit's leader reads what changed and signs it (or sends it back), exactly as a draft.
  The signed correction is sent to the proposers again and, if the reply is public,
  replaces the public text.
"""

import difflib
import re

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.notifications import notify, notify_proposer
from core.workflow import Refused
from proposals.models import Proposal
from proposals.services import mark_replied
from proposals.workflow import unit_people

from ..models import Publication, ReplyLetter, ReplyRevision
from ..public_cache import public_column_changed
from ..search import letter_changed
from .base import (
    State,
    check_expected,
    check_state,
    event,
    lock,
    require_handler,
    require_leader,
    require_publisher,
    set_state,
)
from .drafting import (
    MAX_BODY_CHARS,
    check_body_length,
    check_consent,
    next_revision_number,
    receivers,
)
from .receipts import receipt_url, request_receipts
from .signoff import attestation_for, decide, leader_title
from .text import round_suffix

# --- sending -------------------------------------------------------------------------------------


@transaction.atomic
def send(letter, actor):
    """送达: to every proposer (and merged proposals' proposers), copied to the cc units."""
    letter = lock(letter)
    require_handler(actor, letter)
    check_state(letter, "send")
    check_expected(letter)
    now = timezone.now()
    proposal = Proposal.objects.select_for_update().get(pk=letter.assignment.proposal_id)
    set_state(letter, State.SENT, sent_at=now)
    event(letter, actor, "reply_sent", State.SIGNED, State.SENT, letter.doc_number)
    # The proposal is replied once every replying unit of this round has sent its letter.
    mark_replied(proposal, actor, letter.assignment, now)
    request_receipts(letter, receivers(proposal), now)
    _copy_to_units(
        letter, proposal, _("Copy: %(unit)s replied to %(number)s “%(title)s”%(round)s.")
    )
    return letter


def _copy_to_units(letter, proposal, template):
    notify(
        unit_people(list(letter.cc_units.all())),
        "reply_copied",
        template
        % {
            "unit": letter.assignment.unit.short_name,
            "number": proposal.display_number,
            "title": proposal.title,
            "round": round_suffix(letter.round),
        },
        proposal.get_absolute_url(),
    )


# --- publishing ------------------------------------------------------------------------------------


def public_text(letter):
    if letter.disclosure == ReplyLetter.Disclosure.SUMMARY:
        return letter.public_summary
    return letter.body


def current_publication(letter):
    return letter.publications.filter(ended_at__isnull=True).order_by("-version").first()


def _next_version(letter):
    last = letter.publications.order_by("-version").values_list("version", flat=True).first()
    return (last or 0) + 1


def _end_current(letter, now, reason):
    letter.publications.filter(ended_at__isnull=True).update(ended_at=now, end_reason=reason)


def _publish_version(letter, actor, now, kind, title, text, reason=""):
    _end_current(letter, now, reason)
    return Publication.objects.create(
        letter=letter,
        version=_next_version(letter),
        kind=kind,
        title=title,
        text=text,
        letter_date=letter.letter_date,
        attestation=letter.attestation,
        unit_name=letter.assignment.unit.name,
        published_at=now,
        published_by=actor,
        reason=reason,
    )


@transaction.atomic
def publish(letter, actor):
    """公开, as the letter's disclosure says; a not-public letter is refused."""
    letter = lock(letter)
    require_publisher(actor, letter)
    check_state(letter, "publish")
    if letter.disclosure == ReplyLetter.Disclosure.NONE:
        raise Refused(
            _("This reply is not public: %(reason)s") % {"reason": letter.nondisclosure_reason}
        )
    check_consent(letter)
    now = timezone.now()
    _publish_version(letter, actor, now, Publication.Kind.SIGNED, letter.title, public_text(letter))
    from_state = letter.state
    set_state(letter, State.PUBLISHED, published_at=now, is_public=True)
    event(letter, actor, "reply_published", from_state, State.PUBLISHED)
    public_column_changed()
    return letter


@transaction.atomic
def unpublish(letter, actor, reason):
    """撤回公开: take a published reply off the public site, with a reason; the history stays."""
    letter = lock(letter)
    require_publisher(actor, letter)
    check_state(letter, "unpublish")
    reason = check_reason(
        reason, _("Please give the reason for taking the reply off the public site.")
    )
    _end_current(letter, timezone.now(), reason)
    set_state(letter, State.UNPUBLISHED, is_public=False)
    event(letter, actor, "reply_unpublished", State.PUBLISHED, State.UNPUBLISHED, reason)
    public_column_changed()
    return letter


# --- correcting typing errors --------------------------------------------------------------------


REASON_MAX = Publication._meta.get_field("reason").max_length


def check_reason(reason, refusal):
    """A reason is given, and fits where it is kept (the publication's 200 characters)."""
    reason = (reason or "").strip()
    if not reason:
        raise Refused(refusal)
    if len(reason) > REASON_MAX:
        raise Refused(_("Please keep the reason within %(n)s characters.") % {"n": REASON_MAX})
    return reason


DIGITS = re.compile(r"[0-9０-９〇零一二三四五六七八九十百千万亿]")


def typo_limit():
    return settings.TIAN["TYPO_CORRECTION_MAX_CHARS"]


def changed_characters(old, new):
    """How many characters a correction changes, and the changed pieces, old and new."""
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    count, removed, added = 0, [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            continue
        count += max(i2 - i1, j2 - j1)
        removed.append(old[i1:i2])
        added.append(new[j1:j2])
    return count, "".join(removed), "".join(added)


def why_not_a_typo(old_title, old_text, new_title, new_text):
    """Why a correction is one of substance (needs the leader's sign-off), or None."""
    if len(new_text) > MAX_BODY_CHARS:
        return _("The text is longer than %(count)s characters.") % {"count": MAX_BODY_CHARS}
    total, removed, added = 0, "", ""
    for old, new in ((old_title, new_title), (old_text, new_text)):
        count, gone, came = changed_characters(old, new)
        total, removed, added = total + count, removed + gone, added + came
    if total == 0:
        return _("Nothing was changed.")
    if DIGITS.search(removed) or DIGITS.search(added):
        return _(
            "A figure, date or number changes: that is a correction of substance, which the "
            "unit corrects and its leader signs again."
        )
    if total > typo_limit():
        return _(
            "%(count)s characters change; a correction of typing errors changes at most "
            "%(limit)s. A larger change is one of substance, which the unit corrects and its "
            "leader signs again."
        ) % {"count": total, "limit": typo_limit()}
    return None


@transaction.atomic
def correct_typo(letter, actor, reason, title=None, text=None):
    """更正 typing errors in a published reply: a new public version, marked as such."""
    letter = lock(letter)
    require_publisher(actor, letter)
    check_state(letter, "correct_typo")
    reason = check_reason(reason, _("Please give the reason for the correction."))
    current = current_publication(letter)
    if current is None:
        raise Refused(_("The reply has no public text to correct."))
    new_title = title or current.title
    new_text = text or current.text
    why = why_not_a_typo(current.title, current.text, new_title, new_text)
    if why:
        raise Refused(why)
    now = timezone.now()
    version = _publish_version(
        letter, actor, now, Publication.Kind.TYPO, new_title, new_text, reason
    )
    # The letter's own date and attestation are the signed ones; keep them on the version.
    Publication.objects.filter(pk=version.pk).update(
        letter_date=current.letter_date,
        attestation=current.attestation,
        unit_name=current.unit_name,
    )
    letter.save(update_fields=["updated_at"])
    event(letter, actor, "reply_typo_corrected", comment=reason)
    letter_changed(letter)
    public_column_changed()
    return letter


def signed_publication(letter, before=None):
    """The latest public version as the leader signed it (before version `before`)."""
    versions = letter.publications.filter(kind=Publication.Kind.SIGNED)
    if before is not None:
        versions = versions.filter(version__lt=before)
    return versions.order_by("-version").first()


# --- correcting substance: signed again ----------------------------------------------------------


def pending_correction(letter):
    return (
        letter.revisions.exclude(correction_reason="")
        .filter(decision="")
        .order_by("-number")
        .first()
    )


@transaction.atomic
def propose_correction(letter, actor, reason, title, salutation, body, result_class):
    """The unit submits the corrected text of a sent letter to its leader, with a reason."""
    letter = lock(letter)
    require_handler(actor, letter)
    check_state(letter, "propose_correction")
    check_expected(letter)
    reason = check_reason(reason, _("Please give the reason for the correction."))
    if pending_correction(letter) is not None:
        raise Refused(_("A correction of this letter is already waiting for sign-off."))
    if not title.strip() or not salutation.strip() or not body.strip():
        raise Refused(_("The letter needs a title, a salutation and a text."))
    check_body_length(body)
    if result_class not in ReplyLetter.ResultClass.values:
        raise Refused(_("Please choose the result class (A, B, C or D)."))
    if (title, salutation, body, result_class) == (
        letter.title,
        letter.salutation,
        letter.body,
        letter.result_class,
    ):
        raise Refused(_("Nothing was changed."))
    revision = ReplyRevision.objects.create(
        letter=letter,
        number=next_revision_number(letter),
        title=title,
        salutation=salutation,
        body=body,
        result_class=result_class,
        submitted_by=actor,
        submitted_at=timezone.now(),
        correction_reason=reason,
    )
    event(letter, actor, "correction_submitted", comment=reason)
    notify(
        unit_people([letter.assignment.unit], Membership.Role.LEADER),
        "signoff_requested",
        _("A correction of the sent reply letter “%(title)s” waits for your sign-off: %(reason)s")
        % {"title": letter.title, "reason": reason},
        letter.get_absolute_url(),
    )
    return revision


@transaction.atomic
def sign_correction(letter, actor):
    """The leader signs the pending correction: it becomes the letter, is sent to the
    proposers again, and replaces the public text if the reply is public."""
    letter = lock(letter)
    require_leader(actor, letter)
    check_expected(letter)
    revision = pending_correction(letter)
    if revision is None:
        raise Refused(_("No correction of this letter is waiting for sign-off."))
    unit = letter.assignment.unit
    title = leader_title(actor, unit)
    decide(revision, ReplyRevision.Decision.SIGNED, actor)
    now = revision.decided_at
    letter.title = revision.title
    letter.salutation = revision.salutation
    letter.body = revision.body
    letter.result_class = revision.result_class
    letter.signed_by = actor
    letter.signed_at = now
    letter.signer_title = title
    letter.attestation = attestation_for(unit, title)
    letter.save(
        update_fields=[
            "title",
            "salutation",
            "body",
            "result_class",
            "signed_by",
            "signed_at",
            "signer_title",
            "attestation",
            "updated_at",
        ]
    )
    event(letter, actor, "reply_corrected", comment=revision.correction_reason)
    if letter.is_public and letter.disclosure == ReplyLetter.Disclosure.FULL:
        _publish_version(
            letter,
            actor,
            now,
            Publication.Kind.SIGNED,
            letter.title,
            letter.body,
            revision.correction_reason,
        )
    letter_changed(letter)
    # The page shows the letter's salutation and date as well as the public text.
    public_column_changed()
    proposal = letter.assignment.proposal
    message = _(
        "%(unit)s corrected its reply to your proposal %(number)s “%(title)s”: %(reason)s "
        "Please read the corrected reply:"
    ) % {
        "unit": unit.short_name,
        "number": proposal.display_number,
        "title": proposal.title,
        "reason": revision.correction_reason,
    }
    for receipt in letter.receipts.select_related("proposer__user"):
        notify_proposer(receipt.proposer, "reply_corrected", message, receipt_url(receipt))
    _copy_to_units(
        letter,
        proposal,
        _("Copy: %(unit)s corrected its reply to %(number)s “%(title)s”%(round)s."),
    )
    return letter


@transaction.atomic
def send_back_correction(letter, actor, comment):
    """The leader does not sign the correction; the unit reads why and may submit another."""
    letter = lock(letter)
    require_leader(actor, letter)
    revision = pending_correction(letter)
    if revision is None:
        raise Refused(_("No correction of this letter is waiting for sign-off."))
    if not comment.strip():
        raise Refused(_("Please say what should change."))
    decide(revision, ReplyRevision.Decision.SENT_BACK, actor, comment)
    event(letter, actor, "correction_sent_back", comment=comment)
    notify(
        [u for u in [revision.submitted_by] if u],
        "reply_sent_back",
        _("%(leader)s did not sign the correction of “%(title)s”: %(comment)s")
        % {"leader": actor, "title": letter.title, "comment": comment},
        letter.get_absolute_url(),
    )
    return letter
