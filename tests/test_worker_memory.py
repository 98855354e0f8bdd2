"""What a worker loads before it serves anything (issue 11: worker RSS ≤ 150 MB).

The libraries only some requests need are imported by those requests: WeasyPrint (30 MB, a
PDF) and openpyxl (10 MB, a spreadsheet). A worker that loads the URLs and serves the
workspace and the public column has neither.
"""

import json

from tests.test_shared_cache_in_redis import run_with_settings

HEAVY = ["weasyprint", "openpyxl", "fontTools"]

LOADED = (
    "import json, sys, django; django.setup(); "
    "from django.urls import get_resolver; get_resolver().url_patterns; "
    "import config.wsgi; "
    f"print(json.dumps([m for m in {HEAVY!r} if m in sys.modules]))"
)


def test_a_worker_loads_no_pdf_or_spreadsheet_library_until_a_request_needs_it():
    assert json.loads(run_with_settings({}, LOADED)) == []


def test_they_load_when_needed():
    from core.spreadsheets import stream_xlsx
    from replies.views.statistics import workbook

    assert workbook([], "scope", None).sheetnames == []
    assert b"".join(stream_xlsx("t", ["a"], [[1]])).startswith(b"PK")
