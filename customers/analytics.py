"""Set-based rebuilds: customer preferences and RFM (item 4), segment membership, sales rollups (item 10).

Each rebuild is a handful of ``INSERT … SELECT`` statements with aggregates and window
functions (NTILE, ROW_NUMBER, SUM() OVER), the same SQL on PostgreSQL and SQLite (≥ 3.25),
run inside the caller's transaction: readers see the old figures until it commits.
Cancelled orders never count. Months are calendar months in Hong Kong time (UTC+8 all year:
Hong Kong has had no daylight saving time since 1979).
"""

# S608: the SQL here is assembled only from constants (table and column names, dialect
# fragments); every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.db import connection
from django.db.models import QuerySet

from customers.models import ALL, Customer, Order, Segment

CANCELLED = Order.Status.CANCELLED

# RFM segments from the three quintile scores (a common scheme, simplified to seven groups).
SEGMENT_CASE = """CASE
  WHEN r >= 4 AND f >= 4 AND m >= 4 THEN 'champions'
  WHEN r >= 3 AND f >= 4 THEN 'loyal'
  WHEN r >= 4 AND f <= 1 THEN 'new'
  WHEN r >= 3 AND f >= 2 THEN 'potential'
  WHEN r <= 2 AND f >= 3 THEN 'at_risk'
  WHEN r <= 1 AND f <= 2 THEN 'lost'
  ELSE 'hibernating' END"""

SEGMENT_LABELS = {
    "champions": "Champions",
    "loyal": "Loyal",
    "new": "New",
    "potential": "Potential loyalists",
    "at_risk": "At risk",
    "hibernating": "Hibernating",
    "lost": "Lost",
    "": "(none before)",
}


def _pg() -> bool:
    return connection.vendor == "postgresql"


def month_of(column: str) -> str:
    """SQL for the first day of COLUMN's month in Hong Kong time, as a date."""
    if _pg():
        return f"CAST(date_trunc('month', {column} AT TIME ZONE 'Asia/Hong_Kong') AS date)"
    return f"date({column}, '+8 hours', 'start of month')"


def _param(value: datetime) -> Any:
    if _pg():
        return value
    from customers.importing import _sqlite_value

    return _sqlite_value(value)


def _run(statements: list[tuple[str, list[Any]]]) -> None:
    with connection.cursor() as cursor:
        for sql, params in statements:
            cursor.execute(sql, params)


