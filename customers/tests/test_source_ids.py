"""The source's own ids make replays harmless: the database refuses a second row with the same id."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from customers.models import Customer, Order

pytestmark = pytest.mark.django_db


def test_a_customer_id_from_one_source_exists_once():
    Customer.objects.create(source="shopify", external_id="C1", email="a@example.hk")
    with pytest.raises(IntegrityError), transaction.atomic():
        Customer.objects.create(source="shopify", external_id="C1", email="b@example.hk")
    Customer.objects.create(source="hktvmall", external_id="C1")
    assert Customer.objects.count() == 2


def test_orders_are_in_hong_kong_dollars_only():
    placed = datetime(2026, 10, 1, 4, tzinfo=UTC)
    Order.objects.create(external_id="O1", placed_at=placed, total=Decimal("10.00"))
    with pytest.raises(IntegrityError), transaction.atomic():
        Order.objects.create(external_id="O2", placed_at=placed, total=Decimal("10.00"), currency="USD")
    assert list(Order.objects.values_list("external_id", flat=True)) == ["O1"]
