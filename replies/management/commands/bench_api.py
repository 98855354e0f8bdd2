"""`manage.py bench_api`: server time of the open-data API (replies/api.py), in process.

Each request goes through the whole stack (middleware, django-ninja, the view) with Django's
test client. Typical requests: the newest page, searches of one to four words, a search with
a filter, the largest page (100), a later page, and one reply's full text. Each is timed cold
(the cache emptied first: the count is worked out) and warm (the count cached, as for the
next reader); p50/p95 of each are printed.
"""

import statistics
import time

from django.conf import settings
from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.test import Client

from replies.models import PublicReplySearch

from .bench_search import QUERIES, percentile


class Command(BaseCommand):
    help = "Time the open-data API (p50/p95, cold and warm cache)."

    def add_arguments(self, parser):
        parser.add_argument("--repeat", type=int, default=1)

    def handle(self, *args, **options):
        settings.TIAN = {**settings.TIAN, "API_RATE_LIMIT_PER_MINUTE": 10**9}
        newest = PublicReplySearch.objects.order_by("-published_at", "-letter_id").first()
        ids = list(PublicReplySearch.objects.values_list("letter_id", flat=True)[::997][:10])
        requests = [("/api/v1/replies/", {})]
        requests += [("/api/v1/replies/", {"q": q}) for q in QUERIES]
        requests += [
            ("/api/v1/replies/", {"q": q, "year": str(newest.published_at.year)})
            for q in QUERIES[:5]
        ]
        requests += [
            ("/api/v1/replies/", {"session": newest.session_id}),
            ("/api/v1/replies/", {"unit": newest.unit_id, "q": "服务"}),
            ("/api/v1/replies/", {"page_size": 100}),
            ("/api/v1/replies/", {"page": 50}),
            ("/api/v1/replies/", {"q": "养老", "page_size": 100}),
        ]
        requests += [(f"/api/v1/replies/{pk}/", {}) for pk in ids]
        client = Client(HTTP_HOST="127.0.0.1")
        client.get("/api/v1/replies/", {"q": "养老"})  # load the segmenter
        out = self.stdout.write
        out(f"{PublicReplySearch.objects.count()} public replies, {len(requests)} requests")
        cold, warm = [], []
        for _ in range(options["repeat"]):
            for path, params in requests:
                cache.clear()
                for times in (cold, warm):
                    started = time.perf_counter()
                    response = client.get(path, params)
                    times.append((time.perf_counter() - started) * 1000)
                    assert response.status_code == 200, (path, params, response.status_code)
        # For comparison, under the same load: the /search/ page for the same words.
        page = []
        for q in QUERIES:
            cache.clear()
            client.get("/search/", {"q": q})
            started = time.perf_counter()
            client.get("/search/", {"q": q, "page": 1})
            page.append((time.perf_counter() - started) * 1000)
        for name, times in (
            ("API cold cache", cold),
            ("API count cached", warm),
            ("/search/ page, count cached", page),
        ):
            out(
                f"{name}: p50 {statistics.median(times):.1f} ms, "
                f"p95 {percentile(times, 95):.1f} ms, max {max(times):.1f} ms ({len(times)} requests)"
            )
