"""Sales reports over many orders (issue 7, "Performance").

Data (``bench.generators``): ``--scale 1`` is 1,000,000 customers and 10,000,000 orders of 1–3
lines over two years, loaded untimed by raw COPY / executemany.

Rows
- *monthly revenue by channel × category and RFM*: Steward's set-based rebuild in the database
  (``customers.analytics.sales_months_rebuild``: month × channel × category with the channel and
  month totals; ``metrics_rebuild``: per-customer figures, NTILE quintiles for R, F and M,
  preferred channel, category affinity and segment movements, all written to tables) against the
  baseline the issue names: hand-written DuckDB queries over the same orders and lines exported to
  Parquet, computing the month × channel × category revenue and the RFM quintiles into DuckDB
  tables. Target ≤ 3×. Steward's side does more (affinity, movements, three rollup levels) and
  writes through a row store's indexes; DuckDB is a columnar engine reading Parquet.
- *report page at full size vs 1/100*: the Sales report page (12 months, as a marketing user,
  Django test client, HTML rendered) with 1/100 of the orders loaded and rolled up, then with all
  of them. The page reads only rollup tables, so the target is ≤ 1.5×.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from bench.bench_customers_ingest import (
    CUSTOMER_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    _raw_insert,
    _typed_customers,
    _typed_orders,
)
from bench.generators import sales_customer_records, sales_order_records
from bench.harness import Context, Row, ratio_row

MONTHLY_SQL = """
CREATE OR REPLACE TABLE monthly AS
SELECT date_trunc('month', o.placed_at + INTERVAL 8 HOUR) AS month, o.channel, l.category,
       count(DISTINCT o.id) AS orders, sum(l.amount) AS revenue,
       sum(CASE WHEN o.total > 0 THEN l.amount * o.refunded_amount / o.total ELSE 0 END) AS refunds,
       count(DISTINCT o.customer_id) AS customers
FROM read_parquet('{lines}') l JOIN read_parquet('{orders}') o ON o.id = l.order_id
WHERE o.status <> 'cancelled'
GROUP BY ALL
"""
RFM_SQL = """
CREATE OR REPLACE TABLE rfm AS
WITH per_customer AS (
  SELECT customer_id, count(*) AS n, sum(total) - sum(refunded_amount) AS ltv, max(placed_at) AS last_at
  FROM read_parquet('{orders}') WHERE status <> 'cancelled' AND customer_id IS NOT NULL GROUP BY customer_id
)
SELECT customer_id, n, ltv, last_at,
       ntile(5) OVER (ORDER BY last_at, customer_id) AS r,
       ntile(5) OVER (ORDER BY n, last_at, customer_id) AS f,
       ntile(5) OVER (ORDER BY ltv, customer_id) AS m
