"""A correction is never shown as signed when no leader signed it.

Typing errors (a few characters, no figure) are corrected by a publisher and the public
page says so, with the signed version one click away. Anything else is a correction of
substance: the unit submits it, its leader reads what changed and signs it again; only
then do the proposers, the cc units and the public see it.
"""

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from core.workflow import Refused
from proposals.models import CoOpinion
from replies import services
from replies.models import Publication, ReplyLetter, ReplyRevision

State = ReplyLetter.State


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def refused(func, *args, match="", **kwargs):
    with pytest.raises(Refused) as info:
        func(*args, **kwargs)
    if match:
        assert match in " ".join(info.value.messages), info.value.messages


@pytest.fixture
def published(world):
    CoOpinion.objects.create(
        assignment=world.co, title="会办意见", body="意见", sent_at=timezone.now()
    )
    letter = services.start_draft(world.lead, world.kjj)
    body = letter.body + "一、总体情况\n区科技局已争取资金2800余万元，推进县、乡、村三级联动。"
    letter = services.save_draft(letter, world.kjj, body=body, result_class="B")
    services.submit_for_signoff(letter, world.kjj)
    services.sign(letter, world.kjj_leader)
    services.send(letter, world.kjj)
    return services.publish(letter, world.tiwei)


def test_a_typing_error_is_corrected_and_marked_as_such(client, world, published):
    text = published.body.replace("县、乡、村", "区、镇、村")
    services.correct_typo(published, world.tiwei, "将“县、乡、村”更正为“区、镇、村”。", text=text)
    current = services.current_publication(published)
    assert (current.kind, current.version) == (Publication.Kind.TYPO, 2)
    page = client.get(reverse("public:reply", args=[published.pk])).content.decode()
    assert "更正说明：将“县、乡、村”更正为“区、镇、村”，更正于" in page
    signed_url = reverse("public:reply_version", args=[published.pk, 1])
    assert signed_url in page
    signed = client.get(signed_url).content.decode()
    assert "县、乡、村" in signed and "此答复函已经区科技局主要领导审签。" in signed


def test_changing_a_figure_is_substance_not_a_typo(world, published):
    text = published.body.replace("2800余万元", "2900余万元")
    refused(services.correct_typo, published, world.tiwei, "更正", text=text, match="figure")
    assert services.current_publication(published).version == 1


def test_a_longer_change_is_substance_not_a_typo(world, published):
    text = published.body + "此外，我局将进一步加大对科技型企业的支持力度。"
    refused(services.correct_typo, published, world.tiwei, "补充", text=text, match="substance")


def test_a_unit_without_publishing_corrects_no_typo(world, published):
    text = published.body.replace("县、乡、村", "区、镇、村")
    refused(services.correct_typo, published, world.kjj, "更正", text=text, match="may not")


def test_a_correction_of_substance_is_signed_again_before_anyone_sees_it(world, published):
    new_body = published.body.replace("2800余万元", "2900余万元")
    revision = services.propose_correction(
        published,
        world.kjj,
        reason="资金数据有误",
        title=published.title,
        salutation=published.salutation,
        body=new_body,
        result_class="B",
    )
    assert revision.is_correction and revision.is_pending
    # Until the leader signs, the letter, its proposers' copy and the public text are as signed.
    published.refresh_from_db()
    assert "2800余万元" in published.body
    assert "2800余万元" in services.current_publication(published).text
    refused(services.sign_correction, published, world.kjj, match="leader")
    services.sign_correction(published, world.kjj_leader)

    published.refresh_from_db()
    assert "2900余万元" in published.body
    assert published.signed_by == world.kjj_leader
    current = services.current_publication(published)
    assert (current.kind, current.reason) == (Publication.Kind.SIGNED, "资金数据有误")
    assert "2900余万元" in current.text
    revision.refresh_from_db()
    assert revision.decision == ReplyRevision.Decision.SIGNED
    note = world.zhanghua.notifications.get(verb="reply_corrected")
    assert "资金数据有误" in note.message
    assert world.proposal.events.filter(verb="reply_corrected").exists()


def test_the_leader_reads_what_a_correction_changes_and_may_send_it_back(client, world, published):
    services.propose_correction(
        published,
        world.kjj,
        reason="资金数据有误",
        title=published.title,
        salutation=published.salutation,
        body=published.body.replace("2800余万元", "2900余万元"),
        result_class="B",
    )
    client.force_login(world.kjj_leader)
    queue = client.get(reverse("replies:signoff_queue")).content.decode()
    assert reverse("replies:signoff", args=[published.pk]) in queue
    page = client.get(reverse("replies:signoff", args=[published.pk]))
    html = page.content.decode()
    assert page.context["correction"] is not None
    assert "<ins>9</ins>" in html and "<del>8</del>" in html
    assert "资金数据有误" in html
    response = client.post(
        reverse("replies:send_back_correction", args=[published.pk]), {"comment": "请核实"}
    )
    assert response.status_code == 302
    assert services.pending_correction(published) is None
    published.refresh_from_db()
    assert "2800余万元" in published.body
    assert world.kjj.notifications.filter(message__contains="请核实").exists()


def test_only_a_handler_proposes_a_correction_and_only_one_at_a_time(world, published):
    args = dict(
        reason="更正",
        title=published.title,
        salutation=published.salutation,
        body=published.body + "补充。",
        result_class="B",
    )
    refused(services.propose_correction, published, world.kjj_leader, match="handler", **args)
    refused(services.propose_correction, published, world.jxw, match="handler", **args)
    services.propose_correction(published, world.kjj, **args)
    refused(services.propose_correction, published, world.kjj, match="already waiting", **args)


def test_a_draft_is_not_corrected_it_is_edited(world):
    letter = services.start_draft(world.lead, world.kjj)
    refused(
        services.propose_correction,
        letter,
        world.kjj,
        reason="r",
        title=letter.title,
        salutation=letter.salutation,
        body=letter.body + "x",
        result_class="A",
        match="while the letter is",
    )


def test_a_unit_renamed_later_does_not_rewrite_its_published_letters(client, published):
    unit = published.assignment.unit
    unit.name = "重庆市梁平区科学技术和经济信息化局"
    unit.save()
    page = client.get(reverse("public:reply", args=[published.pk])).content.decode()
    assert "重庆市梁平区科学技术局" in page
    assert "科学技术和经济信息化局" not in page
