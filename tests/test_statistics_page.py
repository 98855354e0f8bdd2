"""The statistics page: who may open it, bad input, the demo's figures, and its queries."""

import io

import openpyxl
import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from proposals.models import Assignment, Proposal, ProposalProposer, Session

URL = "/work/statistics/"


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client(client):
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def staff(client, world):
    client.force_login(world.tiwei)
    return client


def test_it_lives_under_work_statistics():
    assert reverse("statistics:index") == URL
    assert reverse("statistics:xlsx") == URL + "xlsx/"


def test_committee_staff_and_unit_people_find_it_in_the_workspace(client, world):
    for user in (world.tiwei, world.kjj):
        client.force_login(user)
        assert f'href="{URL}"' in client.get(reverse("workspace")).content.decode()
    client.force_login(world.zhanghua)
    assert f'href="{URL}"' not in client.get(reverse("workspace")).content.decode()


def test_it_needs_a_login_and_a_committee_or_unit_role(client, world):
    for url in (URL, URL + "xlsx/"):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(world.zhanghua)
    assert client.get(URL).status_code == 403
    assert client.get(URL + "xlsx/").status_code == 403


def test_it_only_answers_get(staff):
    assert staff.post(URL).status_code == 405
    assert staff.post(URL + "xlsx/").status_code == 405


def test_the_current_session_is_shown_unless_another_is_chosen(staff, world):
    other = Session.objects.create(term=world.term, number=2)
    response = staff.get(URL)
    assert response.context["session"] == world.session
    assert staff.get(URL, {"session": other.pk}).context["session"] == other
    assert staff.get(URL, {"session": ""}).context["session"] is None


@pytest.mark.parametrize("value", ["abc", "999999", "1 OR 1=1", "-1", "9" * 40])
def test_a_bad_session_gets_a_message_not_a_500(staff, world, value):
    response = staff.get(URL, {"session": value})
    assert response.status_code == 200
    assert "Choose a session from the list." in response.content.decode()
    assert response.context["session"] == world.session
    assert staff.get(URL + "xlsx/", {"session": value}).status_code == 200


def test_a_nul_byte_is_a_bad_request(staff):
    # core's middleware answers it before the view.
    assert staff.get(URL, {"session": "\x00"}).status_code == 400


def test_a_bad_table_gets_a_message_not_a_500(staff, world):
    response = staff.get(URL, {"session": world.session.pk, "table": "nope"})
    assert response.status_code == 200
    assert "There is no such table." in response.content.decode()


def test_a_unit_cannot_download_the_committees_tables(client, world):
    client.force_login(world.kjj)
    query = {"session": world.session.pk}
    assert client.get(URL + "xlsx/", {**query, "table": "units"}).status_code == 200
    assert client.get(URL + "xlsx/", {**query, "table": "categories"}).status_code == 403


def test_one_table_downloads_as_one_sheet(staff, world):
    response = staff.get(URL + "xlsx/", {"session": world.session.pk, "table": "kinds"})
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["By proposer kind"]
    assert "attachment" in response["Content-Disposition"]
    assert response["Content-Disposition"].endswith(".xlsx")


def test_the_page_states_each_rates_definition(staff):
    page = staff.get(URL).content.decode()
    for words in (
        "Replied ÷ assigned",
        "on or before the reply deadline in force",
        "face-to-face contact",
        "Letters of that result class ÷ letters sent",
        "Receipts with that rating ÷ receipts returned",
    ):
        assert words in page


@pytest.mark.django_db
def test_the_demo_has_figures_and_charts(client, settings):
    settings.DEBUG = True  # load_demo refuses to run otherwise
    call_command("load_demo", stdout=io.StringIO())
    from accounts.models import User

    client.force_login(User.objects.get(username="tiwei"))
    response = client.get(URL)
    stats = response.context["stats"]
    sessions = stats.tables["sessions"].rows[0].counts
    assert sessions["received"] > 0 and sessions["assigned"] > 0 and sessions["letters"] > 0
    assert sessions["returned"] > 0
    page = response.content.decode()
    assert page.count("<svg") == 2
    assert page.count('class="reply"') > 1  # a bar for each unit
    assert "<script" not in page


def many_proposals(world, n, start):
    now = timezone.now()
    for number in range(start, start + n):
        proposal = Proposal.objects.create(
            session=world.session,
            number=number,
            title=f"提案{number}",
            category=world.category,
            state=Proposal.State.HANDLING,
        )
        ProposalProposer.objects.create(proposal=proposal, proposer=world.lisi_proposer)
        unit = world.kjj_unit if number % 2 else world.other_unit
        Assignment.objects.create(proposal=proposal, unit=unit, assigned_at=now)


def test_the_page_takes_the_same_queries_for_one_proposal_and_many(staff, world):
    def count(session):
        cache.clear()
        with CaptureQueriesContext(connection) as captured:
            response = staff.get(URL, {"session": session})
        assert response.status_code == 200
        return len(captured)

    few = (count(world.session.pk), count(""))
    many_proposals(world, 30, 100)
    assert (count(world.session.pk), count("")) == few


def test_the_figures_are_counted_in_one_query_per_table(world, django_assert_num_queries):
    from proposals import deadlines
    from replies.statistics import figures

    # Proposals, assignments (by proposal, by unit), letters and receipts; + the calendar
    # for the first contacts overdue (the deadline rules come from the cache). For a whole
    # session on PostgreSQL, 2 more: joins by hashing, set and reset.
    session = 6 + (2 if connection.vendor == "postgresql" else 0)
    today = timezone.localdate()
    deadlines.current_rules()
    with django_assert_num_queries(session):
        figures(world.session, today, use_cache=False)
    many_proposals(world, 20, 100)
    with django_assert_num_queries(session):
        figures(world.session, today, use_cache=False)
    with django_assert_num_queries(6):
        figures(None, today, use_cache=False)
    figures(None, today)
    # Once kept: the sessions' versions, and the calendar (open work: what is overdue on
    # which day).
    with django_assert_num_queries(2):
        figures(None, today)


def test_the_page_follows_a_change_of_the_data(staff, world):
    def pending():
        page = staff.get(URL, {"session": world.session.pk}).content.decode()
        table = page.split('data-table="sessions"')[1]
        return table.split('<td class="num" data-column="pending">')[1].split("<")[0]

    assert pending() == "0"
    proposal = Proposal.objects.create(
        session=world.session, title="新提案", reasons="理由", suggestions="建议"
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.zhanghua_proposer)
    assert pending() == "0"  # a draft is not received
    from proposals import services

    services.submit(proposal, world.zhanghua)  # an audit event: the figures are counted again
    assert pending() == "1"


def test_a_download_without_a_session_is_of_the_current_one(staff, world):
    Session.objects.create(term=world.term, number=2)
    response = staff.get(URL + "xlsx/", {"table": "sessions"})
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    assert sheet["A1"].value.startswith(str(world.session))
    assert [r[0] for r in sheet.iter_rows(min_row=4, values_only=True)] == [str(world.session)]
