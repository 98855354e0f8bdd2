"""The demo data: the real case of proposal 069, complete, and one of everything else."""

import datetime
import unicodedata
from io import StringIO

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.utils import timezone

from accounts.models import Membership, User
from demo.seed import seed_paragraphs
from proposals.models import Assignment, Event, Proposal
from replies.models import ReplyLetter

PASSWORD = "demo-pass-069"
TITLE = "重庆市梁平区科学技术局关于政协重庆市梁平区政协第十五届委员会第一次会议第069号提案的答复函"
OPENING = (
    "你提出的《关于加快创建国家级高新区的建议》（第069号提案）收悉，经与区经济信息委、"
    "工业园区管委会、区招商投资局等协办单位共同研究办理，现答复如下："
)


def load_demo(*args, debug=True):
    """As `make run` does it: with DEBUG on."""
    out = StringIO()
    with override_settings(DEBUG=debug):
        call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Every row of the project's tables (many-to-many links included), as plain values."""
    rows = {}
    for label in ("accounts", "proposals", "replies"):
        for model in apps.get_app_config(label).get_models(include_auto_created=True):
            rows[model._meta.label] = list(model.objects.order_by("pk").values())
    return rows


@pytest.fixture
def demo(db):
    return load_demo()


@pytest.fixture
def letter(demo):
    return ReplyLetter.objects.select_related("assignment__proposal").get(
        assignment__proposal__number=69
    )


def local_date(moment):
    return timezone.localtime(moment).date()


def test_loading_twice_changes_nothing(demo):
    first = snapshot()
    assert len(first["proposals.Proposal"]) == 20
    load_demo()
    assert snapshot() == first


def test_it_prints_one_line_with_the_069_reply(demo, letter):
    assert demo.count("\n") == 1
    assert letter.get_public_url() in demo
    assert "20" in demo and PASSWORD in demo


def test_it_refuses_a_database_with_other_accounts(db):
    User.objects.create_user("someone-real", password="x" * 12)
    with pytest.raises(CommandError):
        load_demo()
    assert not User.objects.filter(username="admin").exists()
    load_demo("--force")
    assert User.objects.filter(username="admin").exists()


def test_it_refuses_a_production_database(db):
    with pytest.raises(CommandError):
        load_demo(debug=False)
    assert not User.objects.exists()


def test_it_does_not_count_synthetic_accounts_as_real_ones(db):
    User.objects.create_user("gen_m001", password="x" * 12)
    load_demo()
    assert User.objects.filter(username="admin").exists()


def test_the_069_letter_is_the_seed_letter(letter):
    assert letter.title == TITLE
    assert letter.salutation == "张华委员："
    assert letter.body.startswith(OPENING)
    assert letter.body.endswith("享受国务院特殊津贴专家1名。")
    assert letter.attestation == "此答复函已经区科技局主要领导审签。"
    assert letter.doc_number == "梁平科技函〔2022〕45号"
    assert letter.letter_date == datetime.date(2022, 7, 20)
    assert local_date(letter.sent_at) == datetime.date(2022, 7, 20)
    assert local_date(letter.published_at) == datetime.date(2022, 7, 20)
    assert letter.state == ReplyLetter.State.PUBLISHED
    assert letter.result_class == "B"
    assert letter.disclosure == ReplyLetter.Disclosure.FULL


def test_the_069_body_keeps_the_seeds_wording_and_paragraphs(letter):
    paragraphs = letter.body.split("\n\n")
    assert "一、创新工作机制，抓实企业服务" in paragraphs
    assert "二、加大政策支持强化资源统筹" in paragraphs
    assert "三、积极引资引智集聚发展动能" in paragraphs
    # Only the punctuation's width differs from the web copy.
    seed = seed_paragraphs()
    start = seed.index(next(p for p in seed if p.startswith("你提出的")))
    assert [unicodedata.normalize("NFKC", p) for p in paragraphs] == [
        unicodedata.normalize("NFKC", p) for p in seed[start : start + len(paragraphs)]
    ]
    assert seed[start + len(paragraphs)].startswith(letter.attestation)


def test_the_069_letter_is_signed_sent_published_and_answered(letter):
    assert letter.signed_by.username == "kjj_leader"
    assert letter.signer_title == "主要领导"
    assert {u.short_name for u in letter.cc_units.all()} == {
        "区经济信息委",
        "工业园区管委会",
        "区招商投资局",
        "区政协提案委",
        "区政府督查办",
    }
    publication = letter.publications.get()
    assert (publication.version, publication.title, publication.text) == (1, TITLE, letter.body)
    assert publication.ended_at is None
    receipt = letter.receipts.get()
    assert receipt.proposer.name == "张华"
    assert (receipt.attitude, receipt.result, receipt.channel) == (
        "satisfied",
        "satisfied",
        "online",
    )
    assert receipt.is_submitted


