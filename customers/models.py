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
        indexes = [
            models.Index(fields=["placed_at"]),
            # A customer's orders by time (timeline, per-customer figures). It carries every
            # column the per-customer metrics read, so SQLite groups the orders by customer
            # straight from the index, without sorting or reading the table.
            models.Index(
                fields=["customer", "placed_at", "status", "channel", "total", "refunded_amount"],
                name="customers_order_customer_cov",
            ),
        ]

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
    segment movements can be reported without keeping history per customer; ``rebuilt_segment``
    is the segment the last nightly rebuild gave, kept while refreshes after a load change
    ``segment``, so that the next rebuild still counts the day's movements from there.
    """

    # No database constraint: the rows are derived from orders (whose customer is constrained) and
    # replaced wholesale by the nightly rebuild, where checking a million keys at commit took 5 s
    # (bench/README.md); deleting a customer still deletes its row (Django's cascade).
    customer = models.OneToOneField(
        Customer, primary_key=True, on_delete=models.CASCADE, related_name="metrics", db_constraint=False
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
    rebuilt_segment = models.CharField(max_length=30, blank=True, default="")
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


# --- privacy: collection, consent and direct marketing, access, processors (c2) ---------------------
# DPP1 collection statements and forms, Part 6A consent ledger and opt-out list, DPP4 access log
# and alerts, DPP2(3)/DPP4(2) processors. Rules live in customers.privacy (services) and
# customers.consent (who may be marketed to); these models only hold the records.

from django.conf import settings as _settings  # noqa: E402


class CollectedField(models.TextChoices):
    """Items a collection form may ask for. HKID only when the collection policy allows it."""

    GIVEN_NAME = "given_name", "Given name"
    FAMILY_NAME = "family_name", "Family name"
    CHINESE_NAME = "chinese_name", "Chinese name"
    EMAIL = "email", "E-mail address"
    PHONE = "phone", "Phone number"
    ADDRESS = "address_line", "Delivery address"
    DISTRICT = "district", "District"
    HKID = "hkid", "HKID number"


class CollectionChannel(models.TextChoices):
    WEB = "web", "Web shop"
    APP = "app", "Mobile app"
    STORE = "store", "Retail store (paper or tablet)"
    PHONE = "phone", "Phone"
    EVENT = "event", "Event or roadshow"


class CollectionStatement(StewardModel):
    """A Personal Information Collection Statement (DPP1(3)): one row per version.

    ``items`` lists each collectable field with whether it is obligatory and what happens if it is
    not supplied. A published version is never changed (the model refuses it): a new version is a
    new row, so every collection record keeps pointing at the words the customer actually saw.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"

    version = models.PositiveIntegerField(unique=True)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    purposes = models.TextField(help_text="The purposes the data will be used for (DPP1(3)(b)(i)).")
    transferee_classes = models.TextField(help_text="Classes of persons the data may be transferred to.")
    items = models.JSONField(
        default=list, help_text='[{"field": "email", "obligatory": true, "consequence": "…"}, …]'
    )
    direct_marketing = models.TextField(
        blank=True,
        help_text="Part 6A notice: kinds of data and classes of marketing subjects, and the free "
        "channel to say no (s35C).",
    )
    access_contact = models.TextField(help_text="Whom to ask for access or correction (DPP1(3)(b)(ii)).")
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"PICS v{self.version}: {self.title}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding and self.pk:
            stored = CollectionStatement.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == self.Status.PUBLISHED:
                raise PermissionError("a published collection statement is never changed; add a new version")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.status == self.Status.PUBLISHED:
            raise PermissionError("a published collection statement is kept")
        return super().delete(*args, **kwargs)

    def item(self, field: str) -> dict[str, Any] | None:
        return next((i for i in self.items if i.get("field") == field), None)


