"""Outsourcing vendors (seed 000, issue 5): the register, contracts, obligations, liaison.

The register: a vendor, the services it provides (category × service model), its lifecycle
with the allowed transitions and their history, risk assessments against a versioned
questionnaire, contacts with escalation levels, certificates and documents with expiry dates.

Contracts: a contract is a series of versions (original, amendments, renewals); an active
version is immutable and no two active versions of a contract overlap. A version carries the
term, the fee schedule (HKD), renewal and notice, scope items and deliverables, a RACI per
activity and the service levels (each a KPI of the measurement engine, critical or key).
Obligations belong to the contract and generate dated instances with their evidence.

Liaison: meetings, calls and messages with minutes, decisions and action items; update
requests the vendor answers through the portal.

Portal isolation comes from ``vendor_path`` (see ``core.models.access_condition``); the models
a portal user may read are named one by one in ``accounts.roles``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from core.models import StewardModel

if TYPE_CHECKING:
    from accounts.models import User

PCT_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]
MONEY_VALIDATORS = [MinValueValidator(Decimal(0))]


def _is_portal(user: User) -> bool:
    return getattr(user, "vendor_id", None) is not None


# --- The register ---------------------------------------------------------------------------------


class Vendor(StewardModel):
    """An outsourcing vendor (IT, customer service, marketing, warehousing and logistics).

    ``status`` is the lifecycle; it moves only along :attr:`TRANSITIONS`, through
    ``services.vendor_change_status``, and every move is kept in :class:`VendorStatusChange`.
    """

    class Status(models.TextChoices):
        PROSPECT = "prospect", "Prospect"
        ONBOARDING = "onboarding", "Onboarding"
        ACTIVE = "active", "Active"
        UNDER_REVIEW = "under_review", "Under review"
        EXITING = "exiting", "Exiting"
        ENDED = "ended", "Ended"

    # prospect → onboarding → active → under review → exiting → ended, with the ways back a
    # real relationship takes: a review ends in "active" again, a prospect may be dropped.
    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.PROSPECT: (Status.ONBOARDING, Status.ENDED),
        Status.ONBOARDING: (Status.ACTIVE, Status.EXITING),
        Status.ACTIVE: (Status.UNDER_REVIEW, Status.EXITING),
        Status.UNDER_REVIEW: (Status.ACTIVE, Status.EXITING),
        Status.EXITING: (Status.ENDED,),
        Status.ENDED: (),
    }

    code = models.SlugField(max_length=40, unique=True, help_text="Short identifier, e.g. 'harbourcall'.")
    name = models.CharField(max_length=200)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PROSPECT)

    vendor_path: ClassVar[str | None] = "id"

    class Meta:
        ordering = ["name"]
        # v1: the register page reads the first page by name without sorting the whole table.
        indexes = [models.Index(fields=["name", "id"], name="vendors_vendor_name_idx")]

    def __str__(self) -> str:
        return self.name

    def allowed_statuses(self) -> tuple[str, ...]:
        return self.TRANSITIONS.get(self.status, ())


class ServiceCategory(models.TextChoices):
    IT = "it", "Information technology"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    MARKETING = "marketing", "Marketing"
    WAREHOUSING = "warehousing_logistics", "Warehousing and logistics"
    OTHER = "other", "Other"


class ServiceModel(models.TextChoices):
    MANAGED = "managed_service", "Managed service"
    STAFF_AUGMENTATION = "staff_augmentation", "Staff augmentation"
    PROJECT = "project", "Project"
    PLATFORM = "platform_saas", "Platform / SaaS"
    BPO = "bpo", "Business-process outsourcing"


class VendorService(StewardModel):
    """One service a vendor provides us: a category delivered under a service model."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="services")
    category = models.CharField(max_length=24, choices=ServiceCategory.choices)
    service_model = models.CharField(max_length=24, choices=ServiceModel.choices)
    description = models.CharField(max_length=300, blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["vendor_id", "category", "service_model"]
        constraints = [
            models.UniqueConstraint(
                fields=["vendor", "category", "service_model"], name="vendors_service_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} ({self.get_service_model_display()})"


class VendorStatusChange(StewardModel):
    """One step of a vendor's lifecycle: from, to, why, who and when (the history page reads these)."""

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=Vendor.Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Vendor.Status.choices)
    reason = models.TextField(blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["vendor_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.from_status or 'registered'} → {self.to_status}"


class RiskTier(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"
    CRITICAL = "critical", "Critical"


class RiskQuestionnaire(StewardModel):
    """A versioned risk questionnaire: weighted questions with scored options, and the score bands
    that give the tier. Never edited once used: a change is a new version (``vendors.risk``)."""

    code = models.SlugField(max_length=60)
    version = models.PositiveIntegerField()
    title = models.CharField(max_length=200)
    questions = models.JSONField(help_text="[{code, text, weight, options: [{code, label, score}]}]")
    tiers = models.JSONField(
        help_text='[{"tier": "low", "below": 25}, …, {"tier": "critical", "below": null}]'
    )

    class Meta:
        ordering = ["code", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="vendors_questionnaire_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class RiskAssessment(StewardModel):
    """A vendor's risk assessment: the questionnaire version used, the answers, score and tier.

    The vendor's current tier is its latest assessment's; earlier ones are the history.
    """

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="risk_assessments")
    questionnaire = models.ForeignKey(RiskQuestionnaire, on_delete=models.PROTECT, related_name="assessments")
    answers = models.JSONField(help_text="{question code: option code}")
    score = models.DecimalField(max_digits=5, decimal_places=2, validators=PCT_VALIDATORS)
    tier = models.CharField(max_length=10, choices=RiskTier.choices)
    notes = models.TextField(blank=True)
    assessed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["vendor_id", "-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_tier_display()} risk ({self.score})"


class VendorContact(StewardModel):
    """A person at the vendor and their place on the escalation path (1 = day to day … 4 = executive).

    Names, e-mail addresses and phone numbers are personal data: redacted in the audit trail.
    """

    class Escalation(models.IntegerChoices):
        OPERATIONAL = 1, "1 · Day-to-day operations"
        SERVICE_MANAGER = 2, "2 · Service manager"
        ACCOUNT_DIRECTOR = 3, "3 · Account director"
        EXECUTIVE = 4, "4 · Executive sponsor"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    job_title = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    escalation_level = models.PositiveSmallIntegerField(
        choices=Escalation.choices, default=Escalation.OPERATIONAL
    )
    is_primary = models.BooleanField(default=False)

    vendor_path: ClassVar[str | None] = "vendor_id"
    personal_data_fields: ClassVar[frozenset[str]] = frozenset({"name", "email", "phone"})

    class Meta:
        ordering = ["vendor_id", "escalation_level", "name"]

    def __str__(self) -> str:
        return f"{self.name} ({self.get_escalation_level_display()})"


def _vendor_file_path(prefix: str, vendor_id: int, name: str) -> str:
    return f"vendors/{prefix}/{vendor_id}/{name}"


def document_path(instance: VendorDocument, filename: str) -> str:
    """Stored under a name Steward chooses (``core.uploads``), never the uploader's."""
    return _vendor_file_path("documents", instance.vendor_id, filename)


class VendorDocument(StewardModel):
    """A certificate or document from a vendor (ISO/IEC 27001, insurance, BR certificate…) with
    its expiry date. Reminders go out ahead of expiry until a replacement is registered."""

    class Kind(models.TextChoices):
        CERTIFICATE = "certificate", "Certificate"
        INSURANCE = "insurance", "Insurance policy"
        BUSINESS_REGISTRATION = "business_registration", "Business registration"
        POLICY = "policy", "Policy or procedure"
        REPORT = "report", "Audit or assurance report"
        OTHER = "other", "Other document"

    vendor = models.ForeignKey(Vendor, on_delete=models.CASCADE, related_name="documents")
    kind = models.CharField(max_length=24, choices=Kind.choices)
    title = models.CharField(max_length=200)
    reference = models.CharField(max_length=100, blank=True, help_text="Certificate or policy number.")
    issuer = models.CharField(max_length=200, blank=True)
    issued_on = models.DateField(null=True, blank=True)
    expires_on = models.DateField(null=True, blank=True, db_index=True)
    file = models.FileField(upload_to=document_path, blank=True, max_length=300)
    file_name = models.CharField(max_length=255, blank=True, help_text="The name it was uploaded with.")
    content_type = models.CharField(max_length=100, blank=True)
    size = models.PositiveBigIntegerField(null=True, blank=True)
    replaced_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="replaces"
    )
    last_reminder_days = models.PositiveSmallIntegerField(
        null=True, blank=True, editable=False, help_text="Lead time (days) of the last reminder sent."
    )
    reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["vendor_id", "expires_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(issued_on__isnull=True)
                | Q(expires_on__isnull=True)
                | Q(expires_on__gt=F("issued_on")),
                name="vendors_document_expires_after_issue",
                violation_error_message="A document expires after it is issued.",
            )
        ]

    def __str__(self) -> str:
        return self.title


# --- Contracts ------------------------------------------------------------------------------------


def default_alert_days() -> list[int]:
    return list(getattr(settings, "STEWARD_CONTRACT_ALERT_DAYS", (120, 90, 30)))


class Contract(StewardModel):
    """An outsourcing contract with a vendor. What it says lives in its versions.

    ``subject`` and ``scorecard`` tie it to the measurement engine: the contract is judged as a
    ``kpis.Subject`` of kind ``vendor_contract`` on a monthly scorecard built from its service levels.
    """

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="contracts")
    reference = models.CharField(max_length=60, unique=True, help_text="e.g. HC-CS-2025-01")
    title = models.CharField(max_length=200)
    our_entity = models.CharField(max_length=200, help_text="Our contracting company.")
    vendor_entity = models.CharField(max_length=200, help_text="The vendor's contracting legal entity.")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="owned_contracts",
        help_text="Receives renewal and notice alerts.",
    )
    alert_days = models.JSONField(
        default=default_alert_days, help_text="Days ahead of the notice deadline and the end to alert."
    )
    subject = models.OneToOneField(
        "kpis.Subject", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    scorecard = models.OneToOneField(
        "kpis.Scorecard", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["vendor_id", "reference"]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"


class RenewalType(models.TextChoices):
    AUTOMATIC = "automatic", "Renews automatically unless notice is given"
    BY_AGREEMENT = "by_agreement", "Renewed only by agreement"
    NONE = "none", "Fixed term, no renewal"


class ContractVersion(StewardModel):
    """One version of a contract's terms: the original, an amendment or a renewal.

    A draft can be edited; activating it freezes it. An amendment that starts inside the term of
    the active version supersedes it from its start (the earlier version's ``effective_end`` is
    the day before); two active versions of one contract never overlap.
    """

    class Kind(models.TextChoices):
        ORIGINAL = "original", "Original"
        AMENDMENT = "amendment", "Amendment"
        RENEWAL = "renewal", "Renewal"

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        ACTIVE = "active", "Active"
        SUPERSEDED = "superseded", "Superseded"
        CANCELLED = "cancelled", "Cancelled"

    PUBLISHED: ClassVar[tuple[str, ...]] = (Status.ACTIVE, Status.SUPERSEDED)

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.ORIGINAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    start = models.DateField()
    end = models.DateField(help_text="Last day of the term, as signed.")
    effective_end = models.DateField(help_text="Last day in force: the end, or the day before an amendment.")
    signed_on = models.DateField(null=True, blank=True)
    currency = models.CharField(max_length=3, default="HKD", editable=False)
    monthly_fee = models.DecimalField(max_digits=14, decimal_places=2, validators=MONEY_VALIDATORS)
    total_value = models.DecimalField(
        max_digits=16, decimal_places=2, null=True, blank=True, validators=MONEY_VALIDATORS
    )
    at_risk_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=PCT_VALIDATORS,
        help_text="Share of the monthly fee at risk for service credits (typically 10–12%).",
    )
    renewal_type = models.CharField(
        max_length=14, choices=RenewalType.choices, default=RenewalType.BY_AGREEMENT
    )
    renewal_term_months = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(120)]
    )
    notice_period_days = models.PositiveSmallIntegerField(
        default=90, validators=[MaxValueValidator(730)], help_text="Notice to end or not renew, in days."
    )
    notice_by = models.DateField(help_text="Last day to give notice: end − notice period.")
    data_sharing = models.TextField(blank=True, help_text="Data-sharing clauses: what, why, how long.")
    summary = models.TextField(blank=True, help_text="What this version changes, and why.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "contract__vendor_id"

    class Meta:
        ordering = ["contract_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "number"], name="vendors_contract_version_once"),
            models.CheckConstraint(
                condition=Q(end__gt=F("start")),
                name="vendors_contract_ends_after_start",
                violation_error_message="The contract ends after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(effective_end__gte=F("start")) & Q(effective_end__lte=F("end")),
                name="vendors_contract_effective_end_in_term",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "effective_end"]),
            models.Index(fields=["status", "notice_by"]),
            # v1: "is this version renewed by a later one?" (selectors.renewals) looks up a contract's
            # active versions by start; without it SQLite scans every active version per row.
            models.Index(fields=["contract", "status", "start"], name="vendors_version_renewal_idx"),
            # v1: the renewals page reads versions in notice order a page at a time (selectors.renewals).
            models.Index(fields=["status", "notice_by", "effective_end"], name="vendors_version_notice_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.contract.reference} v{self.number} ({self.get_kind_display()})"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT

    @property
    def at_risk_amount(self) -> Decimal:
        return (self.monthly_fee * self.at_risk_pct / Decimal(100)).quantize(Decimal("0.01"))

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        # Drafts under negotiation are ours; the vendor sees what was agreed.
        return Q(status__in=cls.PUBLISHED) if _is_portal(user) else Q()


class _VersionPart(StewardModel):
    """Something a contract version says (a fee, a scope item, a RACI row, a service level)."""

    vendor_path: ClassVar[str | None] = "version__contract__vendor_id"

    class Meta:
        abstract = True

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return Q(version__status__in=ContractVersion.PUBLISHED) if _is_portal(user) else Q()


class FeeItem(_VersionPart):
    """One line of a version's fee schedule, in HKD."""

    class Basis(models.TextChoices):
        MONTHLY = "monthly", "Monthly fixed fee"
        PER_UNIT = "per_unit", "Per unit"
        ONE_OFF = "one_off", "One-off"
        MILESTONE = "milestone", "On a milestone"
        ANNUAL = "annual", "Annual"

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="fees")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    basis = models.CharField(max_length=10, choices=Basis.choices)
    amount = models.DecimalField(max_digits=14, decimal_places=2, validators=MONEY_VALIDATORS)
    unit = models.CharField(max_length=60, blank=True, help_text="For per-unit fees, e.g. 'per ticket'.")

    class Meta:
        ordering = ["version_id", "position", "id"]

    def __str__(self) -> str:
        return f"{self.description}: HK${self.amount}"


class ScopeItem(_VersionPart):
    """What the vendor does (scope) or hands over (a deliverable, with a due date and acceptance)."""

    class Kind(models.TextChoices):
        SCOPE = "scope", "In scope"
        EXCLUSION = "exclusion", "Out of scope"
        DELIVERABLE = "deliverable", "Deliverable"

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="scope_items")
    position = models.PositiveSmallIntegerField(default=0)
    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=500)
    due_on = models.DateField(null=True, blank=True)
    acceptance = models.CharField(max_length=500, blank=True, help_text="How a deliverable is accepted.")

    class Meta:
        ordering = ["version_id", "position", "id"]

    def __str__(self) -> str:
        return self.description


