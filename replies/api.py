"""The open-data API (开放数据): published replies as JSON and CSV, read-only (django-ninja).

`GET /api/v1/replies/` lists the public letters with the public search's filters and words
(`replies.views.public.search_results` and `PublicSearchFilter`: the same `q` finds the same
letters, so `count` is the search page's count); without `q`, every public letter, newest
first. `GET /api/v1/replies/<id>/` is one letter's current published version, cut into
paragraphs as the public reply page shows it. `GET /api/v1/replies.csv` is the list as a CSV
(UTF-8 with a BOM, Chinese headers). The OpenAPI description is `/api/v1/openapi.json`; the
page at `/api/` explains it in Chinese.

Only what the public column shows: the public letters' published title and text, the unit,
session, category, result class and date; never a phone number, a contact person or a
receipt link. Every answer carries an ETag (a conditional GET is 304), is counted against a
per-address limit in the shared cache (`replies.ratelimit`, 429 beyond it) and is open to
other sites' scripts (`ApiCorsMiddleware`). Bad parameters are 400 with a message in Chinese.

The answers are not kept in the public page cache (`replies.public_cache`): every request
must be counted by the rate limit. They follow the column's state all the same: the ETag and
the cached counts are keyed by the same `column_version` that publishing and unpublishing drop.
"""

import csv
import html
import io
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.cache import get_conditional_response
from django.utils.html import strip_tags
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from ninja import NinjaAPI, Query, Schema
from ninja.errors import ValidationError

from proposals import search
from proposals.models import chinese_numeral

from . import ratelimit
from .models import PublicReplySearch, ReplyLetter
from .views.public import (
    COUNT_CACHE_SECONDS,
    _digest,
    blocks,
    latest_publication,
    public_letter,
    search_results,
    search_version,
)

DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100
CSV_CHUNK = 1000
FILTERS = ("q", "session", "unit", "category", "year", "result_class")

api = NinjaAPI(
    title="政协委员提案答复开放数据接口",
    version="1",
    description="已公开的提案答复（只读）。说明见 /api/ 。",
    urls_namespace="api",
    openapi_url="/openapi.json",
    docs_url=None,
)


# --- schemas (for the OpenAPI description) ----------------------------------------------------


class Filters(Schema):
    q: str | None = None
    session: str | None = None
    unit: str | None = None
    category: str | None = None
    year: str | None = None
    result_class: str | None = None


class ListParams(Filters):
    page: str | None = None
    page_size: str | None = None


class ReplyRow(Schema):
    id: int
    number: str | None
    title: str
    proposal_title: str
    unit: str
    session: str
    category: str | None
    result_class: str
    published_at: str
    url: str
    excerpt: str


class ReplyList(Schema):
    count: int
    next: str | None
    previous: str | None
    results: list[ReplyRow]


class Paragraph(Schema):
    text: str
    heading: bool


class ReplyDetail(ReplyRow):
    doc_number: str
    salutation: str
    letter_date: str | None
    version: int
    is_summary: bool
    text: str
    paragraphs: list[Paragraph]


class Message(Schema):
    detail: str


# --- the answers' common parts ----------------------------------------------------------------


class BadRequest(Exception):
    def __init__(self, message):
        self.message = message


def error(status, message):
    return JsonResponse(
        {"detail": message}, status=status, json_dumps_params={"ensure_ascii": False}
    )


@api.exception_handler(BadRequest)
def bad_request(request, exc):
    return error(400, exc.message)


@api.exception_handler(ValidationError)
def invalid(request, exc):
    return error(400, _("The parameters are not valid."))


def over_limit(request):
    """Count the request; a 429 answer once the client is over its limit, else None."""
    per_minute = settings.TIAN["API_RATE_LIMIT_PER_MINUTE"]
    if ratelimit.hit(request, "api", per_minute, window=60):
        return None
    response = error(429, _("Too many requests: please wait a minute and try again."))
    response["Retry-After"] = "60"
    return response


def conditional(request, etag, build):
    """304 when the client has this version, else `build()` with the ETag."""
    etag = f'"{etag}"'
    response = get_conditional_response(request, etag=etag)
    if response is None:
        response = build()
    # On the 304 too (RFC 9110 15.4.5: the ETag and Cache-Control the 200 would carry).
    response["ETag"] = etag
    # Revalidated each time (a 304 is cheap): an unpublished reply leaves at once.
    response["Cache-Control"] = "public, no-cache"
    return response


def json(data):
    return JsonResponse(data, json_dumps_params={"ensure_ascii": False})


