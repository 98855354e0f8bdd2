"""A small per-address rate limiter on Django's cache: fixed one-hour windows.

It throttles guessing at the receipt links (every request counts, valid or not).
The counts live in the default cache. The default local-memory cache is per process,
so in production with several gunicorn workers set DJANGO_REDIS_URL (or Django's database
cache), or each worker counts on its own. add + incr are atomic in Redis: concurrent
workers never let more than `limit` through.
"""

import time

from django.conf import settings
from django.core.cache import cache

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
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:
        # The key expired between add and incr: this request starts the window.
        cache.set(key, 1, timeout=window)
        count = 1
    return count <= limit