class Raci(models.TextChoices):
    RESPONSIBLE = "R", "Responsible"
    ACCOUNTABLE = "A", "Accountable"
    CONSULTED = "C", "Consulted"
    INFORMED = "I", "Informed"
    NONE = "-", "—"


class RaciEntry(_VersionPart):
    """Who does what for one activity: our role and the vendor's. Exactly one of them is accountable."""

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="raci")
    position = models.PositiveSmallIntegerField(default=0)
    activity = models.CharField(max_length=200)
    company_role = models.CharField(max_length=1, choices=Raci.choices)
    vendor_role = models.CharField(max_length=1, choices=Raci.choices)

    class Meta:
        ordering = ["version_id", "position", "id"]
        verbose_name_plural = "RACI entries"
        constraints = [
            models.UniqueConstraint(fields=["version", "activity"], name="vendors_raci_activity_once"),
            models.CheckConstraint(
                condition=(Q(company_role="A") & ~Q(vendor_role="A"))
                | (~Q(company_role="A") & Q(vendor_role="A")),
                name="vendors_raci_one_accountable",
                violation_error_message="Exactly one party is accountable for an activity.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.activity}: us {self.company_role}, vendor {self.vendor_role}"


class ServiceLevel(_VersionPart):
    """A service level of a contract version, measured by a KPI of the measurement engine.

    *Critical* service levels carry service credits: each takes an allocation % of the at-risk
    pool (together at most 100%). *Key measurements* are reported only and carry no credit.
    """

    class Kind(models.TextChoices):
        CRITICAL = "critical", "Critical (carries credits)"
        KEY = "key", "Key measurement (reported only)"

    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="service_levels")
    position = models.PositiveSmallIntegerField(default=0)
    kpi = models.ForeignKey("kpis.KpiDefinition", on_delete=models.PROTECT, related_name="service_levels")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    allocation_pct = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal(0), validators=PCT_VALIDATORS
    )
    weight = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal(100))],
        help_text="Weight on the contract's scorecard (the weights total 100).",
    )
    clause = models.CharField(max_length=100, blank=True, help_text="Where the contract defines it.")

    class Meta:
        ordering = ["version_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["version", "kpi"], name="vendors_service_level_kpi_once"),
            models.CheckConstraint(
                condition=Q(kind="critical") | Q(allocation_pct=0),
                name="vendors_key_measurement_no_allocation",
                violation_error_message="A key measurement carries no credit: its allocation is 0%.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kpi} ({self.get_kind_display()})"

    @property
    def max_credit(self) -> Decimal:
        """The most this service level's credit can be in a month (HKD): allocation × at-risk amount."""
        if self.kind != self.Kind.CRITICAL:
            return Decimal(0)
        return (self.version.at_risk_amount * self.allocation_pct / Decimal(100)).quantize(Decimal("0.01"))


# --- Obligations ----------------------------------------------------------------------------------


class Party(models.TextChoices):
    COMPANY = "company", "Us"
    VENDOR = "vendor", "The vendor"


class Obligation(StewardModel):
    """A commitment in a contract, one-off or recurring, with its owner and the evidence it needs.

    Its dated occurrences are :class:`ObligationInstance` rows, generated up to the end of the term.
    """

    class Recurrence(models.TextChoices):
        ONCE = "once", "One-off"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        HALF_YEARLY = "half_yearly", "Every six months"
        YEARLY = "yearly", "Yearly"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="obligations")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    clause = models.CharField(max_length=100, blank=True)
    owner_party = models.CharField(max_length=8, choices=Party.choices, default=Party.VENDOR)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The person who sees it through (ours, or the vendor's portal user).",
    )
    recurrence = models.CharField(max_length=12, choices=Recurrence.choices, default=Recurrence.ONCE)
    first_due_on = models.DateField()
    until = models.DateField(null=True, blank=True, help_text="Empty: until the contract's term ends.")
    evidence_required = models.BooleanField(default=True)
    evidence_description = models.CharField(max_length=300, blank=True)
    active = models.BooleanField(default=True)

    vendor_path: ClassVar[str | None] = "contract__vendor_id"

    class Meta:
        ordering = ["contract_id", "first_due_on", "title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(until__isnull=True) | Q(until__gte=F("first_due_on")),
                name="vendors_obligation_until_after_first",
                violation_error_message="An obligation's last date is on or after its first due date.",
            )
        ]

    def __str__(self) -> str:
        return self.title


