"""The reply-letter workflow: drafting, sign-off, sending, publishing, and what each refuses."""

import pytest
from django.utils import timezone, translation

from accounts.models import Notification, Proposer, Unit
from core.workflow import Refused
from proposals.models import CoOpinion, Event, Proposal, ProposalProposer
from replies import services
from replies.models import DocNumberSequence, Publication, Receipt, ReplyLetter

State = ReplyLetter.State


@pytest.fixture(autouse=True)
def english():
    """Refusal messages are matched in English; the UI itself is Chinese."""
    with translation.override("en"):
        yield


@pytest.fixture
def offices(world):
    return [
        Unit.objects.create(
            name="梁平区政协提案委员会", short_name="区政协提案委", kind="committee"
        ),
        Unit.objects.create(name="梁平区政府督查办", short_name="区政府督查办", kind="supervision"),
    ]


def refused(func, *args, match="", **kwargs):
    with pytest.raises(Refused) as info:
        func(*args, **kwargs)
    if match:
        assert match in " ".join(info.value.messages)


def draft(world, body="一、总体情况\n正文。", **fields):
    letter = services.start_draft(world.lead, world.kjj)
    return services.save_draft(
        letter, world.kjj, body=letter.body + body, result_class="B", **fields
    )


def send_opinion(world):
    CoOpinion.objects.create(
        assignment=world.co, title="会办意见", body="意见", sent_at=timezone.now()
    )


def signed(world):
    send_opinion(world)
    letter = draft(world)
    services.submit_for_signoff(letter, world.kjj)
    return services.sign(letter, world.kjj_leader)


def test_a_draft_is_prefilled_from_the_case(world, offices):
    world.kjj.phone = "023-53222222"
    world.kjj.save()
    letter = services.start_draft(world.lead, world.kjj)
    assert letter.state == State.DRAFT
    assert letter.title == (
        "重庆市梁平区科学技术局关于政协重庆市梁平区第十五届委员会第一次会议第069号提案的答复函"
    )
    assert letter.salutation == "张华委员："
    assert letter.body.startswith(
        "你提出的《关于加快创建国家级高新区的建议》（第069号提案）收悉，"
        "经与区经济信息委等协办单位共同研究办理，现答复如下："
    )
    assert set(letter.cc_units.all()) == {world.jxw_unit, *offices}
    assert (letter.contact_person, letter.contact_phone) == ("科技局经办人", "023-53222222")
    assert Event.objects.filter(verb="reply_drafted", object_id=letter.pk).exists()


def test_a_joint_proposal_is_addressed_to_every_proposer_and_a_collective_by_name(world):
    ProposalProposer.objects.create(
        proposal=world.proposal, proposer=world.lisi_proposer, position=1
    )
    party = Proposer.objects.create(name="民盟梁平区委", kind=Proposer.Kind.PARTY)
    ProposalProposer.objects.create(proposal=world.proposal, proposer=party, position=2)
    letter = services.start_draft(world.lead, world.kjj)
    assert letter.salutation == "张华、李四委员、民盟梁平区委："
    assert letter.body.startswith("你们提出的")


def test_only_the_lead_units_people_start_a_draft(world):
    refused(services.start_draft, world.co, world.jxw, match="lead unit")
    refused(services.start_draft, world.lead, world.jxw)
    refused(services.start_draft, world.lead, world.outsider)
    assert not ReplyLetter.objects.exists()


def test_sign_off_waits_for_co_opinions_unless_the_drafter_says_why(world):
    letter = draft(world)
    refused(services.submit_for_signoff, letter, world.kjj, match="区经济信息委")
    letter.refresh_from_db()
    assert letter.state == State.DRAFT
    services.submit_for_signoff(letter, world.kjj, outstanding_reason="协办单位已电话反馈意见")
    letter.refresh_from_db()
    assert letter.state == State.AWAITING_SIGNOFF
    assert letter.outstanding_opinions_reason == "协办单位已电话反馈意见"


