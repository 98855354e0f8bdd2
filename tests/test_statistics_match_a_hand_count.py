"""The statistics page and its workbook give the figures counted by hand for a small session.

The session is built through the services, on a clock set to 2022 (every step stamps
`timezone.now()`), so that replies are on time, late or overdue by design.
"""

import datetime
import io
from contextlib import contextmanager
from html.parser import HTMLParser
from unittest import mock

import openpyxl
import pytest
from django.core.cache import cache
from django.urls import reverse
from django.utils import translation

from accounts.models import Membership, Proposer
from proposals import services as proposal_services
from proposals.models import Assignment, Category, Proposal, ProposalProposer, RejectionReason
from proposals.models import Session as ProposalSession
from replies import services as reply_services
from replies.models import Receipt
from replies.statistics import statistics

from .conftest import make_user

CST = datetime.timezone(datetime.timedelta(hours=8))
Rating = Receipt.Rating
TODAY = datetime.date(2022, 9, 1)


@contextmanager
def clock(day, hour=10):
    moment = datetime.datetime.combine(day, datetime.time(hour), tzinfo=CST)
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield moment


def d(month, day):
    return datetime.date(2022, month, day)


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


def _proposal(w, title, kind, category, proposers):
    proposal = Proposal.objects.create(
        session=w.s,
        title=title,
        reasons="理由",
        suggestions="建议",
        category=category,
        kind=kind,
    )
    for position, proposer in enumerate(proposers):
        ProposalProposer.objects.create(proposal=proposal, proposer=proposer, position=position)
    return proposal


def _reply(w, assignment, handler, leader, result_class, no_contact_reason="", outstanding=""):
    letter = reply_services.start_draft(assignment, handler)
    reply_services.save_draft(
        letter, handler, body=letter.body + "一、办理情况\n已办理。", result_class=result_class
    )
    reply_services.submit_for_signoff(
        letter, handler, outstanding_reason=outstanding, no_contact_reason=no_contact_reason
    )
    reply_services.sign(letter, leader)
    return reply_services.send(letter, handler)


def _rate(letter, proposer, attitude, result):
    receipt = Receipt.objects.get(letter=letter, proposer=proposer)
    opinion = "意见" if Rating.DISSATISFIED in (attitude, result) else ""
    reply_services.submit_receipt(receipt, None, attitude=attitude, result=result, opinion=opinion)


def _active(proposal, unit, round_number=1):
    return Assignment.objects.get(proposal=proposal, unit=unit, round=round_number, is_active=True)