class CollectionForm(StewardModel):
    """A form (web page, app screen, paper form) through which data is collected, under one PICS
    version; ``fields`` marks each item obligatory or voluntary."""

    name = models.CharField(max_length=200)
    channel = models.CharField(max_length=10, choices=CollectionChannel.choices)
    statement = models.ForeignKey(CollectionStatement, on_delete=models.PROTECT, related_name="forms")
    fields = models.JSONField(default=list, help_text='[{"field": "email", "obligatory": true}, …]')
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name


class CollectionRecord(StewardModel):
    """When, how and under which PICS version a customer's data was collected (DPP1)."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="collections")
    form = models.ForeignKey(
        CollectionForm, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    statement = models.ForeignKey(CollectionStatement, on_delete=models.PROTECT, related_name="records")
    channel = models.CharField(max_length=10, choices=CollectionChannel.choices)
    collected_at = models.DateTimeField()
    supplied = models.JSONField(default=list, help_text="The fields the customer supplied.")
    recorded_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-collected_at", "-id"]
        indexes = [models.Index(fields=["customer", "collected_at"])]

    def __str__(self) -> str:
        return f"Collected under PICS v{self.statement.version} on {self.collected_at:%Y-%m-%d}"


class CollectionPolicy(StewardModel):
    """Whether HKID numbers may be collected, and on what legal basis. Append-only: the latest row
    is in force, earlier rows are the history. No row at all means HKID is not collected (the
    PCPD code on identity card numbers: never compel one unless the law requires)."""

    hkid_enabled = models.BooleanField(default=False)
    legal_basis = models.CharField(max_length=500, blank=True)
    changed_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "collection policies"

    def __str__(self) -> str:
        return "HKID collected" if self.hkid_enabled else "HKID not collected"


class CustomerHkid(StewardModel):
    """A customer's HKID number, encrypted (Fernet, key STEWARD_FIELD_KEY); only the masked form
    (``A123***(*)``) is ever shown. Exists only when the collection policy allowed it."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="hkid")
    ciphertext = models.TextField(editable=False)
    masked = models.CharField(max_length=16)
    legal_basis = models.CharField(max_length=500)
    recorded_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    personal_data_fields: ClassVar[frozenset[str]] = frozenset({"ciphertext"})

    class Meta:
        verbose_name = "customer HKID"

    def __str__(self) -> str:
        return self.masked


class MarketingChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PHONE = "phone", "Phone call"
    POST = "post", "Post"


class DataKind(models.TextChoices):
    """Kinds of personal data a direct-marketing consent covers (s35C(2)(b)(i))."""

    CONTACT = "contact", "Name and contact details"
    PURCHASES = "purchases", "Purchase history"
    PREFERENCES = "preferences", "Preferences and interests"
    DEMOGRAPHICS = "demographics", "Age range and district"


class MarketingPurpose(StewardModel):
    """The purpose register: a class of marketing subjects (s35C), e.g. "offers on our own products"."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)

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


class Transferee(StewardModel):
    """A third party that receives customer data for its own direct marketing (s35J/35K), with the
    address opt-out notices are sent to (s35G)."""

    name = models.CharField(max_length=200)
    transferee_class = models.CharField(max_length=200, help_text="e.g. insurance partners")
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    email = models.EmailField(blank=True)
    postal_address = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AppendOnlyRows(models.QuerySet[Any]):
    """Ledger rows are added, never changed or removed through the ORM (the history is the point)."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the consent ledger is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the consent ledger is append-only")

    def restrict(self, user: Any, action: str = "view") -> AppendOnlyRows:
        from core.models import access_condition

        condition = access_condition(self.model, user, action)
        return self.none() if condition is None else self.filter(condition)


