"""The staff lists as .xlsx: the same filters as the page, Chinese headers, dates as 2022-07-20.

Rows come from `queryset.values_list(...).iterator(chunk_size=...)` (no model instances, no
query per row) into `spreadsheets.stream_xlsx`, which sends the file in pieces as the rows
come (a StreamingHttpResponse): memory stays flat for 100,000 rows.
"""

from django.conf import settings

from core.spreadsheets import xlsx_response  # noqa: F401 (the views call it from here)

from .models import Proposal, chinese_numeral

CHUNK_SIZE = 2000


def labels(choices):
    """{value: label} in the active language, worked out once, not once a row."""
    return {value: str(label) for value, label in choices}


def number_label(number):
    if number is None:
        return ""
    width = settings.TIAN["PROPOSAL_NUMBER_WIDTH"]
    return f"第{number:0{width}d}号"


def session_label(term_number, session_number):
    if term_number is None:
        return ""
    return f"第{chinese_numeral(term_number)}届委员会第{chinese_numeral(session_number)}次会议"


PROPOSAL_HEADERS = [
    "提案号",
    "案由",
    "第一提案人",
    "提案类型",
    "类别",
    "届次",
    "提出时期",
    "状态",
    "主办单位",
    "答复期限",
    "提交时间",
    "办结时间",
]
PROPOSAL_WIDTHS = [10, 50, 14, 14, 12, 28, 10, 10, 16, 12, 12, 12]


def proposal_rows(queryset):
    """The rows of a proposal list: `queryset` annotated with `first_proposer`, `lead_unit`
    and `reply_due` (see `views.workspace.with_lead`)."""
    kinds = labels(Proposal.Kind.choices)
    periods = labels(Proposal.Period.choices)
    states = labels(Proposal.State.choices)
    rows = queryset.values_list(
        "number",
        "title",
        "first_proposer",
        "kind",
        "category__name",
        "session__term__number",
        "session__number",
        "period",
        "state",
        "lead_unit",
        "reply_due",
        "submitted_at",
        "closed_at",
    ).iterator(chunk_size=CHUNK_SIZE)
    for (
        number,
        title,
        first,
        kind,
        category,
        term,
        session,
        period,
        state,
        lead,
        due,
        submitted,
        closed,
    ) in rows:
        yield (
            number_label(number),
            title,
            first or "",
            kinds.get(kind, kind),
            category or "",
            session_label(term, session),
            periods.get(period, period),
            states.get(state, state),
            lead or "",
            due,
            submitted,
            closed,
        )


def proposals_xlsx(queryset, file_stem="提案列表", title="提案"):
    return xlsx_response(
        file_stem, title, PROPOSAL_HEADERS, proposal_rows(queryset), PROPOSAL_WIDTHS
    )
