"""API: the vendor register, contracts and their versions, obligations and evidence, renewal alerts,
liaison, action items and update requests.

Endpoints only parse, fetch through a selector (``restrict``: another vendor's ids are a 404, and
the attempt is audited) and call a service; the rules live in ``vendors.services``. Routes with a
fixed first segment (``/contracts``…) are declared before ``/{vendor_id}`` so that the vendor id
route never captures them.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from accounts.models import User
from core.api import InputSchema, ObjectId, UtcDateTime, actor, paginate
from kpis.models import KpiDefinition
from vendors import selectors, services
from vendors.models import (
    ActionItem,
    BusinessFunction,
    Contract,
    ContractAlert,
    ContractVersion,
    DataExchange,
    DataFlow,
    FeeItem,
    LiaisonEntry,
    Obligation,
    ObligationEvidence,
    ObligationInstance,
    Party,
    Raci,
    RenewalType,
    RiskAssessment,
    RiskQuestionnaire,
    RiskTier,
    ScopeAssignment,
    ScopeItem,
    ServiceCategory,
    ServiceLevel,
    ServiceModel,
    UpdateRequest,
    Vendor,
    VendorContact,
    VendorDocument,
)

router = Router(tags=["vendors"])

Money = Field(..., ge=0, max_digits=14, decimal_places=2)
Pct = Field(Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2)
Text = Field("", max_length=4000)


def _need(request: HttpRequest, perm: str, message: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(message)


# --- Schemas: the register ------------------------------------------------------------------------


class ServiceIn(InputSchema):
    category: ServiceCategory
    service_model: ServiceModel
    description: str = Field("", max_length=300)


class ServiceOut(Schema):
    category: ServiceCategory
    service_model: ServiceModel
    description: str


class VendorOut(Schema):
    id: int
    code: str
    name: str
    status: Vendor.Status
    services: list[ServiceOut]
    risk_tier: RiskTier | None = None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def resolve_services(obj: Vendor) -> list[Any]:
        return list(obj.services.all())

    @staticmethod
    def resolve_risk_tier(obj: Vendor) -> str | None:
        return getattr(obj, "risk_tier", None)


class VendorIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(..., min_length=1, max_length=200)
    status: Vendor.Status = Vendor.Status.PROSPECT
    services: list[ServiceIn] = Field(default_factory=list, max_length=20)


class VendorPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    status: Vendor.Status | None = None
    reason: str = Field("", max_length=2000, description="Why the status changes (kept in the history).")


class VendorQuery(Schema):
    status: Vendor.Status | None = None
    search: str = Field("", max_length=100)
    category: ServiceCategory | None = None
    risk_tier: RiskTier | None = None


class StatusIn(InputSchema):
    status: Vendor.Status
    reason: str = Field(..., min_length=1, max_length=2000)


class StatusChangeOut(Schema):
    id: int
    from_status: str
    to_status: Vendor.Status
    reason: str
    changed_by_id: int | None
    created_at: datetime


class ServicesIn(InputSchema):
    services: list[ServiceIn] = Field(..., max_length=20)


class QuestionnaireIn(InputSchema):
    code: str = Field(..., min_length=2, max_length=60, pattern=r"^[-a-z0-9]+$")
    title: str = Field(..., min_length=1, max_length=200)
    questions: list[dict[str, Any]] = Field(..., min_length=1, max_length=50)
    tiers: list[dict[str, Any]] = Field(..., min_length=1, max_length=4)


class QuestionnaireOut(Schema):
    id: int | None
    code: str
    version: int
    title: str
    questions: list[dict[str, Any]]
    tiers: list[dict[str, Any]]


class AssessmentIn(InputSchema):
    answers: dict[str, str] = Field(..., max_length=50)
    notes: str = Text
    questionnaire_id: ObjectId | None = None


class AssessmentOut(Schema):
    id: int
    vendor_id: int
    questionnaire_id: int
    answers: dict[str, str]
    score: Decimal
    tier: RiskTier
    notes: str
    assessed_by_id: int | None
    created_at: datetime


class ContactIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    job_title: str = Field("", max_length=200)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=40)
    escalation_level: int = Field(1, ge=1, le=4)
    is_primary: bool = False


class ContactPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=200)
    job_title: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=254)
    phone: str | None = Field(None, max_length=40)
    escalation_level: int | None = Field(None, ge=1, le=4)
    is_primary: bool | None = None


class ContactOut(Schema):
    id: int
    vendor_id: int
    name: str
    job_title: str
    email: str
    phone: str
    escalation_level: int
    is_primary: bool


class DocumentIn(InputSchema):
    kind: VendorDocument.Kind
    title: str = Field(..., min_length=1, max_length=200)
    reference: str = Field("", max_length=100)
    issuer: str = Field("", max_length=200)
    issued_on: date | None = None
    expires_on: date | None = None
    replaces_id: ObjectId | None = None


class DocumentOut(Schema):
    id: int
    vendor_id: int
    kind: VendorDocument.Kind
    title: str
    reference: str
    issuer: str
    issued_on: date | None
    expires_on: date | None
    file_name: str
    content_type: str
    size: int | None
    replaced_by_id: int | None


# --- Schemas: contracts ---------------------------------------------------------------------------


class TermsIn(InputSchema):
    start: date
    end: date
    signed_on: date | None = None
    monthly_fee: Decimal = Money
    total_value: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    at_risk_pct: Decimal = Pct
    renewal_type: RenewalType = RenewalType.BY_AGREEMENT
    renewal_term_months: int | None = Field(None, ge=1, le=120)
    notice_period_days: int = Field(90, ge=0, le=730)
    data_sharing: str = Text
    summary: str = Text


class TermsPatch(InputSchema):
    start: date | None = None
    end: date | None = None
    signed_on: date | None = None
    monthly_fee: Decimal | None = Field(None, ge=0, max_digits=14, decimal_places=2)
    total_value: Decimal | None = Field(None, ge=0, max_digits=16, decimal_places=2)
    at_risk_pct: Decimal | None = Field(None, ge=0, le=100, max_digits=5, decimal_places=2)
    renewal_type: RenewalType | None = None
    renewal_term_months: int | None = Field(None, ge=1, le=120)
    notice_period_days: int | None = Field(None, ge=0, le=730)
    data_sharing: str | None = Field(None, max_length=4000)
    summary: str | None = Field(None, max_length=4000)


class ContractIn(TermsIn):
    vendor_id: ObjectId
    reference: str = Field(..., min_length=1, max_length=60)
    title: str = Field(..., min_length=1, max_length=200)
    our_entity: str = Field(..., min_length=1, max_length=200)
    vendor_entity: str = Field("", max_length=200)
    owner_id: ObjectId | None = None
    alert_days: list[int] | None = Field(None, min_length=1, max_length=10)


class ContractPatch(InputSchema):
    title: str | None = Field(None, min_length=1, max_length=200)
    our_entity: str | None = Field(None, min_length=1, max_length=200)
    vendor_entity: str | None = Field(None, min_length=1, max_length=200)
    alert_days: list[int] | None = Field(None, min_length=1, max_length=10)


class ContractOut(Schema):
    id: int
    vendor_id: int
    reference: str
    title: str
    our_entity: str
    vendor_entity: str
    owner_id: int | None
    alert_days: list[int]
    term_start: date | None = None
    term_end: date | None = None
    notice_by: date | None = None
    monthly_fee: Decimal | None = None
    currency: str = "HKD"
    scorecard_id: int | None

    @staticmethod
    def resolve_term_start(obj: Contract) -> date | None:
        return getattr(obj, "term_start", None)

    @staticmethod
    def resolve_term_end(obj: Contract) -> date | None:
        return getattr(obj, "term_end", None)

    @staticmethod
    def resolve_notice_by(obj: Contract) -> date | None:
        return getattr(obj, "notice_by", None)

    @staticmethod
    def resolve_monthly_fee(obj: Contract) -> Decimal | None:
        # SQLite returns a subquery's decimal unscaled (100000); money always shows its cents.
        fee = getattr(obj, "monthly_fee", None)
        return None if fee is None else Decimal(fee).quantize(Decimal("0.01"))


class ContractVersionIn(TermsPatch):
    kind: Literal["amendment", "renewal"]


class FeeIn(InputSchema):
    description: str = Field(..., min_length=1, max_length=300)
    basis: FeeItem.Basis
    amount: Decimal = Money
    unit: str = Field("", max_length=60)


class FeeOut(Schema):
    description: str
    basis: FeeItem.Basis
    amount: Decimal
    unit: str


class ScopeIn(InputSchema):
    kind: ScopeItem.Kind
    description: str = Field(..., min_length=1, max_length=500)
    due_on: date | None = None
    acceptance: str = Field("", max_length=500)


class ScopeOut(Schema):
    kind: ScopeItem.Kind
    description: str
    due_on: date | None
    acceptance: str


class RaciIn(InputSchema):
    activity: str = Field(..., min_length=1, max_length=200)
    company_role: Raci
    vendor_role: Raci


class RaciOut(Schema):
    activity: str
    company_role: Raci
    vendor_role: Raci


class ServiceLevelIn(InputSchema):
    kpi_id: ObjectId
    kind: ServiceLevel.Kind
    weight: Decimal = Field(..., gt=0, le=100, max_digits=5, decimal_places=2)
    allocation_pct: Decimal = Pct
    clause: str = Field("", max_length=100)


class ServiceLevelOut(Schema):
    kpi_id: int
    kpi_code: str = Field(..., alias="kpi.code")
    kpi_name: str = Field(..., alias="kpi.name")
    kind: ServiceLevel.Kind
    weight: Decimal
    allocation_pct: Decimal
    clause: str


class ContractVersionOut(Schema):
    id: int
    contract_id: int
    number: int
    kind: ContractVersion.Kind
    status: ContractVersion.Status
    start: date
    end: date
    effective_end: date
    signed_on: date | None
    currency: str
    monthly_fee: Decimal
    total_value: Decimal | None
    at_risk_pct: Decimal
    at_risk_amount: Decimal
    renewal_type: RenewalType
    renewal_term_months: int | None
    notice_period_days: int
    notice_by: date
    data_sharing: str
    summary: str
    fees: list[FeeOut]
    scope_items: list[ScopeOut]
    raci: list[RaciOut]
    service_levels: list[ServiceLevelOut]

    @staticmethod
    def resolve_fees(obj: ContractVersion) -> list[Any]:
        return list(obj.fees.all())

    @staticmethod
    def resolve_scope_items(obj: ContractVersion) -> list[Any]:
        return list(obj.scope_items.all())

    @staticmethod
    def resolve_raci(obj: ContractVersion) -> list[Any]:
        return list(obj.raci.all())

    @staticmethod
    def resolve_service_levels(obj: ContractVersion) -> list[Any]:
        return list(obj.service_levels.all())


class ContractVersionSummaryOut(Schema):
    id: int
    number: int
    kind: ContractVersion.Kind
    status: ContractVersion.Status
    start: date
    effective_end: date
    monthly_fee: Decimal


class FeesIn(InputSchema):
    items: list[FeeIn] = Field(..., max_length=100)


class ScopesIn(InputSchema):
    items: list[ScopeIn] = Field(..., max_length=100)


class RacisIn(InputSchema):
    items: list[RaciIn] = Field(..., max_length=100)


class ServiceLevelsIn(InputSchema):
    items: list[ServiceLevelIn] = Field(..., max_length=100)


class ReasonIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=2000)


class InstanceNoteIn(InputSchema):
    note: str = Field("", max_length=2000)


class ContractScorecardOut(Schema):
    contract_id: int
    subject_id: int
    scorecard_id: int


class SearchQuery(Schema):
    search: str = Field("", max_length=100)


class PeriodQuery(Schema):
    start: date
    end: date


class ComplianceOut(Schema):
    start: date
    end: date
    met: int
    missed: int
    waived: int
    open: int
    score: Decimal | None


# --- Schemas: obligations, alerts -----------------------------------------------------------------


class ObligationIn(InputSchema):
    title: str = Field(..., min_length=1, max_length=200)
    first_due_on: date
    recurrence: Obligation.Recurrence = Obligation.Recurrence.ONCE
    until: date | None = None
    owner_party: Party = Party.VENDOR
    owner_id: ObjectId | None = None
    description: str = Text
    clause: str = Field("", max_length=100)
    evidence_required: bool = True
    evidence_description: str = Field("", max_length=300)


class ObligationOut(Schema):
    id: int
    contract_id: int
    title: str
    description: str
    clause: str
    owner_party: Party
    owner_id: int | None
    recurrence: Obligation.Recurrence
    first_due_on: date
    until: date | None
    evidence_required: bool
    evidence_description: str
    active: bool


class InstanceOut(Schema):
    id: int
    obligation_id: int
    title: str = Field(..., alias="obligation.title")
    contract_id: int = Field(..., alias="obligation.contract_id")
    contract_reference: str = Field(..., alias="obligation.contract.reference")
    vendor_id: int = Field(..., alias="obligation.contract.vendor_id")
    due_on: date
    status: ObligationInstance.Status
    reason: str
    decided_at: datetime | None
    has_evidence: bool = False

    @staticmethod
    def resolve_has_evidence(obj: ObligationInstance) -> bool:
        annotated = getattr(obj, "has_evidence", None)
        return bool(annotated) if annotated is not None else obj.evidence.exists()


class CalendarQuery(Schema):
    start: date | None = None
    end: date | None = None
    status: ObligationInstance.Status | None = None
    vendor_id: ObjectId | None = None
    contract_id: ObjectId | None = None


class EvidenceOut(Schema):
    id: int
    instance_id: int
    file_name: str
    content_type: str
    size: int
    sha256: str
    note: str
    uploaded_by_id: int
    created_at: datetime


class AlertOut(Schema):
    id: int
    contract_id: int
    version_id: int
    kind: ContractAlert.Kind
    due_on: date
    lead_days: int
    raised_on: date
    acknowledged_at: datetime | None


class RenewalOut(Schema):
    version_id: int = Field(..., alias="id")
    contract_id: int
    contract_reference: str = Field(..., alias="contract.reference")
    vendor_id: int = Field(..., alias="contract.vendor_id")
    renewal_type: RenewalType
    notice_by: date
    effective_end: date


class RenewalQuery(Schema):
    within_days: int = Field(120, ge=1, le=730)


# --- Schemas: liaison -----------------------------------------------------------------------------


class ActionIn(InputSchema):
    description: str = Field(..., min_length=1, max_length=500)
    owner_party: Party
    owner_id: ObjectId | None = None
    due_on: date


class ActionOut(Schema):
    id: int
    vendor_id: int
    entry_id: int | None
    description: str
    owner_party: Party
    owner_id: int | None
    due_on: date
    status: ActionItem.Status
    progress_note: str
    completed_at: datetime | None


class ActionPatch(InputSchema):
    status: ActionItem.Status
    progress_note: str | None = Field(None, max_length=4000)


class ActionQuery(Schema):
    vendor_id: ObjectId | None = None
    open_only: bool = False


class LiaisonIn(InputSchema):
    vendor_id: ObjectId
    contract_id: ObjectId | None = None
    kind: LiaisonEntry.Kind
    occurred_at: UtcDateTime
    title: str = Field(..., min_length=1, max_length=200)
    participants: str = Field("", max_length=500)
    minutes: str = Field("", max_length=20000)
    decisions: str = Field("", max_length=20000)
    actions: list[ActionIn] = Field(default_factory=list, max_length=50)


class LiaisonOut(Schema):
    id: int
    vendor_id: int
    contract_id: int | None
    kind: LiaisonEntry.Kind
    occurred_at: datetime
    title: str
    participants: str
    minutes: str
    decisions: str
    recorded_by_id: int | None
    actions: list[ActionOut]

    @staticmethod
    def resolve_actions(obj: LiaisonEntry) -> list[Any]:
        return list(obj.actions.all())


class VendorFilter(Schema):
    vendor_id: ObjectId | None = None


class UpdateRequestIn(InputSchema):
    vendor_id: ObjectId
    contract_id: ObjectId | None = None
    title: str = Field(..., min_length=1, max_length=200)
    details: str = Field(..., min_length=1, max_length=8000)
    due_on: date


class UpdateRequestOut(Schema):
    id: int
    vendor_id: int
    contract_id: int | None
    title: str
    details: str
    due_on: date
    status: UpdateRequest.Status
    response: str
    responded_at: datetime | None


class UpdateRequestQuery(Schema):
    vendor_id: ObjectId | None = None
    status: UpdateRequest.Status | None = None


class ResponseIn(InputSchema):
    response: str = Field(..., min_length=1, max_length=8000)


# --- Helpers --------------------------------------------------------------------------------------


def _owner(owner_id: int | None) -> User | None:
    """A person named by id in a body; the service checks they fit (our staff, or the vendor's user)."""
    if owner_id is None:
        return None
    owner: User | None = User.objects.filter(pk=owner_id, is_active=True).first()
    if owner is None:
        raise ValidationError({"owner_id": "No such active user."})
    return owner


def _vendor(request: HttpRequest, vendor_id: int) -> Vendor:
    """A vendor named in a body or query: one the caller may see (else 404, audited)."""
    return selectors.vendor_get(user=request.user, pk=vendor_id)


def _contract_of(request: HttpRequest, contract_id: int | None) -> Contract | None:
    return None if contract_id is None else selectors.contract_get(user=request.user, pk=contract_id)


def _kpis(request: HttpRequest, ids: list[int]) -> dict[int, KpiDefinition]:
    found = {k.pk: k for k in KpiDefinition.objects.restrict(request.user).filter(pk__in=ids)}
    missing = sorted(set(ids) - set(found))
    if missing:
        raise ValidationError({"items": f"No such KPI: {', '.join(map(str, missing))}."})
    return found


def _version_out(request: HttpRequest, version: ContractVersion) -> ContractVersion:
    return selectors.version_with_parts(user=request.user, version=version)


def _contract_out(request: HttpRequest, pk: int) -> Contract:
    return selectors.contract_list(user=request.user).get(pk=pk)


# --- Contracts ------------------------------------------------------------------------------------


@router.get("/contracts", response=list[ContractOut], summary="Contracts you may see")
@paginate
def contract_list(request: HttpRequest, filters: Query[SearchQuery]):  # type: ignore[no-untyped-def]
    return selectors.contract_list(user=request.user, search=filters.search)


@router.post(
    "/contracts", response={201: ContractOut}, summary="Record a contract (first version as a draft)"
)
def contract_create(request: HttpRequest, payload: ContractIn) -> Status[Contract]:
    _need(request, "vendors.add_contract", "Recording contracts needs the vendor manager role.")
    data = payload.dict()
    vendor = _vendor(request, data.pop("vendor_id"))
    owner = _owner(data.pop("owner_id"))
    contract = services.contract_create(actor=actor(request), vendor=vendor, owner=owner, **data)
    return Status(201, _contract_out(request, contract.pk))


@router.get("/contracts/{contract_id}", response=ContractOut, summary="One contract")
def contract_detail(request: HttpRequest, contract_id: ObjectId) -> Contract:
    selectors.contract_get(user=request.user, pk=contract_id)
    return _contract_out(request, contract_id)


@router.patch(
    "/contracts/{contract_id}", response=ContractOut, summary="Change a contract's title, parties or alerts"
)
def contract_update(request: HttpRequest, contract_id: ObjectId, payload: ContractPatch) -> Contract:
    contract = selectors.contract_get(user=request.user, pk=contract_id, action="change")
    services.contract_update(actor=actor(request), contract=contract, **payload.dict(exclude_unset=True))
    return _contract_out(request, contract_id)


@router.get(
    "/contracts/{contract_id}/versions",
    response=list[ContractVersionSummaryOut],
    summary="A contract's versions",
)
@paginate
def version_list(request: HttpRequest, contract_id: ObjectId):  # type: ignore[no-untyped-def]
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return selectors.versions(user=request.user, contract=contract)


@router.post(
    "/contracts/{contract_id}/versions",
    response={201: ContractVersionOut},
    summary="Draft an amendment or renewal (a copy of the latest agreed terms)",
)
def version_create(
    request: HttpRequest, contract_id: ObjectId, payload: ContractVersionIn
) -> Status[ContractVersion]:
    contract = selectors.contract_get(user=request.user, pk=contract_id, action="change")
    data = payload.dict(exclude_unset=True)
    kind = data.pop("kind")
    version = services.contract_version_create(actor=actor(request), contract=contract, kind=kind, **data)
    return Status(201, _version_out(request, version))


@router.get(
    "/contracts/{contract_id}/compliance",
    response=ComplianceOut,
    summary="Obligation compliance in a period: met ÷ (met + missed)",
)
def contract_compliance(
    request: HttpRequest, contract_id: ObjectId, period: Query[PeriodQuery]
) -> dict[str, Any]:
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    start, end = period.start, period.end
    if end < start:
        raise ValidationError({"end": "The period ends on or after it starts."})
    result = selectors.compliance(user=request.user, contract=contract, start=start, end=end)
    return {"start": start, "end": end, **asdict(result), "score": result.score}


@router.post(
    "/contracts/{contract_id}/scorecard",
    response=ContractScorecardOut,
    summary="Build or refresh the contract's monthly scorecard from its service levels",
)
def contract_scorecard(request: HttpRequest, contract_id: ObjectId) -> dict[str, int]:
    contract = selectors.contract_get(user=request.user, pk=contract_id, action="change")
    scorecard = services.contract_scorecard_setup(actor=actor(request), contract=contract)
    return {"contract_id": contract.pk, "subject_id": scorecard.subject_id, "scorecard_id": scorecard.pk}


@router.get(
    "/contracts/{contract_id}/obligations", response=list[ObligationOut], summary="A contract's obligations"
)
@paginate
def obligation_list(request: HttpRequest, contract_id: ObjectId):  # type: ignore[no-untyped-def]
    contract = selectors.contract_get(user=request.user, pk=contract_id)
    return selectors.obligations(user=request.user, contract=contract)


@router.post(
    "/contracts/{contract_id}/obligations",
    response={201: ObligationOut},
    summary="Record an obligation (its dated instances are generated to the end of the term)",
)
def obligation_create(
    request: HttpRequest, contract_id: ObjectId, payload: ObligationIn
) -> Status[Obligation]:
    contract = selectors.contract_get(user=request.user, pk=contract_id, action="change")
    _need(request, "vendors.add_obligation", "Recording obligations needs the vendor manager role.")
    data = payload.dict()
    owner = _owner(data.pop("owner_id"))
    return Status(
        201, services.obligation_create(actor=actor(request), contract=contract, owner=owner, **data)
    )


@router.get(
    "/contract-versions/{contract_version_id}",
    response=ContractVersionOut,
    summary="One version with all its terms",
)
def version_detail(request: HttpRequest, contract_version_id: ObjectId) -> ContractVersion:
    version = selectors.version_get(user=request.user, pk=contract_version_id)
    return _version_out(request, version)


@router.patch(
    "/contract-versions/{contract_version_id}", response=ContractVersionOut, summary="Change a draft's terms"
)
def version_update(
    request: HttpRequest, contract_version_id: ObjectId, payload: TermsPatch
) -> ContractVersion:
    version = selectors.version_get(user=request.user, pk=contract_version_id, action="change")
    services.contract_version_update(
        actor=actor(request), version=version, **payload.dict(exclude_unset=True)
    )
    return _version_out(request, version)


@router.put(
    "/contract-versions/{contract_version_id}/fees",
    response=ContractVersionOut,
    summary="Replace a draft's fees (HKD)",
)
def version_fees(request: HttpRequest, contract_version_id: ObjectId, payload: FeesIn) -> ContractVersion:
    version = selectors.version_get(user=request.user, pk=contract_version_id, action="change")
    services.fees_set(actor=actor(request), version=version, items=[i.dict() for i in payload.items])
    return _version_out(request, version)


@router.put(
    "/contract-versions/{contract_version_id}/scope",
    response=ContractVersionOut,
    summary="Replace a draft's scope items and deliverables",
)
def version_scope(request: HttpRequest, contract_version_id: ObjectId, payload: ScopesIn) -> ContractVersion:
    version = selectors.version_get(user=request.user, pk=contract_version_id, action="change")
    services.scope_set(actor=actor(request), version=version, items=[i.dict() for i in payload.items])
    return _version_out(request, version)


@router.put(
    "/contract-versions/{contract_version_id}/raci",
    response=ContractVersionOut,
    summary="Replace a draft's RACI (exactly one party accountable per activity)",
)
def version_raci(request: HttpRequest, contract_version_id: ObjectId, payload: RacisIn) -> ContractVersion:
    version = selectors.version_get(user=request.user, pk=contract_version_id, action="change")
    services.raci_set(actor=actor(request), version=version, items=[i.dict() for i in payload.items])
    return _version_out(request, version)


@router.put(
    "/contract-versions/{contract_version_id}/service-levels",
    response=ContractVersionOut,
    summary="Replace a draft's service levels (critical allocations total at most 100%)",
)
def version_service_levels(
    request: HttpRequest, contract_version_id: ObjectId, payload: ServiceLevelsIn
) -> ContractVersion:
    version = selectors.version_get(user=request.user, pk=contract_version_id, action="change")
    kpis = _kpis(request, [item.kpi_id for item in payload.items])
    levels = [
        services.ServiceLevelSpec(
            kpi=kpis[item.kpi_id],
            kind=item.kind,
            weight=item.weight,
            allocation_pct=item.allocation_pct,
            clause=item.clause,
        )
        for item in payload.items
    ]
    services.service_levels_set(actor=actor(request), version=version, levels=levels)
    return _version_out(request, version)


@router.post(
    "/contract-versions/{contract_version_id}/activate",
    response=ContractVersionOut,
    summary="Make a draft binding (no two active versions may overlap)",
)
def version_activate(request: HttpRequest, contract_version_id: ObjectId) -> ContractVersion:
    version = selectors.version_get(user=request.user, pk=contract_version_id, action="change")
    services.contract_version_activate(actor=actor(request), version=version)
    return _version_out(request, version)


@router.post(
    "/contract-versions/{contract_version_id}/cancel", response=ContractVersionOut, summary="Abandon a draft"
)
def version_cancel(request: HttpRequest, contract_version_id: ObjectId, payload: ReasonIn) -> ContractVersion:
    version = selectors.version_get(user=request.user, pk=contract_version_id, action="change")
    services.contract_version_cancel(actor=actor(request), version=version, reason=payload.reason)
    return _version_out(request, version)


# --- Obligations and evidence ---------------------------------------------------------------------


@router.get("/obligations/{obligation_id}", response=ObligationOut, summary="One obligation")
def obligation_detail(request: HttpRequest, obligation_id: ObjectId) -> Obligation:
    return selectors.obligation_get(user=request.user, pk=obligation_id)


@router.post(
    "/obligations/{obligation_id}/withdraw", response=ObligationOut, summary="Withdraw an obligation"
)
def obligation_withdraw(request: HttpRequest, obligation_id: ObjectId, payload: ReasonIn) -> Obligation:
    obligation = selectors.obligation_get(user=request.user, pk=obligation_id, action="change")
    return services.obligation_withdraw(actor=actor(request), obligation=obligation, reason=payload.reason)


@router.get("/obligation-instances", response=list[InstanceOut], summary="The obligation calendar")
@paginate
def calendar(request: HttpRequest, filters: Query[CalendarQuery]):  # type: ignore[no-untyped-def]
    return selectors.obligation_calendar(
        user=request.user,
        start=filters.start,
        end=filters.end,
        status=filters.status or "",
        vendor_id=filters.vendor_id,
        contract_id=filters.contract_id,
    )


def _instance_out(request: HttpRequest, pk: int) -> ObligationInstance:
    return selectors.obligation_calendar(user=request.user).get(pk=pk)


@router.get(
    "/obligation-instances/{obligation_instance_id}", response=InstanceOut, summary="One dated obligation"
)
def instance_detail(request: HttpRequest, obligation_instance_id: ObjectId) -> ObligationInstance:
    selectors.instance_get(user=request.user, pk=obligation_instance_id)
    return _instance_out(request, obligation_instance_id)


@router.post(
    "/obligation-instances/{obligation_instance_id}/met",
    response=InstanceOut,
    summary="Confirm it was met (with evidence when required)",
)
def instance_met(
    request: HttpRequest, obligation_instance_id: ObjectId, payload: InstanceNoteIn
) -> ObligationInstance:
    instance = selectors.instance_get(user=request.user, pk=obligation_instance_id, action="change")
    services.obligation_instance_mark_met(actor=actor(request), instance=instance, note=payload.note)
    return _instance_out(request, obligation_instance_id)


@router.post(
    "/obligation-instances/{obligation_instance_id}/waive",
    response=InstanceOut,
    summary="Waive it, with a reason",
)
def instance_waive(
    request: HttpRequest, obligation_instance_id: ObjectId, payload: ReasonIn
) -> ObligationInstance:
    instance = selectors.instance_get(user=request.user, pk=obligation_instance_id, action="change")
    services.obligation_instance_waive(actor=actor(request), instance=instance, reason=payload.reason)
    return _instance_out(request, obligation_instance_id)


@router.get(
    "/obligation-instances/{obligation_instance_id}/evidence",
    response=list[EvidenceOut],
    summary="Evidence uploaded for it",
)
@paginate
def evidence_list(request: HttpRequest, obligation_instance_id: ObjectId):  # type: ignore[no-untyped-def]
    instance = selectors.instance_get(user=request.user, pk=obligation_instance_id)
    return selectors.evidence_list(user=request.user, instance=instance)


@router.post(
    "/obligation-instances/{obligation_instance_id}/evidence",
    response={201: EvidenceOut},
    summary="Upload evidence (multipart/form-data: file, note)",
    description="PDF, PNG, JPEG, XLSX, CSV or TXT, at most 10 MB; the type is checked by the content.",
)
def evidence_upload(
    request: HttpRequest,
    obligation_instance_id: ObjectId,
    # Optional in the schema so that the object is looked up first: another vendor's id is a 404.
    file: UploadedFile | None = File(None),  # type: ignore[type-arg]  # noqa: B008
    note: str = Form("", max_length=500),  # type: ignore[type-arg]
) -> Status[ObligationEvidence]:
    # The object first: another vendor's id is a 404 whatever the body holds.
    instance = selectors.instance_get(user=request.user, pk=obligation_instance_id)
    _need(
        request,
        "vendors.add_obligationevidence",
        "Uploading evidence needs the vendor manager or portal role.",
    )
    return Status(
        201, services.evidence_upload(actor=actor(request), instance=instance, upload=file, note=note)
    )


@router.get(
    "/evidence/{obligation_evidence_id}/download",
    response={200: None},
    summary="Download an evidence file",
)
def evidence_download(request: HttpRequest, obligation_evidence_id: ObjectId) -> FileResponse:
    evidence = selectors.evidence_get(user=request.user, pk=obligation_evidence_id)
    try:
        handle = evidence.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(
        handle, as_attachment=True, filename=evidence.file_name, content_type=evidence.content_type
    )


# --- Renewals and alerts --------------------------------------------------------------------------


@router.get("/renewals", response=list[RenewalOut], summary="Notice deadlines and ends coming up")
@paginate
def renewal_list(request: HttpRequest, filters: Query[RenewalQuery]):  # type: ignore[no-untyped-def]
    return selectors.renewals(user=request.user, within_days=filters.within_days)


@router.get("/alerts", response=list[AlertOut], summary="Open renewal and notice alerts")
@paginate
def alert_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.alerts_open(user=request.user)


@router.post("/alerts/{contract_alert_id}/acknowledge", response=AlertOut, summary="Acknowledge an alert")
def alert_acknowledge(request: HttpRequest, contract_alert_id: ObjectId) -> ContractAlert:
    alert = selectors.alert_get(user=request.user, pk=contract_alert_id, action="change")
    return services.alert_acknowledge(actor=actor(request), alert=alert)


# --- Liaison --------------------------------------------------------------------------------------


def _action_specs(items: list[ActionIn]) -> list[services.ActionSpec]:
    return [
        services.ActionSpec(
            description=item.description,
            owner_party=item.owner_party,
            owner=_owner(item.owner_id),
            due_on=item.due_on,
        )
        for item in items
    ]


@router.get("/liaison", response=list[LiaisonOut], summary="Meetings, calls and messages")
@paginate
def liaison_list(request: HttpRequest, filters: Query[VendorFilter]):  # type: ignore[no-untyped-def]
    vendor = None if filters.vendor_id is None else _vendor(request, filters.vendor_id)
    return selectors.liaison_list(user=request.user, vendor=vendor).prefetch_related("actions")


@router.post(
    "/liaison", response={201: LiaisonOut}, summary="Log a meeting, call or message with its actions"
)
def liaison_create(request: HttpRequest, payload: LiaisonIn) -> Status[LiaisonEntry]:
    _need(request, "vendors.add_liaisonentry", "Logging liaison needs the vendor manager role.")
    vendor = _vendor(request, payload.vendor_id)
    entry = services.liaison_entry_create(
        actor=actor(request),
        vendor=vendor,
        contract=_contract_of(request, payload.contract_id),
        kind=payload.kind,
        occurred_at=payload.occurred_at,
        title=payload.title,
        participants=payload.participants,
        minutes=payload.minutes,
        decisions=payload.decisions,
        actions=_action_specs(payload.actions),
    )
    return Status(201, entry)


@router.get("/liaison/{liaison_entry_id}", response=LiaisonOut, summary="One liaison entry")
def liaison_detail(request: HttpRequest, liaison_entry_id: ObjectId) -> LiaisonEntry:
    return selectors.liaison_get(user=request.user, pk=liaison_entry_id)


@router.post("/liaison/{liaison_entry_id}/actions", response={201: ActionOut}, summary="Add an action item")
def liaison_action_add(
    request: HttpRequest, liaison_entry_id: ObjectId, payload: ActionIn
) -> Status[ActionItem]:
    entry = selectors.liaison_get(user=request.user, pk=liaison_entry_id)
    _need(request, "vendors.add_actionitem", "Adding actions needs the vendor manager role.")
    (spec,) = _action_specs([payload])
    return Status(201, services.action_item_add(actor=actor(request), entry=entry, action=spec))


@router.get(
    "/action-items",
    response=list[ActionOut],
    summary="Action items (a portal user sees those assigned to the vendor)",
)
@paginate
def action_list(request: HttpRequest, filters: Query[ActionQuery]):  # type: ignore[no-untyped-def]
    vendor = None if filters.vendor_id is None else _vendor(request, filters.vendor_id)
    return selectors.action_items(user=request.user, vendor=vendor, open_only=filters.open_only)


@router.patch("/action-items/{action_item_id}", response=ActionOut, summary="Move an action item on")
def action_update(request: HttpRequest, action_item_id: ObjectId, payload: ActionPatch) -> ActionItem:
    item = selectors.action_item_get(user=request.user, pk=action_item_id, action="change")
    return services.action_item_update(
        actor=actor(request), item=item, status=payload.status, progress_note=payload.progress_note
    )


@router.get("/update-requests", response=list[UpdateRequestOut], summary="Update requests to vendors")
@paginate
def update_request_list(request: HttpRequest, filters: Query[UpdateRequestQuery]):  # type: ignore[no-untyped-def]
    vendor = None if filters.vendor_id is None else _vendor(request, filters.vendor_id)
    return selectors.update_requests(user=request.user, vendor=vendor, status=filters.status or "")


@router.post(
    "/update-requests", response={201: UpdateRequestOut}, summary="Ask a vendor for an update by a date"
)
def update_request_create(request: HttpRequest, payload: UpdateRequestIn) -> Status[UpdateRequest]:
    _need(request, "vendors.add_updaterequest", "Sending update requests needs the vendor manager role.")
    vendor = _vendor(request, payload.vendor_id)
    return Status(
        201,
        services.update_request_create(
            actor=actor(request),
            vendor=vendor,
            contract=_contract_of(request, payload.contract_id),
            title=payload.title,
            details=payload.details,
            due_on=payload.due_on,
        ),
    )


@router.get("/update-requests/{update_request_id}", response=UpdateRequestOut, summary="One update request")
def update_request_detail(request: HttpRequest, update_request_id: ObjectId) -> UpdateRequest:
    return selectors.update_request_get(user=request.user, pk=update_request_id)


@router.post(
    "/update-requests/{update_request_id}/respond", response=UpdateRequestOut, summary="The vendor's answer"
)
def update_request_respond(
    request: HttpRequest, update_request_id: ObjectId, payload: ResponseIn
) -> UpdateRequest:
    item = selectors.update_request_get(user=request.user, pk=update_request_id, action="change")
    return services.update_request_respond(actor=actor(request), request=item, response=payload.response)


@router.post(
    "/update-requests/{update_request_id}/close", response=UpdateRequestOut, summary="Close a request"
)
def update_request_close(request: HttpRequest, update_request_id: ObjectId) -> UpdateRequest:
    item = selectors.update_request_get(user=request.user, pk=update_request_id, action="change")
    return services.update_request_close(actor=actor(request), request=item)


# --- Outsourcing scope ----------------------------------------------------------------------------


class AssignmentOut(Schema):
    id: int
    mode: ScopeAssignment.Mode
    vendor_id: int | None
    contract_id: int | None
    notes: str


class FunctionOut(Schema):
    id: int
    area: str
    name: str
    description: str
    gap: bool = Field(..., alias="is_gap", description="Nobody performs it.")
    overlap: bool = Field(..., alias="is_overlap", description="More than one party claims it whole.")
    assignments: list[AssignmentOut]

    @staticmethod
    def resolve_assignments(obj: BusinessFunction) -> list[Any]:
        return list(obj.assignments.all())


class FunctionIn(InputSchema):
    area: str = Field(..., min_length=1, max_length=100)
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Text


class AssignmentIn(InputSchema):
    mode: ScopeAssignment.Mode
    vendor_id: ObjectId | None = None
    contract_id: ObjectId | None = None
    notes: str = Field("", max_length=500)


class ScopeQuery(Schema):
    area: str = Field("", max_length=100)


def _function_out(request: HttpRequest, pk: int) -> BusinessFunction:
    return selectors.scope_matrix(user=request.user).get(pk=pk)


@router.get(
    "/scope", response=list[FunctionOut], summary="The outsourcing scope matrix, with gaps and overlaps"
)
@paginate
def scope_matrix(request: HttpRequest, filters: Query[ScopeQuery]):  # type: ignore[no-untyped-def]
    return selectors.scope_matrix(user=request.user, area=filters.area)


@router.post("/scope/functions", response={201: FunctionOut}, summary="Add one of our functions or processes")
def function_create(request: HttpRequest, payload: FunctionIn) -> Status[BusinessFunction]:
    _need(
        request,
        "vendors.add_businessfunction",
        "Changing the outsourcing scope needs the vendor manager role.",
    )
    function = services.function_create(actor=actor(request), **payload.dict())
    return Status(201, _function_out(request, function.pk))


@router.post(
    "/scope/functions/{business_function_id}/assignments",
    response={201: FunctionOut},
    summary="Say who performs a function: in-house, outsourced or shared",
)
def scope_assign(
    request: HttpRequest, business_function_id: ObjectId, payload: AssignmentIn
) -> Status[BusinessFunction]:
    function = selectors.function_get(user=request.user, pk=business_function_id)
    _need(
        request,
        "vendors.add_scopeassignment",
        "Changing the outsourcing scope needs the vendor manager role.",
    )
    vendor = None if payload.vendor_id is None else _vendor(request, payload.vendor_id)
    services.scope_assign(
        actor=actor(request),
        function=function,
        mode=payload.mode,
        vendor=vendor,
        contract=_contract_of(request, payload.contract_id),
        notes=payload.notes,
    )
    return Status(201, _function_out(request, function.pk))


@router.delete("/scope/assignments/{scope_assignment_id}", response={204: None}, summary="Remove a line")
def scope_unassign(request: HttpRequest, scope_assignment_id: ObjectId) -> Status[None]:
    assignment = selectors.assignment_get(user=request.user, pk=scope_assignment_id, action="delete")
    services.scope_unassign(actor=actor(request), assignment=assignment)
    return Status(204, None)


# --- Information exchange -------------------------------------------------------------------------


class DataFlowIn(InputSchema):
    vendor_id: ObjectId
    contract_id: ObjectId | None = None
    direction: DataFlow.Direction
    title: str = Field(..., min_length=1, max_length=200)
    data_categories: str = Field(..., min_length=1, max_length=500)
    personal_data: bool
    frequency: DataFlow.Frequency
    channel: DataFlow.Channel
    legal_basis: str = Field(..., min_length=1, max_length=300)
    retention: str = Field(..., min_length=1, max_length=300)
    location: str = Field("Hong Kong", min_length=1, max_length=100)
    transfer_clauses: str = Field("", max_length=200)


class DataFlowOut(Schema):
    id: int
    vendor_id: int
    contract_id: int | None
    direction: DataFlow.Direction
    title: str
    data_categories: str
    personal_data: bool
    frequency: DataFlow.Frequency
    channel: DataFlow.Channel
    legal_basis: str
    retention: str
    location: str
    transfer_clauses: str
    active: bool
    exchange_count: int = 0
    last_exchange: datetime | None = None


class DataFlowQuery(Schema):
    vendor_id: ObjectId | None = None
    personal_data: bool | None = None


class ExchangeIn(InputSchema):
    occurred_at: UtcDateTime
    record_count: int = Field(..., ge=0, le=2_000_000_000)
    reference: str = Field("", max_length=200)
    note: str = Field("", max_length=500)


class ExchangeOut(Schema):
    id: int
    flow_id: int
    occurred_at: datetime
    record_count: int
    reference: str
    note: str
    logged_by_id: int | None


def _flow_out(request: HttpRequest, pk: int) -> DataFlow:
    return selectors.data_flows(user=request.user).get(pk=pk)


@router.get("/data-flows", response=list[DataFlowOut], summary="The information-exchange register")
@paginate
def data_flow_list(request: HttpRequest, filters: Query[DataFlowQuery]):  # type: ignore[no-untyped-def]
    vendor = None if filters.vendor_id is None else _vendor(request, filters.vendor_id)
    return selectors.data_flows(user=request.user, vendor=vendor, personal_data=filters.personal_data)


@router.post("/data-flows", response={201: DataFlowOut}, summary="Register what a vendor receives or sends")
def data_flow_create(request: HttpRequest, payload: DataFlowIn) -> Status[DataFlow]:
    _need(
        request,
        "vendors.add_dataflow",
        "Changing the information-exchange register needs the vendor manager role.",
    )
    data = payload.dict()
    vendor = _vendor(request, data.pop("vendor_id"))
    contract = _contract_of(request, data.pop("contract_id"))
    flow = services.data_flow_create(actor=actor(request), vendor=vendor, contract=contract, **data)
    return Status(201, _flow_out(request, flow.pk))


@router.post("/data-flows/{data_flow_id}/retire", response=DataFlowOut, summary="Stop an exchange")
def data_flow_retire(request: HttpRequest, data_flow_id: ObjectId, payload: ReasonIn) -> DataFlow:
    flow = selectors.data_flow_get(user=request.user, pk=data_flow_id, action="change")
    services.data_flow_retire(actor=actor(request), flow=flow, reason=payload.reason)
    return _flow_out(request, data_flow_id)


@router.get(
    "/data-flows/{data_flow_id}/exchanges",
    response=list[ExchangeOut],
    summary="Exchanges logged under a line",
)
@paginate
def data_exchange_list(request: HttpRequest, data_flow_id: ObjectId):  # type: ignore[no-untyped-def]
    flow = selectors.data_flow_get(user=request.user, pk=data_flow_id)
    return selectors.data_exchanges(user=request.user, flow=flow)


@router.post(
    "/data-flows/{data_flow_id}/exchanges",
    response={201: ExchangeOut},
    summary="Log an exchange: when, how many",
)
def data_exchange_log(
    request: HttpRequest, data_flow_id: ObjectId, payload: ExchangeIn
) -> Status[DataExchange]:
    flow = selectors.data_flow_get(user=request.user, pk=data_flow_id)
    _need(request, "vendors.add_dataexchange", "Logging exchanges needs the vendor manager role.")
    return Status(201, services.data_exchange_log(actor=actor(request), flow=flow, **payload.dict()))


# --- The register (the vendor id routes come last; see the module docstring) ----------------------


@router.get(
    "/risk-questionnaire", response=QuestionnaireOut, summary="The questionnaire a new assessment uses"
)
def questionnaire_current(request: HttpRequest) -> RiskQuestionnaire:
    questionnaire = selectors.risk_questionnaire_current(user=request.user)
    if questionnaire is None:
        raise PermissionDenied("Reading risk questionnaires needs a vendor role.")
    return questionnaire


@router.post(
    "/risk-questionnaire", response={201: QuestionnaireOut}, summary="Publish a new questionnaire version"
)
def questionnaire_create(request: HttpRequest, payload: QuestionnaireIn) -> Status[RiskQuestionnaire]:
    _need(
        request, "vendors.add_riskquestionnaire", "Publishing questionnaires needs the vendor manager role."
    )
    return Status(201, services.risk_questionnaire_create(actor=actor(request), **payload.dict()))


@router.get("/contacts/{vendor_contact_id}", response=ContactOut, summary="One vendor contact")
def contact_detail(request: HttpRequest, vendor_contact_id: ObjectId) -> VendorContact:
    return selectors.contact_get(user=request.user, pk=vendor_contact_id)


@router.patch("/contacts/{vendor_contact_id}", response=ContactOut, summary="Change a vendor contact")
def contact_update(request: HttpRequest, vendor_contact_id: ObjectId, payload: ContactPatch) -> VendorContact:
    contact = selectors.contact_get(user=request.user, pk=vendor_contact_id, action="change")
    return services.contact_update(actor=actor(request), contact=contact, **payload.dict(exclude_unset=True))


@router.delete("/contacts/{vendor_contact_id}", response={204: None}, summary="Remove a vendor contact")
def contact_delete(request: HttpRequest, vendor_contact_id: ObjectId) -> Status[None]:
    contact = selectors.contact_get(user=request.user, pk=vendor_contact_id, action="delete")
    services.contact_delete(actor=actor(request), contact=contact)
    return Status(204, None)


@router.get("/", response=list[VendorOut], summary="Vendors you may see")
@paginate
def vendor_list(request: HttpRequest, filters: Query[VendorQuery]):  # type: ignore[no-untyped-def]
    return selectors.vendor_list(
        user=request.user,
        status=filters.status or "",
        search=filters.search,
        category=filters.category or "",
        risk_tier=filters.risk_tier or "",
    )


def _vendor_out(request: HttpRequest, pk: int) -> Vendor:
    return selectors.vendor_list(user=request.user).get(pk=pk)


@router.post("/", response={201: VendorOut}, summary="Register a vendor")
def vendor_create(request: HttpRequest, payload: VendorIn) -> tuple[int, Vendor]:
    if not request.user.has_perm("vendors.add_vendor"):
        raise PermissionDenied("Registering vendors needs the vendor manager role.")
    data = payload.dict()
    specs = [services.ServiceSpec(**s) for s in data.pop("services")]
    vendor = services.vendor_create(actor=request.user, services=specs, **data)
    return 201, _vendor_out(request, vendor.pk)


@router.get("/{vendor_id}", response=VendorOut, summary="One vendor")
def vendor_detail(request: HttpRequest, vendor_id: ObjectId) -> Vendor:
    selectors.vendor_get(user=request.user, pk=vendor_id)
    return _vendor_out(request, vendor_id)


@router.patch("/{vendor_id}", response=VendorOut, summary="Rename a vendor or move it along its lifecycle")
def vendor_update(request: HttpRequest, vendor_id: ObjectId, payload: VendorPatch) -> Vendor:
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id, action="change")
    changes = payload.dict(exclude_unset=True)
    reason = changes.pop("reason", "")
    services.vendor_update(actor=request.user, vendor=vendor, reason=reason, **changes)
    return _vendor_out(request, vendor_id)


