"""API: data access and correction requests (DPP6) and the refusal log book (s27).

Endpoints parse, fetch through ``restrict`` (only the data-protection officer's role reaches
these; anyone else gets a 404, the same as for a missing id) and call ``customers.privacy``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from core import audit
from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, UtcDateTime, actor, paginate
from core.models import AuditEvent
from customers import privacy
from customers.models import Customer
from customers.privacy_models import PrivacyRequest, RefusalGround, RefusalLogEntry, RequestStep

router = Router(tags=["customers: privacy requests"])


class PrivacyStepOut(Schema):
    kind: RequestStep.Kind
    at: datetime
    by_id: int | None
    note: str


class PrivacyRequestOut(Schema):
    id: int
    kind: PrivacyRequest.Kind
    customer_id: int
    requester_name: str
    requester_contact: str
    on_behalf: bool
    received_at: datetime
    due_on: date
    days_left: int
    status: PrivacyRequest.Status
    identity_method: str
    identity_verified_at: datetime | None
    fee: Decimal
    fee_basis: str
    requested_changes: dict[str, str]
    partial_notice_at: datetime | None
    partial_notice_reasons: str
    refusal_ground: str
    refusal_reasons: str
    closed_at: datetime | None

    @staticmethod
    def resolve_days_left(obj: PrivacyRequest) -> int:
        return obj.days_left()


class PrivacyRequestDetailOut(PrivacyRequestOut):
    steps: list[PrivacyStepOut]

    @staticmethod
    def resolve_steps(obj: PrivacyRequest) -> list[RequestStep]:
        return list(obj.steps.all())


class PrivacyRequestIn(InputSchema):
    kind: PrivacyRequest.Kind
    customer_id: ObjectId
    requester_name: str = Field(..., min_length=1, max_length=200)
    requester_contact: str = Field(..., min_length=1, max_length=254)
    received_at: UtcDateTime
    on_behalf: bool = False
    requested_changes: dict[str, str] = Field(
        default_factory=dict, max_length=len(privacy.CORRECTABLE_FIELDS)
    )


class PrivacyRequestQuery(Schema):
    status: PrivacyRequest.Status | None = None
    open_only: bool = False


class PrivacyIdentityIn(InputSchema):
    method: str = Field(..., min_length=1, max_length=300, description="How the identity was verified.")


class PrivacyFeeIn(InputSchema):
    amount: Decimal = Field(..., ge=0, max_digits=8, decimal_places=2)
    basis: str = Field("", max_length=300)


class PrivacyReasonsIn(InputSchema):
    reasons: str = Field(..., min_length=1, max_length=4000)


class PrivacyRefuseIn(InputSchema):
    ground: RefusalGround
    reasons: str = Field(..., min_length=1, max_length=4000)


class PrivacyLogEntryOut(Schema):
    id: int
    request_id: int
    logged_at: datetime
    ground: RefusalGround
    reasons: str
    keep_until: date


class PrivacyCopyQuery(Schema):
    format: Literal["json", "pdf"] = "json"


def _get(request: HttpRequest, pk: int, action: str = "view") -> PrivacyRequest:
    return get_restricted_or_404(PrivacyRequest, user=request.user, action=action, pk=pk)


@router.get(
    "/privacy-requests", response=list[PrivacyRequestOut], summary="The privacy request queue, by due date"
)
@paginate
def request_list(request: HttpRequest, filters: Query[PrivacyRequestQuery]):  # type: ignore[no-untyped-def]
    return privacy.request_list(user=request.user, status=filters.status or "", open_only=filters.open_only)


@router.post(
    "/privacy-requests",
    response={201: PrivacyRequestDetailOut},
    summary="Log a data access or correction request",
)
def request_create(request: HttpRequest, payload: PrivacyRequestIn) -> Status[PrivacyRequest]:
    user = actor(request)
    privacy._require(user)
    customer = get_restricted_or_404(Customer, user=user, pk=payload.customer_id)
    created = privacy.privacy_request_create(
        actor=user,
        kind=payload.kind,
        customer=customer,
        requester_name=payload.requester_name,
        requester_contact=payload.requester_contact,
        received_at=payload.received_at,
        on_behalf=payload.on_behalf,
        requested_changes=payload.requested_changes,
    )
    return Status(201, created)


@router.get(
    "/privacy-requests/refusal-log", response=list[PrivacyLogEntryOut], summary="The refusal log book (s27)"
)
@paginate
def refusal_log(request: HttpRequest):  # type: ignore[no-untyped-def]
    return privacy.refusal_log(user=request.user)


@router.get(
    "/privacy-requests/{request_id}", response=PrivacyRequestDetailOut, summary="One request with its steps"
)
def request_detail(request: HttpRequest, request_id: ObjectId) -> PrivacyRequest:
    item = _get(request, request_id)
    audit.record_access(
        AuditEvent.Action.READ,
        object_type="customers.privacyrequest",
        object_ids=[item.pk],
        purpose=f"handling {item}",
        fields=("requester_name", "requester_contact"),
        actor=request.user,
    )
    return item


@router.post(
    "/privacy-requests/{request_id}/verify-identity",
    response=PrivacyRequestDetailOut,
    summary="Record the identity check",
)
def verify_identity(request: HttpRequest, request_id: ObjectId, payload: PrivacyIdentityIn) -> PrivacyRequest:
    return privacy.privacy_request_verify_identity(
        actor=actor(request), request=_get(request, request_id, "change"), method=payload.method
    )


@router.post(
    "/privacy-requests/{request_id}/fee",
    response=PrivacyRequestDetailOut,
    summary="Set the fee (none for corrections)",
)
def set_fee(request: HttpRequest, request_id: ObjectId, payload: PrivacyFeeIn) -> PrivacyRequest:
    return privacy.privacy_request_set_fee(
        actor=actor(request),
        request=_get(request, request_id, "change"),
        amount=payload.amount,
        basis=payload.basis,
    )


@router.post(
    "/privacy-requests/{request_id}/partial-notice",
    response=PrivacyRequestDetailOut,
    summary="Give the partial-compliance notice",
)
def partial_notice(request: HttpRequest, request_id: ObjectId, payload: PrivacyReasonsIn) -> PrivacyRequest:
    return privacy.privacy_request_partial_notice(
        actor=actor(request), request=_get(request, request_id, "change"), reasons=payload.reasons
    )


@router.post(
    "/privacy-requests/{request_id}/refuse",
    response=PrivacyRequestDetailOut,
    summary="Refuse with a ground and reasons",
)
def refuse(request: HttpRequest, request_id: ObjectId, payload: PrivacyRefuseIn) -> PrivacyRequest:
    return privacy.privacy_request_refuse(
        actor=actor(request),
        request=_get(request, request_id, "change"),
        ground=payload.ground,
        reasons=payload.reasons,
    )


@router.post(
    "/privacy-requests/{request_id}/complete",
    response=PrivacyRequestDetailOut,
    summary="Comply (corrections are applied and passed on)",
)
def complete(request: HttpRequest, request_id: ObjectId) -> PrivacyRequest:
    return privacy.privacy_request_complete(actor=actor(request), request=_get(request, request_id, "change"))


@router.get("/privacy-requests/{request_id}/copy", summary="The copy of the data as JSON or PDF")
def copy(request: HttpRequest, request_id: ObjectId, query: Query[PrivacyCopyQuery]) -> HttpResponse:
    body, fmt = privacy.privacy_request_export(
        actor=actor(request), request=_get(request, request_id, "change"), fmt=query.format
    )
    response = HttpResponse(body, content_type="application/json" if fmt == "json" else "application/pdf")
    response["Content-Disposition"] = f'attachment; filename="access-request-{request_id}.{fmt}"'
    return response


__all__ = ["router", "RefusalLogEntry"]
