"""Shared data for the data-protection tests (privacy requests, retention, quality, duplicates)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.utils import timezone

from customers.models import BehaviourEvent, Customer, Order, OrderLine

RECEIVED = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)  # 10:00 HKT on 1 October 2026


def make_customer(**fields) -> Customer:
    defaults = {
        "source": "shop",
        "external_id": f"C{Customer.objects.count() + 1:05d}",
        "given_name": "Siu Ming",
        "family_name": "Chan",
        "chinese_name": "陳小明",
        "email": "siuming.chan@example.hk",
        "phone": "+85291234567",
        "address_line": "Flat 12A, 8 Nathan Road",
        "district": "Yau Tsim Mong",
    }
    defaults.update(fields)
    return Customer.objects.create(**defaults)


def make_order(customer: Customer | None, placed_at: datetime, total: str = "480.00", ref: str = "") -> Order:
    order = Order.objects.create(
        source="shop",
        external_id=ref or f"O{Order.objects.count() + 1:05d}",
        customer=customer,
        placed_at=placed_at,
        total=Decimal(total),
    )
    OrderLine.objects.create(
        order=order,
        line_number=1,
        product="Oolong tea 150g",
        category="Tea",
        quantity=2,
        unit_price=Decimal(total) / 2,
        amount=Decimal(total),
    )
    return order


def make_event(customer: Customer | None, occurred_at: datetime, query: str = "") -> BehaviourEvent:
    return BehaviourEvent.objects.create(
        source="shop",
        external_id=f"E{BehaviourEvent.objects.count() + 1:06d}",
        customer=customer,
        kind=BehaviourEvent.Kind.SEARCH if query else BehaviourEvent.Kind.VIEW,
        occurred_at=occurred_at,
        query=query,
    )


def days_ago(days: int) -> datetime:
    return timezone.now() - timedelta(days=days)
