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

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet
from django.db.models.expressions import RawSQL

from customers.models import ALL, Channel, Customer, Order, Segment

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
    """SQL for the first day of COLUMN's month in Hong Kong time, as a date.

    Hong Kong is UTC+8 all year, so a fixed shift of the UTC time is exact and, on PostgreSQL,
    about twice as cheap per row as converting through the time-zone database.
    """
    if _pg():
        return f"CAST(date_trunc('month', ({column} AT TIME ZONE 'UTC') + INTERVAL '8 hours') AS date)"
    return f"date({column}, '+8 hours', 'start of month')"


HK_OFFSET = timedelta(hours=8)

# The customers an incremental refresh works on (a temporary table, see _customers_refresh).
TOUCHED = "SELECT customer_id FROM tmp_touched"

# Session settings for a rebuild, reset when it ends. The default PostgreSQL work_mem (4 MB)
# sends every sort and hash of a rebuild to disk; SQLite's default page cache is 2 MB.
REBUILD_WORK_MEM = "256MB"
REBUILD_SQLITE_CACHE_KIB = 262_144


@contextmanager
def tuned() -> Iterator[None]:
    """A transaction in which sorts and hashes of a rebuild stay in memory.

    PostgreSQL: ``SET LOCAL work_mem`` (ends with the transaction). SQLite: a larger page cache
    for the main and temporary databases, restored afterwards (``temp_store`` cannot be changed
    inside a transaction, so it is left alone). The vectorised rebuilds inside share one read
    of the orders and lines (``analytics_arrays.reads_shared``).
    """
    from customers.analytics_arrays import reads_shared

    # No savepoint: a failed rebuild fails its caller's whole transaction anyway, and without one
    # the reads can share the transaction's snapshot with a second connection (columnar).
    with transaction.atomic(savepoint=False), reads_shared(), connection.cursor() as cursor:
        if _pg():
            cursor.execute(f"SET LOCAL work_mem = '{REBUILD_WORK_MEM}'")
            yield
            return
        cursor.execute("PRAGMA main.cache_size")
        main = cursor.fetchone()
        cursor.execute("PRAGMA temp.cache_size")
        temp = cursor.fetchone()
        cursor.execute(f"PRAGMA main.cache_size = -{REBUILD_SQLITE_CACHE_KIB}")
        cursor.execute(f"PRAGMA temp.cache_size = -{REBUILD_SQLITE_CACHE_KIB}")
        try:
            yield
        finally:
            cursor.execute(f"PRAGMA main.cache_size = {int(main[0]) if main else -2000}")
            cursor.execute(f"PRAGMA temp.cache_size = {int(temp[0]) if temp else -2000}")


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
    with tuned():
        affinity_rebuild()
        scored = scores_rebuild(now=now)
        movements_rebuild()
    return scored


LIVE_CUSTOMER = f"o.status <> '{CANCELLED}' AND o.customer_id IS NOT NULL"
# Preferred channel: the channel of most orders; a tie goes to the first channel by name.
CHANNELS = sorted(str(value) for value in Channel.values)


def _greatest(parts: list[str]) -> str:
    return f"{'GREATEST' if _pg() else 'MAX'}({', '.join(parts)})"


def _per_customer(extra: str = "") -> str:
    """One scan of the orders, grouped by customer: counts, money, first and last order, and the
    orders per channel (for the preferred channel, without a second pass and a window)."""
    per_channel = ", ".join(
        f"SUM(CASE WHEN o.channel = '{channel}' THEN 1 ELSE 0 END) AS n_{channel}" for channel in CHANNELS
    )
    return (
        "SELECT o.customer_id, COUNT(*) AS n, SUM(o.total) AS gross, SUM(o.refunded_amount) AS refunds, "
        "MIN(o.placed_at) AS first_at, MAX(o.placed_at) AS last_at, MIN(o.channel) AS any_channel, "
        f"{per_channel} "
        f"FROM customers_order o WHERE {LIVE_CUSTOMER}{extra} GROUP BY o.customer_id"
    )


def _preferred_channel(alias: str) -> str:
    top = _greatest([f"{alias}.n_{channel}" for channel in CHANNELS])
    whens = " ".join(f"WHEN {alias}.n_{channel} = {top} THEN '{channel}'" for channel in CHANNELS)
    # Orders only in channels no longer offered: the first of those.
    return f"CASE WHEN {top} = 0 THEN {alias}.any_channel {whens} END"