class ObligationInstance(StewardModel):
    """One dated occurrence of an obligation and where it stands.

    Upcoming (due later than the due-soon window) → due (inside it) → missed (the due date has
    passed), unless met (with evidence when the obligation asks for it) or waived (with a reason).
    """

    class Status(models.TextChoices):
        UPCOMING = "upcoming", "Upcoming"
        DUE = "due", "Due"
        MET = "met", "Met"
        MISSED = "missed", "Missed"
        WAIVED = "waived", "Waived"

    OPEN: ClassVar[tuple[str, ...]] = (Status.UPCOMING, Status.DUE, Status.MISSED)

    obligation = models.ForeignKey(Obligation, on_delete=models.CASCADE, related_name="instances")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPCOMING)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason = models.TextField(blank=True, help_text="Why it was waived, or a note on meeting it.")

    vendor_path: ClassVar[str | None] = "obligation__contract__vendor_id"

    class Meta:
        ordering = ["due_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["obligation", "due_on"], name="vendors_obligation_instance_once"),
            models.CheckConstraint(
                condition=~Q(status="waived") | ~Q(reason=""),
                name="vendors_waiver_has_reason",
                violation_error_message="A waiver gives its reason.",
            ),
        ]
        indexes = [models.Index(fields=["status", "due_on"]), models.Index(fields=["due_on", "id"])]

    def __str__(self) -> str:
        return f"{self.obligation} due {self.due_on}"


