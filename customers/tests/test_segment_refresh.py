"""Named segments stay current (issue 7 item 4): an order import, API load or shop webhook
re-evaluates every segment for the customers it touched, right after it commits, and records the
segment movements as the nightly rebuild does; editing a segment's filters recomputes it in full."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.testing.personas import assert_outsider_blocked
from core.testing.problems import assert_problem, nothing_written
from customers import analytics, services
from customers.models import Customer, CustomerMetrics, Segment, SegmentMembership, SegmentMovement
from customers.tests.sales_helpers import Caller, customer, person

pytestmark = pytest.mark.django_db


def line(category: str, price: str) -> dict:
    return {"product": f"{category} item", "category": category, "quantity": 1, "unit_price": price}


def buy(external_id: str, who: str, when: str, price: str, **extra: object) -> dict:
    return {
        "external_id": external_id,
        "customer_id": who,
        "placed_at": when,
        "lines": [line("Fashion", price)],
    } | extra


def c5_orders(**extra: object) -> list[dict]:
    return [buy(f"O-5-{n}", "C-5", f"2026-05-1{n}T12:00:00+08:00", "500", **extra) for n in range(5)]


@pytest.fixture
def sales():
    """Five customers ranked 1..5 on recency, frequency and value (customer i orders i times), two
    segments, and nightly rebuilds: C-1 is "lost", C-4 and C-5 are "champions"."""
    loader = person("crm_staff", "loader")
    services.sales_records_load(
        actor=loader,
        kind="customers",
        records=[customer(f"C-{i}", district="Sha Tin" if i % 2 else "Tai Po") for i in range(1, 6)],
    )
    orders = [
        buy(f"O-{i}-{n}", f"C-{i}", f"2026-0{i}-1{n}T12:00:00+08:00", f"{100 * i}")
        for i in range(1, 5)
        for n in range(i)
    ] + c5_orders()
    services.sales_records_load(actor=loader, kind="orders", records=orders)
    marketing = person("marketing")
    services.segment_create(actor=marketing, name="Best", filters={"r_min": 4, "m_min": 4})
    services.segment_create(actor=marketing, name="Champions", filters={"segment": "champions"})
    for _night in range(2):  # two nightly rebuilds: the last one saw nobody move
        services.customer_metrics_rebuild(actor=loader)
    return loader


def members(name: str) -> set[str]:
    return set(
        Customer.objects.filter(segment_memberships__segment__name=name).values_list("external_id", flat=True)
    )


def movements() -> dict[tuple[str, str], int]:
    return {(m.from_segment, m.to_segment): m.customers for m in SegmentMovement.objects.all()}


def import_orders(client, records: list[dict], capture) -> None:
    with capture(execute=True) as queued:
        response = Caller(client, person("crm_staff", "crm"))(
            "post", "/api/v1/customers/orders/bulk", {"records": records}
        )
    assert response.status_code == 200, response.content
    assert queued  # the refresh runs after the load commits, not inside its transaction


def test_an_imported_order_moves_a_customer_into_a_segment_at_once(
    sales, client, django_capture_on_commit_callbacks
):
    assert members("Best") == {"C-4", "C-5"} and "C-1" not in members("Champions")
    assert all(was == now for was, now in movements())  # nobody moved at the last rebuild
    before = Segment.objects.get(name="Best").refreshed_at
    comeback = [buy(f"O-1-new{n}", "C-1", f"2026-07-0{n + 1}T12:00:00+08:00", "9000") for n in range(6)]
    import_orders(client, comeback, django_capture_on_commit_callbacks)
    # No nightly rebuild ran: the refresh after the import placed C-1 and updated the segments.
    assert CustomerMetrics.objects.get(customer__external_id="C-1").segment == "champions"
    assert members("Best") == {"C-1", "C-4", "C-5"}
    assert members("Champions") == {"C-1", "C-4", "C-5"}
    best = Segment.objects.get(name="Best")
    assert best.member_count == 3 and best.refreshed_at is not None and before is not None
    assert best.refreshed_at > before
    # The movement is recorded as the nightly job records it: lost → champions, one customer.
    assert movements()[("lost", "champions")] == 1


def test_an_imported_cancellation_moves_a_customer_out(sales, client, django_capture_on_commit_callbacks):
    assert "C-5" in members("Champions")
    import_orders(client, c5_orders(status="cancelled"), django_capture_on_commit_callbacks)
    assert members("Champions") == {"C-4"} and Segment.objects.get(name="Champions").member_count == 1
    assert "C-5" not in members("Best")
    # C-5 has no live order left: no metrics, so no longer among the movements either.
    assert sum(movements().values()) == CustomerMetrics.objects.count() == 4


def test_a_refresh_leaves_the_members_a_full_refresh_would(sales, client, django_capture_on_commit_callbacks):
    Segment.objects.filter(name="Best").update(filters={"r_min": 3, "f_max": 4, "district": "Sha Tin"})
    analytics.segments_refresh(now=timezone.now())
    # One customer of five touched: the refresh re-evaluates only them (the others keep their scores).
    import_orders(
        client,
        [buy("O-1-late", "C-1", "2026-08-01T12:00:00+08:00", "50")],
        django_capture_on_commit_callbacks,
    )
    refreshed = {name: members(name) for name in ("Best", "Champions")}
    analytics.segments_refresh(now=timezone.now())
    assert refreshed == {name: members(name) for name in ("Best", "Champions")}
    assert refreshed["Best"] == {"C-1", "C-3"} and "C-1" not in refreshed["Champions"]


def test_the_nightly_rebuild_still_counts_the_days_movements(
    sales, client, django_capture_on_commit_callbacks
):
    comeback = [buy(f"O-1-new{n}", "C-1", f"2026-07-0{n + 1}T12:00:00+08:00", "9000") for n in range(6)]
    import_orders(client, comeback, django_capture_on_commit_callbacks)
    services.customer_metrics_rebuild(actor=sales)
    # C-1 moved during the day; the rebuild counts from the segment the previous rebuild gave.
    assert movements()[("lost", "champions")] == 1
    assert CustomerMetrics.objects.get(customer__external_id="C-1").rebuilt_segment == "champions"
    services.customer_metrics_rebuild(actor=sales)
    assert ("lost", "champions") not in movements()  # nothing moved between the two rebuilds


def test_editing_a_segments_filters_recomputes_it_in_full(sales, client):
    call = Caller(client, person("marketing", "marketer"))
    best = Segment.objects.get(name="Best")
    response = call("patch", f"/api/v1/customers/segments/{best.pk}", {"filters": {"district": "Tai Po"}})
    assert response.status_code == 200, response.content
    assert response.json()["member_count"] == 2 and members("Best") == {"C-2", "C-4"}
    assert response.json()["filters"] == {"district": "Tai Po"}


def test_a_bad_filter_is_refused_and_nothing_changes(sales, client):
    call = Caller(client, person("marketing", "marketer"))
    best = Segment.objects.get(name="Best")
    url = f"/api/v1/customers/segments/{best.pk}"
    with nothing_written(Segment, SegmentMembership):
        problem = assert_problem(call("patch", url, {"filters": {"r_min": 5, "r_max": 2}}), 422, kind="rule")
        assert "above the maximum" in str(problem)
        assert_problem(call("patch", url, {"filters": {"channel": "telepathy"}}), 422)
        assert_problem(call("patch", url, {"filters": {"m_min": 9}}), 422, kind="validation")
    best.refresh_from_db()
    assert best.filters == {"r_min": 4, "m_min": 4} and members("Best") == {"C-4", "C-5"}


def test_outsiders_cannot_trigger_refreshes_through_the_api(sales, client, outsider):
    best = Segment.objects.get(name="Best")
    SegmentMembership.objects.filter(segment=best).delete()  # stale on purpose: a refresh would fix it
    stamp = best.refreshed_at
    for method, url, body in (
        ("post", f"/api/v1/customers/segments/{best.pk}/refresh", None),
        ("patch", f"/api/v1/customers/segments/{best.pk}", {"filters": {"f_min": 1}}),
        ("post", "/api/v1/customers/metrics/rebuild", None),
        ("post", "/api/v1/customers/orders/bulk", {"records": c5_orders(status="cancelled")}),
    ):
        assert_outsider_blocked(client, outsider, method, url, body=body)
    # Marketing may read segments but not rebuild the metrics nor load orders.
    call = Caller(client, person("marketing", "marketer"))
    assert_problem(call("post", "/api/v1/customers/metrics/rebuild"), 403)
    assert_problem(call("post", "/api/v1/customers/orders/bulk", {"records": c5_orders()}), 403)
    best.refresh_from_db()
    assert best.refreshed_at == stamp and members("Best") == set()
    response = call("post", f"/api/v1/customers/segments/{best.pk}/refresh")
    assert response.status_code == 200 and response.json()["member_count"] == 2
    assert members("Best") == {"C-4", "C-5"}


def test_the_segment_page_shows_when_membership_was_refreshed_and_edits(sales, client):
    best = Segment.objects.get(name="Best")
    moment = timezone.now() - timedelta(days=3)
    Segment.objects.filter(pk=best.pk).update(refreshed_at=moment)
    client.force_login(person("marketing", "marketer"))
    page = client.get(f"/customers/segments/{best.pk}/").content.decode()
    shown = timezone.localtime(moment).strftime("%-d %b %Y %H:%M")
    assert "Membership last refreshed:" in page and f">{shown}</time>" in page
    response = client.post(f"/customers/segments/{best.pk}/", {"name": "Best", "district": "Tai Po"})
    assert response.status_code == 302 and members("Best") == {"C-2", "C-4"}
    page = client.post(f"/customers/segments/{best.pk}/", {"name": "Best", "r_min": "5", "r_max": "1"})
    assert "above the maximum" in page.content.decode() and members("Best") == {"C-2", "C-4"}
    client.post(f"/customers/segments/{best.pk}/", {"refresh": "1"})
    best.refresh_from_db()
    assert best.refreshed_at is not None and best.refreshed_at > moment
