"""Sign-off (审签): the unit's leader signs the letter, or sends it back with a comment."""

import re

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership
from accounts.notifications import notify
from core.workflow import Refused
from proposals.workflow import unit_people

from ..models import DocNumberSequence, ReplyLetter, ReplyRevision
from .base import (
    State,
    check_expected,
    check_state,
    event,
    lock,
    require_handler,
    require_leader,
    set_state,
)
from .drafting import mark_seen

DOC_NUMBER_MAX = ReplyLetter._meta.get_field("doc_number").max_length


@transaction.atomic
def send_back(letter, actor, comment):
    """The leader sends the draft back with a comment the drafter sees."""
    letter = lock(letter)
    require_leader(actor, letter)
    check_state(letter, "send_back")
    check_expected(letter)
    if not comment.strip():
        raise Refused(_("Please say what should change."))
    mark_seen(letter)
    decide_latest(letter, ReplyRevision.Decision.SENT_BACK, actor, comment)
    set_state(letter, State.DRAFT, signoff_comment=comment)
    event(letter, actor, "reply_sent_back", State.AWAITING_SIGNOFF, State.DRAFT, comment)
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


def decide(revision, decision, actor, comment=""):
    """Record the leader's decision (signed, sent back) on a revision they read."""
    now = timezone.now()
    revision.decision = decision
    revision.decided_by = actor
    revision.decided_at = now
    revision.decision_comment = comment
    revision.seen_by_signer_at = revision.seen_by_signer_at or now
    revision.save(
        update_fields=[
            "decision",
            "decided_by",
            "decided_at",
            "decision_comment",
            "seen_by_signer_at",
        ]
    )


def decide_latest(letter, decision, actor, comment=""):
    """Record the leader's decision on the draft's latest revision, the one they read."""
    latest = letter.revisions.filter(correction_reason="").order_by("-number").first()
    if latest is not None and latest.decision == "":
        decide(latest, decision, actor, comment)


def leader_title(actor, unit):
    """The signing leader's title as the attestation names it (主要领导), or ""."""
    membership = Membership.objects.filter(
        user=actor, unit=unit, role=Membership.Role.LEADER
    ).first()
    return membership.title if membership else ""


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


def typed_doc_number(unit, year, typed, letter):
    """A number the leader typed from the unit's own register: "45" (the template makes it
    梁平科技函〔2026〕45号) or the whole number. Unique among the unit's letters."""
    typed = typed.strip()
    if not unit.types_doc_numbers:
        raise Refused(
            _("%(unit)s takes its document numbers from the yearly sequence.") % {"unit": unit}
        )
    if re.search(r"[\r\n\t]", typed) or len(typed) > DOC_NUMBER_MAX:
        raise Refused(
            _("Type the document number on one line, at most %(n)s characters.")
            % {"n": DOC_NUMBER_MAX}
        )
    if typed.isdigit():
        n = int(typed)
        if not unit.doc_number_template or not 0 < n < 100_000:
            raise Refused(_("Type the whole document number, e.g. 梁平科技函〔2026〕45号."))
        number = unit.doc_number_template.format(year=year, n=n)
        # The yearly sequence goes on after the highest number typed, never reusing one.
        sequence, _created = DocNumberSequence.objects.select_for_update().get_or_create(
            unit=unit, year=year
        )
        if n > sequence.last:
            sequence.last = n
            sequence.save(update_fields=["last"])
    else:
        number = typed
    if ReplyLetter.objects.filter(doc_number=number).exclude(pk=letter.pk).exists():
        raise Refused(
            _("The document number %(number)s is already used by another letter.")
            % {"number": number}
        )
    return number


def attestation_for(unit, title):
    return f"此答复函已经{unit.short_name}{title or '领导'}审签。"


@transaction.atomic
def sign(letter, actor, doc_number=""):
    """审签: the leader signs; the text freezes, the letter gets its number and attestation.

    A unit that keeps its own register may have the leader type the number (`doc_number`);
    otherwise, or when left empty, the next number of the year is taken.
    """
    letter = lock(letter)
    require_leader(actor, letter)
    check_state(letter, "sign")
    check_expected(letter)
    unit = letter.assignment.unit
    title = leader_title(actor, unit)
    now = timezone.now()
    today = timezone.localdate(now)
    if doc_number.strip():
        number = typed_doc_number(unit, today.year, doc_number, letter)
    else:
        number = letter.doc_number or next_doc_number(unit, today.year)
    mark_seen(letter)
    decide_latest(letter, ReplyRevision.Decision.SIGNED, actor)
    set_state(
        letter,
        State.SIGNED,
        signed_by=actor,
        signed_at=now,
        signer_title=title,
        attestation=attestation_for(unit, title),
        doc_number=number,
        letter_date=letter.letter_date or today,
        signoff_comment="",
    )
    event(letter, actor, "reply_signed", State.AWAITING_SIGNOFF, State.SIGNED, number)
    notify(
        [u for u in [letter.drafted_by] if u],
        "reply_signed",
        _("%(leader)s signed the reply letter “%(title)s” (%(number)s).")
        % {"leader": actor, "title": letter.title, "number": number},
        letter.get_absolute_url(),
    )
    return letter


@transaction.atomic
def reopen(letter, actor, reason):
    """Change a signed letter: it goes back to draft and needs signing again."""
    letter = lock(letter)
    require_handler(actor, letter)
    check_state(letter, "reopen")
    check_expected(letter)
    if not reason.strip():
        raise Refused(_("Please give the reason for changing a signed letter."))
    set_state(letter, State.DRAFT, signed_by=None, signed_at=None, attestation="")
    event(letter, actor, "reply_reopened", State.SIGNED, State.DRAFT, reason)
    return letter
