"""Online customer information (seed 003, issue 7): customers, orders, behavioural events.

Every record carries the ``source`` system and the source's own id (``external_id``) so that
a replayed import, API call or webhook never creates a duplicate: ``(source, external_id)`` is
unique. Money is HKD ``Decimal``; amounts in another currency are rejected at the door.

Personal data (PDPO) lives on :class:`Customer`; ``personal_data_fields`` names the fields
that are redacted in audit snapshots and masked for roles that may not see them.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q

from core.models import RestrictedQuerySet, StewardModel


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

# --- c1: ingest jobs, webhooks, preferences, segments, sales rollups ---------------------------


def import_path(instance: ImportJob, filename: str) -> str:
    """Uploaded import files are stored under a random name; the uploader's name is kept as data."""
    import uuid

    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "txt"
    return f"customers/imports/{uuid.uuid4().hex}.{extension}"


class ImportJob(StewardModel):
    """One NDJSON/CSV file of customers, orders or events, loaded by a Celery task (issue 7 item 1).

    ``mode`` decides what bad rows do: ``all_or_nothing`` loads nothing when any row is bad,
    ``keep_good`` loads the good rows and reports the others. ``errors`` holds the error
    report (line, field, message), downloadable as CSV.
    """

    class Kind(models.TextChoices):
        CUSTOMERS = "customers", "Customers"
        ORDERS = "orders", "Orders with lines"
        EVENTS = "events", "Behavioural events"

    class Format(models.TextChoices):
        NDJSON = "ndjson", "NDJSON (one JSON object a line)"
        CSV = "csv", "CSV"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing"
        KEEP_GOOD = "keep_good", "Keep the good rows"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        DONE_WITH_ERRORS = "done_with_errors", "Done, some rows refused"
        REJECTED = "rejected", "Rejected, nothing loaded"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    file_format = models.CharField(max_length=8, choices=Format.choices)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    source = models.CharField(max_length=40, default="steward")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)
    file = models.FileField(upload_to=import_path, max_length=300)
    original_name = models.CharField(max_length=255)
    size = models.PositiveBigIntegerField(default=0)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_rows = models.PositiveIntegerField(default=0)
    existing_rows = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk} ({self.get_kind_display()}, {self.original_name})"

    @property
    def percent(self) -> int:
        if self.status in {self.Status.DONE, self.Status.DONE_WITH_ERRORS, self.Status.REJECTED}:
            return 100
        return int(100 * self.processed_rows / self.total_rows) if self.total_rows else 0

    @property
    def finished(self) -> bool:
        return self.status not in {self.Status.QUEUED, self.Status.RUNNING}

    @classmethod
    def scope_for(cls, user: Any, action: str) -> Q | None:
        # Each person follows their own imports; administrators and the DPO see every one.
        if user.is_superuser or user.has_role("administrator", "data_protection_officer"):
            return Q()
        return Q(created_by_id=user.pk)


class WebhookDelivery(StewardModel):
    """One accepted webhook delivery, by the platform's delivery id: a retried delivery is
    recognised and answered without doing the work again (the order's own id makes the
    work harmless anyway)."""

    source = models.CharField(max_length=40)
    delivery_id = models.CharField(max_length=100)
    topic = models.CharField(max_length=60)
    object_external_id = models.CharField(max_length=100, blank=True)
    deliveries = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "delivery_id"], name="customers_webhook_delivery_once"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.topic} {self.delivery_id}"


class CustomerMetrics(models.Model):
    """Computed preferences and value of one customer (issue 7 item 4), rebuilt set-based.

    RFM: recency, frequency and monetary quintiles (1 = lowest fifth, 5 = highest) by NTILE
    over every customer with an order. Lifetime value is net of refunds; cancelled orders
    do not count. ``previous_segment`` is the RFM segment before the last rebuild, so that
    segment movements can be reported without keeping history per customer.
    """

    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="metrics"
    )
    orders_count = models.PositiveIntegerField()
    gross_revenue = models.DecimalField(max_digits=16, decimal_places=2)
    refunds = models.DecimalField(max_digits=16, decimal_places=2)
    lifetime_value = models.DecimalField(max_digits=16, decimal_places=2)
    average_basket = models.DecimalField(max_digits=14, decimal_places=2)
    first_order_at = models.DateTimeField()
    last_order_at = models.DateTimeField()
    preferred_channel = models.CharField(max_length=20, choices=Channel.choices)
    top_category = models.CharField(max_length=80, blank=True)
    recency_score = models.PositiveSmallIntegerField()
    frequency_score = models.PositiveSmallIntegerField()
    monetary_score = models.PositiveSmallIntegerField()
    segment = models.CharField(max_length=30)
    previous_segment = models.CharField(max_length=30, blank=True)
    computed_at = models.DateTimeField()

    objects = RestrictedQuerySet.as_manager()
    vendor_path: ClassVar[str | None] = None

    class Meta:
        verbose_name_plural = "customer metrics"
        indexes = [
            # Top customers: ORDER BY lifetime_value DESC, customer_id LIMIT n reads the index only.
            models.Index(fields=["-lifetime_value", "customer"], name="customers_metrics_ltv"),
            models.Index(fields=["segment"], name="customers_metrics_segment"),
        ]

    def __str__(self) -> str:
        return f"Metrics of customer {self.customer_id}"

    @property
    def rfm(self) -> str:
        return f"{self.recency_score}{self.frequency_score}{self.monetary_score}"


