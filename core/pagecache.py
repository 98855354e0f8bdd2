"""Staff lists kept rendered between changes, in the shared cache.

A staff list (the workspace, the admin's proposal list) is the same page for the same
person, filter and day until something in the workflow happens. Every workflow step
records an event (`proposals.workflow.record_event`), and every event marks the lists
stale (`changed()`): after its transaction commits, one shared counter, the generation, is
incremented. A rendered list is kept under the generation it was rendered in, so the next
step's increment makes every kept list unreachable at once, on every server.

Why after commit, and why the generation is read before the data: a list rendered while a
step is in flight may miss the step's change, but it was keyed with the generation before
that step's increment, which no reader asks for once the increment is done. A list is
therefore never served older than the last committed step. What changes without a step (a
unit renamed in the admin) shows within `TIAN_STAFF_PAGE_SECONDS`.

A page is kept whole (`kept`) where its only parts that differ between two requests of the
same person are the CSRF token, kept per CSRF secret, and the messages, with which a page is
neither served from nor put in the cache. The header's count of unread notifications is the
person's own: their notifications mark their pages stale (`person_changed`), not everyone's.

Only with a cache every worker shares (Redis, Memcached, the database): a per-process
cache would leave the other workers' lists behind. `TIAN_STAFF_PAGE_CACHE` set to True or
False overrides that choice (the tests turn it on over the per-process cache).
"""

import hashlib
import time

from django.conf import settings
from django.contrib import messages
from django.core.cache import cache
from django.db import transaction
from django.http import HttpResponse
from django.middleware.csrf import get_token
from django.utils import timezone, translation

GENERATION_KEY = "staff-pages-generation"
PERSON_KEY = "staff-pages-person:{}"


def cache_is_shared():
    """Whether every worker (and every server) reads the same cache."""
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def enabled():
    choice = getattr(settings, "TIAN_STAFF_PAGE_CACHE", None)
    return cache_is_shared() if choice is None else bool(choice)


def _versions(keys):
    """The values of these counters, in one trip to the cache; a lost one (a restarted cache,
    an eviction, `person_changed`) starts afresh from a number never used."""
    found = cache.get_many(keys)
    values = []
    for name in keys:
        value = found.get(name)
        if value is None:
            cache.add(name, time.time_ns(), None)
            value = cache.get(name)
        values.append(value)
    return values


def generation():
    return _versions([GENERATION_KEY])[0]


def bump():
    """Mark every kept staff list stale now (after a bulk load that bypassed the steps)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, time.time_ns(), None)


def changed():
    """Mark every kept staff list stale once the current transaction commits."""
    if enabled():
        transaction.on_commit(bump)


def person_changed(user_ids):
    """Mark the kept pages of these people stale once the current transaction commits (their
    notifications changed: the header counts the unread ones)."""
    if enabled():
        keys = [PERSON_KEY.format(pk) for pk in set(user_ids)]
        if keys:
            transaction.on_commit(lambda: cache.delete_many(keys))


def key(request, name, *parts):
    """The person, their language, the day (deadline badges), the generations (everyone's
    and the person's own), the query."""
    versions = _versions([GENERATION_KEY, PERSON_KEY.format(request.user.pk)])
    digest = hashlib.sha256(
        "\0".join([request.get_full_path(), *map(str, parts)]).encode()
    ).hexdigest()[:24]
    return ":".join(
        [
            "staff-page",
            name,
            str(request.user.pk),
            translation.get_language() or "",
            timezone.localdate(timezone=timezone.get_default_timezone()).isoformat(),
            *map(str, versions),
            digest,
        ]
    )


def kept(request, name, respond):
    """The whole page for this GET request, from the cache when nothing has changed;
    `respond()` makes it otherwise. The caller checks who may see it first."""
    if not enabled() or request.method != "GET" or len(messages.get_messages(request)):
        return respond()
    get_token(request)  # the CSRF secret, set if the browser has none yet
    page_key = key(request, name, request.META["CSRF_COOKIE"])
    content = cache.get(page_key)
    if content is not None:
        return HttpResponse(content)
    response = respond()
    if response.status_code != 200 or response.streaming:
        return response
    if hasattr(response, "render"):
        response.render()
    # A page that shows messages queued while it was made is not kept.
    if not len(messages.get_messages(request)):
        cache.set(page_key, response.content, settings.TIAN_STAFF_PAGE_SECONDS)
    return response
