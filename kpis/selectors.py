"""Reads of the measurement engine, always through ``restrict``: pages, the API and exports call these."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Avg, Count, Prefetch, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.roles import CS_AGENT
from core.access import get_restricted_or_404
from kpis import engine, formula, registry, scoring
from kpis import periods as period_math
from kpis.models import (
    Adjustment,
    ImprovementPlan,
    KpiDefinition,
    KpiResult,
    KpiReview,
    KpiVersion,
    Measure,
    MeasureSubmission,
    Scorecard,
    ScorecardPeriod,
    StaffRecommendation,
    StandingScheme,
    Subject,
)

# --- Catalogue -----------------------------------------------------------------------------------


def measure_list(*, user: Any) -> QuerySet[Measure]:
    return Measure.objects.restrict(user).order_by("code")


def submittable_measures(*, user: Any) -> QuerySet[Measure]:
    """Measures a person may submit values for. Measure names are reference data, not a vendor's
    records, so anyone allowed to submit sees the submitted-measure catalogue (portal users too)."""
    if not user.has_perm("kpis.add_measuresubmission"):
        return Measure.objects.none()
    return Measure.objects.filter(source=Measure.Source.SUBMITTED).order_by("label")


def subject_list(*, user: Any, kind: str = "") -> QuerySet[Subject]:
    qs = Subject.objects.restrict(user).select_related("vendor", "user")
    return qs.filter(kind=kind) if kind else qs


def subject_get(*, user: Any, pk: int, action: str = "view") -> Subject:
    return get_restricted_or_404(Subject, user=user, action=action, pk=pk)


def agent_choices(*, user: Any) -> QuerySet[User]:
    """Staff members in the agent role a KPI manager may make an agent subject of.

    KPI managers hold no ``accounts.*`` permission (reserved to administrators), so
    ``User.objects.restrict`` would give them nobody; the gate is ``kpis.add_subject`` and the
    list never includes vendor portal users or inactive accounts.
    """
    people: QuerySet[User] = User.objects.filter(is_active=True, vendor__isnull=True, groups__name=CS_AGENT)
    if not user.has_perm("kpis.add_subject"):
        return people.none()
    return people.order_by("username")


def standing_scheme_list(*, user: Any) -> QuerySet[StandingScheme]:
    return StandingScheme.objects.restrict(user).prefetch_related("standings")


def kpi_list(*, user: Any, include_retired: bool = False) -> QuerySet[KpiDefinition]:
    qs = KpiDefinition.objects.restrict(user).prefetch_related(
        Prefetch("versions", queryset=KpiVersion.objects.order_by("-number"))
    )
    return qs if include_retired else qs.filter(retired_at__isnull=True)


def kpi_get(*, user: Any, pk: int, action: str = "view") -> KpiDefinition:
    return get_restricted_or_404(KpiDefinition, user=user, action=action, pk=pk)


def kpi_versions(*, user: Any, definition: KpiDefinition) -> QuerySet[KpiVersion]:
    return (
        KpiVersion.objects.restrict(user)
        .filter(definition=definition)
        .select_related("author", "approved_by")
        .order_by("-number")
    )


def version_get(*, user: Any, pk: int, action: str = "view") -> KpiVersion:
    return get_restricted_or_404(KpiVersion, user=user, action=action, pk=pk)


def current_version(definition: KpiDefinition) -> KpiVersion | None:
    """The latest approved version (uses prefetched versions when present)."""
    versions = sorted(definition.versions.all(), key=lambda v: -v.number)
    return next((v for v in versions if v.status == KpiVersion.Status.APPROVED), None)


def pending_version(definition: KpiDefinition) -> KpiVersion | None:
    return next((v for v in definition.versions.all() if v.status == KpiVersion.Status.DRAFT), None)


# --- Scorecards and periods -------------------------------------------------------------------


def scorecard_list(*, user: Any, subject_kind: str = "") -> QuerySet[Scorecard]:
    qs = (
        Scorecard.objects.restrict(user)
        .select_related("subject", "subject__vendor", "standing_scheme")
        .annotate(kpi_count=Count("lines", distinct=True))
        .order_by("name")
    )
    return qs.filter(subject__kind=subject_kind) if subject_kind else qs


def scorecard_get(*, user: Any, pk: int, action: str = "view") -> Scorecard:
    return get_restricted_or_404(Scorecard, user=user, action=action, pk=pk)


def scorecard_lines(*, scorecard: Scorecard) -> list[Any]:
    return list(scorecard.lines.select_related("kpi").order_by("position", "id"))


def scorecard_history(*, user: Any, scorecard: Scorecard, limit: int = 24) -> list[ScorecardPeriod]:
    """The scorecard's periods, oldest first (for the chart), as far as USER may see them."""
    rows = list(
        ScorecardPeriod.objects.restrict(user)
        .filter(scorecard=scorecard)
        .select_related("standing", "scorecard")
        .order_by("-start")[:limit]
    )
    return list(reversed(rows))


