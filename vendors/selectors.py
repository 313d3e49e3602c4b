"""Reads for vendors, contracts, obligations and liaison, always through ``restrict``.

Pages, the API and exports call these; each takes the acting user and returns only what that
user may see (a vendor's portal user: only their own vendor's). List querysets fetch what their
pages show in a fixed number of queries, whatever the number of rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, Exists, Max, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from core.access import get_restricted_or_404
from vendors import risk
from vendors.models import (
    ActionItem,
    BusinessFunction,
    Contract,
    ContractAlert,
    ContractVersion,
    DataExchange,
    DataFlow,
    LiaisonEntry,
    Obligation,
    ObligationEvidence,
    ObligationInstance,
    Party,
    RiskAssessment,
    RiskQuestionnaire,
    ScopeAssignment,
    UpdateRequest,
    Vendor,
    VendorContact,
    VendorDocument,
    VendorService,
    VendorStatusChange,
)

MAX_NOTICE_DAYS = 730  # ContractVersion.notice_period_days' validator

# --- Vendors --------------------------------------------------------------------------------------


def vendor_list(
    *, user: Any, status: str = "", search: str = "", category: str = "", risk_tier: str = ""
) -> QuerySet[Vendor]:
    """Vendors the user may see, with their services and current risk tier (latest assessment)."""
    latest = RiskAssessment.objects.filter(vendor_id=OuterRef("pk")).order_by("-created_at", "-id")
    qs = (
        Vendor.objects.restrict(user)
        .annotate(risk_tier=Subquery(latest.values("tier")[:1]))
        .prefetch_related(Prefetch("services", queryset=VendorService.objects.order_by("category")))
        .order_by("name")
    )
    if status:
        qs = qs.filter(status=status)
    if search:
        qs = qs.filter(Q(name__icontains=search) | Q(code__icontains=search))
    if category:
        qs = qs.filter(Exists(VendorService.objects.filter(vendor_id=OuterRef("pk"), category=category)))
    if risk_tier:
        qs = qs.filter(risk_tier=risk_tier)
    return qs


def vendor_get(*, user: Any, pk: int, action: str = "view") -> Vendor:
    """The vendor, or Http404 when it does not exist or the user may not reach it."""
    return get_restricted_or_404(Vendor, user=user, action=action, pk=pk)


def status_history(*, user: Any, vendor: Vendor) -> QuerySet[VendorStatusChange]:
    return VendorStatusChange.objects.restrict(user).filter(vendor=vendor).select_related("changed_by")


def risk_assessments(*, user: Any, vendor: Vendor) -> QuerySet[RiskAssessment]:
    """The vendor's risk assessments, latest (the current tier) first."""
    return (
        RiskAssessment.objects.restrict(user)
        .filter(vendor=vendor)
        .select_related("questionnaire", "assessed_by")
        .order_by("-created_at", "-id")
    )


def risk_questionnaire_current(*, user: Any) -> RiskQuestionnaire | None:
    """The questionnaire a new assessment uses: the latest published version of the default one,
    or (before any assessment) Steward's built-in default, not yet saved. None without permission."""
    if not user.has_perm("vendors.view_riskquestionnaire"):
        return None
    spec = risk.DEFAULT_QUESTIONNAIRE
    found = RiskQuestionnaire.objects.restrict(user).filter(code=spec["code"]).order_by("-version").first()
    return found or RiskQuestionnaire(
        code=spec["code"], version=0, title=spec["title"], questions=spec["questions"], tiers=spec["tiers"]
    )


def contacts(*, user: Any, vendor: Vendor) -> QuerySet[VendorContact]:
    return VendorContact.objects.restrict(user).filter(vendor=vendor)


def contact_get(*, user: Any, pk: int, action: str = "view") -> VendorContact:
    return get_restricted_or_404(VendorContact, user=user, action=action, pk=pk)


def documents(*, user: Any, vendor: Vendor | None = None) -> QuerySet[VendorDocument]:
    qs = VendorDocument.objects.restrict(user).select_related("vendor", "replaced_by")
    return qs.filter(vendor=vendor) if vendor is not None else qs


def document_get(*, user: Any, pk: int) -> VendorDocument:
    return get_restricted_or_404(VendorDocument, user=user, pk=pk)


def documents_expiring(
    *, user: Any, within_days: int = 60, today: date | None = None
) -> QuerySet[VendorDocument]:
    """Current documents (not replaced) that expire within WITHIN_DAYS, or have expired."""
    today = today or timezone.localdate()
    return documents(user=user).filter(
        replaced_by__isnull=True,
        expires_on__isnull=False,
        expires_on__lte=today + timedelta(days=within_days),
    )


# --- Contracts ------------------------------------------------------------------------------------


