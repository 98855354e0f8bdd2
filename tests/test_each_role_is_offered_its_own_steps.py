"""Actions appear only to those who may take them, and only when they may.

From a walk through the whole path: the handler saw 起草答复函 before 签收; the leader,
after sending a draft back, still saw 修改草稿 / 提交审签 and, on a signed letter,
送达提案人; round 2 looked like round 1; the proposer's own letter page did not offer the
receipt; a notification ending in "请阅读答复函并填写回执：" ended without its link.
"""

from django.core import mail
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from accounts.notifications import notify
from proposals import services as proposal_services
from proposals.models import Assignment, CoOpinion, Proposal
from replies import services
from replies.models import Receipt

from .conftest import contact


def html(response):
    return response.content.decode()


def sign_and_send(world, assignment=None, round_body="正文。"):
    assignment = assignment or world.lead
    letter = services.start_draft(assignment, world.kjj)
    letter = services.save_draft(letter, world.kjj, body=letter.body + round_body, result_class="B")
    services.submit_for_signoff(letter, world.kjj, outstanding_reason="已电话反馈")
    services.sign(letter, world.kjj_leader)
    return services.send(letter, world.kjj)


def test_draft_the_reply_appears_only_after_acknowledging(client, world):
    start = reverse("replies:start", args=[world.lead.pk])
    Assignment.objects.filter(pk=world.lead.pk).update(acknowledged_at=None)
    Proposal.objects.filter(pk=world.proposal.pk).update(state=Proposal.State.ASSIGNED)
    client.force_login(world.kjj)
    page = client.get(world.proposal.get_absolute_url())
    assert start not in html(page)
    assert reverse("proposals:acknowledge", args=[world.lead.pk]) in html(page)
    proposal_services.acknowledge(world.lead, world.kjj)
    assert start in html(client.get(world.proposal.get_absolute_url()))


def test_a_leader_is_offered_signing_not_editing_submitting_or_sending(client, world):
    letter = services.start_draft(world.lead, world.kjj)
    client.force_login(world.kjj_leader)
    actions = client.get(letter.get_absolute_url()).context["actions"]
    assert not (actions["edit"] or actions["submit"] or actions["send"])
    CoOpinion.objects.create(
        assignment=world.co, title="会办意见", body="意见", sent_at=timezone.now()
    )
    letter = services.save_draft(letter, world.kjj, body=letter.body + "正文", result_class="A")
    services.submit_for_signoff(letter, world.kjj)
    services.send_back(letter, world.kjj_leader, "请补充数据")
    actions = client.get(letter.get_absolute_url()).context["actions"]
    assert not (actions["edit"] or actions["submit"] or actions["sign"])
    services.submit_for_signoff(letter, world.kjj)
    services.sign(letter, world.kjj_leader)
    actions = client.get(letter.get_absolute_url()).context["actions"]
    assert not actions["send"] and not actions["reopen"]
    client.force_login(world.kjj)
    assert client.get(letter.get_absolute_url()).context["actions"]["send"]


def test_the_handler_is_asked_for_a_contact_before_sign_off(client, world):
    world.lead.contacts.all().delete()
    CoOpinion.objects.create(
        assignment=world.co, title="会办意见", body="意见", sent_at=timezone.now()
    )
    letter = services.start_draft(world.lead, world.kjj)
    services.save_draft(letter, world.kjj, body=letter.body + "正文", result_class="A")
    client.force_login(world.kjj)
    page = html(client.get(letter.get_absolute_url()))
    assert "no-contact" in page
    assert reverse("proposals:contact", args=[world.lead.pk]) in page
    assert 'name="no_contact_reason"' in page
    contact(world.lead, world.kjj)
    page = html(client.get(letter.get_absolute_url()))
    assert "no-contact" not in page


def test_the_signer_is_told_when_no_contact_was_recorded(client, world):
    world.lead.contacts.all().delete()
    letter = services.start_draft(world.lead, world.kjj)
    services.save_draft(letter, world.kjj, body=letter.body + "正文", result_class="A")
    services.submit_for_signoff(
        letter, world.kjj, outstanding_reason="已电话反馈", no_contact_reason="提案人在外地"
    )
    client.force_login(world.kjj_leader)
    page = html(client.get(reverse("replies:signoff", args=[letter.pk])))
    assert "no-contact" in page and "提案人在外地" in page


