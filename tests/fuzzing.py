"""The fuzzer's parts: what to post where, the values, and what a case may leave behind.

Endpoints come from the same discovery as tests/test_bad_input_never_reaches_a_500.py: every
named URL outside the admin that is not GET_ONLY, and every action of every ModelAdmin.
One in that walk's table (STAFF_UI, ADMIN) starts from its valid POST, its form and the rows
it acts on; one that is not (a view added since) is found here: its URL's ids filled from
the rows of the world, the page GET as each role until one shows a POST form for it, whose
fields are parsed with html.parser; else the view's form class, found in its code; else no
field at all (arbitrary fields are still posted).

Each field gets values by its kind (text, integer, date, id, choice, check box, file, a list
of ids), or any kind, or its valid value, or nothing; the URL's id is sometimes another
row's or an absurd one; the role is the endpoint's own half the time, else any of the
others (anonymous included). A case runs in a savepoint that is rolled back.
"""

import datetime
import functools
import html.parser
import inspect
import os
import re
import zlib
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django import forms
from django.apps import apps
from django.conf import settings
from django.contrib.messages import get_messages
from django.contrib.sessions.models import Session as DjangoSession
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from hypothesis import HealthCheck, Phase, seed
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

# --- how many cases ---------------------------------------------------------------------------------

# Cases per endpoint; TIAN_FUZZ_EXAMPLES scales the run (CI: the default, ≥ 10,000 in all).
EXAMPLES = int(os.environ.get("TIAN_FUZZ_EXAMPLES", "100"))
# TIAN_FUZZ_SHRINK=1 shrinks a failing case to its smallest form (slow: a request a step).
PHASES = (
    (Phase.explicit, Phase.generate, Phase.shrink)
    if os.environ.get("TIAN_FUZZ_SHRINK") == "1"
    else (Phase.explicit, Phase.generate)
)


def fuzz_settings(weight=1.0):
    return hypothesis_settings(
        max_examples=max(1, round(EXAMPLES * weight)),
        deadline=None,
        database=None,
        phases=PHASES,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.filter_too_much,
            HealthCheck.large_base_example,
        ],
        print_blob=False,
    )


def seeded(name):
    """The cases of one endpoint: the same on every CI run (a seed from its name, so that CI
    does not fail at random), new on every other run; TIAN_FUZZ_SEED=n picks another set."""
    chosen = os.environ.get("TIAN_FUZZ_SEED")
    if chosen is None and os.environ.get("CI") != "true":
        return lambda test: test
    return seed(zlib.crc32(name.encode()) ^ int(chosen or 0))


# --- the values ---------------------------------------------------------------------------------------

MISSING_ID = 2147483647
ABSURD_IDS = ["0", "-1", str(MISSING_ID), str(2**31), str(2**63 - 1), str(2**63), str(10**30)]
SPECIAL_TEXT = [
    "",
    " ",
    "\t",
    "\u202e\u0645\u0631\u062d\u0628\u0627 rtl",  # RIGHT-TO-LEFT OVERRIDE, Arabic
    "\u05e9\u05dc\u05d5\u05dd \u200f",  # Hebrew, RIGHT-TO-LEFT MARK
    "👨‍👩‍👧‍👦🇨🇳👍🏽",  # ZWJ sequence, flag, skin tone
    "\ufeff\u200b\u2060",  # BOM, zero-width space, word joiner
    "a\u0301\u0302\u0303\u0304",  # combining marks
    "\x01\x02\x07\x08\x1b[31m\x7f",  # control characters (no NUL)
    "标题\r\nBcc: x@y",
    "\u2028\u2029",
    "<script>alert(1)</script>",
    "{{ 7|add:7 }}{% now 'Y' %}",
    "%(x)s %s {0}",
    "' OR 1=1 --",
    "../../etc/passwd",
    "null",
    "None",
    "𠀀𪚥",  # CJK outside the Basic Multilingual Plane
    "a\x00b",  # NUL
]
LONG_SIZES = [129, 201, 256, 1001, 5001, 20_001, 100_001]
INT_TEXT = [
    "-1",
    "0",
    "1e3",
    " 7 ",
    "0x1F",
    "+5",
    "1_000",
    "٣",  # ARABIC-INDIC DIGIT THREE
    "７",  # FULLWIDTH DIGIT SEVEN
    "NaN",
    "inf",
    "1e309",
    "3.5",
    str(2**31),
    str(2**63),
    str(-(2**63) - 1),
    str(10**40),
]
BAD_DATES = [
    "0001-01-01",
    "9999-12-31",
    "2022-02-30",
    "2022-13-01",
    "0000-00-00",
    "10000-01-01",
    "-0001-01-01",
    "2022/01/01",
    "01/02/2022",
    "2022年1月1日",
    "2022-1-1",
    "20220101",
    "2022-01-01T25:61:00",
    "2022-01-01 00:00:00+99:00",
    "not-a-date",
    "٢٠٢٢-٠١-٠١",
]
BOOLS = ["on", "off", "yes", "no", "true", "false", "1", "0", "", "是"]