@pytest.fixture
def hand(world):
    """Session 2 of term 15 (2022), ten proposals received and one draft:

    P1 张华 (individual, 经济建设) accepted, 区科技局 alone; met 4-20, class A sent 5-10.
    P2 张华+李四 (co-signed, 社会事业) accepted, 区科技局 lead + 区经济信息委 co; phone
       only; class B sent 7-20, after the deadline.
    P3 民盟 (party, 社会事业) accepted, split 区科技局 + 区教委; 区科技局 visited on the day
       it sent class C (5-10); 区教委 never replies: overdue.
    P4 李四 (individual, 经济建设) accepted, 区教委 alone, returned to 区经济信息委; deadline
       extended to 8-31; class D sent 7-20 (on time); forum 7-25 (after sending). Round 2:
       区经济信息委 class B sent 8-20.
    P5 李四 merged into P1; P6 converted; P7 rejected; P8 withdrawn; P9 awaiting review;
    P10 accepted, not assigned; P11 a draft (not received).
    """
    w = world
    w.s = ProposalSession.objects.create(term=w.term, number=2)
    w.social = Category.objects.create(name="社会事业", position=2)
    w.jxw_leader = make_user("jxw_leader", "经信委主任")
    Membership.objects.create(user=w.jxw_leader, unit=w.jxw_unit, role=Membership.Role.LEADER)
    w.other_leader = make_user("other_leader", "教委主任")
    Membership.objects.create(user=w.other_leader, unit=w.other_unit, role=Membership.Role.LEADER)
    w.party_user = make_user("minmeng", "民盟梁平区委")
    w.party = Proposer.objects.create(
        name="民盟梁平区委", user=w.party_user, kind=Proposer.Kind.PARTY
    )
    Kind = Proposal.Kind
    zhang, li = w.zhanghua_proposer, w.lisi_proposer
    staff = w.tiwei
    ps = proposal_services

    with clock(d(3, 1)):
        p = {}
        p[1] = _proposal(w, "关于科技创新的建议", Kind.INDIVIDUAL, w.category, [zhang])
        p[2] = _proposal(w, "关于社区养老的建议", Kind.COSIGNED, w.social, [zhang, li])
        p[3] = _proposal(w, "关于学校午餐的建议", Kind.PARTY, w.social, [w.party])
        p[4] = _proposal(w, "关于农村道路的建议", Kind.INDIVIDUAL, w.category, [li])
        p[5] = _proposal(w, "关于科技人才的建议", Kind.INDIVIDUAL, w.category, [li])
        p[6] = _proposal(w, "关于夜市的建议", Kind.INDIVIDUAL, w.category, [zhang])
        p[7] = _proposal(w, "关于邻里纠纷的建议", Kind.INDIVIDUAL, w.social, [zhang])
        p[8] = _proposal(w, "关于路灯的建议", Kind.INDIVIDUAL, w.category, [zhang])
        p[9] = _proposal(w, "关于公园的建议", Kind.INDIVIDUAL, w.social, [zhang])
        p[10] = _proposal(w, "关于菜市场的建议", Kind.INDIVIDUAL, w.category, [zhang])
        p[11] = _proposal(w, "关于停车的建议", Kind.INDIVIDUAL, w.category, [zhang])
        for n in range(1, 11):
            ps.submit(p[n], staff)
        ps.withdraw(p[8], w.zhanghua)
    with clock(d(3, 5)):
        for n in (1, 2, 3, 4, 10):
            ps.accept(p[n], staff)
        ps.merge(p[5], p[1], staff)
        ps.convert(p[6], staff, comment="转为意见建议")
        reason = RejectionReason.objects.create(code="private", label="个人事务")
        ps.reject(p[7], staff, reason)
    with clock(d(3, 10)):
        Mode = Proposal.HandlingMode
        ps.assign(p[1], staff, Mode.SINGLE, lead=w.kjj_unit)
        ps.assign(p[2], staff, Mode.JOINT, lead=w.kjj_unit, co_units=[w.jxw_unit])
        ps.assign(p[3], staff, Mode.SPLIT, split_units=[w.kjj_unit, w.other_unit])
        ps.assign(p[4], staff, Mode.SINGLE, lead=w.other_unit)
        ps.request_return(_active(p[4], w.other_unit), w.outsider, "不属于本单位职责")
    with clock(d(3, 11)):
        ps.decide_return(_active(p[4], w.other_unit), staff, True, "同意", new_unit=w.jxw_unit)
        for n, unit, user in (
            (1, w.kjj_unit, w.kjj),
            (2, w.kjj_unit, w.kjj),
            (2, w.jxw_unit, w.jxw),
            (3, w.kjj_unit, w.kjj),
            (3, w.other_unit, w.outsider),
            (4, w.jxw_unit, w.jxw),
        ):
            ps.acknowledge(_active(p[n], unit), user)
    with clock(d(4, 1)):
        ps.send_opinion(_active(p[2], w.jxw_unit), w.jxw, "会办意见", "同意。")
    with clock(d(4, 20)):
        ps.record_contact(_active(p[1], w.kjj_unit), w.kjj, d(4, 20), "meeting", summary="面商")
        ps.record_contact(_active(p[2], w.kjj_unit), w.kjj, d(4, 20), "phone", summary="电话")
    with clock(d(5, 10)):
        ps.record_contact(_active(p[3], w.kjj_unit), w.kjj, d(5, 10), "visit", summary="走访")
        letter1 = _reply(w, _active(p[1], w.kjj_unit), w.kjj, w.kjj_leader, "A")
        letter3 = _reply(w, _active(p[3], w.kjj_unit), w.kjj, w.kjj_leader, "C")
    with clock(d(5, 20)):
        ps.extend_deadline(_active(p[4], w.jxw_unit), staff, d(8, 31), "需要协调资金")
    with clock(d(7, 20)):
        letter2 = _reply(w, _active(p[2], w.kjj_unit), w.kjj, w.kjj_leader, "B")
        letter4 = _reply(
            w, _active(p[4], w.jxw_unit), w.jxw, w.jxw_leader, "D", no_contact_reason="书面沟通"
        )
    with clock(d(7, 25)):
        ps.record_contact(_active(p[4], w.jxw_unit), w.jxw, d(7, 25), "forum", summary="座谈")
        _rate(letter1, zhang, Rating.SATISFIED, Rating.SATISFIED)
        _rate(letter2, zhang, Rating.BASICALLY, Rating.DISSATISFIED)
        _rate(letter3, w.party, Rating.SATISFIED, Rating.BASICALLY)
        _rate(letter4, li, Rating.DISSATISFIED, Rating.DISSATISFIED)
    with clock(d(8, 1)):
        ps.order_rehandling(p[4], staff, comment="提案人不满意")
    with clock(d(8, 20)):
        again = _reply(
            w, _active(p[4], w.jxw_unit, 2), w.jxw, w.jxw_leader, "B", no_contact_reason="已电话"
        )
        _rate(again, li, Rating.SATISFIED, Rating.SATISFIED)
    w.p = p
    return w


