"""Reads for interfaces, shared documents, ideas, third-party staff and cooperation reviews, always
through ``restrict`` (a portal user: their own vendor only, and only what the models let it see).

The review dossier assembles what a cooperation review looks at, each figure one aggregate query:
score trend, credits and bonuses, obligations missed, open actions, ideas and their outcomes, and
what the contract cost against what it delivered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, F, Prefetch, Q, QuerySet, Sum
from django.utils import timezone

from core.access import get_restricted_or_404
from kpis.models import Adjustment, ScorecardPeriod
from vendors import schedules, selectors
from vendors.models import (
    AccessGrant,
    ActionItem,
    BoardingTask,
    ContractVersion,
    CooperationReview,
    GovernanceItem,
    GuidelineAcknowledgement,
    Idea,
    ImprovementMilestone,
    ObligationInstance,
    Party,
    SharedDocument,
    SharedDocumentVersion,
    SystemInterface,
    ThirdPartyWorker,
    TrainingRecord,
    Vendor,
    VendorImprovementPlan,
)

# --- Interfaces and governance --------------------------------------------------------------------


def interfaces(*, user: Any, vendor: Vendor | None = None, status: str = "") -> QuerySet[SystemInterface]:
    qs = SystemInterface.objects.restrict(user).select_related("vendor", "contract", "our_owner")
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("vendor__name", "our_system", "their_system", "id")


def interface_get(*, user: Any, pk: int, action: str = "view") -> SystemInterface:
    return get_restricted_or_404(SystemInterface, user=user, action=action, pk=pk)


def governance(*, user: Any, vendor: Vendor | None = None) -> QuerySet[GovernanceItem]:
    qs = GovernanceItem.objects.restrict(user).select_related("vendor")
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    return qs.order_by("vendor__name", "kind", "position", "title")


def governance_get(*, user: Any, pk: int, action: str = "view") -> GovernanceItem:
    return get_restricted_or_404(GovernanceItem, user=user, action=action, pk=pk)


# --- Shared documents -----------------------------------------------------------------------------


def shared_documents(*, user: Any, vendor: Vendor | None = None) -> QuerySet[SharedDocument]:
    """Shared documents with their versions (newest first) in two queries."""
    versions = SharedDocumentVersion.objects.restrict(user).select_related("uploaded_by").order_by("-number")
    qs = (
        SharedDocument.objects.restrict(user)
        .select_related("vendor")
        .prefetch_related(Prefetch("versions", queryset=versions))
    )
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    return qs.order_by("vendor__name", "title")


def shared_document_get(*, user: Any, pk: int, action: str = "view") -> SharedDocument:
    return get_restricted_or_404(SharedDocument, user=user, action=action, pk=pk)


def shared_version_get(*, user: Any, pk: int) -> SharedDocumentVersion:
    return get_restricted_or_404(SharedDocumentVersion, user=user, pk=pk)


# --- Ideas ----------------------------------------------------------------------------------------


def ideas(*, user: Any, vendor: Vendor | None = None, status: str = "") -> QuerySet[Idea]:
    qs = Idea.objects.restrict(user).select_related("vendor", "contract", "submitted_by", "decided_by")
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def idea_get(*, user: Any, pk: int, action: str = "view") -> Idea:
    return get_restricted_or_404(Idea, user=user, action=action, pk=pk)


# --- Third-party staff ----------------------------------------------------------------------------


def workers(
    *, user: Any, vendor: Vendor | None = None, current_only: bool = False
) -> QuerySet[ThirdPartyWorker]:
    """The vendor's people with their open access and open checklist lines counted (one query)."""
    today = timezone.localdate()
    qs = (
        ThirdPartyWorker.objects.restrict(user)
        .select_related("vendor", "user")
        .annotate(
            open_access=Count(
                "access_grants", filter=Q(access_grants__revoked_on__isnull=True), distinct=True
            ),
            open_tasks=Count("tasks", filter=Q(tasks__done_at__isnull=True), distinct=True),
        )
    )
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    if current_only:
        qs = qs.filter(Q(offboarded_on__isnull=True) | Q(offboarded_on__gt=today))
    return qs.order_by("vendor__name", "name")