def _in_force(prefix: str = "") -> QuerySet[ContractVersion]:
    return ContractVersion.objects.filter(
        **{f"{prefix}contract_id": OuterRef("pk")}, status=ContractVersion.Status.ACTIVE
    ).order_by("-effective_end", "-number")


def contract_list(*, user: Any, vendor: Vendor | None = None, search: str = "") -> QuerySet[Contract]:
    """Contracts the user may see with the term and fee of their latest active version."""
    latest = _in_force()
    qs = (
        Contract.objects.restrict(user)
        .select_related("vendor", "owner")
        .annotate(
            term_start=Subquery(latest.values("start")[:1]),
            term_end=Subquery(latest.values("effective_end")[:1]),
            notice_by=Subquery(latest.values("notice_by")[:1]),
            monthly_fee=Subquery(
                latest.values("monthly_fee")[:1], output_field=DecimalField(max_digits=14, decimal_places=2)
            ),
            drafts=Count("versions", filter=Q(versions__status=ContractVersion.Status.DRAFT)),
        )
        .order_by("vendor__name", "reference")
    )
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    if search:
        qs = qs.filter(Q(reference__icontains=search) | Q(title__icontains=search))
    return qs


def contract_get(*, user: Any, pk: int, action: str = "view") -> Contract:
    return get_restricted_or_404(Contract, user=user, action=action, pk=pk)


def versions(*, user: Any, contract: Contract) -> QuerySet[ContractVersion]:
    return ContractVersion.objects.restrict(user).filter(contract=contract).order_by("-number")


def version_get(*, user: Any, pk: int, action: str = "view") -> ContractVersion:
    return get_restricted_or_404(ContractVersion, user=user, action=action, pk=pk)


def version_with_parts(*, user: Any, version: ContractVersion) -> ContractVersion:
    """VERSION with its fees, scope, RACI and service levels (each through ``restrict``) prefetched."""
    from vendors.models import FeeItem, RaciEntry, ScopeItem, ServiceLevel

    return (
        ContractVersion.objects.filter(pk=version.pk)
        .select_related("contract__vendor")
        .prefetch_related(Prefetch("fees", queryset=FeeItem.objects.restrict(user)))
        .prefetch_related(Prefetch("scope_items", queryset=ScopeItem.objects.restrict(user)))
        .prefetch_related(Prefetch("raci", queryset=RaciEntry.objects.restrict(user)))
        .prefetch_related(
            Prefetch("service_levels", queryset=ServiceLevel.objects.restrict(user).select_related("kpi"))
        )
        .get()
    )


def current_version(*, user: Any, contract: Contract, today: date | None = None) -> ContractVersion | None:
    """The version in force today; else the next to start; else the latest agreed; else the draft."""
    today = today or timezone.localdate()
    visible = versions(user=user, contract=contract).exclude(status=ContractVersion.Status.CANCELLED)
    agreed = visible.filter(status__in=ContractVersion.PUBLISHED)
    return (
        agreed.filter(start__lte=today, effective_end__gte=today).first()
        or agreed.filter(status=ContractVersion.Status.ACTIVE, start__gt=today).order_by("start").first()
        or agreed.first()
        or visible.first()
    )


@dataclass(frozen=True)
class Compliance:
    """Obligation compliance of a contract over a period: met ÷ (met + missed), waivers aside."""

    met: int
    missed: int
    waived: int
    open: int

    @property
    def score(self) -> Decimal | None:
        judged = self.met + self.missed
        if not judged:
            return None
        return (Decimal(self.met) * 100 / judged).quantize(Decimal("0.1"))


def compliance(*, user: Any, contract: Contract, start: date, end: date) -> Compliance:
    """The vendor's compliance: its obligations due from START up to and including END, counted by
    outcome in one query (our own obligations to the vendor are not the vendor's score)."""
    status = ObligationInstance.Status
    counts = (
        ObligationInstance.objects.restrict(user)
        .filter(
            obligation__contract=contract,
            obligation__owner_party=Party.VENDOR,
            due_on__gte=start,
            due_on__lte=end,
        )
        .aggregate(
            met=Count("pk", filter=Q(status=status.MET)),
            missed=Count("pk", filter=Q(status=status.MISSED)),
            waived=Count("pk", filter=Q(status=status.WAIVED)),
            open=Count("pk", filter=Q(status__in=[status.UPCOMING, status.DUE])),
        )
    )
    return Compliance(**counts)