METRICS_COLUMNS = (
    "customer_id, orders_count, gross_revenue, refunds, lifetime_value, average_basket, first_order_at, "
    "last_order_at, preferred_channel, top_category, recency_score, frequency_score, monetary_score, "
    "segment, previous_segment, rebuilt_segment, computed_at"
)
TOP_CATEGORY = (
    "SELECT customer_id, category FROM ("
    "  SELECT customer_id, category, "
    "  ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY spend DESC, category) AS rn "
    "  FROM customers_categoryaffinity{where}) ranked WHERE rn = 1"
)


def affinity_rebuild() -> None:
    """CategoryAffinity: each customer's spend and share per category, vectorised from the orders
    and lines a rebuild reads once (``customers.analytics_arrays``); ``affinity_rebuild_sql``
    states the same in SQL (one join of lines and orders) and the tests hold both to the same rows.
    """
    from customers import analytics_arrays

    with tuned():
        orders = analytics_arrays.orders_read()
        analytics_arrays.affinity_write(orders, analytics_arrays.lines_read(orders))


def affinity_rebuild_sql() -> None:
    """``affinity_rebuild`` as set-based SQL: the reference for the vectorised path."""
    _run(
        [
            ("DELETE FROM customers_categoryaffinity", []),
            (_affinity_insert(""), []),
        ]
    )


def _affinity_insert(extra: str) -> str:
    return (
        "INSERT INTO customers_categoryaffinity (customer_id, category, spend, share) "
        "SELECT customer_id, category, spend, "
        "CASE WHEN customer_total > 0 THEN spend * 1.0 / customer_total ELSE 0 END FROM ("
        "  SELECT o.customer_id, l.category, SUM(l.amount) AS spend, "
        "  SUM(SUM(l.amount)) OVER (PARTITION BY o.customer_id) AS customer_total "
        "  FROM customers_orderline l JOIN customers_order o ON o.id = l.order_id "
        f"  WHERE {LIVE_CUSTOMER}{extra} AND l.category <> '' GROUP BY o.customer_id, l.category) spends"
    )


def scores_rebuild(*, now: datetime, keep_previous: bool = False) -> int:
    """CustomerMetrics for every customer with an order: figures, RFM quintiles (NTILE over all
    customers, once per score), segment, preferred channel and top category (from
    CategoryAffinity); the segment before this rebuild is kept as ``previous_segment``.

    The movement is counted from ``rebuilt_segment`` (what the last rebuild gave: a refresh after
    a load may have changed ``segment`` since), and ``rebuilt_segment`` becomes the new segment.
    KEEP_PREVIOUS (a refresh between two nightly rebuilds that re-ranks everyone): both are kept
    as they are, as an incremental refresh keeps them.

    This is the part of a metrics rebuild that corresponds to the RFM query of the benchmark.
    It reads every order, so it runs vectorised (``customers.analytics_arrays``: about a third
    of the time of the SQL below on both databases); ``scores_rebuild_sql`` states the same
    figures in SQL and the tests hold the two to the same rows.
    """
    from customers import analytics_arrays

    with tuned():
        orders = analytics_arrays.orders_read()
        return analytics_arrays.scores_write(
            orders, analytics_arrays.scores_of(orders), now=now, keep_previous=keep_previous
        )


