"""API: duplicate candidates, reviewed merges and their undo."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, actor, paginate
from customers import duplicates
from customers.privacy_models import CustomerMerge, DuplicateCandidate

router = Router(tags=["customers: duplicates"])


class DuplicateCandidateOut(Schema):
    id: int
    left_id: int
    right_id: int
    score: Decimal
    reasons: list[str]
    status: DuplicateCandidate.Status
    found_at: datetime


class DuplicateCandidateQuery(Schema):
    status: DuplicateCandidate.Status | None = DuplicateCandidate.Status.OPEN


class DuplicateDetectOut(Schema):
    queued: int


class CustomerMergeIn(InputSchema):
    survivor_id: ObjectId
    take_from_merged: list[str] = Field(default_factory=list, max_length=len(duplicates.MERGE_FIELDS))


class CustomerMergeOut(Schema):
    id: int
    candidate_id: int | None
    survivor_id: int
    merged_id: int
    field_sources: dict[str, str]
    moved_orders: list[int]
    moved_events: list[int]
    moved_tickets: list[int]
    merged_at: datetime
    undone_at: datetime | None


@router.get("/duplicates", response=list[DuplicateCandidateOut], summary="Possible duplicates to review")
@paginate
def candidate_list(request: HttpRequest, filters: Query[DuplicateCandidateQuery]):  # type: ignore[no-untyped-def]
    return duplicates.candidate_queue(user=request.user, status=filters.status or "")


@router.post(
    "/duplicates/detect", response=DuplicateDetectOut, summary="Look for duplicates among all customers"
)
def detect(request: HttpRequest) -> dict[str, int]:
    return {"queued": duplicates.duplicates_detect(actor=actor(request))}


@router.post("/duplicates/{candidate_id}/merge", response={201: CustomerMergeOut}, summary="Merge the pair")
def merge(request: HttpRequest, candidate_id: ObjectId, payload: CustomerMergeIn) -> Status[CustomerMerge]:
    candidate = get_restricted_or_404(DuplicateCandidate, user=request.user, action="change", pk=candidate_id)
    if payload.survivor_id not in (candidate.left_id, candidate.right_id):
        raise ValidationError({"survivor_id": "The survivor must be one of the pair."})
    survivor = candidate.left if payload.survivor_id == candidate.left_id else candidate.right
    done = duplicates.customer_merge(
        actor=actor(request),
        candidate=candidate,
        survivor=survivor,
        take_from_merged=payload.take_from_merged,
    )
    return Status(201, done)


@router.post(
    "/duplicates/{candidate_id}/distinct", response=DuplicateCandidateOut, summary="Not the same person"
)
def distinct(request: HttpRequest, candidate_id: ObjectId) -> DuplicateCandidate:
    candidate = get_restricted_or_404(DuplicateCandidate, user=request.user, action="change", pk=candidate_id)
    return duplicates.candidate_mark_distinct(actor=actor(request), candidate=candidate)


@router.get("/merges", response=list[CustomerMergeOut], summary="Merges, newest first")
@paginate
def merge_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return duplicates.merges(user=request.user)


@router.post("/merges/{merge_id}/undo", response=CustomerMergeOut, summary="Undo a merge")
def undo(request: HttpRequest, merge_id: ObjectId) -> CustomerMerge:
    merge_row = get_restricted_or_404(CustomerMerge, user=request.user, action="change", pk=merge_id)
    return duplicates.customer_merge_undo(actor=actor(request), merge=merge_row)