def evidence_path(instance: ObligationEvidence, filename: str) -> str:
    """Stored under a name Steward chooses (``core.uploads``), never the uploader's."""
    return f"vendors/evidence/{instance.instance_id}/{filename}"


class ObligationEvidence(StewardModel):
    """A file proving an obligation instance was met, its type checked by its content."""

    instance = models.ForeignKey(ObligationInstance, on_delete=models.CASCADE, related_name="evidence")
    file = models.FileField(upload_to=evidence_path, max_length=300)
    file_name = models.CharField(max_length=255, help_text="The name it was uploaded with.")
    content_type = models.CharField(max_length=100, help_text="Detected from the content.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    note = models.CharField(max_length=500, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    vendor_path: ClassVar[str | None] = "instance__obligation__contract__vendor_id"

    class Meta:
        ordering = ["instance_id", "-created_at", "-id"]
        verbose_name_plural = "obligation evidence"

    def __str__(self) -> str:
        return self.file_name


class ContractAlert(StewardModel):
    """A renewal or notice alert raised at one of the contract's lead times (default 120/90/30 days)."""

    class Kind(models.TextChoices):
        NOTICE = "notice", "Notice deadline"
        EXPIRY = "expiry", "End of term"

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="alerts")
    version = models.ForeignKey(ContractVersion, on_delete=models.CASCADE, related_name="alerts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    due_on = models.DateField(help_text="The notice deadline or the last day of the term.")
    lead_days = models.PositiveSmallIntegerField()
    raised_on = models.DateField()
    sent_to = models.CharField(max_length=300, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "contract__vendor_id"

    class Meta:
        ordering = ["due_on", "kind", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "kind", "lead_days"], name="vendors_alert_once_per_lead"
            )
        ]
        indexes = [
            models.Index(fields=["acknowledged_at", "due_on"]),
            # v1: the renewals page reads open alerts a page at a time in due order.
            models.Index(
                fields=["due_on", "id"],
                condition=Q(acknowledged_at__isnull=True),
                name="vendors_alert_open_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.due_on} ({self.lead_days} days ahead)"


# --- Outsourcing scope ----------------------------------------------------------------------------


class BusinessFunction(StewardModel):
    """One of our functions or processes (e.g. "Order enquiries", "Returns handling"), grouped by area,
    that the scope matrix assigns to ourselves, a vendor, or both (seed 000 §1)."""

    area = models.CharField(max_length=100, help_text="e.g. Customer service, Fulfilment, IT")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["area", "name"]
        constraints = [models.UniqueConstraint(fields=["area", "name"], name="vendors_function_once")]

    def __str__(self) -> str:
        return f"{self.area}: {self.name}"

    @property
    def is_gap(self) -> bool:
        """Nobody performs it (needs the counts ``selectors.scope_matrix`` annotates)."""
        counts = (getattr(self, "in_house", 0), getattr(self, "outsourced", 0), getattr(self, "shared", 0))
        return not any(counts)

    @property
    def is_overlap(self) -> bool:
        """More than one party claims the whole function (in-house and outsourced, or two vendors)."""
        return getattr(self, "in_house", 0) + getattr(self, "outsourced", 0) > 1


class ScopeAssignment(StewardModel):
    """Who performs a function: we do (in-house), a vendor does (outsourced), or both (shared).

    In-house rows name no vendor; outsourced and shared rows name one, and optionally the contract
    that covers it.
    """

    class Mode(models.TextChoices):
        IN_HOUSE = "in_house", "In-house"
        OUTSOURCED = "outsourced", "Outsourced"
        SHARED = "shared", "Shared with the vendor"

    function = models.ForeignKey(BusinessFunction, on_delete=models.CASCADE, related_name="assignments")
    mode = models.CharField(max_length=10, choices=Mode.choices)
    vendor = models.ForeignKey(
        Vendor, null=True, blank=True, on_delete=models.PROTECT, related_name="scope_assignments"
    )
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="scope_assignments"
    )
    notes = models.CharField(max_length=500, blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["function_id", "mode", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(mode="in_house") & Q(vendor__isnull=True) & Q(contract__isnull=True))
                | (~Q(mode="in_house") & Q(vendor__isnull=False)),
                name="vendors_scope_vendor_matches_mode",
                violation_error_message="In-house names no vendor; outsourced or shared names one.",
            ),
            models.UniqueConstraint(
                fields=["function", "vendor"], name="vendors_scope_vendor_once", nulls_distinct=False
            ),
        ]

    def __str__(self) -> str:
        who = self.vendor.name if self.vendor_id and self.vendor else "us"
        return f"{self.function}: {self.get_mode_display()} ({who})"


