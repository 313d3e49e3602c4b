"""A real Shopify orders/create payload with a valid HMAC creates the order once, however many
times it is delivered; a bad HMAC is refused (401) and the attempt is in the audit trail."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from core.models import AuditEvent
from core.testing.problems import assert_problem, nothing_written
from customers.models import Customer, Order, OrderLine, WebhookDelivery
from customers.shopify import signature
from customers.tests.sales_helpers import shopify_order

pytestmark = pytest.mark.django_db
URL = "/api/v1/customers/webhooks/shopify/orders"
SECRET = "shpss_test_4f1c0b7e9a"


@pytest.fixture(autouse=True)
def _secret(settings):
    settings.STEWARD_SHOPIFY_WEBHOOK_SECRET = SECRET


def deliver(client, payload, *, webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043", secret=SECRET, body=None):
    raw = body if body is not None else json.dumps(payload).encode("utf-8")
    return client.post(
        URL,
        data=raw,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=signature(raw, secret),
        HTTP_X_SHOPIFY_TOPIC="orders/create",
        HTTP_X_SHOPIFY_SHOP_DOMAIN="steward-demo.myshopify.com",
        HTTP_X_SHOPIFY_WEBHOOK_ID=webhook_id,
    )


def test_a_signed_order_creates_the_customer_order_and_lines(client):
    response = deliver(client, shopify_order())
    assert response.status_code == 200, response.content
    assert response.json() == {"order_id": "5621397840122", "duplicate": False, "created": True}
    order = Order.objects.get(source="shopify", external_id="5621397840122")
    assert order.total == Decimal("1118.00") and order.status == Order.Status.PAID
    assert order.channel == "web"
    assert order.placed_at.isoformat() == "2026-11-20T13:45:10+00:00"
    assert order.customer is not None
    assert (order.customer.external_id, order.customer.email, order.customer.phone) == (
        "7390128734529",
        "chan.taiman@gmail.com",
        "+85291234567",
    )
    lines = list(order.lines.values_list("sku", "category", "quantity", "amount"))
    assert lines == [
        ("SER-HYD-30", "Beauty & Skincare", 2, Decimal("778.00")),
        ("TEA-OOL-TIN", "Food & Beverage", 1, Decimal("300.00")),
    ]


def test_redelivery_and_a_new_delivery_of_the_same_order_create_it_once(client):
    payload = shopify_order()
    assert deliver(client, payload).json()["created"] is True
    again = deliver(client, payload)
    assert again.json() == {"order_id": "5621397840122", "duplicate": True, "created": False}
    other_delivery = deliver(client, payload, webhook_id="0e5a7c1d-retry")
    assert other_delivery.json()["created"] is False
    assert Order.objects.count() == 1 and OrderLine.objects.count() == 2 and Customer.objects.count() == 1
    assert WebhookDelivery.objects.get(delivery_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043").deliveries == 2


def test_a_refund_update_follows_the_order(client):
    deliver(client, shopify_order())
    payload = shopify_order()
    payload["financial_status"] = "partially_refunded"
    payload["refunds"] = [
        {"id": 1, "transactions": [{"id": 9, "kind": "refund", "status": "success", "amount": "300.00"}]}
    ]
    deliver(client, payload, webhook_id="refund-1")
    order = Order.objects.get()
    assert (order.status, order.refunded_amount) == (Order.Status.PARTIALLY_REFUNDED, Decimal("300.00"))


def test_a_bad_signature_is_refused_and_nothing_is_loaded(client):
    raw = json.dumps(shopify_order()).encode("utf-8")
    counts = (Order.objects.count(), Customer.objects.count(), WebhookDelivery.objects.count())
    response = deliver(client, None, body=raw, secret="not-the-secret")
    data = assert_problem(response, 401, kind="bad-signature")
    assert "signature" in data["detail"]
    assert (Order.objects.count(), Customer.objects.count(), WebhookDelivery.objects.count()) == counts
    # The refusal itself is the one row written: see the next test.
    assert AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_DENIED).count() == 1


def test_the_refusal_is_in_the_audit_trail(client):
    raw = json.dumps(shopify_order()).encode("utf-8")
    tampered = raw.replace(b'"1118.00"', b'"1.00"')
    response = client.post(
        URL,
        data=tampered,
        content_type="application/json",
        HTTP_X_SHOPIFY_HMAC_SHA256=signature(raw, SECRET),
        HTTP_X_SHOPIFY_WEBHOOK_ID="tampered-1",
    )
    assert_problem(response, 401)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_DENIED).get()
    assert event.object_type == "customers.webhookdelivery"
    assert event.changes["reason"] == "bad signature" and event.changes["webhook_id"] == "tampered-1"
    assert not Order.objects.exists()


def test_without_a_configured_secret_every_delivery_is_refused(client, settings):
    settings.STEWARD_SHOPIFY_WEBHOOK_SECRET = ""
    response = deliver(client, shopify_order(), secret="")
    assert_problem(response, 401)
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"currency": "USD"}, "currency"),
        ({"created_at": "2026-11-20T21:45:10"}, "placed_at"),
        ({"line_items": []}, "line_items"),
        ({"id": None}, "id"),
        ({"total_price": "lots"}, "total"),
    ],
)
def test_malformed_orders_are_refused_with_nothing_written(client, change, field):
    payload = {**shopify_order(), **change}
    with nothing_written(Order, Customer, WebhookDelivery):
        response = deliver(client, payload)
    data = assert_problem(response, 422)
    assert field in {e["field"] for e in data["errors"]}, data


def test_a_negative_quantity_is_refused(client):
    payload = shopify_order()
    payload["line_items"][0]["quantity"] = -1
    with nothing_written(Order, Customer, WebhookDelivery):
        response = deliver(client, payload)
    data = assert_problem(response, 422)
    assert "lines.0.quantity" in {e["field"] for e in data["errors"]}


def test_a_body_that_is_not_json_is_refused(client):
    with nothing_written(Order, Customer, WebhookDelivery):
        response = deliver(client, None, body=b"<xml/>")
    assert_problem(response, 422)
