"""Data-protection records of the customers package (issue 7 items 6–8, PDPO).

- Privacy requests (DPP6, s18–s28): data access and correction requests with their 40-day
  clock, steps, refusal log book (s27, kept at least four years) and the notices of a
  correction sent to third parties who received the data in the previous 12 months.
- Retention (DPP2(2), s26): rules per data category and a record of every run.
- Breach register: the four parts of the PCPD's data breach notification form.
- Data quality (DPP2(1)): issues found by the rules, scores per customer, the signed
  self-service links that let a customer confirm or correct their details.
- Duplicates: candidate pairs with a score, and reviewed merges that can be undone.

Imported by ``customers.models`` so that Django registers them in the ``customers`` app.
Every model here is for the data-protection officer: ``scope_for`` closes it to anyone
without the matching permission, whatever view permissions a role pattern grants.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import RestrictedQuerySet, StewardModel

if TYPE_CHECKING:
    from accounts.models import User

# Permissions that open these records; a role's ``customers.view_*`` alone is not enough.
HANDLE_REQUESTS = "customers.handle_privacyrequest"
REVIEW_QUALITY = "customers.review_qualityissue"


def _gate(user: User, permission: str) -> Q | None:
    return Q() if user.has_perm(permission) else None


# --- Privacy requests (DPP6, s18–s28) ---------------------------------------------------------------


class RefusalGround(models.TextChoices):
    """Why a request was refused: s20(1) grounds are mandatory, s20(3) and s24(3) discretionary."""

    IDENTITY_NOT_VERIFIED = "s20_1_a", "s20(1)(a) not satisfied as to the requestor's identity"
    OTHER_INDIVIDUAL = "s20_1_b", "s20(1)(b) would disclose another individual's data without consent"
    PROHIBITED = "s20_1_c", "s20(1)(c) compliance prohibited by this or another Ordinance"
    NOT_IN_WRITING = "s20_3_a", "s20(3) not in writing in Chinese or English"
    CANNOT_LOCATE = "s20_3_b", "s20(3) not enough information to identify the requestor or locate the data"
    REPEATED = "s20_3_c", "s20(3) repeats earlier similar requests at an unreasonable interval"
    CONTROLLED_BY_OTHER = "s20_3_d", "s20(3) another data user controls the use of the data"
    EXEMPT = "s20_3_e", "s20(3) entitled not to comply (e.g. an exemption in Part 8)"
    FEE_UNPAID = "s28_5", "s28(5) the fee imposed has not been paid"
    NOT_SATISFIED_INACCURATE = "s24_3_a", "s24(3) not satisfied that the data is inaccurate"
    CORRECTION_INFO_MISSING = "s24_3_b", "s24(3) not given enough information to ascertain the inaccuracy"
    CORRECTION_NOT_ACCURATE = "s24_3_c", "s24(3) not satisfied that the correction is accurate"
    CORRECTION_CONTROLLED = "s24_3_d", "s24(3) another data user controls the processing of the data"


# s20(1): the data user shall refuse. Everything else is a ground the data user may use.
MANDATORY_GROUNDS = frozenset(
    {RefusalGround.IDENTITY_NOT_VERIFIED, RefusalGround.OTHER_INDIVIDUAL, RefusalGround.PROHIBITED}
)
ACCESS_GROUNDS = frozenset(g for g in RefusalGround if not g.value.startswith("s24"))
CORRECTION_GROUNDS = frozenset(
    {
        RefusalGround.IDENTITY_NOT_VERIFIED,
        RefusalGround.PROHIBITED,
        RefusalGround.NOT_IN_WRITING,
        RefusalGround.CANNOT_LOCATE,
        RefusalGround.NOT_SATISFIED_INACCURATE,
        RefusalGround.CORRECTION_INFO_MISSING,
        RefusalGround.CORRECTION_NOT_ACCURATE,
        RefusalGround.CORRECTION_CONTROLLED,
    }
)


class PrivacyRequest(StewardModel):
    """A data access request (s18) or data correction request (s22) from a customer.

    ``due_on`` is the 40th day after receipt (s19(1), s23(1)); ``held_at_receipt`` is the
    customer's data as held when the request arrived, which the copy supplied must reflect
    (s19(3)). A correction request never carries a fee (s28(2)).
    """

    class Kind(models.TextChoices):
        ACCESS = "access", "Data access request"
        CORRECTION = "correction", "Data correction request"

    class Status(models.TextChoices):
        RECEIVED = "received", "Received, identity not yet verified"
        VERIFIED = "verified", "Identity verified, in progress"
        PARTIAL = "partial", "Partially complied (notice given)"
        COMPLETED = "completed", "Complied with"
        REFUSED = "refused", "Refused"

    OPEN: ClassVar[tuple[str, ...]] = (Status.RECEIVED, Status.VERIFIED, Status.PARTIAL)

    kind = models.CharField(max_length=12, choices=Kind.choices)
    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.PROTECT, related_name="privacy_requests"
    )
    requester_name = models.CharField(max_length=200)
    requester_contact = models.CharField(max_length=254, help_text="Where the reply goes: e-mail or address.")
    on_behalf = models.BooleanField(default=False, help_text="Made by a relevant person for the customer.")
    received_at = models.DateTimeField()
    due_on = models.DateField(help_text="Received + 40 days (s19(1), s23(1)).")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    identity_method = models.CharField(max_length=300, blank=True)
    identity_verified_at = models.DateTimeField(null=True, blank=True)
    identity_verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    fee = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal(0), validators=[MinValueValidator(Decimal(0))]
    )
    fee_basis = models.CharField(max_length=300, blank=True)
    requested_changes = models.JSONField(
        default=dict, blank=True, help_text="Correction requests: {field: corrected value}."
    )
    held_at_receipt = models.JSONField(default=dict, blank=True, editable=False)
    partial_notice_at = models.DateTimeField(null=True, blank=True)
    partial_notice_reasons = models.TextField(blank=True)
    refusal_ground = models.CharField(max_length=10, choices=RefusalGround.choices, blank=True)
    refusal_reasons = models.TextField(blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    last_reminder_days = models.PositiveSmallIntegerField(null=True, blank=True, editable=False)

    personal_data_fields: ClassVar[frozenset[str]] = frozenset(
        {"requester_name", "requester_contact", "requested_changes", "held_at_receipt"}
    )

    class Meta:
        ordering = ["due_on", "id"]
        permissions = [("handle_privacyrequest", "Can handle data access and correction requests")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="correction") | Q(fee=0), name="customers_privacyrequest_no_correction_fee"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, HANDLE_REQUESTS)

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN

    def days_left(self, today: Any = None) -> int:
        return (self.due_on - (today or timezone.localdate())).days


class RequestStep(StewardModel):
    """One step taken on a privacy request, shown on its page in order."""

    class Kind(models.TextChoices):
        RECEIVED = "received", "Received"
        IDENTITY = "identity", "Identity verified"
        FEE = "fee", "Fee set"
        PARTIAL = "partial", "Partial-compliance notice"
        EXPORTED = "exported", "Copy of the data produced"
        CORRECTED = "corrected", "Correction applied"
        NOTIFIED = "notified", "Third party told of the correction"
        COMPLETED = "completed", "Complied with"
        REFUSED = "refused", "Refused"
        REMINDER = "reminder", "Reminder sent"

    request = models.ForeignKey(PrivacyRequest, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    at = models.DateTimeField()
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, HANDLE_REQUESTS)


class KeptQuerySet(RestrictedQuerySet["RefusalLogEntry"]):
    """Log book rows cannot be removed in bulk before their keep-until date."""

    def delete(self) -> tuple[int, dict[str, int]]:
        if self.filter(keep_until__gt=timezone.localdate()).exists():
            raise PermissionError("refusal log entries are kept at least four years (s27)")
        return super().delete()

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the refusal log book is not edited")


class RefusalLogEntry(StewardModel):
    """s27: the log book of refused requests, with the reasons, kept at least four years."""

    request = models.OneToOneField(PrivacyRequest, on_delete=models.PROTECT, related_name="log_entry")
    logged_at = models.DateTimeField()
    ground = models.CharField(max_length=10, choices=RefusalGround.choices)
    reasons = models.TextField()
    keep_until = models.DateField(help_text="Four years after the refusal (s27(2)).")

    objects = KeptQuerySet.as_manager()  # type: ignore[misc]

    class Meta:
        ordering = ["-logged_at", "-id"]

    def __str__(self) -> str:
        return f"Refusal of request #{self.request_id}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, HANDLE_REQUESTS)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        if self.keep_until > timezone.localdate():
            raise PermissionError("refusal log entries are kept at least four years (s27)")
        return super().delete(*args, **kwargs)


class CorrectionNotice(StewardModel):
    """A correction passed to a third party who received the data in the previous 12 months (s23(1)(c))."""

    request = models.ForeignKey(PrivacyRequest, on_delete=models.PROTECT, related_name="notices")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="+")
    flow = models.ForeignKey("vendors.DataFlow", on_delete=models.PROTECT, related_name="+")
    last_received_at = models.DateTimeField(help_text="The latest exchange that gave them the data.")
    fields = models.JSONField(default=list, help_text="Names of the corrected fields (never the values).")
    sent_at = models.DateTimeField()
    sent_to = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["sent_at", "id"]

    def __str__(self) -> str:
        return f"Correction notice to vendor {self.vendor_id}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, HANDLE_REQUESTS)


# --- Retention (DPP2(2), s26) -----------------------------------------------------------------------


class RetentionRule(StewardModel):
    """How long one category of data is kept, and what happens after (erase or anonymise)."""

    class Category(models.TextChoices):
        INACTIVE_CUSTOMERS = "inactive_customers", "Customer profiles with no activity"
        ORDERS = "orders", "Orders (personal link)"
        EVENTS = "events", "Behavioural events"
        CLOSED_REQUESTS = "closed_requests", "Closed privacy requests"
        SELF_SERVICE_LINKS = "self_service_links", "Self-service links"

    class Action(models.TextChoices):
        ANONYMISE = "anonymise", "Anonymise (keep figures, remove the person)"
        ERASE = "erase", "Erase"

    category = models.CharField(max_length=24, choices=Category.choices, unique=True)
    months = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    action = models.CharField(max_length=10, choices=Action.choices)
    basis = models.CharField(max_length=300, help_text="Why this period: the purpose it serves.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category"]

    def __str__(self) -> str:
        return f"{self.get_category_display()}: {self.months} months"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, HANDLE_REQUESTS)


class RetentionRun(StewardModel):
    """One dry run or real run of the retention job, with its counts per rule and samples."""

    dry_run = models.BooleanField()
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    report = models.JSONField(default=list, help_text="[{rule, category, action, cutoff, count, samples}]")
    total = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{'Dry run' if self.dry_run else 'Run'} {self.started_at:%Y-%m-%d %H:%M}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, HANDLE_REQUESTS)


# --- Breach register ---------------------------------------------------------------------------------


class Breach(StewardModel):
    """A data breach, in the four parts of the PCPD's notification form.

    Notification is voluntary today; with ``STEWARD_BREACH_NOTIFICATION_MANDATORY`` on, every
    breach gets a deadline (``STEWARD_BREACH_NOTIFY_DAYS`` after it became known) and the
    register shows what is overdue.
    """

    class Cause(models.TextChoices):
        HACKING = "hacking", "Hacking or malware"
        LOSS = "loss", "Loss of a device or documents"
        WRONG_RECIPIENT = "wrong_recipient", "Sent to the wrong recipient"
        INSIDER = "insider", "Unauthorised access by staff"
        VENDOR = "vendor", "At a processor or vendor"
        SYSTEM = "system", "System error or misconfiguration"
        OTHER = "other", "Other"

    # Part 1: the data user
    data_user = models.CharField(max_length=200)
    data_user_address = models.CharField(max_length=300, blank=True)
    # Part 2: the contact person
    contact_name = models.CharField(max_length=200)
    contact_title = models.CharField(max_length=200, blank=True)
    contact_phone = models.CharField(max_length=40, blank=True)
    contact_email = models.CharField(max_length=254, blank=True)
    # Part 3: the incident
    title = models.CharField(max_length=200)
    occurred_at = models.DateTimeField(null=True, blank=True)
    discovered_at = models.DateTimeField()
    description = models.TextField()
    data_kinds = models.CharField(max_length=500, help_text="e.g. names, phone numbers, order history")
    affected_count = models.PositiveIntegerField()
    cause = models.CharField(max_length=20, choices=Cause.choices)
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # Part 4: assessment and remedial action
    harm_assessment = models.TextField(blank=True)
    containment = models.TextField(blank=True)
    remedial_action = models.TextField(blank=True)
    # Notification
    pcpd_notified = models.BooleanField(default=False)
    pcpd_notified_at = models.DateTimeField(null=True, blank=True)
    pcpd_reference = models.CharField(max_length=100, blank=True)
    subjects_notified = models.BooleanField(default=False)
    subjects_notified_at = models.DateTimeField(null=True, blank=True)
    notify_by = models.DateTimeField(
        null=True, blank=True, help_text="Deadline when notification is mandatory."
    )
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-discovered_at", "-id"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, HANDLE_REQUESTS)


# --- Data quality (DPP2(1), DPP1) ----------------------------------------------------------------------


class QualityIssue(StewardModel):
    """One problem a data-quality rule found on a customer, in the review queue until resolved."""

    class Rule(models.TextChoices):
        MISSING_NAME = "missing_name", "Name missing"
        MISSING_CONTACT = "missing_contact", "No e-mail and no phone"
        INVALID_EMAIL = "invalid_email", "E-mail address invalid"
        INVALID_PHONE = "invalid_phone", "Phone number invalid"
        ADDRESS_INCOMPLETE = "address_incomplete", "Address incomplete"
        STALE = "stale", "Not confirmed for too long"
        CONFLICT = "conflict", "Conflicting values"
        EXCESSIVE = "excessive", "More data than needed (DPP1)"

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        RESOLVED = "resolved", "Resolved"
        DISMISSED = "dismissed", "Dismissed"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="quality_issues"
    )
    rule = models.CharField(max_length=20, choices=Rule.choices)
    field = models.CharField(max_length=40, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField()
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolution = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["status", "-found_at", "id"]
        permissions = [("review_qualityissue", "Can review data quality and duplicates")]
        constraints = [
            models.UniqueConstraint(
                fields=["customer", "rule"],
                condition=Q(status="open"),
                name="customers_qualityissue_one_open_per_rule",
            )
        ]
        indexes = [models.Index(fields=["status", "rule"])]

    def __str__(self) -> str:
        return f"{self.get_rule_display()} (customer {self.customer_id})"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, REVIEW_QUALITY)


class QualityScore(StewardModel):
    """A customer's completeness and accuracy (0–100), recomputed set-based by the quality run."""

    customer = models.OneToOneField("customers.Customer", on_delete=models.CASCADE, related_name="quality")
    completeness = models.DecimalField(max_digits=5, decimal_places=2)
    accuracy = models.DecimalField(max_digits=5, decimal_places=2)
    computed_at = models.DateTimeField()

    class Meta:
        ordering = ["completeness", "customer_id"]

    def __str__(self) -> str:
        return f"Quality of customer {self.customer_id}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, REVIEW_QUALITY)


