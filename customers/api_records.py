"""API: retention rules and runs (DPP2(2), s26) and the breach register."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, UtcDateTime, actor, paginate
from customers import breaches, retention
from customers.privacy_models import Breach, RetentionRule, RetentionRun

router = Router(tags=["customers: retention and breaches"])


class RetentionRuleOut(Schema):
    id: int
    category: RetentionRule.Category
    months: int
    action: RetentionRule.Action
    basis: str
    active: bool


class RetentionRuleIn(InputSchema):
    category: RetentionRule.Category
    months: int = Field(..., ge=1, le=1200)
    action: RetentionRule.Action
    basis: str = Field(..., min_length=1, max_length=300)
    active: bool = True


class RetentionRunOut(Schema):
    id: int
    dry_run: bool
    started_at: datetime
    finished_at: datetime | None
    started_by_id: int | None
    report: list[dict[str, Any]]
    total: int


class RetentionRunIn(InputSchema):
    dry_run: bool = True


@router.get("/retention/rules", response=list[RetentionRuleOut], summary="Retention rules per data category")
@paginate
def rule_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return retention.rules(user=request.user)


@router.put(
    "/retention/rules", response=RetentionRuleOut, summary="Create or change the rule of a data category"
)
def rule_save(request: HttpRequest, payload: RetentionRuleIn) -> RetentionRule:
    return retention.retention_rule_save(actor=actor(request), **payload.dict())


@router.get(
    "/retention/runs", response=list[RetentionRunOut], summary="Dry runs and runs of the retention job"
)
@paginate
def run_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return retention.runs(user=request.user)


@router.post(
    "/retention/runs", response={201: RetentionRunOut}, summary="Run the retention job (dry by default)"
)
def run_start(request: HttpRequest, payload: RetentionRunIn) -> Status[RetentionRun]:
    return Status(201, retention.retention_run(actor=actor(request), dry_run=payload.dry_run))


@router.get("/retention/runs/{run_id}", response=RetentionRunOut, summary="One run with its report")
def run_detail(request: HttpRequest, run_id: ObjectId) -> RetentionRun:
    return get_restricted_or_404(RetentionRun, user=request.user, pk=run_id)


class BreachRecordOut(Schema):
    id: int
    data_user: str
    data_user_address: str
    contact_name: str
    contact_title: str
    contact_phone: str
    contact_email: str
    title: str
    occurred_at: datetime | None
    discovered_at: datetime
    description: str
    data_kinds: str
    affected_count: int
    cause: Breach.Cause
    vendor_id: int | None
    harm_assessment: str
    containment: str
    remedial_action: str
    pcpd_notified: bool
    pcpd_notified_at: datetime | None
    pcpd_reference: str
    subjects_notified: bool
    subjects_notified_at: datetime | None
    notify_by: datetime | None


class BreachRecordIn(InputSchema):
    data_user: str = Field(..., min_length=1, max_length=200)
    data_user_address: str = Field("", max_length=300)
    contact_name: str = Field(..., min_length=1, max_length=200)
    contact_title: str = Field("", max_length=200)
    contact_phone: str = Field("", max_length=40)
    contact_email: str = Field("", max_length=254)
    title: str = Field(..., min_length=1, max_length=200)
    occurred_at: UtcDateTime | None = None
    discovered_at: UtcDateTime
    description: str = Field(..., min_length=1, max_length=8000)
    data_kinds: str = Field(..., min_length=1, max_length=500)
    affected_count: int = Field(..., ge=0, le=2_000_000_000)
    cause: Breach.Cause
    harm_assessment: str = Field("", max_length=8000)
    containment: str = Field("", max_length=8000)
    remedial_action: str = Field("", max_length=8000)


class BreachRecordPatch(InputSchema):
    harm_assessment: str | None = Field(None, max_length=8000)
    containment: str | None = Field(None, max_length=8000)
    remedial_action: str | None = Field(None, max_length=8000)
    affected_count: int | None = Field(None, ge=0, le=2_000_000_000)
    data_kinds: str | None = Field(None, min_length=1, max_length=500)
    description: str | None = Field(None, min_length=1, max_length=8000)


class BreachNotificationIn(InputSchema):
    pcpd_notified_at: UtcDateTime | None = None
    pcpd_reference: str = Field("", max_length=100)
    subjects_notified_at: UtcDateTime | None = None


@router.get("/breaches", response=list[BreachRecordOut], summary="The breach register")
@paginate
def breach_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return breaches.breach_list(user=request.user)


@router.post("/breaches", response={201: BreachRecordOut}, summary="Record a breach")
def breach_create(request: HttpRequest, payload: BreachRecordIn) -> Status[Breach]:
    return Status(201, breaches.breach_create(actor=actor(request), **payload.dict()))


@router.get("/breaches/{breach_id}", response=BreachRecordOut, summary="One breach")
def breach_detail(request: HttpRequest, breach_id: ObjectId) -> Breach:
    return get_restricted_or_404(Breach, user=request.user, pk=breach_id)


@router.patch(
    "/breaches/{breach_id}", response=BreachRecordOut, summary="Complete the assessment and remedial action"
)
def breach_update(request: HttpRequest, breach_id: ObjectId, payload: BreachRecordPatch) -> Breach:
    breach = get_restricted_or_404(Breach, user=request.user, action="change", pk=breach_id)
    return breaches.breach_update(actor=actor(request), breach=breach, **payload.dict(exclude_none=True))


@router.post(
    "/breaches/{breach_id}/notification",
    response=BreachRecordOut,
    summary="Record notification of the PCPD or subjects",
)
def breach_notify(request: HttpRequest, breach_id: ObjectId, payload: BreachNotificationIn) -> Breach:
    breach = get_restricted_or_404(Breach, user=request.user, action="change", pk=breach_id)
    return breaches.breach_record_notification(actor=actor(request), breach=breach, **payload.dict())