def renewals(*, user: Any, within_days: int = 120, today: date | None = None) -> QuerySet[ContractVersion]:
    """Active versions whose notice deadline or end falls within WITHIN_DAYS and that no later active
    version renews: what needs deciding soon, soonest notice deadline first."""
    today = today or timezone.localdate()
    horizon = today + timedelta(days=within_days)
    renewed = ContractVersion.objects.filter(
        contract_id=OuterRef("contract_id"),
        status=ContractVersion.Status.ACTIVE,
        start__gt=OuterRef("effective_end"),
    )
    # v1: a version still in force has notice_by ≥ today − the longest notice period (730 days), so this
    # bound changes no answer; it lets the (status, notice_by, effective_end) index be read in page
    # order from there and stop at the page, instead of sorting every version in force.
    earliest_notice = today - timedelta(days=MAX_NOTICE_DAYS)
    return (
        ContractVersion.objects.restrict(user)
        .filter(
            status=ContractVersion.Status.ACTIVE, effective_end__gte=today, notice_by__gte=earliest_notice
        )
        .filter(Q(notice_by__lte=horizon) | Q(effective_end__lte=horizon))
        .exclude(Exists(renewed))
        .select_related("contract__vendor", "contract__owner")
        .order_by("notice_by", "effective_end", "id")
    )


def alerts_open(*, user: Any) -> QuerySet[ContractAlert]:
    return (
        ContractAlert.objects.restrict(user)
        .filter(acknowledged_at__isnull=True)
        .select_related("contract__vendor", "version")
        .order_by("due_on", "id")
    )


def alert_get(*, user: Any, pk: int, action: str = "view") -> ContractAlert:
    return get_restricted_or_404(ContractAlert, user=user, action=action, pk=pk)


# --- Obligations ----------------------------------------------------------------------------------


def obligations(*, user: Any, contract: Contract) -> QuerySet[Obligation]:
    status = ObligationInstance.Status
    return (
        Obligation.objects.restrict(user)
        .filter(contract=contract)
        .select_related("owner")
        .annotate(
            open_count=Count("instances", filter=Q(instances__status__in=[status.UPCOMING, status.DUE])),
            missed_count=Count("instances", filter=Q(instances__status=status.MISSED)),
        )
    )


def obligation_get(*, user: Any, pk: int, action: str = "view") -> Obligation:
    return get_restricted_or_404(Obligation, user=user, action=action, pk=pk)


def obligation_calendar(
    *,
    user: Any,
    start: date | None = None,
    end: date | None = None,
    status: str = "",
    vendor_id: int | None = None,
    contract_id: int | None = None,
) -> QuerySet[ObligationInstance]:
    """The obligation calendar: instances by due date with their obligation, contract, vendor and
    how many evidence files each has; two queries per page whatever the size."""
    qs = ObligationInstance.objects.restrict(user).select_related(
        "obligation__contract__vendor", "obligation__owner"
    )
    if start is not None:
        qs = qs.filter(due_on__gte=start)
    if end is not None:
        qs = qs.filter(due_on__lte=end)
    if status:
        qs = qs.filter(status=status)
    if vendor_id is not None:
        qs = qs.filter(obligation__contract__vendor_id=vendor_id)
    if contract_id is not None:
        qs = qs.filter(obligation__contract_id=contract_id)
    has_evidence = ObligationEvidence.objects.filter(instance_id=OuterRef("pk"))
    return qs.annotate(has_evidence=Exists(has_evidence)).order_by("due_on", "id")


def instance_get(*, user: Any, pk: int, action: str = "view") -> ObligationInstance:
    return get_restricted_or_404(ObligationInstance, user=user, action=action, pk=pk)


def evidence_list(*, user: Any, instance: ObligationInstance) -> QuerySet[ObligationEvidence]:
    return ObligationEvidence.objects.restrict(user).filter(instance=instance).select_related("uploaded_by")


def evidence_get(*, user: Any, pk: int) -> ObligationEvidence:
    return get_restricted_or_404(ObligationEvidence, user=user, pk=pk)


# --- Outsourcing scope ----------------------------------------------------------------------------


def scope_matrix(*, user: Any, area: str = "") -> QuerySet[BusinessFunction]:
    """Our functions with who performs them, and the counts that flag a problem, computed in the
    database: a *gap* is a function nobody performs (no in-house, outsourced or shared line with a
    vendor whose relationship goes on); an *overlap* is one that more than one party claims whole
    (in-house and outsourced, or two vendors outsourced). Shared lines mean both parties by design."""
    mode = ScopeAssignment.Mode
    live = ~Q(assignments__vendor__status=Vendor.Status.ENDED)
    qs = (
        BusinessFunction.objects.restrict(user)
        .annotate(
            in_house=Count("assignments", filter=Q(assignments__mode=mode.IN_HOUSE)),
            outsourced=Count("assignments", filter=Q(assignments__mode=mode.OUTSOURCED) & live),
            shared=Count("assignments", filter=Q(assignments__mode=mode.SHARED) & live),
        )
        .prefetch_related(
            Prefetch(
                "assignments",
                queryset=ScopeAssignment.objects.restrict(user).select_related("vendor", "contract"),
            )
        )
        .order_by("area", "name")
    )
    return qs.filter(area=area) if area else qs


