"""`manage.py bench_search`: server time of public and staff search, and recall against ILIKE.

For each query of the list (one to four words; `--queries FILE` for another list, one query a
line) it times, with the cache emptied first, what the pages do: the public search (count,
first page, titles and excerpts marked) and the staff workspace search as committee staff
(the paginator's count, the first page), and the similar proposals of a few proposals.
It prints p50/p95 of each.

Recall: the public letters whose public title, text or proposal title contain every word of
the query (ILIKE, each word as typed) — how many of them the search finds, and how many it
finds beyond them (words the folding matches, e.g. traditional characters).
"""

import statistics
import time

from django.core.cache import cache
from django.core.management.base import BaseCommand
from django.db.models import Q

from accounts.models import User
from core.paginator import EstimatingPaginator
from proposals import access, similar
from proposals.filters import ProposalFilter
from proposals.models import Proposal
from replies.models import Publication
from replies.views.public import (
    counted_page,
    letters_of,
    marked_rows,
    public_letters,
    search_results,
)

QUERIES = [
    "养老",
    "高新",
    "高新区 创建",
    "老旧小区 改造",
    "梁山街道",
    "乡村振兴",
    "停车",
    "居家社区养老服务",
    "食品安全 监管",
    "农村 生活污水 治理",
    "双桂湖 湿地 生态 保护",
    "道路交通安全",
    "高校毕业生 就业",
    "政务服务 一网通办",
    "电动自行车",
    "防汛 减灾",
    "婴幼儿 照护",
    "区科技局",
    "礼让镇",
    "餐厨垃圾 分类",
    "医保",
    "教育 学校 安全",
    "河长制",
    "退役军人 服务 保障",
    "公共文化 服务 体系",
]


def percentile(values, p):
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def timed(func, *args):
    cache.clear()
    started = time.perf_counter()
    result = func(*args)
    return (time.perf_counter() - started) * 1000, result


def public_search(query):
    # As the search page does (replies/views/public.py), the count not cached.
    _filterset, words, qs = search_results({"q": query})
    if not words:
        return 0, []
    page = counted_page(qs, 1, "bench-search-count")
    return page.paginator.count, marked_rows(letters_of(page.object_list), words)


def staff_search(user, query):
    # As the workspace does (proposals/views/workspace.py).
    base = access.visible_proposals(user)
    filterset = ProposalFilter({"q": query}, queryset=base)
    shown = base.select_related("session__term", "category").defer(
        "reasons", "suggestions", "review_comment"
    )
    rows = filterset.ranked(shown)
    if rows is None:
        return 0, []
    page = EstimatingPaginator(rows, 25).get_page(1)
    return page.paginator.count, list(page.object_list)


def ilike_ids(query):
    current = Publication.objects.filter(ended_at__isnull=True)
    qs = public_letters()
    for word in query.split():
        qs = qs.filter(
            Q(assignment__proposal__title__icontains=word)
            | Q(assignment__unit__name__icontains=word)
            | Q(assignment__unit__short_name__icontains=word)
            | Q(
                pk__in=current.filter(Q(title__icontains=word) | Q(text__icontains=word)).values(
                    "letter_id"
                )
            )
        )
    return set(qs.values_list("pk", flat=True))


class Command(BaseCommand):
    help = "Time public and staff search (p50/p95) and measure recall against ILIKE."

    def add_arguments(self, parser):
        parser.add_argument("--queries", help="A file with one query a line.")
        parser.add_argument("--repeat", type=int, default=3)
        parser.add_argument("--no-recall", action="store_true")
        parser.add_argument("--user", default="tiwei", help="Committee staff account.")

    def handle(self, *args, **options):
        queries = QUERIES
        if options["queries"]:
            with open(options["queries"], encoding="utf-8") as f:
                queries = [line.strip() for line in f if line.strip()]
        user = User.objects.get(username=options["user"])
        public_search(queries[0])  # load the segmenter and the dictionary
        out = self.stdout.write
        out(f"{Proposal.objects.count()} proposals, {public_letters().count()} public replies")
        public_times, staff_times = [], []
        counts = {}
        for query in queries:
            for _ in range(options["repeat"]):
                ms, (count, _rows) = timed(public_search, query)
                public_times.append(ms)
                counts[query] = count
                ms, _result = timed(staff_search, user, query)
                staff_times.append(ms)
        self.report("public search", public_times)
        self.report("staff search", staff_times)
        sample = list(
            Proposal.objects.filter(state__in=["handling", "replied", "closed"])
            .order_by("pk")
            .values_list("pk", flat=True)[:: max(1, Proposal.objects.count() // 20)][:20]
        )
        similar_times, unit_times = [], []
        for pk in sample:
            proposal = Proposal.objects.get(pk=pk)
            ms, _r = timed(similar.similar_proposals, proposal)
            similar_times.append(ms)
            ms, _r = timed(similar.suggested_units, proposal)
            unit_times.append(ms)
        self.report("similar proposals (review page)", similar_times)
        self.report("suggested units (assignment page)", unit_times)
        if options["no_recall"]:
            return
        found_total = expected_total = extra_total = 0
        out("query | search | ILIKE | found of ILIKE | beyond ILIKE")
        for query in queries:
            _filterset, _words, qs = search_results({"q": query})
            found = set(qs.values_list("letter_id", flat=True))
            expected = ilike_ids(query)
            hit = len(found & expected)
            found_total += hit
            expected_total += len(expected)
            extra_total += len(found - expected)
            out(f"{query} | {len(found)} | {len(expected)} | {hit} | {len(found - expected)}")
        recall = found_total / expected_total if expected_total else 1.0
        out(
            f"recall against ILIKE: {recall:.4f} ({found_total}/{expected_total}); "
            f"found beyond ILIKE: {extra_total}"
        )

    def report(self, name, times):
        self.stdout.write(
            f"{name}: p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms, "
            f"max {max(times):.1f} ms ({len(times)} runs)"
        )
