"""Competitor comparison (issue 4 item 7; seed 004 §2.3; PRODUCT.md §3 "Competitor comparison").

Published benchmark values are imported (one by one or from a CSV file, all rows or none) with
their source, period, industry, statistic, time basis and the publisher's definition. A
comparison places Steward's figure for the same measure beside each benchmark, and refuses
when the two are not alike: a median is never compared with a mean, nor business-hours
minutes with calendar minutes; the refusal says why. Benchmarks are registered with the
measurement engine so that the KPI review page shows their placement (issue 4 item 11).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core import audit
from core.models import AuditEvent
from kpis import registry
from service import measures
from service.report_models import ServiceBenchmark

CSV_COLUMNS = (
    "source",
    "source_url",
    "period_start",
    "period_end",
    "industry",
    "measure_code",
    "statistic",
    "time_basis",
    "unit",
    "definition",
    "value",
    "illustrative",
)
REQUIRED = (
    "source",
    "period_start",
    "period_end",
    "industry",
    "measure_code",
    "statistic",
    "time_basis",
    "unit",
    "definition",
    "value",
)
MAX_ROWS = 5000
BASIS_NAMES = {
    "business": "business-hours minutes",
    "calendar": "calendar (24/7) minutes",
    "none": "not a time",
}
STATISTIC_NAMES = {
    "median": "a median",
    "mean": "a mean",
    "p90": "a 90th percentile",
    "rate": "a rate",
    "count": "a count",
}


def _require(actor: Any, perm: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied("Importing benchmarks needs the customer-service manager role.")


def require_importer(actor: Any) -> None:
    """Refuse anyone who may not add benchmarks (checked before an upload is even read)."""
    _require(actor, "service.add_servicebenchmark")


def _clean(data: dict[str, Any]) -> ServiceBenchmark:
    """A validated, unsaved benchmark, or ValidationError per field."""
    errors: dict[str, str] = {}
    values: dict[str, Any] = {}
    for name in REQUIRED:
        text = str(data.get(name) if data.get(name) is not None else "").strip()
        if not text:
            errors[name] = "This field is required."
        values[name] = text
    code = values["measure_code"]
    measure = measures.MEASURES.get(code)
    if code and measure is None:
        errors["measure_code"] = (
            f"“{code}” is not a service measure; use one of {', '.join(sorted(measures.MEASURES))}."
        )
    for name in ("period_start", "period_end"):
        if values[name]:
            try:
                values[name] = date.fromisoformat(values[name])
            except ValueError:
                errors[name] = "Give a date as YYYY-MM-DD."
    if isinstance(values["period_start"], date) and isinstance(values["period_end"], date):
        if values["period_end"] < values["period_start"]:
            errors["period_end"] = "The period ends before it starts."
    if values["statistic"] and values["statistic"] not in ServiceBenchmark.Statistic.values:
        errors["statistic"] = f"Choose one of {', '.join(ServiceBenchmark.Statistic.values)}."
    if values["time_basis"] and values["time_basis"] not in ServiceBenchmark.TimeBasis.values:
        errors["time_basis"] = f"Choose one of {', '.join(ServiceBenchmark.TimeBasis.values)}."
    if measure is not None and values["unit"] and values["unit"] != measure.unit:
        errors["unit"] = f"{measure.label} is measured in {measure.unit}; convert the published value first."
    if values["value"]:
        try:
            values["value"] = Decimal(str(values["value"]))
            if not values["value"].is_finite() or values["value"] < 0:
                raise InvalidOperation
        except InvalidOperation:
            errors["value"] = "Give the value as a number, 0 or more."
    illustrative = str(data.get("illustrative") or "").strip().lower()
    if illustrative not in ("", "true", "false", "yes", "no", "1", "0"):
        errors["illustrative"] = "Answer yes or no."
    if errors:
        raise ValidationError(errors)
    benchmark = ServiceBenchmark(
        **{k: values[k] for k in REQUIRED},
        source_url=str(data.get("source_url") or "").strip(),
        illustrative=illustrative in ("true", "yes", "1"),
    )
    benchmark.full_clean()
    return benchmark


@transaction.atomic
def benchmark_create(*, actor: Any, data: dict[str, Any]) -> ServiceBenchmark:
    """Record one published benchmark value."""
    _require(actor, "service.add_servicebenchmark")
    benchmark = _clean(data)
    benchmark.imported_by = actor
    benchmark.save()
    audit.record_change(AuditEvent.Action.CREATE, benchmark, actor=actor)
    return benchmark


@transaction.atomic
def benchmarks_import(*, actor: Any, content: bytes) -> list[ServiceBenchmark]:
    """Import a CSV of benchmarks: every row is kept, or (on any bad row) none, with line numbers."""
    _require(actor, "service.add_servicebenchmark")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError({"file": "The file is not UTF-8 text."}) from None
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ValidationError(
            {
                "file": f"The header lacks the column(s) {', '.join(missing)}; "
                f"expected {', '.join(CSV_COLUMNS)}."
            }
        )
    problems: list[str] = []
    rows: list[ServiceBenchmark] = []
    for row in reader:
        if reader.line_num > MAX_ROWS + 1:
            problems.append(f"More than {MAX_ROWS} rows: split the file.")
            break
        try:
            rows.append(_clean(row))
        except ValidationError as exc:
            problems += [
                f"line {reader.line_num}: {name}: {' '.join(msgs)}" for name, msgs in exc.message_dict.items()
            ]
    if not rows and not problems:
        problems.append("The file has no rows.")
    if problems:
        raise ValidationError({"file": problems})
    saved = []
    for benchmark in rows:
        benchmark.imported_by = actor
        try:
            with transaction.atomic():
                benchmark.save()
        except Exception:  # noqa: BLE001 (the unique constraint: say which row repeats one)
            raise ValidationError(
                {
                    "file": f"{benchmark} is already recorded "
                    "(same source, measure, statistic, basis, industry, period)."
                }
            ) from None
        audit.record_change(AuditEvent.Action.CREATE, benchmark, actor=actor)
        saved.append(benchmark)
    return saved


# --- Placement -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Steward's figure beside one benchmark, or the reason they cannot be compared."""

    benchmark: ServiceBenchmark
    steward_value: Decimal | None
    sample_size: int
    comparable: bool
    explanation: str

    def as_json(self) -> dict[str, Any]:
        b = self.benchmark
        return {
            "benchmark_id": b.pk,
            "source": b.source,
            "industry": b.industry,
            "period": f"{b.period_start}–{b.period_end}",
            "statistic": b.statistic,
            "time_basis": b.time_basis,
            "definition": b.definition,
            "value": _num(b.value),
            "illustrative": b.illustrative,
            "steward_value": None if self.steward_value is None else str(self.steward_value),
            "sample_size": self.sample_size,
            "comparable": self.comparable,
            "explanation": self.explanation,
        }