def function_get(*, user: Any, pk: int) -> BusinessFunction:
    return get_restricted_or_404(BusinessFunction, user=user, pk=pk)


def assignment_get(*, user: Any, pk: int, action: str = "view") -> ScopeAssignment:
    return get_restricted_or_404(ScopeAssignment, user=user, action=action, pk=pk)


# --- Information exchange -------------------------------------------------------------------------


def data_flows(
    *, user: Any, vendor: Vendor | None = None, personal_data: bool | None = None
) -> QuerySet[DataFlow]:
    """Register lines with how many exchanges were logged and the latest, in one query."""
    qs = (
        DataFlow.objects.restrict(user)
        .select_related("vendor", "contract")
        .annotate(exchange_count=Count("exchanges"), last_exchange=Max("exchanges__occurred_at"))
        .order_by("vendor__name", "direction", "title")
    )
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    if personal_data is not None:
        qs = qs.filter(personal_data=personal_data)
    return qs


def data_flow_get(*, user: Any, pk: int, action: str = "view") -> DataFlow:
    return get_restricted_or_404(DataFlow, user=user, action=action, pk=pk)


def data_exchanges(*, user: Any, flow: DataFlow) -> QuerySet[DataExchange]:
    return DataExchange.objects.restrict(user).filter(flow=flow).select_related("logged_by")


# --- Liaison --------------------------------------------------------------------------------------


def liaison_list(*, user: Any, vendor: Vendor | None = None) -> QuerySet[LiaisonEntry]:
    qs = (
        LiaisonEntry.objects.restrict(user)
        .select_related("vendor", "contract", "recorded_by")
        .annotate(
            action_count=Count("actions"),
            open_actions=Count("actions", filter=~Q(actions__status__in=ActionItem.CLOSED)),
        )
    )
    return qs.filter(vendor=vendor) if vendor is not None else qs


def liaison_get(*, user: Any, pk: int) -> LiaisonEntry:
    return get_restricted_or_404(LiaisonEntry, user=user, pk=pk)


def action_items(
    *, user: Any, vendor: Vendor | None = None, entry: LiaisonEntry | None = None, open_only: bool = False
) -> QuerySet[ActionItem]:
    qs = ActionItem.objects.restrict(user).select_related("vendor", "entry", "owner")
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    if entry is not None:
        qs = qs.filter(entry=entry)
    if open_only:
        qs = qs.exclude(status__in=ActionItem.CLOSED)
    return qs.order_by("due_on", "id")


def action_item_get(*, user: Any, pk: int, action: str = "view") -> ActionItem:
    return get_restricted_or_404(ActionItem, user=user, action=action, pk=pk)


def update_requests(*, user: Any, vendor: Vendor | None = None, status: str = "") -> QuerySet[UpdateRequest]:
    qs = UpdateRequest.objects.restrict(user).select_related(
        "vendor", "contract", "requested_by", "responded_by"
    )
    if vendor is not None:
        qs = qs.filter(vendor=vendor)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("due_on", "id")


def update_request_get(*, user: Any, pk: int, action: str = "view") -> UpdateRequest:
    return get_restricted_or_404(UpdateRequest, user=user, action=action, pk=pk)


# --- Dashboard and portal -------------------------------------------------------------------------


def dashboard_figures(*, user: Any, today: date | None = None) -> dict[str, int]:
    """Counts for the home dashboard: each a single aggregate query through ``restrict``."""
    today = today or timezone.localdate()
    status = ObligationInstance.Status
    obligations_by = ObligationInstance.objects.restrict(user).aggregate(
        due=Count("pk", filter=Q(status=status.DUE)),
        missed=Count("pk", filter=Q(status=status.MISSED)),
    )
    upcoming = renewals(user=user, within_days=120, today=today).aggregate(
        notice_30=Count("pk", filter=Q(notice_by__lte=today + timedelta(days=30))),
        within_120=Count("pk"),
    )
    return {
        "notice_30": upcoming["notice_30"],
        "renewals_120": upcoming["within_120"],
        "obligations_due": obligations_by["due"],
        "obligations_missed": obligations_by["missed"],
        "alerts_open": alerts_open(user=user).count(),
    }


def portal_figures(*, user: Any) -> dict[str, int]:
    """Counts for a portal user's dashboard panel, through ``restrict`` (their own vendor only)."""
    status = ObligationInstance.Status
    return {
        "obligations_due": ObligationInstance.objects.restrict(user)
        .filter(status__in=[status.DUE, status.MISSED])
        .count(),
        "requests_open": UpdateRequest.objects.restrict(user)
        .filter(status=UpdateRequest.Status.OPEN)
        .count(),
        "actions_open": ActionItem.objects.restrict(user).exclude(status__in=ActionItem.CLOSED).count(),
    }
