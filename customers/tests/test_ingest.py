"""Recording sales activity (issue 7 item 1): the bulk path, its rules, and replays.

Every way in ends in customers.importing.load; these tests go through the API and the service.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.testing.problems import assert_problem, error_fields, nothing_written
from customers import services
from customers.models import BehaviourEvent, Customer, Order, OrderLine
from customers.tests.sales_helpers import Caller, customer, order, person

pytestmark = pytest.mark.django_db
WATCHED = (Customer, Order, OrderLine, BehaviourEvent)


@pytest.fixture
def crm():
    return person("crm_staff")


def _load_customers(client, user, records, **extra):
    return Caller(client, user)("post", "/api/v1/customers/bulk", {"records": records, **extra})


def test_bulk_customers_then_orders_are_recorded_with_lines_and_amounts(client, crm):
    response = _load_customers(client, crm, [customer("C-1"), customer("C-2", email="")])
    assert response.status_code == 200, response.content
    assert response.json()["created"] == 2
    response = Caller(client, crm)(
        "post", "/api/v1/customers/orders/bulk", {"records": [order("O-1"), order("O-2", customer_id="C-2")]}
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"received": 2, "created": 2, "existing": 0, "refused": 0, "errors": []}
    o = Order.objects.get(external_id="O-1")
    assert o.customer is not None and o.customer.external_id == "C-1"
    assert o.total == Decimal("391.00")  # 2 × 45.50 + 300, computed from the lines
    assert o.placed_at.isoformat() == "2026-05-03T02:00:00+00:00"
    assert [(line.line_number, line.quantity, line.amount) for line in o.lines.all()] == [
        (1, 2, Decimal("91.00")),
        (2, 1, Decimal("300.00")),
    ]


def test_a_replayed_batch_creates_nothing_new_and_follows_status_and_refunds(client, crm):
    _load_customers(client, crm, [customer("C-1")])
    body = {"records": [order("O-1")]}
    Caller(client, crm)("post", "/api/v1/customers/orders/bulk", body)
    again = Caller(client, crm)("post", "/api/v1/customers/orders/bulk", body)
    assert again.json()["created"] == 0 and again.json()["existing"] == 1
    refunded = order("O-1", status="partially_refunded", refunded_amount="45.50")
    Caller(client, crm)("post", "/api/v1/customers/orders/bulk", {"records": [refunded]})
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 2
    assert Order.objects.get().refunded_amount == Decimal("45.50")


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        (order(currency="USD"), "records.0.currency", "HKD"),
        (order(placed_at="2026-05-03T10:00:00"), "records.0.placed_at", "time zone"),
        (
            order(lines=[{"product": "Tea", "quantity": -2, "unit_price": "10"}]),
            "records.0.lines.0.quantity",
            "at least 1",
        ),
        (
            order(lines=[{"product": "Tea", "quantity": 1, "unit_price": "-1"}]),
            "records.0.lines.0.unit_price",
            "negative",
        ),
        (order(lines=[]), "records.0.lines", "at least one line"),
        (order(refunded_amount="9999"), "records.0.refunded_amount", "more than"),
        (order(customer_id="nobody"), "records.0.customer_id", "no customer"),
    ],
)
def test_bad_orders_are_refused_with_the_field_named_and_nothing_written(client, crm, record, field, words):
    _load_customers(client, crm, [customer("C-1")])
    call = Caller(client, crm)
    with nothing_written(*WATCHED):
        response = call("post", "/api/v1/customers/orders/bulk", {"records": [order("GOOD"), record]})
    data = assert_problem(response, 422, kind="rule")
    field = field.replace("records.0", "records.1")
    assert field in error_fields(data), data
    assert words in " ".join(e["message"] for e in data["errors"])


def test_duplicate_ids_in_one_batch_are_refused(client, crm):
    _load_customers(client, crm, [customer("C-1")])
    call = Caller(client, crm)
    with nothing_written(*WATCHED):
        response = call("post", "/api/v1/customers/orders/bulk", {"records": [order("O-1"), order("O-1")]})
    data = assert_problem(response, 422)
    assert data["errors"] == [
        {"field": "records.1.external_id", "message": "'O-1' appears twice in this batch"}
    ]


def test_keep_good_rows_loads_the_good_and_reports_the_bad(client, crm):
    _load_customers(client, crm, [customer("C-1")])
    response = Caller(client, crm)(
        "post",
        "/api/v1/customers/orders/bulk",
        {
            "keep_good": True,
            "records": [order("O-1"), order("O-2", currency="EUR"), order("O-3", customer_id="ghost")],
        },
    )
    assert response.status_code == 200
    data = response.json()
    assert data["created"] == 1 and data["refused"] == 2
    assert {(e["line"], e["field"]) for e in data["errors"]} == {(2, "currency"), (3, "customer_id")}
    assert list(Order.objects.values_list("external_id", flat=True)) == ["O-1"]
    assert OrderLine.objects.count() == 2


def test_malformed_json_and_unknown_fields_are_refused(client, crm):
    call = Caller(client, crm)
    with nothing_written(*WATCHED):
        response = client.post(
            "/api/v1/customers/bulk", data="{not json", content_type="application/json", **call.headers
        )
        assert_problem(response, 400)
        response = call("post", "/api/v1/customers/bulk", {"records": [{**customer(), "hkid": "A123456(7)"}]})
        assert_problem(response, 422, kind="validation")


def test_invalid_email_and_phone_are_kept_as_given(client, crm):
    response = _load_customers(client, crm, [customer("C-9", email="chan at gmail", phone="12345")])
    assert response.status_code == 200
    stored = Customer.objects.get(external_id="C-9")
    assert (stored.email, stored.phone) == ("chan at gmail", "12345")


def test_events_are_recorded_once(client, crm):
    _load_customers(client, crm, [customer("C-1")])
    event = {
        "external_id": "E-1",
        "customer_id": "C-1",
        "kind": "view",
        "occurred_at": "2026-05-01T09:00:00Z",
        "sku": "TEA-1",
    }
    for _ in range(2):
        response = Caller(client, crm)("post", "/api/v1/customers/events/bulk", {"records": [event]})
        assert response.status_code == 200, response.content
    event_customer = BehaviourEvent.objects.get().customer
    assert event_customer is not None and event_customer.external_id == "C-1"


def test_an_anonymised_customer_is_not_revived_by_a_replay(crm):
    services.sales_records_load(actor=crm, kind="customers", records=[customer("C-1")])
    Customer.objects.filter(external_id="C-1").update(
        given_name="", family_name="", email="", anonymised_at="2026-06-01T00:00:00Z"
    )
    services.sales_records_load(actor=crm, kind="customers", records=[customer("C-1")])
    assert Customer.objects.get(external_id="C-1").email == ""


def test_single_order_endpoint_answers_201_then_200(client, crm):
    _load_customers(client, crm, [customer("C-1")])
    first = Caller(client, crm)("post", "/api/v1/customers/orders", order("O-1"))
    assert first.status_code == 201, first.content
    second = Caller(client, crm)("post", "/api/v1/customers/orders", order("O-1"))
    assert second.status_code == 200 and second.json()["existing"] == 1


def test_people_without_the_right_cannot_load(client, crm):
    marketing = person("marketing")
    no_role = person("auditor", "nobody.here")
    for user in (marketing, no_role):
        call = Caller(client, user)
        with nothing_written(*WATCHED):
            response = call("post", "/api/v1/customers/bulk", {"records": [customer("C-1")]})
        assert_problem(response, 403)


def test_outsider_is_blocked(client, outsider):
    call = Caller(client, outsider)
    with nothing_written(*WATCHED):
        response = call("post", "/api/v1/customers/bulk", {"records": [customer("C-1")]})
    assert_problem(response, 403)
    from core.testing.personas import assert_outsider_blocked

    assert_outsider_blocked(client, outsider, "get", "/api/v1/customers/")
