"""Quality of customer service (seed 004 §1, §2.3, §3; issue 4 items 4, 8, 9, 10).

- Surveys: an invitation per resolved ticket, a signed, expiring, single-use link, and at most
  one response (CSAT 1–5, NPS 0–10, optional CES with its scale stored beside the answer).
- Codes of practice: a versioned checklist of service rules and ethics items that QA cites.
- QA reviews: rubrics of weighted categories (some critical); a reviewer scores one
  conversation, the agent acknowledges or disputes it, a manager resolves the dispute.
- Staff reviews: per agent and period, the KPI scorecard, QA score and CSAT (each with its
  sample size and minimum), the engine's recommendation and the manager's decision.

Imported by ``service.models`` so that Django registers these models in the ``service`` app.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from core.models import StewardModel

if TYPE_CHECKING:
    from accounts.models import User

PCT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


def agent_scope(user: User, prefix: str) -> Q:
    """Managers (and auditors) see every agent's rows; an agent sees only rows about themselves.

    Portal users are already narrowed to their vendor by ``vendor_path``; their role grants
    none of these models anyway.
    """
    if getattr(user, "vendor_id", None) is not None or user.has_perm("service.view_every_agent"):
        return Q()
    return Q(**{f"{prefix}agent__user_id": user.pk})


# --- Surveys ---------------------------------------------------------------------------------------


class SurveyInvitation(StewardModel):
    """One survey sent to the customer of one resolved ticket (at most one per ticket).

    The link carries ``Signer(salt).sign_object({"i": pk, "n": nonce})``; the nonce never leaves
    the database except inside that signature, so a link cannot be made up. The link stops
    working at ``expires_at`` and once ``responded_at`` is set (single use).
    """

    ticket = models.OneToOneField("service.Ticket", on_delete=models.CASCADE, related_name="survey")
    nonce = models.CharField(max_length=64, editable=False)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    responded_at = models.DateTimeField(null=True, blank=True)
    ces_scale_max = models.PositiveSmallIntegerField(
        default=7,
        validators=[MinValueValidator(2), MaxValueValidator(10)],
        help_text="CES asked as 1 to this.",
    )

    vendor_path: ClassVar[str | None] = "ticket__vendor_id"

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["responded_at"])]

    def __str__(self) -> str:
        return f"Survey for ticket {self.ticket_id}"


class SurveyResponse(StewardModel):
    """The customer's one answer to an invitation. The scales are stored with the answers."""

    invitation = models.OneToOneField(SurveyInvitation, on_delete=models.CASCADE, related_name="response")
    csat = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    nps = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    ces = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    csat_scale_max = models.PositiveSmallIntegerField(default=5, editable=False)
    nps_scale_max = models.PositiveSmallIntegerField(default=10, editable=False)
    ces_scale_max = models.PositiveSmallIntegerField(null=True, blank=True)
    comment = models.TextField(blank=True, max_length=2000)

    vendor_path: ClassVar[str | None] = "invitation__ticket__vendor_id"
    personal_data_fields: ClassVar[frozenset[str]] = frozenset({"comment"})

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(csat__isnull=True) | Q(csat__gte=1, csat__lte=5),
                name="service_survey_csat_1_5",
            ),
            models.CheckConstraint(
                condition=Q(nps__isnull=True) | Q(nps__gte=0, nps__lte=10), name="service_survey_nps_0_10"
            ),
            models.CheckConstraint(
                condition=Q(ces__isnull=True) | Q(ces__gte=1, ces__lte=F("ces_scale_max")),
                name="service_survey_ces_in_scale",
            ),
            models.CheckConstraint(
                condition=~Q(csat__isnull=True, nps__isnull=True, ces__isnull=True),
                name="service_survey_answers_something",
            ),
        ]

    def __str__(self) -> str:
        return f"Survey response {self.pk}"


# --- Codes of practice ------------------------------------------------------------------------------


