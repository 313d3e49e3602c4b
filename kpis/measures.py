"""Computed measures built from the kpis package's own data.

The service and vendor packages register theirs (first-response median, SLA attainment,
orders on time…) the same way from their own ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count
from django.urls import reverse

from kpis.registry import DrillRow, Reading, SubjectRef, register_measure


def approved_submissions(subjects: Sequence[SubjectRef], start: date, end: date) -> Mapping[int, Reading]:
    """How many measurements were submitted for the subject and period and approved (one query)."""
    from kpis.models import MeasureSubmission

    rows = (
        MeasureSubmission.objects.filter(
            subject_id__in=[s.id for s in subjects],
            start__gte=start,
            end__lte=end,
            status=MeasureSubmission.Status.APPROVED,
        )
        .values("subject_id")
        .annotate(n=Count("id"))
    )
    return {row["subject_id"]: Reading(Decimal(row["n"]), row["n"]) for row in rows}


def approved_submission_rows(user: Any, subject: SubjectRef, start: date, end: date) -> Sequence[DrillRow]:
    from kpis.models import MeasureSubmission

    submissions = (
        MeasureSubmission.objects.restrict(user)
        .filter(
            subject_id=subject.id, start__gte=start, end__lte=end, status=MeasureSubmission.Status.APPROVED
        )
        .select_related("measure")
        .order_by("start", "id")[:500]
    )
    return [
        DrillRow(
            label=f"{s.measure.label}: {s.value.normalize():f}",
            url=reverse("kpis:submission_detail", args=[s.pk]),
            cells=(("Period", f"{s.start} – {s.end}"), ("Submitted", s.created_at)),
        )
        for s in submissions
    ]


register_measure(
    "approved_submissions",
    "Measurements submitted and approved",
    "count",
    approved_submissions,
    rows=approved_submission_rows,
    description="Number of measurement submissions for the subject within the period that were approved.",
)