# --- the hand count ----------------------------------------------------------------------------

INTAKE = ["received", "accepted", "merged", "converted", "rejected", "withdrawn", "pending"]


def counts(**values):
    return values


# Round 1 of the session, counting proposals.
SESSION = counts(
    received=10, accepted=5, merged=1, converted=1, rejected=1, withdrawn=1, pending=1,
    assigned=4, replied=3, on_time=2, face=1, overdue=1,
    letters=4, class_A=1, class_B=1, class_C=1, class_D=1,
    asked=6, returned=4, missing=2,
    attitude_satisfied=2, attitude_basically=1, attitude_dissatisfied=1, attitude_content=3,
    result_satisfied=1, result_basically=1, result_understand=0, result_dissatisfied=2,
    result_content=2,
)  # fmt: skip
BY_CATEGORY = {
    "经济建设": counts(
        received=6, accepted=3, merged=1, converted=1, withdrawn=1,
        assigned=2, replied=2, on_time=2, face=1,
        letters=2, class_A=1, class_D=1,
        asked=3, returned=2, missing=1,
        attitude_satisfied=1, attitude_dissatisfied=1, attitude_content=1,
        result_satisfied=1, result_dissatisfied=1, result_content=1,
    ),
    "社会事业": counts(
        received=4, accepted=2, rejected=1, pending=1,
        assigned=2, replied=1, overdue=1,
        letters=2, class_B=1, class_C=1,
        asked=3, returned=2, missing=1,
        attitude_satisfied=1, attitude_basically=1, attitude_content=2,
        result_basically=1, result_dissatisfied=1, result_content=1,
    ),
}  # fmt: skip
BY_KIND = {
    "individual": counts(
        received=8, accepted=3, merged=1, converted=1, rejected=1, withdrawn=1, pending=1,
        assigned=2, replied=2, on_time=2, face=1,
        letters=2, class_A=1, class_D=1,
        asked=3, returned=2, missing=1,
        attitude_satisfied=1, attitude_dissatisfied=1, attitude_content=1,
        result_satisfied=1, result_dissatisfied=1, result_content=1,
    ),
    "cosigned": counts(
        received=1, accepted=1,
        assigned=1, replied=1,
        letters=1, class_B=1,
        asked=2, returned=1, missing=1,
        attitude_basically=1, attitude_content=1, result_dissatisfied=1,
    ),
    "party": counts(
        received=1, accepted=1,
        assigned=1, overdue=1,
        letters=1, class_C=1,
        asked=1, returned=1,
        attitude_satisfied=1, attitude_content=1, result_basically=1, result_content=1,
    ),
    "sector": counts(),
    "special_committee": counts(),
}  # fmt: skip
# Round 1, counting each unit's active assignments (区教委's returned one is 区经济信息委's).
BY_UNIT = {
    "区科技局": counts(
        assigned=3, acknowledged=3, replied=3, on_time=2, face=2,
        letters=3, class_A=1, class_B=1, class_C=1,
        asked=5, returned=3, missing=2,
        attitude_satisfied=2, attitude_basically=1, attitude_content=3,
        result_satisfied=1, result_basically=1, result_dissatisfied=1, result_content=2,
    ),
    "区经济信息委": counts(
        assigned=1, acknowledged=1, replied=1, on_time=1, co=1, opinions=1,
        letters=1, class_D=1,
        asked=1, returned=1, attitude_dissatisfied=1, result_dissatisfied=1,
    ),
    # 区教委 never contacted 民盟 either: its first contact is overdue too.
    "区教委": counts(assigned=1, acknowledged=1, overdue=1, contact_overdue=1),
}  # fmt: skip
UNIT_TOTAL = counts(
    assigned=5, acknowledged=5, replied=4, on_time=3, face=2, overdue=1, contact_overdue=1,
    co=1, opinions=1,
    letters=4, class_A=1, class_B=1, class_C=1, class_D=1,
    asked=6, returned=4, missing=2,
    attitude_satisfied=2, attitude_basically=1, attitude_dissatisfied=1, attitude_content=3,
    result_satisfied=1, result_basically=1, result_dissatisfied=2, result_content=2,
)  # fmt: skip
ROUND2 = {
    "区经济信息委": counts(
        assigned=1, acknowledged=1, replied=1, on_time=1,
        letters=1, class_B=1, asked=1, returned=1,
        attitude_satisfied=1, attitude_content=1, result_satisfied=1, result_content=1,
    ),
}  # fmt: skip

