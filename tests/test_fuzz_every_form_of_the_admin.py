"""Fuzz: every workflow action of the admin, and every add and change form of this project's
models in it, with arbitrary input, as every role (each made staff with the workflow's
permissions, so that the admin's own rules per unit are what answers).

The actions are every action of every ModelAdmin (found on the admin site, so an action
added tomorrow is fuzzed without a line here) except those that are not workflow steps
(ADMIN_NOT_WORKFLOW); those in the walk's table (tests/test_bad_input_never_reaches_a_500.py,
ADMIN) start from its valid POST, the others from the action's own form, asked for as the
admin does. The add and change forms are parsed from their pages. The judgement is
tests/fuzzing.py's: never a 5xx, and a refusal leaves the database as it was.
"""

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from hypothesis import given

from . import fuzzing
from .test_bad_input_never_reaches_a_500 import (
    ADMIN,
    ADMIN_NOT_WORKFLOW,
    fast_receipt_page,  # noqa: F401 - autouse
)
from .test_fuzz_every_form_of_the_staff_ui import more_rows

TABLE = {endpoint.name: endpoint for endpoint in ADMIN}


def local(model):
    from django.conf import settings

    return str(model._meta.app_config.path).startswith(str(settings.BASE_DIR))


ACTIONS = sorted(
    f"admin:{model._meta.app_label}.{model._meta.model_name}:{name}"
    for model, model_admin in admin.site._registry.items()
    for _func, name, _description in model_admin._get_base_actions()
    if name not in ADMIN_NOT_WORKFLOW
)
FORMS = sorted(
    (model._meta.label, page)
    for model in admin.site._registry
    if local(model)
    for page in ("add", "change")
)


def run(name, url, own, fields, data, kwargs, clients, weight=1.0):
    ids = fuzzing.all_ids()
    before = fuzzing.snapshot()
    start = fuzzing.STATS["cases"]

    @fuzzing.seeded(name)
    @fuzzing.fuzz_settings(weight)
    @given(
        role=fuzzing.role_strategy(own),
        data=fuzzing.post_data(fields, data, ids),
        path=fuzzing.url_variant(url, kwargs, ids),
    )
    def case(role, data, path):
        fuzzing.post_case(clients[role], path, data, before)

    case()
    return fuzzing.STATS["cases"] - start


def action_form(client, url, data):
    """The fields of an action's intermediate form, as the admin shows it."""
    probe = {k: data[k] for k in ("action", ACTION_CHECKBOX_NAME)}
    with transaction.atomic():
        response = client.post(url, probe)
        transaction.set_rollback(True)
    form = (response.context or {}).get("form") if response.status_code == 200 else None
    if form is not None and hasattr(form, "fields"):
        return {n: fuzzing.field_of_form_field(f) for n, f in form.fields.items()}
    if response.status_code == 200:
        for _action, fields, _values in fuzzing.parse_post_forms(response.content.decode()):
            if "apply" in fields or "post" in fields:
                return fields
    return {}


@pytest.mark.parametrize("name", ACTIONS)
def test_admin_action_with_arbitrary_input_never_a_500_nor_half_saved(name, world):
    w = world
    clients = fuzzing.clients_for(w, admin_site=True)
    if name in TABLE:
        endpoint = TABLE[name]
        target = endpoint.build(w)
        url, own, data = target.url, endpoint.role, dict(target.data)
    else:
        more_rows(w)
        _admin, label, action = name.split(":")
        app_label, model_name = label.split(".")
        from django.apps import apps

        model = apps.get_model(app_label, model_name)
        obj = model.objects.order_by("pk").first()
        assert obj is not None, f"{name}: no {model.__name__} in the world to act on"
        url = reverse(f"admin:{app_label}_{model_name}_changelist")
        own, data = "admin", {"action": action, ACTION_CHECKBOX_NAME: [str(obj.pk)]}
    fields = action_form(clients[own], url, data)
    for key, value in data.items():
        fields.setdefault(key, fuzzing.Field(fuzzing.TEXT, [str(value)]))
    fields[ACTION_CHECKBOX_NAME] = fuzzing.Field(fuzzing.IDS)
    if fields.keys() - data.keys():
        data.setdefault("apply", "1")
    cases = run(name, url, own, fields, data, {}, clients)
    fuzzing.report(name, cases)
    print(f"\n{name} ({len(fields)} fields, as {own}): {cases} cases")


@pytest.mark.parametrize("label,page", FORMS)
def test_admin_form_with_arbitrary_input_never_a_500_nor_half_saved(label, page, world):
    from django.apps import apps

    w = world
    more_rows(w)
    clients = fuzzing.clients_for(w, admin_site=True)
    model = apps.get_model(label)
    opts = model._meta
    kwargs = {}
    obj = model.objects.order_by("pk").first() if page == "change" else None
    try:
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk])
        kwargs = {"object_id": str(obj.pk)}
    except (AttributeError, NoReverseMatch):
        # The add page; also for a change page of a model the world has no row of (a skip
        # fails under CI=true).
        url = reverse(f"admin:{opts.app_label}_{opts.model_name}_add")
    response = clients["admin"].get(url)
    fields, data = {}, {}
    if response.status_code == 200:
        for action, found, values in fuzzing.parse_post_forms(response.content.decode()):
            if action in ("", url) and len(found) >= len(fields):
                fields, data = found, values
    name = f"admin:{label}:{page}"
    cases = run(name, url, "admin", fields, data, kwargs, clients, weight=0.5)
    fuzzing.report(name, cases)
    print(f"\n{label} {page} ({len(fields)} fields): {cases} cases")