def period_get(*, user: Any, pk: int, action: str = "view") -> ScorecardPeriod:
    period = get_restricted_or_404(ScorecardPeriod, user=user, action=action, pk=pk)
    return (
        ScorecardPeriod.objects.select_related("scorecard__subject__vendor", "standing", "closed_by")
        .select_related("scorecard__credit_terms")
        .get(pk=period.pk)
    )


def period_results(*, user: Any, period: ScorecardPeriod, official: bool = True) -> list[KpiResult]:
    qs = (
        KpiResult.objects.restrict(user)
        .filter(period=period)
        .select_related("kpi", "version", "line")
        .order_by("line__position", "kpi__name", "-version__number")
    )
    if official:
        qs = qs.filter(is_official=True)
    return list(qs)


def result_get(*, user: Any, pk: int) -> KpiResult:
    result = get_restricted_or_404(KpiResult, user=user, pk=pk)
    return KpiResult.objects.select_related("kpi", "version", "period__scorecard__subject", "line").get(
        pk=result.pk
    )


@dataclass(frozen=True)
class InputExplanation:
    code: str
    label: str
    unit: str
    source: str
    value: Any
    sample_size: Any
    submission_id: int | None
    rows: Sequence[registry.DrillRow]


def explain_result(*, user: Any, result: KpiResult, with_rows: bool = True) -> list[InputExplanation]:
    """Each input of a result: its value as used, where it came from, and the rows behind it."""
    codes = sorted(result.inputs)
    measures = {m.code: m for m in Measure.objects.filter(code__in=codes)}
    subject = engine.subject_ref(result.period.scorecard.subject)
    out = []
    for code in codes:
        item = result.inputs[code]
        measure = measures.get(code)
        entry = registry.get(code)
        rows: Sequence[registry.DrillRow] = ()
        if with_rows and entry is not None and entry.rows is not None:
            rows = entry.rows(user, subject, result.period.start, result.period.end)
        out.append(
            InputExplanation(
                code=code,
                label=measure.label if measure else code,
                unit=measure.unit if measure else "",
                source=item.get("source", ""),
                value=item.get("value"),
                sample_size=item.get("sample_size"),
                submission_id=item.get("submission_id"),
                rows=rows,
            )
        )
    return out


@dataclass
class VersionComparison:
    """A period evaluated under each of several version choices, without writing anything."""

    labels: list[str]
    rows: list[dict[str, Any]]  # one per KPI: kpi, and per label an Evaluation or None
    scores: dict[str, Decimal | None]