text = st.one_of(
    st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40),
    st.sampled_from(SPECIAL_TEXT),
    st.builds(
        lambda ch, n: ch * n,
        st.sampled_from(["a", "字", "😀", "\u202e", "\n", "é"]),
        st.sampled_from(LONG_SIZES),
    ),
)
integer = st.one_of(
    st.integers().map(str),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(INT_TEXT),
)
date = st.one_of(
    st.dates().map(datetime.date.isoformat),
    st.dates(datetime.date(2000, 1, 1), datetime.date(2040, 12, 31)).map(datetime.date.isoformat),
    st.sampled_from(BAD_DATES),
    st.builds(
        "{}-{:02d}-{:02d}".format,
        st.integers(-99999, 99999),
        st.integers(-1, 99),
        st.integers(-1, 99),
    ),
    st.datetimes().map(lambda d: d.isoformat(sep=" ")),
)
boolean = st.sampled_from(BOOLS)

UPLOAD_CONTENTS = {
    "empty": b"",
    "text": "提案 proposal\n".encode() * 10,
    "pdf": b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n",
    "png": b"\x89PNG\r\n\x1a\n" + b"\x00" * 64,
    "zip": b"PK\x03\x04" + b"\x00" * 26 + b"PK\x05\x06" + b"\x00" * 18,
    "exe": b"MZ\x90\x00" + b"\x00" * 60,
    "html": b"<html><script>alert(1)</script></html>",
    "random": bytes(range(256)) * 4,
    # Larger than every upload limit of the app (attachments, spreadsheets), bounded.
    "large": b"\x00" * (11 * 1024 * 1024),
}
UPLOAD_NAMES = [
    "附件.pdf",
    "a.xlsx",
    "a.png",
    "a.exe",
    "a.pdf.exe",
    "noextension",
    ".xlsx",
    "../../../etc/passwd",
    "a" * 300 + ".pdf",
    "\u202egpj.exe",
    "a\x00.pdf",
    "con.docx",
    "",
]
CONTENT_TYPES = [
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "image/png",
    "text/html",
    "application/octet-stream",
    "",
]


@st.composite
def upload(draw):
    kind = draw(st.sampled_from(sorted(UPLOAD_CONTENTS)))
    if kind == "large" and draw(st.integers(0, 9)):  # one in ten of these only: 11 MB to post
        kind = "random"
    name = draw(st.one_of(st.sampled_from(UPLOAD_NAMES), text.filter(bool).map(lambda s: s[:300])))
    content_type = draw(st.sampled_from(CONTENT_TYPES))
    return SimpleUploadedFile(name or "x", UPLOAD_CONTENTS[kind], content_type=content_type)


# --- what a field is ------------------------------------------------------------------------------

