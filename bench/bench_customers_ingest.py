"""Bulk loading of sales activity through Steward's real path (issue 7, "Performance").

Data (``bench.generators``): ``--scale 1`` is 1,000,000 customers and 10,000,000 orders of 1–3
lines over two years, as dict records in the shape the import API and files take (timestamps as
ISO text with +08:00, amounts as text).

Rows
- *customers*: ``customers.importing.load("customers", …)``, the path every API call, file and
  webhook takes (checks every record, stages with COPY on PostgreSQL / executemany on SQLite,
  then one ``INSERT … SELECT … ON CONFLICT``), against the baseline: the same rows, already typed,
  written straight into ``customers_customer`` by raw ``COPY`` (PostgreSQL) or ``executemany``
  (SQLite). Issue 7 asks for at least 0.4× the baseline's throughput, i.e. subject time ≤ 2.5×.
- *orders with lines*: the same for orders and their lines (baseline: ``customers_order`` and
  ``customers_orderline`` with ids and customer ids already resolved).
Every timed load starts from empty tables (emptied untimed before each repetition) and runs in
one transaction, as an import does.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from bench.generators import sales_customer_records, sales_order_records
from bench.harness import Context, Row

MAX_RATIO = 2.5  # subject time ÷ baseline time; throughput ratio ≥ 0.4
CUSTOMER_COLUMNS = (
    "id, created_at, updated_at, source, external_id, given_name, family_name, chinese_name, email, phone, "
    "address_line, district, country, tier"
)
ORDER_COLUMNS = (
    "id, created_at, updated_at, source, external_id, customer_id, channel, status, placed_at, currency, "
    "total, refunded_amount"
)
LINE_COLUMNS = (
    "created_at, updated_at, order_id, line_number, sku, product, category, quantity, unit_price, amount"
)


def _raw_insert(table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """The baseline: typed rows straight into TABLE, COPY or executemany, nothing checked."""
    if connection.vendor == "postgresql":
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
        return
    from customers.importing import _sqlite_value

    marks = ", ".join(["%s"] * len(rows[0]))
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} ({columns}) VALUES ({marks})",
            [tuple(_sqlite_value(v) for v in row) for row in rows] if rows else [],
        )


def _empty(*tables: str) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        else:
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")


def _typed_customers(records: list[dict[str, Any]], now: datetime, start: int = 1) -> list[tuple[Any, ...]]:
    return [
        (
            i,
            now,
            now,
            "bench",
            r["external_id"],
            r["given_name"],
            r["family_name"],
            r["chinese_name"],
            r["email"],
            r["phone"],
            "",
            r["district"],
            "HK",
            "standard",
        )
        for i, r in enumerate(records, start=start)
    ]


def _typed_orders(
    records: list[dict[str, Any]], now: datetime, customer_ids: dict[str, int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    orders = []
    lines = []
    for i, r in enumerate(records, start=1):
        customer_id = customer_ids.get(r["customer_id"])
        orders.append(
            (
                i,
                now,
                now,
                "bench",
                r["external_id"],
                customer_id,
                r["channel"],
                r["status"],
                datetime.fromisoformat(r["placed_at"]),
                "HKD",
                Decimal(r["total"]),
                Decimal(r["refunded_amount"]),
            )
        )
        for number, line in enumerate(r["lines"], start=1):
            price = Decimal(line["unit_price"])
            lines.append(
                (
                    now,
                    now,
                    i,
                    number,
                    line["sku"],
                    line["product"],
                    line["category"],
                    line["quantity"],
                    price,
                    price * line["quantity"],
                )
            )
    return orders, lines


def run(ctx: Context) -> list[Row]:
    from customers import importing

    n_customers = ctx.size(1_000_000, minimum=100)
    n_orders = ctx.size(10_000_000, minimum=1000)
    repeats = 1 if n_orders > 2_000_000 else min(ctx.repeats, 3)
    ctx.log(f"  generating {n_customers:,} customers and {n_orders:,} orders")
    customers = list(sales_customer_records(ctx.synth("sales-customers"), n_customers))
    orders = list(sales_order_records(ctx.synth("sales-orders"), n_orders, n_customers))
    now = timezone.now()
    typed_customers = _typed_customers(customers, now)

    def empty_customers() -> None:
        with transaction.atomic():
            _empty("customers_orderline", "customers_order", "customers_customer")

    def raw_customers() -> None:
        with transaction.atomic():
            _raw_insert("customers_customer", CUSTOMER_COLUMNS, typed_customers)

    def real_customers() -> None:
        with transaction.atomic():
            result = importing.load("customers", customers, source="bench")
        assert result.created == n_customers, result

    rows = [
        ctx.compare(
            f"Customers: bulk import of {n_customers:,} through the real path",
            baseline=(
                f"raw {'COPY' if connection.vendor == 'postgresql' else 'executemany'}, typed rows",
                raw_customers,
            ),
            subject=("importing.load (check, stage, upsert)", real_customers),
            setup=empty_customers,
            max_ratio=MAX_RATIO,
            repeats=repeats,
            notes="target: throughput ≥ 0.4× the raw load (time ≤ 2.5×)",
        )
    ]
    # Orders need their customers: load them once (untimed) through the real path.
    empty_customers()
    real_customers()
    from customers.models import Customer

    ids = dict(Customer.objects.values_list("external_id", "id"))
    typed_orders, typed_lines = _typed_orders(orders, now, ids)

    def empty_orders() -> None:
        with transaction.atomic():
            _empty("customers_orderline", "customers_order")

    def raw_orders() -> None:
        with transaction.atomic():
            _raw_insert("customers_order", ORDER_COLUMNS, typed_orders)
            _raw_insert("customers_orderline", LINE_COLUMNS, typed_lines)

    def real_orders() -> None:
        with transaction.atomic():
            result = importing.load("orders", orders, source="bench")
        assert result.created == n_orders and not result.errors, result

    row = ctx.compare(
        f"Orders: bulk import of {n_orders:,} orders ({len(typed_lines):,} lines) through the real path",
        baseline=(
            f"raw {'COPY' if connection.vendor == 'postgresql' else 'executemany'}, typed rows",
            raw_orders,
        ),
        subject=("importing.load (check, stage, upsert)", real_orders),
        setup=empty_orders,
        max_ratio=MAX_RATIO,
        repeats=repeats,
        notes=f"target: throughput ≥ 0.4× the raw load (time ≤ 2.5×); {n_customers:,} customers",
    )
    rows.append(row)
    ctx.log(f"  orders: {n_orders / row.subject_s:,.0f} orders per second through the real path")
    return rows