FROM per_customer
"""


def _parquet(folder: Path, orders: list[tuple[Any, ...]], lines: list[tuple[Any, ...]]) -> tuple[str, str]:
    # pyarrow ships no type information; both come from the `bench` extra.
    import pyarrow as pa  # type: ignore[import-untyped, import-not-found, unused-ignore]
    import pyarrow.parquet as pq  # type: ignore[import-untyped, import-not-found, unused-ignore]

    orders_path, lines_path = folder / "orders.parquet", folder / "lines.parquet"
    pq.write_table(
        pa.table(
            {
                "id": [o[0] for o in orders],
                "customer_id": [o[5] for o in orders],
                "channel": [o[6] for o in orders],
                "status": [o[7] for o in orders],
                "placed_at": pa.array([o[8].replace(tzinfo=None) for o in orders], pa.timestamp("us")),
                "total": pa.array([o[10] for o in orders], pa.decimal128(14, 2)),
                "refunded_amount": pa.array([o[11] for o in orders], pa.decimal128(14, 2)),
            }
        ),
        orders_path,
    )
    pq.write_table(
        pa.table(
            {
                "order_id": [line[2] for line in lines],
                "category": [line[6] for line in lines],
                "amount": pa.array([line[9] for line in lines], pa.decimal128(14, 2)),
            }
        ),
        lines_path,
    )
    return str(orders_path), str(lines_path)


def _utc(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    from datetime import UTC

    return [(*o[:8], o[8].astimezone(UTC), *o[9:]) for o in rows]


def run(ctx: Context) -> list[Row]:
    import duckdb  # type: ignore[import-not-found, unused-ignore]

    from accounts.models import User
    from customers import analytics
    from customers.models import Customer

    n_customers = ctx.size(1_000_000, minimum=1000)
    n_orders = ctx.size(10_000_000, minimum=10_000)
    small = n_orders // 100
    repeats = 1 if n_orders > 2_000_000 else min(ctx.repeats, 3)
    ctx.log(f"  generating {n_customers:,} customers and {n_orders:,} orders")
    now = timezone.now()
    customers = list(sales_customer_records(ctx.synth("sales-customers"), n_customers))
    with transaction.atomic():
        _raw_insert("customers_customer", CUSTOMER_COLUMNS, _typed_customers(customers, now))
    ids = dict(Customer.objects.values_list("external_id", "id"))
    records = list(sales_order_records(ctx.synth("sales-orders"), n_orders, n_customers))
    orders, lines = _typed_orders(records, now, ids)
    del records
    orders = _utc(orders)

    marketing = User.objects.create(username="bench.marketing")
    from django.contrib.auth.models import Group

    marketing.groups.add(Group.objects.get(name="marketing"))
    client = Client()
    client.force_login(marketing)
    url = "/customers/reports/sales/?start=2025-11&end=2026-10"

    def page() -> None:
        response = client.get(url)
        assert response.status_code == 200, response.status_code

    def rebuild() -> None:
        with transaction.atomic():
            analytics.sales_months_rebuild()
            analytics.metrics_rebuild(now=timezone.now())
            analytics.cohorts_rebuild()

    # 1/100 of the orders first: roll up and time the page.
    small_lines = [line for line in lines if line[2] <= small]
    with transaction.atomic():
        _raw_insert("customers_order", ORDER_COLUMNS, orders[:small])
        _raw_insert("customers_orderline", LINE_COLUMNS, small_lines)
    rebuild()
    page()
    small_time = ctx.best_of(page, repeats=max(ctx.repeats, 10))
    # Then all of them.
    with transaction.atomic():
        _raw_insert("customers_order", ORDER_COLUMNS, orders[small:])
        _raw_insert("customers_orderline", LINE_COLUMNS, [line for line in lines if line[2] > small])
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    ctx.log(f"  loaded {len(orders):,} orders and {len(lines):,} lines")

    with tempfile.TemporaryDirectory(prefix="steward-bench-") as folder:
        orders_path, lines_path = _parquet(Path(folder), orders, lines)
        duck = duckdb.connect()

        def duckdb_queries() -> None:
            duck.execute(MONTHLY_SQL.format(orders=orders_path, lines=lines_path))
            duck.execute(RFM_SQL.format(orders=orders_path))

        def steward_rebuild() -> None:
            with transaction.atomic():
                analytics.sales_months_rebuild()
                analytics.metrics_rebuild(now=timezone.now())

        rows = [
            ctx.compare(
                f"Monthly revenue by channel × category and RFM over {n_orders:,} orders",
                baseline=("hand-written DuckDB queries over Parquet", duckdb_queries),
                subject=("set-based rebuild in the database (rollup + RFM/metrics)", steward_rebuild),
                max_ratio=3,
                repeats=repeats,
                notes=f"{n_customers:,} customers, {len(lines):,} lines; DuckDB {duckdb.__version__}",
            )
        ]
        duck.close()
    rebuild()
    page()
    full_time = ctx.best_of(page, repeats=max(ctx.repeats, 10))
    rows.append(
        ratio_row(
            f"Sales report page: {n_orders:,} orders vs {small:,} (1/100)",
            baseline=(f"{small:,} orders rolled up", small_time),
            subject=(f"{n_orders:,} orders rolled up", full_time),
            max_ratio=1.5,
            notes="12 months, marketing user, rendered HTML; reads rollup tables only",
        )
    )
    return rows
