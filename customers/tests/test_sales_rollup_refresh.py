"""Rollups refresh after an order import or webhook (issue 7 item 10): queued on commit, only the
months and customers touched, and the same figures a full rebuild gives for those."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from customers import reports, services
from customers.models import CategoryAffinity, CohortMonth, CustomerMetrics, Order, SalesMonth
from customers.shopify import signature
from customers.tests.sales_helpers import Caller, customer, person, shopify_order

pytestmark = pytest.mark.django_db


def line(category: str, price: str) -> dict:
    return {"product": f"{category} item", "category": category, "quantity": 1, "unit_price": price}


def buy(external_id: str, customer_id: str, placed_at: str, *lines: dict, **extra: object) -> dict:
    record = {"external_id": external_id, "customer_id": customer_id, "placed_at": placed_at}
    return record | {"lines": list(lines)} | extra


@pytest.fixture
def sales():
    """Twenty customers with orders in April and May 2026, rolled up by a full rebuild."""
    loader = person("crm_staff", "loader")
    services.sales_records_load(
        actor=loader, kind="customers", records=[customer(f"C-{i}") for i in range(1, 22)]
    )
    orders = [
        buy(f"A{i}", f"C-{i}", f"2026-04-{i:02d}T12:00:00+08:00", line("Fashion", f"{10 * i}"))
        for i in range(1, 21)
    ] + [
        buy(f"M{i}", f"C-{i}", f"2026-05-{i:02d}T12:00:00+08:00", line("Electronics", f"{5 * i}"))
        for i in range(1, 11)
    ]
    services.sales_records_load(actor=loader, kind="orders", records=orders)
    services.customer_metrics_rebuild(actor=loader)
    return loader


def months_state() -> list:
    fields = ("month", "channel", "category", "orders", "revenue", "refunds", "customers")
    return sorted(SalesMonth.objects.values_list(*fields))


def rollup_state() -> dict[str, list]:
    return {
        "months": months_state(),
        "cohorts": sorted(CohortMonth.objects.values_list("cohort", "month", "customers", "revenue")),
        "metrics": sorted(
            CustomerMetrics.objects.values_list(
                "customer_id",
                "orders_count",
                "gross_revenue",
                "refunds",
                "lifetime_value",
                "first_order_at",
                "last_order_at",
                "preferred_channel",
                "top_category",
            )
        ),
        "affinity": sorted(CategoryAffinity.objects.values_list("customer_id", "category", "spend", "share")),
    }


def month_total(month: date) -> SalesMonth:
    return SalesMonth.objects.get(month=month, channel="*", category="*")


def test_an_imported_order_shows_in_the_report_without_a_rebuild(
    sales, client, django_capture_on_commit_callbacks
):
    crm = person("crm_staff", "crm")
    marketing = person("marketing")
    june = reports.ReportFilter(start=date(2026, 6, 1), end=date(2026, 6, 1))
    assert reports.sales_report(user=marketing, filters=june).monthly == []
    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = Caller(client, crm)(
            "post",
            "/api/v1/customers/orders/bulk",
            {"records": [buy("J1", "C-21", "2026-06-03T12:00:00+08:00", line("Toys", "80"), channel="app")]},
        )
    assert response.status_code == 200, response.content
    assert queued  # the refresh was queued on commit, not run inside the request's transaction
    report = reports.sales_report(user=marketing, filters=june)
    assert [(r["month"], r["orders"], r["revenue"], r["new"]) for r in report.monthly] == [
        (date(2026, 6, 1), 1, Decimal("80.00"), 1)
    ]
    assert [(r["channel"], r["revenue"]) for r in report.by_channel] == [("app", Decimal("80.00"))]
    metrics = CustomerMetrics.objects.get(customer__external_id="C-21")
    assert (metrics.orders_count, metrics.lifetime_value) == (1, Decimal("80.00"))
    assert metrics.top_category == "Toys"
    client.force_login(marketing)
    assert "80.00" in client.get("/customers/reports/sales/?start=2026-06&end=2026-06").content.decode()


def test_only_touched_months_and_customers_change_and_they_match_a_full_rebuild(
    sales, django_capture_on_commit_callbacks
):
    # Mark an untouched month: a refresh of May must not recompute April.
    april = month_total(date(2026, 4, 1)).revenue
    SalesMonth.objects.filter(month=date(2026, 4, 1), channel="*", category="*").update(revenue=Decimal("1"))
    untouched = CustomerMetrics.objects.get(customer__external_id="C-15")
    CustomerMetrics.objects.filter(pk=untouched.pk).update(top_category="marked")
    with django_capture_on_commit_callbacks(execute=True):
        services.sales_records_load(
            actor=sales,
            kind="orders",
            records=[
                buy("M-new", "C-2", "2026-05-28T12:00:00+08:00", line("Fashion", "500"), line("Toys", "20")),
                # C-3's May order is cancelled after the fact: it leaves May.
                buy("M3", "C-3", "2026-05-03T12:00:00+08:00", line("Electronics", "15"), status="cancelled"),
            ],
        )
    assert month_total(date(2026, 4, 1)).revenue == Decimal("1")
    assert CustomerMetrics.objects.get(pk=untouched.pk).top_category == "marked"
    may = month_total(date(2026, 5, 1))
    assert (may.orders, may.revenue) == (10, Decimal("275.00") - Decimal("15.00") + Decimal("520.00"))
    two = CustomerMetrics.objects.get(customer__external_id="C-2")
    assert (two.orders_count, two.lifetime_value, two.top_category) == (3, Decimal("550.00"), "Fashion")
    refreshed = rollup_state()
    # Undo the marks; then a full rebuild must give exactly what the refresh left.
    SalesMonth.objects.filter(month=date(2026, 4, 1), channel="*", category="*").update(revenue=april)
    CustomerMetrics.objects.filter(pk=untouched.pk).update(top_category="Fashion")
    refreshed["months"] = months_state()
    refreshed["metrics"] = [m if m[0] != untouched.pk else (*m[:8], "Fashion") for m in refreshed["metrics"]]
    services.customer_metrics_rebuild(actor=sales)
    assert rollup_state() == refreshed


def test_scores_of_a_refreshed_customer_are_placed_against_everyone_else(
    sales, django_capture_on_commit_callbacks
):
    before = {m.customer_id: m.rfm for m in CustomerMetrics.objects.all()}
    with django_capture_on_commit_callbacks(execute=True):
        services.sales_records_load(
            actor=sales,
            kind="orders",
            records=[
                buy(f"B{n}", "C-20", f"2026-06-1{n}T12:00:00+08:00", line("Fashion", "900")) for n in range(3)
            ],
        )
    best = CustomerMetrics.objects.get(customer__external_id="C-20")
    assert (best.recency_score, best.frequency_score, best.monetary_score) == (5, 5, 5)
    assert best.segment == "champions"
    others = {m.customer_id: m.rfm for m in CustomerMetrics.objects.exclude(pk=best.pk)}
    # Everyone else keeps their scores until the nightly rebuild re-ranks all.
    assert others == {k: v for k, v in before.items() if k != best.pk}


def test_a_webhook_order_refreshes_its_month(sales, client, settings, django_capture_on_commit_callbacks):
    settings.STEWARD_SHOPIFY_WEBHOOK_SECRET = "shpss_refresh"
    raw = json.dumps(shopify_order()).encode("utf-8")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/customers/webhooks/shopify/orders",
            data=raw,
            content_type="application/json",
            HTTP_X_SHOPIFY_HMAC_SHA256=signature(raw, "shpss_refresh"),
            HTTP_X_SHOPIFY_TOPIC="orders/create",
            HTTP_X_SHOPIFY_WEBHOOK_ID="refresh-1",
        )
    assert response.status_code == 200, response.content
    order = Order.objects.get(source="shopify")
    november = month_total(date(2026, 11, 1))
    assert (november.orders, november.revenue) == (1, order.total)
    assert CustomerMetrics.objects.filter(customer=order.customer).exists()


def test_a_large_load_queues_the_full_rebuild_instead(sales, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(services, "ROLLUP_REFRESH_MAX_CUSTOMERS", 1)
    calls: list[str] = []
    original = services.customer_metrics_rebuild

    def full(**kwargs: object) -> dict[str, int]:
        calls.append("full")
        return original(**kwargs)

    monkeypatch.setattr(services, "customer_metrics_rebuild", full)
    with django_capture_on_commit_callbacks(execute=True):
        services.sales_records_load(
            actor=sales,
            kind="orders",
            records=[buy(f"L{i}", f"C-{i}", "2026-07-01T12:00:00+08:00", line("Toys", "10")) for i in (1, 2)],
        )
    assert calls == ["full"]
    assert month_total(date(2026, 7, 1)).orders == 2


def test_a_refused_load_queues_nothing(sales, django_capture_on_commit_callbacks):
    from django.core.exceptions import ValidationError

    with django_capture_on_commit_callbacks(execute=True) as queued, pytest.raises(ValidationError):
        services.sales_records_load(
            actor=sales,
            kind="orders",
            records=[buy("X1", "C-1", "2026-08-01T12:00:00+08:00", line("Toys", "-5"))],
        )
    assert not queued and not SalesMonth.objects.filter(month=date(2026, 8, 1)).exists()