class CodeOfPractice(StewardModel):
    """One version of a checklist of service rules and ethics (seed 004 §1).

    A draft's items can change; a published version is frozen, and a change is a new version
    (copied from the last one). QA reviews cite items of published versions.
    """

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        PUBLISHED = "published", "Published"
        RETIRED = "retired", "Retired"

    code = models.SlugField(max_length=40)
    version = models.PositiveIntegerField(default=1)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    effective_from = models.DateField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["code", "-version"]
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="service_code_version_once")]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class CodeItem(StewardModel):
    """One rule of a code of practice, e.g. "PRIV-2 Verify identity before discussing an order"."""

    class Category(models.TextChoices):
        COURTESY = "courtesy", "Courtesy"
        ACCURACY = "accuracy", "Accuracy"
        PRIVACY = "privacy", "Privacy (PDPO)"
        FAIRNESS = "fairness", "Fairness"
        DISCIPLINE = "discipline", "Discipline"
        ETHICS = "ethics", "Service ethics"
        PROCESS = "process", "Process"

    code_of_practice = models.ForeignKey(CodeOfPractice, on_delete=models.CASCADE, related_name="items")
    code = models.CharField(max_length=20)
    title = models.CharField(max_length=200)
    text = models.TextField()
    category = models.CharField(max_length=12, choices=Category.choices)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["code_of_practice_id", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["code_of_practice", "code"], name="service_code_item_once")
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


# --- QA rubrics and reviews ---------------------------------------------------------------------------


class Rubric(StewardModel):
    """A QA scoring form: weighted categories, some critical. Frozen once created; change = new rubric."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-active", "name"]
        constraints = [models.UniqueConstraint(fields=["name"], name="service_rubric_name_once")]

    def __str__(self) -> str:
        return self.name


class RubricCategory(StewardModel):
    """One category: a scale from ``scale_min`` to ``scale_max``, a weight, maybe critical.

    Category score = (selected − min) ÷ (max − min) × 100. A critical category scoring below
    ``pass_mark`` fails, and a failed critical category zeroes the whole review (PRODUCT.md §3).
    """

    rubric = models.ForeignKey(Rubric, on_delete=models.CASCADE, related_name="categories")
    name = models.CharField(max_length=120)
    guidance = models.TextField(blank=True)
    position = models.PositiveSmallIntegerField(default=0)
    scale_min = models.IntegerField(default=0)
    scale_max = models.IntegerField(default=4)
    weight = models.DecimalField(max_digits=6, decimal_places=2)
    critical = models.BooleanField(default=False)
    pass_mark = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal(100), validators=PCT)
    code_items = models.ManyToManyField(CodeItem, blank=True, related_name="rubric_categories")

    class Meta:
        ordering = ["rubric_id", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(weight__gt=0), name="service_category_weight_positive"),
            models.CheckConstraint(
                condition=Q(scale_max__gt=F("scale_min")), name="service_category_scale_ordered"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class QaReview(StewardModel):
    """A QA review of one conversation (ticket): assigned → submitted → acknowledged or disputed → resolved.

    ``agent``, ``vendor`` and ``team`` are copied from the ticket at assignment, so that the QA
    score is attributed to whoever handled the conversation even if the ticket moves later.
    """

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "Assigned to reviewer"
        SUBMITTED = "submitted", "Awaiting the agent"
        ACKNOWLEDGED = "acknowledged", "Acknowledged by the agent"
        DISPUTED = "disputed", "Disputed by the agent"
        RESOLVED = "resolved", "Dispute resolved"

    class Outcome(models.TextChoices):
        UPHELD = "upheld", "Upheld"
        AMENDED = "amended", "Amended"

    SCORED: ClassVar[tuple[str, ...]] = (
        Status.SUBMITTED,
        Status.ACKNOWLEDGED,
        Status.DISPUTED,
        Status.RESOLVED,
    )

    ticket = models.ForeignKey("service.Ticket", on_delete=models.PROTECT, related_name="qa_reviews")
    agent = models.ForeignKey("service.Agent", on_delete=models.PROTECT, related_name="qa_reviews")
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    team = models.ForeignKey(
        "service.Team", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    rubric = models.ForeignKey(Rubric, on_delete=models.PROTECT, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    due_on = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.ASSIGNED)
    score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    critical_failed = models.BooleanField(default=False)
    summary = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    cited_items = models.ManyToManyField(CodeItem, blank=True, related_name="qa_reviews")
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    dispute_reason = models.TextField(blank=True)
    disputed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=8, choices=Outcome.choices, blank=True)
    original_score = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    resolution_note = models.TextField(blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["-created_at", "-id"]
        permissions = [
            ("view_every_agent", "Can see every agent's QA and staff reviews, not only one's own"),
            ("resolve_qareview", "Can resolve an agent's dispute of a QA review"),
        ]
        indexes = [models.Index(fields=["status", "submitted_at"]), models.Index(fields=["agent", "status"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__gte=0, score__lte=100),
                name="service_qareview_score_pct",
            ),
            models.CheckConstraint(
                condition=Q(resolved_by__isnull=True) | ~Q(resolved_by=F("reviewer")),
                name="service_qareview_not_self_resolved",
                violation_error_message="A dispute is resolved by someone other than the reviewer.",
            ),
        ]

    def __str__(self) -> str:
        return f"QA review {self.pk} of ticket {self.ticket_id}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        # The reviewer sees the reviews assigned to them, even of other agents.
        scope = agent_scope(user, "")
        if scope == Q():
            return scope
        return scope | Q(reviewer_id=user.pk)


class QaCategoryScore(StewardModel):
    """The reviewer's choice on one category, its score (0–100) and whether a critical category failed."""

    review = models.ForeignKey(QaReview, on_delete=models.CASCADE, related_name="scores")
    category = models.ForeignKey(RubricCategory, on_delete=models.PROTECT, related_name="+")
    selected = models.IntegerField()
    score = models.DecimalField(max_digits=5, decimal_places=2, validators=PCT)
    failed = models.BooleanField(default=False)
    note = models.TextField(blank=True)

    vendor_path: ClassVar[str | None] = "review__vendor_id"

    class Meta:
        ordering = ["review_id", "category__position", "category_id"]
        constraints = [
            models.UniqueConstraint(fields=["review", "category"], name="service_qa_category_once")
        ]

    def __str__(self) -> str:
        return f"{self.category_id}: {self.selected}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        scope = agent_scope(user, "review__")
        if scope == Q():
            return scope
        return scope | Q(review__reviewer_id=user.pk)


