"""The Django admin: every model reachable, audit events untouchable, changelists cheap."""

import datetime

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from accounts.models import Proposer
from proposals.models import Assignment, Event, Proposal
from replies.models import Receipt, ReplyLetter


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    client.cookies["django_language"] = "en"  # messages are matched in English
    return client


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def make_letter(world, **extra):
    fields = {
        "assignment": world.lead,
        "title": "关于区政协十五届一次会议第069号提案的答复函",
        "salutation": "张华委员：",
        "body": "你提出的《关于加快创建国家级高新区的建议》收悉。",
        "doc_number": "梁平科技函〔2022〕45号",
    }
    fields.update(extra)
    return ReplyLetter.objects.create(**fields)


def record_event(proposal, verb="submit"):
    return Event.objects.create(proposal=proposal, verb=verb, to_state=proposal.state)


def test_every_registered_model_has_a_changelist_and_an_add_page(admin_client):
    for model, model_admin in admin.site._registry.items():
        if model._meta.app_label not in {"accounts", "proposals", "replies"}:
            continue
        assert admin_client.get(admin_url(model, "changelist")).status_code == 200, model
        response = admin_client.get(admin_url(model, "add"))
        # History models (audit events, revisions, publications) are written by the workflow.
        expected = 200 if model_admin.has_add_permission(response.wsgi_request) else 403
        assert response.status_code == expected, model


def test_every_model_of_the_three_apps_is_registered():
    from django.apps import apps

    # The search entries are derived from the text (manage.py reindex_search rewrites them):
    # nothing in them to read or change by hand.
    derived = {"ProposalSearch", "PublicReplySearch"}
    for app_label in ("accounts", "proposals", "replies"):
        for model in apps.get_app_config(app_label).get_models():
            if model.__name__ in derived:
                continue
            assert admin.site.is_registered(model), model


def test_change_pages_open_for_existing_objects(admin_client, world):
    letter = make_letter(world)
    receipt = Receipt.objects.create(letter=letter, proposer=world.zhanghua_proposer)
    record_event(world.proposal)
    for obj in [
        world.proposal,
        world.lead,
        letter,
        receipt,
        world.kjj_unit,
        world.admin,
        world.zhanghua_proposer,
        world.proposal.events.get(),
    ]:
        response = admin_client.get(admin_url(type(obj), "change", obj.pk))
        assert response.status_code == 200, obj


def test_the_proposal_change_page_shows_signers_and_assignments(admin_client, world):
    response = admin_client.get(admin_url(Proposal, "change", world.proposal.pk))

    content = response.content.decode()
    assert "张华" in content
    assert "区科技局" in content and "区经济信息委" in content


def test_the_proposal_state_is_read_only_in_the_change_form(admin_client, world):
    response = admin_client.get(admin_url(Proposal, "change", world.proposal.pk))

    form = response.context["adminform"].form
    assert "state" not in form.fields
    assert "submitted_at" not in form.fields
    assert "title" in form.fields


def test_a_letter_is_read_only_in_the_admin_and_changes_only_through_actions(admin_client, world):
    letter = make_letter(world, state=ReplyLetter.State.DRAFT)
    url = admin_url(ReplyLetter, "change", letter.pk)
    response = admin_client.get(url)
    assert response.status_code == 200
    assert not response.context["adminform"].form.fields
    data = {"title": "关于第069号提案的答复函（更正）", "state": ReplyLetter.State.SENT}
    assert admin_client.post(url, data).status_code == 403
    letter.refresh_from_db()
    assert letter.state == ReplyLetter.State.DRAFT
    assert letter.title != data["title"]


def test_a_signed_letters_text_is_frozen_in_the_admin_too(admin_client, world):
    letter = make_letter(world, state=ReplyLetter.State.SENT)
    response = admin_client.get(admin_url(ReplyLetter, "change", letter.pk))
    form = response.context["adminform"].form
    assert "body" not in form.fields and "title" not in form.fields


def test_unit_autocomplete_finds_the_science_bureau(admin_client, world):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "proposals",
            "model_name": "proposal",
            "field_name": "suggested_units",
            "term": "科技",
        },
    )

    assert response.status_code == 200
    names = [result["text"] for result in response.json()["results"]]
    assert names == ["区科技局"]


@pytest.mark.parametrize(
    "model_name, field_name, term, expected",
    [
        ("proposal", "session", "15", "第十五届委员会第一次会议"),
        ("proposal", "merged_into", "高新区", "第069号 关于加快创建国家级高新区的建议"),
        ("membership", "user", "kjj", "科技局经办人"),
    ],
)
def test_autocomplete_finds_sessions_proposals_and_people(
    admin_client, model_name, field_name, term, expected
):
    response = admin_client.get(
        "/admin/autocomplete/",
        {
            "app_label": "accounts" if model_name == "membership" else "proposals",
            "model_name": model_name,
            "field_name": field_name,
            "term": term,
        },
    )

    assert response.status_code == 200
    assert expected in [result["text"] for result in response.json()["results"]]