@router.post(
    "/{vendor_id}/status", response=VendorOut, summary="Move a vendor along its lifecycle, with a reason"
)
def vendor_status(request: HttpRequest, vendor_id: ObjectId, payload: StatusIn) -> Vendor:
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id, action="change")
    services.vendor_change_status(
        actor=actor(request), vendor=vendor, status=payload.status, reason=payload.reason
    )
    return _vendor_out(request, vendor_id)


@router.get("/{vendor_id}/status-changes", response=list[StatusChangeOut], summary="The lifecycle history")
@paginate
def vendor_status_history(request: HttpRequest, vendor_id: ObjectId):  # type: ignore[no-untyped-def]
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id)
    return selectors.status_history(user=request.user, vendor=vendor)


@router.put("/{vendor_id}/services", response=VendorOut, summary="Replace the services the vendor provides")
def vendor_services(request: HttpRequest, vendor_id: ObjectId, payload: ServicesIn) -> Vendor:
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id, action="change")
    specs = [services.ServiceSpec(**s.dict()) for s in payload.services]
    services.vendor_services_set(actor=actor(request), vendor=vendor, services=specs)
    return _vendor_out(request, vendor_id)


@router.get(
    "/{vendor_id}/risk-assessments", response=list[AssessmentOut], summary="Risk assessments, latest first"
)
@paginate
def risk_list(request: HttpRequest, vendor_id: ObjectId):  # type: ignore[no-untyped-def]
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id)
    return selectors.risk_assessments(user=request.user, vendor=vendor)


