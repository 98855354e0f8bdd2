"""Fuzz: every page read with GET (lists, their filters and search, exports, files), with
arbitrary query strings, as every role.

The pages are the named URLs listed GET_ONLY in tests/test_bad_input_never_reaches_a_500.py
(a page added tomorrow is fuzzed without a line here); each one's filter form is parsed from
the page as the first role that sees it, and `page`, `q` and `sort` are tried everywhere.
Never a 5xx; a refusal leaves the database as it was.
"""

import pytest
from hypothesis import given

from . import fuzzing
from .test_bad_input_never_reaches_a_500 import (
    GET_ONLY,
    fast_receipt_page,  # noqa: F401 - autouse
)
from .test_fuzz_every_form_of_the_staff_ui import more_rows

GET_URLS = sorted((n, v, r) for n, v, r in fuzzing.named_urls() if n in GET_ONLY)
EVERYWHERE = {
    "page": fuzzing.Field(fuzzing.INT),
    "q": fuzzing.Field(fuzzing.TEXT),
    "sort": fuzzing.Field(fuzzing.TEXT),
}


@pytest.mark.parametrize("name,view,route", GET_URLS, ids=[n for n, _v, _r in GET_URLS])
def test_any_query_as_any_role_never_a_500_nor_half_saved(name, view, route, world):
    w = world
    more_rows(w)
    clients = fuzzing.clients_for(w)
    found = fuzzing.discover(name, view, route, clients, method="get")
    assert found.url is not None, f"{name}: no URL could be made from the rows of the world"
    fields = {**EVERYWHERE, **found.fields}
    ids = fuzzing.all_ids()
    before = fuzzing.snapshot()
    start = fuzzing.STATS["cases"]

    @fuzzing.seeded(f"GET {name}")
    @fuzzing.fuzz_settings(0.3)
    @given(
        role=fuzzing.role_strategy(found.role),
        data=fuzzing.post_data(
            {n: f for n, f in fields.items() if f.kind != fuzzing.FILE}, {}, ids
        ),
        path=fuzzing.url_variant(found.url, found.kwargs, ids),
    )
    def case(role, data, path):
        fuzzing.post_case(clients[role], path, data, before, method="get")

    case()
    fuzzing.report(f"GET {name}", fuzzing.STATS["cases"] - start)
    print(f"\n{name} ({found.how}, {len(fields)} fields): {fuzzing.STATS['cases'] - start} cases")