def test_audit_events_cannot_be_added_changed_or_deleted(admin_client, world):
    event = record_event(world.proposal)

    assert admin_client.get(admin_url(Event, "add")).status_code == 403
    assert admin_client.post(admin_url(Event, "add"), {"verb": "x"}).status_code == 403
    change = admin_client.post(admin_url(Event, "change", event.pk), {"verb": "forged"})
    assert change.status_code == 403
    assert admin_client.get(admin_url(Event, "delete", event.pk)).status_code == 403
    assert admin_client.post(admin_url(Event, "delete", event.pk), {"post": "yes"}).status_code == (
        403
    )
    event.refresh_from_db()
    assert event.verb == "submit"


def test_audit_events_have_no_bulk_delete(admin_client, world):
    event = record_event(world.proposal)
    changelist = admin_client.get(admin_url(Event, "changelist"))
    # No action at all is offered, so no action form.
    assert changelist.context["action_form"] is None

    admin_client.post(
        admin_url(Event, "changelist"),
        {"action": "delete_selected", "_selected_action": [event.pk], "post": "yes"},
    )

    assert Event.objects.filter(pk=event.pk).exists()


def test_a_proposal_with_events_cannot_be_deleted(admin_client, world):
    record_event(world.proposal)
    url = admin_url(Proposal, "delete", world.proposal.pk)

    assert admin_client.get(url).status_code == 403
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Proposal.objects.filter(pk=world.proposal.pk).exists()


def test_a_proposal_without_events_can_be_deleted(admin_client, world):
    spare = Proposal.objects.create(session=world.session, title="关于新建图书馆的建议")
    url = admin_url(Proposal, "delete", spare.pk)

    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Proposal.objects.filter(pk=spare.pk).exists()


def test_a_proposal_with_assignments_cannot_be_deleted(admin_client, world):
    url = admin_url(Proposal, "delete", world.proposal.pk)
    assert admin_client.post(url, {"post": "yes"}).status_code == 403
    assert Assignment.objects.filter(pk=world.lead.pk).exists()


def test_bulk_delete_leaves_proposals_with_events(admin_client, world):
    record_event(world.proposal)
    spare = Proposal.objects.create(session=world.session, title="关于新建图书馆的建议")
    selected = [world.proposal.pk, spare.pk]
    changelist = admin_url(Proposal, "changelist")

    confirm = admin_client.post(
        changelist,
        {"action": "delete_selected", "_selected_action": selected},
        headers={"accept-language": "en"},
    )
    assert confirm.status_code == 200
    assert "1 proposal has audit events" in str(list(confirm.context["messages"])[0])
    # The confirmation page offers only the deletable proposal.
    assert [p.pk for p in confirm.context["queryset"]] == [spare.pk]

    # Even a forged confirmation naming both leaves the one with events.
    admin_client.post(
        changelist, {"action": "delete_selected", "_selected_action": selected, "post": "yes"}
    )

    assert Proposal.objects.filter(pk=world.proposal.pk).exists()
    assert not Proposal.objects.filter(pk=spare.pk).exists()


def fill_tables(world, first, count):
    """Proposals with an event, an assignment, a sent letter and a receipt each."""
    for i in range(first, first + count):
        proposal = Proposal.objects.create(
            session=world.session, number=100 + i, title=f"提案{i}", category=world.category
        )
        record_event(proposal)
        assignment = Assignment.objects.create(
            proposal=proposal, unit=world.kjj_unit, assigned_at=timezone.now()
        )
        letter = make_letter(
            world,
            assignment=assignment,
            doc_number=f"梁平科技函〔2022〕{i + 1}号",
            sent_at=timezone.now(),
        )
        Receipt.objects.create(
            letter=letter,
            proposer=Proposer.objects.create(name=f"委员{i}"),
            attitude=Receipt.Rating.SATISFIED,
            result=Receipt.Rating.BASICALLY,
            submitted_at=timezone.now(),
        )


def changelist_queries(client, model, django_assert_max_num_queries):
    with django_assert_max_num_queries(15) as captured:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return len(captured.captured_queries)


@pytest.mark.parametrize(
    "model", [Proposal, Assignment, Event, ReplyLetter, Receipt], ids=lambda m: m.__name__
)
def test_changelist_queries_do_not_grow_with_rows(
    admin_client, world, model, django_assert_max_num_queries
):
    fill_tables(world, 0, 5)
    few = changelist_queries(admin_client, model, django_assert_max_num_queries)
    fill_tables(world, 5, 25)
    many = changelist_queries(admin_client, model, django_assert_max_num_queries)

    assert model.objects.count() >= 30
    assert many == few


