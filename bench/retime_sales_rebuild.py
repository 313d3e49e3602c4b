#!/usr/bin/env python
"""Time the sales rollups and RFM against the DuckDB baseline on an already-loaded database.

``bench_customers_reports`` loads its orders before timing (10,000,000 orders take about half an
hour on two cores) and leaves its database behind, but not its Parquet files. This tool re-times the
same comparison on that data without loading again: it exports the orders and lines with
PostgreSQL's ``COPY … TO STDOUT (FORMAT csv)`` and has DuckDB turn them into Parquet (untimed), then
alternates the same DuckDB queries and Steward's ``sales_months_rebuild`` + ``scores_rebuild``, as
``Context.compare`` does, best of N each.

    .venv/bin/python bench/retime_sales_rebuild.py \\
        --database postgres://postgres@127.0.0.1:5432/steward_bench10m --repeats 2
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from bench import retiming  # noqa: E402 (after the project root is on the path)

EXPORTS = {
    "orders": (
        "SELECT id, customer_id, channel, status, placed_at AT TIME ZONE 'UTC', total, refunded_amount "
        "FROM customers_order",
        "{'id': 'BIGINT', 'customer_id': 'BIGINT', 'channel': 'VARCHAR', 'status': 'VARCHAR', "
        "'placed_at': 'TIMESTAMP', 'total': 'DECIMAL(14,2)', 'refunded_amount': 'DECIMAL(14,2)'}",
    ),
    "lines": (
        "SELECT order_id, category, amount FROM customers_orderline",
        "{'order_id': 'BIGINT', 'category': 'VARCHAR', 'amount': 'DECIMAL(14,2)'}",
    ),
}


def _export(folder: Path, duck: object) -> dict[str, str]:
    """Orders and lines as Parquet files in FOLDER, through CSV (untimed)."""
    from django.db import connection

    paths = {}
    for name, (sql, columns) in EXPORTS.items():
        csv, parquet = folder / f"{name}.csv", folder / f"{name}.parquet"
        with connection.cursor() as cursor, open(csv, "wb") as out:
            with cursor.cursor.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)") as copy:
                for block in copy:
                    out.write(block)
        source = f"read_csv('{csv}', header=false, columns={columns})"
        duck.execute(f"COPY (SELECT * FROM {source}) TO '{parquet}' (FORMAT parquet)")  # type: ignore[attr-defined]
        csv.unlink()
        paths[name] = str(parquet)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="URL of a database bench_customers_reports loaded")
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    retiming.django_on(args.database)
    import duckdb
    from django.utils import timezone

    from bench.bench_customers_reports import MONTHLY_SQL, RFM_SQL
    from customers import analytics
    from customers.models import Order

    orders = Order.objects.count()
    duck = duckdb.connect()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        paths = _export(Path(folder), duck)
        print(f"{orders:,} orders exported to Parquet in {time.perf_counter() - started:.0f} s", flush=True)

        def baseline() -> None:
            duck.execute(MONTHLY_SQL.format(orders=paths["orders"], lines=paths["lines"]))
            duck.execute(RFM_SQL.format(orders=paths["orders"]))

        def subject() -> None:
            with analytics.tuned():
                analytics.sales_months_rebuild()
                analytics.scores_rebuild(now=timezone.now())

        retiming.alternate(baseline, subject, args.repeats, "sales_months_rebuild + scores_rebuild")
    duck.close()


if __name__ == "__main__":
    main()