TEXT, INT, DATE, ID, IDS, CHOICE, BOOL, FILE = (
    "text",
    "int",
    "date",
    "id",
    "ids",
    "choice",
    "bool",
    "file",
)


@dataclass
class Field:
    kind: str
    choices: list = field(default_factory=list)  # the values a select or radio offers


def field_of_form_field(form_field):
    choices = []
    if hasattr(form_field, "choices"):
        try:
            choices = [str(getattr(v, "value", v)) for v, _label in form_field.choices]
        except Exception:  # noqa: BLE001 - a queryset of another database state
            choices = []
    if isinstance(form_field, forms.FileField):
        return Field(FILE)
    if isinstance(form_field, forms.ModelMultipleChoiceField | forms.MultipleChoiceField):
        return Field(IDS, choices)
    if isinstance(form_field, forms.ModelChoiceField):
        return Field(ID, choices)
    if isinstance(form_field, forms.ChoiceField):
        return Field(CHOICE, choices)
    if isinstance(form_field, forms.BooleanField | forms.NullBooleanField):
        return Field(BOOL)
    if isinstance(form_field, forms.DateField | forms.DateTimeField):
        return Field(DATE)
    if isinstance(form_field, forms.IntegerField | forms.DecimalField | forms.FloatField):
        return Field(INT)
    return Field(TEXT)


