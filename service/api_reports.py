"""API of the service KPI reports, KPI rules, rollup rebuilds and competitor benchmarks (issue 4 items 5–7).

Endpoints parse, call ``service.reports`` / ``service.benchmarks`` / ``service.report_services`` and
render. Report figures come from the rollups; a portal user's figures are their vendor's only.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, File, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import BeforeValidator

from core.api import InputSchema, actor, paginate
from core.uploads import check_upload
from service import benchmarks, measures, report_exports, report_services, reports
from service.report_models import ServiceBenchmark, ServiceKpiRules
from service.rollups import rollups_rebuild

router = Router(tags=["service reports"])


def _iso_date(value: Any) -> Any:
    # pydantic would read a bare number as a Unix timestamp; a date here is written as YYYY-MM-DD.
    if not isinstance(value, str | date):
        raise ValueError("Give a date as YYYY-MM-DD.")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
REPORT_PERM = "service.view_servicemonthlyrollup"


def need_report(user: Any) -> None:
    """The report needs its view permission; anything narrower (a vendor) is done by ``restrict``."""
    if not user.has_perm(REPORT_PERM):
        raise PermissionDenied("The service KPI report needs a customer-service, vendor or audit role.")


def report_from(request: HttpRequest, default_group: str = "agent") -> reports.Report:
    user = actor(request)
    need_report(user)
    data = request.GET
    text = data.get("period") or reports.last_month(timezone.localdate()).label
    period = reports.parse_period(text)
    group_by = reports.parse_group(data.get("group_by") or default_group)
    return reports.report(user=user, period=period, group_by=group_by, filters=reports.parse_filters(data))


# --- Schemas --------------------------------------------------------------------------------------


class FigureOut(Schema):
    value: Decimal | None
    sample_size: int
    estimated: bool
    drilldown: str


class RowOut(Schema):
    key: str | None
    label: str
    figures: dict[str, FigureOut]


class DefinitionOut(Schema):
    code: str
    label: str
    unit: str
    definition: str


class KpiColumnOut(Schema):
    label: str
    value: Decimal | None
    meets_target: bool | None


class KpiComparisonOut(Schema):
    kpi: str
    version: int
    formula: str
    target: Decimal
    direction: str
    columns: list[KpiColumnOut]


class ReportOut(Schema):
    period: str
    start: date
    end: date = Field(..., description="Exclusive.")
    group_by: str
    filters: dict[str, str]
    rules: str
    source: str = Field(..., description="Which rollup the figures were read from.")
    definitions: list[DefinitionOut]
    rows: list[RowOut]
    total: RowOut
    vendors: list[RowOut] = Field(..., description="In-house (key null) and each vendor.")
    kpis: list[KpiComparisonOut] = Field(
        ..., description="Each service KPI version, in-house vs each vendor."
    )
    trend: list[RowOut]
    histogram: list[tuple[str, int]] = Field(..., description="First-response business minutes, by bucket.")


def _drill_shared(report: reports.Report) -> str:
    """The query string every drill-down link of REPORT shares (its period and filters)."""
    return urlencode({"period": report.period.label, **report.filters.as_params()})


def _drill(shared: str, code: str, group_by: str, key: Any, outcome: str = "") -> str:
    """The drill-down link of one figure: SHARED (``_drill_shared``) encoded once per report, as a
    report by agent carries ~200 rows × 17 links."""
    params: dict[str, str] = {}
    if group_by:
        params["group_by"] = group_by
        params["key"] = "none" if key is None else str(key)
    if outcome:
        params["outcome"] = outcome
    tail = f"&{urlencode(params)}" if params else ""
    return f"/api/v1/service/reports/drilldown?{urlencode({'figure': code})}&{shared}{tail}"


def _row(report: reports.Report, row: reports.ReportRow, group_by: str, shared: str = "") -> dict[str, Any]:
    shared = shared or _drill_shared(report)
    return {
        "key": None if row.key is None else str(row.key),
        "label": row.label,
        "figures": {
            f.code: {
                "value": row.figures[f.code].value,
                "sample_size": row.figures[f.code].sample_size,
                "estimated": row.figures[f.code].estimated,
                "drilldown": _drill(shared, f.code, group_by, row.key, f.drill_outcome),
            }
            for f in reports.FIGURES
        },
    }


def report_json(report: reports.Report) -> dict[str, Any]:
    shared = _drill_shared(report)
    return {
        "period": report.period.label,
        "start": report.period.start,
        "end": report.period.end,
        "group_by": report.group_by,
        "filters": report.filters.as_params(),
        "rules": report.rules.statement(),
        "source": "monthly rollup" if report.period.whole_months else "daily rollup",
        "definitions": [
            {"code": f.code, "label": f.label, "unit": f.unit, "definition": f.definition}
            for f in reports.FIGURES
        ],
        "rows": [_row(report, r, report.group_by, shared) for r in report.rows],
        "total": _row(report, report.total, "", shared),
        "vendors": [_row(report, r, "vendor", shared) for r in report.vendors],
        "kpis": [
            {
                "kpi": k.version.name,
                "version": k.version.number,
                "formula": k.version.formula,
                "target": k.version.target,
                "direction": k.version.direction,
                "columns": [{"label": c[0], "value": c[1], "meets_target": c[2]} for c in k.cells],
            }
            for k in report.kpis
        ],
        "trend": [_row(report, r, "", shared) for r in report.trend],
        "histogram": report.histogram,
    }


class TicketRowOut(Schema):
    id: int
    source: str
    external_id: str
    subject: str
    channel: str
    priority: str
    status: str
    opened_at: Any
    first_response_business_minutes: int | None
    resolution_business_minutes: int | None
    reopen_count: int
    agent_reply_count: int
    agent_id: int | None
    team_id: int | None
    vendor_id: int | None


class RulesOut(Schema):
    attribution: ServiceKpiRules.Attribution
    filing: ServiceKpiRules.Filing
    statement: str


class RulesIn(InputSchema):
    attribution: ServiceKpiRules.Attribution
    filing: ServiceKpiRules.Filing


# Tickets older than this or dated further ahead are typing mistakes, not history: a rebuild over
# centuries would also build a month list no database accepts in one statement.
MIN_REBUILD_YEAR, MAX_REBUILD_YEAR = 2000, 2100


class RebuildIn(InputSchema):
    start: IsoDate | None = None
    end: IsoDate | None = None


class RebuildOut(Schema):
    start: date
    end: date
    daily_rows: int
    monthly_rows: int


class BenchmarkIn(InputSchema):
    source: str = Field(..., min_length=1, max_length=200)
    source_url: str = Field("", max_length=200)
    period_start: IsoDate
    period_end: IsoDate
    industry: str = Field(..., min_length=1, max_length=120)
    measure_code: str = Field(..., min_length=2, max_length=60)
    statistic: ServiceBenchmark.Statistic
    time_basis: ServiceBenchmark.TimeBasis
    unit: str = Field(..., min_length=1, max_length=20)
    definition: str = Field(..., min_length=1, max_length=4000)
    value: Decimal = Field(..., ge=0, max_digits=14, decimal_places=4)
    illustrative: bool = False


class BenchmarkOut(Schema):
    id: int
    source: str
    source_url: str
    period_start: date
    period_end: date
    industry: str
    measure_code: str
    statistic: str
    time_basis: str
    unit: str
    definition: str
    value: Decimal
    illustrative: bool


class ComparisonOut(Schema):
    benchmark_id: int
    source: str
    industry: str
    period: str
    statistic: str
    time_basis: str
    definition: str
    value: str
    illustrative: bool
    steward_value: str | None
    sample_size: int
    comparable: bool
    explanation: str


# --- Reports --------------------------------------------------------------------------------------


@router.get("/reports/kpis", response=ReportOut, summary="Service KPI report for a period, grouped")
def report_kpis(request: HttpRequest) -> dict[str, Any]:
    """Query: ``period`` (2026-03, 2026-Q1, 2026 or 2026-03-01..2026-03-15; default last month),
    ``group_by`` (agent, team, vendor, channel), filters ``channel``, ``priority``, ``team``,
    ``agent``, ``vendor`` (an id or ``in-house``)."""
    return report_json(report_from(request))


@router.get("/reports/kpis/export", summary="The same report as CSV, XLSX or PDF")
def report_export(request: HttpRequest, format: str = "csv") -> HttpResponse:
    user = actor(request)
    if user.is_portal_user:
        # Vendors read their figures on the page and through the JSON report; files are for staff.
        raise PermissionDenied("Report files are exported by Steward staff.")
    if format not in ("csv", "xlsx", "pdf"):
        raise ValidationError({"format": "Choose csv, xlsx or pdf."})
    report = report_from(request)
    return report_exports.report_response(user=actor(request), report=report, fmt=format)


@router.get("/reports/drilldown", response=list[TicketRowOut], summary="The tickets behind one figure")
@paginate
def report_drilldown(request: HttpRequest):  # type: ignore[no-untyped-def]
    """Query: ``figure`` (a figure code of the report; default the volume), ``period``, the report's
    filters, and optionally
    ``group_by`` with ``key`` (the row: an id, a channel, or ``none``) and ``outcome`` (met, breached)."""
    user = actor(request)
    need_report(user)
    data = request.GET
    return drilldown_from(user, data)


def drilldown_from(user: Any, data: Any) -> Any:
    period = reports.parse_period(data.get("period") or reports.last_month(timezone.localdate()).label)
    return reports.drilldown(
        user=user,
        code=data.get("figure") or "ticket_volume",
        period=period,
        filters=reports.parse_filters(data),
        group_by=data.get("group_by") or "",
        key=data.get("key") or "",
        outcome=data.get("outcome") or "",
    )


# --- Rules and rebuilds ---------------------------------------------------------------------------


def _rules_out(rules: ServiceKpiRules) -> dict[str, Any]:
    return {"attribution": rules.attribution, "filing": rules.filing, "statement": rules.statement()}


@router.get("/kpi-rules", response=RulesOut, summary="Attribution and filing rules in force")
def rules_get(request: HttpRequest) -> dict[str, Any]:
    need_report(actor(request))
    return _rules_out(measures.current_rules())


@router.put("/kpi-rules", response=RulesOut, summary="Change the attribution and filing rules")
def rules_put(request: HttpRequest, payload: RulesIn) -> dict[str, Any]:
    rules = report_services.kpi_rules_set(
        actor=actor(request), attribution=payload.attribution, filing=payload.filing
    )
    return _rules_out(rules)


@router.post("/rollups/rebuild", response=RebuildOut, summary="Rebuild the KPI rollups for a day range")
def rollups_rebuild_endpoint(request: HttpRequest, payload: RebuildIn) -> Any:
    user = actor(request)
    if not user.has_perm("service.change_servicekpirules"):
        raise PermissionDenied("Rebuilding the rollups needs the customer-service manager role.")
    if payload.start and payload.end and payload.end <= payload.start:
        raise ValidationError({"end": "The end comes after the start."})
    for name, day in (("start", payload.start), ("end", payload.end)):
        if day is not None and not MIN_REBUILD_YEAR <= day.year <= MAX_REBUILD_YEAR:
            raise ValidationError({name: f"Give a date between {MIN_REBUILD_YEAR} and {MAX_REBUILD_YEAR}."})
    return rollups_rebuild(start=payload.start, end=payload.end)


# --- Benchmarks -----------------------------------------------------------------------------------


def _benchmarks_visible(user: Any) -> Any:
    return ServiceBenchmark.objects.restrict(user)


@router.get("/benchmarks", response=list[BenchmarkOut], summary="Published benchmark values")
@paginate
def benchmark_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return _benchmarks_visible(actor(request))


@router.post("/benchmarks", response={201: BenchmarkOut}, summary="Record one published benchmark value")
def benchmark_create(request: HttpRequest, payload: BenchmarkIn) -> Status[ServiceBenchmark]:
    return Status(201, benchmarks.benchmark_create(actor=actor(request), data=payload.dict()))


@router.post(
    "/benchmarks/import", response={201: list[BenchmarkOut]}, summary="Import benchmarks from a CSV file"
)
def benchmark_import(request: HttpRequest, file: File[UploadedFile]) -> Status[list[ServiceBenchmark]]:
    """Columns: source, source_url, period_start, period_end, industry, measure_code, statistic
    (median, mean, p90, rate), time_basis (business, calendar, none), unit, definition, value,
    illustrative. Every row is kept, or none: a bad row is reported with its line number."""
    user = actor(request)
    benchmarks.require_importer(user)  # before looking at the file: an outsider learns nothing
    check_upload(file, field="file")
    file.seek(0)
    return Status(201, benchmarks.benchmarks_import(actor=user, content=file.read()))


@router.get(
    "/benchmarks/compare", response=list[ComparisonOut], summary="Place Steward's figure against benchmarks"
)
def benchmark_compare(request: HttpRequest, measure: str, period: str = "") -> list[dict[str, Any]]:
    """Like-for-like only: a benchmark with another statistic or time basis is returned with
    ``comparable: false`` and the reason."""
    user = actor(request)
    if not user.has_perm("service.view_servicebenchmark"):
        raise PermissionDenied("Benchmarks need a customer-service or audit role.")
    if measure not in measures.MEASURES:
        raise ValidationError({"measure": "Not a service measure."})
    p = reports.parse_period(period or reports.last_month(timezone.localdate()).label)
    found = benchmarks.compare(
        measure_code=measure,
        start=p.start,
        end=p.end,
        benchmarks=list(_benchmarks_visible(user).filter(measure_code=measure)),
    )
    return [c.as_json() for c in found]
