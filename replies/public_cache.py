"""The public column's pages, rendered once per state of the column and served from the cache.

On the day a session's replies are published the column is read by many at once, and every
reader sees the same pages. An anonymous GET of a public page is answered from the (shared)
cache when the column has not changed since the page was rendered; a conditional GET whose
ETag matches is answered 304 without rendering or reading the database.

The column's state (`column_version`) is a digest of what the public sees — the newest
publication, and the letters taken off the site — read from the database and kept in the
cache. Every step that changes what the public sees (publish, a correction, unpublishing)
drops it, at once and again after commit, so the next reader works it out anew. With a
shared cache (Redis, the database) every server sees the drop at once; with the
per-process default cache other processes notice within LOCAL_VERSION_SECONDS. Pages are
kept at most CACHE_SECONDS, so that anything else on them (a unit's renamed name) is never
older than that.
"""

import hashlib
import re
import time
from collections import OrderedDict

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import get_conditional_response
from django.utils.http import parse_http_date_safe

from config import db_router
from core.pagecache import cache_is_shared

VERSION_KEY = "public-column-version"
CACHE_SECONDS = 600
# The public pages: the column, a reply, its print view, its PDF, its versions, the feed,
# search. The search page is kept under the segmenter's dictionary too (see _key).
PUBLIC_PATH = re.compile(r"^/(?:replies/(?:\d+/(?:print/|pdf/|versions/\d+/)?|feed/)|search/)?$")


LOCAL_VERSION_SECONDS = 5
# Each worker also keeps, in its own memory, the version it last read for a second and
# the MEMO_PAGES pages it served last: a reader within that second costs no trip to the
# shared cache. The worker that publishes forgets its memo at once; the others follow
# within that time (nginx keeps the public pages 30 s in any case).
# TIAN_PUBLIC_MEMO_SECONDS (0 turns the memo off; the tests do, each test's world being new).
MEMO_PAGES = 64
MEMO_LARGEST = 256 * 1024  # a PDF beyond that is read from the shared cache each time
_memo = {"version": None, "until": 0.0}
_pages = OrderedDict()


def forget():
    """Forget this worker's memo (the tests, between one world and the next)."""
    _memo["version"] = None
    _pages.clear()


def _memo_seconds():
    return settings.TIAN_PUBLIC_MEMO_SECONDS


def _remembered_page(key):
    if not _memo_seconds():
        return None
    kept = _pages.get(key)
    if kept is None or kept[0] < time.monotonic():
        return None
    _pages.move_to_end(key)
    return kept[1]


def _remember_page(key, page):
    if not _memo_seconds() or len(page["content"]) > MEMO_LARGEST:
        return
    _pages[key] = (time.monotonic() + CACHE_SECONDS, page)
    _pages.move_to_end(key)
    while len(_pages) > MEMO_PAGES:
        _pages.popitem(last=False)


def _version_from_database(using):
    from django.db.models import Count, Max

    from .models import Publication, ReplyLetter

    newest = (
        Publication.objects.using(using).order_by("-pk").values_list("pk", "published_at").first()
    )
    taken_off = (
        ReplyLetter.objects.using(using)
        .filter(state=ReplyLetter.State.UNPUBLISHED)
        .aggregate(count=Count("pk"), last=Max("updated_at"))
    )
    raw = f"{newest}|{taken_off['count']}|{taken_off['last']}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def column_version():
    """A short digest that changes whenever the list of public replies or their text does.

    With a replica it is read where the public pages are read, on every request (two index
    look-ups): a page is then never kept under a state its replica has not reached, and the
    pages follow the replica the moment it catches up.
    """
    if db_router.has_replica():
        return _version_from_database(db_router.REPLICA)
    now = time.monotonic()
    if _memo["version"] is not None and now < _memo["until"]:
        return _memo["version"]
    version = cache.get(VERSION_KEY)
    if version is None:
        version = _version_from_database("default")
        cache.set(VERSION_KEY, version, None if cache_is_shared() else LOCAL_VERSION_SECONDS)
    _memo.update(version=version, until=now + _memo_seconds())
    return version


def _drop_version():
    _memo["version"] = None
    cache.delete(VERSION_KEY)


def public_column_changed():
    """Called by the workflow when what the public sees changes.

    Dropped now (the same transaction reads its own change) and again on commit: a page
    rendered by another reader in between, from the state before the commit, is not kept
    under the new state.
    """
    _drop_version()
    transaction.on_commit(_drop_version)


def _is_anonymous(request):
    # No session, no pending message, nothing just written (the replica's pin): nothing on
    # the page depends on who is reading.
    cookies = request.COOKIES
    return not (
        settings.SESSION_COOKIE_NAME in cookies
        or CookieStorage.cookie_name in cookies
        or db_router.PIN_COOKIE in cookies
    )


class PublicPageCacheMiddleware:
    """Serve anonymous GETs of public pages from the cache; keep the rendered ones there.

    Placed after the security and static-file middleware and before sessions: a cached page
    never opens a session or a database connection.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in ("GET", "HEAD") or not PUBLIC_PATH.match(request.path):
            return self.get_response(request)
        if not _is_anonymous(request):
            return self.get_response(request)
        key = self._key(request)
        cached = _remembered_page(key)
        if cached is None:
            cached = cache.get(key)
            if cached is not None:
                _remember_page(key, cached)
        if cached is not None:
            return self._from_cache(request, cached)
        response = self.get_response(request)
        if response.status_code == 200 and not response.streaming and "ETag" in response:
            page = {
                "content": response.content,
                "status": response.status_code,
                "headers": {
                    name: response[name]
                    for name in (
                        "Content-Type",
                        "ETag",
                        "Last-Modified",
                        "Content-Language",
                        "Cache-Control",
                        "Content-Disposition",
                    )
                    if name in response
                },
            }
            cache.set(key, page, CACHE_SECONDS)
            _remember_page(key, page)
        return response

    def _key(self, request):
        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        query = request.META.get("QUERY_STRING", "")
        raw = f"{column_version()}|{language}|{request.path}|{query}"
        if request.path == "/search/":
            # What a query finds depends on how it is cut as well as on the column.
            from proposals.search import dictionary_version

            raw += f"|{dictionary_version()}"
        return "public-page:" + hashlib.sha256(raw.encode()).hexdigest()[:40]

    def _from_cache(self, request, cached):
        headers = cached["headers"]
        last_modified = headers.get("Last-Modified")
        conditional = get_conditional_response(
            request,
            etag=headers.get("ETag"),
            last_modified=parse_http_date_safe(last_modified) if last_modified else None,
            response=HttpResponse(status=cached["status"]),
        )
        if isinstance(conditional, HttpResponseNotModified):
            for name in ("ETag", "Cache-Control", "Last-Modified"):
                if name in headers:
                    conditional[name] = headers[name]
            return conditional
        response = HttpResponse(cached["content"], status=cached["status"])
        for name, value in headers.items():
            response[name] = value
        if request.method == "HEAD":
            response.content = b""
        return response