KIND_LABELS = dict(Proposal.Kind.choices)


def expected(columns, hand):
    """Every column's figure from the hand count: counts as counted, rates by definition."""
    values = {}
    for column in columns:
        if column.is_rate:
            numerator, denominator = (hand.get(k, 0) for k in column.rate_of)
            values[column.key] = numerator / denominator if denominator else None
        else:
            values[column.key] = hand.get(column.key, 0)
    return values


def as_text(value, column):
    if not column.is_rate:
        return str(value)
    return "—" if value is None else f"{value * 100:.1f}%"


class PageTables(HTMLParser):
    """{table key: {row label: {column key: text}}} from the page's statistics tables."""

    def __init__(self):
        super().__init__()
        self.tables, self.table, self.row, self.column, self.label = {}, None, None, None, None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table" and "data-table" in attrs:
            self.table = self.tables.setdefault(attrs["data-table"], {})
        elif tag == "tr" and self.table is not None and "data-row" in attrs:
            self.row, self.label = {}, ""
        elif tag == "th" and self.row is not None and attrs.get("scope") == "row":
            self.column = "__label__"
        elif tag == "td" and self.row is not None:
            self.column = attrs.get("data-column")

    def handle_data(self, data):
        if self.column == "__label__":
            self.label += data.strip()
        elif self.column and self.row is not None:
            self.row[self.column] = self.row.get(self.column, "") + data.strip()

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.column = None
        elif tag == "tr" and self.row is not None:
            self.table[self.label] = self.row
            self.row = None
        elif tag == "table":
            self.table = None


def hand_rows(w):
    """{table key: {row label: hand count}}, as the page labels the rows."""
    return {
        "sessions": {str(w.s): SESSION},
        "units": {**BY_UNIT, "Total": UNIT_TOTAL},
        "categories": {**BY_CATEGORY, "Total": SESSION},
        "kinds": {
            **{str(KIND_LABELS[k]): v for k, v in BY_KIND.items() if v},
            "Total": SESSION,
        },
        "round2": {**ROUND2, "Total": ROUND2["区经济信息委"]},
    }


@pytest.fixture(autouse=True)
def english():
    """Row labels are matched in the English msgids, whatever the catalog says."""
    with translation.override("en"):
        yield


@pytest.fixture
def english_client(client):
    client.cookies["django_language"] = "en"
    return client


def test_the_figures_of_the_session_are_the_hand_count(hand):
    stats = statistics(hand.s, TODAY)
    for key, rows in hand_rows(hand).items():
        table = stats.tables[key]
        shown = {str(row.label): row for row in table.all_rows()}
        assert set(shown) >= set(rows), key
        for label, hand_count in rows.items():
            want = expected(table.columns, hand_count)
            got = {c.key: shown[label].value(c) for c in table.columns}
            assert got == pytest.approx(want), (key, label)


