"""/work/: the proposals that concern the user, newest first, filtered, paginated."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Membership
from proposals.models import Assignment, Category, Proposal, ProposalProposer

URL = "/work/"


def titles(response):
    return [p.title for p in response.context["page"]]


def add_proposals(world, n, unit=None, **fields):
    made = []
    for i in range(n):
        proposal = Proposal.objects.create(
            session=world.session,
            number=100 + Proposal.objects.count(),
            title=f"关于第{i}项工作的建议",
            category=world.category,
            state=fields.get("state", Proposal.State.HANDLING),
        )
        ProposalProposer.objects.create(proposal=proposal, proposer=world.lisi_proposer)
        if unit:
            Assignment.objects.create(
                proposal=proposal, unit=unit, role="lead", assigned_at=proposal.created_at
            )
        made.append(proposal)
    return made


def test_login_lands_on_the_workspace(world, client):
    response = client.post(
        reverse("login"), {"username": "kjj", "password": "demo-pass-069"}, follow=False
    )
    assert response.status_code == 302
    assert response["Location"] == URL


def test_anonymous_users_are_sent_to_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_committee_staff_see_every_proposal(world, client):
    add_proposals(world, 2, unit=world.other_unit)
    client.force_login(world.tiwei)
    assert len(titles(client.get(URL))) == 3


def test_a_unit_sees_only_the_proposals_assigned_to_it(world, client):
    add_proposals(world, 2, unit=world.other_unit)
    client.force_login(world.jxw)
    assert titles(client.get(URL)) == ["关于加快创建国家级高新区的建议"]
    client.force_login(world.outsider)
    assert len(titles(client.get(URL))) == 2
    assert "关于加快创建国家级高新区的建议" not in titles(client.get(URL))


def test_a_proposer_sees_only_their_own(world, client):
    add_proposals(world, 2, unit=world.other_unit)
    client.force_login(world.zhanghua)
    assert titles(client.get(URL)) == ["关于加快创建国家级高新区的建议"]


def test_a_user_with_no_role_sees_nothing(world, client):
    Membership.objects.filter(user=world.outsider).delete()
    client.force_login(world.outsider)
    assert titles(client.get(URL)) == []


def test_the_list_shows_state_lead_unit_and_deadline(world, client):
    client.force_login(world.kjj)
    html = client.get(URL).content.decode()
    assert "第069号" in html
    assert "区科技局" in html
    assert world.lead.reply_due.strftime("%Y-%m-%d") in html


def test_newest_first(world, client):
    made = add_proposals(world, 3, unit=world.kjj_unit)
    client.force_login(world.kjj)
    assert titles(client.get(URL))[0] == made[-1].title


def test_filters_by_state_category_unit_and_session(world, client):
    add_proposals(world, 2, unit=world.other_unit, state=Proposal.State.CLOSED)
    other = Category.objects.create(name="社会事业")
    client.force_login(world.tiwei)
    assert len(titles(client.get(URL, {"state": "closed"}))) == 2
    assert titles(client.get(URL, {"unit": world.kjj_unit.pk})) == [world.proposal.title]
    assert titles(client.get(URL, {"category": other.pk})) == []
    assert len(titles(client.get(URL, {"session": world.session.pk}))) == 3


def test_it_paginates(world, client):
    add_proposals(world, 30, unit=world.kjj_unit)
    client.force_login(world.kjj)
    first = client.get(URL)
    second = client.get(URL, {"page": 2})
    assert len(titles(first)) == 25
    assert len(titles(second)) == 6
    assert not set(titles(first)) & set(titles(second))


@pytest.mark.parametrize("user", ["tiwei", "kjj", "zhanghua"])
def test_the_list_query_count_does_not_grow_with_rows(
    world, client, django_assert_num_queries, user
):
    client.force_login(getattr(world, user))
    client.get(URL)  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        client.get(URL)
    add_proposals(world, 24, unit=world.kjj_unit)
    for p in Proposal.objects.exclude(pk=world.proposal.pk):
        ProposalProposer.objects.get_or_create(
            proposal=p, proposer=world.zhanghua_proposer, defaults={"position": 1}
        )
    with django_assert_num_queries(len(few.captured_queries)):
        response = client.get(URL)
    assert len(titles(response)) == 25
