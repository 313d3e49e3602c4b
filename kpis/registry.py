"""Where computed measures come from: Python selectors registered by the packages that own the data.

A package registers a measure once, at import time (from its ``AppConfig.ready``)::

    from kpis.registry import Reading, register_measure

    def first_response_median(subjects, start, end):
        # ONE query for all subjects: group by the subject's agent / vendor, aggregate in SQL.
        rows = Ticket.objects.filter(...).values("assignee_id").annotate(...)
        ...
        return {subject.id: Reading(value, sample_size, ref) for subject in subjects if ...}

    register_measure(
        "first_response_median", "First response, median", "minutes",
        compute=first_response_median, rows=first_response_rows,
        description="Median business minutes from creation to the first public agent reply.",
    )

``compute(subjects, start, end)`` receives every subject being scored at once and returns a
reading for each subject that has data; a subject it leaves out is "not applicable" for the
period (never 0). This is what keeps closing a month one query per measure, not one per
scorecard. ``rows(user, subject, start, end)`` optionally returns the data rows behind a
value (the tickets, orders or submissions) for the drill-down page, restricted to USER.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,59}$")


@dataclass(frozen=True)
class SubjectRef:
    """What a measure selector needs to know about a subject, without another query."""

    id: int
    kind: str
    vendor_id: int | None
    user_id: int | None
    content_type_id: int | None
    object_id: int | None


@dataclass(frozen=True)
class Reading:
    """One subject's value for a period. ``ref`` names the rows behind it (e.g. ticket ids)."""

    value: Decimal | None
    sample_size: int | None = None
    ref: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DrillRow:
    """One data row behind a value, for the drill-down table."""

    label: str
    url: str = ""
    cells: tuple[tuple[str, Any], ...] = ()


ComputeFn = Callable[[Sequence[SubjectRef], date, date], Mapping[int, Reading]]
RowsFn = Callable[[Any, SubjectRef, date, date], Sequence[DrillRow]]


@dataclass(frozen=True)
class RegisteredMeasure:
    code: str
    label: str
    unit: str
    compute: ComputeFn
    rows: RowsFn | None = None
    description: str = ""
    source: str = "computed"  # or "survey"


_registry: dict[str, RegisteredMeasure] = {}


def register_measure(
    code: str,
    label: str,
    unit: str,
    compute: ComputeFn,
    *,
    rows: RowsFn | None = None,
    description: str = "",
    source: str = "computed",
) -> RegisteredMeasure:
    """Register a computed (or survey) measure. Registering the same code twice is a programming error."""
    if not CODE_PATTERN.match(code):
        raise ValueError(f"measure code {code!r} must be lower_snake_case, 2–60 characters")
    if code in {"min", "max", "abs", "round", "div"}:
        raise ValueError(f"measure code {code!r} is the name of a formula function")
    if source not in {"computed", "survey"}:
        raise ValueError("registered measures are computed or survey measures")
    existing = _registry.get(code)
    if existing is not None and existing.compute is not compute:
        raise ValueError(f"measure {code!r} is already registered")
    entry = RegisteredMeasure(code, label, unit, compute, rows, description, source)
    _registry[code] = entry
    return entry


def unregister_measure(code: str) -> None:
    """For tests that register a throwaway measure."""
    _registry.pop(code, None)


def get(code: str) -> RegisteredMeasure | None:
    return _registry.get(code)


def registered() -> dict[str, RegisteredMeasure]:
    return dict(_registry)


# Benchmarks (industry medians and the like) per KPI code, added by the service issue.
BenchmarkFn = Callable[[str, date, date], Mapping[str, Any] | None]
_benchmarks: dict[str, BenchmarkFn] = {}


def register_benchmark(kpi_code: str, fn: BenchmarkFn) -> None:
    """A published benchmark shown on the KPI review page beside the KPI's own figures."""
    _benchmarks[kpi_code] = fn


# A provider registered under ANY_KPI answers for every KPI without one of its own (the service
# package resolves a KPI to the measure its formula names, then to that measure's benchmarks).
ANY_KPI = "*"


def benchmark_for(kpi_code: str, start: date, end: date) -> Mapping[str, Any] | None:
    fn = _benchmarks.get(kpi_code) or _benchmarks.get(ANY_KPI)
    return fn(kpi_code, start, end) if fn is not None else None