def test_the_069_proposal_was_handled_jointly_by_four_units(letter):
    proposal = letter.assignment.proposal
    assert proposal.title == "关于加快创建国家级高新区的建议"
    assert proposal.state == Proposal.State.CLOSED
    assert proposal.handling_mode == Proposal.HandlingMode.JOINT
    first = proposal.proposer_list.get()
    assert (first.proposer.name, first.position) == ("张华", 0)
    assignments = {a.unit.short_name: a for a in proposal.assignments.select_related("unit")}
    assert assignments["区科技局"].role == Assignment.Role.LEAD
    assert assignments["区科技局"].reply_due.year == 2022
    co = ["区经济信息委", "工业园区管委会", "区招商投资局"]
    for name in co:
        assignment = assignments[name]
        assert assignment.role == Assignment.Role.CO
        assert assignment.acknowledged_at is not None
        assert assignment.opinion_due.year == 2022
        assert assignment.opinion.title.endswith("关于第069号提案的会办意见")
        assert "〔2022〕" in assignment.opinion.doc_number
        assert local_date(assignment.opinion.sent_at).year == 2022
    assert assignments["区科技局"].contacts.get().leader_took_part


def test_the_069_history_has_every_main_step_in_2022(letter):
    events = Event.objects.filter(proposal=letter.assignment.proposal)
    verbs = set(events.values_list("verb", flat=True))
    assert {
        "submitted",
        "accepted",
        "assigned",
        "acknowledged",
        "opinion_sent",
        "contact_recorded",
        "reply_drafted",
        "reply_signed",
        "reply_sent",
        "reply_published",
    } <= verbs
    assert {local_date(e.created_at).year for e in events} == {2022}
    ordered = list(events.order_by("created_at", "id").values_list("verb", flat=True))
    assert ordered.index("reply_signed") < ordered.index("reply_sent")
    assert ordered.index("reply_sent") < ordered.index("reply_published")


def test_the_demo_accounts_log_in_with_the_demo_password(demo):
    users = {u.username: u for u in User.objects.all()}
    for username in ("admin", "tiwei", "kjj", "kjj_leader", "jxw", "zhanghua"):
        assert users[username].check_password(PASSWORD), username
    assert users["admin"].is_superuser and users["admin"].is_staff
    assert users["tiwei"].is_committee_staff
    roles = {
        (m.user.username, m.unit.short_name, m.role, m.title)
        for m in Membership.objects.select_related("user", "unit")
    }
    assert ("kjj", "区科技局", "handler", "") in roles
    assert ("kjj_leader", "区科技局", "leader", "主要领导") in roles
    assert ("jxw", "区经济信息委", "handler", "") in roles
    proposer = users["zhanghua"].proposer
    assert (proposer.name, proposer.kind, proposer.sector) == ("张华", "member", "科技界")
    assert proposer.phone and proposer.address


def test_every_proposal_state_is_present(demo):
    states = set(Proposal.objects.values_list("state", flat=True))
    assert states == set(Proposal.State.values)


def test_every_screen_has_something(demo):
    letters = ReplyLetter.objects.select_related("assignment__unit")
    awaiting = letters.filter(state=ReplyLetter.State.AWAITING_SIGNOFF)
    assert awaiting.filter(assignment__unit__short_name="区科技局").exists()
    states = set(letters.values_list("state", flat=True))
    assert {"draft", "awaiting_signoff", "sent", "published"} <= states
    published = letters.filter(state=ReplyLetter.State.PUBLISHED)
    assert published.exclude(assignment__unit__short_name="区科技局").count() >= 2
    assert published.filter(disclosure=ReplyLetter.Disclosure.SUMMARY).exists()
    assert letters.filter(disclosure=ReplyLetter.Disclosure.NONE).exists()
    joint = Proposal.objects.filter(proposer_list__proposer__name="张华", proposer_list__position=1)
    assert joint.exists()
    assert Proposal.objects.get(state="rejected").rejection_reason.label == "个人事务"
    assert Proposal.objects.get(state="merged").merged_into.number == 69


def test_the_demo_shows_the_committees_year(db):
    """A key proposal past its deadline with a 督办 note and its answer; one due in days
    with an extension asked and approved."""
    from proposals.models import Assignment, ExtensionRequest, SupervisionNote

    call_command("load_demo", "--force", stdout=StringIO())
    key = Proposal.objects.get(is_key=True)
    assert key.supervising_leader
    note = SupervisionNote.objects.get(assignment__proposal=key)
    assert note.answer and note.answered_at
    lead = Assignment.objects.get(proposal=key, role="lead")
    assert lead.due < timezone.localdate()
    request = ExtensionRequest.objects.get(status=ExtensionRequest.Status.APPROVED)
    assert request.assignment.extended_due == request.granted_due > timezone.localdate()
    assert {"supervised", "supervision_answered", "key_marked"} <= set(
        key.events.values_list("verb", flat=True)
    )
