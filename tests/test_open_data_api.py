"""The open-data API: published replies as JSON and CSV, the same as the column's search."""

import csv
import io
import json
from io import StringIO

import pytest
from django.core.cache import cache
from django.core.management import call_command
from openapi_spec_validator import validate

from accounts.models import User
from replies import services
from replies.models import PublicReplySearch, ReplyLetter

ROW_FIELDS = {
    "id",
    "number",
    "title",
    "proposal_title",
    "unit",
    "session",
    "category",
    "result_class",
    "published_at",
    "url",
    "excerpt",
}


@pytest.fixture(autouse=True)
def empty_cache():
    cache.clear()


@pytest.fixture
def demo(db):
    call_command("load_demo", "--force", stdout=StringIO())


@pytest.fixture
def tiwei(demo):
    return User.objects.get(username="tiwei")


def letter_069():
    return ReplyLetter.objects.get(assignment__proposal__number=69, round=1)


@pytest.fixture
def published(demo, tiwei):
    letter = letter_069()
    if letter.state != ReplyLetter.State.PUBLISHED:
        services.publish(letter, tiwei)
    return letter_069()


def api(client, path="/api/v1/replies/", **params):
    return client.get(path, params)


def test_the_list_has_the_documented_shape(client, published):
    response = api(client)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert set(data) == {"count", "next", "previous", "results"}
    assert data["count"] == PublicReplySearch.objects.count() >= 1
    assert data["previous"] is None
    row = next(r for r in data["results"] if r["id"] == published.pk)
    assert set(row) == ROW_FIELDS
    assert row["number"] == published.assignment.proposal.number
    assert row["proposal_title"] == published.assignment.proposal.title
    assert row["url"].endswith(f"/replies/{published.pk}/")
    assert row["session"].startswith("第") and row["unit"]


@pytest.mark.parametrize("q", ["高新区 创建", "高新", "高新區", "建议", "第69号"])
def test_count_is_the_search_pages_count(client, published, q):
    page = client.get("/search/", {"q": q})
    data = api(client, q=q).json()
    assert data["count"] == page.context["page"].paginator.count
    expected = [r.pk for r in page.context["page"]]
    assert [r["id"] for r in data["results"]] == expected


def test_filters_combine_with_the_query_as_on_the_search_page(client, published):
    proposal = published.assignment.proposal
    other = "D" if published.result_class != "D" else "C"
    for filters in [
        {"category": proposal.category_id},
        {"session": proposal.session_id},
        {"unit": published.assignment.unit_id},
        {"result_class": other},
        {"year": str(published.published_at.year)},
    ]:
        page = client.get("/search/", {"q": "高新区", **filters})
        data = api(client, q="高新区", **filters).json()
        assert data["count"] == page.context["page"].paginator.count, filters
    assert api(client, q="高新区", result_class=other).json()["count"] == 0


def test_the_excerpt_is_plain_text_around_the_words(client, published):
    row = api(client, q="高新区").json()["results"][0]
    assert "<mark>" not in row["excerpt"] and "高新区" in row["excerpt"] + row["title"]


def test_pages_are_bounded_and_linked(client, published):
    total = api(client).json()["count"]
    if total < 2:
        pytest.skip("the demo has one public reply")
    data = api(client, page_size=1).json()
    assert len(data["results"]) == 1
    assert "page=2" in data["next"] and "page_size=1" in data["next"]
    second = client.get(data["next"]).json()
    assert "page=1" in second["previous"]
    assert second["results"][0]["id"] != data["results"][0]["id"]
    assert len(api(client).json()["results"]) == min(total, 20)


@pytest.mark.parametrize(
    "params",
    [
        {"page_size": "101"},
        {"page_size": "0"},
        {"page_size": "x"},
        {"page": "0"},
        {"page": "-1"},
        {"page": "abc"},
        {"page": "999"},
        {"session": "999999"},
        {"session": "abc"},
        {"unit": "x"},
        {"year": "1900"},
        {"result_class": "Z"},
        {"q": "x" * 500},
    ],
)
def test_bad_parameters_are_400_with_a_message(client, published, params):
    response = api(client, **params)
    assert response.status_code == 400, response.content
    assert response.json()["detail"]