def scores_rebuild_sql(*, now: datetime, keep_previous: bool = False) -> int:
    """``scores_rebuild`` as set-based SQL: the reference for the vectorised path."""
    # Helper tables keyed by customer: joining window-function results as CTEs makes SQLite's
    # planner loop over them (quadratic); keyed temporary tables keep every join a lookup.
    if keep_previous:
        kept = "COALESCE(prev.previous, ''), COALESCE(prev.rebuilt, '')"
    else:
        kept = f"COALESCE(prev.rebuilt, ''), {SEGMENT_CASE}"
    temp = [
        ("tmp_previous_segment", "previous varchar(30), rebuilt varchar(30)"),
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
                "INSERT INTO tmp_previous_segment (customer_id, previous, rebuilt) "
                "SELECT customer_id, previous_segment, rebuilt_segment FROM customers_customermetrics",
                [],
            ),
            (
                "INSERT INTO tmp_top_category (customer_id, category) " + TOP_CATEGORY.format(where=""),
                [],
            ),
            ("DELETE FROM customers_customermetrics", []),
            (
                f"WITH per_customer AS ({_per_customer()}), "
                "scored AS ("
                "  SELECT p.*, p.gross - p.refunds AS ltv, "
                "  NTILE(5) OVER (ORDER BY p.last_at, p.customer_id) AS r, "
                "  NTILE(5) OVER (ORDER BY p.n, p.last_at, p.customer_id) AS f, "
                "  NTILE(5) OVER (ORDER BY p.gross - p.refunds, p.customer_id) AS m "
                "  FROM per_customer p) "
                f"INSERT INTO customers_customermetrics ({METRICS_COLUMNS}) "
                "SELECT s.customer_id, s.n, s.gross, s.refunds, s.ltv, "
                f"s.gross * 1.0 / s.n, s.first_at, s.last_at, {_preferred_channel('s')}, "
                f"COALESCE(cat.category, ''), s.r, s.f, s.m, {SEGMENT_CASE}, {kept}, %s "
                "FROM scored s "
                "LEFT JOIN tmp_top_category cat ON cat.customer_id = s.customer_id "
                "LEFT JOIN tmp_previous_segment prev ON prev.customer_id = s.customer_id",
                [_param(now)],
            ),
        ]
        + [(f"DROP TABLE {name}", []) for name, _ in temp]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM customers_customermetrics")
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def movements_rebuild() -> None:
    """SegmentMovement: customers by (segment before, segment after) the last rebuild."""
    _run(
        [
            ("DELETE FROM customers_segmentmovement", []),
            (
                "INSERT INTO customers_segmentmovement (from_segment, to_segment, customers) "
                "SELECT previous_segment, segment, COUNT(*) FROM customers_customermetrics "
                "GROUP BY previous_segment, segment",
                [],
            ),
        ]
    )


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


def segment_refresh(segment: Segment, *, now: datetime, touched_only: bool = False) -> int:
    """Recompute SEGMENT's members with one DELETE and one INSERT … SELECT; returns the member count.

    TOUCHED_ONLY (a refresh after a load): only the customers in ``tmp_touched`` are evaluated
    against the filter again, added or removed; every other membership is left as it is.
    """
    members = segment_queryset(segment.filters)
    delete = "DELETE FROM customers_segmentmembership WHERE segment_id = %s"
    if touched_only:
        members = members.filter(id__in=RawSQL(TOUCHED, []))  # noqa: S611 (a constant)
        delete += f" AND customer_id IN ({TOUCHED})"
    select_sql, params = members.values("id").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(delete, [segment.pk])
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


def segments_refresh(*, now: datetime, touched_only: bool = False) -> int:
    """Every named segment's membership (see segment_refresh): a few statements per segment, none
    per customer. Returns the number of segments refreshed."""
    segments = list(Segment.objects.order_by("pk"))
    for segment in segments:
        segment_refresh(segment, now=now, touched_only=touched_only)
    return len(segments)


# --- Sales rollups -------------------------------------------------------------------------------


ROLLUP_COLUMNS = "month, channel, category, orders, revenue, refunds, customers"
LIVE = f"o.status <> '{CANCELLED}'"
# A line's share of its order's refund, by amount; zero-total orders refund nothing.
LINE_REFUND = "CASE WHEN o.total > 0 THEN l.amount * o.refunded_amount * 1.0 / o.total ELSE 0 END"


def rollups_rebuild() -> int:
    """Rebuild SalesMonth and CohortMonth from the orders; returns the SalesMonth rows written."""
    with tuned():
        rows = sales_months_rebuild()
        cohorts_rebuild()
    return rows


def month_range(month: date) -> tuple[datetime, datetime]:
    """The instants (UTC) at which MONTH starts and the next one starts in Hong Kong."""
    from datetime import UTC

    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return (
        datetime(month.year, month.month, 1, tzinfo=UTC) - HK_OFFSET,
        datetime(following.year, following.month, 1, tzinfo=UTC) - HK_OFFSET,
    )


def _in_months(months: list[date] | None) -> tuple[str, list[Any]]:
    """A condition on ``o.placed_at`` for MONTHS (None: every month), as index-friendly ranges."""
    if months is None:
        return "", []
    ranges: list[str] = []
    params: list[Any] = []
    for month in months:
        start, end = month_range(month)
        ranges.append("(o.placed_at >= %s AND o.placed_at < %s)")
        params += [_param(start), _param(end)]
    return f" AND ({' OR '.join(ranges) or '1 = 0'})", params