def _int(params, name, default, low, high):
    raw = (params.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise BadRequest(
            _("%(name)s must be a whole number from %(low)s to %(high)s.")
            % {"name": name, "low": low, "high": high}
        )
    return int(raw)


def entries(params):
    """The filter's matching search entries (best match first with `q`, else newest first)."""
    filterset, words, qs = search_results(params)
    if not filterset.is_valid():
        problems = "；".join(
            f"{name}：{'，'.join(str(m) for m in messages)}"
            for name, messages in filterset.errors.items()
        )
        raise BadRequest(_("The parameters are not valid.") + " " + problems)
    if not (params.get("q") or "").strip():
        qs = filterset.qs.only("letter_id", "published_at").order_by("-published_at", "-letter_id")
        words = []
    return words, qs


def filter_query(params):
    return {name: params[name] for name in FILTERS if params.get(name)}


def _plain(marked):
    return html.unescape(strip_tags(str(marked)))


def session_label(term_number, number):
    # As Session.__str__ says it, without reading the session and its term.
    return f"第{chinese_numeral(term_number)}届委员会第{chinese_numeral(number)}次会议"


def rows(request, letter_ids, words, with_excerpt=True):
    """The list's rows for these letters, in this order: one query."""
    fields = [
        "pk",
        "t",
        "assignment__proposal__number",
        "assignment__proposal__title",
        "un",
        "assignment__unit__name",
        "assignment__proposal__session__term__number",
        "assignment__proposal__session__number",
        "assignment__proposal__category__name",
        "result_class",
        "published_at",
    ]
    qs = (
        ReplyLetter.objects.filter(pk__in=letter_ids)
        .order_by()
        .annotate(t=latest_publication("title"), un=latest_publication("unit_name"))
    )
    if with_excerpt:
        qs = qs.annotate(x=latest_publication("text"))
        fields.append("x")
    found = {row[0]: row for row in qs.values_list(*fields)}
    out = []
    for pk in letter_ids:
        if pk not in found:
            continue
        row = found[pk]
        item = {
            "id": pk,
            "number": row[2],
            "title": row[1],
            "proposal_title": row[3],
            "unit": row[4] or row[5],
            "session": session_label(row[6], row[7]),
            "category": row[8],
            "result_class": row[9],
            "published_at": row[10].isoformat() if row[10] else "",
            "url": request.build_absolute_uri(reverse("public:reply", args=[pk])),
        }
        if with_excerpt:
            item["excerpt"] = _plain(search.excerpt(row[11], words))
        out.append(item)
    return out


def list_etag(request, kind):
    return _digest("api", kind, search_version(request), request.GET.urlencode())


# --- the endpoints ----------------------------------------------------------------------------


@api.get(
    "/replies/",
    response={200: ReplyList, 304: None, 400: Message, 429: Message},
    url_name="replies",
    summary="已公开的答复列表",
)
def reply_list(request, params: Query[ListParams]):
    """Published replies: the public search's filters and words; paginated."""
    limited = over_limit(request)
    if limited:
        return limited
    data = request.GET
    page_size = _int(data, "page_size", DEFAULT_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    number = _int(data, "page", 1, 1, 10**6)
    words, qs = entries(data)

    def build():
        paginator = Paginator(qs, page_size)
        key = "api-count:" + _digest(search_version(request), sorted(filter_query(data).items()))
        paginator.count = cache.get_or_set(key, qs.count, COUNT_CACHE_SECONDS)
        if number > max(paginator.num_pages, 1):
            raise BadRequest(_("There is no page %(page)s.") % {"page": number})
        page = paginator.page(number)
        ids = [entry.letter_id for entry in page.object_list]
        base = {**filter_query(data)}
        if data.get("page_size"):
            base["page_size"] = page_size

        def link(n):
            return request.build_absolute_uri(
                reverse("api:replies") + "?" + urlencode({**base, "page": n})
            )

        return json(
            {
                "count": paginator.count,
                "next": link(number + 1) if page.has_next() else None,
                "previous": link(number - 1) if page.has_previous() else None,
                "results": rows(request, ids, words),
            }
        )

    return conditional(request, list_etag(request, "list"), build)


@api.get(
    "/replies/{int:reply_id}/",
    response={200: ReplyDetail, 304: None, 404: Message, 429: Message},
    url_name="reply",
    summary="一件答复的公开全文",
)
def reply_detail(request, reply_id: int):
    """One published reply: its current public version, in paragraphs."""
    limited = over_limit(request)
    if limited:
        return limited
    letter = public_letter(request, reply_id)
    if letter is None or letter.publication_id is None:
        return error(404, _("There is no published reply with this id."))
    etag = _digest("api-reply", reply_id, letter.updated_at, letter.publication_id)

    def build():
        from .models import Publication

        publication = Publication.objects.get(pk=letter.publication_id)
        item = rows(request, [reply_id], [], with_excerpt=False)[0]
        item["excerpt"] = _plain(search.excerpt(publication.text, []))
        item["title"] = publication.title
        letter_date = publication.letter_date or letter.letter_date
        item.update(
            doc_number=letter.doc_number,
            salutation=letter.salutation,
            letter_date=letter_date.isoformat() if letter_date else None,
            version=publication.version,
            is_summary=letter.disclosure == ReplyLetter.Disclosure.SUMMARY,
            text=publication.text,
            paragraphs=blocks(publication.text),
        )
        return json(item)

    return conditional(request, etag, build)


CSV_HEADERS = [
    "编号",
    "提案号",
    "答复标题",
    "提案标题",
    "承办单位",
    "届次",
    "类别",
    "办理结果",
    "公开时间",
    "网址",
]


@api.get(
    "/replies.csv",
    response={200: None, 304: None, 400: Message, 429: Message},
    url_name="replies_csv",
    summary="已公开的答复列表（CSV）",
)
def reply_csv(request, params: Query[Filters]):
    """The same list as a CSV (UTF-8 with a BOM, for Excel), every matching row."""
    limited = over_limit(request)
    if limited:
        return limited
    words, qs = entries(request.GET)

    def build():
        ids = list(qs.values_list("letter_id", flat=True))
        labels = dict(ReplyLetter.ResultClass.choices)

        def lines():
            out = io.StringIO()
            writer = csv.writer(out)
            out.write("\ufeff")
            writer.writerow(CSV_HEADERS)
            for start in range(0, len(ids), CSV_CHUNK):
                for row in rows(request, ids[start : start + CSV_CHUNK], words, with_excerpt=False):
                    writer.writerow(
                        [
                            row["id"],
                            row["number"] or "",
                            row["title"],
                            row["proposal_title"],
                            row["unit"],
                            row["session"],
                            row["category"] or "",
                            str(labels.get(row["result_class"], row["result_class"])),
                            row["published_at"],
                            row["url"],
                        ]
                    )
                yield out.getvalue().encode()
                out.seek(0)
                out.truncate()
            if not ids:
                yield out.getvalue().encode()

        response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = 'attachment; filename="replies.csv"'
        return response

    return conditional(request, list_etag(request, "csv"), build)


# --- CORS -------------------------------------------------------------------------------------


class ApiCorsMiddleware:
    """Anyone's scripts may read the API: `Access-Control-Allow-Origin: *` on its GET, HEAD
    and OPTIONS answers (no cookies are sent or needed). A preflight OPTIONS is answered here.

    A HEAD is answered here too, as the GET: django-ninja routes only the methods an endpoint
    is declared with (405 for HEAD), and declaring HEAD on each endpoint would also list it
    in the OpenAPI description as a second operation with the same id. So the request goes
    through as a GET (its ETag, 304 and rate limit included) and only the body is dropped:
    the status and headers, Content-Length too, are the GET's. A HEAD counts against the
    rate limit like a GET, since it does the same work (the search, the count, the page)."""

    METHODS = "GET, HEAD, OPTIONS"

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith("/api/") or request.method not in ("GET", "HEAD", "OPTIONS"):
            response = self.get_response(request)
            if request.path.startswith("/api/") and response.status_code == 405:
                self.allow_head(response)
            return response
        if request.method == "OPTIONS":
            response = HttpResponse(status=204)
            response["Access-Control-Allow-Methods"] = self.METHODS
            response["Access-Control-Allow-Headers"] = "If-None-Match, Accept"
            response["Access-Control-Max-Age"] = "86400"
        elif request.method == "HEAD":
            response = self.head(request)
        else:
            response = self.get_response(request)
        response["Access-Control-Allow-Origin"] = "*"
        response["Access-Control-Expose-Headers"] = "ETag, Retry-After"
        return response

    def head(self, request):
        """The GET's answer without its body."""
        request.method = "GET"
        try:
            response = self.get_response(request)
        finally:
            request.method = "HEAD"
        if response.streaming:
            # Never iterated: a CSV's rows are not read for a HEAD.
            response.streaming_content = []
        else:
            response.content = b""
        return response

    @staticmethod
    def allow_head(response):
        """A 405's Allow names HEAD wherever it names GET: both are answered."""
        allowed = [m.strip() for m in response.get("Allow", "").split(",") if m.strip()]
        if "GET" in allowed and "HEAD" not in allowed:
            response["Allow"] = ", ".join([*allowed, "HEAD"])


@require_safe
def docs_page(request):
    """/api/: what the API offers, in Chinese, in the public column's style."""
    from django.shortcuts import render

    from .views.public import site_context

    context = {
        "list_url": request.build_absolute_uri(reverse("api:replies")),
        "example_id": PublicReplySearch.objects.order_by("-published_at")
        .values_list("letter_id", flat=True)
        .first(),
        "max_page_size": MAX_PAGE_SIZE,
        "default_page_size": DEFAULT_PAGE_SIZE,
        "per_minute": settings.TIAN["API_RATE_LIMIT_PER_MINUTE"],
        "result_classes": ReplyLetter.ResultClass.choices,
        **site_context(),
    }
    return render(request, "public/api.html", context)