def period_compare_versions(
    *, user: Any, period: ScorecardPeriod, choices: dict[str, dict[int, KpiVersion]]
) -> VersionComparison:
    """What the period's score would be under each choice of versions (drafts included: a what-if).

    ``choices`` maps a label (e.g. "v1 (in force)") to {kpi id: version}; KPIs not named use the
    version in force.
    """
    scorecard = period.scorecard
    lines = scorecard_lines(scorecard=scorecard)
    in_force = engine.versions_in_force([line.kpi_id for line in lines], period.start)
    all_versions = list(in_force.values()) + [v for c in choices.values() for v in c.values()]
    measures = engine.measures_for(all_versions)
    subject = engine.subject_ref(scorecard.subject)
    readings = engine.collect_readings(measures, [subject], period.start, period.end)
    per_label: dict[str, dict[int, engine.Evaluation]] = {}
    scores: dict[str, Decimal | None] = {}
    for label, overrides in choices.items():
        versions = {**in_force, **overrides}
        evaluations = [
            engine.evaluate(
                versions[line.kpi_id], subject.id, readings, weight=line.weight, critical=line.critical
            )
            for line in lines
            if line.kpi_id in versions
        ]
        scores[label] = engine.score(evaluations)
        per_label[label] = {e.kpi_id: e for e in evaluations}
    rows = [
        {"kpi": line.kpi, **{label: per_label[label].get(line.kpi_id) for label in choices}} for line in lines
    ]
    return VersionComparison(list(choices), rows, scores)


@dataclass
class PreviewRow:
    subject: Subject
    evaluation: engine.Evaluation


@dataclass
class FormulaPreview:
    period: period_math.Period
    error: str = ""
    band_error: str = ""
    rows: list[PreviewRow] = field(default_factory=list)
    names: list[str] = field(default_factory=list)


def formula_preview(
    *,
    user: Any,
    text: str,
    direction: str = "higher",
    target: Any = None,
    bands: Any = None,
    min_sample_size: int = 0,
    today: date | None = None,
    limit: int = 25,
) -> FormulaPreview:
    """The formula evaluated on last month's data for the subjects USER may see (live preview)."""
    today = today or timezone.localdate()
    period = period_math.previous_period(period_math.MONTH, today)
    preview = FormulaPreview(period)
    try:
        parsed = formula.validate(text, Measure.objects.values_list("code", flat=True))
    except formula.FormulaError as exc:
        preview.error = str(exc)
        return preview
    preview.names = sorted(parsed.names)
    try:
        band_list = scoring.validate_bands(
            scoring.bands_from_json(bands or []), direction=direction, target=Decimal(str(target))
        )
    except (scoring.BandError, ArithmeticError, ValueError, TypeError) as exc:
        preview.band_error = (
            str(exc) if isinstance(exc, scoring.BandError) else "Give the target as a number."
        )
        band_list = [
            scoring.Band("—", None, Decimal(0), Decimal(0)),
            scoring.Band("—", Decimal(0), None, Decimal(0), is_target=True),
        ]
    version = KpiVersion(
        definition_id=0,
        formula=parsed.text,
        direction=direction,
        target=Decimal(str(target)) if _is_number(target) else Decimal(0),
        bands=[b.as_json() for b in band_list],
        min_sample_size=min_sample_size,
    )
    subjects = list(subject_list(user=user).filter(scorecards__isnull=False).distinct()[:limit])
    measures = list(Measure.objects.filter(code__in=parsed.names))
    readings = engine.collect_readings(
        measures, [engine.subject_ref(s) for s in subjects], period.start, period.end
    )
    for subject in subjects:
        preview.rows.append(
            PreviewRow(subject, engine.evaluate(version, subject.pk, readings, weight=Decimal(0)))
        )
    return preview


def _is_number(value: Any) -> bool:
    try:
        return Decimal(str(value)).is_finite()
    except ArithmeticError:
        return False


@dataclass
class Comparison:
    scorecards: list[Scorecard]
    starts: list[date]
    cells: dict[tuple[int, date], ScorecardPeriod]
    kpi_rows: list[dict[str, Any]]


