"""CRM strategy proposals from outsourcing partners (seeds 001/002, issue 6).

The flow (PRODUCT.md §4): published guidelines that staff acknowledge → a call for proposals
to invited vendors with required sections and a deadline, with clarifications → the vendor's
submission through the portal, in versions that are never edited once submitted → a panel
scores blind on a weighted rubric, then agrees in a consensus round → change requests answered
by revised versions → a decision per component (adopt / adapt / reject) → adopted components
become initiatives of the company's own CRM strategy, with milestones and promised-versus-actual
KPIs that feed the vendor's scorecard.

Portal isolation: proposals, versions, change requests and invitations carry ``vendor_path``;
scores and panel records have none, so they never reach a portal user.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from core.models import StewardModel

if TYPE_CHECKING:
    from accounts.models import User


class Stage(models.TextChoices):
    """The stages of dealing with outsourcers that guidelines govern (002 §6.2)."""

    STRATEGY = "strategy", "Strategy formulation"
    PROPOSAL = "proposal", "Calls and proposals"
    EVALUATION = "evaluation", "Evaluation"
    IMPLEMENTATION = "implementation", "Implementation"


# --- Choosing partners -------------------------------------------------------------------------


class CriteriaSet(StewardModel):
    """Weighted criteria for choosing outsourcing partners in one service category (002 §6.2)."""

    name = models.CharField(max_length=200)
    category = models.CharField(max_length=20, help_text="A vendors.ServiceCategory value.")
    criteria = models.JSONField(
        default=list, help_text='[{"key": "experience", "label": "…", "weight": 30}, …]; weights sum to 100.'
    )
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["category", "name"]

    def __str__(self) -> str:
        return self.name


class Prequalification(StewardModel):
    """A candidate vendor scored 0–5 per criterion of a set; ``score`` is the weighted result, 0–100."""

    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="prequalifications")
    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.PROTECT, related_name="prequalifications")
    scores = models.JSONField(default=dict)
    score = models.DecimalField(max_digits=5, decimal_places=1)
    note = models.TextField(blank=True)
    assessed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["vendor_id", "-created_at"]

    def __str__(self) -> str:
        return f"{self.vendor}: {self.score}"


# --- Guidelines and their acknowledgement -------------------------------------------------------


class Guideline(StewardModel):
    """How staff deal with outsourcers at one stage. Its text lives in versions.

    A vendor's portal users (third-party staff) reach a guideline only while its current version
    is assigned to their vendor (list it with ``.distinct()``: the path crosses two to-many joins).
    """

    title = models.CharField(max_length=200)
    stage = models.CharField(max_length=20, choices=Stage.choices)

    vendor_path: ClassVar[str | None] = "versions__vendors__id"

    class Meta:
        ordering = ["stage", "title"]

    def __str__(self) -> str:
        return self.title

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        """Third-party staff see a guideline only while its *current* version is assigned to their
        vendor: an older version assigned to them must not open the newer text to them."""
        vendor_id = getattr(user, "vendor_id", None)
        if vendor_id is None:
            return Q()
        newer = GuidelineVersion.objects.filter(
            guideline_id=models.OuterRef("guideline_id"), number__gt=models.OuterRef("number")
        )
        current_assigned = GuidelineVersion.objects.filter(vendors=vendor_id).exclude(models.Exists(newer))
        return Q(pk__in=current_assigned.values("guideline_id"))


class GuidelineVersion(StewardModel):
    """One published text of a guideline; the newest published version is the current one.

    ``roles`` (staff role codes), ``people`` (staff named one by one) and ``vendors`` (every
    active portal user of the vendor: its third-party staff, 002 §6.2 "disseminate … and ensure
    that they stick to them") say who must acknowledge it. A published version is never edited:
    a change is a new version, which everyone acknowledges again.
    """

    guideline = models.ForeignKey(Guideline, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    body = models.TextField()
    change_note = models.CharField(max_length=300, blank=True)
    roles = models.JSONField(default=list, blank=True)
    people = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    vendors = models.ManyToManyField(
        "vendors.Vendor",
        blank=True,
        related_name="+",
        help_text="Vendors whose portal users (third-party staff) must acknowledge this version.",
    )
    published_at = models.DateTimeField()
    published_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    # A portal user reaches the versions assigned to their own vendor, never another vendor's.
    vendor_path: ClassVar[str | None] = "vendors__id"

    class Meta:
        ordering = ["guideline_id", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["guideline", "number"], name="proposals_guideline_number")
        ]

    def __str__(self) -> str:
        return f"{self.guideline} v{self.number}"


class Acknowledgement(StewardModel):
    """A person's statement that they read and will follow one guideline version.

    The one record of acknowledgement for staff and third-party staff alike: gates and the status
    page are keyed by the person acting. (``vendors.GuidelineAcknowledgement`` stays the vendor
    manager's record of documents outside this register, e.g. scripts signed on paper; the
    worker's page shows both.)
    """

    version = models.ForeignKey(GuidelineVersion, on_delete=models.PROTECT, related_name="acknowledgements")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    acknowledged_at = models.DateTimeField()

    # A vendor's portal users see their own colleagues' acknowledgements (their third-party staff
    # register shows them), never another vendor's or the company staff's.
    vendor_path: ClassVar[str | None] = "user__vendor_id"

    class Meta:
        ordering = ["-acknowledged_at"]
        constraints = [models.UniqueConstraint(fields=["version", "user"], name="proposals_ack_once")]

    def __str__(self) -> str:
        return f"{self.user} acknowledged {self.version}"


# --- Calls for proposals ----------------------------------------------------------------------


class Section(models.TextChoices):
    """The sections a CRM strategy proposal may be required to have (issue 6, item 3)."""

    OBJECTIVES = "objectives", "Objectives"
    SEGMENTS = "segments", "Target customer segments"
    INITIATIVES = "initiatives", "Initiatives"
    KPIS = "kpis", "KPIs with baselines and targets"
    COST = "cost", "Cost and expected return"
    DATA = "data", "Customer data needed"
    TIMELINE = "timeline", "Timeline"
    RISKS = "risks", "Risks"


class Call(StewardModel):
    """A call for CRM strategy proposals sent to one or more vendors."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        OPEN = "open", "Open for submissions"
        CLOSED = "closed", "Closed (evaluating)"
        DECIDED = "decided", "Decided"

    title = models.CharField(max_length=200)
    objectives = models.TextField(help_text="The company objectives the strategy must serve.")
    required_sections = models.JSONField(default=list)
    deadline = models.DateTimeField()
    allow_late = models.BooleanField(
        default=False, help_text="Accept (and mark) submissions after the deadline."
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source_idea = models.ForeignKey(
        "vendors.Idea",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
        help_text="The vendor's idea (from the liaison ideas log) this call turned into a proposal.",
    )

    vendor_path: ClassVar[str | None] = "invitations__vendor_id"

    class Meta:
        ordering = ["-deadline", "-id"]

    def __str__(self) -> str:
        return self.title


class Invitation(StewardModel):
    """A vendor invited to a call."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="invitations")
    vendor = models.ForeignKey(
        "vendors.Vendor", on_delete=models.PROTECT, related_name="proposal_invitations"
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["call_id", "vendor__name"]
        constraints = [models.UniqueConstraint(fields=["call", "vendor"], name="proposals_invited_once")]

    def __str__(self) -> str:
        return f"{self.vendor} invited to {self.call}"


class CallDocument(StewardModel):
    """An attachment of a call (brief, data dictionary, current strategy summary)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="documents")
    title = models.CharField(max_length=200)
    file = models.FileField(upload_to="proposals/calls/%Y/%m/")
    file_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    added_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    vendor_path: ClassVar[str | None] = "call__invitations__vendor_id"

    class Meta:
        ordering = ["call_id", "title"]

    def __str__(self) -> str:
        return self.title


class Clarification(StewardModel):
    """A vendor's question on a call and the company's answer.

    Answers are published to every invited vendor; until then only the asking vendor sees it
    (``vendor`` is the asker; ``published`` opens it to all invited vendors).
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="clarifications")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="+")
    question = models.TextField()
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    published = models.BooleanField(default=False)

    vendor_path: ClassVar[str | None] = "call__invitations__vendor_id"

    class Meta:
        ordering = ["call_id", "created_at"]

    def __str__(self) -> str:
        return self.question[:60]

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        """A vendor sees its own questions and the published answers, never another's open question."""
        vendor_id = getattr(user, "vendor_id", None)
        if vendor_id is None:
            return Q()
        return Q(vendor_id=vendor_id) | Q(published=True)


# --- Proposals and their versions ---------------------------------------------------------------


# The fields of a proposed component, in the order the portal form and the diff show them.
COMPONENT_FIELDS_LABELS: tuple[tuple[str, str], ...] = (
    ("key", "Key"),
    ("title", "Title"),
    ("description", "Description"),
    ("objective", "Company objective (code)"),
    ("kpi", "KPI"),
    ("baseline", "Baseline"),
    ("target", "Target"),
    ("cost", "Cost (HKD)"),
    ("expected_benefit", "Expected benefit (HKD)"),
)


class Proposal(StewardModel):
    """One vendor's proposal in answer to a call."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Draft"
        SUBMITTED = "submitted", "Submitted"
        CHANGES_REQUESTED = "changes_requested", "Changes requested"
        DECIDED = "decided", "Decided"
        WITHDRAWN = "withdrawn", "Withdrawn"

    call = models.ForeignKey(Call, on_delete=models.PROTECT, related_name="proposals")
    vendor = models.ForeignKey("vendors.Vendor", on_delete=models.PROTECT, related_name="proposals")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.DRAFT)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["call_id", "vendor__name"]
        constraints = [models.UniqueConstraint(fields=["call", "vendor"], name="proposals_one_per_vendor")]

    def __str__(self) -> str:
        return f"{self.vendor} — {self.call}"


class ProposalVersion(StewardModel):
    """A version of a proposal: the draft being written, or a submitted (frozen) text.

    ``sections`` maps section codes to text; ``components`` is the list of proposed initiatives,
    each ``{"key", "title", "description", "objective", "kpi", "baseline", "target", "cost",
    "expected_benefit"}``: the unit the company decides on (adopt / adapt / reject).
    """

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    sections = models.JSONField(default=dict)
    components = models.JSONField(default=list)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    late = models.BooleanField(default=False)

    vendor_path: ClassVar[str | None] = "proposal__vendor_id"

    class Meta:
        ordering = ["proposal_id", "number"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "number"], name="proposals_version_number")
        ]

    def __str__(self) -> str:
        return f"{self.proposal} v{self.number}"

    @property
    def is_submitted(self) -> bool:
        return self.submitted_at is not None


class ChangeRequest(StewardModel):
    """Fine-tuning: the company asks for a change to one section; the next revision answers it."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="change_requests")
    section = models.CharField(max_length=20, choices=Section.choices)
    request = models.TextField()
    asked_on = models.ForeignKey(ProposalVersion, on_delete=models.PROTECT, related_name="+")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    response = models.TextField(blank=True)
    answered_in = models.ForeignKey(
        ProposalVersion, null=True, blank=True, on_delete=models.PROTECT, related_name="answers"
    )

    vendor_path: ClassVar[str | None] = "proposal__vendor_id"

    class Meta:
        ordering = ["proposal_id", "created_at"]

    def __str__(self) -> str:
        return f"{self.get_section_display()}: {self.request[:50]}"


# --- Evaluation ------------------------------------------------------------------------------------


class Criterion(models.TextChoices):
    """The rubric's criteria (001/002: effectiveness and compatibility with the company)."""

    EFFECTIVENESS = "effectiveness", "Effectiveness"
    COMPATIBILITY = "compatibility", "Compatibility with company objectives and current CRM strategy"
    COST = "cost", "Cost and ROI"
    RISK = "risk", "Risk"
    PRIVACY = "privacy", "Privacy impact under the PDPO"
    FEASIBILITY = "feasibility", "Feasibility"


DEFAULT_WEIGHTS: dict[str, int] = {
    Criterion.EFFECTIVENESS: 25,
    Criterion.COMPATIBILITY: 25,
    Criterion.COST: 15,
    Criterion.RISK: 10,
    Criterion.PRIVACY: 15,
    Criterion.FEASIBILITY: 10,
}
SCORE_MIN, SCORE_MAX = 1, 5
# A criterion whose panel scores differ by this much or more is flagged in the consensus round.
DISAGREEMENT_SPREAD = 2


class RubricWeight(StewardModel):
    """The weight of one criterion for a call (weights sum to 100)."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="weights")
    criterion = models.CharField(max_length=20, choices=Criterion.choices)
    weight = models.PositiveIntegerField(validators=[MinValueValidator(1), MaxValueValidator(100)])

    class Meta:
        ordering = ["call_id", "criterion"]
        constraints = [models.UniqueConstraint(fields=["call", "criterion"], name="proposals_weight_once")]

    def __str__(self) -> str:
        return f"{self.get_criterion_display()}: {self.weight}"


class PanelMember(StewardModel):
    """A member of a call's evaluation panel, with their conflict-of-interest declaration.

    A member cannot score a proposal of a vendor they declared a conflict with; until they have
    declared (even "none"), they cannot score at all.
    """

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="panel")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField(null=True, blank=True)
    conflicts = models.ManyToManyField("vendors.Vendor", blank=True, related_name="+")
    conflict_note = models.TextField(blank=True)

    class Meta:
        ordering = ["call_id", "user__username"]
        constraints = [models.UniqueConstraint(fields=["call", "user"], name="proposals_panel_once")]

    def __str__(self) -> str:
        return f"{self.user} on {self.call}"


class Scoresheet(StewardModel):
    """One member's scores for one proposal. Others' sheets stay hidden until this one is submitted."""

    member = models.ForeignKey(PanelMember, on_delete=models.CASCADE, related_name="scoresheets")
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="scoresheets")
    scores = models.JSONField(default=dict, help_text="criterion → score 1–5")
    comments = models.TextField(blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["proposal_id", "member_id"]
        constraints = [models.UniqueConstraint(fields=["member", "proposal"], name="proposals_sheet_once")]

    def __str__(self) -> str:
        return f"{self.member.user} on {self.proposal}"


class ConsensusScore(StewardModel):
    """The panel's agreed score for one criterion of a proposal, with the reason where it moved."""

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="consensus")
    criterion = models.CharField(max_length=20, choices=Criterion.choices)
    score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(SCORE_MIN), MaxValueValidator(SCORE_MAX)]
    )
    note = models.TextField(blank=True)
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["proposal_id", "criterion"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "criterion"], name="proposals_consensus_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_criterion_display()}: {self.score}"