def test_odd_queries_are_no_error(client, demo):
    for q in ["", "   ", "'\"&|!<>", "\u3000", "\x7f"]:
        assert api(client, q=q).status_code == 200


def test_the_full_text_is_the_published_version(client, published):
    response = api(client, f"/api/v1/replies/{published.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert set(data) >= ROW_FIELDS
    current = published.publications.order_by("-version").first()
    assert data["text"] == current.text and data["version"] == current.version
    assert data["paragraphs"] and all(set(p) == {"text", "heading"} for p in data["paragraphs"])
    body = response.content.decode()
    if published.contact_phone:
        assert published.contact_phone not in body
    assert "contact" not in body and "/r/" not in body


def test_a_letter_that_is_not_public_is_404(client, demo, tiwei):
    hidden = ReplyLetter.objects.filter(is_public=False).first()
    assert api(client, f"/api/v1/replies/{hidden.pk}/").status_code == 404
    assert api(client, "/api/v1/replies/987654/").status_code == 404
    response = api(client, "/api/v1/replies/987654/")
    assert response.json()["detail"]


def test_unpublishing_takes_the_reply_out_at_once(client, published, tiwei):
    first = api(client, q="高新区 创建")
    assert [r["id"] for r in first.json()["results"]] == [published.pk]
    detail = api(client, f"/api/v1/replies/{published.pk}/")
    assert detail.status_code == 200
    services.unpublish(letter_069(), tiwei, "数据待核实")
    again = client.get("/api/v1/replies/", {"q": "高新区 创建"}, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again.json()["count"] == 0
    assert api(client, f"/api/v1/replies/{published.pk}/").status_code == 404
    services.publish(letter_069(), tiwei)
    assert api(client, q="高新区 创建").json()["count"] == 1
    assert api(client, f"/api/v1/replies/{published.pk}/").status_code == 200


def test_etag_answers_304(client, published):
    for path in ["/api/v1/replies/", f"/api/v1/replies/{published.pk}/", "/api/v1/replies.csv"]:
        first = client.get(path)
        assert first.status_code == 200 and first["ETag"], path
        again = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
        assert again.status_code == 304, path
        assert client.get(path, HTTP_IF_NONE_MATCH='"other"').status_code == 200


def test_cors_is_open_for_get(client, published):
    response = api(client)
    assert response["Access-Control-Allow-Origin"] == "*"
    preflight = client.options("/api/v1/replies/", HTTP_ORIGIN="https://example.org")
    assert preflight.status_code == 204
    assert preflight["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight["Access-Control-Allow-Methods"]
    assert "Access-Control-Allow-Origin" not in client.get("/")


# The headers a HEAD must answer exactly as the GET does (Content-Length is the GET's too).
SAME_HEADERS = (
    "ETag",
    "Content-Type",
    "Content-Length",
    "Content-Disposition",
    "Cache-Control",
    "Access-Control-Allow-Origin",
    "Retry-After",
)


def same_headers(response):
    return {name: response.get(name) for name in SAME_HEADERS}


@pytest.mark.parametrize(
    "path",
    ["/api/v1/replies/?q=高新区", "REPLY", "/api/v1/replies.csv", "/api/v1/replies/?page=999"],
)
def test_head_answers_as_get_without_a_body(client, published, path):
    path = path.replace("REPLY", f"/api/v1/replies/{published.pk}/")
    get = client.get(path)
    head = client.head(path)
    assert head.status_code == get.status_code
    assert same_headers(head) == same_headers(get)
    body = b"".join(head.streaming_content) if head.streaming else head.content
    assert body == b""
    if get.status_code == 200:
        assert get["ETag"]
        # A conditional HEAD is 304 like a conditional GET.
        again = client.get(path, HTTP_IF_NONE_MATCH=get["ETag"])
        head_again = client.head(path, HTTP_IF_NONE_MATCH=get["ETag"])
        assert again.status_code == head_again.status_code == 304
        assert again["ETag"] == get["ETag"]
        assert same_headers(head_again) == same_headers(again)


def test_head_of_a_missing_reply_is_404(client, demo):
    assert client.head("/api/v1/replies/999999/").status_code == 404
    assert client.head("/api/v1/openapi.json").status_code == 200


def test_the_middleware_drops_the_body_of_a_head_itself(rf):
    # The test client (and gunicorn) drop a HEAD's body anyway; the middleware must not
    # rely on them: the CSV's rows are never read for a HEAD.
    from django.http import HttpResponse, StreamingHttpResponse

    from replies.api import ApiCorsMiddleware

    seen = []

    def rows():
        seen.append("rows read")
        yield b"a,b\n"

    def view(request):
        seen.append(request.method)
        if request.path.endswith(".csv"):
            return StreamingHttpResponse(rows())
        return HttpResponse(b'{"count": 1}', headers={"Content-Length": "12"})

    middleware = ApiCorsMiddleware(view)
    request = rf.head("/api/v1/replies/")
    response = middleware(request)
    assert response.content == b"" and response["Content-Length"] == "12"
    assert request.method == "HEAD"
    response = middleware(rf.head("/api/v1/replies.csv"))
    assert b"".join(response.streaming_content) == b""
    assert seen == ["GET", "GET"]


def test_the_api_is_read_only(client, published):
    assert client.post("/api/v1/replies/").status_code == 405
    assert client.delete(f"/api/v1/replies/{published.pk}/").status_code == 405
    # What is allowed is what the API answers: GET and HEAD (and OPTIONS for CORS).
    allowed = client.post("/api/v1/replies/")["Allow"]
    assert {m.strip() for m in allowed.split(",")} == {"GET", "HEAD"}


def test_too_many_requests_are_429(client, published, settings):
    settings.TIAN = {**settings.TIAN, "API_RATE_LIMIT_PER_MINUTE": 3}
    answers = [api(client).status_code for _ in range(3)]
    assert answers == [200, 200, 200]
    response = api(client)
    assert response.status_code == 429
    assert response.json()["detail"] and response["Retry-After"]
    # A HEAD does the GET's work, so it is counted like one and limited like one.
    assert client.head("/api/v1/replies/").status_code == 429
    head = client.head("/api/v1/replies/", REMOTE_ADDR="10.0.0.8")
    assert head.status_code == 200
    answers = [client.get("/api/v1/replies/", REMOTE_ADDR="10.0.0.8") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    # Another client is not held back.
    assert client.get("/api/v1/replies/", REMOTE_ADDR="10.0.0.9").status_code == 200


def test_the_csv_opens_in_excel(client, published):
    response = client.get("/api/v1/replies.csv", {"q": "高新区"})
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["编号", "提案号", "答复标题"]
    listed = api(client, q="高新区", page_size=100).json()
    assert [int(r[0]) for r in rows[1:]] == [r["id"] for r in listed["results"]]
    assert client.get("/api/v1/replies.csv", {"session": "x"}).status_code == 400


def test_the_openapi_description_validates(client, demo):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    spec = json.loads(response.content)
    validate(spec)
    paths = spec["paths"]
    assert "/api/v1/replies/" in paths and "/api/v1/replies.csv" in paths
    assert any("{reply_id}" in p for p in paths)
    params = {p["name"] for p in paths["/api/v1/replies/"]["get"]["parameters"]}
    assert {"q", "session", "unit", "category", "year", "page", "page_size"} <= params


def test_the_documentation_page_is_linked_from_the_column(client, demo):
    response = client.get("/api/")
    assert response.status_code == 200
    body = response.content.decode()
    assert "/api/v1/replies/" in body and "/api/v1/openapi.json" in body
    assert 'href="/api/"' in client.get("/").content.decode()


def test_the_list_reads_a_fixed_number_of_queries(client, published, django_assert_max_num_queries):
    # The rate limit counts in the database here (two queries; none with Redis), the count
    # is cached; then the years, the page and its letters.
    api(client)  # fills the count cache and the dictionary
    with django_assert_max_num_queries(7):
        assert api(client, page_size=100, page=1, year="").status_code == 200


def test_the_api_root_leads_to_its_page(client, demo):
    response = client.get("/api/v1/")
    assert response.status_code == 302 and response["Location"] == "/api/"
