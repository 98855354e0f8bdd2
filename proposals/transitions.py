"""The proposal's allowed transitions: `services` enforces them, `access` offers only these."""

from .models import Proposal

State = Proposal.State

# Allowed proposal transitions (action: the states it may start from → where it goes).
#
#   submit        draft → awaiting_cosigners | submitted
#   cosign        awaiting_cosigners → submitted (once every co-signer answered)
#   withdraw      draft | awaiting_cosigners | submitted → withdrawn   (a proposer)
#                 accepted | assigned | handling → withdrawn          (committee, on request)
#   (request_withdrawal: the first proposer asks for it after acceptance; no state change)
#   accept        submitted → accepted (gets the next number in its session)
#   merge         submitted → merged
#   convert       submitted → converted
#   reject        submitted → rejected
#   assign        accepted → assigned
#   acknowledge   assigned → handling (the first lead or split unit to acknowledge)
#   reply         handling → replied (replies.services.send, once every replying unit sent)
#   rehandle      replied → handling (round + 1, a unit replies again)
#   close         replied → closed (replies.services.close, which checks the receipts)
#
#   (extensions: a replying unit asks in handling; committee staff decide or extend directly)
#   (supervision: key proposals are marked from acceptance to the reply; 督办 notes go to
#    units with work open, and they answer while the proposal is in handling or replied)
#
# Assignment-level steps (return requests, deadlines, co-handling opinions, contact records)
# leave the proposal's state alone but are audited the same way.
TRANSITIONS = {
    "submit": {State.DRAFT},
    "cosign": {State.AWAITING_COSIGNERS},
    "withdraw_by_proposer": {State.DRAFT, State.AWAITING_COSIGNERS, State.SUBMITTED},
    "withdraw_by_committee": {State.ACCEPTED, State.ASSIGNED, State.HANDLING},
    "accept": {State.SUBMITTED},
    "merge": {State.SUBMITTED},
    "convert": {State.SUBMITTED},
    "reject": {State.SUBMITTED},
    "assign": {State.ACCEPTED},
    "acknowledge": {State.ASSIGNED, State.HANDLING},
    "request_return": {State.ASSIGNED, State.HANDLING},
    "decide_return": {State.ASSIGNED, State.HANDLING},
    "change_deadline": {State.ASSIGNED, State.HANDLING},
    "request_extension": {State.HANDLING},
    "decide_extension": {State.ASSIGNED, State.HANDLING},
    "mark_key": {State.ACCEPTED, State.ASSIGNED, State.HANDLING, State.REPLIED},
    "supervise": {State.ASSIGNED, State.HANDLING},
    "answer_supervision": {State.ASSIGNED, State.HANDLING, State.REPLIED},
    "send_opinion": {State.ASSIGNED, State.HANDLING},
    "record_contact": {State.ASSIGNED, State.HANDLING, State.REPLIED},
    "draft_reply": {State.HANDLING},
    "reply": {State.HANDLING},
    "rehandle": {State.REPLIED},
    "close": {State.REPLIED},
}