def test_submitting_keeps_a_revision_and_tells_the_leader(world):
    send_opinion(world)
    letter = draft(world)
    services.submit_for_signoff(letter, world.kjj)
    assert letter.revisions.count() == 1
    assert Notification.objects.filter(
        recipient=world.kjj_leader, verb="signoff_requested"
    ).exists()


def test_sending_back_returns_the_draft_with_the_comment(world):
    send_opinion(world)
    letter = draft(world)
    services.submit_for_signoff(letter, world.kjj)
    refused(services.send_back, letter, world.kjj_leader, "")
    services.send_back(letter, world.kjj_leader, "第二部分请补充具体数据")
    letter.refresh_from_db()
    assert letter.state == State.DRAFT
    assert letter.signoff_comment == "第二部分请补充具体数据"
    note = Notification.objects.get(recipient=world.kjj, verb="reply_sent_back")
    assert "第二部分请补充具体数据" in note.message
    services.save_draft(letter, world.kjj, body=letter.body + "\n累计兑付资金2800余万元。")
    services.submit_for_signoff(letter, world.kjj)
    previous, current = services.diff_since_last_seen(letter)
    assert previous.number == 1 and current.number == 2
    assert "2800" in current.body and "2800" not in previous.body
    assert previous.seen_by_signer_at is not None


def test_signing_numbers_the_letter_adds_the_attestation_and_freezes_it(world):
    letter = signed(world)
    year = timezone.localdate().year
    assert letter.state == State.SIGNED
    assert letter.doc_number == f"梁平科技函〔{year}〕1号"
    assert letter.attestation == "此答复函已经区科技局主要领导审签。"
    assert letter.signed_by == world.kjj_leader
    refused(services.save_draft, letter, world.kjj, body="改过的正文", match="frozen")
    letter.refresh_from_db()
    assert "改过的正文" not in letter.body


def test_reopening_a_signed_letter_needs_signing_again_and_keeps_its_number(world):
    letter = signed(world)
    number = letter.doc_number
    refused(services.reopen, letter, world.kjj, "")
    services.reopen(letter, world.kjj, "更正数据")
    letter.refresh_from_db()
    assert letter.state == State.DRAFT and letter.signed_by is None
    services.save_draft(letter, world.kjj, body=letter.body + "更正。")
    services.submit_for_signoff(letter, world.kjj)
    services.sign(letter, world.kjj_leader)
    letter.refresh_from_db()
    assert letter.doc_number == number
    assert DocNumberSequence.objects.get().last == 1


def test_document_numbers_follow_a_yearly_sequence_per_unit(world):
    year = timezone.localdate().year
    numbers = [services.next_doc_number(world.kjj_unit, year) for _ in range(3)]
    assert numbers == [f"梁平科技函〔{year}〕{n}号" for n in (1, 2, 3)]
    assert services.next_doc_number(world.kjj_unit, year + 1) == f"梁平科技函〔{year + 1}〕1号"


def test_only_a_leader_of_the_issuing_unit_signs(world):
    send_opinion(world)
    letter = draft(world)
    services.submit_for_signoff(letter, world.kjj)
    for user in (world.kjj, world.jxw, world.tiwei, world.outsider):
        refused(services.sign, letter, user)
    letter.refresh_from_db()
    assert letter.state == State.AWAITING_SIGNOFF and not letter.doc_number


def test_sending_asks_every_proposer_for_a_receipt_and_marks_the_proposal_replied(world):
    ProposalProposer.objects.create(
        proposal=world.proposal, proposer=world.lisi_proposer, position=1
    )
    merged = Proposal.objects.create(
        session=world.session,
        title="并案提案",
        state=Proposal.State.MERGED,
        merged_into=world.proposal,
    )
    wang = Proposer.objects.create(name="王五", phone="13900000071")
    ProposalProposer.objects.create(proposal=merged, proposer=wang, position=0)
    letter = signed(world)
    services.send(letter, world.kjj)
    letter.refresh_from_db()
    world.proposal.refresh_from_db()
    assert letter.state == State.SENT and letter.sent_at
    assert world.proposal.state == Proposal.State.REPLIED
    assert set(Receipt.objects.filter(letter=letter).values_list("proposer__name", flat=True)) == {
        "张华",
        "李四",
        "王五",
    }
    assert Notification.objects.filter(recipient=world.zhanghua, verb="reply_received").exists()
    assert Notification.objects.filter(recipient=world.jxw, verb="reply_copied").exists()


