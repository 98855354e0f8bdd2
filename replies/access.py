"""Who may see and do what with a reply letter — the one place the replies app checks access.

- The issuing unit's people (members of letter.assignment.unit) see its letters in every state.
- Committee staff see every letter in every state, drafts included: they supervise (督办) the
  handling and must be able to read a reply that is late in sign-off. They cannot change a
  draft: the workflow only lets the unit's people do that.
- Another unit never sees a letter before it is sent. Once sent, the letter is copied to the
  proposal's other units (co-handling, split) and to its cc units, so they see it.
- A proposer sees a letter once it is sent, if the reply goes to them (`services.receivers`:
  the proposal's proposers who did not decline, and the proposers of merged proposals).
- Publishing (publish, correct typing errors, unpublish) is committee staff's for every
  letter, and a unit's own people's for the unit's own letters where the committee granted
  that unit publishing (`services.can_publish`). Nobody else's.
- Everyone else: 404.

Within a unit, handlers (经办人) draft, submit and send; leaders (签发人) sign or send back.
"""

from django.db.models import Exists, OuterRef, Q
from django.http import Http404

from accounts.models import Membership
from proposals.access import is_committee, is_unit_leader, is_unit_member, proposer_of, unit_ids
from proposals.models import Assignment, ProposalProposer

from . import services
from .models import Receipt, ReplyLetter

State = ReplyLetter.State


def _sent():
    return Q(sent_at__isnull=False)


def visible_letters(user):
    """The letters the user may read."""
    letters = ReplyLetter.objects.all()
    if not user.is_authenticated:
        return letters.none()
    if is_committee(user):
        return letters
    condition = Q(pk__in=[])
    units = unit_ids(user)
    if units:
        condition |= Q(assignment__unit_id__in=units)
        copied = Exists(
            Assignment.objects.filter(
                proposal=OuterRef("assignment__proposal"), unit_id__in=units, is_active=True
            )
        ) | Exists(
            ReplyLetter.cc_units.through.objects.filter(
                replyletter=OuterRef("pk"), unit_id__in=units
            )
        )
        condition |= _sent() & copied
    proposer = proposer_of(user)
    if proposer is not None:
        # The same people as services.receivers(): signers who did not decline, of the
        # proposal or of a proposal merged into it.
        signers = ProposalProposer.objects.filter(proposer=proposer).exclude(
            status=ProposalProposer.Status.DECLINED
        )
        receiver = Exists(signers.filter(proposal=OuterRef("assignment__proposal"))) | Exists(
            signers.filter(proposal__merged_into=OuterRef("assignment__proposal"))
        )
        condition |= _sent() & receiver
    return letters.filter(condition)


def publishable_letters(user):
    """The letters the user publishes: every one for committee staff, the unit's own where
    the committee granted the unit publishing; nothing for anyone else."""
    letters = ReplyLetter.objects.all()
    if is_committee(user):
        return letters
    units = services.publishing_unit_ids(user)
    if not units:
        return letters.none()
    return letters.filter(assignment__unit_id__in=units)


def get_letter_for_user(user, pk):
    """The letter, if the user may read it; 404 otherwise (outsiders learn nothing)."""
    try:
        return (
            visible_letters(user)
            .select_related(
                "assignment__unit",
                "assignment__proposal__session__term",
                "drafted_by",
                "signed_by",
            )
            .get(pk=pk)
        )
    except ReplyLetter.DoesNotExist:
        raise Http404 from None


def is_internal(user, letter):
    """Whether the user reads the letter's working papers: revisions, comments, history."""
    return is_unit_member(user, letter.assignment.unit_id) or is_committee(user)


def receiving_proposer(user, letter):
    """The user's proposer profile when the letter is sent to them (their own copy), else None."""
    proposer = proposer_of(user)
    if proposer is None or letter.sent_at is None:
        return None
    if Receipt.objects.filter(letter=letter, proposer=proposer).exists():
        return proposer
    if any(p.pk == proposer.pk for p in services.receivers(letter.assignment.proposal)):
        return proposer
    return None


def is_handler(user, letter):
    return is_unit_member(user, letter.assignment.unit_id, Membership.Role.HANDLER)


def available_actions(user, letter):
    """The actions the user may take on the letter now: templates show only these buttons.

    The services check again; this only keeps buttons away from those who may not use them.
    """

    def allowed(action):
        return letter.state in services.TRANSITIONS[action]

    handler = is_handler(user, letter)
    leader = is_unit_leader(user, letter.assignment.unit_id)
    publisher = services.can_publish(user, letter)
    # Before sending, the letter's steps wait until the proposal expects this reply.
    expected = letter.sent_at is not None or services.why_not_expected(letter) is None
    pending = services.pending_correction(letter) if letter.sent_at else None
    return {
        "edit": handler and expected and allowed("save_draft"),
        "submit": handler and expected and allowed("submit_for_signoff"),
        "sign": leader and expected and allowed("sign"),
        "send_back": leader and expected and allowed("send_back"),
        "reopen": handler and expected and allowed("reopen"),
        "send": handler and expected and allowed("send"),
        # A not-public letter is never published; the page says why instead.
        "publish": (
            publisher and allowed("publish") and letter.disclosure != ReplyLetter.Disclosure.NONE
        ),
        "correct_typo": publisher and allowed("correct_typo"),
        "unpublish": publisher and allowed("unpublish"),
        "propose_correction": handler
        and allowed("propose_correction")
        and pending is None
        and services.why_not_expected(letter) is None,
        "sign_correction": leader and pending is not None,
        "pending_correction": pending,
        "pdf": True,
    }