def worker_get(*, user: Any, pk: int, action: str = "view") -> ThirdPartyWorker:
    return get_restricted_or_404(ThirdPartyWorker, user=user, action=action, pk=pk)


def worker_detail(*, user: Any, worker: ThirdPartyWorker) -> dict[str, QuerySet[Any]]:
    """A worker's access, training, acknowledgements and checklists, each through ``restrict``.

    Acknowledgements come from two places, shown together and never copied: those the vendor
    manager recorded here (documents outside Steward's guideline register), and the guideline
    versions the worker acknowledged themselves in the portal (``proposals.Acknowledgement``, the
    record the proposals stage gates read).
    """
    from proposals.models import Acknowledgement

    in_portal = (
        Acknowledgement.objects.restrict(user)
        .filter(user_id=worker.user_id)
        .select_related("version__guideline")
        if worker.user_id is not None
        else Acknowledgement.objects.none()
    )
    return {
        "grants": AccessGrant.objects.restrict(user).filter(worker=worker).order_by("system", "-granted_on"),
        "training": TrainingRecord.objects.restrict(user).filter(worker=worker),
        "acknowledgements": GuidelineAcknowledgement.objects.restrict(user).filter(worker=worker),
        "portal_acknowledgements": in_portal,
        "tasks": BoardingTask.objects.restrict(user).filter(worker=worker).select_related("done_by"),
    }


def access_grant_get(*, user: Any, pk: int, action: str = "view") -> AccessGrant:
    return get_restricted_or_404(AccessGrant, user=user, action=action, pk=pk)


def boarding_task_get(*, user: Any, pk: int, action: str = "view") -> BoardingTask:
    return get_restricted_or_404(BoardingTask, user=user, action=action, pk=pk)


def access_alerts(
    *, user: Any, vendor: Vendor | None = None, today: date | None = None
) -> QuerySet[AccessGrant]:
    """Access still open (or revoked only later) after the worker's off-boarding date: each one is a
    door left open to someone who no longer works for us."""
    today = today or timezone.localdate()
    qs = (
        AccessGrant.objects.restrict(user)
        .filter(worker__offboarded_on__isnull=False, worker__offboarded_on__lte=today)
        .filter(Q(revoked_on__isnull=True) | Q(revoked_on__gt=F("worker__offboarded_on")))
        .select_related("worker__vendor")
    )
    if vendor is not None:
        qs = qs.filter(worker__vendor=vendor)
    return qs.order_by("worker__offboarded_on", "id")


# --- Reviews and improvement plans ----------------------------------------------------------------


def reviews(*, user: Any, vendor: Vendor | None = None, status: str = "") -> QuerySet[CooperationReview]:
    qs = CooperationReview.objects.restrict(user).select_related("vendor", "contract", "decided_by")
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-scheduled_on", "-id")


def review_get(*, user: Any, pk: int, action: str = "view") -> CooperationReview:
    return get_restricted_or_404(CooperationReview, user=user, action=action, pk=pk)


def improvement_plans(*, user: Any, vendor: Vendor | None = None) -> QuerySet[VendorImprovementPlan]:
    milestones = ImprovementMilestone.objects.restrict(user)
    qs = (
        VendorImprovementPlan.objects.restrict(user)
        .select_related("vendor", "review", "owner")
        .prefetch_related(Prefetch("milestones", queryset=milestones))
    )
    return qs.filter(vendor=vendor) if vendor is not None else qs


def milestone_get(*, user: Any, pk: int, action: str = "view") -> ImprovementMilestone:
    return get_restricted_or_404(ImprovementMilestone, user=user, action=action, pk=pk)


