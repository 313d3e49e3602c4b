"""One measurement engine for vendors, teams and agents (issue 3; seeds 000, 001/002, 004).

Measures (inputs) → versioned KPI definitions (a formula over measures, bands, target) →
scorecards (weighted KPIs attached to a subject) → periods with one result per KPI, a score
and a standing → credits, earn-backs and bonuses for contracts, recommendations for staff.
The arithmetic lives in ``kpis.scoring`` and ``kpis.credits``; writes in ``kpis.services``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from core.models import StewardModel
from kpis import periods as period_math
from kpis.registry import CODE_PATTERN

if TYPE_CHECKING:
    from accounts.models import User

PCT_VALIDATORS = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]
CODE_VALIDATOR = RegexValidator(
    CODE_PATTERN, "Use lower_snake_case: a letter, then letters, digits or underscores (2–60)."
)


def subject_scope(user: User, prefix: str) -> Q:
    """Staff who may see every subject see all; anyone else (an agent) only subjects that are themselves.

    Portal users are already narrowed to their vendor by ``vendor_path``.
    """
    if getattr(user, "vendor_id", None) is not None or user.has_perm("kpis.view_every_subject"):
        return Q()
    return Q(**{f"{prefix}user_id": user.pk})


class Measure(StewardModel):
    """A named, typed input to KPI formulas, for one subject and period.

    Sources: computed by a registered selector (``kpis.registry``), submitted by a person or a
    vendor portal user with evidence and approval, or survey results. No data → not applicable.
    """

    class Source(models.TextChoices):
        COMPUTED = "computed", "Computed from Steward's data"
        SUBMITTED = "submitted", "Submitted with evidence, then approved"
        SURVEY = "survey", "Survey results"

    code = models.CharField(max_length=60, unique=True, validators=[CODE_VALIDATOR])
    label = models.CharField(max_length=200)
    unit = models.CharField(max_length=40, help_text="e.g. %, minutes, count, HKD")
    description = models.TextField(blank=True, help_text="Exactly what is counted, shown to users.")
    source = models.CharField(max_length=12, choices=Source.choices)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.label} ({self.code})"


class Subject(StewardModel):
    """Who or what a scorecard judges: a vendor, a vendor contract, a team or an agent.

    ``vendor`` ties vendor subjects to their vendor (portal isolation); ``user`` ties an
    agent subject to the agent (who then sees only their own); ``reference`` points at the
    contract or team object once those packages exist.
    """

    class Kind(models.TextChoices):
        VENDOR = "vendor", "Vendor"
        VENDOR_CONTRACT = "vendor_contract", "Vendor contract"
        TEAM = "team", "Team"
        AGENT = "agent", "Agent"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    label = models.CharField(max_length=200)
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="kpi_subjects"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="kpi_subjects"
    )
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT)
    object_id = models.PositiveBigIntegerField(null=True, blank=True)
    reference = GenericForeignKey("content_type", "object_id")

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["kind", "label"]
        permissions = [("view_every_subject", "Can see every subject's scorecards, not only one's own")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(kind="agent") | Q(user__isnull=False),
                name="kpis_agent_subject_has_user",
                violation_error_message="An agent subject names the agent's user account.",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=["vendor", "vendor_contract"]) | Q(vendor__isnull=False),
                name="kpis_vendor_subject_has_vendor",
                violation_error_message="A vendor or contract subject names its vendor.",
            ),
            models.UniqueConstraint(
                fields=["content_type", "object_id"],
                condition=Q(object_id__isnull=False),
                name="kpis_subject_one_per_object",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return subject_scope(user, "")


class KpiDefinition(StewardModel):
    """A KPI's identity. What it means lives in its versions; a change is a new version."""

    code = models.CharField(max_length=60, unique=True, validators=[CODE_VALIDATOR])
    name = models.CharField(max_length=200, help_text="The name of the latest approved version.")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    retired_at = models.DateTimeField(null=True, blank=True)
    review_every_months = models.PositiveSmallIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(24)]
    )
    next_review_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name or self.code


