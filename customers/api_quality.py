"""API: data-quality scores, the review queue, and self-service links."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from accounts.models import User
from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, actor, paginate
from customers import quality
from customers.models import Customer
from customers.privacy_models import QualityIssue, SelfServiceLink

router = Router(tags=["customers: data quality"])


class QualityOverallOut(Schema):
    customers: int
    completeness: Decimal | None
    accuracy: Decimal | None
    open_issues: dict[str, int]


class QualityCheckOut(Schema):
    checked: int
    opened: int
    resolved: int


class QualityIssueOut(Schema):
    id: int
    customer_id: int
    rule: QualityIssue.Rule
    field: str
    detail: str
    status: QualityIssue.Status
    found_at: datetime
    assigned_to_id: int | None
    resolution: str


class QualityIssueQuery(Schema):
    rule: QualityIssue.Rule | None = None
    status: QualityIssue.Status | None = QualityIssue.Status.OPEN
    mine: bool = False


class QualityAssignIn(InputSchema):
    assignee_id: ObjectId | None = None


class QualityCloseIn(InputSchema):
    dismiss: bool = False
    note: str = Field(..., min_length=1, max_length=300)


class SelfServiceLinkIn(InputSchema):
    customer_id: ObjectId
    channel: SelfServiceLink.Channel = SelfServiceLink.Channel.EMAIL


class SelfServiceLinkOut(Schema):
    id: int
    customer_id: int
    channel: SelfServiceLink.Channel
    sent_at: datetime
    expires_at: datetime
    used_at: datetime | None
    outcome: str


@router.get(
    "/quality", response=QualityOverallOut, summary="Overall completeness and accuracy, open issues per rule"
)
def overall(request: HttpRequest) -> dict[str, Any]:
    quality._require(actor(request))
    data = quality.overall(user=request.user)
    labels = dict(QualityIssue.Rule.choices)
    codes = {label: code for code, label in labels.items()}
    return {
        "customers": data["customers"],
        "completeness": data["completeness"],
        "accuracy": data["accuracy"],
        "open_issues": {codes[label]: n for label, n in data["per_rule"]},
    }


@router.post(
    "/quality/check", response=QualityCheckOut, summary="Run the data-quality rules over every customer"
)
def check(request: HttpRequest) -> dict[str, int]:
    return quality.quality_check(actor=actor(request))


@router.get("/quality/issues", response=list[QualityIssueOut], summary="The review queue")
@paginate
def issues(request: HttpRequest, filters: Query[QualityIssueQuery]):  # type: ignore[no-untyped-def]
    return quality.issue_queue(
        user=request.user, rule=filters.rule or "", mine=filters.mine, status=filters.status or ""
    )


@router.post(
    "/quality/issues/{issue_id}/assign", response=QualityIssueOut, summary="Assign an issue to a reviewer"
)
def assign(request: HttpRequest, issue_id: ObjectId, payload: QualityAssignIn) -> QualityIssue:
    issue = get_restricted_or_404(QualityIssue, user=request.user, action="change", pk=issue_id)
    assignee = User.objects.filter(pk=payload.assignee_id).first() if payload.assignee_id else None
    if payload.assignee_id and assignee is None:
        from django.core.exceptions import ValidationError

        raise ValidationError({"assignee_id": "No such user."})
    return quality.quality_issue_assign(actor=actor(request), issue=issue, assignee=assignee)


@router.post(
    "/quality/issues/{issue_id}/close", response=QualityIssueOut, summary="Resolve or dismiss an issue"
)
def close(request: HttpRequest, issue_id: ObjectId, payload: QualityCloseIn) -> QualityIssue:
    issue = get_restricted_or_404(QualityIssue, user=request.user, action="change", pk=issue_id)
    return quality.quality_issue_close(
        actor=actor(request), issue=issue, dismiss=payload.dismiss, note=payload.note
    )


@router.post(
    "/quality/links", response={201: SelfServiceLinkOut}, summary="Send a customer a self-service link"
)
def link_send(request: HttpRequest, payload: SelfServiceLinkIn) -> Status[SelfServiceLink]:
    user = actor(request)
    quality._require(user)
    customer = get_restricted_or_404(Customer, user=user, pk=payload.customer_id)
    link, _url = quality.self_service_link_send(actor=user, customer=customer, channel=payload.channel)
    return Status(201, link)