def sales_months_rebuild(months: list[date] | None = None) -> int:
    """Rebuild SalesMonth (month × channel × category, with "*" totals) for MONTHS (all when None);
    returns the rows written.

    Orders and customers are distinct counts, so the "*" rows cannot be summed from the finer
    ones. Every month (MONTHS None, the nightly rebuild) is computed vectorised from one read of
    the orders and one of the lines (``customers.analytics_arrays``), a few months (the refresh
    after a load) by the SQL below, which reads only those months through the ``placed_at``
    index: PostgreSQL computes each pair of levels from one pass with GROUPING SETS (lines joined
    to orders once for month × channel × category and month × category; orders once for month ×
    channel and month); SQLite, which has no GROUPING SETS, runs the four aggregates. The tests
    hold both paths to the same rows.
    """
    if months is None:
        from customers import analytics_arrays

        with tuned():
            orders = analytics_arrays.orders_read()
            rows = analytics_arrays.sales_rows(orders, analytics_arrays.lines_read(orders))
            analytics_arrays.sales_months_write(rows)
        return len(rows)
    return sales_months_rebuild_sql(months)


def sales_months_rebuild_sql(months: list[date] | None = None) -> int:
    """``sales_months_rebuild`` as set-based SQL, for MONTHS (all when None)."""
    month = month_of("o.placed_at")
    where, params = _in_months(months)
    joined = f"FROM customers_orderline l JOIN customers_order o ON o.id = l.order_id WHERE {LIVE}{where}"
    orders = f"FROM customers_order o WHERE {LIVE}{where}"
    delete = "DELETE FROM customers_salesmonth"
    delete_params: list[Any] = []
    if months is not None:
        delete += f" WHERE month IN ({', '.join(['%s'] * len(months))})" if months else " WHERE 1 = 0"
        delete_params = list(months)
    insert = f"INSERT INTO customers_salesmonth ({ROLLUP_COLUMNS}) "
    if _pg():
        statements = [
            (
                insert + f"SELECT {month}, COALESCE(o.channel, %s), l.category, COUNT(DISTINCT o.id), "
                f"SUM(l.amount), SUM({LINE_REFUND}), COUNT(DISTINCT o.customer_id) {joined} "
                f"GROUP BY GROUPING SETS (({month}, l.category, o.channel), ({month}, l.category))",
                [ALL, *params],
            ),
            (
                insert + f"SELECT {month}, COALESCE(o.channel, %s), %s, COUNT(*), SUM(o.total), "
                f"SUM(o.refunded_amount), COUNT(DISTINCT o.customer_id) {orders} "
                f"GROUP BY GROUPING SETS (({month}, o.channel), ({month}))",
                [ALL, ALL, *params],
            ),
        ]
    else:
        statements = [
            (
                insert + f"SELECT {month}, o.channel, l.category, COUNT(DISTINCT o.id), SUM(l.amount), "
                f"SUM({LINE_REFUND}), COUNT(DISTINCT o.customer_id) {joined} "
                f"GROUP BY {month}, o.channel, l.category",
                params,
            ),
            (
                insert + f"SELECT {month}, o.channel, %s, COUNT(*), SUM(o.total), SUM(o.refunded_amount), "
                f"COUNT(DISTINCT o.customer_id) {orders} GROUP BY {month}, o.channel",
                [ALL, *params],
            ),
            (
                insert + f"SELECT {month}, %s, l.category, COUNT(DISTINCT o.id), SUM(l.amount), "
                f"SUM({LINE_REFUND}), COUNT(DISTINCT o.customer_id) {joined} GROUP BY {month}, l.category",
                [ALL, *params],
            ),
            (
                insert + f"SELECT {month}, %s, %s, COUNT(*), SUM(o.total), SUM(o.refunded_amount), "
                f"COUNT(DISTINCT o.customer_id) {orders} GROUP BY {month}",
                [ALL, ALL, *params],
            ),
        ]
    with tuned():
        _run([(delete, delete_params), *statements])
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM customers_salesmonth")
            row = cursor.fetchone()
    return int(row[0]) if row else 0


def cohorts_rebuild() -> None:
    """Rebuild CohortMonth: customers of each first-order month active in each later month;
    vectorised from the orders a rebuild reads once (``customers.analytics_arrays``), with
    ``cohorts_rebuild_sql`` as the reference the tests hold it to."""
    from customers import analytics_arrays

    with tuned():
        analytics_arrays.cohorts_write(analytics_arrays.orders_read())