class ConsentEntry(StewardModel):
    """One line of the consent ledger: customer × purpose × kind of data × channel (× transferee).

    Append-only. A withdrawal is a new entry; the latest entry for a key is the current state.
    Each grant keeps the notice text shown and the PICS version, how consent was given (silence
    is never consent, so it is not a choice), when and from where. Transfers to a third party
    need written consent (s35K), enforced by the service.
    """

    class Action(models.TextChoices):
        GRANT = "grant", "Consent given"
        WITHDRAW = "withdraw", "Consent withdrawn"

    class Method(models.TextChoices):
        ONLINE_TICK = "online_tick", "Ticked a box on an online form"
        WRITTEN = "written", "In writing (signed form, letter, e-mail)"
        VERBAL_RECORDED = "verbal_recorded", "Verbally, with a recording"
        NO_OBJECTION = "no_objection", "Indicated no objection (s35C)"
        OPT_OUT = "opt_out", "Opt-out request"

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="consents")
    purpose = models.ForeignKey(MarketingPurpose, on_delete=models.PROTECT, related_name="entries")
    data_kind = models.CharField(max_length=14, choices=DataKind.choices)
    channel = models.CharField(max_length=8, choices=MarketingChannel.choices)
    transferee = models.ForeignKey(
        Transferee, null=True, blank=True, on_delete=models.PROTECT, related_name="entries"
    )
    for_gain = models.BooleanField(default=False, help_text="Transfer for gain (s35J(2)(a)(ii)).")
    action = models.CharField(max_length=8, choices=Action.choices)
    method = models.CharField(max_length=16, choices=Method.choices)
    notice_text = models.TextField(blank=True, help_text="The notice shown, as shown.")
    statement = models.ForeignKey(
        CollectionStatement, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    occurred_at = models.DateTimeField(db_index=True)
    source = models.CharField(max_length=200, help_text="Where it came from: form, call, letter.")
    evidence = models.CharField(max_length=300, blank=True, help_text="Recording id, scan reference.")
    recorded_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    objects = AppendOnlyRows.as_manager()  # type: ignore[assignment, misc]

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "consent entries"
        indexes = [models.Index(fields=["customer", "purpose", "channel", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_action_display()}: {self.purpose_id}/{self.channel}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("the consent ledger is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the consent ledger is append-only")


class SuppressionChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    SMS = "sms", "SMS"
    PHONE = "phone", "Phone call"
    POST = "post", "Post"
    ALL = "all", "All channels"


class Suppression(StewardModel):
    """The opt-out list (s35G): effective from ``occurred_at`` on one channel or all, checked before
    every marketing export or send. A later express consent on that channel lifts it
    (``lifted_at``); the row stays as history."""

    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="suppressions")
    channel = models.CharField(max_length=8, choices=SuppressionChannel.choices)
    occurred_at = models.DateTimeField()
    source = models.CharField(max_length=200)
    note = models.CharField(max_length=500, blank=True)
    recorded_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by_entry = models.ForeignKey(
        ConsentEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["customer", "channel"])]
        # Agents take opt-outs on calls (s35G: "at any time, free of charge") without the right to
        # read the opt-out list or the consent ledger that view/add_suppression would bring.
        permissions = [("record_phone_opt_out", "Record an opt-out the customer gives on a call")]

    def __str__(self) -> str:
        return f"Opt-out ({self.get_channel_display()})"


class TransfereeNotice(StewardModel):
    """A written notice to a third party that a customer opted out (s35G(3)): the letter is generated
    from this row; ``sent_at`` and ``sent_via`` record when and how it went."""

    class Via(models.TextChoices):
        EMAIL = "email", "E-mail"
        POST = "post", "Post"

    suppression = models.ForeignKey(Suppression, on_delete=models.PROTECT, related_name="notices")
    transferee = models.ForeignKey(Transferee, on_delete=models.PROTECT, related_name="notices")
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_via = models.CharField(max_length=6, choices=Via.choices, blank=True)
    sent_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["suppression", "transferee"], name="customers_notice_once"),
        ]

    def __str__(self) -> str:
        return f"Opt-out notice to {self.transferee}"


