"""The proposal-delivery KPI (issue 6 item 8): adopted proposals feed the vendor's scorecard.

``proposal_milestones_on_time_pct``: of the milestones of initiatives adopted from a vendor's
proposals that fell due within the period, the share done on or before their due date.
Milestones not yet due do not count; a vendor with none due is "not applicable".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, F, Q
from django.urls import reverse

from kpis.registry import DrillRow, Reading, SubjectRef, register_measure


def _vendor_of(subjects: Sequence[SubjectRef]) -> dict[int, list[int]]:
    by_vendor: dict[int, list[int]] = {}
    for subject in subjects:
        if subject.kind in ("vendor", "vendor_contract") and subject.vendor_id is not None:
            by_vendor.setdefault(subject.vendor_id, []).append(subject.id)
    return by_vendor


def milestones_on_time(subjects: Sequence[SubjectRef], start: date, end: date) -> Mapping[int, Reading]:
    """One query for every vendor being scored."""
    from proposals.models import Milestone

    by_vendor = _vendor_of(subjects)
    rows = (
        Milestone.objects.filter(
            initiative__vendor_id__in=list(by_vendor),
            initiative__source_decision__isnull=False,
            due__gte=start,
            due__lte=end,
        )
        .values("initiative__vendor_id")
        .annotate(
            n_due=Count("id"), in_time=Count("id", filter=Q(done_on__isnull=False, done_on__lte=F("due")))
        )
    )
    readings: dict[int, Reading] = {}
    for row in rows:
        value = (Decimal(row["in_time"]) * 100 / row["n_due"]).quantize(Decimal("0.01"))
        for subject_id in by_vendor[row["initiative__vendor_id"]]:
            readings[subject_id] = Reading(value, row["n_due"])
    return readings


def milestone_rows(user: Any, subject: SubjectRef, start: date, end: date) -> Sequence[DrillRow]:
    from proposals.models import Milestone

    if subject.vendor_id is None:
        return []
    milestones = (
        Milestone.objects.restrict(user)
        .filter(
            initiative__vendor_id=subject.vendor_id,
            initiative__source_decision__isnull=False,
            due__gte=start,
            due__lte=end,
        )
        .select_related("initiative")
        .order_by("due")[:500]
    )
    return [
        DrillRow(
            label=f"{m.initiative.title}: {m.title}",
            url=reverse("proposals:strategy") + f"#initiative-{m.initiative_id}",
            cells=(
                ("Due", m.due),
                ("Done", m.done_on or "not yet"),
                ("On time", "yes" if m.on_time else "no"),
            ),
        )
        for m in milestones
    ]


register_measure(
    "proposal_milestones_on_time_pct",
    "Proposal delivery: milestones on time",
    "%",
    milestones_on_time,
    rows=milestone_rows,
    description=(
        "Of the milestones of initiatives adopted from the vendor's CRM proposals that fell due in the "
        "period, the share completed on or before the due date."
    ),
)
