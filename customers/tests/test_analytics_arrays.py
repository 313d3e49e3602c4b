"""The vectorised full rebuilds (customers.analytics_arrays) write exactly the rows of the SQL ones.

The nightly rebuild of SalesMonth and CustomerMetrics runs on numpy arrays; the set-based SQL in
``customers.analytics`` states the same figures and stays the reference. Random orders cover
what could come out differently: Hong Kong month edges, orders without a customer, cancelled
and partly refunded orders (odd cents), zero totals, blank categories, ties in channel counts,
spend and time, a channel no longer offered, and customer counts that are no multiple of five.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from django.db import connection
from django.utils import timezone

from core import columnar
from customers import analytics, analytics_arrays
from customers.models import CategoryAffinity, CohortMonth, CustomerMetrics, Order, OrderLine, SalesMonth
from customers.tests.sales_helpers import customer, person

pytestmark = pytest.mark.django_db

CATEGORIES = ["Fashion", "Electronics", "Beauty & Skincare", "", "Food & Beverage"]
CHANNELS = ["web", "app", "marketplace", "store", "phone", "social", "fax"]  # "fax": no longer offered


def random_orders(seed: int, customers: int, orders: int) -> None:
    from customers import services

    loader = person("crm_staff", "loader")
    services.sales_records_load(
        actor=loader, kind="customers", records=[customer(f"C-{i}") for i in range(customers)]
    )
    *ids, only_fax = sorted(services_customer_ids())
    rng = random.Random(seed)
    start = datetime(2025, 12, 31, 15, 0, tzinfo=UTC)  # 23:00 in Hong Kong: next day's month edge
    made = []
    for i in range(orders):
        placed = start + timedelta(minutes=rng.choice([0, 30, 59, 61, 90]) + 1440 * rng.randint(0, 70))
        status = rng.choice(["paid", "fulfilled", "cancelled", "refunded", "partially_refunded"])
        made.append(
            Order(
                source="test",
                external_id=f"R{i}",
                customer_id=only_fax if i == 5 else (rng.choice(ids) if rng.random() > 0.1 else None),
                channel="fax" if i == 5 else rng.choice(CHANNELS[:6]),
                status="paid" if i == 5 else status,
                placed_at=placed,
                total=Decimal(0),
            )
        )
    Order.objects.bulk_create(made)
    lines = []
    saved = list(Order.objects.filter(source="test"))
    for order in saved:
        total = Decimal(0)
        for number in range(1, rng.randint(1, 3) + 1):
            price = Decimal(rng.choice(["0", "9.99", "10.01", "45.50", "100", "333.33"]))
            quantity = rng.randint(1, 2)
            total += price * quantity
            lines.append(
                OrderLine(
                    order=order,
                    line_number=number,
                    product="item",
                    category=rng.choice(CATEGORIES),
                    quantity=quantity,
                    unit_price=price,
                    amount=price * quantity,
                )
            )
        order.total = total
        order.refunded_amount = {
            "refunded": total,
            "partially_refunded": (total / 3).quantize(Decimal("0.01")),
        }.get(order.status, Decimal(0))
    OrderLine.objects.bulk_create(lines)
    Order.objects.bulk_update(saved, ["total", "refunded_amount"])


def services_customer_ids() -> list[int]:
    """Every customer's primary key."""
    from customers.models import Customer

    return list(Customer.objects.values_list("pk", flat=True))


def sales_state() -> list[tuple[object, ...]]:
    fields = ("month", "channel", "category", "orders", "revenue", "refunds", "customers")
    return sorted(SalesMonth.objects.values_list(*fields))


METRIC_FIELDS = (
    "customer_id",
    "orders_count",
    "gross_revenue",
    "refunds",
    "lifetime_value",
    "average_basket",
    "first_order_at",
    "last_order_at",
    "preferred_channel",
    "top_category",
    "recency_score",
    "frequency_score",
    "monetary_score",
    "segment",
)


def metrics_state() -> list[tuple[object, ...]]:
    return sorted(CustomerMetrics.objects.values_list(*METRIC_FIELDS))