@router.post(
    "/{vendor_id}/risk-assessments", response={201: AssessmentOut}, summary="Assess the vendor's risk"
)
def risk_create(request: HttpRequest, vendor_id: ObjectId, payload: AssessmentIn) -> Status[RiskAssessment]:
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id)
    _need(request, "vendors.add_riskassessment", "Assessing risk needs the vendor manager role.")
    questionnaire = None
    if payload.questionnaire_id is not None:
        questionnaire = (
            RiskQuestionnaire.objects.restrict(request.user).filter(pk=payload.questionnaire_id).first()
        )
        if questionnaire is None:
            raise ValidationError({"questionnaire_id": "No such questionnaire."})
    assessment = services.risk_assess(
        actor=actor(request),
        vendor=vendor,
        answers=payload.answers,
        notes=payload.notes,
        questionnaire=questionnaire,
    )
    return Status(201, assessment)


@router.get(
    "/{vendor_id}/contacts", response=list[ContactOut], summary="People at the vendor, by escalation level"
)
@paginate
def contact_list(request: HttpRequest, vendor_id: ObjectId):  # type: ignore[no-untyped-def]
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id)
    return selectors.contacts(user=request.user, vendor=vendor)


@router.post("/{vendor_id}/contacts", response={201: ContactOut}, summary="Add a contact")
def contact_create(request: HttpRequest, vendor_id: ObjectId, payload: ContactIn) -> Status[VendorContact]:
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id)
    _need(request, "vendors.add_vendorcontact", "Adding contacts needs the vendor manager role.")
    return Status(201, services.contact_create(actor=actor(request), vendor=vendor, **payload.dict()))


@router.get("/{vendor_id}/documents", response=list[DocumentOut], summary="Certificates and documents")
@paginate
def document_list(request: HttpRequest, vendor_id: ObjectId):  # type: ignore[no-untyped-def]
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id)
    return selectors.documents(user=request.user, vendor=vendor)


@router.post(
    "/{vendor_id}/documents",
    response={201: DocumentOut},
    summary="Register a certificate or document with its expiry date (the file is added on the page)",
)
def document_create(request: HttpRequest, vendor_id: ObjectId, payload: DocumentIn) -> Status[VendorDocument]:
    vendor = selectors.vendor_get(user=request.user, pk=vendor_id)
    _need(request, "vendors.add_vendordocument", "Adding documents needs the vendor manager role.")
    data = payload.dict()
    replaces_id = data.pop("replaces_id")
    replaces = None if replaces_id is None else selectors.document_get(user=request.user, pk=replaces_id)
    return Status(201, services.document_add(actor=actor(request), vendor=vendor, replaces=replaces, **data))
