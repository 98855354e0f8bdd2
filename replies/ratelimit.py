"""A small per-address rate limiter: fixed one-hour windows.

It throttles guessing at the receipt links (every request counts, valid or not). The
counts must be shared by every gunicorn worker and server: in the default cache when that
is shared (Redis with DJANGO_REDIS_URL, or memcached), where add + incr are atomic; in the
database otherwise (`accounts.RateCount`, one row per address and window, incremented by
an UPDATE that holds the row until it is read back), never in one process's memory.
"""

import datetime
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import RateCount

WINDOW_SECONDS = 3600


def client_address(request):
    """The client's address. X-Forwarded-For counts only behind the configured number of
    trusted proxies, and then only the entry the nearest of them appended: the client
    writes the rest, and could otherwise pick its own bucket."""
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or "unknown"


def hit(request, scope, limit, window=WINDOW_SECONDS):
    """Count one request from the client in `scope`; False once it is over `limit`."""
    bucket = int(time.time() // window)
    key = f"ratelimit:{scope}:{client_address(request)}:{bucket}"
    if not cache_is_shared():
        return count_in_database(key, window) <= limit
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this request starts the window.
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit


def cache_is_shared():
    """False for a cache in this process's memory (or none), which other workers don't see."""
    return not isinstance(caches["default"], (LocMemCache, DummyCache))


def count_in_database(key, window):
    """Count one request under `key` in the database; the count including it."""
    key = key[: RateCount._meta.get_field("key").max_length]
    with transaction.atomic():
        if not RateCount.objects.filter(key=key).update(count=F("count") + 1):
            try:
                with transaction.atomic():
                    expires = timezone.now() + datetime.timedelta(seconds=window)
                    RateCount.objects.create(key=key, count=1, expires=expires)
                # A new window: the counts of past windows go.
                RateCount.objects.filter(expires__lt=timezone.now()).delete()
            except IntegrityError:
                # Another worker created it first.
                RateCount.objects.filter(key=key).update(count=F("count") + 1)
        return RateCount.objects.values_list("count", flat=True).get(key=key)