def cohorts_rebuild_sql() -> None:
    """``cohorts_rebuild`` as set-based SQL."""
    month = month_of("o.placed_at")
    with tuned():
        _run(
            [
                ("DELETE FROM customers_cohortmonth", []),
                (
                    "WITH activity AS ("
                    f"  SELECT o.customer_id, {month} AS month, SUM(o.total - o.refunded_amount) AS net "
                    f"  FROM customers_order o WHERE {LIVE_CUSTOMER} "
                    f"  GROUP BY o.customer_id, {month}), "
                    "cohorts AS ("
                    "  SELECT customer_id, MIN(month) AS cohort FROM activity GROUP BY customer_id) "
                    "INSERT INTO customers_cohortmonth (cohort, month, customers, revenue) "
                    "SELECT c.cohort, a.month, COUNT(*), SUM(a.net) FROM activity a "
                    "JOIN cohorts c ON c.customer_id = a.customer_id GROUP BY c.cohort, a.month",
                    [],
                ),
            ]
        )


# --- Incremental refresh after a load ------------------------------------------------------------

# One lock for every writer of the rollups: a queued refresh and a full rebuild never interleave
# their DELETE and INSERT of the same month (PostgreSQL; SQLite serialises writers anyway).
ROLLUP_LOCK = 7_007_001


def rollups_lock() -> None:
    if _pg():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])


def rollups_refresh(*, months: list[date], customer_ids: list[int], now: datetime) -> None:
    """Bring the rollups up to date after orders of CUSTOMER_IDS placed in MONTHS were loaded
    or changed: SalesMonth for those months only; CategoryAffinity and CustomerMetrics for those
    customers only; CohortMonth for the cohorts they were or now are in; then each named
    segment's membership for those customers only, and the segment movements (issue 7 item 4:
    segments stay current without waiting for the nightly rebuild).

    RFM scores of the refreshed customers are placed against the current quintile boundaries
    of everyone else (the lowest recency, frequency and value of each score), so other
    customers keep theirs until the nightly rebuild re-ranks everyone; when the refreshed
    customers are a large share of all, they are all re-ranked at once instead, and every
    segment is then refreshed in full.

    Movements are counted as the nightly rebuild counts them, from each customer's
    ``previous_segment`` (the segment before the last nightly rebuild, '' for a customer new
    since) to the segment now.
    """
    with tuned():
        rollups_lock()
        if customer_ids:
            everyone = _customers_refresh(sorted(set(customer_ids)), now=now)
            segments_refresh(now=now, touched_only=not everyone)
            movements_rebuild()
            _run([("DROP TABLE tmp_touched", [])])
        if months:
            sales_months_rebuild(sorted(set(months)))


