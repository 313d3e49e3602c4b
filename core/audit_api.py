"""API: browse and verify the audit trail (auditors, DPO, administrators)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Query, Router, Schema

from core import audit, selectors
from core.api import ObjectId, UtcDateTime, paginate
from core.models import AuditEvent

router = Router(tags=["audit"])


class AuditEventOut(Schema):
    seq: int
    occurred_at: datetime
    actor_id: int | None
    actor_username: str
    action: str
    object_type: str
    object_id: str
    object_repr: str
    changes: dict[str, Any]
    purpose: str
    request_id: str
    channel: str
    ip_address: str | None
    hash: str
    prev_hash: str


class AuditQuery(Schema):
    actor: str = Field("", max_length=150)
    action: AuditEvent.Action | None = None
    object_type: str = Field("", max_length=100)
    object_id: str = Field("", max_length=64)
    request_id: str = Field("", max_length=64)
    since: UtcDateTime | None = None
    until: UtcDateTime | None = None


@router.get("/events", response=list[AuditEventOut], summary="Audit events, newest first")
@paginate
def event_list(request: HttpRequest, filters: Query[AuditQuery]):  # type: ignore[no-untyped-def]
    return selectors.audit_event_list(
        user=request.user,
        filters=selectors.AuditFilter(
            actor=filters.actor,
            action=filters.action or "",
            object_type=filters.object_type,
            object_id=filters.object_id,
            request_id=filters.request_id,
            since=filters.since,
            until=filters.until,
        ),
    )


@router.get("/events/{seq}", response=AuditEventOut, summary="One audit event")
def event_detail(request: HttpRequest, seq: ObjectId) -> AuditEvent:
    return get_object_or_404(AuditEvent.objects.restrict(request.user), seq=seq)


class ChainOut(Schema):
    ok: bool
    checked: int
    first_broken_seq: int | None
    reason: str


@router.get("/verify", response=ChainOut, summary="Verify the hash chain from the first event")
def verify(request: HttpRequest) -> ChainOut:
    if not request.user.has_perm("core.verify_auditevent"):
        raise PermissionDenied("Verifying the audit chain needs the auditor, DPO or administrator role.")
    report = audit.verify_chain()
    return ChainOut(
        ok=report.ok, checked=report.checked, first_broken_seq=report.first_broken_seq, reason=report.reason
    )