class MarketingState(StewardModel):
    """Per-customer direct-marketing facts: the s35D transitional flag (data used for direct
    marketing before 1 April 2013, for the purposes named) and the s35F first-use notice."""

    customer = models.OneToOneField(Customer, on_delete=models.CASCADE, related_name="marketing_state")
    pre_2013_data = models.BooleanField(
        default=False, help_text="Used for direct marketing before 1 April 2013 (s35D)."
    )
    pre_2013_purposes = models.ManyToManyField(MarketingPurpose, blank=True, related_name="+")
    first_notice_at = models.DateTimeField(
        null=True, blank=True, help_text="s35F opt-out notice at first use."
    )
    first_notice_channel = models.CharField(max_length=8, choices=MarketingChannel.choices, blank=True)

    def __str__(self) -> str:
        return f"Marketing state of customer {self.customer_id}"


class MarketingExport(StewardModel):
    """A list of marketable customers taken out of Steward (a file) or sent to (a campaign): who,
    when, for which channel, purpose and transferee. A send keeps one line per customer (with the
    s35F first-use flag); the customers of a file are in the audit trail and the access log."""

    class Kind(models.TextChoices):
        EXPORT = "export", "File export"
        SEND = "send", "Campaign send"

    kind = models.CharField(max_length=6, choices=Kind.choices)
    channel = models.CharField(max_length=8, choices=MarketingChannel.choices)
    purpose = models.ForeignKey(MarketingPurpose, on_delete=models.PROTECT, related_name="+")
    transferee = models.ForeignKey(
        Transferee, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_format = models.CharField(max_length=4, blank=True)
    subject = models.CharField(max_length=200, blank=True)
    message = models.TextField(blank=True)
    opt_out_notice = models.TextField(blank=True, help_text="The s35F opt-out notice included.")
    requested = models.PositiveIntegerField(default=0, help_text="Customers asked for.")
    included = models.PositiveIntegerField(default=0, help_text="Customers left after consent checks.")
    created_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customers: models.ManyToManyField[Customer, MarketingExportLine] = models.ManyToManyField(
        Customer, through="MarketingExportLine", related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk} ({self.included} customers)"


class MarketingExportLine(models.Model):
    export = models.ForeignKey(MarketingExport, on_delete=models.CASCADE, related_name="lines")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    first_use = models.BooleanField(default=False, help_text="Carried the s35F first-use notice.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["export", "customer"], name="customers_exportline_once"),
        ]

    def __str__(self) -> str:
        return f"Customer {self.customer_id} in {self.export_id}"


class CustomerAccess(models.Model):
    """The access log (DPP4): one row per customer per audited read or export, indexed from the
    audit trail (``customers.access_log``) so that "who read this customer, and why" and "what did
    this user read" are plain queries. The audit trail stays the record; this is its index."""

    audit_seq = models.BigIntegerField(db_index=True)
    customer_id = models.BigIntegerField(db_index=True)
    actor_id = models.BigIntegerField(null=True, db_index=True)
    actor_username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=16)
    purpose = models.CharField(max_length=200, blank=True)
    occurred_at = models.DateTimeField(db_index=True)

    objects = models.Manager()

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["actor_id", "occurred_at"])]
        verbose_name_plural = "customer accesses"

    def __str__(self) -> str:
        return f"{self.action} customer {self.customer_id} by {self.actor_username}"


class AccessLogCursor(models.Model):
    """How far the access log has indexed the audit trail (a single row, locked while indexing)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"indexed up to #{self.last_seq}"


class AccessAlert(StewardModel):
    """One user read more customer records in an hour or a day than the configured threshold."""

    class Window(models.TextChoices):
        HOUR = "hour", "Hour"
        DAY = "day", "Day"

    user = models.ForeignKey(_settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    window = models.CharField(max_length=4, choices=Window.choices)
    window_start = models.DateTimeField()
    reads = models.PositiveIntegerField()
    threshold = models.PositiveIntegerField()
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-window_start", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "window", "window_start"], name="customers_alert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.reads} reads in the {self.window} from {self.window_start:%Y-%m-%d %H:%M}"


class ModelClauses(models.TextChoices):
    """PCPD's recommended model contractual clauses (May 2022) for cross-border transfers."""

    NONE = "none", "None (kept in Hong Kong)"
    USER_TO_USER = "user_to_user", "PCPD 2022 model clauses: data user to data user"
    USER_TO_PROCESSOR = "user_to_processor", "PCPD 2022 model clauses: data user to data processor"
    OTHER = "other", "Other contractual clauses"