def test_the_rates_read_as_counted_by_hand(hand):
    session = statistics(hand.s, TODAY).tables["sessions"].rows[0]
    columns = {c.key: c for c in statistics(hand.s, TODAY).tables["sessions"].columns}

    def text(key):
        return as_text(session.value(columns[key]), columns[key])

    assert text("reply_rate") == "75.0%"  # 3 of 4 assigned
    assert text("on_time_rate") == "50.0%"  # P1 and P4 (extended)
    assert text("face_rate") == "33.3%"  # P1 of 3 replied
    assert text("share_A") == "25.0%"
    assert text("attitude_satisfied_rate") == "50.0%"
    assert text("attitude_content_rate") == "75.0%"
    assert text("result_dissatisfied_rate") == "50.0%"
    assert text("missing_rate") == "33.3%"


def test_the_page_shows_every_figure_of_the_hand_count(hand, english_client):
    english_client.force_login(hand.tiwei)
    with clock(TODAY):
        response = english_client.get(reverse("statistics:index"), {"session": hand.s.pk})
    assert response.status_code == 200
    parser = PageTables()
    parser.feed(response.content.decode())
    columns = {t.key: t.columns for t in response.context["tables"]}
    for key, rows in hand_rows(hand).items():
        for label, hand_count in rows.items():
            want = expected(columns[key], hand_count)
            shown = parser.tables[key][label]
            assert shown == {c.key: as_text(want[c.key], c) for c in columns[key]}, (key, label)


def test_the_workbook_has_the_figures_of_the_page(hand, english_client):
    english_client.force_login(hand.tiwei)
    with clock(TODAY):
        page = english_client.get(reverse("statistics:index"), {"session": hand.s.pk})
        response = english_client.get(reverse("statistics:xlsx"), {"session": hand.s.pk})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    tables = page.context["tables"]
    assert book.sheetnames == [str(t.title) for t in tables]
    rows_by_table = hand_rows(hand)
    for table in tables:
        sheet = book[str(table.title)]
        assert sheet["A1"].value.endswith("2022-09-01")
        assert [c.value for c in sheet[3]] == [str(table.dimension)] + [
            str(c.label) for c in table.columns
        ]
        rows = {r[0]: r[1:] for r in sheet.iter_rows(min_row=4, values_only=True)}
        for label, hand_count in rows_by_table[table.key].items():
            want = expected(table.columns, hand_count)
            assert list(rows[label]) == pytest.approx([want[c.key] for c in table.columns]), (
                table.key,
                label,
            )
        for cell, column in zip(sheet[4][1:], table.columns, strict=True):
            assert (cell.number_format == "0.0%") == column.is_rate


def test_a_unit_sees_its_own_row_and_the_totals(hand, english_client):
    english_client.force_login(hand.jxw)
    with clock(TODAY):
        response = english_client.get(reverse("statistics:index"), {"session": hand.s.pk})
        book = english_client.get(reverse("statistics:xlsx"), {"session": hand.s.pk})
    parser = PageTables()
    parser.feed(response.content.decode())
    assert set(parser.tables) == {"sessions", "units", "round2"}
    assert set(parser.tables["units"]) == {"区经济信息委", "Total"}
    assert parser.tables["units"]["Total"]["assigned"] == "5"
    assert "区科技局" not in response.content.decode()
    sheets = openpyxl.load_workbook(io.BytesIO(book.content))
    assert [r[0] for r in sheets.worksheets[1].iter_rows(min_row=4, values_only=True)] == [
        "区经济信息委",
        "Total",
    ]


def test_all_sessions_add_the_sessions_up(hand):
    stats = statistics(None, TODAY)
    sessions = stats.tables["sessions"]
    assert [str(r.label) for r in sessions.rows] == [str(hand.session), str(hand.s)]
    column = next(c for c in sessions.columns if c.key == "received")
    # Session 1 holds proposal 069 of the world, in handling.
    assert [r.value(column) for r in sessions.rows] == [1, 10]
    assert sessions.total.value(column) == 11


def test_the_figures_follow_a_change_of_the_data(hand):
    before = statistics(hand.s, TODAY).tables["sessions"].rows[0].counts["pending"]
    with clock(d(8, 25)):
        proposal_services.accept(hand.p[9], hand.tiwei)
    after = statistics(hand.s, TODAY).tables["sessions"].rows[0].counts
    assert (before, after.get("pending", 0), after["accepted"]) == (1, 0, 6)
