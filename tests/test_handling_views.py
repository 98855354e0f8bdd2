"""The handling units' screens: inbox, acknowledge, return request, opinion, attachment, contact."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.html import escape
from django.utils.translation import gettext

from accounts.models import Membership, Unit
from proposals import deadlines, services
from proposals.handling_forms import MAX_ATTACHMENT_BYTES
from proposals.models import (
    Assignment,
    ContactRecord,
    CoOpinion,
    Event,
    Proposal,
    ProposalProposer,
)

PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
DOCX = b"PK\x03\x04" + b"\x00" * 32
DOC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 32

TODAY = datetime.date.today


def tr(msgid, **params):
    """A message as the pages show it (in zh-hans, whatever the catalog holds)."""
    with translation.override("zh-hans"):
        text = gettext(msgid)
    return text % params if params else text


def page(response):
    return response.content.decode()


def shows(response, text):
    return escape(text) in page(response)


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def make_assigned(world, number, lead_acknowledged=True, reply_due=None, opinion_due=None):
    """Another proposal in 会办: kjj leads, jxw co-handles."""
    proposal = Proposal.objects.create(
        session=world.session,
        number=number,
        title=f"关于第{number}件事的建议",
        reasons="理由",
        suggestions="建议",
        category=world.category,
        state=Proposal.State.HANDLING,
        review_outcome=Proposal.ReviewOutcome.ACCEPT,
        handling_mode=Proposal.HandlingMode.JOINT,
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.zhanghua_proposer, position=0)
    now = timezone.now()
    lead = Assignment.objects.create(
        proposal=proposal,
        unit=world.kjj_unit,
        role=Assignment.Role.LEAD,
        assigned_at=now,
        acknowledged_at=now if lead_acknowledged else None,
        reply_due=reply_due or TODAY() + datetime.timedelta(days=90),
    )
    co = Assignment.objects.create(
        proposal=proposal,
        unit=world.jxw_unit,
        role=Assignment.Role.CO,
        assigned_at=now,
        opinion_due=opinion_due or TODAY() + datetime.timedelta(days=30),
    )
    return proposal, lead, co


def send_opinion(world, attachment=None):
    return services.send_opinion(
        world.co,
        world.jxw,
        title="重庆市梁平区经济和信息化委员会关于第069号提案的会办意见",
        body="支持创建国家级高新区。",
        doc_number="梁平经信函〔2022〕12号",
        signatory="王局长",
        attachment=attachment,
    )


# --- the inbox ---------------------------------------------------------------------------------


def section(response, name):
    return [a.pk for a in response.context["sections"][name]]


def test_the_inbox_shows_a_new_assignment_with_its_return_window(client, world):
    client.force_login(world.jxw)
    response = client.get(reverse("proposals:inbox"))
    assert response.status_code == 200
    assert section(response, "new") == [world.co.pk]
    window = deadlines.return_window(world.co.assigned_at).due
    assert window.isoformat() in page(response)
    assert reverse("proposals:acknowledge", args=[world.co.pk]) in page(response)
    assert reverse("proposals:request_return", args=[world.co.pk]) in page(response)
    assert "第069号" in page(response)


def test_the_inbox_shows_the_lead_unit_what_it_handles_and_who_is_outstanding(client, world):
    client.force_login(world.kjj)
    response = client.get(reverse("proposals:inbox"))
    assert section(response, "new") == []
    assert section(response, "handling") == [world.lead.pk]
    assert section(response, "waiting") == [world.lead.pk]
    [row] = response.context["sections"]["waiting"]
    assert [unit.short_name for unit in row.outstanding] == ["区经济信息委"]
    assert section(response, "overdue") == []


def test_a_sent_opinion_takes_the_proposal_out_of_waiting(client, world):
    send_opinion(world)
    client.force_login(world.kjj)
    response = client.get(reverse("proposals:inbox"))
    assert section(response, "waiting") == []


def test_the_inbox_flags_an_overdue_reply_and_an_overdue_opinion(client, world):
    yesterday = TODAY() - datetime.timedelta(days=1)
    Assignment.objects.filter(pk=world.lead.pk).update(reply_due=yesterday)
    Assignment.objects.filter(pk=world.co.pk).update(opinion_due=yesterday)
    client.force_login(world.kjj)
    response = client.get(reverse("proposals:inbox"))
    assert section(response, "overdue") == [world.lead.pk]
    assert 'class="overdue"' in page(response)
    client.force_login(world.jxw)
    response = client.get(reverse("proposals:inbox"))
    assert section(response, "overdue") == [world.co.pk]


def test_an_approved_extension_is_not_overdue(client, world):
    Assignment.objects.filter(pk=world.lead.pk).update(
        reply_due=TODAY() - datetime.timedelta(days=1),
        extended_due=TODAY() + datetime.timedelta(days=30),
        extension_reason="需要协调市级部门",
    )
    client.force_login(world.kjj)
    response = client.get(reverse("proposals:inbox"))
    assert section(response, "overdue") == []
    assert section(response, "handling") == [world.lead.pk]
    assert 'class="overdue"' not in page(response)


def test_a_sent_opinion_is_not_overdue(client, world):
    send_opinion(world)
    Assignment.objects.filter(pk=world.co.pk).update(opinion_due=TODAY() - datetime.timedelta(1))
    client.force_login(world.jxw)
    response = client.get(reverse("proposals:inbox"))
    assert section(response, "overdue") == []


def test_the_inbox_leaves_out_returned_and_finished_work(client, world):
    other, lead, co = make_assigned(world, 70)
    Assignment.objects.filter(pk=co.pk).update(is_active=False)
    Proposal.objects.filter(pk=other.pk).update(state=Proposal.State.CLOSED)
    client.force_login(world.jxw)
    response = client.get(reverse("proposals:inbox"))
    assert section(response, "new") == [world.co.pk]


def test_the_inbox_shows_a_waiting_return_request_instead_of_the_buttons(client, world):
    services.request_return(world.co, world.jxw, "不属于我委职责")
    client.force_login(world.jxw)
    response = client.get(reverse("proposals:inbox"))
    assert section(response, "new") == [world.co.pk]
    assert reverse("proposals:acknowledge", args=[world.co.pk]) not in page(response)


@pytest.mark.parametrize("user", ["tiwei", "zhanghua", "lisi"])
def test_the_inbox_is_forbidden_to_people_of_no_unit(client, world, user):
    client.force_login(getattr(world, user))
    assert client.get(reverse("proposals:inbox")).status_code == 403


def test_the_inbox_sends_an_anonymous_visitor_to_log_in(client, world):
    response = client.get(reverse("proposals:inbox"))
    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


# Session, user, memberships, the four sections (one query), unread notifications, and for
# the rows: calendar corrections (new and in-handling rows: return windows, first contacts)
# and the outstanding co-units (kjj's waiting rows).
# + the unanswered 督办 notes and the extension requests of the rows
INBOX_QUERIES = {"kjj": 9, "jxw": 7}


@pytest.mark.parametrize("user", ["kjj", "jxw"])
def test_the_inbox_makes_as_many_queries_for_20_rows_as_for_3(
    client, world, django_assert_num_queries, user
):
    client.force_login(getattr(world, user))
    overdue = TODAY() - datetime.timedelta(days=1)
    for number in range(100, 102):
        make_assigned(world, number, reply_due=overdue, opinion_due=overdue)
    deadlines.current_rules()  # The deadline rules: read once, then from the cache.
    with django_assert_num_queries(INBOX_QUERIES[user]):
        small = client.get(reverse("proposals:inbox"))
    for number in range(102, 119):
        make_assigned(world, number, reply_due=overdue, opinion_due=overdue)
    with django_assert_num_queries(INBOX_QUERIES[user]):
        large = client.get(reverse("proposals:inbox"))
    name = "waiting" if user == "kjj" else "new"
    assert (len(section(small, name)), len(section(large, name))) == (3, 20)
    assert len(section(large, "overdue")) == 19


# --- acknowledge ---------------------------------------------------------------------------------


def test_a_co_unit_acknowledges_and_returns_to_the_inbox(client, world):
    client.force_login(world.jxw)
    inbox = reverse("proposals:inbox")
    response = client.post(reverse("proposals:acknowledge", args=[world.co.pk]), {"next": inbox})
    assert response.status_code == 302
    assert response.url == inbox
    world.co.refresh_from_db()
    assert world.co.acknowledged_at is not None
    assert world.co.acknowledged_by == world.jxw
    assert Event.objects.filter(proposal=world.proposal, verb="acknowledged").exists()


def test_acknowledge_does_not_follow_a_foreign_next_url(client, world):
    client.force_login(world.jxw)
    response = client.post(
        reverse("proposals:acknowledge", args=[world.co.pk]), {"next": "https://evil.example/"}
    )
    assert response.url == world.proposal.get_absolute_url()


def test_acknowledging_twice_is_refused_with_a_message(client, world):
    client.force_login(world.kjj)
    before = world.lead.acknowledged_at
    response = client.post(reverse("proposals:acknowledge", args=[world.lead.pk]), follow=True)
    local = timezone.localtime(before).strftime("%Y-%m-%d")
    expected = tr(
        "%(unit)s already acknowledged this proposal on %(date)s.",
        unit=str(world.kjj_unit),
        date=local,
    )
    assert shows(response, expected)
    world.lead.refresh_from_db()
    assert world.lead.acknowledged_at == before
    assert not Event.objects.filter(verb="acknowledged").exists()


def test_acknowledge_answers_get_with_405(client, world):
    client.force_login(world.jxw)
    assert client.get(reverse("proposals:acknowledge", args=[world.co.pk])).status_code == 405


def test_acknowledge_hides_another_units_assignment(client, world):
    client.force_login(world.outsider)
    response = client.post(reverse("proposals:acknowledge", args=[world.co.pk]))
    assert response.status_code == 404
    world.co.refresh_from_db()
    assert world.co.acknowledged_at is None


# --- return requests -----------------------------------------------------------------------------


def test_the_return_form_names_the_closing_date(client, world):
    client.force_login(world.jxw)
    response = client.get(reverse("proposals:request_return", args=[world.co.pk]))
    assert response.status_code == 200
    window = deadlines.return_window(world.co.assigned_at)
    assert window.due.isoformat() in page(response)


def test_the_return_form_says_when_the_window_has_closed(client, world):
    assigned = timezone.now() - datetime.timedelta(days=40)
    Assignment.objects.filter(pk=world.co.pk).update(assigned_at=assigned)
    client.force_login(world.jxw)
    response = client.get(reverse("proposals:request_return", args=[world.co.pk]))
    closed = deadlines.return_window(assigned).due.strftime("%Y-%m-%d")
    assert shows(response, tr("The window for return requests closed on %(date)s.", date=closed))


def test_a_co_unit_asks_for_return(client, world):
    client.force_login(world.jxw)
    response = client.post(
        reverse("proposals:request_return", args=[world.co.pk]), {"reason": "属于区发改委职责"}
    )
    assert response.status_code == 302
    world.co.refresh_from_db()
    assert world.co.return_status == Assignment.ReturnStatus.REQUESTED
    assert world.co.return_reason == "属于区发改委职责"


def test_a_return_request_needs_a_reason(client, world):
    client.force_login(world.jxw)
    response = client.post(reverse("proposals:request_return", args=[world.co.pk]), {"reason": " "})
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]
    world.co.refresh_from_db()
    assert world.co.return_status == ""


def test_a_late_return_request_is_refused_with_the_closing_date(client, world):
    assigned = timezone.now() - datetime.timedelta(days=40)
    Assignment.objects.filter(pk=world.co.pk).update(assigned_at=assigned)
    client.force_login(world.jxw)
    response = client.post(
        reverse("proposals:request_return", args=[world.co.pk]), {"reason": "属于区发改委职责"}
    )
    assert response.status_code == 200
    closed = deadlines.return_window(assigned).due.strftime("%Y-%m-%d")
    message = tr("The window for return requests closed on %(date)s.", date=closed)
    assert response.context["form"].non_field_errors() == [message]
    assert shows(response, message)
    assert "属于区发改委职责" in page(response)  # what was typed is kept
    world.co.refresh_from_db()
    assert world.co.return_status == ""
    assert not Event.objects.filter(verb="return_requested").exists()


def test_an_acknowledged_proposal_cannot_be_returned(client, world):
    client.force_login(world.kjj)
    response = client.post(
        reverse("proposals:request_return", args=[world.lead.pk]), {"reason": "不归我们管"}
    )
    assert response.status_code == 200
    assert shows(response, tr("An acknowledged proposal cannot be returned."))
    world.lead.refresh_from_db()
    assert world.lead.return_status == ""


# --- co-handling opinions ------------------------------------------------------------------------


def opinion_data(**extra):
    data = {
        "doc_number": "梁平经信函〔2022〕12号",
        "title": "重庆市梁平区经济和信息化委员会关于第069号提案的会办意见",
        "body": "一、支持创建国家级高新区。",
        "signer": "王局长",
    }
    data.update(extra)
    return data


def test_the_opinion_form_offers_the_usual_title(client, world):
    client.force_login(world.jxw)
    response = client.get(reverse("proposals:opinion", args=[world.co.pk]))
    assert response.status_code == 200
    assert response.context["form"]["title"].value() == (
        "重庆市梁平区经济和信息化委员会关于第069号提案的会办意见"
    )
    assert 'enctype="multipart/form-data"' in page(response)


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("意见.pdf", PDF, "application/pdf"),
        (
            "意见.docx",
            DOCX,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        ("意见.doc", DOC, "application/msword"),
        ("扫描件.JPG", JPEG, "image/jpeg"),
        ("扫描件.png", PNG, "image/png"),
    ],
)
def test_a_co_unit_sends_its_opinion_with_an_attachment(
    client, world, private_media, name, content, content_type
):
    client.force_login(world.jxw)
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = client.post(
        reverse("proposals:opinion", args=[world.co.pk]), opinion_data(attachment=upload)
    )
    assert response.status_code == 302
    assert response.url == world.proposal.get_absolute_url()
    opinion = CoOpinion.objects.get(assignment=world.co)
    assert opinion.sent_at is not None
    assert opinion.doc_number == "梁平经信函〔2022〕12号"
    assert (private_media / opinion.attachment.name).read_bytes() == content
    download = client.get(reverse("proposals:opinion_attachment", args=[opinion.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == content_type
    assert download["Content-Disposition"].startswith("attachment")
    assert b"".join(download.streaming_content) == content


def test_an_opinion_can_be_sent_without_an_attachment(client, world):
    client.force_login(world.jxw)
    response = client.post(reverse("proposals:opinion", args=[world.co.pk]), opinion_data())
    assert response.status_code == 302
    assert not CoOpinion.objects.get(assignment=world.co).attachment


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "setup.exe",
            b"MZ\x90\x00",
            "Only PDF, Word (.doc, .docx) and image (.jpg, .jpeg, .png) files can be attached.",
        ),
        ("意见.pdf", PNG, "The content of the file does not match its type %(extension)s."),
        (
            "照片.png",
            b"GIF89a" + b"\x00" * 16,
            "The content of the file does not match its type %(extension)s.",
        ),
    ],
)
def test_an_attachment_of_the_wrong_kind_is_refused_next_to_the_field(
    client, world, name, content, message
):
    client.force_login(world.jxw)
    upload = SimpleUploadedFile(name, content)
    response = client.post(
        reverse("proposals:opinion", args=[world.co.pk]), opinion_data(attachment=upload)
    )
    assert response.status_code == 200
    extension = "." + name.rsplit(".", 1)[1]
    expected = tr(message, extension=extension) if "%(" in message else tr(message)
    assert response.context["form"].errors["attachment"] == [expected]
    assert shows(response, expected)
    assert "一、支持创建国家级高新区。" in page(response)  # the text typed is kept
    assert not CoOpinion.objects.exists()


def test_an_attachment_over_10_mb_is_refused(client, world):
    client.force_login(world.jxw)
    upload = SimpleUploadedFile("大文件.pdf", PDF + b"0" * MAX_ATTACHMENT_BYTES)
    response = client.post(
        reverse("proposals:opinion", args=[world.co.pk]), opinion_data(attachment=upload)
    )
    assert response.status_code == 200
    assert shows(response, tr("The attachment is larger than %(size)d MB.", size=10))
    assert not CoOpinion.objects.exists()


def test_an_opinion_without_text_keeps_what_was_typed(client, world):
    client.force_login(world.jxw)
    response = client.post(
        reverse("proposals:opinion", args=[world.co.pk]), opinion_data(body="", signatory="王局长")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["body"]
    assert 'value="王局长"' in page(response)
    assert not CoOpinion.objects.exists()


def test_the_lead_unit_cannot_send_a_co_handling_opinion(client, world):
    client.force_login(world.kjj)
    response = client.post(reverse("proposals:opinion", args=[world.lead.pk]), opinion_data())
    assert response.status_code == 200
    assert shows(response, tr("Only an assigned co-handling unit sends a co-handling opinion."))
    assert not CoOpinion.objects.exists()


def test_a_second_opinion_is_refused(client, world):
    send_opinion(world)
    client.force_login(world.jxw)
    response = client.post(
        reverse("proposals:opinion", args=[world.co.pk]), opinion_data(body="改了主意")
    )
    assert response.status_code == 200
    assert shows(response, tr("%(unit)s has already sent its opinion.", unit=str(world.jxw_unit)))
    assert CoOpinion.objects.get().body == "支持创建国家级高新区。"


def test_an_outsider_cannot_open_the_opinion_form(client, world):
    client.force_login(world.outsider)
    assert client.get(reverse("proposals:opinion", args=[world.co.pk])).status_code == 404
    response = client.post(reverse("proposals:opinion", args=[world.co.pk]), opinion_data())
    assert response.status_code == 404
    assert not CoOpinion.objects.exists()


# --- opinion attachments -------------------------------------------------------------------------


@pytest.fixture
def attached_opinion(world):
    return send_opinion(world, SimpleUploadedFile("会办意见.pdf", PDF))


@pytest.mark.parametrize(
    ("user", "status"),
    [
        ("tiwei", 200),
        ("kjj", 200),
        ("kjj_leader", 200),
        ("jxw", 200),
        ("outsider", 404),
        ("zhanghua", 404),
        ("lisi", 404),
    ],
)
def test_an_opinion_attachment_is_served_only_to_those_who_may_read_the_opinion(
    client, world, attached_opinion, user, status
):
    client.force_login(getattr(world, user))
    response = client.get(reverse("proposals:opinion_attachment", args=[attached_opinion.pk]))
    assert response.status_code == status
    if status == 200:
        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"]


def test_another_co_unit_cannot_download_the_attachment(client, world, attached_opinion):
    park = Unit.objects.create(name="重庆市梁平区工业园区管委会", short_name="工业园区管委会")
    Assignment.objects.create(
        proposal=world.proposal, unit=park, role=Assignment.Role.CO, assigned_at=timezone.now()
    )
    Membership.objects.create(user=world.outsider, unit=park)
    client.force_login(world.outsider)
    response = client.get(reverse("proposals:opinion_attachment", args=[attached_opinion.pk]))
    assert response.status_code == 404


def test_an_opinion_without_attachment_has_nothing_to_download(client, world):
    opinion = send_opinion(world)
    client.force_login(world.tiwei)
    response = client.get(reverse("proposals:opinion_attachment", args=[opinion.pk]))
    assert response.status_code == 404


def test_attachments_are_stored_privately_and_have_no_public_url(
    client, world, attached_opinion, private_media
):
    assert (private_media / attached_opinion.attachment.name).is_file()
    client.force_login(world.tiwei)
    for prefix in ("/media/", "/static/", "/"):
        assert client.get(prefix + attached_opinion.attachment.name).status_code == 404


# --- contact records -----------------------------------------------------------------------------


def contact_data(**extra):
    data = {
        "contacted_on": TODAY().isoformat(),
        "method": "meeting",
        "participants": "张华、科技局局长",
        "leader_took_part": "on",
        "summary": "当面听取意见。",
    }
    data.update(extra)
    return data


def test_the_lead_unit_records_a_contact(client, world):
    client.force_login(world.kjj)
    response = client.get(reverse("proposals:contact", args=[world.lead.pk]))
    assert response.status_code == 200
    response = client.post(reverse("proposals:contact", args=[world.lead.pk]), contact_data())
    assert response.status_code == 302
    record = ContactRecord.objects.exclude(summary="面商").get()
    assert (record.assignment, record.method, record.leader_took_part) == (
        world.lead,
        "meeting",
        True,
    )
    assert record.created_by == world.kjj
    assert Event.objects.filter(verb="contact_recorded").exists()


def test_a_co_unit_records_a_contact_too(client, world):
    Assignment.objects.filter(pk=world.co.pk).update(acknowledged_at=timezone.now())
    client.force_login(world.jxw)
    response = client.post(
        reverse("proposals:contact", args=[world.co.pk]),
        contact_data(method="phone", leader_took_part=""),
    )
    assert response.status_code == 302
    record = ContactRecord.objects.exclude(summary="面商").get()
    assert (record.assignment, record.method, record.leader_took_part) == (
        world.co,
        "phone",
        False,
    )


def test_a_contact_in_the_future_is_refused_next_to_the_date(client, world):
    client.force_login(world.kjj)
    tomorrow = (TODAY() + datetime.timedelta(days=2)).isoformat()
    response = client.post(
        reverse("proposals:contact", args=[world.lead.pk]), contact_data(contacted_on=tomorrow)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["contacted_on"] == [
        tr("The date of a contact cannot be in the future.")
    ]
    assert "当面听取意见。" in page(response)
    assert not ContactRecord.objects.exclude(summary="面商").exists()


def test_a_contact_needs_a_known_method(client, world):
    client.force_login(world.kjj)
    response = client.post(
        reverse("proposals:contact", args=[world.lead.pk]), contact_data(method="telepathy")
    )
    assert response.status_code == 200
    assert response.context["form"].errors["method"]
    assert not ContactRecord.objects.exclude(summary="面商").exists()


def test_a_returned_assignment_records_no_contact(client, world):
    Assignment.objects.filter(pk=world.co.pk).update(is_active=False)
    client.force_login(world.jxw)
    response = client.post(reverse("proposals:contact", args=[world.co.pk]), contact_data())
    assert response.status_code == 200
    assert shows(response, tr("This assignment is no longer active."))
    assert not ContactRecord.objects.exclude(summary="面商").exists()


def test_a_proposer_cannot_record_contacts(client, world):
    client.force_login(world.zhanghua)
    response = client.post(reverse("proposals:contact", args=[world.lead.pk]), contact_data())
    assert response.status_code == 403
    assert not ContactRecord.objects.exclude(summary="面商").exists()


# --- the permission matrix -----------------------------------------------------------------------

ROLES = ("tiwei", "kjj", "kjj_leader", "jxw", "outsider", "zhanghua", "lisi", "anonymous")

# view: (method, target, data, expected status per role in ROLES order)
MATRIX = {
    "inbox": ("get", None, None, (403, 200, 200, 200, 200, 403, 403, 302)),
    "acknowledge GET": ("get", "co", None, (405, 405, 405, 405, 405, 405, 405, 302)),
    "acknowledge": ("post", "co", {}, (403, 404, 404, 302, 404, 403, 403, 302)),
    "request_return GET": ("get", "co", None, (403, 404, 404, 200, 404, 403, 403, 302)),
    "request_return": (
        "post",
        "co",
        {"reason": "不属于我委职责"},
        (403, 404, 404, 302, 404, 403, 403, 302),
    ),
    "opinion GET": ("get", "co", None, (403, 404, 404, 200, 404, 403, 403, 302)),
    "opinion": ("post", "co", opinion_data(), (403, 404, 404, 302, 404, 403, 403, 302)),
    "contact GET": ("get", "lead", None, (403, 200, 200, 404, 404, 403, 403, 302)),
    "contact": ("post", "lead", contact_data(), (403, 302, 302, 404, 404, 403, 403, 302)),
    "opinion_attachment": ("get", "opinion", None, (200, 200, 200, 200, 404, 404, 404, 302)),
    "detail": ("get", "proposal", None, (200, 200, 200, 200, 404, 200, 404, 302)),
    "workspace": ("get", None, None, (200, 200, 200, 200, 200, 200, 200, 302)),
}

URL_NAMES = {
    "inbox": "proposals:inbox",
    "acknowledge": "proposals:acknowledge",
    "request_return": "proposals:request_return",
    "opinion": "proposals:opinion",
    "contact": "proposals:contact",
    "opinion_attachment": "proposals:opinion_attachment",
    "detail": "proposals:detail",
    "workspace": "workspace",
}


@pytest.mark.parametrize(
    ("view", "role", "status"),
    [
        (view, role, statuses[i])
        for view, (_method, _target, _data, statuses) in MATRIX.items()
        for i, role in enumerate(ROLES)
    ],
)
def test_every_view_answers_every_role_as_designed(client, world, view, role, status):
    method, target, data, _statuses = MATRIX[view]
    if target == "opinion":
        obj = send_opinion(world, SimpleUploadedFile("意见.pdf", PDF))
    else:
        obj = {"co": world.co, "lead": world.lead, "proposal": world.proposal}.get(target)
    args = [obj.pk] if obj else []
    url = reverse(URL_NAMES[view.split()[0]], args=args)
    if role != "anonymous":
        client.force_login(getattr(world, role))
    response = getattr(client, method)(url, data) if method == "post" else client.get(url)
    assert response.status_code == status
    if status == 302 and role == "anonymous":
        assert response.url.startswith(reverse("login"))


def test_contacts_are_recorded_after_acknowledging(client, world):
    client.force_login(world.jxw)
    response = client.post(
        reverse("proposals:contact", args=[world.co.pk]), contact_data(method="phone")
    )
    assert response.status_code == 200
    assert "签收" in response.content.decode()
    assert not ContactRecord.objects.filter(assignment=world.co).exists()