class SelfServiceLink(StewardModel):
    """A signed, expiring, single-use link sent to a customer to confirm or correct their details."""

    class Channel(models.TextChoices):
        EMAIL = "email", "E-mail"
        SMS = "sms", "SMS"

    customer = models.ForeignKey(
        "customers.Customer", on_delete=models.CASCADE, related_name="self_service_links"
    )
    channel = models.CharField(max_length=8, choices=Channel.choices)
    sent_to = models.CharField(max_length=254)
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    sent_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    used_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True, help_text="confirmed or corrected")
    changed_fields = models.JSONField(default=list, blank=True)

    personal_data_fields: ClassVar[frozenset[str]] = frozenset({"sent_to"})

    class Meta:
        ordering = ["-sent_at", "-id"]

    def __str__(self) -> str:
        return f"Self-service link for customer {self.customer_id}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, REVIEW_QUALITY)


# --- Duplicates --------------------------------------------------------------------------------------


class DuplicateCandidate(StewardModel):
    """Two customer records that may be one person, with the score and why, awaiting review."""

    class Status(models.TextChoices):
        OPEN = "open", "To review"
        MERGED = "merged", "Merged"
        DISTINCT = "distinct", "Not the same person"

    left = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    right = models.ForeignKey("customers.Customer", on_delete=models.CASCADE, related_name="+")
    score = models.DecimalField(max_digits=5, decimal_places=3)
    reasons = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    found_at = models.DateTimeField()
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["status", "-score", "id"]
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="customers_duplicate_pair"),
            models.CheckConstraint(
                condition=Q(left__lt=models.F("right")), name="customers_duplicate_ordered"
            ),
        ]

    def __str__(self) -> str:
        return f"Possible duplicate {self.left_id} / {self.right_id}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, REVIEW_QUALITY)


class CustomerMerge(StewardModel):
    """A reviewed merge: which record survived, which fields came from where, what moved; undoable."""

    candidate = models.ForeignKey(
        DuplicateCandidate, null=True, blank=True, on_delete=models.SET_NULL, related_name="merges"
    )
    survivor = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    merged = models.ForeignKey("customers.Customer", on_delete=models.PROTECT, related_name="+")
    survivor_before = models.JSONField(help_text="The survivor's personal fields before the merge.")
    field_sources = models.JSONField(help_text="{field: 'survivor' | 'merged'}")
    moved_orders = models.JSONField(default=list)
    moved_events = models.JSONField(default=list)
    moved_tickets = models.JSONField(default=list, help_text="Service tickets moved to the survivor.")
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    merged_at = models.DateTimeField()
    undone_at = models.DateTimeField(null=True, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    personal_data_fields: ClassVar[frozenset[str]] = frozenset({"survivor_before"})

    class Meta:
        ordering = ["-merged_at", "-id"]

    def __str__(self) -> str:
        return f"Merge of {self.merged_id} into {self.survivor_id}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return _gate(user, REVIEW_QUALITY)