class FormParser(html.parser.HTMLParser):
    """The forms of a page sent by `method`: [(action, {name: Field}, {name: value})]."""

    def __init__(self, method="post"):
        super().__init__(convert_charrefs=True)
        self.method = method
        self.forms, self.current, self.select, self.textarea = [], None, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form":
            if (a.get("method") or "get").lower() == self.method:
                self.current = (a.get("action") or "", {}, {})
                self.forms.append(self.current)
            return
        if self.current is None:
            return
        _action, fields, values = self.current
        name = a.get("name")
        if tag == "input" and name and name != "csrfmiddlewaretoken":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset"):
                if a.get("value") is not None:
                    fields.setdefault(name, Field(CHOICE)).choices.append(a["value"])
                    values.setdefault(name, a["value"])
                return
            mapped = {
                "date": DATE,
                "datetime-local": DATE,
                "number": INT,
                "checkbox": BOOL,
                "radio": CHOICE,
                "file": FILE,
            }.get(kind, TEXT)
            if name in fields and kind == "checkbox":
                mapped = IDS  # several boxes of one name: a list of values
            old = fields.get(name)
            fields[name] = Field(mapped, old.choices if old else [])
            if kind in ("checkbox", "radio", "hidden") and a.get("value") is not None:
                fields[name].choices.append(a["value"])
            if kind in ("checkbox", "radio"):
                if "checked" in a:
                    values.setdefault(name, a.get("value", "on"))
            elif kind != "file":
                values.setdefault(name, a.get("value", ""))
        elif tag == "select" and name:
            self.select = name
            fields[name] = Field(IDS if "multiple" in a else CHOICE)
        elif tag == "option" and self.select and a.get("value") is not None:
            fields[self.select].choices.append(a["value"])
            if "selected" in a:
                values.setdefault(self.select, a["value"])
        elif tag == "textarea" and name:
            self.textarea = name
            fields[name] = Field(TEXT)
            values[name] = ""

    def handle_data(self, data):
        if self.current is not None and self.textarea:
            self.current[2][self.textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None


def parse_post_forms(content, method="post"):
    parser = FormParser(method)
    parser.feed(content)
    for _action, fields, _values in parser.forms:
        for f in fields.values():
            if f.kind == CHOICE and f.choices and all(c.isdigit() for c in f.choices if c):
                f.kind = ID
    return parser.forms


def form_class_in_code(view):
    """A form class the view's function names (its code's globals), or its `form_class`."""
    view = inspect.unwrap(view)
    view_class = getattr(view, "view_class", None)
    if view_class is not None:
        found = getattr(view_class, "form_class", None) or (
            getattr(view, "view_initkwargs", {}).get("authentication_form")
        )
        return found if isinstance(found, type) and issubclass(found, forms.BaseForm) else None
    code = getattr(view, "__code__", None)
    if code is None:
        return None
    for name in code.co_names:
        value = view.__globals__.get(name)
        if isinstance(value, type) and issubclass(value, forms.BaseForm):
            return value
    return None


# --- the value of one field ----------------------------------------------------------------------


KEEP, OMIT = object(), object()


def values_of(f, ids):
    """A strategy for one field's posted value, by its kind."""
    id_values = st.sampled_from(ids) if ids else integer
    offered = [c for c in f.choices if c is not None]
    by_kind = {
        TEXT: text,
        INT: integer,
        DATE: date,
        ID: st.one_of(id_values, st.sampled_from(ABSURD_IDS), integer),
        CHOICE: st.one_of(text, integer),
        BOOL: boolean,
        FILE: upload(),
    }
    if f.kind == IDS:
        one = st.one_of(id_values, st.sampled_from(ABSURD_IDS), text, integer)
        if offered:
            one = st.one_of(st.sampled_from(offered), one)
        return st.lists(one, max_size=5)
    own = by_kind[f.kind]
    if offered:
        own = st.one_of(st.sampled_from(offered), own)
    return own


any_value = st.one_of(text, integer, date, boolean, st.lists(st.one_of(text, integer), max_size=4))


@st.composite
def post_data(draw, fields, baseline, ids):
    """A POST: each field kept, left out, or given a value of its kind or of any kind; and
    sometimes a field nobody asked for."""
    mode = draw(st.sampled_from(["one", "some", "all"]))
    names = sorted(set(fields) | set(baseline))
    changed = set()
    if names:
        if mode == "one":
            changed = {draw(st.sampled_from(names))}
        elif mode == "some":
            changed = {n for n in names if draw(st.booleans())}
        else:
            changed = set(names)
    data, uploads = {}, False
    for name in names:
        value = baseline.get(name, OMIT)
        if name in changed:
            f = fields.get(name) or Field(TEXT)
            how = draw(st.sampled_from(["own", "own", "own", "any", "omit"]))
            if how == "omit":
                value = OMIT
            elif how == "any" and f.kind != FILE:
                value = draw(any_value)
            else:
                value = draw(values_of(f, ids))
        if value is not OMIT:
            data[name] = value
            uploads = uploads or isinstance(value, SimpleUploadedFile)
    if draw(st.integers(0, 9)) == 0:
        data[draw(text.filter(lambda s: 0 < len(s) < 100))] = draw(any_value)
    return data


# --- the roles ------------------------------------------------------------------------------------

# Committee staff, a unit's handler and its leader, the co-unit's handler, the proposer, a
# cosigner, another unit's handler, the superuser, and nobody signed in.
ROLES = ["tiwei", "kjj", "kjj_leader", "jxw", "zhanghua", "lisi", "outsider", "admin", None]


def role_strategy(own):
    """The endpoint's own role half the time, else any other."""
    return st.one_of(st.just(own), st.sampled_from(ROLES))


def clients_for(w, admin_site=False):
    from .test_bad_input_never_reaches_a_500 import make_staff

    clients = {}
    for role in ROLES:
        client = Client(raise_request_exception=False)
        if role is not None:
            user = getattr(w, role)
            if admin_site and not user.is_superuser:
                make_staff(user)
            client.force_login(user)
        clients[role] = client
    return clients


# --- what the database holds ------------------------------------------------------------------------


@functools.cache
def local_models():
    """The models of this project's apps (new apps included) and the sessions."""
    base = str(settings.BASE_DIR)
    found = []
    for config in apps.get_app_configs():
        if not str(config.path).startswith(base):
            continue
        found += [m for m in config.get_models() if not m._meta.proxy and m._meta.managed]
    return [*found, DjangoSession]


# Models that record an attempt even when it is refused (a failed login in a security log):
# their rows may change on a refusal. "app_label.ModelName".
RECORDS_REFUSALS = {
    # The security record writes down refusals too (a failed login, a locked account).
    "accounts.SecurityEvent",
    # The rate limits' counters in the database count refused requests as well.
    "accounts.RateCount",
    # django-axes counts a wrong password (at login, and again before signing).
    "axes.AccessAttempt",
    "axes.AccessFailureLog",
}

# The tables whose every row is compared (the others by their row count).
COMPARED = [
    "proposals.Proposal",
    "proposals.ProposalProposer",
    "proposals.Assignment",
    "proposals.ContactRecord",
    "proposals.CoOpinion",
    "proposals.ExtensionRequest",
    "proposals.SupervisionNote",
    "proposals.Event",
    "proposals.SpreadsheetImport",
    "accounts.Notification",
    "accounts.User",
    "accounts.Membership",
    "accounts.Unit",
    "accounts.Proposer",
    "replies.ReplyLetter",
    "replies.ReplyRevision",
    "replies.Publication",
    "replies.Receipt",
]


@dataclass
class Snapshot:
    counts: dict
    rows: dict

    def differences(self, other):
        changed = [
            f"{label}: {n} rows, then {other.counts[label]}"
            for label, n in self.counts.items()
            if other.counts.get(label) != n
        ]
        changed += [
            f"{label}: a row changed"
            for label, rows in self.rows.items()
            if other.rows.get(label) != rows and other.counts.get(label) == self.counts[label]
        ]
        return changed


_QUERIES = {}


def snapshot_queries():
    """The count query, and one raw query per compared table (the ORM's cost is per case)."""
    key = connection.vendor
    if key not in _QUERIES:
        models = [m for m in local_models() if m._meta.label not in RECORDS_REFUSALS]
        quote = connection.ops.quote_name
        count = "SELECT " + ", ".join(
            f"(SELECT COUNT(*) FROM {quote(m._meta.db_table)})" for m in models
        )
        rows = []
        for label in COMPARED:
            if label in RECORDS_REFUSALS:
                continue
            try:
                model = apps.get_model(label)
            except LookupError:
                continue
            columns = ", ".join(quote(f.column) for f in model._meta.concrete_fields)
            pk = quote(model._meta.pk.column)
            rows.append(
                (label, f"SELECT {columns} FROM {quote(model._meta.db_table)} ORDER BY {pk}")
            )
        _QUERIES[key] = ([m._meta.label for m in models], count, rows)
    return _QUERIES[key]


def snapshot():
    """Row counts of every local table (one query), every row of COMPARED (one query each)."""
    labels, count, row_queries = snapshot_queries()
    with connection.cursor() as cursor:
        cursor.execute(count)
        counts = dict(zip(labels, cursor.fetchone(), strict=True))
        rows = {}
        for label, query in row_queries:
            cursor.execute(query)
            rows[label] = hash(repr(cursor.fetchall()))  # repr: a json column is a dict
    return Snapshot(counts, rows)


def all_ids():
    """The ids of every row of the project's workflow: other units', other people's, all."""
    ids = set()
    for model in local_models():
        if model is DjangoSession:
            continue
        ids.update(str(pk) for pk in model.objects.values_list("pk", flat=True)[:50])
    return sorted(ids, key=lambda s: (len(s), s))


# --- one case -------------------------------------------------------------------------------------------


def find_form_errors(context):
    """The errors of the bound forms a page was rendered with (none for a file's answer,
    whose context is a plain dict)."""
    from .test_bad_input_never_reaches_a_500 import find_form_errors as found

    if context is None or isinstance(context, dict):
        return []
    return found(
        [c for c in context if hasattr(c, "flatten")] if isinstance(context, list) else [context]
    )


def error_messages(response):
    from django.contrib import messages as django_messages

    return [
        str(m) for m in get_messages(response.wsgi_request) if m.level >= django_messages.WARNING
    ]


def refused(response):
    """Whether the answer says no: a 4xx, the login page, a form shown again with errors, an
    error message and none of something done (a bulk step done for some rows and refused
    for others, each its own step, is not a refusal)."""
    from django.contrib import messages as django_messages

    status = response.status_code
    if 400 <= status < 500:
        return True
    if status == 302 and urlsplit(response["Location"]).path in login_pages():
        return True
    if status in (200, 301, 302, 303):
        if status == 200 and find_form_errors(response.context):
            return True
        levels = [m.level for m in get_messages(response.wsgi_request)]
        done = any(level in (django_messages.INFO, django_messages.SUCCESS) for level in levels)
        return not done and any(level >= django_messages.WARNING for level in levels)
    return False


@functools.cache
def login_pages():
    from django.urls import reverse

    return {reverse("login"), reverse("admin:login")}


def shown(data):
    def one(v):
        if isinstance(v, SimpleUploadedFile):
            return f"<file {v.name[:40]!r}, {v.size} bytes, {v.content_type!r}>"
        if isinstance(v, list):
            return "[" + ", ".join(one(x) for x in v) + "]"
        v = str(v)
        return repr(v if len(v) <= 60 else v[:30] + f"…({len(v)} chars)")

    return "{" + ", ".join(f"{one(k)}: {one(v)}" for k, v in data.items()) + "}"


def exception_summary(response):
    info = getattr(response, "exc_info", None)
    if not info:
        return "(no exception recorded)"
    import traceback

    return "".join(traceback.format_exception(*info)[-6:])[-2000:]


STATS = {"cases": 0, "4xx": 0, "refused": 0, "accepted": 0, "by_status": {}}


def post_case(client, path, data, before, method="post"):
    """Post once in a savepoint; check the answer and, if it is a refusal, the database.
    Rolled back, cookies too. Returns the response."""
    cookies = client.cookies
    client.cookies = type(cookies)(cookies)
    for value in data.values():
        if isinstance(value, SimpleUploadedFile):
            value.seek(0)
    cache.clear()
    where = f"{method.upper()} {path[:200]} {shown(data)}"
    try:
        with transaction.atomic():
            send = client.get if method == "get" else client.post
            response = send(path, data)
            status = response.status_code
            STATS["cases"] += 1
            STATS["by_status"][status] = STATS["by_status"].get(status, 0) + 1
            assert status < 500, f"{where}: answered {status}\n{exception_summary(response)}"
            if status in (301, 302, 303):
                assert_local(response["Location"], where)
            if refused(response):
                STATS["refused"] += 1
                after = snapshot()
                changed = before.differences(after)
                assert not changed, (
                    f"{where}: refused ({status}"
                    f"{', ' + '; '.join(error_messages(response)) if error_messages(response) else ''}"
                    f") but half-saved: {changed}"
                )
            else:
                STATS["accepted"] += 1
            transaction.set_rollback(True)
    finally:
        client.cookies = cookies
    return response


def report(name, cases):
    """One line per fuzzed endpoint to the file TIAN_FUZZ_REPORT names (xdist workers
    append to it): `awk '{n += $NF} END {print n}'` gives the run's number of cases."""
    path = os.environ.get("TIAN_FUZZ_REPORT")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{name} {cases}\n")


def assert_local(location, where):
    parts = urlsplit(location)
    assert not parts.netloc and not parts.scheme, f"{where}: redirected off the site: {location}"
    assert "\\" not in location and not parts.path.startswith("//"), (
        f"{where}: redirected to {location!r}"
    )


# --- discovery --------------------------------------------------------------------------------------


def named_urls(patterns=None, prefix="", route=""):
    """(name, view, route) of every named URL pattern outside the admin."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            if pattern.namespace == "admin":
                continue
            inner = f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix
            yield from named_urls(pattern.url_patterns, inner, route + str(pattern.pattern))
        elif isinstance(pattern, URLPattern) and pattern.name:
            yield prefix + pattern.name, pattern.callback, route + str(pattern.pattern)


KWARG = re.compile(r"<(?:(\w+):)?(\w+)>")


def model_for_kwarg(name):
    """The model an id's name points at: proposal_pk -> Proposal, letter_pk -> ReplyLetter."""
    stem = re.sub(r"_?(pk|id)$", "", name).replace("_", "")
    if not stem:
        return None
    for model in local_models():
        if model._meta.model_name == stem or model._meta.model_name.endswith(stem):
            return model
    return None


def kwarg_candidates(name, converter):
    """Values to try for one URL argument, the likeliest first."""
    if converter in (None, "str", "slug", "path"):
        found = []
        for model in local_models():
            names = {f.name for f in model._meta.concrete_fields}
            if name in names:
                found += [str(v) for v in model.objects.values_list(name, flat=True)[:5]]
        return [*found, "x"]
    if converter == "int":
        model = model_for_kwarg(name)
        if model is not None:
            return [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)]
        found = []
        for model in local_models():
            if model is not DjangoSession:
                found += [
                    str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:3]
                ]
        return list(dict.fromkeys(found))
    return ["1"]