def test_an_unsigned_letter_cannot_be_sent_or_published(world):
    letter = draft(world)
    refused(services.send, letter, world.kjj)
    refused(services.publish, letter, world.tiwei)
    letter.refresh_from_db()
    assert letter.state == State.DRAFT


def test_a_unit_publishes_its_own_letters_only_where_the_committee_granted_it(world):
    letter = signed(world)
    services.send(letter, world.kjj)
    refused(services.publish, letter, world.kjj, match="may not publish")
    Unit.objects.filter(pk=world.kjj_unit.pk).update(publishes_own_replies=True)
    letter = ReplyLetter.objects.get(pk=letter.pk)
    refused(services.publish, letter, world.jxw, match="may not publish")
    services.publish(letter, world.kjj)
    letter.refresh_from_db()
    assert letter.state == State.PUBLISHED
    publication = Publication.objects.get(letter=letter)
    assert publication.text == letter.body


def test_a_summary_letter_publishes_its_summary_and_a_private_one_nothing(world):
    letter = draft(
        world,
        disclosure=ReplyLetter.Disclosure.SUMMARY,
        public_summary="区科技局已将创建国家高新区纳入规划。",
    )
    send_opinion(world) if not CoOpinion.objects.exists() else None
    services.submit_for_signoff(letter, world.kjj)
    services.sign(letter, world.kjj_leader)
    services.send(letter, world.kjj)
    services.publish(letter, world.tiwei)
    assert Publication.objects.get(letter=letter).text == "区科技局已将创建国家高新区纳入规划。"


def test_a_not_public_letter_is_refused_with_its_reason(world):
    send_opinion(world)
    letter = draft(world, disclosure="none", nondisclosure_reason="涉及商业秘密")
    services.submit_for_signoff(letter, world.kjj)
    services.sign(letter, world.kjj_leader)
    services.send(letter, world.kjj)
    refused(services.publish, letter, world.tiwei, match="涉及商业秘密")
    assert not Publication.objects.exists()


def test_a_typo_correction_and_unpublishing_keep_every_version(world):
    letter = signed(world)
    services.send(letter, world.kjj)
    services.publish(letter, world.tiwei)
    corrected = letter.body.replace("正文", "全文")
    services.correct_typo(letter, world.tiwei, "更正错别字", text=corrected)
    current = services.current_publication(letter)
    assert (current.text, current.version, current.kind) == (corrected, 2, Publication.Kind.TYPO)
    services.unpublish(letter, world.tiwei, "应提案人要求撤回")
    letter.refresh_from_db()
    assert letter.state == State.UNPUBLISHED and not letter.is_public
    assert services.current_publication(letter) is None
    assert Publication.objects.filter(letter=letter).count() == 2
    verbs = list(Event.objects.filter(object_id=letter.pk).values_list("verb", flat=True))
    assert {"reply_published", "reply_typo_corrected", "reply_unpublished"} <= set(verbs)


def test_the_signer_sees_changes_since_the_revision_they_last_read(world):
    send_opinion(world)
    letter = draft(world)
    services.submit_for_signoff(letter, world.kjj)
    services.send_back(letter, world.kjj_leader, "请修改")  # the leader read revision 1
    services.save_draft(letter, world.kjj, body=letter.body + "第二版。")
    services.submit_for_signoff(letter, world.kjj)
    # Taken back for another fix (say, by an administrator) before the leader looked:
    # revision 2 was never read.
    ReplyLetter.objects.filter(pk=letter.pk).update(state=State.DRAFT)
    letter.refresh_from_db()
    services.save_draft(letter, world.kjj, body=letter.body + "第三版。")
    services.submit_for_signoff(letter, world.kjj)
    previous, current = services.diff_since_last_seen(letter)
    assert (previous.number, current.number) == (1, 3)