class Processor(StewardModel):
    """A vendor that processes customer data for us (DPP2(3), DPP4(2)): the register lines through
    which it receives personal data, the contract clause that binds it, where the data is kept and
    the transfer clauses used, and its security checklist."""

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="+")
    data_flows = models.ManyToManyField("vendors.DataFlow", blank=True, related_name="+")
    processing = models.CharField(max_length=300, help_text="What it does with the data.")
    contract_clause = models.CharField(
        max_length=300, help_text="The clause that limits retention and requires security (DPP2(3), DPP4(2))."
    )
    location = models.CharField(max_length=100, default="Hong Kong")
    model_clauses = models.CharField(max_length=20, choices=ModelClauses.choices, default=ModelClauses.NONE)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["vendor_id", "id"]

    def __str__(self) -> str:
        return f"Processor {self.pk}: {self.processing}"

    @property
    def cross_border(self) -> bool:
        return self.location.strip().lower() not in {"hong kong", "hk", "hong kong sar"}


class ChecklistItem(models.TextChoices):
    """The processor security checklist (DPP4(2) and PCPD's guidance on outsourcing)."""

    ACCESS_CONTROL = "access_control", "Access limited to named staff, least privilege"
    ENCRYPTION_TRANSIT = "encryption_transit", "Encrypted in transit"
    ENCRYPTION_REST = "encryption_rest", "Encrypted at rest"
    CONFIDENTIALITY = "confidentiality", "Staff bound by confidentiality and trained"
    SUBPROCESSING = "subprocessing", "No sub-processing without our written consent"
    RETENTION = "retention", "Erased or returned when no longer needed (DPP2(3))"
    INCIDENTS = "incidents", "Incidents reported to us promptly"
    AUDIT = "audit", "We may audit or inspect"
    NO_OTHER_USE = "no_other_use", "No use for any other purpose"


class ProcessorCheck(StewardModel):
    """One answered checklist item, with its evidence and the date of that evidence."""

    class Answer(models.TextChoices):
        YES = "yes", "Yes"
        PARTLY = "partly", "Partly"
        NO = "no", "No"
        NOT_APPLICABLE = "na", "Not applicable"

    processor = models.ForeignKey(Processor, on_delete=models.CASCADE, related_name="checks")
    item = models.CharField(max_length=20, choices=ChecklistItem.choices)
    answer = models.CharField(max_length=6, choices=Answer.choices)
    evidence = models.CharField(max_length=500, blank=True)
    evidence_date = models.DateField(null=True, blank=True)
    answered_by = models.ForeignKey(
        _settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["processor_id", "item"]
        constraints = [
            models.UniqueConstraint(fields=["processor", "item"], name="customers_processor_item_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_item_display()}: {self.get_answer_display()}"


class ExchangeCustomer(models.Model):
    """Which customers one outgoing exchange under the information-exchange register carried
    (``vendors.DataExchange``). The register logs batches; these rows say whose data was in each,
    so that a correction goes only to the third parties that received *that* customer's data in
    the previous 12 months (DPP6, s23(1)(c)). Written in bulk, read by the privacy services."""

    exchange = models.ForeignKey("vendors.DataExchange", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["exchange", "customer"], name="customers_exchange_customer_once"),
        ]
        # The correction notice asks "which exchanges carried this customer": customer first.
        indexes = [models.Index(fields=["customer", "exchange"])]

    def __str__(self) -> str:
        return f"Customer {self.customer_id} in exchange {self.exchange_id}"