def refusal(measure: measures.ServiceMeasure, benchmark: ServiceBenchmark) -> str:
    """Why MEASURE and BENCHMARK are not alike, or "" when they may be compared."""
    reasons = []
    if benchmark.statistic != measure.statistic:
        reasons.append(
            f"the benchmark is {STATISTIC_NAMES.get(benchmark.statistic, benchmark.statistic)} but Steward's "
            f"“{measure.label}” is {STATISTIC_NAMES.get(measure.statistic, measure.statistic)}"
        )
    if benchmark.time_basis != measure.time_basis:
        reasons.append(
            f"the benchmark counts {BASIS_NAMES[benchmark.time_basis]} but Steward's figure counts "
            f"{BASIS_NAMES[measure.time_basis]}"
        )
    if not reasons:
        return ""
    return (
        "Not compared: "
        + "; and ".join(reasons)
        + ". Compare like with like (choose the matching Steward measure)."
    )


def compare(
    *, measure_code: str, start: date, end: date, benchmarks: list[ServiceBenchmark] | None = None
) -> list[Comparison]:
    """Place Steward's whole-service figure for [start, end) against each benchmark of the measure."""
    measure = measures.MEASURES.get(measure_code)
    if measure is None:
        return []
    if benchmarks is None:
        benchmarks = list(ServiceBenchmark.objects.filter(measure_code=measure_code))
    if not benchmarks:
        return []
    figure = measures.overall(measure_code, start, end)
    value, n = figure if figure is not None else (None, 0)
    out = []
    for b in benchmarks:
        reason = refusal(measure, b)
        if reason:
            out.append(Comparison(b, value, n, False, reason))
            continue
        if value is None:
            out.append(Comparison(b, None, 0, False, "Not compared: Steward has no data for this period."))
            continue
        out.append(Comparison(b, value, n, True, placement_text(measure, value, b)))
    return out


def _num(value: Decimal) -> str:
    return f"{value.normalize():f}"


def placement_text(measure: measures.ServiceMeasure, value: Decimal, benchmark: ServiceBenchmark) -> str:
    if value == benchmark.value:
        return f"Steward's {_num(value)} {measure.unit} equals the benchmark."
    better = (value < benchmark.value) == measure.lower_is_better
    gap = abs(value - benchmark.value)
    relative = "" if not benchmark.value else f" ({(gap * 100 / benchmark.value).quantize(Decimal('0.1'))}%)"
    return (
        f"Steward's {_num(value)} {measure.unit} is {_num(gap)} {measure.unit}{relative} "
        f"{'better' if better else 'worse'} than the benchmark's {_num(benchmark.value)} "
        f"({'lower' if measure.lower_is_better else 'higher'} is better)."
    )


def measure_for_kpi(kpi_code: str) -> str | None:
    """The service measure a KPI is about: its own code, or the single measure its formula names."""
    if kpi_code in measures.MEASURES:
        return kpi_code
    from kpis import formula
    from kpis.models import KpiVersion

    version = (
        KpiVersion.objects.filter(definition__code=kpi_code, status=KpiVersion.Status.APPROVED)
        .order_by("-number")
        .first()
    )
    if version is None:
        return None
    names = formula.parse(version.formula).names
    if len(names) == 1:
        name = next(iter(names))
        return name if name in measures.MEASURES else None
    return None


def kpi_benchmark(kpi_code: str, start: date, end: date) -> dict[str, Any] | None:
    """What the KPI review page shows beside trend and distribution (JSON, kept with the review)."""
    code = measure_for_kpi(kpi_code)
    if code is None:
        return None
    found = compare(measure_code=code, start=start, end=end)
    if not found:
        return None
    first = next((c for c in found if c.comparable), found[0])
    b = first.benchmark
    return {
        "value": f"{_num(b.value)} {measures.MEASURES[code].unit} ({b.get_statistic_display().lower()}, "
        f"{b.get_time_basis_display().lower()}), {b.source}"
        + (" — illustrative sample" if b.illustrative else ""),
        "measure": code,
        "period": f"{start}–{end}",
        "placement": first.explanation,
        "comparisons": [c.as_json() for c in found],
    }


def register_all() -> None:
    """Let the KPI review page place any KPI about a service measure against its benchmarks."""
    registry.register_benchmark(registry.ANY_KPI, kpi_benchmark)
