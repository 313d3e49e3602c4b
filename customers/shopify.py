"""Shopify order webhooks (``orders/create``, ``orders/updated``, ``orders/paid``…).

Shopify signs each delivery: ``X-Shopify-Hmac-Sha256`` is the base64 HMAC-SHA256 of the raw
request body with the app's shared secret (``STEWARD_SHOPIFY_WEBHOOK_SECRET``). The body must
be verified before it is parsed; the comparison is constant-time.

``order_records`` maps Shopify's order payload onto Steward's customer and order records, which
then go through the same checks and bulk path as every other way in
(:mod:`customers.importing`). Shopify's ids make replays harmless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal, InvalidOperation
from typing import Any

from customers.models import Channel, Order

SOURCE = "shopify"

# Shopify's source_name -> our channel. Anything else (a sales channel app) counts as the web shop.
_CHANNELS = {
    "web": Channel.WEB,
    "pos": Channel.STORE,
    "iphone": Channel.APP,
    "android": Channel.APP,
    "shopify_draft_order": Channel.PHONE,
}


class MalformedPayload(ValueError):
    """The body is JSON but not a Shopify order: names the field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def signature(body: bytes, secret: str) -> str:
    """The X-Shopify-Hmac-Sha256 value Shopify would send for BODY."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def verify(body: bytes, header: str | None, secret: str) -> bool:
    """Whether HEADER is the base64 HMAC-SHA256 of the raw BODY with SECRET (constant-time)."""
    if not header or not secret:
        return False
    return hmac.compare_digest(
        signature(body, secret).encode("ascii"), header.strip().encode("ascii", "replace")
    )


def _status(payload: dict[str, Any]) -> str:
    if payload.get("cancelled_at"):
        return Order.Status.CANCELLED
    financial = payload.get("financial_status") or ""
    if financial == "refunded":
        return Order.Status.REFUNDED
    if financial == "partially_refunded":
        return Order.Status.PARTIALLY_REFUNDED
    if financial == "voided":
        return Order.Status.CANCELLED
    if payload.get("fulfillment_status") == "fulfilled":
        return Order.Status.FULFILLED
    if financial == "paid":
        return Order.Status.PAID
    return Order.Status.PLACED


def _refunded(payload: dict[str, Any]) -> str:
    """Sum of successful refund transactions (Shopify's ``refunds[].transactions[]``)."""
    total = Decimal(0)
    refunds = payload.get("refunds") or []
    if not isinstance(refunds, list):
        raise MalformedPayload("refunds", "must be a list")
    for index, refund in enumerate(refunds):
        transactions = refund.get("transactions") if isinstance(refund, dict) else None
        if not isinstance(transactions, list):
            raise MalformedPayload(f"refunds.{index}.transactions", "must be a list")
        for transaction in transactions:
            if not isinstance(transaction, dict):
                raise MalformedPayload(f"refunds.{index}.transactions", "must hold objects")
            if (
                transaction.get("kind", "refund") != "refund"
                or transaction.get("status", "success") != "success"
            ):
                continue
            try:
                total += Decimal(str(transaction.get("amount", "0")))
            except InvalidOperation:
                raise MalformedPayload(f"refunds.{index}.transactions.amount", "is not an amount") from None
    return str(total)


def _id(value: Any, field: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise MalformedPayload(field, "is required (Shopify's numeric id)")
    return str(value)


def order_records(payload: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(customer record or None, order record) in Steward's shape, from a Shopify order payload."""
    if not isinstance(payload, dict):
        raise MalformedPayload("body", "must be a Shopify order object")
    order_id = _id(payload.get("id"), "id")
    items = payload.get("line_items")
    if not isinstance(items, list) or not items:
        raise MalformedPayload("line_items", "an order needs at least one line item")
    customer_record: dict[str, Any] | None = None
    customer = payload.get("customer")
    if customer is not None and not isinstance(customer, dict):
        raise MalformedPayload("customer", "must be an object")
    if customer:
        address = customer.get("default_address") or {}
        if not isinstance(address, dict):
            address = {}
        customer_record = {
            "external_id": _id(customer.get("id"), "customer.id"),
            "given_name": customer.get("first_name") or "",
            "family_name": customer.get("last_name") or "",
            # Shopify's customer may lack contact details that the order itself carries.
            "email": customer.get("email") or payload.get("email") or "",
            "phone": customer.get("phone") or payload.get("phone") or "",
            "address_line": " ".join(str(p) for p in (address.get("address1"), address.get("address2")) if p),
            "district": address.get("city") or "",
            "country": address.get("country_code") or "HK",
            "first_seen_at": customer.get("created_at") or payload.get("created_at"),
        }
    lines = []
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise MalformedPayload(f"line_items.{index}", "must be an object")
        lines.append(
            {
                "sku": item.get("sku") or "",
                "product": item.get("title") or item.get("name") or "",
                "category": item.get("product_type") or "",
                "quantity": item.get("quantity"),
                "unit_price": item.get("price"),
            }
        )
    order_record = {
        "external_id": order_id,
        "customer_id": customer_record["external_id"] if customer_record else "",
        "channel": _CHANNELS.get(str(payload.get("source_name") or "web"), Channel.WEB),
        "status": _status(payload),
        "placed_at": payload.get("created_at"),
        "currency": payload.get("currency") or "",
        "total": payload.get("total_price"),
        "refunded_amount": _refunded(payload),
        "lines": lines,
    }
    return customer_record, order_record
