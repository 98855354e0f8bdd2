"""The receipt page /r/<token>/ (no login), its rate limit, and a member's /r/mine/."""

import datetime

import pytest
from django.core import signing
from django.core.cache import cache
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape

from proposals.models import ProposalProposer
from replies import services
from replies.models import Receipt, ReplyLetter

from .test_receipt_services import (
    handling_proposal,
    lead_of,
    rate,
    receipt_of,
    send_reply,
    with_tian,
)

Rating = Receipt.Rating


@pytest.fixture(autouse=True)
def fresh_rate_limit():
    # The limiter counts in the cache, which outlives a test.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def client(client):
    # Asserted in the English msgids, whatever the catalog says.
    client.cookies["django_language"] = "en"
    return client


@pytest.fixture
def letter(world):
    ProposalProposer.objects.create(
        proposal=world.proposal, proposer=world.lisi_proposer, position=1
    )
    return send_reply(world, world.lead, body="一、总体情况\n区科技局已将创建工作纳入规划。")


@pytest.fixture
def zhang(letter, world):
    return receipt_of(letter, world.zhanghua_proposer)


@pytest.fixture
def li(letter, world):
    return receipt_of(letter, world.lisi_proposer)


def url(receipt):
    return services.receipt_url(receipt)


def html(response):
    return response.content.decode()


GOOD = {
    "contacted": "yes",
    "contact_method": "meeting",
    "leader_took_part": "yes",
    "attitude": "satisfied",
    "result": "basically",
    "opinion": "感谢区科技局的认真办理。",
}


# --- reading and answering ---------------------------------------------------------------------


def test_the_link_shows_the_proposal_the_letter_and_the_form(client, zhang, world):
    response = client.get(url(zhang))
    assert response.status_code == 200
    assert response.templates[0].name == "receipts/form.html"
    page = html(response)
    assert "第069号" in page and "关于加快创建国家级高新区的建议" in page
    assert "重庆市梁平区科学技术局" in page
    assert zhang.letter.title in page
    assert "张华、李四委员：" in page
    assert '<p class="heading">一、总体情况</p>' in page
    assert "此答复函已经区科技局主要领导审签。" in page
    assert "css/receipt.css" in page and "css/tian.css" not in page
    for name, value in [("contacted", "yes"), ("contact_method", "forum"), ("result", "basically")]:
        assert f'name="{name}" value="{value}"' in page
    assert 'value="understand"' not in page
    assert "no-store" in response["Cache-Control"]


def test_understand_is_offered_for_the_result_where_configured(client, zhang, settings):
    with_tian(settings, RESULT_RATING_UNDERSTAND=True)
    page = html(client.get(url(zhang)))
    assert 'name="result" value="understand"' in page
    assert 'name="attitude" value="understand"' not in page


def test_an_answer_is_saved_and_the_link_then_shows_it_read_only(client, zhang):
    response = client.post(url(zhang), GOOD)
    assert response.status_code == 302 and response["Location"] == url(zhang)
    zhang.refresh_from_db()
    assert zhang.is_submitted
    assert (zhang.attitude, zhang.result, zhang.contact_method) == (
        "satisfied",
        "basically",
        "meeting",
    )
    assert (zhang.contacted, zhang.leader_took_part) == (True, True)
    assert (zhang.channel, zhang.entered_by) == (Receipt.Channel.ONLINE, None)
    response = client.get(url(zhang))
    assert response.status_code == 200
    page = html(response)
    assert "Thank you" in page
    assert "感谢区科技局的认真办理。" in page
    assert "Basically satisfied" in page and "Face-to-face meeting" in page
    assert "<form" not in page


def test_a_used_link_never_takes_a_second_answer(client, zhang):
    rate(zhang, opinion="第一次的意见")
    response = client.post(url(zhang), {**GOOD, "attitude": "dissatisfied", "opinion": "改"})
    assert response.status_code == 200
    assert "<form" not in html(response)
    zhang.refresh_from_db()
    assert (zhang.attitude, zhang.opinion) == ("satisfied", "第一次的意见")