def test_proposals_are_found_by_title(admin_client, world):
    Proposal.objects.create(session=world.session, title="关于改善农村饮水的建议")

    response = admin_client.get(admin_url(Proposal, "changelist"), {"q": "高新区"})

    assert [p.pk for p in response.context["cl"].result_list] == [world.proposal.pk]


def test_proposals_are_found_by_number_and_proposer(admin_client, world):
    by_number = admin_client.get(admin_url(Proposal, "changelist"), {"q": "69"})
    by_proposer = admin_client.get(admin_url(Proposal, "changelist"), {"q": "张华"})

    assert [p.pk for p in by_number.context["cl"].result_list] == [world.proposal.pk]
    assert [p.pk for p in by_proposer.context["cl"].result_list] == [world.proposal.pk]


def test_letters_are_found_by_document_number(admin_client, world):
    letter = make_letter(world)
    make_letter(world, assignment=world.co, doc_number="梁平经信函〔2022〕12号")

    response = admin_client.get(
        admin_url(ReplyLetter, "changelist"), {"q": "梁平科技函〔2022〕45号"}
    )

    assert [row.pk for row in response.context["cl"].result_list] == [letter.pk]


def test_the_admin_carries_the_system_name(admin_client):
    response = admin_client.get(reverse("admin:index"))

    assert "Proposal handling administration" in response.content.decode()


def test_letters_filter_by_unit_and_result_class(admin_client, world):
    letter = make_letter(world, result_class="A")
    make_letter(world, assignment=world.co, doc_number="", result_class="B")

    response = admin_client.get(
        admin_url(ReplyLetter, "changelist"),
        {"assignment__unit__id__exact": world.kjj_unit.pk, "result_class__exact": "A"},
    )

    assert [row.pk for row in response.context["cl"].result_list] == [letter.pk]


def test_a_submitted_receipt_cannot_be_changed_in_the_admin(admin_client, world):
    letter = make_letter(world)
    receipt = Receipt.objects.create(
        letter=letter,
        proposer=world.zhanghua_proposer,
        attitude=Receipt.Rating.DISSATISFIED,
        result=Receipt.Rating.DISSATISFIED,
        opinion="不满意",
        submitted_at=timezone.now() - datetime.timedelta(days=1),
    )

    response = admin_client.post(
        admin_url(Receipt, "change", receipt.pk),
        {"letter": letter.pk, "proposer": world.zhanghua_proposer.pk, "attitude": "satisfied"},
    )

    assert response.status_code == 403
    receipt.refresh_from_db()
    assert (receipt.attitude, receipt.opinion) == (Receipt.Rating.DISSATISFIED, "不满意")


def test_an_administrators_content_correction_is_on_the_record(admin_client, world):
    url = admin_url(Proposal, "change", world.proposal.pk)
    form = admin_client.get(url).context["adminform"].form
    assert not {"number", "state", "session", "kind", "is_key", "handling_mode"} & set(form.fields)
    data = {
        "title": "关于加快创建国家级高新技术产业开发区的建议",
        "reasons": "理由",
        "suggestions": "建议",
        "category": world.category.pk,
        "period": Proposal.Period.PLENARY,
        "consent_to_publish": "on",
        # Fields the workflow owns are ignored even if posted.
        "number": 70,
        "state": Proposal.State.CLOSED,
    }
    for prefix in ("proposer_list", "assignments"):
        data.update({f"{prefix}-TOTAL_FORMS": 0, f"{prefix}-INITIAL_FORMS": 0})

    response = admin_client.post(url, data)

    assert response.status_code == 302, response.context["errors"]
    world.proposal.refresh_from_db()
    assert world.proposal.title == "关于加快创建国家级高新技术产业开发区的建议"
    assert (world.proposal.number, world.proposal.state) == (69, Proposal.State.HANDLING)
    event = world.proposal.events.get(verb="changed_in_admin")
    assert event.actor == world.admin
    assert (
        "关于加快创建国家级高新区的建议 → 关于加快创建国家级高新技术产业开发区的建议"
        in event.comment
    )


def test_the_proposal_page_links_to_its_audit_trail(admin_client, world):
    event = record_event(world.proposal)
    other = Proposal.objects.create(session=world.session, title="关于新建图书馆的建议")
    record_event(other)
    page = admin_client.get(admin_url(Proposal, "change", world.proposal.pk))
    link = f"{admin_url(Event, 'changelist')}?proposal__id__exact={world.proposal.pk}"
    assert link in page.content.decode()

    trail = admin_client.get(link)

    assert [row.pk for row in trail.context["cl"].result_list] == [event.pk]