class CategoryAffinity(models.Model):
    """A customer's share of spend per product category (category affinity), rebuilt with the metrics."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="affinities")
    category = models.CharField(max_length=80)
    spend = models.DecimalField(max_digits=16, decimal_places=2)
    share = models.DecimalField(max_digits=5, decimal_places=4)

    objects = RestrictedQuerySet.as_manager()
    vendor_path: ClassVar[str | None] = None

    class Meta:
        ordering = ["customer_id", "-spend"]
        verbose_name_plural = "category affinities"
        constraints = [
            models.UniqueConstraint(fields=["customer", "category"], name="customers_affinity_once"),
        ]

    def __str__(self) -> str:
        return f"{self.category}: {self.share:.0%}"


class Segment(StewardModel):
    """A named group of customers defined by filters over their metrics and profile (issue 7 item 4).

    Membership is recomputed after every metrics rebuild, so a segment stays up to date.
    ``filters`` keys: r_min/r_max, f_min/f_max, m_min/m_max (1–5), category, channel,
    district, tier, segment, last_order_after/last_order_before (ISO dates).
    """

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)
    filters = models.JSONField(default=dict)
    member_count = models.PositiveIntegerField(default=0)
    refreshed_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class SegmentMembership(models.Model):
    """A customer in a segment as of the last refresh (rebuilt set-based, never edited by hand)."""

    segment = models.ForeignKey(Segment, on_delete=models.CASCADE, related_name="memberships")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="segment_memberships")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["segment", "customer"], name="customers_segment_member_once"),
        ]

    def __str__(self) -> str:
        return f"{self.customer_id} in {self.segment_id}"


ALL = "*"


class SalesMonth(models.Model):
    """Monthly sales rollup (issue 7 item 10): month (Hong Kong time) × channel × category.

    ``channel`` or ``category`` ``"*"`` rows hold the totals over all of them (orders and
    customers are distinct counts, so they cannot be summed from the finer rows). Revenue
    of a category is its line amounts; revenue of a channel or month is the order totals.
    Refunds are spread over an order's lines in proportion to their amounts. Cancelled
    orders are left out. Reports read this table, never the orders.
    """

    month = models.DateField()
    channel = models.CharField(max_length=20)
    category = models.CharField(max_length=80)
    orders = models.PositiveIntegerField()
    revenue = models.DecimalField(max_digits=18, decimal_places=2)
    refunds = models.DecimalField(max_digits=18, decimal_places=2)
    customers = models.PositiveIntegerField()

    objects = RestrictedQuerySet.as_manager()
    vendor_path: ClassVar[str | None] = None

    class Meta:
        ordering = ["month", "channel", "category"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "channel", "category"], name="customers_salesmonth_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.channel} {self.category}"


class CohortMonth(models.Model):
    """Customers of a monthly cohort (month of first order) who ordered in a later month."""

    cohort = models.DateField()
    month = models.DateField()
    customers = models.PositiveIntegerField()
    revenue = models.DecimalField(max_digits=18, decimal_places=2)

    objects = RestrictedQuerySet.as_manager()
    vendor_path: ClassVar[str | None] = None

    class Meta:
        ordering = ["cohort", "month"]
        constraints = [models.UniqueConstraint(fields=["cohort", "month"], name="customers_cohortmonth_once")]

    def __str__(self) -> str:
        return f"cohort {self.cohort:%Y-%m} in {self.month:%Y-%m}"


class SegmentMovement(models.Model):
    """How many customers moved from one RFM segment to another at the last metrics rebuild."""

    from_segment = models.CharField(max_length=30)
    to_segment = models.CharField(max_length=30)
    customers = models.PositiveIntegerField()

    objects = RestrictedQuerySet.as_manager()
    vendor_path: ClassVar[str | None] = None

    class Meta:
        ordering = ["from_segment", "to_segment"]

    def __str__(self) -> str:
        return f"{self.from_segment or 'new'} → {self.to_segment}: {self.customers}"