class KpiVersion(StewardModel):
    """One immutable version of a KPI definition (issue 3 §2).

    Content fields never change after creation; only the approval fields move (draft →
    approved or rejected). The approver is never the author. A period's result names the
    version it was computed under, and any period can be recomputed under any approved version.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    class Direction(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"
        MILESTONE = "milestone", "Milestone (1 when reached, 0 when not)"

    class Statistic(models.TextChoices):
        NONE = "none", "—"
        MEAN = "mean", "Mean"
        MEDIAN = "median", "Median"
        P90 = "p90", "90th percentile"
        RATE = "rate", "Rate (%)"
        COUNT = "count", "Count"
        SUM = "sum", "Sum"

    definition = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    description = models.TextField(help_text="What the number means, shown beside it to every user.")
    formula = models.TextField(
        help_text="An expression over measure codes, e.g. met / (met + breached) * 100."
    )
    unit = models.CharField(max_length=40)
    direction = models.CharField(max_length=10, choices=Direction.choices)
    statistic = models.CharField(max_length=10, choices=Statistic.choices, default=Statistic.NONE)
    target = models.DecimalField(max_digits=20, decimal_places=6)
    bands = models.JSONField(
        help_text="2–5 threshold bands: label, lower (included), upper (excluded), score."
    )
    weight = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(10),
        validators=PCT_VALIDATORS,
        help_text="Suggested weight when the KPI is added to a scorecard.",
    )
    min_sample_size = models.PositiveIntegerField(
        default=0, help_text="Below this many observations the KPI does not judge (not applicable)."
    )
    effective_from = models.DateField(help_text="Periods starting on or after this date use this version.")
    reason = models.TextField(help_text="Why this version exists.")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)

    DECISION_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"status", "approved_by", "approved_at", "decision_note", "updated_at"}
    )

    class Meta:
        ordering = ["definition_id", "-number"]
        permissions = [("approve_kpiversion", "Can approve or reject KPI versions")]
        constraints = [
            models.UniqueConstraint(fields=["definition", "number"], name="kpis_version_number_unique"),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("author")),
                name="kpis_version_not_self_approved",
                violation_error_message="A KPI version is approved by someone other than its author.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} v{self.number}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.DECISION_FIELDS:
                raise PermissionError("KPI versions are immutable; propose a new version instead.")
        super().save(*args, **kwargs)


class StandingScheme(StewardModel):
    """A set of named, coloured standings covering scores 0–100 with no gap or overlap."""

    name = models.CharField(max_length=100, unique=True)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Standing(StewardModel):
    """One standing (e.g. "Excellent", green, 90–100) and what happens to a subject that lands in it."""

    class Recommendation(models.TextChoices):
        REWARD = "reward", "Reward"
        NO_ACTION = "no_action", "No action"
        COACHING = "coaching", "Coaching"
        FORMAL_REVIEW = "formal_review", "Formal review"

    scheme = models.ForeignKey(StandingScheme, on_delete=models.CASCADE, related_name="standings")
    name = models.CharField(max_length=60)
    colour = models.CharField(
        max_length=7, validators=[RegexValidator(r"^#[0-9a-fA-F]{6}$", "A colour like #1a7f37.")]
    )
    lower = models.DecimalField(max_digits=5, decimal_places=2, validators=PCT_VALIDATORS)
    upper = models.DecimalField(max_digits=5, decimal_places=2, validators=PCT_VALIDATORS)
    notify_roles = models.JSONField(
        default=list, blank=True, help_text="Role codes told when a subject lands here."
    )
    flag_vendor_for_review = models.BooleanField(default=False)
    require_improvement_plan = models.BooleanField(default=False)
    staff_recommendation = models.CharField(
        max_length=16, choices=Recommendation.choices, default=Recommendation.NO_ACTION
    )

    class Meta:
        ordering = ["scheme_id", "lower"]

    def __str__(self) -> str:
        return f"{self.name} ({self.lower}–{self.upper})"


class Scorecard(StewardModel):
    """A set of weighted KPIs (weights total 100) judging one subject, period after period."""

    class Granularity(models.TextChoices):
        WEEK = period_math.WEEK, "Week"
        MONTH = period_math.MONTH, "Month"
        QUARTER = period_math.QUARTER, "Quarter"
        YEAR = period_math.YEAR, "Year"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="scorecards")
    granularity = models.CharField(max_length=10, choices=Granularity.choices, default=Granularity.MONTH)
    standing_scheme = models.ForeignKey(
        StandingScheme, null=True, blank=True, on_delete=models.PROTECT, related_name="scorecards"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "subject__vendor_id"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return subject_scope(user, "subject__")


class ScorecardLine(StewardModel):
    """One KPI on a scorecard, with its weight and, for contracts, its service-credit terms.

    A line names the KPI, not a version: each period uses the version in force (or one chosen
    on recompute) and records which.
    """

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="lines")
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="scorecard_lines")
    position = models.PositiveSmallIntegerField(default=0)
    weight = models.DecimalField(max_digits=5, decimal_places=2, validators=PCT_VALIDATORS)
    critical = models.BooleanField(
        default=False, help_text="A critical service level carries credits; others are key measurements."
    )
    allocation_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=PCT_VALIDATORS,
        help_text="This service level's share of the credit pool (critical lines total 100%).",
    )
    tiers = models.JSONField(
        default=list, blank=True, help_text='Tiered credits: [{"threshold": "99.9", "pct_of_fee": "10"}, …]'
    )
    earn_back_target = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    bonus_target = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    bonus_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=PCT_VALIDATORS,
        help_text="Bonus as % of the monthly fee when the bonus target is beaten.",
    )

    vendor_path: ClassVar[str | None] = "scorecard__subject__vendor_id"

    class Meta:
        ordering = ["scorecard_id", "position", "id"]
        constraints = [models.UniqueConstraint(fields=["scorecard", "kpi"], name="kpis_line_kpi_once")]

    def __str__(self) -> str:
        return f"{self.kpi} × {self.weight}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return subject_scope(user, "scorecard__subject__")


class CreditTerms(StewardModel):
    """A contract's service-credit terms (money in HKD). Moves onto vendors.Contract later.

    At-risk amount = monthly fee × at-risk %. See ``kpis.credits`` for every rule.
    """

    scorecard = models.OneToOneField(Scorecard, on_delete=models.CASCADE, related_name="credit_terms")
    monthly_fee = models.DecimalField(
        max_digits=14, decimal_places=2, validators=[MinValueValidator(Decimal(0))]
    )
    currency = models.CharField(max_length=3, default="HKD", editable=False)
    at_risk_pct = models.DecimalField(max_digits=5, decimal_places=2, validators=PCT_VALIDATORS)
    pool_pct = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        default=Decimal(100),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(500))],
        help_text="Pool allocation %: the share of the at-risk amount spread over critical service levels.",
    )
    escalation_window = models.PositiveSmallIntegerField(
        default=0, help_text="Rolling window in periods (0: off)."
    )
    escalation_multipliers = models.JSONField(
        default=list,
        blank=True,
        help_text='Multiplier for the 1st, 2nd, 3rd… miss in the window: ["1", "2", "3"].',
    )
    earn_back_periods = models.PositiveSmallIntegerField(default=0, help_text="0: no earn-back.")
    bonus_cap_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=PCT_VALIDATORS,
        help_text="All bonuses of a month together, as % of the monthly fee.",
    )
    chronic_misses = models.PositiveSmallIntegerField(
        default=0, help_text="Misses that make a chronic failure (0: off)."
    )
    chronic_window = models.PositiveSmallIntegerField(default=12)

    vendor_path: ClassVar[str | None] = "scorecard__subject__vendor_id"

    class Meta:
        verbose_name_plural = "credit terms"

    def __str__(self) -> str:
        return f"Credit terms of {self.scorecard}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return subject_scope(user, "scorecard__subject__")


class ScorecardPeriod(StewardModel):
    """One period of a scorecard: its score, standing and state. Closed periods are final unless
    someone with ``kpis.recompute_period`` recomputes them."""

    class Status(models.TextChoices):
        OPEN = "open", "Open (provisional)"
        CLOSED = "closed", "Closed"

    scorecard = models.ForeignKey(Scorecard, on_delete=models.CASCADE, related_name="periods")
    start = models.DateField()
    end = models.DateField(help_text="First day after the period.")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.OPEN)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    standing = models.ForeignKey(Standing, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    computed_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    chronic_failure = models.BooleanField(default=False)
    notes = models.JSONField(default=list, blank=True)
    actions_applied_for = models.ForeignKey(
        Standing, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )

    vendor_path: ClassVar[str | None] = "scorecard__subject__vendor_id"

    class Meta:
        ordering = ["scorecard_id", "-start"]
        permissions = [("recompute_period", "Can recompute a closed period")]
        constraints = [models.UniqueConstraint(fields=["scorecard", "start"], name="kpis_period_once")]

    def __str__(self) -> str:
        return f"{self.scorecard} {self.label}"

    @property
    def label(self) -> str:
        granularity = self.scorecard.granularity if self.scorecard_id else ""
        return period_math.Period(self.start, self.end).label(granularity)

    @property
    def last_day(self) -> Any:
        return period_math.Period(self.start, self.end).last_day

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        if getattr(user, "vendor_id", None) is not None:
            return Q(status=cls.Status.CLOSED)  # a vendor sees its scorecards once they are final
        return subject_scope(user, "scorecard__subject__")


class KpiResult(StewardModel):
    """One KPI's result for one period under one version, with everything needed to explain it.

    ``inputs`` keeps each measure's value, sample size, source and the rows behind it as they
    were when computed. ``is_official`` marks the results the period's score uses; results under
    other versions stay for comparison and history.
    """

    period = models.ForeignKey(ScorecardPeriod, on_delete=models.CASCADE, related_name="results")
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="results")
    version = models.ForeignKey(KpiVersion, on_delete=models.PROTECT, related_name="results")
    line = models.ForeignKey(
        ScorecardLine, null=True, blank=True, on_delete=models.SET_NULL, related_name="results"
    )
    value = models.DecimalField(max_digits=36, decimal_places=6, null=True, blank=True)
    target = models.DecimalField(max_digits=20, decimal_places=6)
    sample_size = models.PositiveIntegerField(null=True, blank=True)
    applicable = models.BooleanField(default=True)
    reason = models.CharField(max_length=300, blank=True, help_text="Why the KPI is not applicable.")
    attainment = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    band_label = models.CharField(max_length=60, blank=True)
    met_target = models.BooleanField(null=True)
    weight = models.DecimalField(max_digits=5, decimal_places=2)
    effective_weight = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    critical = models.BooleanField(default=False)
    inputs = models.JSONField(default=dict)
    is_official = models.BooleanField(default=True)
    computed_at = models.DateTimeField()

    vendor_path: ClassVar[str | None] = "period__scorecard__subject__vendor_id"

    class Meta:
        ordering = ["period_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "kpi", "version"], name="kpis_result_once_per_version")
        ]
        indexes = [models.Index(fields=["kpi", "is_official"])]

    def __str__(self) -> str:
        return f"{self.version} in {self.period_id}: {self.value}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        if getattr(user, "vendor_id", None) is not None:
            return Q(period__status=ScorecardPeriod.Status.CLOSED, is_official=True)
        return subject_scope(user, "period__scorecard__subject__")


class MeasureValue(StewardModel):
    """A measure's value for one subject and period, as last collected. NULL value = not applicable."""

    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="values")
    subject = models.ForeignKey(Subject, on_delete=models.CASCADE, related_name="measure_values")
    start = models.DateField()
    end = models.DateField()
    value = models.DecimalField(max_digits=30, decimal_places=6, null=True, blank=True)
    sample_size = models.PositiveIntegerField(null=True, blank=True)
    source = models.CharField(max_length=12, choices=Measure.Source.choices)
    submission = models.ForeignKey(
        "MeasureSubmission", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ref = models.JSONField(default=dict, blank=True)
    collected_at = models.DateTimeField()

    vendor_path: ClassVar[str | None] = "subject__vendor_id"

    class Meta:
        ordering = ["measure_id", "subject_id", "-start"]
        constraints = [
            models.UniqueConstraint(
                fields=["measure", "subject", "start", "end"], name="kpis_measure_value_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}@{self.subject_id} {self.start}: {self.value}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return subject_scope(user, "subject__")


def evidence_path(instance: MeasureSubmission, filename: str) -> str:
    return f"kpis/evidence/{instance.subject_id}/{filename}"


class MeasureSubmission(StewardModel):
    """A measure value submitted by a person or a vendor portal user, with evidence, awaiting approval.

    Only approved submissions feed scores, and the approver is never the submitter.
    """

    class Status(models.TextChoices):
        SUBMITTED = "submitted", "Awaiting approval"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    measure = models.ForeignKey(Measure, on_delete=models.PROTECT, related_name="submissions")
    subject = models.ForeignKey(Subject, on_delete=models.PROTECT, related_name="submissions")
    start = models.DateField()
    end = models.DateField()
    value = models.DecimalField(max_digits=30, decimal_places=6)
    sample_size = models.PositiveIntegerField(null=True, blank=True)
    evidence = models.FileField(upload_to=evidence_path, blank=True)
    note = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SUBMITTED)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    vendor_path: ClassVar[str | None] = "subject__vendor_id"

    class Meta:
        ordering = ["-created_at"]
        permissions = [("approve_measuresubmission", "Can approve or reject submitted measurements")]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("submitted_by")),
                name="kpis_submission_not_self_approved",
                violation_error_message="A submission is decided by someone other than its submitter.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.measure_id}@{self.subject_id} {self.start}: {self.value} ({self.status})"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return subject_scope(user, "subject__")


class Adjustment(StewardModel):
    """A proposed service credit, earn-back or bonus.

    A person with ``kpis.approve_adjustment`` approves it, overrides it (with a reason) or rejects it.
    """

    class Kind(models.TextChoices):
        CREDIT = "credit", "Service credit"
        EARN_BACK = "earn_back", "Earn-back"
        BONUS = "bonus", "Bonus"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        OVERRIDDEN = "overridden", "Approved with a changed amount"
        REJECTED = "rejected", "Rejected"

    DECIDED: ClassVar[tuple[str, ...]] = (Status.APPROVED, Status.OVERRIDDEN, Status.REJECTED)

    period = models.ForeignKey(ScorecardPeriod, on_delete=models.PROTECT, related_name="adjustments")
    kpi = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=10, choices=Kind.choices)
    currency = models.CharField(max_length=3, default="HKD", editable=False)
    computed_amount = models.DecimalField(
        max_digits=14, decimal_places=2, help_text="Before the monthly cap."
    )
    proposed_amount = models.DecimalField(max_digits=14, decimal_places=2)
    approved_amount = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    explanation = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    earns_back = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="earned_back_by"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    vendor_path: ClassVar[str | None] = "period__scorecard__subject__vendor_id"

    class Meta:
        ordering = ["period_id", "kind", "id"]
        permissions = [("approve_adjustment", "Can approve or override service credits and bonuses")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} HK${self.proposed_amount} ({self.get_status_display()})"

    @property
    def final_amount(self) -> Decimal | None:
        if self.status in (self.Status.APPROVED, self.Status.OVERRIDDEN):
            return self.approved_amount
        return None

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        if getattr(user, "vendor_id", None) is not None:
            return Q(status__in=[cls.Status.APPROVED, cls.Status.OVERRIDDEN])
        return subject_scope(user, "period__scorecard__subject__")


