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

Only with a cache every worker shares (Redis, Memcached, the database): a per-process
cache would leave the other workers' lists behind. `TIAN_STAFF_PAGE_CACHE` set to True or
False overrides that choice (the tests turn it on over the per-process cache).
"""

import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone, translation

GENERATION_KEY = "staff-pages-generation"


def cache_is_shared():
    """Whether every worker (and every server) reads the same cache."""
    backend = settings.CACHES["default"]["BACKEND"]
    return not backend.endswith(("LocMemCache", "DummyCache"))


def enabled():
    choice = getattr(settings, "TIAN_STAFF_PAGE_CACHE", None)
    return cache_is_shared() if choice is None else bool(choice)


def generation():
    value = cache.get(GENERATION_KEY)
    if value is None:
        # Lost (a restarted cache, an eviction): start afresh from a number never used.
        cache.add(GENERATION_KEY, time.time_ns(), None)
        value = cache.get(GENERATION_KEY)
    return value


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


def key(request, name, *parts):
    """The person, their language, the day (deadline badges), the generation, the query."""
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
            str(generation()),
            digest,
        ]
    )


def cached(request, name, render, *parts):
    """`render()`'s text for this request, from the cache when nothing has changed."""
    if not enabled():
        return render()
    page_key = key(request, name, *parts)
    text = cache.get(page_key)
    if text is None:
        text = render()
        cache.set(page_key, text, settings.TIAN_STAFF_PAGE_SECONDS)
    return text