@dataclass
class Discovered:
    url: str
    role: object
    fields: dict
    baseline: dict
    how: str  # "page", "form class", "none"
    kwargs: dict = field(default_factory=dict)


def discover(name, view, route, clients, limit=60, method="post"):
    """The URL, the role and the fields of an endpoint outside the table: of its POST form
    (or of its GET form, a list's filters and search, with method="get")."""
    from django.urls import reverse

    kwarg_names = KWARG.findall(route)
    combos = [{}]
    for converter, kwarg in kwarg_names:
        options = kwarg_candidates(kwarg, converter or "str")[:12]
        combos = [{**c, kwarg: v} for c in combos for v in options][:limit]
    first_ok = None
    probes = 0
    for kwargs in combos:
        try:
            path = reverse(name, kwargs=kwargs)
        except Exception:  # noqa: BLE001 - a value the pattern does not take
            continue
        for role, client in clients.items():
            probes += 1
            if probes > limit:
                break
            cache.clear()
            with transaction.atomic():
                response = client.get(path)
                transaction.set_rollback(True)
            if response.status_code == 200 and "html" in response.get("Content-Type", ""):
                content = response.content.decode()
                for action, fields, values in parse_post_forms(content, method):
                    if action in ("", path) or urlsplit(action).path == path:
                        return Discovered(path, role, fields, values, "page", kwargs)
            if first_ok is None and response.status_code in (200, 405):
                first_ok = (path, role, kwargs)
    path, role, kwargs = first_ok or (None, None, {})
    if path is None and combos:
        try:
            path, kwargs = reverse(name, kwargs=combos[0]), combos[0]
        except Exception:  # noqa: BLE001
            path = None
    form_class = form_class_in_code(view) if method == "post" else None
    if form_class is not None:
        fields = {n: field_of_form_field(f) for n, f in form_class.base_fields.items()}
        return Discovered(path, role, fields, {}, "form class", kwargs)
    return Discovered(path, role, {}, {}, "none", kwargs)


@st.composite
def url_variant(draw, path, kwargs, ids):
    """The endpoint's own URL, or with an id replaced by another row's or an absurd one."""
    if not kwargs or draw(st.integers(0, 3)):
        return path
    kwarg, own = draw(st.sampled_from(sorted(kwargs.items())))
    other = draw(st.one_of(st.sampled_from(ids or ["1"]), st.sampled_from(ABSURD_IDS), text))
    other = re.sub(r"[/?#%\x00-\x20]", "", str(other))[:300] or "0"
    replaced = path.replace(f"/{own}/", f"/{other}/", 1)
    try:
        resolve(urlsplit(replaced).path)
    except Exception:  # noqa: BLE001 - a value the pattern refuses is a 404, not our case
        return path
    return replaced
