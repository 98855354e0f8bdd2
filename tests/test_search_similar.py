"""Similar proposals: 并案 candidates on the review page, units that handled similar ones."""

import datetime

import pytest
from django.utils import timezone

from proposals import similar
from proposals.models import Assignment, Proposal, Session

NEAR_DUPLICATE = "关于推进梁山街道老旧小区改造工作的建议"


@pytest.fixture
def session_proposals(world):
    def make(title, state=Proposal.State.ACCEPTED, session=None, **extra):
        return Proposal.objects.create(
            session=session or world.session,
            title=title,
            state=state,
            reasons=extra.pop("reasons", "小区设施老化，群众反映强烈。"),
            **extra,
        )

    world.target = make("关于加快推进梁山街道老旧小区改造的建议", state=Proposal.State.SUBMITTED)
    # Others sharing some words, planted before and after the near-duplicate.
    make("关于加快推进乡村旅游发展的建议")
    make("关于梁山街道农贸市场升级的建议")
    world.duplicate = make(NEAR_DUPLICATE)
    make("关于完善城区停车设施的建议")
    make("关于加强老旧电梯安全监管的建议")
    return world


def test_the_near_duplicate_is_listed_first(session_proposals):
    found = similar.similar_proposals(session_proposals.target)
    assert found[0].pk == session_proposals.duplicate.pk
    assert session_proposals.target.pk not in [p.pk for p in found]


def test_the_review_page_shows_the_candidates(client, session_proposals):
    client.force_login(session_proposals.tiwei)
    response = client.get(f"/work/proposals/{session_proposals.target.pk}/review/")
    assert response.status_code == 200
    page = response.content.decode()
    assert NEAR_DUPLICATE in page
    assert page.index(NEAR_DUPLICATE) < page.index("关于梁山街道农贸市场升级的建议")


def test_the_assignment_page_suggests_the_units_of_similar_past_proposals(client, world):
    past = Session.objects.create(term=world.term, number=0)
    now = timezone.now()
    for title, unit in [
        ("关于推进老旧小区改造的建议", world.other_unit),
        ("关于老旧小区加装电梯的建议", world.other_unit),
        ("关于发展数字经济的建议", world.jxw_unit),
    ]:
        p = Proposal.objects.create(session=past, title=title, state=Proposal.State.CLOSED)
        Assignment.objects.create(
            proposal=p,
            unit=unit,
            role=Assignment.Role.LEAD,
            assigned_at=now,
            reply_due=datetime.date.today(),
        )
    current = Proposal.objects.create(
        session=world.session, title="关于加快老旧小区改造的建议", state=Proposal.State.ACCEPTED
    )
    units = similar.suggested_units(current)
    assert units[0][0] == world.other_unit
    assert [p.title for p in units[0][1]][0] in (
        "关于推进老旧小区改造的建议",
        "关于老旧小区加装电梯的建议",
    )
    client.force_login(world.tiwei)
    response = client.get(f"/work/proposals/{current.pk}/assign/")
    assert response.status_code == 200
    assert "关于老旧小区加装电梯的建议" in response.content.decode()
