"""The read side of the measurement engine: collect measure values and evaluate KPIs, set-based.

Nothing here writes. ``kpis.services`` persists what these functions compute, and the preview
and version-comparison pages call them directly. The cost of one run is one query per measure
(through its registered selector) plus a fixed handful, however many subjects are scored;
the per-subject work is evaluating each KPI's formula over values already in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from kpis import formula, registry, scoring
from kpis.models import KpiVersion, Measure, MeasureSubmission, Subject
from kpis.registry import SubjectRef


@dataclass(frozen=True)
class InputValue:
    """One measure's value for one subject and period, with where it came from."""

    code: str
    value: Decimal | None
    sample_size: int | None
    source: str
    submission_id: int | None = None
    ref: Mapping[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {
            "value": None if self.value is None else str(self.value),
            "sample_size": self.sample_size,
            "source": self.source,
            "submission_id": self.submission_id,
            "ref": dict(self.ref),
        }


Readings = dict[tuple[str, int], InputValue]


def subject_ref(subject: Subject) -> SubjectRef:
    return SubjectRef(
        id=subject.pk,
        kind=subject.kind,
        vendor_id=subject.vendor_id,
        user_id=subject.user_id,
        content_type_id=subject.content_type_id,
        object_id=subject.object_id,
    )


def measures_for(versions: Iterable[KpiVersion]) -> list[Measure]:
    """The Measure rows the versions' formulas name (one query)."""
    names: set[str] = set()
    for version in versions:
        names |= formula.parse(version.formula).names
    if not names:
        return []
    return list(Measure.objects.filter(code__in=sorted(names)))


def collect_readings(
    measures: Sequence[Measure], subjects: Sequence[SubjectRef], start: date, end: date
) -> Readings:
    """Every (measure, subject) value for the period [start, end).

    Computed and survey measures: one call of the registered selector with all subjects.
    Submitted measures: one query over approved submissions for exactly this period (the
    latest approval wins). Pairs without data are absent, i.e. not applicable.
    """
    readings: Readings = {}
    subject_ids = [s.id for s in subjects]
    wanted = set(subject_ids)
    if not subject_ids:
        return readings
    submitted_codes: dict[int, str] = {}
    for measure in measures:
        if measure.source == Measure.Source.SUBMITTED:
            submitted_codes[measure.pk] = measure.code
            continue
        entry = registry.get(measure.code)
        if entry is None:
            continue  # registered by a package that is not installed: no data
        for subject_id, reading in entry.compute(subjects, start, end).items():
            if subject_id in wanted:
                readings[(measure.code, subject_id)] = InputValue(
                    measure.code,
                    None if reading.value is None else Decimal(reading.value),
                    reading.sample_size,
                    measure.source,
                    ref=reading.ref,
                )
    if submitted_codes:
        rows = (
            MeasureSubmission.objects.filter(
                measure_id__in=list(submitted_codes),
                subject_id__in=subject_ids,
                start=start,
                end=end,
                status=MeasureSubmission.Status.APPROVED,
            )
            .order_by("decided_at", "id")
            .values_list("id", "measure_id", "subject_id", "value", "sample_size")
        )
        for submission_id, measure_id, subject_id, value, sample_size in rows:
            code = submitted_codes[measure_id]
            readings[(code, subject_id)] = InputValue(
                code,
                value,
                sample_size,
                Measure.Source.SUBMITTED,
                submission_id,
                {"submission_id": submission_id},
            )
    return readings


def versions_in_force(kpi_ids: Iterable[int], start: date) -> dict[int, KpiVersion]:
    """For each KPI, the approved version in force for a period starting on START (one query).

    That is the latest approved version effective on or before START; a period older than
    every version uses the first approved version.
    """
    chosen: dict[int, KpiVersion] = {}
    earliest: dict[int, KpiVersion] = {}
    versions = KpiVersion.objects.filter(
        definition_id__in=list(kpi_ids), status=KpiVersion.Status.APPROVED
    ).order_by("definition_id", "number")
    for version in versions:
        earliest.setdefault(version.definition_id, version)
        if version.effective_from <= start:
            chosen[version.definition_id] = version
    for kpi_id, version in earliest.items():
        chosen.setdefault(kpi_id, version)
    return chosen


@dataclass
class Evaluation:
    """A KPI's result for one subject and period, before it is stored."""

    kpi_id: int
    version: KpiVersion
    value: Decimal | None
    sample_size: int | None
    applicable: bool
    reason: str
    attainment: Decimal | None
    band_label: str
    met_target: bool | None
    weight: Decimal
    critical: bool
    inputs: dict[str, Any]
    line_id: int | None = None
    effective_weight: Decimal | None = None


def _bands(version: KpiVersion) -> list[scoring.Band]:
    """The version's bands, parsed once per loaded instance (versions are immutable)."""
    cached: list[scoring.Band] | None = getattr(version, "_parsed_bands", None)
    if cached is None:
        cached = sorted(
            scoring.bands_from_json(version.bands),
            key=lambda b: (b.lower is not None, b.lower or scoring.ZERO),
        )
        version._parsed_bands = cached  # type: ignore[attr-defined]
    return cached


def evaluate(
    version: KpiVersion,
    subject_id: int,
    readings: Readings,
    *,
    weight: Decimal,
    critical: bool = False,
    line_id: int | None = None,
) -> Evaluation:
    """Evaluate one KPI version for one subject over collected readings."""
    parsed = formula.parse(version.formula)
    inputs: dict[str, Any] = {}
    values: dict[str, Decimal | None] = {}
    sizes: list[int] = []
    for code in sorted(parsed.names):
        item = readings.get((code, subject_id))
        if item is None:
            inputs[code] = {
                "value": None,
                "sample_size": None,
                "source": "",
                "submission_id": None,
                "ref": {},
            }
            values[code] = None
            continue
        inputs[code] = item.as_json()
        values[code] = item.value
        if item.sample_size is not None:
            sizes.append(item.sample_size)
    sample = min(sizes) if sizes else None

    def not_applicable(reason: str, value: Decimal | None = None) -> Evaluation:
        return Evaluation(
            version.definition_id,
            version,
            value,
            sample,
            False,
            reason[:300],
            None,
            "",
            None,
            weight,
            critical,
            inputs,
            line_id,
        )

    try:
        value = formula.evaluate(parsed, values)
    except formula.NotApplicable as exc:
        return not_applicable(str(exc))
    except formula.FormulaError as exc:
        return not_applicable(f"formula error: {exc}")
    if version.min_sample_size and sample is not None and sample < version.min_sample_size:
        return not_applicable(f"sample of {sample} is below the minimum of {version.min_sample_size}", value)
    bands = _bands(version)
    band = scoring.band_for(bands, value)
    return Evaluation(
        version.definition_id,
        version,
        value,
        sample,
        True,
        "",
        band.score,
        band.label,
        scoring.meets_target(version.direction, value, version.target),
        weight,
        critical,
        inputs,
        line_id,
    )


def score(evaluations: Sequence[Evaluation]) -> Decimal | None:
    """The period score (re-normalised over applicable KPIs); sets each evaluation's effective weight."""
    total, effective = scoring.period_score(
        scoring.WeightedScore(e.attainment if e.applicable else None, e.weight) for e in evaluations
    )
    for i, evaluation in enumerate(evaluations):
        evaluation.effective_weight = effective.get(i)
    return total
