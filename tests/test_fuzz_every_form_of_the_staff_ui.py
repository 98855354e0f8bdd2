"""Fuzz: every POST endpoint outside the admin, with arbitrary input, as every role.

The endpoints are every named URL that is not GET_ONLY in
tests/test_bad_input_never_reaches_a_500.py (so a view added tomorrow is fuzzed without a
line here); those in that walk's table start from its valid POST and form, the others from
their page's form (tests/fuzzing.py: discover). Each case is judged: never a 5xx, never a
redirect off the site, and a refusal (a 4xx, a form shown again with errors, an error
message) leaves every table's row count and every workflow row as they were.

TIAN_FUZZ_EXAMPLES=n sets the cases per endpoint (default 100); `-s` prints the counts.
"""

import datetime

import pytest
from django.urls import resolve
from hypothesis import given

from . import fuzzing
from .test_bad_input_never_reaches_a_500 import (
    GET_ONLY,
    STAFF_UI,
    extension_requested,
    fast_receipt_page,  # noqa: F401 - autouse: the receipt page's rate limit out of the way
    published_letter,
    rejection_reason,
    submitted_proposal,
    supervision_note,
)

TABLE = {endpoint.name: endpoint for endpoint in STAFF_UI}
POST_URLS = sorted(
    (name, view, route) for name, view, route in fuzzing.named_urls() if name not in GET_ONLY
)


def more_rows(w):
    """Rows for a view outside the table to act on: a proposal waiting for review, a
    published letter and its receipt, an extension asked for, a note of 督办, an upload."""
    from django.utils import timezone

    from proposals import imports
    from proposals.models import CalendarDay, Proposal, Reminder, SpreadsheetImport

    extension_requested(w)
    supervision_note(w)
    submitted_proposal(w)
    published_letter(w)
    rejection_reason()
    CalendarDay.objects.create(date=datetime.date(2026, 10, 10), is_working_day=True, note="调休")
    Reminder.objects.create(
        assignment=w.lead,
        kind=Reminder.Kind.values[0],
        stage=Reminder.Stage.values[0],
        due=w.lead.reply_due,
        sent_on=timezone.localdate(),
    )
    import io

    buffer = io.BytesIO()
    imports.template_workbook().save(buffer)
    SpreadsheetImport.objects.create(
        token="fuzz-upload",
        file_name="提案.xlsx",
        data=buffer.getvalue(),
        session=w.session,
        period=Proposal.Period.PLENARY,
        created_by=w.tiwei,
        created_at=timezone.now(),
    )


def from_table(endpoint, w):
    target = endpoint.build(w)
    fields = {}
    if target.form is not None:
        fields = {n: fuzzing.field_of_form_field(f) for n, f in target.form.fields.items()}
    for name, value in target.data.items():
        if name not in fields:
            fields[name] = fuzzing.Field(fuzzing.TEXT, [str(value)] if value != "" else [])
    data = {n: v for n, v in target.data.items()}
    kwargs = {k: str(v) for k, v in resolve(target.url.split("?")[0]).kwargs.items()}
    return target.url, endpoint.role, fields, data, kwargs, "table"


@pytest.mark.parametrize("name,view,route", POST_URLS, ids=[n for n, _v, _r in POST_URLS])
def test_arbitrary_input_as_any_role_never_a_500_nor_half_saved(name, view, route, world):
    w = world
    if name in TABLE:
        url, own, fields, data, kwargs, how = from_table(TABLE[name], w)
    else:
        more_rows(w)
        found = fuzzing.discover(name, view, route, fuzzing.clients_for(w))
        assert found.url is not None, f"{name}: no URL could be made from the rows of the world"
        url, own, fields, data, kwargs, how = (
            found.url,
            found.role,
            found.fields,
            found.baseline,
            found.kwargs,
            found.how,
        )
    clients = fuzzing.clients_for(w)
    ids = fuzzing.all_ids()
    before = fuzzing.snapshot()
    start = dict(fuzzing.STATS["by_status"]), fuzzing.STATS["cases"]

    @fuzzing.seeded(name)
    @fuzzing.fuzz_settings()
    @given(
        role=fuzzing.role_strategy(own),
        data=fuzzing.post_data(fields, data, ids),
        path=fuzzing.url_variant(url, kwargs, ids),
    )
    def case(role, data, path):
        fuzzing.post_case(clients[role], path, data, before)

    case()
    fuzzing.report(name, fuzzing.STATS["cases"] - start[1])
    print(
        f"\n{name} ({how}, {len(fields)} fields, as {own}): "
        f"{fuzzing.STATS['cases'] - start[1]} cases, statuses "
        f"{ {s: n - start[0].get(s, 0) for s, n in fuzzing.STATS['by_status'].items() if n - start[0].get(s, 0)} }"
    )