@pytest.mark.parametrize(
    ("seed", "customers", "orders", "id_slice"),
    [(1, 23, 300, None), (2, 7, 40, None), (3, 61, 500, None), (3, 61, 500, 37)],
)
def test_sales_months_match_the_sql_rebuild(seed, customers, orders, id_slice, monkeypatch):
    """ID_SLICE: PostgreSQL reads the orders and lines in slices of that many ids (many slices,
    read ahead by a second thread), not the one slice this little data needs."""
    if id_slice:
        monkeypatch.setattr(analytics_arrays, "PG_SLICE", id_slice)
    random_orders(seed, customers, orders)
    analytics.sales_months_rebuild_sql()
    by_sql = sales_state()
    SalesMonth.objects.all().delete()
    assert analytics.sales_months_rebuild() == len(by_sql)
    assert sales_state() == by_sql
    # Every order is placed after 2025-12-31 15:00 UTC; those from 16:00 are January in Hong Kong.
    assert {str(row[0]) for row in by_sql} >= {"2026-01-01", "2026-02-01"}


@pytest.mark.parametrize(
    ("seed", "customers", "orders", "id_slice"),
    [(1, 23, 300, None), (4, 12, 90, None), (3, 61, 500, None), (4, 12, 90, 11)],
)
def test_scores_match_the_sql_rebuild_and_keep_the_segment_before(
    seed, customers, orders, id_slice, monkeypatch
):
    if id_slice:
        monkeypatch.setattr(analytics_arrays, "PG_SLICE", id_slice)
    random_orders(seed, customers, orders)
    now = timezone.now()
    with analytics.tuned():
        analytics.affinity_rebuild()
        analytics.scores_rebuild_sql(now=now)
    by_sql = metrics_state()
    # The movement is counted from what the last rebuild gave (rebuilt_segment), not from the
    # current segment (a refresh after a load may have changed it): change one stored
    # rebuilt_segment so that previous_segment shows it was read.
    before = dict(CustomerMetrics.objects.values_list("customer_id", "rebuilt_segment"))
    changed = next(iter(before))
    CustomerMetrics.objects.filter(customer_id=changed).update(rebuilt_segment="was-here")
    assert analytics.scores_rebuild(now=now) == len(by_sql)
    assert metrics_state() == by_sql
    previous = dict(CustomerMetrics.objects.values_list("customer_id", "previous_segment"))
    assert previous == before | {changed: "was-here"}
    assert all(row[0] == row[1] for row in CustomerMetrics.objects.values_list("segment", "rebuilt_segment"))
    # A refresh between nightly rebuilds (keep_previous) leaves both columns as they were, on both paths.
    CustomerMetrics.objects.filter(customer_id=changed).update(
        previous_segment="kept", rebuilt_segment="kept2"
    )
    kept = sorted(CustomerMetrics.objects.values_list("customer_id", "previous_segment", "rebuilt_segment"))
    with analytics.tuned():
        analytics.scores_rebuild_sql(now=now, keep_previous=True)
    assert (
        sorted(CustomerMetrics.objects.values_list("customer_id", "previous_segment", "rebuilt_segment"))
        == kept
    )
    analytics.scores_rebuild(now=now, keep_previous=True)
    assert (
        sorted(CustomerMetrics.objects.values_list("customer_id", "previous_segment", "rebuilt_segment"))
        == kept
    )
    assert metrics_state() == by_sql
    # A customer whose only order came through a channel no longer offered keeps that channel.
    assert "fax" in {row[8] for row in by_sql}


@pytest.mark.parametrize(("seed", "customers", "orders"), [(1, 23, 300), (5, 9, 60)])
def test_affinity_and_cohorts_match_the_sql_rebuild(seed, customers, orders):
    random_orders(seed, customers, orders)
    analytics.affinity_rebuild_sql()
    analytics.cohorts_rebuild_sql()
    affinity = sorted(CategoryAffinity.objects.values_list("customer_id", "category", "spend", "share"))
    cohorts = sorted(CohortMonth.objects.values_list("cohort", "month", "customers", "revenue"))
    assert affinity and cohorts
    CategoryAffinity.objects.all().delete()
    CohortMonth.objects.all().delete()
    with analytics.tuned():  # one rebuild: both read the orders once
        analytics.affinity_rebuild()
        analytics.cohorts_rebuild()
    assert (
        sorted(CategoryAffinity.objects.values_list("customer_id", "category", "spend", "share")) == affinity
    )
    assert sorted(CohortMonth.objects.values_list("cohort", "month", "customers", "revenue")) == cohorts
    assert "" not in {row[1] for row in affinity}


