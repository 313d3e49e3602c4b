"""API: measures, versioned KPIs, scorecards, periods with explanations, credits, submissions, reviews.

Endpoints only parse, fetch through a selector (``restrict``) and call a service; the rules
live in ``kpis.services``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from accounts.models import User
from core.api import InputSchema, ObjectId, actor, paginate
from kpis import exports, selectors, services
from kpis.models import (
    Adjustment,
    KpiDefinition,
    KpiReview,
    KpiVersion,
    Measure,
    MeasureSubmission,
    Scorecard,
    ScorecardPeriod,
    StaffRecommendation,
    Standing,
    Subject,
)
from vendors import selectors as vendor_selectors

router = Router(tags=["kpis"])

Code = Field(..., min_length=2, max_length=60, pattern=r"^[a-z][a-z0-9_]{1,59}$")


# --- Schemas ----------------------------------------------------------------------------------------


class MeasureOut(Schema):
    id: int
    code: str
    label: str
    unit: str
    description: str
    source: Measure.Source


class MeasureIn(InputSchema):
    code: str = Code
    label: str = Field(..., min_length=1, max_length=200)
    unit: str = Field(..., min_length=1, max_length=40)
    description: str = Field("", max_length=2000)


class SubjectOut(Schema):
    id: int
    kind: Subject.Kind
    label: str
    vendor_id: int | None
    user_id: int | None


class SubjectIn(InputSchema):
    kind: Subject.Kind
    label: str = Field(..., min_length=1, max_length=200)
    vendor_id: ObjectId | None = None
    user_id: ObjectId | None = None


class BandIn(InputSchema):
    label: str = Field(..., min_length=1, max_length=60)
    lower: Decimal | None = Field(None, description="Included; null for the lowest band.")
    upper: Decimal | None = Field(None, description="Excluded; null for the highest band.")
    score: Decimal = Field(..., ge=0, le=100)
    is_target: bool = False


class VersionOut(Schema):
    id: int
    number: int
    status: KpiVersion.Status
    name: str
    description: str
    formula: str
    unit: str
    direction: KpiVersion.Direction
    statistic: KpiVersion.Statistic
    target: Decimal
    bands: list[dict[str, Any]]
    weight: Decimal
    min_sample_size: int
    effective_from: date
    reason: str
    author_id: int
    approved_by_id: int | None
    approved_at: datetime | None
    decision_note: str


class KpiOut(Schema):
    id: int
    code: str
    name: str
    retired_at: datetime | None
    next_review_on: date | None
    versions: list[VersionOut]

    @staticmethod
    def resolve_versions(obj: KpiDefinition) -> list[KpiVersion]:
        return sorted(obj.versions.all(), key=lambda v: -v.number)


class KpiContent(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field(..., min_length=1, max_length=4000)
    formula: str = Field(..., min_length=1, max_length=500)
    unit: str = Field(..., min_length=1, max_length=40)
    direction: KpiVersion.Direction
    statistic: KpiVersion.Statistic = KpiVersion.Statistic.NONE
    target: Decimal
    bands: list[BandIn] = Field(..., min_length=2, max_length=5)
    weight: Decimal = Field(Decimal(10), ge=0, le=100)
    min_sample_size: int = Field(0, ge=0, le=1_000_000)


class KpiIn(KpiContent):
    code: str = Code
    reason: str = Field("First definition.", min_length=1, max_length=4000)
    effective_from: date | None = None


class VersionIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=4000)
    effective_from: date | None = None
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = Field(None, min_length=1, max_length=4000)
    formula: str | None = Field(None, min_length=1, max_length=500)
    unit: str | None = Field(None, min_length=1, max_length=40)
    direction: KpiVersion.Direction | None = None
    statistic: KpiVersion.Statistic | None = None
    target: Decimal | None = None
    bands: list[BandIn] | None = Field(None, min_length=2, max_length=5)
    weight: Decimal | None = Field(None, ge=0, le=100)
    min_sample_size: int | None = Field(None, ge=0, le=1_000_000)


class NoteIn(InputSchema):
    note: str = Field("", max_length=4000)


class PreviewIn(InputSchema):
    formula: str = Field(..., min_length=1, max_length=500)
    direction: KpiVersion.Direction = KpiVersion.Direction.HIGHER
    target: Decimal = Decimal(0)
    bands: list[BandIn] = Field(default_factory=list, max_length=5)
    min_sample_size: int = Field(0, ge=0, le=1_000_000)


class PreviewRowOut(Schema):
    subject_id: int
    subject: str
    value: Decimal | None
    applicable: bool
    reason: str
    band: str
    attainment: Decimal | None
    inputs: dict[str, Any]


class PreviewOut(Schema):
    period_start: date
    period_end: date
    error: str
    names: list[str]
    rows: list[PreviewRowOut]


class StandingIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=60)
    colour: str = Field("#5b6875", pattern=r"^#[0-9a-fA-F]{6}$")
    lower: Decimal = Field(..., ge=0, le=100)
    upper: Decimal = Field(..., ge=0, le=100)
    notify_roles: list[str] = Field(default_factory=list, max_length=10)
    flag_vendor_for_review: bool = False
    require_improvement_plan: bool = False
    staff_recommendation: Standing.Recommendation = Standing.Recommendation.NO_ACTION


class StandingOut(Schema):
    id: int
    name: str
    colour: str
    lower: Decimal
    upper: Decimal
    notify_roles: list[str]
    flag_vendor_for_review: bool
    require_improvement_plan: bool
    staff_recommendation: str


class StandingSchemeIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    standings: list[StandingIn] = Field(..., min_length=1, max_length=10)


class StandingSchemeOut(Schema):
    id: int
    name: str
    description: str
    standings: list[StandingOut]

    @staticmethod
    def resolve_standings(obj: Any) -> list[Any]:
        return list(obj.standings.all())


class TierIn(InputSchema):
    threshold: Decimal
    pct_of_fee: Decimal = Field(..., ge=0, le=100)


class LineIn(InputSchema):
    kpi_id: ObjectId
    weight: Decimal = Field(..., gt=0, le=100)
    critical: bool = False
    allocation_pct: Decimal = Field(Decimal(0), ge=0, le=100)
    tiers: list[TierIn] = Field(default_factory=list, max_length=5)
    earn_back_target: Decimal | None = None
    bonus_target: Decimal | None = None
    bonus_pct: Decimal = Field(Decimal(0), ge=0, le=100)


class LineOut(Schema):
    kpi_id: int
    kpi_code: str = Field(..., alias="kpi.code")
    weight: Decimal
    critical: bool
    allocation_pct: Decimal
    tiers: list[dict[str, Any]]
    earn_back_target: Decimal | None
    bonus_target: Decimal | None
    bonus_pct: Decimal


class CreditTermsIn(InputSchema):
    monthly_fee: Decimal = Field(..., ge=0, max_digits=14, decimal_places=2)
    at_risk_pct: Decimal = Field(..., ge=0, le=100)
    pool_pct: Decimal = Field(Decimal(100), ge=0, le=500)
    escalation_window: int = Field(0, ge=0, le=24)
    escalation_multipliers: list[Decimal] = Field(default_factory=list, max_length=10)
    earn_back_periods: int = Field(0, ge=0, le=12)
    bonus_cap_pct: Decimal = Field(Decimal(0), ge=0, le=100)
    chronic_misses: int = Field(0, ge=0, le=24)
    chronic_window: int = Field(12, ge=1, le=24)


class CreditTermsOut(Schema):
    monthly_fee: Decimal
    currency: str
    at_risk_pct: Decimal
    pool_pct: Decimal
    escalation_window: int
    escalation_multipliers: list[str]
    earn_back_periods: int
    bonus_cap_pct: Decimal
    chronic_misses: int
    chronic_window: int


class ScorecardIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    subject_id: ObjectId
    granularity: Scorecard.Granularity = Scorecard.Granularity.MONTH
    standing_scheme_id: ObjectId | None = None
    lines: list[LineIn] = Field(..., min_length=1, max_length=20)


class LinesIn(InputSchema):
    lines: list[LineIn] = Field(..., min_length=1, max_length=20)


class ScorecardOut(Schema):
    id: int
    name: str
    subject: SubjectOut
    granularity: Scorecard.Granularity
    status: Scorecard.Status
    standing_scheme_id: int | None
    lines: list[LineOut]
    credit_terms: CreditTermsOut | None

    @staticmethod
    def resolve_lines(obj: Scorecard) -> list[Any]:
        return list(obj.lines.select_related("kpi").order_by("position", "id"))

    @staticmethod
    def resolve_credit_terms(obj: Scorecard) -> Any:
        return getattr(obj, "credit_terms", None)


class PeriodOut(Schema):
    id: int
    scorecard_id: int
    label: str
    start: date
    end: date
    status: ScorecardPeriod.Status
    score: Decimal | None
    standing: str | None = Field(None, alias="standing.name")
    standing_colour: str | None = Field(None, alias="standing.colour")
    chronic_failure: bool
    notes: list[str]
    computed_at: datetime | None
    closed_at: datetime | None


class ResultOut(Schema):
    id: int
    kpi_id: int
    kpi_code: str = Field(..., alias="kpi.code")
    version_id: int
    version_number: int = Field(..., alias="version.number")
    formula: str = Field(..., alias="version.formula")
    value: Decimal | None
    target: Decimal
    sample_size: int | None
    applicable: bool
    reason: str
    attainment: Decimal | None
    band: str = Field(..., alias="band_label")
    met_target: bool | None
    weight: Decimal
    effective_weight: Decimal | None
    is_official: bool
    inputs: dict[str, Any]
    computed_at: datetime


class PeriodDetailOut(PeriodOut):
    results: list[ResultOut]


class CloseIn(InputSchema):
    start: date = Field(..., description="First day of the period (a Monday, a 1st of the month…).")


class VersionChoice(InputSchema):
    kpi_id: ObjectId
    version_id: ObjectId


class RecomputeIn(InputSchema):
    versions: list[VersionChoice] = Field(default_factory=list, max_length=20)


class AdjustmentOut(Schema):
    id: int
    period_id: int
    kpi_id: int
    kind: Adjustment.Kind
    currency: str
    computed_amount: Decimal
    proposed_amount: Decimal
    approved_amount: Decimal | None
    status: Adjustment.Status
    explanation: list[str]
    earns_back_id: int | None
    decided_by_id: int | None
    decided_at: datetime | None
    decision_reason: str


class AdjustmentDecisionIn(InputSchema):
    decision: str = Field(..., pattern="^(approve|override|reject)$")
    amount: Decimal | None = Field(None, max_digits=14, decimal_places=2)
    reason: str = Field("", max_length=4000)


class AdjustmentQuery(Schema):
    status: Adjustment.Status | None = None


class SubmissionOut(Schema):
    id: int
    measure_id: int
    subject_id: int
    start: date
    end: date
    value: Decimal
    sample_size: int | None
    note: str
    status: MeasureSubmission.Status
    has_evidence: bool
    submitted_by_id: int
    decided_by_id: int | None
    decided_at: datetime | None
    decision_reason: str

    @staticmethod
    def resolve_has_evidence(obj: MeasureSubmission) -> bool:
        return bool(obj.evidence)


class SubmissionForm(Schema):
    measure_id: ObjectId
    subject_id: ObjectId
    start: date
    end: date
    value: Decimal = Field(..., max_digits=24, decimal_places=6)
    sample_size: int | None = Field(None, ge=0, le=100_000_000)
    note: str = Field("", max_length=2000)


class SubmissionDecisionIn(InputSchema):
    approve: bool
    reason: str = Field("", max_length=4000)


class RecommendationOut(Schema):
    id: int
    period_id: int
    proposed: Standing.Recommendation
    basis: str
    final: str
    status: StaffRecommendation.Status
    decided_by_id: int | None
    decision_reason: str


class RecommendationDecisionIn(InputSchema):
    final: Standing.Recommendation
    reason: str = Field("", max_length=4000)


class ReviewOut(Schema):
    id: int
    definition_id: int
    due_on: date
    status: KpiReview.Status
    decision: str
    rationale: str
    reviewer_id: int | None
    new_version_id: int | None
    figures: dict[str, Any]


class ReviewDecisionIn(InputSchema):
    decision: KpiReview.Decision
    rationale: str = Field(..., min_length=1, max_length=4000)
    target: Decimal | None = None
    bands: list[BandIn] | None = Field(None, min_length=2, max_length=5)
    formula: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = Field(None, min_length=1, max_length=4000)


# --- Helpers ------------------------------------------------------------------------------------------


def _bands(bands: list[BandIn]) -> list[dict[str, Any]]:
    return [b.dict() for b in bands]


def _lines(user: User, lines: list[LineIn]) -> list[services.LineSpec]:
    kpis = {k.pk: k for k in selectors.kpi_list(user=user).filter(pk__in=[line.kpi_id for line in lines])}
    specs = []
    for line in lines:
        kpi = kpis.get(line.kpi_id)
        if kpi is None:
            raise ValidationError({"lines": f"No KPI {line.kpi_id}, or it is retired."})
        specs.append(
            services.LineSpec(
                kpi=kpi,
                weight=line.weight,
                critical=line.critical,
                allocation_pct=line.allocation_pct,
                tiers=tuple(t.dict() for t in line.tiers),
                earn_back_target=line.earn_back_target,
                bonus_target=line.bonus_target,
                bonus_pct=line.bonus_pct,
            )
        )
    return specs


def _need(user: User, perm: str, message: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied(message)


# --- Measures and subjects ----------------------------------------------------------------------------


@router.get("/measures", response=list[MeasureOut], summary="Measures (inputs to KPI formulas)")
@paginate
def measure_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.measure_list(user=request.user)


@router.post("/measures", response={201: MeasureOut}, summary="Define a submitted measure")
def measure_create(request: HttpRequest, payload: MeasureIn) -> Status[Measure]:
    return Status(201, services.measure_create(actor=actor(request), **payload.dict()))


@router.get("/subjects", response=list[SubjectOut], summary="Subjects you may see")
@paginate
def subject_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.subject_list(user=request.user)


@router.post(
    "/subjects", response={201: SubjectOut}, summary="Register a vendor, contract, team or agent subject"
)
def subject_create(request: HttpRequest, payload: SubjectIn) -> Status[Subject]:
    user = actor(request)
    _need(user, "kpis.add_subject", "Adding subjects needs the KPI manager role.")
    vendor = None
    if payload.vendor_id is not None:
        vendor = vendor_selectors.vendor_get(user=user, pk=payload.vendor_id)
    agent = None
    if payload.user_id is not None:
        agent = selectors.agent_choices(user=user).filter(pk=payload.user_id).first()
        if agent is None:
            raise ValidationError({"user_id": "No such active agent."})
    return Status(
        201,
        services.subject_create(
            actor=user, kind=payload.kind, label=payload.label, vendor=vendor, user=agent
        ),
    )


# --- KPIs -----------------------------------------------------------------------------------------------


@router.get("/definitions", response=list[KpiOut], summary="KPI definitions with their versions")
@paginate
def kpi_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.kpi_list(user=request.user, include_retired=True).order_by("code")


@router.post(
    "/definitions",
    response={201: KpiOut},
    summary="Define a KPI (version 1 awaits another person's approval)",
)
def kpi_create(request: HttpRequest, payload: KpiIn) -> Status[KpiDefinition]:
    data = payload.dict()
    data["bands"] = _bands(payload.bands)
    version = services.kpi_define(actor=actor(request), **data)
    return Status(201, version.definition)


@router.get("/definitions/{kpi_id}", response=KpiOut, summary="One KPI with its version history")
def kpi_detail(request: HttpRequest, kpi_id: ObjectId) -> KpiDefinition:
    return selectors.kpi_get(user=request.user, pk=kpi_id)


@router.post(
    "/definitions/{kpi_id}/versions", response={201: VersionOut}, summary="Propose a change: a new version"
)
def version_create(request: HttpRequest, kpi_id: ObjectId, payload: VersionIn) -> Status[KpiVersion]:
    definition = selectors.kpi_get(user=request.user, pk=kpi_id, action="change")
    changes = payload.dict(exclude_unset=True, exclude={"reason", "effective_from"})
    if payload.bands is not None:
        changes["bands"] = _bands(payload.bands)
    version = services.kpi_version_propose(
        actor=actor(request),
        definition=definition,
        reason=payload.reason,
        effective_from=payload.effective_from,
        **changes,
    )
    return Status(201, version)


@router.post(
    "/versions/{version_id}/approve", response=VersionOut, summary="Approve a version (not your own)"
)
def version_approve(request: HttpRequest, version_id: ObjectId, payload: NoteIn) -> KpiVersion:
    version = selectors.version_get(user=request.user, pk=version_id)
    return services.kpi_version_approve(actor=actor(request), version=version, note=payload.note)


@router.post("/versions/{version_id}/reject", response=VersionOut, summary="Reject a version, with a note")
def version_reject(request: HttpRequest, version_id: ObjectId, payload: NoteIn) -> KpiVersion:
    version = selectors.version_get(user=request.user, pk=version_id)
    return services.kpi_version_reject(actor=actor(request), version=version, note=payload.note)


@router.post(
    "/formula-preview", response=PreviewOut, summary="Check a formula and preview it on last month's data"
)
def formula_preview(request: HttpRequest, payload: PreviewIn) -> dict[str, Any]:
    _need(actor(request), "kpis.view_kpidefinition", "Previewing formulas needs a KPI role.")
    preview = selectors.formula_preview(
        user=request.user,
        text=payload.formula,
        direction=payload.direction,
        target=payload.target,
        bands=_bands(payload.bands),
        min_sample_size=payload.min_sample_size,
    )
    return {
        "period_start": preview.period.start,
        "period_end": preview.period.end,
        "error": preview.error,
        "names": preview.names,
        "rows": [
            {
                "subject_id": row.subject.pk,
                "subject": row.subject.label,
                "value": row.evaluation.value,
                "applicable": row.evaluation.applicable,
                "reason": row.evaluation.reason,
                "band": row.evaluation.band_label,
                "attainment": row.evaluation.attainment,
                "inputs": row.evaluation.inputs,
            }
            for row in preview.rows
        ],
    }


# --- Standings and scorecards -----------------------------------------------------------------------------


@router.get("/standing-schemes", response=list[StandingSchemeOut], summary="Standing schemes")
@paginate
def standing_scheme_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.standing_scheme_list(user=request.user)


@router.post("/standing-schemes", response={201: StandingSchemeOut}, summary="Define standings over 0–100")
def standing_scheme_create(request: HttpRequest, payload: StandingSchemeIn) -> Status[Any]:
    return Status(
        201,
        services.standing_scheme_create(
            actor=actor(request),
            name=payload.name,
            description=payload.description,
            standings=[s.dict() for s in payload.standings],
        ),
    )


@router.get("/scorecards", response=list[ScorecardOut], summary="Scorecards you may see")
@paginate
def scorecard_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return (
        selectors.scorecard_list(user=request.user)
        .select_related("credit_terms")
        .prefetch_related("lines__kpi")
    )


@router.post("/scorecards", response={201: ScorecardOut}, summary="Build a scorecard (weights total 100)")
def scorecard_create(request: HttpRequest, payload: ScorecardIn) -> Status[Scorecard]:
    user = actor(request)
    subject = selectors.subject_get(user=user, pk=payload.subject_id)
    scheme = None
    if payload.standing_scheme_id is not None:
        scheme = selectors.standing_scheme_list(user=user).filter(pk=payload.standing_scheme_id).first()
        if scheme is None:
            raise Http404
    return Status(
        201,
        services.scorecard_create(
            actor=user,
            name=payload.name,
            subject=subject,
            granularity=payload.granularity,
            standing_scheme=scheme,
            lines=_lines(user, payload.lines),
        ),
    )


@router.get("/scorecards/{scorecard_id}", response=ScorecardOut, summary="One scorecard")
def scorecard_detail(request: HttpRequest, scorecard_id: ObjectId) -> Scorecard:
    return selectors.scorecard_get(user=request.user, pk=scorecard_id)


@router.put("/scorecards/{scorecard_id}/lines", response=ScorecardOut, summary="Replace the KPIs and weights")
def scorecard_lines(request: HttpRequest, scorecard_id: ObjectId, payload: LinesIn) -> Scorecard:
    user = actor(request)
    scorecard = selectors.scorecard_get(user=user, pk=scorecard_id, action="change")
    return services.scorecard_set_lines(actor=user, scorecard=scorecard, lines=_lines(user, payload.lines))


@router.put(
    "/scorecards/{scorecard_id}/credit-terms", response=ScorecardOut, summary="Set service-credit terms"
)
def scorecard_credit_terms(request: HttpRequest, scorecard_id: ObjectId, payload: CreditTermsIn) -> Scorecard:
    user = actor(request)
    scorecard = selectors.scorecard_get(user=user, pk=scorecard_id, action="change")
    services.credit_terms_set(actor=user, scorecard=scorecard, **payload.dict())
    return selectors.scorecard_get(user=user, pk=scorecard_id)


@router.get("/scorecards/{scorecard_id}/periods", response=list[PeriodOut], summary="A scorecard's periods")
@paginate
def period_list(request: HttpRequest, scorecard_id: ObjectId):  # type: ignore[no-untyped-def]
    scorecard = selectors.scorecard_get(user=request.user, pk=scorecard_id)
    return list(reversed(selectors.scorecard_history(user=request.user, scorecard=scorecard, limit=1000)))


@router.post(
    "/scorecards/{scorecard_id}/close", response=PeriodDetailOut, summary="Close a period that has ended"
)
def period_close(request: HttpRequest, scorecard_id: ObjectId, payload: CloseIn) -> dict[str, Any]:
    user = actor(request)
    scorecard = selectors.scorecard_get(user=user, pk=scorecard_id, action="change")
    period = services.period_close(actor=user, scorecard=scorecard, start=payload.start)
    return _period_detail(user, period)


def _period_detail(user: User, period: ScorecardPeriod) -> dict[str, Any]:
    period = selectors.period_get(user=user, pk=period.pk)
    data = PeriodOut.from_orm(period).dict()
    data["results"] = selectors.period_results(user=user, period=period, official=False)
    return data


@router.get("/periods/{period_id}", response=PeriodDetailOut, summary="A period with every result explained")
def period_detail(request: HttpRequest, period_id: ObjectId) -> dict[str, Any]:
    return _period_detail(actor(request), selectors.period_get(user=request.user, pk=period_id))


@router.post(
    "/periods/{period_id}/recompute",
    response=PeriodDetailOut,
    summary="Recompute, optionally under chosen versions",
)
def period_recompute(request: HttpRequest, period_id: ObjectId, payload: RecomputeIn) -> dict[str, Any]:
    user = actor(request)
    period = selectors.period_get(user=user, pk=period_id, action="change")
    versions = {}
    for choice in payload.versions:
        version = selectors.version_get(user=user, pk=choice.version_id)
        versions[choice.kpi_id] = version
    services.period_recompute(actor=user, period=period, versions=versions)
    return _period_detail(user, period)


@router.get(
    "/periods/{period_id}/statement", summary="The period statement as CSV, XLSX or PDF", response={200: None}
)
def period_statement(request: HttpRequest, period_id: ObjectId, format: str = "csv") -> HttpResponse:  # noqa: A002
    period = selectors.period_get(user=request.user, pk=period_id)
    return exports.statement_response(user=actor(request), period=period, fmt=format)


# --- Credits, recommendations, submissions ------------------------------------------------------------------


@router.get("/adjustments", response=list[AdjustmentOut], summary="Credits, earn-backs and bonuses")
@paginate
def adjustment_list(request: HttpRequest, filters: Query[AdjustmentQuery]):  # type: ignore[no-untyped-def]
    return selectors.adjustment_list(user=request.user, status=filters.status or "")


@router.post(
    "/adjustments/{adjustment_id}/decide", response=AdjustmentOut, summary="Approve, override or reject"
)
def adjustment_decide(
    request: HttpRequest, adjustment_id: ObjectId, payload: AdjustmentDecisionIn
) -> Adjustment:
    adjustment = selectors.adjustment_get(user=request.user, pk=adjustment_id)
    return services.adjustment_decide(actor=actor(request), adjustment=adjustment, **payload.dict())


@router.get("/recommendations", response=list[RecommendationOut], summary="Staff recommendations")
@paginate
def recommendation_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.recommendation_list(user=request.user)


@router.post(
    "/recommendations/{recommendation_id}/decide", response=RecommendationOut, summary="Approve or override"
)
def recommendation_decide(
    request: HttpRequest, recommendation_id: ObjectId, payload: RecommendationDecisionIn
) -> StaffRecommendation:
    recommendation = selectors.recommendation_get(user=request.user, pk=recommendation_id)
    return services.recommendation_decide(
        actor=actor(request), recommendation=recommendation, **payload.dict()
    )


@router.get("/submissions", response=list[SubmissionOut], summary="Submitted measurements you may see")
@paginate
def submission_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.submission_list(user=request.user)


@router.post(
    "/submissions",
    response={201: SubmissionOut},
    summary="Submit a measurement with evidence (multipart/form-data)",
)
def submission_create(
    request: HttpRequest, form: Form[SubmissionForm], evidence: File[UploadedFile]
) -> Status[MeasureSubmission]:
    user = actor(request)
    measure = selectors.submittable_measures(user=user).filter(pk=form.measure_id).first()
    if measure is None:
        raise Http404
    subject = selectors.subject_get(user=user, pk=form.subject_id)
    return Status(
        201,
        services.submission_create(
            actor=user,
            measure=measure,
            subject=subject,
            start=form.start,
            end=form.end,
            value=form.value,
            sample_size=form.sample_size,
            note=form.note,
            evidence=evidence,
        ),
    )


@router.post(
    "/submissions/{submission_id}/decide", response=SubmissionOut, summary="Approve or reject (not your own)"
)
def submission_decide(
    request: HttpRequest, submission_id: ObjectId, payload: SubmissionDecisionIn
) -> MeasureSubmission:
    submission = selectors.submission_get(user=request.user, pk=submission_id)
    return services.submission_decide(actor=actor(request), submission=submission, **payload.dict())


# --- KPI reviews ---------------------------------------------------------------------------


@router.get("/reviews", response=list[ReviewOut], summary="KPI reviews")
@paginate
def review_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.review_list(user=request.user)


@router.post(
    "/reviews/{review_id}/decide",
    response=ReviewOut,
    summary="Record keep / adjust target / redefine / retire",
)
def review_decide(request: HttpRequest, review_id: ObjectId, payload: ReviewDecisionIn) -> KpiReview:
    user = actor(request)
    review = selectors.review_get(user=user, pk=review_id, action="change")
    changes = payload.dict(exclude_unset=True, exclude={"decision", "rationale"})
    if payload.bands is not None:
        changes["bands"] = _bands(payload.bands)
    figures = selectors.kpi_figures(user=user, definition=review.definition)
    return services.review_decide(
        actor=user,
        review=review,
        decision=payload.decision,
        rationale=payload.rationale,
        figures=figures,
        changes=changes,
    )


# --- Improvement plans ------------------------------------------------------------------------------------


class ImprovementPlanOut(Schema):
    id: int
    period_id: int
    scorecard_id: int = Field(..., alias="period.scorecard_id")
    due_on: date
    status: str
    plan: str
    submitted_by_id: int | None
    accepted_by_id: int | None


class ImprovementPlanIn(InputSchema):
    plan: str = Field(..., min_length=1, max_length=10000)


@router.get("/improvement-plans", response=list[ImprovementPlanOut], summary="Improvement plans you may see")
@paginate
def improvement_plan_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.improvement_plan_list(user=request.user)


@router.get("/improvement-plans/{plan_id}", response=ImprovementPlanOut, summary="One improvement plan")
def improvement_plan_detail(request: HttpRequest, plan_id: ObjectId) -> Any:
    return selectors.improvement_plan_get(user=request.user, pk=plan_id)


@router.post(
    "/improvement-plans/{plan_id}/submit",
    response=ImprovementPlanOut,
    summary="Write (or rewrite) the plan; it becomes submitted",
)
def improvement_plan_submit(request: HttpRequest, plan_id: ObjectId, payload: ImprovementPlanIn) -> Any:
    user = actor(request)
    plan = selectors.improvement_plan_get(user=user, pk=plan_id, action="change")
    return services.improvement_plan_submit(actor=user, plan=plan, text=payload.plan)


@router.post(
    "/improvement-plans/{plan_id}/accept",
    response=ImprovementPlanOut,
    summary="Accept a submitted plan (someone other than its author)",
)
def improvement_plan_accept(request: HttpRequest, plan_id: ObjectId) -> Any:
    user = actor(request)
    plan = selectors.improvement_plan_get(user=user, pk=plan_id, action="change")
    return services.improvement_plan_accept(actor=user, plan=plan)