class StaffRecommendation(StewardModel):
    """For a team or agent: reward / no action / coaching / formal review, proposed from the standing.

    A person with ``kpis.approve_staffrecommendation`` approves or overrides it with a reason.
    """

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Proposed"
        APPROVED = "approved", "Approved"
        OVERRIDDEN = "overridden", "Overridden"

    period = models.OneToOneField(ScorecardPeriod, on_delete=models.CASCADE, related_name="recommendation")
    proposed = models.CharField(max_length=16, choices=Standing.Recommendation.choices)
    basis = models.TextField(help_text="Why the system proposed it.")
    final = models.CharField(max_length=16, choices=Standing.Recommendation.choices, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(blank=True)

    vendor_path: ClassVar[str | None] = "period__scorecard__subject__vendor_id"

    class Meta:
        ordering = ["-period__start"]
        permissions = [("approve_staffrecommendation", "Can approve or override staff recommendations")]

    def __str__(self) -> str:
        return f"{self.get_proposed_display()} for {self.period}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        scope = subject_scope(user, "period__scorecard__subject__")
        if not user.has_perm("kpis.view_every_subject"):
            # An agent sees a recommendation about themselves once a manager has decided it.
            scope &= ~Q(status=cls.Status.PROPOSED)
        return scope


class ImprovementPlan(StewardModel):
    """Required when a period lands in a standing that asks for one.

    The subject answers with a plan; a manager accepts it."""

    class Status(models.TextChoices):
        REQUIRED = "required", "Required"
        SUBMITTED = "submitted", "Submitted"
        ACCEPTED = "accepted", "Accepted"

    period = models.OneToOneField(ScorecardPeriod, on_delete=models.CASCADE, related_name="improvement_plan")
    due_on = models.DateField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUIRED)
    plan = models.TextField(blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "period__scorecard__subject__vendor_id"

    class Meta:
        ordering = ["due_on"]

    def __str__(self) -> str:
        return f"Improvement plan for {self.period}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        return subject_scope(user, "period__scorecard__subject__")


class KpiReview(StewardModel):
    """A scheduled review of one KPI: the manager looks at its trend and records keep / adjust target /
    redefine / retire with a rationale. Adjustments become new versions."""

    class Status(models.TextChoices):
        DUE = "due", "Due"
        DONE = "done", "Done"

    class Decision(models.TextChoices):
        KEEP = "keep", "Keep as is"
        ADJUST_TARGET = "adjust_target", "Adjust the target"
        REDEFINE = "redefine", "Redefine"
        RETIRE = "retire", "Retire"

    definition = models.ForeignKey(KpiDefinition, on_delete=models.PROTECT, related_name="reviews")
    due_on = models.DateField()
    status = models.CharField(max_length=6, choices=Status.choices, default=Status.DUE)
    decision = models.CharField(max_length=16, choices=Decision.choices, blank=True)
    rationale = models.TextField(blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    new_version = models.ForeignKey(
        KpiVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    figures = models.JSONField(default=dict, blank=True, help_text="The figures the reviewer saw.")

    class Meta:
        ordering = ["status", "due_on"]

    def __str__(self) -> str:
        return f"Review of {self.definition} due {self.due_on}"
