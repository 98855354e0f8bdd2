"""A paginator that does not count 100,000 rows on every page.

Up to EXACT_LIMIT rows it counts exactly (the count stops reading at the limit, so it
costs no more than reading one page of that size). Beyond, on PostgreSQL, it takes the
planner's estimate of the query's rows — shown as 约 (about) — which costs a plan, not a
scan. Elsewhere (SQLite, for a district's few hundred rows) it counts. A list that knows
better counts itself (`paginator_count(limit)`: the staff search's `search.Ranked`).
"""

import json

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

EXACT_LIMIT = 1000


def estimated_rows(queryset):
    """The planner's estimate of how many rows the query returns, or None."""
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    sql, params = queryset.order_by().query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


class EstimatingPaginator(Paginator):
    """Paginator whose `count` is exact up to EXACT_LIMIT and estimated beyond (`estimated`)."""

    estimated = False

    @cached_property
    def count(self):
        queryset = self.object_list
        if hasattr(queryset, "paginator_count"):
            count, self.estimated = queryset.paginator_count(EXACT_LIMIT)
            return count
        if not hasattr(queryset, "query"):
            return len(queryset)
        exact = queryset.order_by()[: EXACT_LIMIT + 1].count()
        if exact <= EXACT_LIMIT:
            return exact
        estimate = estimated_rows(queryset)
        if estimate is None:
            return queryset.count()
        self.estimated = True
        # The estimate is never below what was already seen to be there.
        return max(estimate, EXACT_LIMIT + 1)