# --- Decisions and the combined CRM strategy --------------------------------------------------------


class ComponentDecision(StewardModel):
    """The company's decision on one proposed component: adopt, adapt (with its own edits) or reject."""

    class Outcome(models.TextChoices):
        ADOPT = "adopt", "Adopt"
        ADAPT = "adapt", "Adapt"
        REJECT = "reject", "Reject"

    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="decisions")
    version = models.ForeignKey(ProposalVersion, on_delete=models.PROTECT, related_name="+")
    component_key = models.CharField(max_length=40)
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    reason = models.TextField()
    adapted = models.JSONField(
        default=dict, blank=True, help_text="The company's edits of an adapted component."
    )
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    vendor_path: ClassVar[str | None] = "proposal__vendor_id"

    class Meta:
        ordering = ["proposal_id", "component_key"]
        constraints = [
            models.UniqueConstraint(fields=["proposal", "component_key"], name="proposals_decided_once"),
        ]

    def __str__(self) -> str:
        return f"{self.component_key}: {self.get_outcome_display()}"


class Objective(StewardModel):
    """An objective of the company's own CRM strategy."""

    code = models.SlugField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.title


class Initiative(StewardModel):
    """An initiative of the combined CRM strategy: the company's own, or adopted from a proposal.

    Promised versus actual: ``baseline`` and ``target`` come from the proposal (or the company);
    ``actual`` is the latest measured value. Balance of interests (002 §6.3): cost, expected and
    realised benefit in HKD, and the vendor's share of the benefit under gainshare terms.
    """

    class Status(models.TextChoices):
        PLANNED = "planned", "Planned"
        IN_PROGRESS = "in_progress", "In progress"
        DONE = "done", "Done"
        STOPPED = "stopped", "Stopped"

    objective = models.ForeignKey(Objective, on_delete=models.PROTECT, related_name="initiatives")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PLANNED)
    source_decision = models.OneToOneField(
        ComponentDecision, null=True, blank=True, on_delete=models.PROTECT, related_name="initiative"
    )
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="crm_initiatives"
    )
    kpi = models.CharField(max_length=200, blank=True)
    baseline = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    target = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    actual = models.DecimalField(max_digits=14, decimal_places=2, null=True, blank=True)
    cost = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    expected_benefit = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    realised_benefit = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal(0))
    vendor_share_pct = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))],
    )

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["objective__code", "title"]
        constraints = [
            models.CheckConstraint(condition=Q(cost__gte=0), name="proposals_initiative_cost_not_negative"),
        ]

    def __str__(self) -> str:
        return self.title


class Milestone(StewardModel):
    """An implementation milestone of an initiative (adoption at subsequent stages)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="milestones")
    title = models.CharField(max_length=200)
    due = models.DateField()
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    done_on = models.DateField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "initiative__vendor_id"

    class Meta:
        ordering = ["initiative_id", "due"]

    def __str__(self) -> str:
        return self.title

    @property
    def on_time(self) -> bool | None:
        return None if self.done_on is None else self.done_on <= self.due