@dataclass
class Dossier:
    """What a cooperation review looks at. Money in HKD; scores 0–100."""

    trend: list[tuple[str, Decimal | None, str]] = field(default_factory=list)
    average_score: Decimal | None = None
    periods_scored: int = 0
    credits: Decimal = Decimal("0.00")
    earn_backs: Decimal = Decimal("0.00")
    bonuses: Decimal = Decimal("0.00")
    adjustments_pending: int = 0
    compliance: selectors.Compliance | None = None
    missed: list[ObligationInstance] = field(default_factory=list)
    open_actions: list[ActionItem] = field(default_factory=list)
    ideas: list[Idea] = field(default_factory=list)
    ideas_by_status: dict[str, int] = field(default_factory=dict)
    # CRM strategy proposals (proposals package): status, and components adopted / adapted / rejected.
    proposals: list[dict[str, Any]] = field(default_factory=list)
    fees: Decimal = Decimal(0)
    months_in_force: int = 0

    @property
    def net_cost(self) -> Decimal:
        """What we paid: the fees, less the service credits, plus earn-backs and bonuses."""
        return self.fees - self.credits + self.earn_backs + self.bonuses

    @property
    def ideas_summary(self) -> list[tuple[str, int]]:
        """(status label, count) in the order an idea moves on."""
        return [
            (str(label), self.ideas_by_status[value])
            for value, label in Idea.Status.choices
            if value in self.ideas_by_status
        ]

    @property
    def credit_rate(self) -> Decimal | None:
        """Credits as a share of the fees (%): the part of the price the vendor did not earn."""
        if not self.fees:
            return None
        return (self.credits * 100 / self.fees).quantize(Decimal("0.01"))

    def figures(self) -> dict[str, Any]:
        """The figures as plain JSON, kept with the decision."""
        compliance = self.compliance
        return {
            "average_score": str(self.average_score) if self.average_score is not None else None,
            "periods_scored": self.periods_scored,
            "credits": str(self.credits),
            "earn_backs": str(self.earn_backs),
            "bonuses": str(self.bonuses),
            "fees": str(self.fees),
            "net_cost": str(self.net_cost),
            "compliance": str(compliance.score) if compliance and compliance.score is not None else None,
            "obligations_missed": compliance.missed if compliance else 0,
            "open_actions": len(self.open_actions),
            "ideas_by_status": self.ideas_by_status,
            "proposals": [{k: v for k, v in p.items() if k != "id"} for p in self.proposals],
        }


TREND_MONTHS_BEFORE = 6
CENT = Decimal("0.01")


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(CENT)


def _months(start: date, end: date) -> list[date]:
    months, month = [], start.replace(day=1)
    while month <= end:
        months.append(month)
        month = schedules.add_months(month, 1)
    return months


def _proposals(user: Any, vendor_id: int, start: date, end: date) -> list[dict[str, Any]]:
    """The vendor's CRM proposals whose call closed in the period or is still undecided, with the
    outcome of their components (one query)."""
    from proposals.models import ComponentDecision, Proposal

    rows = (
        Proposal.objects.restrict(user)
        .filter(vendor_id=vendor_id)
        .filter(
            Q(call__deadline__date__gte=start, call__deadline__date__lte=end)
            | ~Q(status__in=[Proposal.Status.DECIDED, Proposal.Status.WITHDRAWN])
        )
        .values("pk", "call__title", "status")
        .annotate(
            adopted=Count("decisions", filter=Q(decisions__outcome=ComponentDecision.Outcome.ADOPT)),
            adapted=Count("decisions", filter=Q(decisions__outcome=ComponentDecision.Outcome.ADAPT)),
            rejected=Count("decisions", filter=Q(decisions__outcome=ComponentDecision.Outcome.REJECT)),
        )
        .order_by("call__deadline")[:50]
    )
    labels = dict(Proposal.Status.choices)
    return [
        {
            "id": row["pk"],
            "call": row["call__title"],
            "status": str(labels[row["status"]]),
            "adopted": row["adopted"],
            "adapted": row["adapted"],
            "rejected": row["rejected"],
        }
        for row in rows
    ]


