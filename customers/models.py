"""Online customer information (seed 003, issue 7): customers, orders, behavioural events.

Every record carries the ``source`` system and the source's own id (``external_id``) so that
a replayed import, API call or webhook never creates a duplicate: ``(source, external_id)`` is
unique. Money is HKD ``Decimal``; amounts in another currency are rejected at the door.

Personal data (PDPO) lives on :class:`Customer`; ``personal_data_fields`` names the fields
that are redacted in audit snapshots and masked for roles that may not see them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from core.models import StewardModel


class Channel(models.TextChoices):
    """Where an order or event happened."""

    WEB = "web", "Web shop"
    APP = "app", "Mobile app"
    MARKETPLACE = "marketplace", "Marketplace (HKTVmall etc.)"
    SOCIAL = "social", "Social commerce"
    STORE = "store", "Retail store"
    PHONE = "phone", "Phone order"


class Customer(StewardModel):
    """An online customer. Names in English (romanised) and Chinese; phone in E.164 (+852…).

    Invalid e-mails and phone numbers are kept as given and flagged by the data-quality rules,
    never silently fixed. ``merged_into`` points at the surviving record after a reviewed merge.
    """

    class Tier(models.TextChoices):
        STANDARD = "standard", "Standard"
        SILVER = "silver", "Silver"
        GOLD = "gold", "Gold"
        VIP = "vip", "VIP"

    source = models.CharField(max_length=40, default="steward")
    external_id = models.CharField(max_length=100)
    given_name = models.CharField(max_length=100, blank=True)
    family_name = models.CharField(max_length=100, blank=True)
    chinese_name = models.CharField(max_length=50, blank=True)
    email = models.CharField(max_length=254, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    address_line = models.CharField(max_length=300, blank=True)
    district = models.CharField(max_length=60, blank=True)
    country = models.CharField(max_length=2, default="HK")
    tier = models.CharField(max_length=12, choices=Tier.choices, default=Tier.STANDARD)
    first_seen_at = models.DateTimeField(null=True, blank=True)
    merged_into = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    anonymised_at = models.DateTimeField(null=True, blank=True)

    personal_data_fields: ClassVar[frozenset[str]] = frozenset(
        {"given_name", "family_name", "chinese_name", "email", "phone", "address_line"}
    )

    class Meta:
        ordering = ["family_name", "given_name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="customers_customer_source_id"),
        ]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["phone"])]

    def __str__(self) -> str:
        name = " ".join(p for p in (self.given_name, self.family_name) if p)
        return name or self.chinese_name or f"Customer {self.external_id}"


class Order(StewardModel):
    """An online order in HKD. ``refunded_amount`` is the part of ``total`` given back."""

    class Status(models.TextChoices):
        PLACED = "placed", "Placed"
        PAID = "paid", "Paid"
        FULFILLED = "fulfilled", "Fulfilled"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    source = models.CharField(max_length=40, default="steward")
    external_id = models.CharField(max_length=100)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PLACED)
    placed_at = models.DateTimeField()
    currency = models.CharField(max_length=3, default="HKD")
    total = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))])
    refunded_amount = models.DecimalField(
        max_digits=14, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(Decimal(0))]
    )

    class Meta:
        ordering = ["-placed_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="customers_order_source_id"),
            models.CheckConstraint(condition=Q(currency="HKD"), name="customers_order_hkd"),
            models.CheckConstraint(condition=Q(total__gte=0), name="customers_order_total_not_negative"),
        ]
        indexes = [models.Index(fields=["placed_at"]), models.Index(fields=["customer", "placed_at"])]

    def __str__(self) -> str:
        return f"Order {self.external_id}"


class OrderLine(StewardModel):
    """One product line of an order."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_number = models.PositiveIntegerField()
    sku = models.CharField(max_length=80, blank=True)
    product = models.CharField(max_length=200)
    category = models.CharField(max_length=80, blank=True)
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))])

    class Meta:
        ordering = ["order_id", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_number"], name="customers_orderline_number"),
            models.CheckConstraint(
                condition=Q(quantity__gte=1), name="customers_orderline_quantity_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity}"


class BehaviourEvent(StewardModel):
    """A product view, add-to-cart or search sent by a shop, where it sends them."""

    class Kind(models.TextChoices):
        VIEW = "view", "Product view"
        CART = "cart", "Added to cart"
        SEARCH = "search", "Search"

    source = models.CharField(max_length=40, default="steward")
    external_id = models.CharField(max_length=100)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="events"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    channel = models.CharField(max_length=20, choices=Channel.choices, default=Channel.WEB)
    sku = models.CharField(max_length=80, blank=True)
    category = models.CharField(max_length=80, blank=True)
    query = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="customers_event_source_id"),
        ]
        indexes = [models.Index(fields=["customer", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.occurred_at:%Y-%m-%d}"


# --- privacy requests, retention, breaches, data quality, duplicates (c3) ---
from customers.privacy_models import (  # noqa: E402, F401  (registers them in this app)
    Breach,
    CorrectionNotice,
    CustomerMerge,
    DuplicateCandidate,
    PrivacyRequest,
    QualityIssue,
    QualityScore,
    RefusalLogEntry,
    RequestStep,
    RetentionRule,
    RetentionRun,
    SelfServiceLink,
)