def test_a_rebuild_reads_the_orders_once_and_the_next_one_reads_them_again():
    random_orders(6, 8, 40)
    with analytics.tuned():
        first = analytics_arrays.orders_read()
        assert analytics_arrays.orders_read() is first
        with analytics.tuned():
            assert analytics_arrays.orders_read() is first
    with analytics.tuned():
        assert analytics_arrays.orders_read() is not first


def test_no_orders_writes_no_rows():
    assert analytics.sales_months_rebuild() == 0
    assert analytics.scores_rebuild(now=timezone.now()) == 0


@pytest.mark.parametrize("n", range(0, 13))
def test_ntile_gives_sql_bucket_sizes(n):
    buckets = analytics_arrays.ntile(np.arange(n, dtype=np.int64))
    sizes = [int((buckets == b).sum()) for b in range(1, 6)]
    # SQL: the first n % 5 buckets hold one row more, and ranks fill the buckets in order.
    assert sizes == [n // 5 + (1 if b < n % 5 else 0) for b in range(5)]
    assert list(buckets) == sorted(buckets)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two connections sharing a snapshot (PostgreSQL)"
)
def test_orders_and_lines_read_side_by_side_give_the_same_rows(monkeypatch):
    """A rebuild in a transaction of its own (the nightly job) reads the orders and the lines at the
    same time on two connections sharing its snapshot; the rows equal the SQL rebuild's."""
    random_orders(7, 19, 200)  # committed: this test runs outside a test transaction
    used = []
    side_by_side = columnar.read_side_by_side

    def spy(groups):
        found = side_by_side(groups)
        used.append(found is not None)
        return found

    monkeypatch.setattr(columnar, "read_side_by_side", spy)
    monkeypatch.setattr(analytics_arrays, "PG_SLICE", 29)
    analytics.sales_months_rebuild_sql()
    by_sql = sales_state()
    SalesMonth.objects.all().delete()
    with analytics.tuned():
        assert analytics.sales_months_rebuild() == len(by_sql)
    assert used == [True]
    assert sales_state() == by_sql
    # Inside a transaction that has already written, the reads go through the one connection.
    with analytics.tuned():
        SalesMonth.objects.all().delete()
        assert analytics.sales_months_rebuild() == len(by_sql)
    assert used == [True, False]
    assert sales_state() == by_sql


@pytest.mark.parametrize("offset", [0, 1 << 61])
def test_distinct_members_per_group_are_counted_once(offset):
    """Distinct orders or customers per cell; members below 0 (no customer) do not count; ids so
    large that the packed key would overflow take the lexsort path and count the same."""
    rng = np.random.default_rng(3)
    group, member = rng.integers(0, 50, 1000), rng.integers(-1, 300, 1000)
    member = np.where(member >= 0, member + offset, member)
    expected = [len(set(member[(group == g) & (member >= 0)].tolist())) for g in range(50)]
    assert analytics_arrays._distinct_per_group(group, 50, member).tolist() == expected


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="two connections sharing a snapshot (PostgreSQL)"
)
def test_the_affinity_read_ahead_is_used_only_while_the_rebuild_has_not_rewritten_it():
    """The stored affinity is read with the orders, for the top category of the scores; the nightly
    rebuild rewrites the affinity first, and then the scores must read the new one."""
    random_orders(8, 17, 150)
    now = timezone.now()
    with analytics.tuned():
        analytics.sales_months_rebuild_sql()  # the categories a read tries first
        analytics.affinity_rebuild_sql()
        analytics.scores_rebuild_sql(now=now)
    by_sql = metrics_state()
    assert {row[9] for row in by_sql} - {""}  # top categories to compare
    # Unchanged affinity: the scores use what was read with the orders.
    with analytics.tuned():
        analytics.scores_rebuild(now=now)
    assert metrics_state() == by_sql
    # Stale stored affinity (one customer's spend moved to another category), then the nightly
    # order: affinity first, scores after. The scores must see the rebuilt affinity.
    top = {row[0]: row[9] for row in by_sql}
    customer_id, category = next(
        (c, cat)
        for c, cat in CategoryAffinity.objects.order_by("customer_id", "category").values_list(
            "customer_id", "category"
        )
        if cat != top.get(c)
    )
    CategoryAffinity.objects.filter(customer_id=customer_id, category=category).update(spend=Decimal("99999"))
    with analytics.tuned():
        analytics.affinity_rebuild()
        analytics.scores_rebuild(now=now)
    assert metrics_state() == by_sql