def review_dossier(*, user: Any, review: CooperationReview) -> Dossier:
    """Assemble a review's figures for USER (through ``restrict``); a fixed number of queries."""
    contract = review.contract
    start, end = review.period_start, review.period_end
    dossier = Dossier()
    if contract.scorecard_id is not None:
        periods = ScorecardPeriod.objects.restrict(user).filter(scorecard_id=contract.scorecard_id)
        trend_from = schedules.add_months(start, -TREND_MONTHS_BEFORE)
        for period in (
            periods.filter(start__gte=trend_from, start__lte=end).select_related("standing").order_by("start")
        ):
            colour = period.standing.colour if period.standing else "#5b6875"
            dossier.trend.append((period.start.strftime("%b %Y"), period.score, colour))
        in_period = periods.filter(start__gte=start, start__lte=end)
        scored = in_period.aggregate(average=Avg("score"), scored=Count("pk", filter=Q(score__isnull=False)))
        if scored["average"] is not None:
            dossier.average_score = Decimal(scored["average"]).quantize(Decimal("0.01"))
        dossier.periods_scored = scored["scored"]
        settled = [Adjustment.Status.APPROVED, Adjustment.Status.OVERRIDDEN]
        money = (
            Adjustment.objects.restrict(user)
            .filter(
                period__scorecard_id=contract.scorecard_id, period__start__gte=start, period__start__lte=end
            )
            .aggregate(
                credits=Sum("approved_amount", filter=Q(kind=Adjustment.Kind.CREDIT, status__in=settled)),
                earn_backs=Sum(
                    "approved_amount", filter=Q(kind=Adjustment.Kind.EARN_BACK, status__in=settled)
                ),
                bonuses=Sum("approved_amount", filter=Q(kind=Adjustment.Kind.BONUS, status__in=settled)),
                pending=Count("pk", filter=Q(status=Adjustment.Status.PROPOSED)),
            )
        )
        dossier.credits = _money(money["credits"])
        dossier.earn_backs = _money(money["earn_backs"])
        dossier.bonuses = _money(money["bonuses"])
        dossier.adjustments_pending = money["pending"]
    dossier.compliance = selectors.compliance(user=user, contract=contract, start=start, end=end)
    dossier.missed = list(
        ObligationInstance.objects.restrict(user)
        .filter(
            obligation__contract=contract,
            obligation__owner_party=Party.VENDOR,
            status=ObligationInstance.Status.MISSED,
            due_on__gte=start,
            due_on__lte=end,
        )
        .select_related("obligation")
        .order_by("due_on")[:50]
    )
    dossier.open_actions = list(selectors.action_items(user=user, vendor=review.vendor, open_only=True)[:50])
    # Ideas raised in the period, and any still open from before: the proposals and their outcomes.
    vendor_ideas = Idea.objects.restrict(user).filter(vendor_id=review.vendor_id)
    relevant = vendor_ideas.filter(
        Q(created_at__date__gte=start, created_at__date__lte=end)
        | Q(status__in=[Idea.Status.NEW, Idea.Status.UNDER_CONSIDERATION])
    )
    dossier.ideas = list(relevant.order_by("-created_at")[:50])
    dossier.ideas_by_status = {
        row["status"]: row["n"] for row in relevant.order_by().values("status").annotate(n=Count("pk"))
    }
    dossier.proposals = _proposals(user, review.vendor_id, start, end)
    # Fees: the monthly fee of the agreed version in force on the first day of each month of the period
    # (one query for the versions; a loop over at most twelve months, not over rows).
    versions = list(
        ContractVersion.objects.restrict(user)
        .filter(
            contract=contract, status__in=ContractVersion.PUBLISHED, start__lte=end, effective_end__gte=start
        )
        .order_by("start")
        .values("start", "effective_end", "monthly_fee")
    )
    for month in _months(start, end):
        last = schedules.add_months(month, 1) - timedelta(days=1)
        fee = next(
            (
                v["monthly_fee"]
                for v in reversed(versions)
                if v["start"] <= last and v["effective_end"] >= month
            ),
            None,
        )
        if fee is not None:
            dossier.fees += fee
            dossier.months_in_force += 1
    dossier.fees = dossier.fees.quantize(CENT)
    return dossier


def upcoming_reviews(
    *, user: Any, within_days: int = 45, today: date | None = None
) -> QuerySet[CooperationReview]:
    today = today or timezone.localdate()
    return reviews(user=user, status=CooperationReview.Status.SCHEDULED).filter(
        scheduled_on__lte=today + timedelta(days=within_days)
    )


def has_open_access_alerts(*, user: Any) -> bool:
    return access_alerts(user=user).exists()
