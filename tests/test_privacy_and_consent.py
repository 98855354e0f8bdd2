"""Consent to publish, private email addresses, each co-proposer's own receipt,
client addresses behind a proxy, and absurd ids."""

import pytest
from django.core import mail
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from accounts.models import Membership
from accounts.notifications import notify
from core.workflow import Refused
from proposals.models import CoOpinion, ProposalProposer
from replies import ratelimit, services
from replies.models import Receipt, ReplyLetter


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def signed_letter(world, **fields):
    CoOpinion.objects.create(assignment=world.co, title="意见", body="意见", sent_at=timezone.now())
    letter = services.start_draft(world.lead, world.kjj)
    services.save_draft(letter, world.kjj, body=letter.body + "正文", result_class="A", **fields)
    services.submit_for_signoff(letter, world.kjj)
    return services.sign(letter, world.kjj_leader)


def test_a_reply_to_a_proposer_who_refused_consent_cannot_be_made_public(world):
    world.proposal.consent_to_publish = False
    world.proposal.no_publish_reason = "涉及企业商业信息"
    world.proposal.save()
    letter = services.start_draft(world.lead, world.kjj)
    assert letter.disclosure == ReplyLetter.Disclosure.NONE
    services.save_draft(
        letter, world.kjj, body=letter.body + "正文", result_class="A", disclosure="full"
    )
    with pytest.raises(Refused) as info:
        services.submit_for_signoff(letter, world.kjj, outstanding_reason="电话沟通")
    assert "涉及企业商业信息" in " ".join(info.value.messages)


def test_publishing_checks_consent_too(world):
    letter = signed_letter(world)
    services.send(letter, world.kjj)
    world.proposal.consent_to_publish = False
    world.proposal.save()
    with pytest.raises(Refused):
        services.publish(letter, world.tiwei)
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.SENT


def test_each_recipient_gets_their_own_email(world, django_capture_on_commit_callbacks):
    world.kjj.email = "kjj@example.cn"
    world.jxw.email = "jxw@example.cn"
    for user in (world.kjj, world.jxw):
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        notify([world.kjj, world.jxw], "assigned", "交办通知")
    assert sorted(m.to for m in mail.outbox) == [["jxw@example.cn"], ["kjj@example.cn"]]


def test_a_proposer_in_an_unrelated_unit_sees_only_their_own_receipt(client, world):
    Membership.objects.create(user=world.zhanghua, unit=world.other_unit)
    ProposalProposer.objects.create(
        proposal=world.proposal, proposer=world.lisi_proposer, position=1
    )
    letter = signed_letter(world)
    services.send(letter, world.kjj)
    services.submit_receipt(
        Receipt.objects.get(letter=letter, proposer=world.lisi_proposer),
        world.lisi,
        attitude="satisfied",
        result="dissatisfied",
        opinion="李四的意见",
    )
    client.force_login(world.zhanghua)
    html = client.get(reverse("proposals:detail", args=[world.proposal.pk])).content.decode()
    assert "李四的意见" not in html


@pytest.mark.parametrize(
    "proxies, forwarded, expected",
    [
        (0, "1.1.1.1", "10.0.0.1"),  # no proxy configured: the header is the client's word
        (1, "6.6.6.6, 1.1.1.1", "1.1.1.1"),  # the entry the proxy appended
        (2, "6.6.6.6, 1.1.1.1, 10.0.0.2", "1.1.1.1"),
        (1, "", "10.0.0.1"),
    ],
)
def test_the_rate_limit_sees_the_client_behind_trusted_proxies(
    settings, proxies, forwarded, expected
):
    settings.TRUSTED_PROXY_COUNT = proxies
    request = RequestFactory().get("/r/x/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert ratelimit.client_address(request) == expected


@pytest.mark.parametrize("url_name", ["proposals:assign_bulk", "closing:close_bulk"])
def test_an_absurd_proposal_id_is_an_invalid_choice_not_a_500(client, world, url_name):
    client.force_login(world.tiwei)
    response = client.post(
        reverse(url_name),
        {"proposals": ["9" * 30], "mode": "single", "lead": world.kjj_unit.pk},
    )
    assert response.status_code in (200, 302)