def _customers_refresh(customer_ids: list[int], *, now: datetime) -> bool:
    """Metrics, affinity and cohorts of CUSTOMER_IDS (left in ``tmp_touched`` for the caller to
    refresh segments with, and to drop). Returns whether every customer was re-ranked."""
    month = month_of("m.first_order_at")
    _run(
        [
            ("DROP TABLE IF EXISTS tmp_touched", []),
            ("DROP TABLE IF EXISTS tmp_cohorts", []),
            ("DROP TABLE IF EXISTS tmp_top_category", []),
            ("CREATE TEMP TABLE tmp_touched (customer_id bigint PRIMARY KEY)", []),
            ("CREATE TEMP TABLE tmp_cohorts (cohort date PRIMARY KEY)", []),
            ("CREATE TEMP TABLE tmp_top_category (customer_id bigint PRIMARY KEY, category varchar(80))", []),
        ]
    )
    with connection.cursor() as cursor:
        cursor.executemany("INSERT INTO tmp_touched (customer_id) VALUES (%s)", [[i] for i in customer_ids])
        cursor.execute(f"SELECT COUNT(*) FROM customers_customermetrics WHERE customer_id NOT IN ({TOUCHED})")
        row = cursor.fetchone()
    others = int(row[0]) if row else 0
    cohorts_of_touched = (
        "INSERT INTO tmp_cohorts (cohort) "
        f"SELECT DISTINCT {month} FROM customers_customermetrics m WHERE m.customer_id IN ({TOUCHED}) "
        "ON CONFLICT (cohort) DO NOTHING"
    )
    touched = f" AND o.customer_id IN ({TOUCHED})"
    statements: list[tuple[str, list[Any]]] = [
        # The cohorts they were in before: a first order may have been cancelled since.
        (cohorts_of_touched, []),
        (f"DELETE FROM customers_categoryaffinity WHERE customer_id IN ({TOUCHED})", []),
        (_affinity_insert(touched), []),
    ]
    everyone = others < 4 * len(customer_ids)
    if everyone:
        # Mostly new customers: ranking everyone costs little more and is exact.
        _run(statements)
        scores_rebuild(now=now, keep_previous=True)
        statements = []
    else:
        statements += [
            (
                "INSERT INTO tmp_top_category (customer_id, category) "
                + TOP_CATEGORY.format(where=f" WHERE customer_id IN ({TOUCHED})"),
                [],
            ),
            (
                f"DELETE FROM customers_customermetrics WHERE customer_id IN ({TOUCHED}) AND customer_id "
                f"NOT IN (SELECT o.customer_id FROM customers_order o WHERE {LIVE_CUSTOMER}{touched})",
                [],
            ),
            (
                f"WITH per_customer AS ({_per_customer(touched)}), "
                "others AS (SELECT recency_score, frequency_score, monetary_score, last_order_at, "
                "  orders_count, lifetime_value FROM customers_customermetrics "
                f"  WHERE customer_id NOT IN ({TOUCHED})), "
                "rb AS (SELECT recency_score AS score, MIN(last_order_at) AS low FROM others "
                "  GROUP BY recency_score), "
                "fb AS (SELECT frequency_score AS score, MIN(orders_count) AS low FROM others "
                "  GROUP BY frequency_score), "
                "mb AS (SELECT monetary_score AS score, MIN(lifetime_value) AS low FROM others "
                "  GROUP BY monetary_score), "
                "scored AS (SELECT p.*, p.gross - p.refunds AS ltv, "
                "  1 + (SELECT COUNT(*) FROM rb WHERE rb.score > 1 AND rb.low <= p.last_at) AS r, "
                "  1 + (SELECT COUNT(*) FROM fb WHERE fb.score > 1 AND fb.low <= p.n) AS f, "
                "  1 + (SELECT COUNT(*) FROM mb WHERE mb.score > 1 AND mb.low <= p.gross - p.refunds) AS m "
                "  FROM per_customer p) "
                f"INSERT INTO customers_customermetrics ({METRICS_COLUMNS}) "
                "SELECT s.customer_id, s.n, s.gross, s.refunds, s.ltv, "
                f"s.gross * 1.0 / s.n, s.first_at, s.last_at, {_preferred_channel('s')}, "
                f"COALESCE(cat.category, ''), s.r, s.f, s.m, {SEGMENT_CASE}, '', '', %s "
                "FROM scored s LEFT JOIN tmp_top_category cat ON cat.customer_id = s.customer_id WHERE 1 = 1 "
                "ON CONFLICT (customer_id) DO UPDATE SET orders_count = excluded.orders_count, "
                "gross_revenue = excluded.gross_revenue, refunds = excluded.refunds, "
                "lifetime_value = excluded.lifetime_value, average_basket = excluded.average_basket, "
                "first_order_at = excluded.first_order_at, last_order_at = excluded.last_order_at, "
                "preferred_channel = excluded.preferred_channel, top_category = excluded.top_category, "
                "recency_score = excluded.recency_score, frequency_score = excluded.frequency_score, "
                "monetary_score = excluded.monetary_score, segment = excluded.segment, "
                "computed_at = excluded.computed_at",
                [_param(now)],
            ),
        ]
    activity_month = month_of("o.placed_at")
    statements += [
        # …and the cohorts they are in now.
        (cohorts_of_touched, []),
        ("DELETE FROM customers_cohortmonth WHERE cohort IN (SELECT cohort FROM tmp_cohorts)", []),
        (
            "WITH members AS ("
            f"  SELECT m.customer_id, {month} AS cohort FROM customers_customermetrics m "
            f"  WHERE {month} IN (SELECT cohort FROM tmp_cohorts)), "
            "activity AS ("
            f"  SELECT o.customer_id, {activity_month} AS month, SUM(o.total - o.refunded_amount) AS net "
            "  FROM customers_order o JOIN members mem ON mem.customer_id = o.customer_id "
            f"  WHERE {LIVE_CUSTOMER} GROUP BY o.customer_id, {activity_month}) "
            "INSERT INTO customers_cohortmonth (cohort, month, customers, revenue) "
            "SELECT mem.cohort, a.month, COUNT(*), SUM(a.net) FROM activity a "
            "JOIN members mem ON mem.customer_id = a.customer_id GROUP BY mem.cohort, a.month",
            [],
        ),
        ("DROP TABLE tmp_cohorts", []),
        ("DROP TABLE IF EXISTS tmp_top_category", []),
    ]
    _run(statements)
    return everyone