def metrics_rebuild(*, now: datetime) -> int:
    """Rebuild CategoryAffinity, CustomerMetrics and SegmentMovement from the orders.

    Returns the number of customers scored.
    """
    live = f"o.status <> '{CANCELLED}' AND o.customer_id IS NOT NULL"
    # Helper tables keyed by customer: joining window-function results as CTEs makes SQLite's
    # planner loop over them (quadratic); keyed temporary tables keep every join a lookup.
    temp = [
        ("tmp_previous_segment", "segment varchar(30)"),
        ("tmp_top_channel", "channel varchar(20)"),
        ("tmp_top_category", "category varchar(80)"),
    ]
    _run(
        [(f"DROP TABLE IF EXISTS {name}", []) for name, _ in temp]
        + [
            (f"CREATE TEMP TABLE {name} (customer_id bigint PRIMARY KEY, {column})", [])
            for name, column in temp
        ]
        + [
            (
                "INSERT INTO tmp_previous_segment (customer_id, segment) "
                "SELECT customer_id, segment FROM customers_customermetrics",
                [],
            ),
            ("DELETE FROM customers_categoryaffinity", []),
            (
                "INSERT INTO customers_categoryaffinity (customer_id, category, spend, share) "
                "SELECT customer_id, category, spend, "
                "CASE WHEN customer_total > 0 THEN spend * 1.0 / customer_total ELSE 0 END FROM ("
                "  SELECT o.customer_id, l.category, SUM(l.amount) AS spend, "
                "  SUM(SUM(l.amount)) OVER (PARTITION BY o.customer_id) AS customer_total "
                "  FROM customers_orderline l JOIN customers_order o ON o.id = l.order_id "
                f"  WHERE {live} AND l.category <> '' GROUP BY o.customer_id, l.category) spends",
                [],
            ),
            (
                "INSERT INTO tmp_top_channel (customer_id, channel) SELECT customer_id, channel FROM ("
                "  SELECT o.customer_id, o.channel, "
                "  ROW_NUMBER() OVER (PARTITION BY o.customer_id ORDER BY COUNT(*) DESC, o.channel) AS rn "
                f"  FROM customers_order o WHERE {live} GROUP BY o.customer_id, o.channel) ranked "
                "WHERE rn = 1",
                [],
            ),
            (
                "INSERT INTO tmp_top_category (customer_id, category) SELECT customer_id, category FROM ("
                "  SELECT customer_id, category, "
                "  ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY spend DESC, category) AS rn "
                "  FROM customers_categoryaffinity) ranked WHERE rn = 1",
                [],
            ),
            ("DELETE FROM customers_customermetrics", []),
            (
                "WITH per_customer AS ("
                "  SELECT o.customer_id, COUNT(*) AS n, SUM(o.total) AS gross, "
                "  SUM(o.refunded_amount) AS refunds, "
                "  MIN(o.placed_at) AS first_at, MAX(o.placed_at) AS last_at "
                f"  FROM customers_order o WHERE {live} GROUP BY o.customer_id), "
                "scored AS ("
                "  SELECT p.*, p.gross - p.refunds AS ltv, "
                "  NTILE(5) OVER (ORDER BY p.last_at, p.customer_id) AS r, "
                "  NTILE(5) OVER (ORDER BY p.n, p.last_at, p.customer_id) AS f, "
                "  NTILE(5) OVER (ORDER BY p.gross - p.refunds, p.customer_id) AS m "
                "  FROM per_customer p) "
                "INSERT INTO customers_customermetrics (customer_id, orders_count, gross_revenue, refunds, "
                "lifetime_value, average_basket, first_order_at, last_order_at, preferred_channel, "
                "top_category, "
                "recency_score, frequency_score, monetary_score, segment, previous_segment, computed_at) "
                "SELECT s.customer_id, s.n, s.gross, s.refunds, s.ltv, "
                "s.gross * 1.0 / s.n, s.first_at, s.last_at, ch.channel, COALESCE(cat.category, ''), "
                f"s.r, s.f, s.m, {SEGMENT_CASE}, COALESCE(prev.segment, ''), %s "
                "FROM scored s JOIN tmp_top_channel ch ON ch.customer_id = s.customer_id "
                "LEFT JOIN tmp_top_category cat ON cat.customer_id = s.customer_id "
                "LEFT JOIN tmp_previous_segment prev ON prev.customer_id = s.customer_id",
                [_param(now)],
            ),
            ("DELETE FROM customers_segmentmovement", []),
            (
                "INSERT INTO customers_segmentmovement (from_segment, to_segment, customers) "
                "SELECT previous_segment, segment, COUNT(*) FROM customers_customermetrics "
                "GROUP BY previous_segment, segment",
                [],
            ),
        ]
        + [(f"DROP TABLE {name}", []) for name, _ in temp]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM customers_customermetrics")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


# --- Segments ------------------------------------------------------------------------------------

FILTER_KEYS = frozenset(
    {
        "r_min",
        "r_max",
        "f_min",
        "f_max",
        "m_min",
        "m_max",
        "category",
        "channel",
        "district",
        "tier",
        "segment",
        "last_order_after",
        "last_order_before",
    }
)


def segment_queryset(filters: dict[str, Any]) -> QuerySet[Customer]:
    """Every customer matching FILTERS (already validated), unrestricted: used to rebuild membership."""
    qs = Customer.objects.filter(merged_into__isnull=True, anonymised_at__isnull=True)
    ranges = {"r": "metrics__recency_score", "f": "metrics__frequency_score", "m": "metrics__monetary_score"}
    for letter, lookup in ranges.items():
        if filters.get(f"{letter}_min") is not None:
            qs = qs.filter(**{f"{lookup}__gte": filters[f"{letter}_min"]})
        if filters.get(f"{letter}_max") is not None:
            qs = qs.filter(**{f"{lookup}__lte": filters[f"{letter}_max"]})
    if filters.get("category"):
        qs = qs.filter(metrics__top_category=filters["category"])
    if filters.get("channel"):
        qs = qs.filter(metrics__preferred_channel=filters["channel"])
    if filters.get("segment"):
        qs = qs.filter(metrics__segment=filters["segment"])
    if filters.get("district"):
        qs = qs.filter(district=filters["district"])
    if filters.get("tier"):
        qs = qs.filter(tier=filters["tier"])
    if filters.get("last_order_after"):
        qs = qs.filter(metrics__last_order_at__date__gte=date.fromisoformat(filters["last_order_after"]))
    if filters.get("last_order_before"):
        qs = qs.filter(metrics__last_order_at__date__lt=date.fromisoformat(filters["last_order_before"]))
    return qs


def segment_refresh(segment: Segment, *, now: datetime) -> int:
    """Recompute SEGMENT's members with one INSERT … SELECT; returns the member count."""
    select_sql, params = segment_queryset(segment.filters).values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_segmentmembership WHERE segment_id = %s", [segment.pk])
        cursor.execute(
            "INSERT INTO customers_segmentmembership (segment_id, customer_id) "
            f"SELECT %s, id FROM ({select_sql}) m",
            [segment.pk, *params],
        )
        cursor.execute("SELECT COUNT(*) FROM customers_segmentmembership WHERE segment_id = %s", [segment.pk])
        row = cursor.fetchone()
    count = int(row[0]) if row else 0
    Segment.objects.filter(pk=segment.pk).update(member_count=count, refreshed_at=now)
    return count


# --- Sales rollups -------------------------------------------------------------------------------


ROLLUP_COLUMNS = "month, channel, category, orders, revenue, refunds, customers"


def rollups_rebuild() -> int:
    """Rebuild SalesMonth and CohortMonth from the orders; returns the SalesMonth rows written."""
    rows = sales_months_rebuild()
    cohorts_rebuild()
    return rows


def sales_months_rebuild() -> int:
    """Rebuild SalesMonth (month × channel × category, with "*" totals); returns the rows written."""
    month = month_of("o.placed_at")
    live = f"o.status <> '{CANCELLED}'"
    # A line's share of its order's refund, by amount; zero-total orders refund nothing.
    line_refund = "CASE WHEN o.total > 0 THEN l.amount * o.refunded_amount * 1.0 / o.total ELSE 0 END"
    _run(
        [
            ("DELETE FROM customers_salesmonth", []),
            (
                f"INSERT INTO customers_salesmonth ({ROLLUP_COLUMNS}) "
                f"SELECT {month}, o.channel, l.category, COUNT(DISTINCT o.id), SUM(l.amount), "
                f"SUM({line_refund}), COUNT(DISTINCT o.customer_id) "
                "FROM customers_orderline l JOIN customers_order o ON o.id = l.order_id "
                f"WHERE {live} GROUP BY {month}, o.channel, l.category",
                [],
            ),
            (
                f"INSERT INTO customers_salesmonth ({ROLLUP_COLUMNS}) "
                f"SELECT {month}, o.channel, %s, COUNT(*), SUM(o.total), SUM(o.refunded_amount), "
                "COUNT(DISTINCT o.customer_id) FROM customers_order o "
                f"WHERE {live} GROUP BY {month}, o.channel",
                [ALL],
            ),
            (
                f"INSERT INTO customers_salesmonth ({ROLLUP_COLUMNS}) "
                f"SELECT {month}, %s, l.category, COUNT(DISTINCT o.id), SUM(l.amount), "
                f"SUM({line_refund}), COUNT(DISTINCT o.customer_id) "
                "FROM customers_orderline l JOIN customers_order o ON o.id = l.order_id "
                f"WHERE {live} GROUP BY {month}, l.category",
                [ALL],
            ),
            (
                f"INSERT INTO customers_salesmonth ({ROLLUP_COLUMNS}) "
                f"SELECT {month}, %s, %s, COUNT(*), SUM(o.total), SUM(o.refunded_amount), "
                "COUNT(DISTINCT o.customer_id) FROM customers_order o "
                f"WHERE {live} GROUP BY {month}",
                [ALL, ALL],
            ),
        ]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM customers_salesmonth")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def cohorts_rebuild() -> None:
    """Rebuild CohortMonth: customers of each first-order month active in each later month."""
    month = month_of("o.placed_at")
    live = f"o.status <> '{CANCELLED}'"
    _run(
        [
            ("DELETE FROM customers_cohortmonth", []),
            (
                "WITH activity AS ("
                f"  SELECT o.customer_id, {month} AS month, SUM(o.total - o.refunded_amount) AS net "
                f"  FROM customers_order o WHERE {live} AND o.customer_id IS NOT NULL "
                f"  GROUP BY o.customer_id, {month}), "
                "cohorts AS (SELECT customer_id, MIN(month) AS cohort FROM activity GROUP BY customer_id) "
                "INSERT INTO customers_cohortmonth (cohort, month, customers, revenue) "
                "SELECT c.cohort, a.month, COUNT(*), SUM(a.net) FROM activity a "
                "JOIN cohorts c ON c.customer_id = a.customer_id GROUP BY c.cohort, a.month",
                [],
            ),
        ]
    )