# --- Information exchange -------------------------------------------------------------------------


class DataFlow(StewardModel):
    """One line of the information-exchange register (seed 000 §3): what a vendor receives from us or
    sends to us, whether it is personal data, how often, by which channel, on what basis, how long it
    is kept and where. The customer-information work links personal-data processors to these lines."""

    class Direction(models.TextChoices):
        TO_VENDOR = "to_vendor", "We send to the vendor"
        FROM_VENDOR = "from_vendor", "The vendor sends to us"

    class Frequency(models.TextChoices):
        REAL_TIME = "real_time", "Real time"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly"
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        AD_HOC = "ad_hoc", "As needed"

    class Channel(models.TextChoices):
        API = "api", "API"
        SFTP = "sftp", "SFTP"
        PORTAL = "portal", "Steward portal"
        EMAIL = "email", "Encrypted e-mail"
        SHARED_SYSTEM = "shared_system", "Access to our system"
        OTHER = "other", "Other"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="data_flows")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="data_flows"
    )
    direction = models.CharField(max_length=12, choices=Direction.choices)
    title = models.CharField(max_length=200, help_text="e.g. Open customer cases for follow-up")
    data_categories = models.CharField(max_length=500, help_text="e.g. name, phone, order history")
    personal_data = models.BooleanField()
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    channel = models.CharField(max_length=14, choices=Channel.choices)
    legal_basis = models.CharField(
        max_length=300, help_text="The purpose and the contract clause that allows it (DPP3)."
    )
    retention = models.CharField(
        max_length=300, help_text="How long the receiver keeps it (DPP2(2), DPP2(3))."
    )
    location = models.CharField(
        max_length=100, default="Hong Kong", help_text="Where it is stored or processed."
    )
    transfer_clauses = models.CharField(
        max_length=200, blank=True, help_text="For data leaving Hong Kong: e.g. PCPD model clauses (2022)."
    )
    active = models.BooleanField(default=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["vendor_id", "direction", "title"]

    def __str__(self) -> str:
        return self.title


class DataExchange(StewardModel):
    """One actual exchange under a register line: who, when, what, how many records."""

    flow = models.ForeignKey(DataFlow, on_delete=models.PROTECT, related_name="exchanges")
    occurred_at = models.DateTimeField()
    record_count = models.PositiveIntegerField()
    reference = models.CharField(max_length=200, blank=True, help_text="File name, batch or ticket number.")
    note = models.CharField(max_length=500, blank=True)
    logged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "flow__vendor_id"

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [models.Index(fields=["flow", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.flow}: {self.record_count} records on {self.occurred_at:%Y-%m-%d}"


# --- Liaison --------------------------------------------------------------------------------------


class LiaisonEntry(StewardModel):
    """A meeting, call or message with a vendor: minutes, decisions, and the actions that follow."""

    class Kind(models.TextChoices):
        MEETING = "meeting", "Meeting"
        CALL = "call", "Call"
        MESSAGE = "message", "Message"
        EMAIL = "email", "E-mail"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="liaison_entries")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="liaison_entries"
    )
    kind = models.CharField(max_length=8, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    title = models.CharField(max_length=200)
    participants = models.CharField(max_length=500, blank=True)
    minutes = models.TextField(blank=True)
    decisions = models.TextField(blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name_plural = "liaison entries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class ActionItem(StewardModel):
    """Something to do after a liaison entry: owner (our side or the vendor's), due date, status.

    A vendor's portal users see the actions assigned to their vendor, and only those.
    """

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        CANCELLED = "cancelled", "Cancelled"

    CLOSED: ClassVar[tuple[str, ...]] = (Status.DONE, Status.CANCELLED)

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="action_items")
    entry = models.ForeignKey(
        LiaisonEntry, null=True, blank=True, on_delete=models.CASCADE, related_name="actions"
    )
    description = models.CharField(max_length=500)
    owner_party = models.CharField(max_length=8, choices=Party.choices)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField()
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.OPEN)
    progress_note = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.description

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return Q(owner_party=Party.VENDOR) if _is_portal(user) else Q()

    @property
    def is_overdue(self) -> bool:
        return self.status not in self.CLOSED and self.due_on < timezone.localdate()


class UpdateRequest(StewardModel):
    """A request to a vendor for its latest progress or figures, answered through the portal by a due date."""

    class Status(models.TextChoices):
        OPEN = "open", "Awaiting the vendor"
        ANSWERED = "answered", "Answered"
        CLOSED = "closed", "Closed"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="update_requests")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="update_requests"
    )
    title = models.CharField(max_length=200)
    details = models.TextField()
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    response = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    responded_at = models.DateTimeField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title

    @property
    def is_overdue(self) -> bool:
        return self.status == self.Status.OPEN and self.due_on < timezone.localdate()


