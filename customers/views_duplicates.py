"""Pages: the duplicate review queue (two records side by side, choose the survivor and the fields to
take from the other), the merge history with undo."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from core import audit
from core.access import get_restricted_or_404
from core.models import AuditEvent
from customers import duplicates
from customers.privacy_models import REVIEW_QUALITY, CustomerMerge, DuplicateCandidate
from customers.views_privacy import flash_errors, need


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


@login_required
def duplicate_queue(request: HttpRequest) -> HttpResponse:
    need(request, REVIEW_QUALITY)
    page = Paginator(duplicates.candidate_queue(user=request.user), 20).get_page(request.GET.get("page"))
    rows = [
        {
            "c": c,
            "fields": [(f, getattr(c.left, f), getattr(c.right, f)) for f in duplicates.MERGE_FIELDS],
        }
        for c in page
    ]
    if rows:
        # The reviewer sees both records' contact details: a read of personal data, with its purpose.
        audit.record_access(
            AuditEvent.Action.READ,
            object_type="customers.customer",
            object_ids=[pk for c in page for pk in (c.left_id, c.right_id)],
            purpose="duplicate review",
            fields=duplicates.MERGE_FIELDS,
            actor=request.user,
        )
    context = {"page": page, "rows": rows, "merges": duplicates.merges(user=request.user)[:20]}
    return render(request, "customers/duplicates.html", context)


@login_required
@require_POST
def duplicate_detect(request: HttpRequest) -> HttpResponse:
    need(request, REVIEW_QUALITY)
    added = duplicates.duplicates_detect(actor=_actor(request))
    messages.success(request, f"{added} new possible duplicate(s) queued.")
    return redirect("customers:duplicates")


@login_required
@require_POST
def duplicate_decide(request: HttpRequest, pk: int) -> HttpResponse:
    candidate = get_restricted_or_404(DuplicateCandidate, user=request.user, action="change", pk=pk)
    try:
        if request.POST.get("decision") == "distinct":
            duplicates.candidate_mark_distinct(actor=_actor(request), candidate=candidate)
            messages.success(request, "Marked as two different people.")
        else:
            survivor = candidate.right if request.POST.get("survivor") == "right" else candidate.left
            merge = duplicates.customer_merge(
                actor=_actor(request),
                candidate=candidate,
                survivor=survivor,
                take_from_merged=request.POST.getlist("take"),
            )
            messages.success(request, f"Customer {merge.merged_id} merged into {merge.survivor_id}.")
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("customers:duplicates")


@login_required
@require_POST
def merge_undo(request: HttpRequest, pk: int) -> HttpResponse:
    merge = get_restricted_or_404(CustomerMerge, user=request.user, action="change", pk=pk)
    try:
        duplicates.customer_merge_undo(actor=_actor(request), merge=merge)
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(request, "Merge undone; the pair is back in the queue.")
    return redirect("customers:duplicates")