# --- Staff reviews ------------------------------------------------------------------------------------


class StaffReview(StewardModel):
    """Per agent and period (seed 004 §3): the figures, the engine's recommendation, the manager's decision.

    ``figures`` keeps what the manager saw: the KPI scorecard period (if the agent has one), the
    QA score and CSAT, each with its sample size and the minimum below which it does not judge.
    ``recommendation_source`` says whether the proposal came from the kpis scorecard
    (``kpis.StaffRecommendation``) or from this package's rule over QA and CSAT.
    """

    class Recommendation(models.TextChoices):
        REWARD = "reward", "Reward"
        NO_ACTION = "no_action", "No action"
        COACHING = "coaching", "Coaching"
        FORMAL_REVIEW = "formal_review", "Formal review"

    class Status(models.TextChoices):
        PROPOSED = "proposed", "Awaiting the manager's decision"
        DECIDED = "decided", "Decided"

    agent = models.ForeignKey("service.Agent", on_delete=models.PROTECT, related_name="staff_reviews")
    start = models.DateField()
    end = models.DateField(help_text="Exclusive: the first day after the period.")
    figures = models.JSONField(default=dict)
    scorecard_period = models.ForeignKey(
        "kpis.ScorecardPeriod", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recommendation = models.CharField(max_length=16, choices=Recommendation.choices)
    recommendation_basis = models.TextField()
    recommendation_source = models.CharField(max_length=20)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PROPOSED)
    decision = models.CharField(max_length=16, choices=Recommendation.choices, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    vendor_path: ClassVar[str | None] = "agent__vendor_id"

    class Meta:
        ordering = ["-start", "agent__name"]
        permissions = [("decide_staffreview", "Can decide staff reviews")]
        constraints = [
            models.UniqueConstraint(fields=["agent", "start", "end"], name="service_staff_review_once"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="service_staff_review_period"),
        ]

    def __str__(self) -> str:
        return f"Staff review of {self.agent} {self.start:%Y-%m}"

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        scope = agent_scope(user, "")
        if scope == Q():
            return scope
        # An agent sees their own review once a manager has decided it (as kpis does).
        return scope & Q(status=cls.Status.DECIDED)