def compare_scorecards(*, user: Any, ids: Sequence[int], periods: int = 6) -> Comparison:
    """Subjects side by side: scores per period, and the latest period's KPI results (three queries)."""
    scorecards = list(scorecard_list(user=user).filter(pk__in=list(ids)[:8]))
    rows = list(
        ScorecardPeriod.objects.restrict(user)
        .filter(scorecard__in=scorecards)
        .select_related("standing", "scorecard")
        .order_by("-start")
    )
    starts = sorted({r.start for r in rows}, reverse=True)[:periods]
    cells = {(r.scorecard_id, r.start): r for r in rows if r.start in starts}
    latest = starts[0] if starts else None
    kpi_rows: dict[int, dict[str, Any]] = {}
    if latest is not None:
        for result in (
            KpiResult.objects.restrict(user)
            .filter(period__scorecard__in=scorecards, period__start=latest, is_official=True)
            .select_related("kpi", "version", "period")
        ):
            row = kpi_rows.setdefault(result.kpi_id, {"kpi": result.kpi, "cells": {}})
            row["cells"][result.period.scorecard_id] = result
    return Comparison(scorecards, sorted(starts), cells, list(kpi_rows.values()))


# --- Money, recommendations, submissions ----------------------------------------------------------


def adjustment_list(*, user: Any, status: str = "") -> QuerySet[Adjustment]:
    qs = Adjustment.objects.restrict(user).select_related(
        "kpi", "period__scorecard__subject", "decided_by", "earns_back"
    )
    return qs.filter(status=status) if status else qs.order_by("-period__start", "period_id", "kind", "id")


def adjustment_get(*, user: Any, pk: int, action: str = "view") -> Adjustment:
    return get_restricted_or_404(Adjustment, user=user, action=action, pk=pk)


def recommendation_list(*, user: Any, status: str = "") -> QuerySet[StaffRecommendation]:
    qs = StaffRecommendation.objects.restrict(user).select_related("period__scorecard__subject", "decided_by")
    return qs.filter(status=status) if status else qs


def recommendation_get(*, user: Any, pk: int, action: str = "view") -> StaffRecommendation:
    return get_restricted_or_404(StaffRecommendation, user=user, action=action, pk=pk)


def submission_list(*, user: Any, status: str = "") -> QuerySet[MeasureSubmission]:
    qs = MeasureSubmission.objects.restrict(user).select_related(
        "measure", "subject", "submitted_by", "decided_by"
    )
    return qs.filter(status=status) if status else qs


def submission_get(*, user: Any, pk: int, action: str = "view") -> MeasureSubmission:
    return get_restricted_or_404(MeasureSubmission, user=user, action=action, pk=pk)


def improvement_plan_list(*, user: Any) -> QuerySet[ImprovementPlan]:
    return ImprovementPlan.objects.restrict(user).select_related("period__scorecard__subject")


def improvement_plan_get(*, user: Any, pk: int, action: str = "view") -> ImprovementPlan:
    return get_restricted_or_404(ImprovementPlan, user=user, action=action, pk=pk)


# --- KPI reviews ----------------------------------------------------------------------------------


def review_list(*, user: Any, status: str = "") -> QuerySet[KpiReview]:
    qs = KpiReview.objects.restrict(user).select_related("definition", "reviewer", "new_version")
    return qs.filter(status=status) if status else qs


def review_get(*, user: Any, pk: int, action: str = "view") -> KpiReview:
    return get_restricted_or_404(KpiReview, user=user, action=action, pk=pk)


