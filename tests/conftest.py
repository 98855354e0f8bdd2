"""Shared fixtures: a small world with one user for each role.

`world` gives: units kjj (区科技局, lead), jxw (区经济信息委, co), other (区教委, unrelated);
users tiwei (committee staff), kjj (handler), kjj_leader (leader, 主要领导), jxw (handler),
outsider (区教委 handler), zhanghua (proposer 张华), lisi (proposer 李四), admin (superuser);
a session (第十五届委员会第一次会议), a category and proposal 069 assigned in 会办 mode.
"""

import datetime
from types import SimpleNamespace

import pytest
from django.utils import timezone

from accounts.models import Membership, Proposer, Unit, User
from proposals.models import (
    Assignment,
    Category,
    ContactRecord,
    Proposal,
    ProposalProposer,
    Session,
    Term,
)

PASSWORD = "demo-pass-069"


def make_user(username, full_name, **extra):
    user = User(username=username, full_name=full_name, **extra)
    user.set_password(PASSWORD)
    user.save()
    return user


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: cached public pages, counts, rate limits."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def world(db):
    return build_world()


@pytest.fixture
def live_world(transactional_db):
    """The same world, committed, for tests against a live server."""
    return build_world()


def build_world():
    w = SimpleNamespace()
    w.kjj_unit = Unit.objects.create(
        name="重庆市梁平区科学技术局",
        short_name="区科技局",
        doc_number_template="梁平科技函〔{year}〕{n}号",
    )
    w.jxw_unit = Unit.objects.create(
        name="重庆市梁平区经济和信息化委员会", short_name="区经济信息委"
    )
    w.other_unit = Unit.objects.create(name="重庆市梁平区教育委员会", short_name="区教委")

    w.admin = make_user("admin", "管理员", is_staff=True, is_superuser=True)
    w.tiwei = make_user("tiwei", "提案委", is_committee_staff=True)
    w.kjj = make_user("kjj", "科技局经办人")
    w.kjj_leader = make_user("kjj_leader", "科技局局长")
    w.jxw = make_user("jxw", "经信委经办人")
    w.outsider = make_user("outsider", "教委经办人")
    w.zhanghua = make_user("zhanghua", "张华")
    w.lisi = make_user("lisi", "李四")
    Membership.objects.create(user=w.kjj, unit=w.kjj_unit, role=Membership.Role.HANDLER)
    Membership.objects.create(
        user=w.kjj_leader, unit=w.kjj_unit, role=Membership.Role.LEADER, title="主要领导"
    )
    Membership.objects.create(user=w.jxw, unit=w.jxw_unit, role=Membership.Role.HANDLER)
    Membership.objects.create(user=w.outsider, unit=w.other_unit, role=Membership.Role.HANDLER)

    w.zhanghua_proposer = Proposer.objects.create(
        name="张华", user=w.zhanghua, sector="科技界", phone="13900000069", address="梁平区双桂街道"
    )
    w.lisi_proposer = Proposer.objects.create(name="李四", user=w.lisi, phone="13900000070")

    w.term = Term.objects.create(number=15)
    w.session = Session.objects.create(term=w.term, number=1, is_current=True)
    w.category = Category.objects.create(name="经济建设")

    w.proposal = Proposal.objects.create(
        session=w.session,
        number=69,
        title="关于加快创建国家级高新区的建议",
        reasons="理由",
        suggestions="建议",
        category=w.category,
        state=Proposal.State.HANDLING,
        review_outcome=Proposal.ReviewOutcome.ACCEPT,
        handling_mode=Proposal.HandlingMode.JOINT,
        submitted_at=timezone.now(),
    )
    ProposalProposer.objects.create(proposal=w.proposal, proposer=w.zhanghua_proposer, position=0)
    now = timezone.now()
    w.lead = Assignment.objects.create(
        proposal=w.proposal,
        unit=w.kjj_unit,
        role=Assignment.Role.LEAD,
        assigned_at=now,
        acknowledged_at=now,
        reply_due=datetime.date.today() + datetime.timedelta(days=90),
    )
    # As in the seed: 区科技局 met 张华 before replying.
    ContactRecord.objects.create(
        assignment=w.lead,
        contacted_on=datetime.date.today(),
        method=ContactRecord.Method.MEETING,
        participants="科技局经办人、张华",
        summary="面商",
    )
    w.co = Assignment.objects.create(
        proposal=w.proposal,
        unit=w.jxw_unit,
        role=Assignment.Role.CO,
        assigned_at=now,
        opinion_due=datetime.date.today() + datetime.timedelta(days=30),
    )
    return w


def contact(assignment, user, method="phone"):
    """A contact with the proposer, as the unit records it before the reply goes to sign-off."""
    from proposals import services

    return services.record_contact(
        assignment, user, contacted_on=timezone.localdate(), method=method, summary="电话沟通"
    )