# --- v1: interfaces, shared documents, ideas, third-party staff, cooperation reviews --------------


class SystemInterface(StewardModel):
    """A connection between our management system and the vendor's (seed 000 §1 "examine the
    management system of the outsourcing vendors to interface with the internal management of the
    enterprise"): which systems, which way, what passes, how and how often, who owns each end.
    The interface is the pipe; the information-exchange register (:class:`DataFlow`) says what
    data goes through it and on what basis.
    """

    class Direction(models.TextChoices):
        TO_VENDOR = "to_vendor", "Ours → vendor's"
        FROM_VENDOR = "from_vendor", "Vendor's → ours"
        BOTH = "both", "Both ways"

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        LIVE = "live", "Live"
        SUSPENDED = "suspended", "Suspended"
        RETIRED = "retired", "Retired"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="interfaces")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="interfaces"
    )
    our_system = models.CharField(max_length=200, help_text="e.g. Steward ticketing, Shopify order admin")
    their_system = models.CharField(max_length=200, help_text="e.g. Genesys Cloud contact centre")
    direction = models.CharField(max_length=12, choices=Direction.choices)
    data_exchanged = models.CharField(max_length=500, help_text="What passes, e.g. tickets and their events")
    channel = models.CharField(max_length=14, choices=DataFlow.Channel.choices)
    protocol = models.CharField(max_length=100, blank=True, help_text="e.g. REST/JSON over TLS 1.3, SFTP")
    frequency = models.CharField(max_length=10, choices=DataFlow.Frequency.choices)
    our_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    their_owner = models.CharField(max_length=200, blank=True, help_text="The vendor's owner of their end.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PLANNED)
    notes = models.TextField(blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"
    personal_data_fields: ClassVar[frozenset[str]] = frozenset({"their_owner"})

    class Meta:
        ordering = ["vendor_id", "our_system", "their_system", "id"]

    def __str__(self) -> str:
        return f"{self.our_system} ↔ {self.their_system}"


class GovernanceItem(StewardModel):
    """How we and a vendor work together beyond the systems: the reports exchanged, the meetings
    and their cadence, and the escalation path (level by level, with the response time expected)."""

    class Kind(models.TextChoices):
        REPORT = "report", "Report exchanged"
        MEETING = "meeting", "Meeting"
        ESCALATION = "escalation", "Escalation step"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="governance_items")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(default=1, help_text="For escalation: the level (1 first).")
    title = models.CharField(max_length=200, help_text="e.g. Monthly service report, Weekly operations call")
    frequency = models.CharField(max_length=10, choices=DataFlow.Frequency.choices, default="ad_hoc")
    from_party = models.CharField(max_length=8, choices=Party.choices, default=Party.VENDOR)
    our_role = models.CharField(max_length=200, blank=True, help_text="Who takes part on our side.")
    vendor_role = models.CharField(max_length=200, blank=True, help_text="Who takes part on theirs.")
    response_time = models.CharField(max_length=100, blank=True, help_text="For escalation, e.g. 4 hours.")
    notes = models.CharField(max_length=500, blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["vendor_id", "kind", "position", "title"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.title}"


class SharedDocument(StewardModel):
    """A document we keep with a vendor under version control (seed 000 §3 "manage related
    information and data to ensure accuracy and circulation"): guidelines, procedures, scripts.
    A new version never replaces the old ones; the vendor's portal users see it only when shared."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="shared_documents")
    title = models.CharField(max_length=200)
    description = models.CharField(max_length=500, blank=True)
    shared_with_vendor = models.BooleanField(default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["vendor_id", "title"]
        constraints = [models.UniqueConstraint(fields=["vendor", "title"], name="vendors_shared_title_once")]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return Q(shared_with_vendor=True) if _is_portal(user) else Q()


def shared_version_path(instance: SharedDocumentVersion, filename: str) -> str:
    """Stored under a name Steward chooses (``core.uploads``), never the uploader's."""
    return f"vendors/shared/{instance.document_id}/{filename}"


class SharedDocumentVersion(StewardModel):
    """One version of a shared document: the file, who uploaded it, when, and what changed."""

    document = models.ForeignKey(SharedDocument, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    file = models.FileField(upload_to=shared_version_path, max_length=300)
    file_name = models.CharField(max_length=255, help_text="The name it was uploaded with.")
    content_type = models.CharField(max_length=100, help_text="Detected from the content.")
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    change_note = models.CharField(max_length=500)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "document__vendor_id"

    class Meta:
        ordering = ["document_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["document", "number"], name="vendors_shared_version_once")
        ]

    def __str__(self) -> str:
        return f"{self.document} v{self.number}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return Q(document__shared_with_vendor=True) if _is_portal(user) else Q()


class Idea(StewardModel):
    """An improvement idea from the vendor (submitted in the portal) or from our staff (seeds 001/002
    "obtain their latest progress and ideas"). An accepted idea can be turned into a proposal: the
    proposals package does not exist yet, so the conversion is the status ``proposal`` and a
    reference that the proposals work will replace with a link to its Proposal."""

    class Source(models.TextChoices):
        VENDOR = "vendor", "The vendor"
        COMPANY = "company", "Our staff"

    class Status(models.TextChoices):
        NEW = "new", "New"
        UNDER_CONSIDERATION = "under_consideration", "Under consideration"
        ACCEPTED = "accepted", "Accepted"
        REJECTED = "rejected", "Not taken forward"
        PROPOSAL = "proposal", "Turned into a proposal"

    TRANSITIONS: ClassVar[dict[str, tuple[str, ...]]] = {
        Status.NEW: (Status.UNDER_CONSIDERATION, Status.ACCEPTED, Status.REJECTED),
        Status.UNDER_CONSIDERATION: (Status.ACCEPTED, Status.REJECTED),
        Status.ACCEPTED: (Status.PROPOSAL,),
        Status.REJECTED: (),
        Status.PROPOSAL: (),
    }

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="ideas")
    contract = models.ForeignKey(
        Contract, null=True, blank=True, on_delete=models.SET_NULL, related_name="ideas"
    )
    source = models.CharField(max_length=8, choices=Source.choices)
    title = models.CharField(max_length=200)
    description = models.TextField()
    expected_benefit = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    proposal_reference = models.CharField(
        max_length=100,
        blank=True,
        help_text="The proposal it became (to be linked to proposals.Proposal by the proposals work).",
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(status="proposal") | ~Q(proposal_reference=""),
                name="vendors_idea_proposal_has_reference",
                violation_error_message="An idea turned into a proposal names the proposal.",
            )
        ]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        # Our own staff's ideas about a vendor are internal; the vendor sees the ones it sent.
        return Q(source=cls.Source.VENDOR) if _is_portal(user) else Q()


class ThirdPartyWorker(StewardModel):
    """One of the vendor's people working for us (seed 001 "managing third party staff as own
    staff"): role, on- and off-boarding dates, and, when they sign in to Steward, their user."""

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="workers")
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)
    role = models.CharField(max_length=200, help_text="e.g. Team leader, hotline (Cantonese)")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="third_party_worker",
        help_text="Their Steward portal login, if they have one.",
    )
    onboarded_on = models.DateField()
    offboarded_on = models.DateField(null=True, blank=True)
    offboarding_reason = models.CharField(max_length=300, blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"
    personal_data_fields: ClassVar[frozenset[str]] = frozenset({"name", "email"})

    class Meta:
        ordering = ["vendor_id", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(offboarded_on__isnull=True) | Q(offboarded_on__gte=F("onboarded_on")),
                name="vendors_worker_offboarded_after_onboarded",
                violation_error_message="Off-boarding is on or after on-boarding.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.role})"

    @property
    def is_active(self) -> bool:
        return self.offboarded_on is None or self.offboarded_on > timezone.localdate()


class AccessGrant(StewardModel):
    """Access to one of our systems granted to a third-party worker, from a date until revoked."""

    worker = models.ForeignKey(ThirdPartyWorker, on_delete=models.CASCADE, related_name="access_grants")
    system = models.CharField(max_length=200, help_text="e.g. Steward ticketing, Shopify admin")
    access_level = models.CharField(max_length=100, help_text="e.g. agent, read-only, administrator")
    granted_on = models.DateField()
    revoked_on = models.DateField(null=True, blank=True)
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "worker__vendor_id"

    class Meta:
        ordering = ["worker_id", "system", "-granted_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(revoked_on__isnull=True) | Q(revoked_on__gte=F("granted_on")),
                name="vendors_access_revoked_after_granted",
                violation_error_message="Access is revoked on or after it was granted.",
            )
        ]
        indexes = [models.Index(fields=["revoked_on"])]

    def __str__(self) -> str:
        return f"{self.system} ({self.access_level})"


class TrainingRecord(StewardModel):
    """A course a third-party worker completed (e.g. PDPO awareness), with its expiry if it has one."""

    worker = models.ForeignKey(ThirdPartyWorker, on_delete=models.CASCADE, related_name="training")
    course = models.CharField(max_length=200)
    completed_on = models.DateField()
    expires_on = models.DateField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "worker__vendor_id"

    class Meta:
        ordering = ["worker_id", "-completed_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=F("completed_on")),
                name="vendors_training_expires_after_completion",
                violation_error_message="Training expires after it is completed.",
            )
        ]

    def __str__(self) -> str:
        return self.course