def kpi_figures(
    *, user: Any, definition: KpiDefinition, months: int = 12, today: date | None = None
) -> dict[str, Any]:
    """What a reviewer sees: trend, attainment, distribution over bands and any benchmark (set-based)."""
    today = today or timezone.localdate()
    since = period_math.shift(
        period_math.MONTH, period_math.period_containing(period_math.MONTH, today), -months
    ).start
    results = KpiResult.objects.restrict(user).filter(
        kpi=definition, is_official=True, period__start__gte=since
    )
    trend = list(
        results.filter(applicable=True)
        .values("period__start")
        .annotate(
            mean_value=Avg("value"),
            mean_attainment=Avg("attainment"),
            subjects=Count("id"),
            met=Count("id", filter=Q(met_target=True)),
        )
        .order_by("period__start")
    )
    distribution = Counter(
        dict(
            results.filter(applicable=True)
            .values_list("band_label")
            .annotate(n=Count("id"))
            .values_list("band_label", "n")
        )
    )
    not_applicable = results.filter(applicable=False).count()
    totals = results.filter(applicable=True).aggregate(
        n=Count("id"), met=Count("id", filter=Q(met_target=True))
    )
    latest = period_math.previous_period(period_math.MONTH, today)
    return {
        "trend": [
            {
                "start": row["period__start"].isoformat(),
                "mean_value": None
                if row["mean_value"] is None
                else str(round(Decimal(row["mean_value"]), 2)),
                "mean_attainment": None
                if row["mean_attainment"] is None
                else str(round(Decimal(row["mean_attainment"]), 2)),
                "subjects": row["subjects"],
                "met": row["met"],
            }
            for row in trend
        ],
        "distribution": dict(distribution),
        "not_applicable": not_applicable,
        "attainment_pct": None
        if not totals["n"]
        else str(round(Decimal(totals["met"]) * 100 / totals["n"], 1)),
        "benchmark": registry.benchmark_for(definition.code, latest.start, latest.end),
    }


# --- Statements -------------------------------------------------------------------------------------


@dataclass
class Statement:
    """A period statement: results per KPI and the money, as exported to CSV, XLSX and PDF."""

    period: ScorecardPeriod
    results: list[KpiResult]
    adjustments: list[Adjustment]
    terms: Any

    @property
    def credits_total(self) -> Decimal:
        return sum((self._amount(a) for a in self.adjustments if a.kind != Adjustment.Kind.BONUS), Decimal(0))

    @property
    def bonus_total(self) -> Decimal:
        return sum((self._amount(a) for a in self.adjustments if a.kind == Adjustment.Kind.BONUS), Decimal(0))

    @staticmethod
    def _amount(a: Adjustment) -> Decimal:
        if a.status in (Adjustment.Status.APPROVED, Adjustment.Status.OVERRIDDEN):
            return a.approved_amount or Decimal(0)
        if a.status == Adjustment.Status.PROPOSED:
            return a.proposed_amount
        return Decimal(0)


def statement(*, user: Any, period: ScorecardPeriod) -> Statement:
    adjustments = list(
        Adjustment.objects.restrict(user).filter(period=period).select_related("kpi").order_by("kind", "id")
    )
    return Statement(
        period=period,
        results=period_results(user=user, period=period),
        adjustments=adjustments,
        terms=getattr(period.scorecard, "credit_terms", None),
    )


def chart_points(periods: Sequence[ScorecardPeriod]) -> list[tuple[str, Decimal | None, str]]:
    """(label, score, colour) per period for the scorecard chart."""
    return [(p.label, p.score, p.standing.colour if p.standing else "#5b6875") for p in periods]


def open_counts(*, user: Any) -> dict[str, int]:
    """Figures for the home dashboard panel."""
    counts: dict[str, int] = defaultdict(int)
    if user.has_perm("kpis.approve_adjustment"):
        counts["credits awaiting approval"] = (
            Adjustment.objects.restrict(user).filter(status=Adjustment.Status.PROPOSED).count()
        )
    if user.has_perm("kpis.approve_kpiversion"):
        counts["KPI versions awaiting approval"] = (
            KpiVersion.objects.restrict(user).filter(status=KpiVersion.Status.DRAFT).count()
        )
    if user.has_perm("kpis.approve_measuresubmission"):
        counts["submissions awaiting approval"] = (
            MeasureSubmission.objects.restrict(user).filter(status=MeasureSubmission.Status.SUBMITTED).count()
        )
    return dict(counts)