def test_dissatisfied_without_an_opinion_is_refused_next_to_the_field_keeping_the_input(
    client, zhang
):
    data = {**GOOD, "result": "dissatisfied", "opinion": "", "contact_method": "phone"}
    response = client.post(url(zhang), data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["opinion"] == ["Please tell us why you are dissatisfied."]
    page = html(response)
    assert 'id="id_opinion_error"' in page
    assert 'name="result" value="dissatisfied" id="id_result_2" required checked' in page
    assert 'value="phone" id="id_contact_method_2" checked' in page
    zhang.refresh_from_db()
    assert not zhang.is_submitted


def test_a_contact_needs_its_method_and_unanswered_questions_are_named(client, zhang):
    response = client.post(url(zhang), {"contacted": "yes", "opinion": "写了一半的意见"})
    errors = response.context["form"].errors
    assert errors["contact_method"] == ["Choose how you were contacted."]
    assert errors["leader_took_part"] == ["Please say whether a leader took part."]
    assert errors["attitude"] == ["Please rate the handling attitude."]
    assert errors["result"] == ["Please rate the handling result."]
    assert "写了一半的意见" in html(response)
    assert not Receipt.objects.filter(submitted_at__isnull=False).exists()


def test_not_contacted_needs_no_method(client, zhang):
    data = {"contacted": "no", "attitude": "basically", "result": "satisfied"}
    assert client.post(url(zhang), data).status_code == 302
    zhang.refresh_from_db()
    assert (zhang.contacted, zhang.contact_method, zhang.leader_took_part) == (False, "", None)


def test_a_logged_in_member_may_not_answer_someone_elses_link(client, zhang, world):
    client.force_login(world.lisi)
    response = client.post(url(zhang), GOOD)
    assert response.status_code == 200
    assert "This receipt belongs to another proposer." in html(response)
    zhang.refresh_from_db()
    assert not zhang.is_submitted


def test_the_proposer_logged_in_answers_their_link(client, zhang, world):
    client.force_login(world.zhanghua)
    assert client.post(url(zhang), GOOD).status_code == 302
    zhang.refresh_from_db()
    assert zhang.is_submitted


def test_other_methods_are_not_allowed(client, zhang):
    assert client.delete(url(zhang)).status_code == 405


# --- bad links: never a 500, never anyone's data ----------------------------------------------


def assert_reveals_nothing(response, *secrets):
    page = html(response)
    for secret in secrets:
        assert escape(secret) not in page and secret not in page


def test_a_tampered_link_is_a_404_that_reveals_nothing(client, zhang, li, world):
    rate(li, attitude=Rating.DISSATISFIED, result=Rating.DISSATISFIED, opinion="李四的私人意见")
    secrets = ["张华", "李四", "李四的私人意见", "关于加快创建国家级高新区的建议", "第069号"]
    token = services.receipt_token(zhang)
    forged = signing.dumps(
        {"r": li.pk, "p": li.proposer_id}, key="guess", salt=services.RECEIPT_SALT
    )
    for bad in [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # one character of the signature
        token[:3] + ("A" if token[3] != "A" else "B") + token[4:],  # one of the payload
        forged,  # 李四's receipt id, signed with another key
        "garbage",
        "链接",
    ]:
        response = client.get(f"/r/{bad}/")
        assert response.status_code == 404
        assert response.templates[0].name == "receipts/invalid.html"
        assert "This link is not valid" in html(response)
        assert_reveals_nothing(response, *secrets)
        response = client.post(f"/r/{bad}/", {**GOOD, "attitude": "dissatisfied"})
        assert response.status_code == 404
        assert_reveals_nothing(response, *secrets)
    zhang.refresh_from_db()
    assert not zhang.is_submitted


def test_an_expired_link_is_a_410_naming_the_day_and_whom_to_contact(client, zhang, settings):
    with_tian(settings, RECEIPT_LINK_DAYS=30, COMMITTEE_NAME="重庆市梁平区")
    sent = timezone.now() - datetime.timedelta(days=40)
    ReplyLetter.objects.filter(pk=zhang.letter_id).update(sent_at=sent)
    response = client.get(url(zhang))
    assert response.status_code == 410
    page = html(response)
    expired_on = timezone.localdate(sent) + datetime.timedelta(days=30)
    assert "This link has expired" in page
    assert expired_on.isoformat() in page
    assert "重庆市梁平区" in page and "科技局经办人" in page
    assert "<form" not in page
    assert client.post(url(zhang), GOOD).status_code == 410
    zhang.refresh_from_db()
    assert not zhang.is_submitted


def test_a_link_of_a_letter_not_sent_is_invalid(client, zhang):
    ReplyLetter.objects.filter(pk=zhang.letter_id).update(
        state=ReplyLetter.State.DRAFT, sent_at=None
    )
    assert client.get(url(zhang)).status_code == 404


# --- rate limit --------------------------------------------------------------------------------


def test_the_receipt_page_is_rate_limited_per_address(client, zhang, settings):
    with_tian(settings, RECEIPT_RATE_LIMIT_PER_HOUR=3)
    assert client.get("/r/guess-1/").status_code == 404
    assert client.get("/r/guess-2/").status_code == 404
    assert client.post(url(zhang), {}).status_code == 200
    response = client.get(url(zhang))
    assert response.status_code == 429
    assert "Too many requests" in html(response)
    assert 0 < int(response["Retry-After"]) <= 3600
    assert "张华" not in html(response)
    assert client.post(url(zhang), GOOD).status_code == 429
    zhang.refresh_from_db()
    assert not zhang.is_submitted
    # Another address has its own allowance.
    assert client.get(url(zhang), REMOTE_ADDR="10.0.0.2").status_code == 200


def test_a_forwarded_for_header_does_not_escape_the_limit(client, zhang, settings):
    with_tian(settings, RECEIPT_RATE_LIMIT_PER_HOUR=1)
    assert client.get(url(zhang)).status_code == 200
    assert client.get(url(zhang), HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


# --- my receipts -------------------------------------------------------------------------------


def test_my_receipts_lists_pending_links_and_given_ratings(client, world, zhang):
    given = handling_proposal(world, 80, title="关于发展智慧农业的建议")
    done = receipt_of(send_reply(world, lead_of(given)), world.zhanghua_proposer)
    rate(done, attitude=Rating.BASICALLY, result=Rating.SATISFIED)
    client.force_login(world.zhanghua)
    response = client.get(reverse("receipts:mine"))
    assert response.status_code == 200
    assert [r.pk for r in response.context["pending"]] == [zhang.pk]
    assert [r.pk for r in response.context["given"]] == [done.pk]
    page = html(response)
    assert f'href="{url(zhang)}"' in page
    assert url(done) not in page
    assert "关于发展智慧农业的建议" in page and "Basically satisfied" in page


def test_my_receipts_shows_an_expired_link_without_it(client, world, zhang, settings):
    with_tian(settings, RECEIPT_LINK_DAYS=5)
    ReplyLetter.objects.filter(pk=zhang.letter_id).update(
        sent_at=timezone.now() - datetime.timedelta(days=10)
    )
    client.force_login(world.zhanghua)
    page = html(client.get(reverse("receipts:mine")))
    assert url(zhang) not in page
    assert "The link has expired" in page


def test_my_receipts_needs_a_login_and_a_proposer(client, world, zhang):
    response = client.get(reverse("receipts:mine"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    client.force_login(world.kjj)
    assert client.get(reverse("receipts:mine")).status_code == 403


def test_my_receipts_shows_only_mine(client, world, zhang, li):
    client.force_login(world.lisi)
    response = client.get(reverse("receipts:mine"))
    assert [r.pk for r in response.context["pending"]] == [li.pk]
    assert url(zhang) not in html(response)


def test_my_receipts_takes_the_same_queries_for_many(
    client, world, django_assert_num_queries, letter
):
    client.force_login(world.zhanghua)
    with django_assert_num_queries(4):
        client.get(reverse("receipts:mine"))
    for number in range(81, 86):
        send_reply(world, lead_of(handling_proposal(world, number)))
    with django_assert_num_queries(4):
        response = client.get(reverse("receipts:mine"))
    assert len(response.context["pending"]) == 6


# --- the reminder command ----------------------------------------------------------------------


def test_the_reminder_command_says_how_many_it_sent(zhang, settings, capsys):
    with_tian(settings, RECEIPT_REMINDER_WORKING_DAYS=1)
    later = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    with translation.override("en"):
        call_command("send_receipt_reminders", date=later)
        assert "2 reminders sent." in capsys.readouterr().out
        call_command("send_receipt_reminders", date=later)
        assert "0 reminders sent." in capsys.readouterr().out


def test_an_online_receipt_is_on_the_record_as_the_proposer_not_the_system(client, zhang, world):
    client.post(url(zhang), GOOD)
    event = world.proposal.events.get(verb="receipt_submitted")
    assert event.actor == world.zhanghua
    assert "张华" in event.actor_name
    staff = Client()
    staff.force_login(world.tiwei)
    timeline = staff.get(world.proposal.get_absolute_url()).context["timeline"]
    (row,) = [r for r in timeline if r["verb"] == "receipt_submitted"]
    assert "张华" in str(row["actor"])
