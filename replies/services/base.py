"""The letter's transition table, and what every step does first: lock, check, guard."""

from django.utils.translation import gettext as _

from accounts.models import Membership, Unit
from core.workflow import Refused
from proposals import access
from proposals.services import expect_reply
from proposals.workflow import record_event

from ..models import ReplyLetter
from ..search import SENT_STATES, letter_changed

State = ReplyLetter.State

# Allowed letter transitions (action: the states it may start from → where it goes, who).
#
#   start_draft           (none) → draft              the replying unit's people, once
#                                                     the proposal is acknowledged
#   save_draft            draft → draft               the unit's people
#   submit_for_signoff    draft → awaiting_signoff    the unit's people; keeps a revision
#   send_back             awaiting_signoff → draft    a leader of the unit, with a comment
#   sign                  awaiting_signoff → signed   a leader of the unit; numbers it
#   reopen                signed → draft              the unit's people, with a reason
#   send                  signed → sent               the unit's people; the proposal is
#                                                     replied once every replying unit sent
#   publish               sent | unpublished → published     publishers of the letter
#   correct_typo          published → published       publishers; a new public version
#   unpublish             published → unpublished     publishers, with a reason
#   propose_correction    sent | published | unpublished (no change of state)
#                                                     the unit's people submit a corrected
#                                                     text with a reason; a leader signs it
#                                                     (sign_correction) or sends it back
#
# Publishers of a letter: committee staff, and the people of the letter's own unit where
# the committee granted that unit publishing (Unit.publishes_own_replies).
TRANSITIONS = {
    "save_draft": {State.DRAFT},
    "submit_for_signoff": {State.DRAFT},
    "send_back": {State.AWAITING_SIGNOFF},
    "sign": {State.AWAITING_SIGNOFF},
    "reopen": {State.SIGNED},
    "send": {State.SIGNED},
    "publish": {State.SENT, State.UNPUBLISHED},
    "correct_typo": {State.PUBLISHED},
    "unpublish": {State.PUBLISHED},
    "propose_correction": {State.SENT, State.PUBLISHED, State.UNPUBLISHED},
}


def lock(letter):
    return (
        ReplyLetter.objects.select_for_update()
        .select_related("assignment__unit", "assignment__proposal")
        .get(pk=letter.pk)
    )


def check_state(letter, action):
    if letter.state not in TRANSITIONS[action]:
        raise Refused(
            _("This cannot be done while the letter is “%(state)s”.")
            % {"state": letter.get_state_display()}
        )


def check_expected(letter):
    """Before sending: the proposal still expects this letter (active assignment, current
    round, acknowledged, in handling) — or, for a correction of a sent letter, the
    proposal was not withdrawn meanwhile."""
    proposal = letter.assignment.proposal
    if letter.sent_at is not None:
        if proposal.state == proposal.State.WITHDRAWN:
            raise Refused(_("The proposal was withdrawn."))
        return
    if letter.round != proposal.current_round:
        raise Refused(
            _("This letter belongs to round %(round)s; the proposal is now in round %(current)s.")
            % {"round": letter.round, "current": proposal.current_round}
        )
    expect_reply(letter.assignment, proposal)


def why_not_expected(letter):
    """check_expected's refusal as a message, or None: for pages deciding on buttons."""
    try:
        check_expected(letter)
    except Refused as exc:
        return " ".join(exc.messages)
    return None


def require_handler(actor, letter):
    """Drafting, submitting and sending are the unit's handlers' (经办人) work."""
    if not access.is_unit_member(actor, letter.assignment.unit_id, Membership.Role.HANDLER):
        raise Refused(
            _("Only a handler of %(unit)s can do this.") % {"unit": letter.assignment.unit}
        )


def require_leader(actor, letter):
    if not access.is_unit_leader(actor, letter.assignment.unit_id):
        raise Refused(
            _("Only a leader of %(unit)s can sign off its letters.")
            % {"unit": letter.assignment.unit}
        )


def can_publish(user, letter):
    """Committee staff publish every letter; a unit's own people only where the committee
    granted that unit publishing, and only the unit's own letters."""
    if access.is_committee(user):
        return True
    unit = letter.assignment.unit
    return unit.publishes_own_replies and access.is_unit_member(user, unit.pk)


def publishing_unit_ids(user):
    """The units whose letters the user publishes as one of their people (not as staff)."""
    units = access.unit_ids(user)
    if not units:
        return []
    return list(
        Unit.objects.filter(pk__in=units, publishes_own_replies=True).values_list("pk", flat=True)
    )


def is_publisher(user):
    """Whether the user publishes any letter at all (committee staff, or a granted unit's)."""
    return access.is_committee(user) or bool(publishing_unit_ids(user))


def require_publisher(actor, letter):
    if not can_publish(actor, letter):
        raise Refused(_("You may not publish this reply letter."))


def event(letter, actor, verb, from_state="", to_state="", comment="", actor_name=""):
    record_event(
        letter.assignment.proposal,
        actor,
        verb,
        from_state,
        to_state,
        comment,
        obj=letter,
        actor_name=actor_name,
    )


def set_state(letter, to_state, **fields):
    """The one place a letter's state is written."""
    letter.state = to_state
    for name, value in fields.items():
        setattr(letter, name, value)
    letter.save(update_fields=["state", "updated_at", *fields])
    if to_state in SENT_STATES:
        # Sent, published or taken off: the search columns follow (replies/search.py).
        letter_changed(letter)
