"""The reply-letter screens in /work/replies/: drafting, sign-off, sending, publishing, the PDF."""

import datetime

import pytest
from django.conf import settings
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Membership, Unit
from proposals.models import Assignment, CoOpinion, Proposal, ProposalProposer
from replies import services
from replies.models import Publication, Receipt, ReplyLetter, ReplyRevision
from replies.views.letters import body_diff

from .conftest import make_user

State = ReplyLetter.State
FROZEN = (
    "The letter is signed and its text is frozen. Reopen it to change it; it must then be signed "
    "again."
)


def url(name, *args):
    return reverse(f"replies:{name}", args=args)


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def html(response):
    return response.content.decode()


def reload(letter):
    return ReplyLetter.objects.get(pk=letter.pk)


def send_opinion(world):
    CoOpinion.objects.create(
        assignment=world.co, title="会办意见", body="意见", sent_at=timezone.now()
    )


def draft(world, **fields):
    letter = services.start_draft(world.lead, world.kjj)
    fields.setdefault("body", letter.body + "一、总体情况\n正文。")
    return services.save_draft(letter, world.kjj, result_class="B", **fields)


def awaiting(world, **fields):
    send_opinion(world)
    letter = draft(world, **fields)
    return services.submit_for_signoff(letter, world.kjj)


def signed(world, **fields):
    return services.sign(awaiting(world, **fields), world.kjj_leader)


def sent(world, **fields):
    return services.send(signed(world, **fields), world.kjj)


def edit_data(letter, **changes):
    data = {
        "title": letter.title,
        "salutation": letter.salutation,
        "body": letter.body,
        "result_class": letter.result_class or "B",
        "letter_date": "",
        "contact_person": letter.contact_person,
        "contact_phone": letter.contact_phone,
        "cc_units": [u.pk for u in letter.cc_units.all()],
        "disclosure": letter.disclosure,
        "public_summary": letter.public_summary,
        "nondisclosure_reason": letter.nondisclosure_reason,
    }
    data.update(changes)
    return data


# --- the whole path ------------------------------------------------------------------------------


def test_the_seed_path_works_through_the_screens(world, client):
    year = timezone.localdate().year

    # kjj drafts the reply from the proposal page.
    client.force_login(world.kjj)
    response = client.post(url("start", world.lead.pk))
    letter = ReplyLetter.objects.get(assignment=world.lead)
    assert response.status_code == 302
    assert response["Location"] == url("edit", letter.pk)
    page = html(client.get(url("edit", letter.pk)))
    assert "第069号提案的答复函" in page and "张华委员：" in page

    # The body is kept exactly as typed (browsers send CRLF line ends).
    body = (
        letter.body
        + "一、创新工作机制，抓实企业服务\n\n  一是拟出台国家高新区方案。\n二、加大政策支持"
    )
    response = client.post(
        url("edit", letter.pk),
        edit_data(letter, body=body.replace("\n", "\r\n"), contact_phone="023-53222222"),
    )
    assert response.status_code == 302 and response["Location"] == url("detail", letter.pk)
    letter = reload(letter)
    assert letter.body == body
    assert letter.contact_phone == "023-53222222"

    # Sign-off is refused while the co-opinion is outstanding, unless kjj says why.
    response = client.post(url("submit", letter.pk))
    assert response["Location"] == url("detail", letter.pk)
    assert "区经济信息委" in " ".join(messages_of(response))
    assert reload(letter).state == State.DRAFT
    page = html(client.get(url("detail", letter.pk)))
    assert 'name="outstanding_reason"' in page
    client.post(url("submit", letter.pk), {"outstanding_reason": "协办单位已电话反馈意见"})
    assert reload(letter).state == State.AWAITING_SIGNOFF

    # kjj_leader finds it in the queue, reads it (first submission) and sends it back.
    client.force_login(world.kjj_leader)
    assert url("signoff", letter.pk) in html(client.get(url("signoff_queue")))
    response = client.get(url("signoff", letter.pk))
    assert response.context["previous"] is None
    assert "一是拟出台国家高新区方案。" in html(response)
    client.post(url("send_back", letter.pk), {"comment": "第二部分请补充具体数据"})
    assert reload(letter).state == State.DRAFT

    # kjj sees the comment on the letter, revises and resubmits.
    client.force_login(world.kjj)
    assert "第二部分请补充具体数据" in html(client.get(url("detail", letter.pk)))
    revised = letter.body + "累计兑付创新奖扶资金2800余万元。"
    client.post(url("edit", letter.pk), edit_data(reload(letter), body=revised))
    client.post(url("submit", letter.pk), {"outstanding_reason": "协办单位已电话反馈意见"})
    assert reload(letter).state == State.AWAITING_SIGNOFF

    # The leader sees what changed, and signs.
    client.force_login(world.kjj_leader)
    response = client.get(url("signoff", letter.pk))
    assert response.context["previous"].number == 1
    assert "<ins>累计兑付创新奖扶资金2800余万元。</ins>" in html(response)
    response = client.post(url("sign", letter.pk))
    assert response["Location"] == url("detail", letter.pk)
    letter = reload(letter)
    assert letter.state == State.SIGNED
    page = html(client.get(url("detail", letter.pk)))
    assert "此答复函已经区科技局主要领导审签。" in page
    assert f"梁平科技函〔{year}〕1号" in page
    today = timezone.localdate()
    assert f"{today.year}年{today.month}月{today.day}日" in page

    # kjj sends; the committee publishes; the public reads it.
    client.force_login(world.kjj)
    client.post(url("send", letter.pk))
    assert reload(letter).state == State.SENT
    client.force_login(world.tiwei)
    client.post(url("publish", letter.pk))
    assert reload(letter).state == State.PUBLISHED
    assert Publication.objects.filter(letter=letter).count() == 1
    client.logout()
    assert client.get(reverse("public:reply", args=[letter.pk])).status_code == 200


