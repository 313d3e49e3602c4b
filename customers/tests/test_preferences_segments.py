"""Preferences, RFM and segments (issue 7 item 4), computed set-based in SQL."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from core.models import AuditEvent
from core.testing.problems import assert_problem, nothing_written
from customers import services
from customers.models import CategoryAffinity, Customer, CustomerMetrics, Segment, SegmentMovement
from customers.tests.sales_helpers import Caller, customer, person

pytestmark = pytest.mark.django_db


def line(category: str, price: str, quantity: int = 1) -> dict:
    return {"product": f"{category} item", "category": category, "quantity": quantity, "unit_price": price}


def buy(external_id: str, who: str, when: str, lines: list, **extra) -> dict:
    return {"external_id": external_id, "customer_id": who, "placed_at": when, "lines": lines, **extra}


@pytest.fixture
def sales():
    """Five customers whose recency, frequency and spend rank them 1..5 on every axis."""
    loader = person("crm_staff", "loader")
    services.sales_records_load(
        actor=loader,
        kind="customers",
        records=[customer(f"C-{i}", district="Sha Tin" if i % 2 else "Tai Po") for i in range(1, 6)],
    )
    orders = []
    for i in range(1, 6):
        for n in range(i):  # customer i orders i times, later and bigger as i grows
            orders.append(
                buy(
                    f"O-{i}-{n}",
                    f"C-{i}",
                    f"2026-0{i}-1{n}T12:00:00+08:00",
                    [line("Fashion", f"{100 * i}")],
                    channel="app" if i >= 4 else "web",
                )
            )
    orders.append(
        buy(
            "O-5-x",
            "C-5",
            "2026-05-20T12:00:00+08:00",
            [line("Electronics", "900")],
            status="refunded",
            refunded_amount="900",
        )
    )
    orders.append(
        buy("O-5-c", "C-5", "2026-05-21T12:00:00+08:00", [line("Electronics", "5000")], status="cancelled")
    )
    services.sales_records_load(actor=loader, kind="orders", records=orders)
    services.customer_metrics_rebuild(actor=loader)
    return loader


def metrics(external_id: str) -> CustomerMetrics:
    return CustomerMetrics.objects.get(customer__external_id=external_id)


def test_rfm_quintiles_lifetime_value_and_preferences(sales):
    top, bottom = metrics("C-5"), metrics("C-1")
    assert (top.recency_score, top.frequency_score, top.monetary_score) == (5, 5, 5)
    assert (bottom.recency_score, bottom.frequency_score, bottom.monetary_score) == (1, 1, 1)
    assert top.segment == "champions" and bottom.segment == "lost"
    # Lifetime value is net of refunds and leaves cancelled orders out: 5 × 500 + 900 − 900.
    assert top.lifetime_value == Decimal("2500.00") and top.orders_count == 6
    assert top.average_basket == Decimal("566.67")  # (2500 + 900) / 6, gross basket
    assert top.preferred_channel == "app" and metrics("C-2").preferred_channel == "web"
    shares = dict(
        CategoryAffinity.objects.filter(customer__external_id="C-5").values_list("category", "share")
    )
    assert shares == {"Fashion": Decimal("0.7353"), "Electronics": Decimal("0.2647")}  # 2500 : 900
    assert top.top_category == "Fashion"


def test_segments_from_filters_stay_up_to_date_after_a_rebuild(sales, client):
    marketing = person("marketing")
    loyal = services.segment_create(actor=marketing, name="Best", filters={"r_min": 4, "m_min": 4})
    shatin = services.segment_create(
        actor=marketing, name="Sha Tin app", filters={"district": "Sha Tin", "channel": "app"}
    )
    assert loyal.member_count == 2 and shatin.member_count == 1
    # C-1 comes back with a big order: after the rebuild they move up and into the segment.
    services.sales_records_load(
        actor=sales,
        kind="orders",
        records=[
            buy(f"O-1-new{n}", "C-1", f"2026-07-0{n + 1}T12:00:00+08:00", [line("Fashion", "9000")])
            for n in range(6)
        ],
    )
    services.customer_metrics_rebuild(actor=sales)
    loyal.refresh_from_db()
    members = set(
        Customer.objects.filter(segment_memberships__segment=loyal).values_list("external_id", flat=True)
    )
    assert "C-1" in members and loyal.member_count == len(members)
    moved = SegmentMovement.objects.get(from_segment="lost")
    assert moved.to_segment == "champions" and moved.customers == 1


def test_segment_api_and_bad_filters(sales, client, outsider):
    call = Caller(client, person("marketing"))
    response = call(
        "post", "/api/v1/customers/segments", {"name": "Champions", "filters": {"segment": "champions"}}
    )
    assert response.status_code == 201 and response.json()["member_count"] == 2  # C-4 and C-5
    members = call("get", f"/api/v1/customers/segments/{response.json()['id']}/members").json()
    assert members["items"][0]["email"] == "c***@gmail.com"
    with nothing_written(Segment):
        bad = call("post", "/api/v1/customers/segments", {"name": "Bad", "filters": {"r_min": 5, "r_max": 2}})
        assert_problem(bad, 422, kind="rule")
        bad = call("post", "/api/v1/customers/segments", {"name": "Bad", "filters": {"r_min": 9}})
        assert_problem(bad, 422, kind="validation")
        bad = call("post", "/api/v1/customers/segments", {"name": "Champions", "filters": {}})
        assert_problem(bad, 422)
    from core.testing.personas import assert_outsider_blocked

    assert_outsider_blocked(client, outsider, "get", "/api/v1/customers/segments")
    assert_outsider_blocked(
        client, outsider, "post", "/api/v1/customers/segments", body={"name": "X", "filters": {}}
    )


def test_only_crm_staff_and_the_dpo_rebuild(sales, client):
    assert_problem(Caller(client, person("marketing"))("post", "/api/v1/customers/metrics/rebuild"), 403)
    response = Caller(client, person("crm_staff"))("post", "/api/v1/customers/metrics/rebuild")
    assert response.json()["customers"] == 5


def test_segment_export_is_masked_for_everyone_and_audited(sales, client):
    from openpyxl import load_workbook

    marketing = person("marketing")
    segment = services.segment_create(actor=marketing, name="All scored", filters={"f_min": 1})
    client.force_login(marketing)
    text = client.get(f"/customers/segments/{segment.pk}/export.csv").content.decode("utf-8-sig")
    assert "c***@gmail.com" in text and "chan.taiman@gmail.com" not in text and "+852 ****5678" in text
    export = AuditEvent.objects.get(action=AuditEvent.Action.EXPORT)
    assert export.purpose.startswith("segment analysis export") and export.changes["count"] == 5
    book = load_workbook(io.BytesIO(client.get(f"/customers/segments/{segment.pk}/export.xlsx").content))
    assert book.active is not None and book.active.max_row == 6
    # An export states one purpose for many customers, so even the DPO gets contacts masked.
    client.force_login(person("data_protection_officer"))
    assert (
        "chan.taiman@gmail.com"
        not in client.get(f"/customers/segments/{segment.pk}/export.csv").content.decode()
    )


def test_the_segments_page_creates_one(sales, client):
    client.force_login(person("marketing"))
    response = client.post("/customers/segments/", {"name": "Recent", "r_min": "4"})
    segment = Segment.objects.get(name="Recent")
    assert response.status_code == 302 and segment.member_count == 2
    page = client.post(
        "/customers/segments/", {"name": "Broken", "r_min": "5", "r_max": "1"}
    ).content.decode()
    assert "above the maximum" in page and not Segment.objects.filter(name="Broken").exists()


def test_the_command_rebuilds(sales):
    from django.core.management import call_command

    out = io.StringIO()
    call_command("rebuild_customer_metrics", stdout=out)
    assert out.getvalue().startswith("5 customers scored")
