"""What the fuzzer (tests/test_fuzz_every_form_of_*.py) found, each kept as its own case."""

import pytest
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.urls import reverse

from accounts.models import Membership

from .fuzzing import parse_post_forms


@pytest.mark.parametrize("unit", ["2028-11-30", str(2**63), "1e3", " "])
def test_an_admin_form_with_a_unit_that_is_no_id_is_shown_again_not_a_500(world, client, unit):
    # The autocomplete widget looked "2028-11-30" up to label it: ValueError, a 500.
    client.force_login(world.admin)
    count = Membership.objects.count()
    response = client.post(
        reverse("admin:accounts_membership_add"),
        {"user": world.lisi.pk, "unit": unit, "role": "handler", "title": ""},
    )
    assert response.status_code == 200
    assert "unit" in response.context["adminform"].form.errors
    assert Membership.objects.count() == count


def test_the_membership_inline_of_a_user_with_a_unit_that_is_no_id_is_not_a_500(world, client):
    client.force_login(world.admin)
    url = reverse("admin:accounts_user_change", args=[world.lisi.pk])
    [(_action, _fields, data)] = [
        form for form in parse_post_forms(client.get(url).content.decode()) if form[0] == ""
    ]
    data = {**data, "memberships-TOTAL_FORMS": "1", "memberships-0-unit": "2028-11-30"}
    data["memberships-0-user"] = str(world.lisi.pk)
    data["memberships-0-role"] = "handler"
    response = client.post(url, data)
    assert response.status_code == 200
    assert not Membership.objects.filter(user=world.lisi).exists()


def test_every_autocomplete_field_of_the_admin_is_drawn_by_the_safe_widget(rf, world):
    from django.contrib import admin

    from core.admin import SafeAutocompleteWidgetMixin

    request = rf.get("/admin/")
    request.user = world.admin
    seen = 0
    for model_admin in admin.site._registry.values():
        admins = [model_admin, *model_admin.get_inline_instances(request)]
        for one in admins:
            fields = one.get_autocomplete_fields(request)
            if not fields:
                continue
            form = (
                one.get_formset(request).form if one is not model_admin else one.get_form(request)
            )
            for name in fields:
                widget = getattr(form.base_fields[name].widget, "widget", None)
                assert isinstance(widget, AutocompleteSelect | AutocompleteSelectMultiple)
                assert isinstance(widget, SafeAutocompleteWidgetMixin), (
                    f"{type(one).__name__}.{name}: Django's own autocomplete widget"
                )
                seen += 1
    assert seen >= 8


@pytest.mark.parametrize(
    "n,text",
    [
        (1, "一"),
        (15, "十五"),
        (23, "二十三"),
        (100, "一百"),
        (105, "一百零五"),
        (110, "一百一十"),
        (1005, "一千零五"),
        (19772, "一万九千七百七十二"),
        (32767, "三万二千七百六十七"),
        (100010000, "一亿零一万"),
    ],
)
def test_a_term_or_session_number_of_any_size_is_written_in_chinese(n, text):
    from proposals.models import chinese_numeral

    assert chinese_numeral(n) == text


@pytest.mark.parametrize("number", ["100", "19772", "32767"])
def test_a_term_numbered_100_or_more_is_saved_in_the_admin_not_a_500(world, client, number):
    # Its name (第…届, in the admin's log of the change) raised IndexError: a 500.
    from proposals.models import Term

    client.force_login(world.admin)
    response = client.post(
        reverse("admin:proposals_term_add"),
        {"number": number, "committee": "重庆市梁平区", "started_on": ""},
    )
    assert response.status_code == 302
    assert Term.objects.filter(number=int(number)).exists()
    session = reverse("admin:proposals_session_change", args=[world.session.pk])
    response = client.post(session, {"term": world.term.pk, "number": number, "opened_on": ""})
    assert response.status_code == 302


@pytest.mark.parametrize("permission", [str(10**27), str(2**63), "1e3"])
def test_a_permission_id_no_database_holds_is_refused_on_the_user_page(world, client, permission):
    # The admin's many-to-many fields looked 10**27 up as it was: OverflowError, a 500.
    client.force_login(world.admin)
    url = reverse("admin:accounts_user_change", args=[world.lisi.pk])
    [(_action, _fields, data)] = [
        form for form in parse_post_forms(client.get(url).content.decode()) if form[0] == ""
    ]
    response = client.post(url, {**data, "user_permissions": [permission]})
    assert response.status_code == 200
    assert "user_permissions" in response.context["adminform"].form.errors
    assert not world.lisi.user_permissions.exists()
