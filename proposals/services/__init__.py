"""The proposal workflow: stages 1–5 and 9 of DESIGN.md, each transition once.

Views, admin actions and management commands call these functions; none of
them sets a status field itself. Every function here:

- checks that the actor may do it and that the proposal is in a state that
  allows it (else raises `Refused` with a message for the user);
- runs in a transaction with `select_for_update` on the row it changes;
- writes an audit `Event` (who, when, from, to, comment);
- notifies the people the step hands work to, after commit.

The table of allowed transitions is `base.TRANSITIONS`. The modules follow the
stages: `submission`, `review`, `assignment` (交办, 签收, 退回), `handling`
(协办意见, 沟通联系, 答复), `closing` (重新办理, 办结). The reply letters' own
workflow is in `replies.services`; it moves the proposal only through
`handling.mark_replied` and `closing.mark_closed`.
"""

from core.workflow import Refused

from ..workflow import committee_people, proposer_users, record_event, unit_people
from .assignment import (
    acknowledge,
    assign,
    bulk_assign,
    change_deadline,
    decide_return,
    request_return,
    return_window,
)
from .base import TRANSITIONS
from .calendar import calendar_corrected, change_rule, check_rule, rule_text, rules_changed
from .closing import mark_closed, order_rehandling
from .extensions import decide_extension, extend_deadline, extensions_left, request_extension
from .handling import expect_reply, mark_replied, record_contact, send_opinion
from .registration import PaperProposal, register_paper_proposals
from .review import accept, convert, merge, next_number, reject
from .submission import request_withdrawal, respond_as_cosigner, submit, withdraw
from .supervision import answer_supervision, mark_key, supervise

__all__ = [
    "TRANSITIONS",
    "PaperProposal",
    "Refused",
    "accept",
    "answer_supervision",
    "acknowledge",
    "assign",
    "bulk_assign",
    "calendar_corrected",
    "change_rule",
    "check_rule",
    "change_deadline",
    "committee_people",
    "convert",
    "decide_extension",
    "decide_return",
    "expect_reply",
    "extend_deadline",
    "extensions_left",
    "mark_closed",
    "mark_key",
    "mark_replied",
    "merge",
    "next_number",
    "order_rehandling",
    "proposer_users",
    "record_contact",
    "record_event",
    "register_paper_proposals",
    "reject",
    "request_extension",
    "request_return",
    "request_withdrawal",
    "respond_as_cosigner",
    "return_window",
    "rule_text",
    "rules_changed",
    "send_opinion",
    "submit",
    "supervise",
    "unit_people",
    "withdraw",
]