# --- drafting ------------------------------------------------------------------------------------


def test_starting_twice_opens_the_same_draft(world, client):
    client.force_login(world.kjj)
    client.post(url("start", world.lead.pk))
    client.post(url("start", world.lead.pk))
    assert ReplyLetter.objects.count() == 1


def test_a_co_handling_unit_cannot_start_the_reply(world, client):
    client.force_login(world.jxw)
    response = client.post(url("start", world.co.pk))
    assert response["Location"] == world.proposal.get_absolute_url()
    assert messages_of(response) == [
        _("Only the lead unit (or each unit in split handling) drafts the reply.")
    ]
    assert not ReplyLetter.objects.exists()


def test_starting_another_units_reply_is_not_found(world, client):
    client.force_login(world.outsider)
    assert client.post(url("start", world.lead.pk)).status_code == 404
    client.force_login(world.tiwei)
    assert client.post(url("start", world.lead.pk)).status_code == 403
    assert not ReplyLetter.objects.exists()


def test_an_invalid_draft_keeps_what_was_typed_and_says_why_next_to_the_field(world, client):
    letter = draft(world)
    client.force_login(world.kjj)
    response = client.post(
        url("edit", letter.pk),
        edit_data(letter, body="新的正文\n第二段", disclosure="summary", public_summary=""),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["public_summary"] == [_("Please write the summary to be published.")]
    assert "新的正文\n第二段" in html(response)
    assert reload(letter).body != "新的正文\n第二段"


def test_not_public_needs_a_reason(world, client):
    letter = draft(world)
    client.force_login(world.kjj)
    response = client.post(url("edit", letter.pk), edit_data(letter, disclosure="none"))
    assert response.status_code == 200
    assert "nondisclosure_reason" in response.context["form"].errors
    response = client.post(
        url("edit", letter.pk),
        edit_data(letter, disclosure="none", nondisclosure_reason="涉及商业秘密"),
    )
    assert response.status_code == 302
    assert reload(letter).nondisclosure_reason == "涉及商业秘密"


def test_the_edit_form_offers_the_result_classes_with_their_labels(world, client):
    letter = draft(world)
    client.force_login(world.kjj)
    page = html(client.get(url("edit", letter.pk)))
    for value, label in ReplyLetter.ResultClass.choices:
        assert f'value="{value}"' in page
        assert str(label) in page
    assert 'type="radio"' in page and 'type="checkbox"' in page


def test_a_signed_letter_cannot_be_edited(world, client):
    letter = signed(world)
    body = letter.body
    client.force_login(world.kjj)
    response = client.get(url("edit", letter.pk))
    assert response["Location"] == url("detail", letter.pk)
    assert messages_of(response) == [_(FROZEN)]
    response = client.post(url("edit", letter.pk), edit_data(letter, body="改过的正文"))
    assert response.status_code == 200
    assert _(FROZEN) in response.context["form"].non_field_errors()
    assert reload(letter).body == body


def test_reopening_a_signed_letter_needs_a_reason_and_then_it_can_be_edited(world, client):
    letter = signed(world)
    client.force_login(world.kjj)
    response = client.post(url("reopen", letter.pk), {"reason": ""})
    assert messages_of(response) == [_("Please give the reason for changing a signed letter.")]
    assert reload(letter).state == State.SIGNED
    client.post(url("reopen", letter.pk), {"reason": "更正数据"})
    assert reload(letter).state == State.DRAFT
    assert client.get(url("edit", letter.pk)).status_code == 200


# --- the letter page -----------------------------------------------------------------------------


def test_the_letter_page_shows_the_letter_as_it_will_print(world, client):
    Unit.objects.create(name="梁平区政协提案委员会", short_name="区政协提案委", kind="committee")
    letter = signed(world, body="开头。\n一、创新工作机制\n正文段落。", contact_person="李明")
    client.force_login(world.kjj)
    response = client.get(url("detail", letter.pk))
    page = html(response)
    assert '<p class="sheet-heading">一、创新工作机制</p>' in page
    assert '<p class="sheet-para">正文段落。</p>' in page
    assert services.RECEIPT_INVITATION in page
    assert "联系人：李明" in page
    (cc_line,) = [line for line in page.splitlines() if "sheet-cc" in line]
    assert "抄送：" in cc_line and cc_line.endswith("。</p>")
    assert "重庆市梁平区经济和信息化委员会" in cc_line and "梁平区政协提案委员会" in cc_line
    assert '<p class="sheet-result-class">B</p>' in page
    assert response.context["revisions"][0].number == 1


def test_only_the_legal_buttons_are_shown(world, client):
    letter = awaiting(world)
    client.force_login(world.kjj)
    actions = client.get(url("detail", letter.pk)).context["actions"]
    assert not actions["sign"] and not actions["edit"] and not actions["publish"]
    client.force_login(world.kjj_leader)
    response = client.get(url("detail", letter.pk))
    assert response.context["actions"]["sign"] and response.context["actions"]["send_back"]
    assert url("signoff", letter.pk) in html(response)
    client.force_login(world.tiwei)
    response = client.get(url("detail", letter.pk))
    assert not any(
        v for k, v in response.context["actions"].items() if k not in ("pdf", "pending_correction")
    )
    assert url("signoff", letter.pk) not in html(response)


def test_a_drafter_sees_outstanding_co_opinions(world, client):
    letter = draft(world)
    client.force_login(world.kjj)
    response = client.get(url("detail", letter.pk))
    assert [a.unit for a in response.context["outstanding"]] == [world.jxw_unit]
    assert "outstanding-opinions" in html(response)


# --- who sees what -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["detail", "edit", "pdf"])
def test_other_units_never_see_a_draft(world, client, name):
    letter = draft(world)
    for user in (world.jxw, world.outsider):
        client.force_login(user)
        assert client.get(url(name, letter.pk)).status_code == 404


def test_a_co_handling_unit_sees_the_letter_once_it_is_sent(world, client):
    letter = signed(world)
    client.force_login(world.jxw)
    assert client.get(url("detail", letter.pk)).status_code == 404
    services.send(letter, world.kjj)
    response = client.get(url("detail", letter.pk))
    assert response.status_code == 200
    assert not response.context["internal"]
    assert "revisions" not in response.context


def test_a_proposer_sees_the_letter_only_once_it_is_sent(world, client):
    letter = signed(world)
    client.force_login(world.zhanghua)
    assert client.get(url("detail", letter.pk)).status_code == 404
    services.send(letter, world.kjj)
    assert client.get(url("detail", letter.pk)).status_code == 200
    client.force_login(world.lisi)  # not a proposer of 069
    assert client.get(url("detail", letter.pk)).status_code == 404


def test_the_proposers_of_a_merged_proposal_see_the_reply(world, client):
    merged = Proposal.objects.create(
        session=world.session, title="并案提案", state="merged", merged_into=world.proposal
    )
    ProposalProposer.objects.create(proposal=merged, proposer=world.lisi_proposer, position=0)
    letter = sent(world)
    client.force_login(world.lisi)
    assert client.get(url("detail", letter.pk)).status_code == 200


def test_committee_staff_see_drafts_but_cannot_change_them(world, client):
    letter = draft(world)
    client.force_login(world.tiwei)
    assert client.get(url("detail", letter.pk)).status_code == 200
    assert client.get(url("edit", letter.pk)).status_code == 403
    assert client.post(url("submit", letter.pk)).status_code == 403
    assert reload(letter).state == State.DRAFT


def test_anonymous_users_are_sent_to_login(world, client):
    letter = draft(world)
    for address in (url("detail", letter.pk), url("signoff_queue"), url("pdf", letter.pk)):
        response = client.get(address)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize(
    "name",
    [
        "submit",
        "sign",
        "send_back",
        "reopen",
        "send",
        "publish",
        "correct_typo",
        "unpublish",
        "sign_correction",
        "send_back_correction",
    ],
)
def test_post_only_views_answer_get_with_405(world, client, name):
    letter = draft(world)
    client.force_login(world.kjj_leader if name in ("sign", "send_back") else world.kjj)
    assert client.get(url(name, letter.pk)).status_code == 405


def test_starting_is_post_only(world, client):
    client.force_login(world.kjj)
    assert client.get(url("start", world.lead.pk)).status_code == 405


# --- sign-off ------------------------------------------------------------------------------------


def test_only_a_leader_of_the_issuing_unit_signs(world, client):
    letter = awaiting(world)
    other_leader = make_user("jyw_leader", "教委主任")
    Membership.objects.create(user=other_leader, unit=world.other_unit, role="leader")
    for user, status in ((world.kjj, 403), (world.jxw, 403), (world.tiwei, 403)):
        client.force_login(user)
        assert client.post(url("sign", letter.pk)).status_code == status
    client.force_login(other_leader)
    assert client.post(url("sign", letter.pk)).status_code == 404
    assert client.get(url("signoff", letter.pk)).status_code == 404
    letter = reload(letter)
    assert letter.state == State.AWAITING_SIGNOFF and not letter.doc_number


def test_signing_a_letter_not_awaiting_sign_off_is_refused_and_changes_nothing(world, client):
    letter = draft(world)
    client.force_login(world.kjj_leader)
    response = client.post(url("sign", letter.pk))
    assert response["Location"] == url("detail", letter.pk)
    assert messages_of(response)
    assert reload(letter).state == State.DRAFT


def test_sending_back_needs_a_comment(world, client):
    letter = awaiting(world)
    client.force_login(world.kjj_leader)
    response = client.post(
        url("send_back", letter.pk), {"comment": "  ", "next": url("signoff", letter.pk)}
    )
    assert response["Location"] == url("signoff", letter.pk)
    assert messages_of(response) == [_("Please say what should change.")]
    assert reload(letter).state == State.AWAITING_SIGNOFF


def test_an_unsafe_next_is_ignored(world, client):
    letter = awaiting(world)
    client.force_login(world.kjj_leader)
    response = client.post(url("send_back", letter.pk), {"next": "https://evil.example/"})
    assert response["Location"] == url("detail", letter.pk)


def test_the_sign_off_queue_is_for_leaders_oldest_first(world, client):
    first = awaiting(world)
    ReplyRevision.objects.filter(letter=first).update(
        submitted_at=timezone.now() - datetime.timedelta(days=2)
    )
    second = make_letters(world, 1, state=State.AWAITING_SIGNOFF)[0]
    make_letters(world, 1, state=State.AWAITING_SIGNOFF, unit=world.other_unit)
    client.force_login(world.kjj_leader)
    response = client.get(url("signoff_queue"))
    assert [letter.pk for letter in response.context["letters"]] == [first.pk, second.pk]
    assert 'name="viewport"' in html(response)
    client.force_login(world.kjj)
    assert client.get(url("signoff_queue")).status_code == 403


def test_the_review_says_when_it_is_the_first_submission(world, client):
    letter = awaiting(world)
    client.force_login(world.kjj_leader)
    response = client.get(url("signoff", letter.pk))
    assert response.context["previous"] is None
    assert "diff" not in response.context
    assert url("sign", letter.pk) in html(response)
    assert 'name="comment"' in html(response)


def test_the_review_of_a_letter_no_longer_waiting_goes_to_the_letter(world, client):
    letter = signed(world)
    client.force_login(world.kjj_leader)
    assert client.get(url("signoff", letter.pk))["Location"] == url("detail", letter.pk)


def test_the_diff_marks_insertions_and_deletions_inside_a_paragraph():
    rows = body_diff(
        "开头。\n累计兑付资金2800余万元。\n旧段落。", "开头。\n累计兑付资金3300余万元。"
    )
    assert rows[0]["op"] == "same"
    change = rows[1]
    assert change["op"] == "change"
    assert ("del", "28") in change["parts"] and ("ins", "33") in change["parts"]
    assert rows[2] == {"op": "delete", "parts": [("del", "旧段落。")]}


def test_the_diff_shows_an_added_paragraph_whole():
    rows = body_diff("甲。\n乙。", "甲。\n新增一段。\n乙。")
    assert {"op": "insert", "parts": [("ins", "新增一段。")]} in rows


def test_the_review_escapes_the_letter_text(world, client):
    letter = awaiting(world, body="开头。\n<script>alert(1)</script>")
    client.force_login(world.kjj_leader)
    page = html(client.get(url("signoff", letter.pk)))
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page


# --- sending and publishing ----------------------------------------------------------------------


def test_an_unsigned_letter_cannot_be_published(world, client):
    letter = awaiting(world)
    client.force_login(world.tiwei)
    response = client.post(url("publish", letter.pk))
    assert response["Location"] == url("detail", letter.pk)
    assert messages_of(response)
    assert reload(letter).state == State.AWAITING_SIGNOFF
    assert not Publication.objects.exists()


def test_publishing_needs_the_permission(world, client):
    letter = sent(world)
    client.force_login(world.kjj)
    assert client.post(url("publish", letter.pk)).status_code == 403
    client.force_login(world.zhanghua)
    assert client.post(url("publish", letter.pk)).status_code == 403
    assert reload(letter).state == State.SENT


def test_correcting_typing_errors_and_unpublishing_a_published_reply(world, client):
    letter = sent(world)
    services.publish(letter, world.tiwei)
    client.force_login(world.tiwei)
    response = client.post(url("correct_typo", letter.pk), {"reason": "", "text": "x"})
    assert messages_of(response) == [_("Please give the reason for the correction.")]
    response = client.post(url("correct_typo", letter.pk), {"reason": "重写", "text": "全新的正文"})
    # A rewrite is no typo: refused with a message, nothing published.
    assert len(messages_of(response)) == 2
    assert services.current_publication(letter).version == 1
    typo = letter.body.replace("正文", "全文")
    client.post(url("correct_typo", letter.pk), {"reason": "更正错别字", "text": typo})
    assert services.current_publication(letter).text == typo
    page = html(client.get(url("detail", letter.pk)))
    assert "更正错别字" in page
    client.post(url("unpublish", letter.pk), {"reason": "应提案人要求撤回"})
    assert reload(letter).state == State.UNPUBLISHED
    assert Publication.objects.filter(letter=letter).count() == 2


def test_a_not_public_letter_shows_no_publish_button(world, client):
    letter = sent(world, disclosure="none", nondisclosure_reason="涉及商业秘密")
    client.force_login(world.tiwei)
    response = client.get(url("detail", letter.pk))
    assert not response.context["actions"]["publish"]
    assert "涉及商业秘密" in html(response)


def test_sent_letters_wait_for_publishing_with_their_deadline(world, client):
    letter = sent(world)
    ReplyLetter.objects.filter(pk=letter.pk).update(
        sent_at=timezone.now() - datetime.timedelta(days=60)
    )
    client.force_login(world.tiwei)
    response = client.get(url("unpublished"))
    (row,) = response.context["letters"]
    assert row.pk == letter.pk and row.is_overdue
    assert row.deadline.due.strftime("%Y-%m-%d") in html(response)
    assert "is-overdue" in html(response)
    client.force_login(world.kjj)
    assert client.get(url("unpublished")).status_code == 403


def test_a_units_letters_in_progress(world, client):
    letter = draft(world)
    make_letters(world, 1, unit=world.other_unit)
    client.force_login(world.kjj)
    response = client.get(url("mine"))
    assert [row.pk for row in response.context["letters"]] == [letter.pk]
    client.force_login(world.tiwei)
    assert client.get(url("mine")).status_code == 403


# --- paper ---------------------------------------------------------------------------------------


def test_the_pdf_is_served_to_those_who_may_see_the_letter(world, client):
    letter = signed(world)
    client.force_login(world.kjj)
    response = client.get(url("pdf", letter.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert response["Content-Disposition"].startswith("inline;")
    for user in (world.outsider, world.jxw, world.zhanghua):
        client.force_login(user)
        assert client.get(url("pdf", letter.pk)).status_code == 404


def test_a_proposer_downloads_their_own_copy(world, client, monkeypatch):
    calls = []

    def fake_render(letter, proposer=None, receipt_url=None):
        calls.append((proposer, receipt_url))
        return b"%PDF-1.7 fake"

    monkeypatch.setattr("replies.views.letters.render_letter_pdf", fake_render)
    letter = sent(world)
    client.force_login(world.zhanghua)
    response = client.get(url("pdf", letter.pk))
    assert response["Content-Type"] == "application/pdf"
    ((proposer, receipt_url),) = calls
    assert proposer == world.zhanghua_proposer
    receipt = Receipt.objects.get(letter=letter, proposer=world.zhanghua_proposer)
    assert receipt_url == settings.SITE_URL.rstrip("/") + services.receipt_url(receipt)
    client.force_login(world.kjj)
    client.get(url("pdf", letter.pk))
    assert calls[-1] == (None, None)


# --- no N+1 --------------------------------------------------------------------------------------


def make_letters(world, n, state=State.DRAFT, unit=None):
    """Letters on fresh proposals, made directly: the lists only read them."""
    unit = unit or world.kjj_unit
    now = timezone.now()
    made = []
    for _i in range(n):
        proposal = Proposal.objects.create(
            session=world.session,
            number=200 + Proposal.objects.count(),
            title=f"第{Proposal.objects.count()}项建议",
            state=Proposal.State.HANDLING,
        )
        assignment = Assignment.objects.create(
            proposal=proposal, unit=unit, role="lead", assigned_at=now
        )
        letter = ReplyLetter.objects.create(
            assignment=assignment,
            title=f"关于{proposal.title}的答复函",
            salutation="张华委员：",
            body="正文。",
            state=state,
            drafted_by=world.kjj,
            sent_at=now if state in (State.SENT, State.PUBLISHED) else None,
        )
        if state != State.DRAFT:
            ReplyRevision.objects.create(
                letter=letter, number=1, title=letter.title, salutation=letter.salutation,
                body=letter.body, submitted_by=world.kjj, submitted_at=now,
            )  # fmt: skip
        made.append(letter)
    return made


@pytest.mark.parametrize(
    ("name", "user", "state"),
    [
        ("signoff_queue", "kjj_leader", State.AWAITING_SIGNOFF),
        ("unpublished", "tiwei", State.SENT),
        ("mine", "kjj", State.DRAFT),
    ],
)
def test_list_query_counts_do_not_grow_with_rows(
    world, client, django_assert_num_queries, name, user, state
):
    make_letters(world, 3, state=state)
    client.force_login(getattr(world, user))
    client.get(url(name))  # warm caches (content types, session)
    with CaptureQueriesContext(connection) as few:
        response = client.get(url(name))
    assert len(response.context["letters"]) == 3
    make_letters(world, 12, state=state)
    with django_assert_num_queries(len(few)):
        response = client.get(url(name))
    assert len(response.context["letters"]) == 15