def test_the_inbox_shows_the_first_contact_deadline_until_the_first_contact(client, world):
    world.lead.contacts.all().delete()
    client.force_login(world.kjj)
    response = client.get(reverse("proposals:inbox"))
    (row,) = response.context["sections"]["handling"]
    due = row.first_contact_due
    assert due.due > timezone.localdate(world.lead.assigned_at)
    assert due.due.strftime("%Y-%m-%d") in html(response)
    contact(world.lead, world.kjj)
    (row,) = client.get(reverse("proposals:inbox")).context["sections"]["handling"]
    assert row.first_contact == timezone.localdate()


def test_round_two_is_named_round_two(client, world):
    sign_and_send(world)
    proposal_services.order_rehandling(world.proposal, world.tiwei, comment="提案人不满意")
    second = Assignment.objects.get(proposal=world.proposal, round=2)
    contact(second, world.kjj)
    letter = sign_and_send(world, second, "第二轮正文。")
    assert letter.title.endswith("（第2轮答复）")
    note = world.zhanghua.notifications.filter(verb="reply_received").first()
    assert "第2轮答复" in note.message
    client.force_login(world.tiwei)
    listing = html(client.get(reverse("replies:unpublished")))
    assert listing.count('class="state round"') == 1


def test_the_proposers_copy_offers_the_receipt_while_it_is_open(client, world):
    letter = sign_and_send(world)
    client.force_login(world.zhanghua)
    page = client.get(letter.get_absolute_url())
    receipt = Receipt.objects.get(letter=letter, proposer=world.zhanghua_proposer)
    assert page.context["my_receipt_url"] == services.receipt_url(receipt)
    assert services.receipt_url(receipt) in html(page)
    services.submit_receipt(receipt, world.zhanghua, attitude="satisfied", result="satisfied")
    page = client.get(letter.get_absolute_url())
    assert "my_receipt_url" not in page.context


def test_a_notification_that_asks_to_follow_a_link_ends_with_it(world, settings):
    settings.SITE_URL = "https://tian.example.gov.cn"
    (row,) = notify([world.zhanghua], "reply_received", "请阅读答复函并填写回执：", "/r/abc/")
    assert row.message == "请阅读答复函并填写回执： https://tian.example.gov.cn/r/abc/"


@override_settings(SITE_URL="https://tian.example.gov.cn")
def test_links_in_emails_use_the_site_url(world, django_capture_on_commit_callbacks):
    world.zhanghua.email = "zhanghua@example.cn"
    world.zhanghua.save()
    with django_capture_on_commit_callbacks(execute=True):
        sign_and_send(world)
    (message,) = [m for m in mail.outbox if "zhanghua@example.cn" in m.to]
    assert "https://tian.example.gov.cn/r/" in message.body


def test_a_title_with_a_line_break_does_not_drop_the_email(
    world, django_capture_on_commit_callbacks
):
    world.tiwei.email = "tiwei@example.cn"
    world.tiwei.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.tiwei], "submitted", "关于\r\n加快创建的建议", "/work/")
    (message,) = mail.outbox
    assert message.subject == "关于 加快创建的建议"


def test_the_assignment_page_has_one_name_and_shows_the_pickers_of_the_mode(client, world):
    proposal = Proposal.objects.create(
        session=world.session,
        number=80,
        title="关于建设产业园的建议",
        reasons="理由",
        suggestions="建议",
        state=Proposal.State.ACCEPTED,
    )
    client.force_login(world.tiwei)
    page = html(client.get(reverse("proposals:assign", args=[proposal.pk])))
    title = page.split("<title>", 1)[1].split(" · ", 1)[0]
    heading = page.split("<h1>", 1)[1].split("</h1>", 1)[0]
    assert title == heading
    assert "data-handling-mode" in page and "js/assign.js" in page
    for name in ("lead", "co_units", "split_units"):
        assert f"field-{name}" in page