class GuidelineAcknowledgement(StewardModel):
    """A worker's acknowledgement that they read a named version of one of our guidelines."""

    worker = models.ForeignKey(ThirdPartyWorker, on_delete=models.CASCADE, related_name="acknowledgements")
    document_title = models.CharField(max_length=200)
    document_version = models.CharField(max_length=40)
    shared_version = models.ForeignKey(
        SharedDocumentVersion, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    acknowledged_on = models.DateField()

    vendor_path: ClassVar[str | None] = "worker__vendor_id"

    class Meta:
        ordering = ["worker_id", "document_title", "-acknowledged_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["worker", "document_title", "document_version"], name="vendors_acknowledged_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.document_title} v{self.document_version}"


class BoardingTask(StewardModel):
    """One line of a worker's on-boarding or off-boarding checklist."""

    class Kind(models.TextChoices):
        ONBOARDING = "onboarding", "On-boarding"
        OFFBOARDING = "offboarding", "Off-boarding"

    worker = models.ForeignKey(ThirdPartyWorker, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=12, choices=Kind.choices)
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "worker__vendor_id"

    class Meta:
        ordering = ["worker_id", "kind", "position", "id"]

    def __str__(self) -> str:
        return self.description


class CooperationReview(StewardModel):
    """A scheduled review of the cooperation strategy with a vendor (seed 000 §3 "regularly review the
    cooperation strategy"): a quarterly business review or an annual strategy review of one contract
    over a period, ending in a decision with its rationale, follow-up actions and, when the decision
    is an improvement plan, the plan. ``figures`` keeps what the reviewers saw when they decided."""

    class Kind(models.TextChoices):
        QUARTERLY = "quarterly", "Quarterly business review"
        ANNUAL = "annual", "Annual strategy review"

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        COMPLETED = "completed", "Completed"
        CANCELLED = "cancelled", "Cancelled"

    class Decision(models.TextChoices):
        CONTINUE = "continue", "Continue as is"
        EXPAND = "expand", "Expand the scope"
        RENEGOTIATE = "renegotiate", "Renegotiate the terms"
        IMPROVEMENT_PLAN = "improvement_plan", "Improvement plan"
        EXIT = "exit", "Exit"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="reviews")
    contract = models.ForeignKey(Contract, on_delete=models.PROTECT, related_name="reviews")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day of the period reviewed.")
    scheduled_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    rationale = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    meeting = models.ForeignKey(
        LiaisonEntry,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The review meeting in the liaison log; its action items are the follow-up actions.",
    )
    figures = models.JSONField(default=dict, blank=True, help_text="The figures the reviewers saw.")

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["-scheduled_on", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind", "period_start"], name="vendors_review_once"),
            models.CheckConstraint(
                condition=Q(period_end__gte=F("period_start")),
                name="vendors_review_period_order",
                violation_error_message="A review period ends on or after it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(status="completed") | ~Q(decision=""),
                name="vendors_completed_review_has_decision",
                violation_error_message="A completed review records its decision.",
            ),
        ]
        indexes = [models.Index(fields=["status", "scheduled_on"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"


class VendorImprovementPlan(StewardModel):
    """An improvement plan agreed with a vendor, with milestones (a cooperation review's decision
    "improvement plan" requires one). The vendor's portal users see their own plans."""

    class Status(models.TextChoices):
        OPEN = "open", "In progress"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Not achieved"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="improvement_plans")
    review = models.OneToOneField(
        CooperationReview, null=True, blank=True, on_delete=models.PROTECT, related_name="improvement_plan"
    )
    title = models.CharField(max_length=200)
    objective = models.TextField(help_text="What must be true when the plan is done.")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["due_on", "id"]

    def __str__(self) -> str:
        return self.title


class ImprovementMilestone(StewardModel):
    """A dated step of an improvement plan."""

    class Status(models.TextChoices):
        OPEN = "open", "Open"
        DONE = "done", "Done"
        MISSED = "missed", "Missed"

    plan = models.ForeignKey(VendorImprovementPlan, on_delete=models.CASCADE, related_name="milestones")
    position = models.PositiveSmallIntegerField(default=0)
    description = models.CharField(max_length=300)
    due_on = models.DateField()
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    done_at = models.DateTimeField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "plan__vendor_id"

    class Meta:
        ordering = ["plan_id", "due_on", "position", "id"]

    def __str__(self) -> str:
        return self.description
