"""The service KPI report (issue 4 item 6): figures from the rollups, never from rescanning tickets.

One report is a period, a grouping (agent, team, vendor or channel) and filters (channel, priority,
team, agent, vendor). It costs a fixed handful of queries whatever the number of tickets: one
grouped SUM over the monthly (or, for an arbitrary date range, daily) rollup, one total, one
trend by month, one comparison by vendor, one for the KPI versions. Counts, means and rates are
exact; medians and 90th percentiles are estimated from the rollup's minute buckets (the scorecard
measures and the drill-down give the exact values), and the page says so beside each.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q, QuerySet, Sum

from kpis import formula, scoring
from kpis import periods as period_math
from kpis.models import KpiVersion
from service import measures
from service.models import Priority, SlaTarget, Ticket, TicketChannel
from service.report_models import (
    BUCKET_EDGES,
    FIRST_RESPONSE_BUCKETS,
    MAX_COLUMNS,
    RESOLUTION_BUCKETS,
    SUM_COLUMNS,
    ServiceAgentMonthRollup,
    ServiceDailyRollup,
    ServiceKpiRules,
    ServiceMonthlyRollup,
)

GROUPS = {
    "agent": ("agent_id", "agent__name"),
    "team": ("team_id", "team__name"),
    "vendor": ("vendor_id", "vendor__name"),
    "channel": ("channel", "channel"),
}
IN_HOUSE = "In-house"
PERIOD_HELP = "a month (2026-03), a quarter (2026-Q1), a year (2026) or a date range (2026-03-01..2026-03-15)"
TWO = Decimal("0.01")


# --- Period and filters ------------------------------------------------------------------------


@dataclass(frozen=True)
class ReportPeriod:
    start: date
    end: date  # exclusive
    label: str
    whole_months: bool


def parse_period(text: str) -> ReportPeriod:
    """A period from its label; ValidationError (field ``period``) when it is not one."""
    text = (text or "").strip()
    try:
        if m := re.fullmatch(r"(\d{4})-(\d{2})", text):
            p = period_math.period_containing(period_math.MONTH, date(int(m[1]), int(m[2]), 1))
            return ReportPeriod(p.start, p.end, text, True)
        if m := re.fullmatch(r"(\d{4})-Q([1-4])", text):
            p = period_math.period_containing(
                period_math.QUARTER, date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1)
            )
            return ReportPeriod(p.start, p.end, text, True)
        if m := re.fullmatch(r"(\d{4})", text):
            p = period_math.period_containing(period_math.YEAR, date(int(m[1]), 1, 1))
            return ReportPeriod(p.start, p.end, text, True)
        if m := re.fullmatch(r"(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})", text):
            start, last = date.fromisoformat(m[1]), date.fromisoformat(m[2])
            if last < start:
                raise ValidationError({"period": "The range ends before it starts."})
            if (last - start).days > 731:
                raise ValidationError({"period": "A date range covers at most two years."})
            end = last + timedelta(days=1)
            whole = start.day == 1 and end.day == 1
            return ReportPeriod(start, end, text, whole)
    except ValueError:
        pass
    raise ValidationError({"period": f"“{text}” is not a period: give {PERIOD_HELP}."})


def last_month(today: date) -> ReportPeriod:
    p = period_math.previous_period(period_math.MONTH, today)
    return ReportPeriod(p.start, p.end, p.start.strftime("%Y-%m"), True)


@dataclass(frozen=True)
class Filters:
    channel: str = ""
    priority: str = ""
    team: int | None = None
    agent: int | None = None
    vendor: int | None = None
    in_house: bool = False  # vendor filter "in-house": tickets of no vendor

    def q(self, t: str = "") -> Q:
        """The filters as a condition on rollup rows (T = "") or tickets (same field names)."""
        condition = Q()
        if self.channel:
            condition &= Q(**{f"{t}channel": self.channel})
        if self.priority:
            condition &= Q(**{f"{t}priority": self.priority})
        for name in ("team", "agent", "vendor"):
            value = getattr(self, name)
            if value is not None:
                condition &= Q(**{f"{t}{name}_id": value})
        if self.in_house:
            condition &= Q(**{f"{t}vendor__isnull": True})
        return condition

    def as_params(self) -> dict[str, str]:
        params = {k: str(v) for k, v in (("channel", self.channel), ("priority", self.priority)) if v}
        for name in ("team", "agent", "vendor"):
            if getattr(self, name) is not None:
                params[name] = str(getattr(self, name))
        if self.in_house:
            params["vendor"] = "in-house"
        return params


def parse_filters(data: Mapping[str, Any]) -> Filters:
    errors: dict[str, str] = {}
    channel = str(data.get("channel") or "")
    if channel and channel not in TicketChannel.values:
        errors["channel"] = f"Choose one of {', '.join(TicketChannel.values)}."
    priority = str(data.get("priority") or "")
    if priority and priority not in Priority.values:
        errors["priority"] = f"Choose one of {', '.join(Priority.values)}."
    ids: dict[str, int | None] = {}
    in_house = False
    for name in ("team", "agent", "vendor"):
        raw = str(data.get(name) or "").strip()
        ids[name] = None
        if name == "vendor" and raw == "in-house":
            in_house = True
        elif raw:
            if not raw.isdigit() or int(raw) < 1:
                errors[name] = "Give an id (a whole number)" + (
                    " or “in-house”." if name == "vendor" else "."
                )
            else:
                ids[name] = int(raw)
    if errors:
        raise ValidationError(errors)
    return Filters(channel, priority, ids["team"], ids["agent"], ids["vendor"], in_house)


def parse_group(text: str) -> str:
    if text not in GROUPS:
        raise ValidationError({"group_by": f"Group by one of {', '.join(GROUPS)}."})
    return text


# --- Figures from sums ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    value: Decimal | None
    sample_size: int
    estimated: bool = False


def _ratio(num: int, den: int, scale: int = 1) -> Figure:
    if not den:
        return Figure(None, 0)
    return Figure((Decimal(num) * scale / den).quantize(TWO, rounding=ROUND_HALF_UP), den)


def bucket_percentile(counts: list[int], fraction: Decimal, maximum: int) -> Decimal | None:
    """Estimate a percentile from bucket counts: linear within the bucket holding the rank."""
    n = sum(counts)
    if not n:
        return None
    rank = Decimal(n - 1) * fraction  # 0-based, as percentile_cont
    seen = 0
    for i, c in enumerate(counts):
        if c and rank < seen + c:
            low = Decimal(BUCKET_EDGES[i])
            # Values are whole minutes in [low, next edge); the largest observed caps the top bucket.
            next_edge = BUCKET_EDGES[i + 1] if i + 1 < len(BUCKET_EDGES) else maximum + 1
            high = Decimal(max(min(next_edge, maximum + 1), BUCKET_EDGES[i] + 1))
            position = (rank - seen + Decimal("0.5")) / c
            return (low + (high - low) * position).quantize(TWO, rounding=ROUND_HALF_UP)
        seen += c
    return Decimal(maximum)


def _percentile(sums: Mapping[str, int], names: tuple[str, ...], maximum: str, fraction: str) -> Figure:
    counts = [int(sums.get(n) or 0) for n in names]
    value = bucket_percentile(counts, Decimal(fraction), int(sums.get(maximum) or 0))
    return Figure(value, sum(counts), estimated=True)


FigureFn = Callable[[Mapping[str, int]], Figure]


@dataclass(frozen=True)
class ReportFigure:
    code: str  # the service measure it corresponds to
    label: str
    unit: str
    fn: FigureFn
    drill_outcome: str = ""

    @property
    def definition(self) -> str:
        text = measures.MEASURES[self.code].description
        if self.code.endswith(("_median", "_p90")):
            text += (
                " In reports, estimated from the rollup's minute buckets (within one bucket: 5 minutes below "
                "15 min, then 15–30 min up to 1 h); the drill-down and scorecards give the exact figure."
            )
        return text


def _get(s: Mapping[str, int], name: str) -> int:
    return int(s.get(name) or 0)


FIGURES: tuple[ReportFigure, ...] = (
    ReportFigure(
        "ticket_volume",
        "Volume",
        "tickets",
        lambda s: Figure(Decimal(_get(s, "tickets")), _get(s, "tickets")),
    ),
    ReportFigure(
        "first_response_median",
        "First response, median",
        "business min",
        lambda s: _percentile(s, FIRST_RESPONSE_BUCKETS, "fr_max", "0.5"),
    ),
    ReportFigure(
        "first_response_p90",
        "First response, p90",
        "business min",
        lambda s: _percentile(s, FIRST_RESPONSE_BUCKETS, "fr_max", "0.9"),
    ),
    ReportFigure(
        "first_response_mean",
        "First response, mean",
        "business min",
        lambda s: _ratio(_get(s, "fr_sum"), _get(s, "fr_n")),
    ),
    ReportFigure(
        "first_response_calendar_mean",
        "First response, mean (calendar)",
        "calendar min",
        lambda s: _ratio(_get(s, "fr_cal_sum"), _get(s, "fr_n")),
    ),
    ReportFigure(
        "next_response_mean",
        "Next response, mean",
        "business min",
        lambda s: _ratio(_get(s, "nr_sum"), _get(s, "nr_n")),
    ),
    ReportFigure(
        "resolution_median",
        "Full resolution, median",
        "business min",
        lambda s: _percentile(s, RESOLUTION_BUCKETS, "res_max", "0.5"),
    ),
    ReportFigure(
        "resolution_p90",
        "Full resolution, p90",
        "business min",
        lambda s: _percentile(s, RESOLUTION_BUCKETS, "res_max", "0.9"),
    ),
    ReportFigure(
        "resolution_mean",
        "Full resolution, mean",
        "business min",
        lambda s: _ratio(_get(s, "res_sum"), _get(s, "res_n")),
    ),
    ReportFigure(
        "first_resolution_mean",
        "First resolution, mean",
        "business min",
        lambda s: _ratio(_get(s, "first_res_sum"), _get(s, "first_res_n")),
    ),
    ReportFigure(
        "sla_first_response_pct",
        "SLA first response",
        "%",
        lambda s: _ratio(_get(s, "sla_fr_met"), _get(s, "sla_fr_met") + _get(s, "sla_fr_breached"), 100),
        drill_outcome="breached",
    ),
    ReportFigure(
        "sla_next_response_pct",
        "SLA next response",
        "%",
        lambda s: _ratio(_get(s, "sla_nr_met"), _get(s, "sla_nr_met") + _get(s, "sla_nr_breached"), 100),
        drill_outcome="breached",
    ),
    ReportFigure(
        "sla_resolution_pct",
        "SLA resolution",
        "%",
        lambda s: _ratio(_get(s, "sla_res_met"), _get(s, "sla_res_met") + _get(s, "sla_res_breached"), 100),
        drill_outcome="breached",
    ),
    ReportFigure(
        "sla_attainment_pct",
        "SLA all targets",
        "%",
        lambda s: _ratio(
            sum(_get(s, f"sla_{t}_met") for t in ("fr", "nr", "res")),
            sum(_get(s, f"sla_{t}_{o}") for t in ("fr", "nr", "res") for o in ("met", "breached")),
            100,
        ),
        drill_outcome="breached",
    ),
    ReportFigure(
        "reopen_rate_pct",
        "Reopen rate",
        "%",
        lambda s: _ratio(_get(s, "reopened"), _get(s, "resolved_once"), 100),
    ),
    ReportFigure(
        "one_touch_resolution_pct",
        "One-touch resolution",
        "%",
        lambda s: _ratio(_get(s, "one_touch"), _get(s, "resolved"), 100),
    ),
    ReportFigure(
        "backlog",
        "Backlog at end",
        "tickets",
        lambda s: Figure(Decimal(_get(s, "backlog_end")), _get(s, "backlog_end")),
    ),
)
FIGURE_BY_CODE = {f.code: f for f in FIGURES}
SLA_TARGET_OF = {
    "sla_first_response_pct": SlaTarget.FIRST_RESPONSE,
    "sla_next_response_pct": SlaTarget.NEXT_RESPONSE,
    "sla_resolution_pct": SlaTarget.RESOLUTION,
}


def figures(sums: Mapping[str, int]) -> dict[str, Figure]:
    return {f.code: f.fn(sums) for f in FIGURES}


# --- The report -------------------------------------------------------------------------------------


@dataclass
class ReportRow:
    key: Any
    label: str
    figures: dict[str, Figure]
    sums: dict[str, int] = field(default_factory=dict)


@dataclass
class KpiComparison:
    """One KPI version evaluated for in-house staff and each vendor over the same rollups."""

    version: KpiVersion
    cells: list[tuple[str, Decimal | None, bool | None]]  # (column label, value, meets target)


@dataclass
class Report:
    period: ReportPeriod
    group_by: str
    filters: Filters
    rules: ServiceKpiRules
    rows: list[ReportRow]
    total: ReportRow
    trend: list[ReportRow]
    histogram: list[tuple[str, int]]
    vendors: list[ReportRow]
    kpis: list[KpiComparison]


def _aggregates(with_backlog: bool, backlog_month: date | None) -> dict[str, Any]:
    out: dict[str, Any] = {c: (Max(c) if c in MAX_COLUMNS else Sum(c)) for c in SUM_COLUMNS}
    if with_backlog:
        out["backlog_end"] = Sum("backlog_end", filter=Q(month=backlog_month))
    return out


def _months(user: Any, filters: Filters, group_by: str = "") -> QuerySet[Any]:
    """The monthly rollup to read: per agent when no channel or priority is involved, else per cell."""
    if filters.channel or filters.priority or group_by == "channel":
        return ServiceMonthlyRollup.objects.restrict(user).filter(filters.q())
    return ServiceAgentMonthRollup.objects.restrict(user).filter(filters.q())


def _from_tickets(period: ReportPeriod, filters: Filters, group_by: str) -> bool:
    """A date range by channel or priority: the daily rollup has neither, the tickets' stored values do."""
    return not period.whole_months and bool(filters.channel or filters.priority or group_by == "channel")


def _rollups(user: Any, period: ReportPeriod, filters: Filters, group_by: str) -> QuerySet[Any]:
    if period.whole_months:
        return _months(user, filters, group_by).filter(month__gte=period.start, month__lt=period.end)
    return ServiceDailyRollup.objects.restrict(user).filter(
        filters.q(), day__gte=period.start, day__lt=period.end
    )


def _sums(
    user: Any, period: ReportPeriod, filters: Filters, group_by: str, fields: tuple[str, ...], aggregates: Any
) -> list[dict[str, Any]]:
    """Rows of FIELDS with every rollup sum for the period: one grouped query, over a rollup, or over
    the stored per-ticket values (and SLA results) for a date range by channel or priority."""
    if not _from_tickets(period, filters, group_by):
        base = _rollups(user, period, filters, group_by)
        if not fields:
            return [base.aggregate(**aggregates)]
        return list(base.values(*fields).annotate(**aggregates).order_by(fields[-1]))
    from service.rollups import figure_columns, with_sla

    rules = measures.current_rules()
    tickets = with_sla(
        Ticket.objects.restrict(user)
        .filter(measures.counted_q(), measures.filing_q(rules, period.start, period.end), filters.q())
        .order_by()
    )
    if not fields:
        return [tickets.aggregate(**figure_columns())]
    return list(tickets.values(*fields).annotate(**figure_columns()).order_by(fields[-1]))


def _backlog_by(user: Any, period: ReportPeriod, filters: Filters, group: str | None) -> dict[Any, int]:
    """Backlog at the end of a date range that is not whole months, from the stored ticket values."""
    qs = Ticket.objects.restrict(user).filter(
        measures.counted_q(), measures.unresolved_at_q(period.end), filters.q()
    )
    if group is None:
        return {None: qs.count()}
    return {r[group]: r["n"] for r in qs.order_by().values(group).annotate(n=Count("pk"))}


def _row_label(group_by: str, key: Any, name: Any) -> str:
    if group_by == "channel":
        return str(TicketChannel(key).label) if key in TicketChannel.values else str(key)
    if key is None:
        return IN_HOUSE if group_by == "vendor" else "(none)"
    return str(name)


def report(
    *,
    user: Any,
    period: ReportPeriod,
    group_by: str = "agent",
    filters: Filters | None = None,
    trend_months: int = 12,
) -> Report:
    """The KPI report of PERIOD grouped by GROUP_BY, as USER may see it (portal users: their vendor)."""
    filters = filters or Filters()
    rules = measures.current_rules()
    key, name = GROUPS[group_by]
    monthly = period.whole_months
    last_month_start = period_math.period_containing(period_math.MONTH, period.end - timedelta(days=1)).start
    aggregates = _aggregates(monthly, last_month_start)
    grouped = _sums(user, period, filters, group_by, (key, name), aggregates)
    total_sums = _sums(user, period, filters, group_by, (), aggregates)[0]
    by_vendor = _sums(user, period, filters, group_by, ("vendor_id", "vendor__name"), aggregates)
    if not monthly:
        backlog = _backlog_by(user, period, filters, key)
        for r in grouped:
            r["backlog_end"] = backlog.get(r[key], 0)
        total_sums["backlog_end"] = sum(backlog.values())
        vendor_backlog = _backlog_by(user, period, filters, "vendor_id")
        for r in by_vendor:
            r["backlog_end"] = vendor_backlog.get(r["vendor_id"], 0)
    rows = [ReportRow(r[key], _row_label(group_by, r[key], r[name]), figures(r), r) for r in grouped]
    vendors = [
        ReportRow(r["vendor_id"], _row_label("vendor", r["vendor_id"], r["vendor__name"]), figures(r), r)
        for r in by_vendor
    ]
    vendors.sort(key=lambda r: (r.key is not None, r.label))
    total = ReportRow(None, "All", figures(total_sums), total_sums)

    trend_start = period_math.shift(
        period_math.MONTH,
        period_math.period_containing(period_math.MONTH, last_month_start),
        -(trend_months - 1),
    ).start
    trend_rows = (
        _months(user, filters)
        .filter(month__gte=trend_start, month__lte=last_month_start)
        .values("month")
        .annotate(**_aggregates(False, None), backlog_end=Sum("backlog_end"))
        .order_by("month")
    )
    trend = [ReportRow(r["month"], r["month"].strftime("%Y-%m"), figures(r), r) for r in trend_rows]
    histogram = [
        (bucket_label(i), int(total_sums.get(col) or 0)) for i, col in enumerate(FIRST_RESPONSE_BUCKETS)
    ]
    return Report(
        period, group_by, filters, rules, rows, total, trend, histogram, vendors, kpi_comparisons(vendors)
    )


def bucket_label(i: int) -> str:
    """A bucket by its lower edge (``30m`` is 30 to under 45 minutes; the last is open-ended)."""
    low = _minutes(BUCKET_EDGES[i])
    return f"≥{low}" if i + 1 == len(BUCKET_EDGES) else low


def _minutes(m: int) -> str:
    if m >= 1440 and m % 1440 == 0:
        return f"{m // 1440}d"
    if m >= 60 and m % 60 == 0:
        return f"{m // 60}h"
    return f"{m}m"


def kpi_comparisons(columns: list[ReportRow]) -> list[KpiComparison]:
    """Each approved KPI version about service figures, evaluated for in-house and each vendor (1 query)."""
    latest: dict[int, KpiVersion] = {}
    for version in (
        KpiVersion.objects.filter(status=KpiVersion.Status.APPROVED, definition__retired_at__isnull=True)
        .select_related("definition")
        .order_by("definition_id", "number")
    ):
        latest[version.definition_id] = version
    out = []
    for version in sorted(latest.values(), key=lambda v: v.name):
        try:
            names = formula.parse(version.formula).names
        except formula.FormulaError:
            continue
        if not names or not names <= FIGURE_BY_CODE.keys():
            continue
        cells: list[tuple[str, Decimal | None, bool | None]] = []
        for column in columns:
            values = {n: column.figures[n].value for n in names}
            try:
                value: Decimal | None = formula.evaluate(formula.parse(version.formula), values)
            except (formula.NotApplicable, formula.FormulaError):
                value = None
            met = None if value is None else scoring.meets_target(version.direction, value, version.target)
            cells.append((column.label, None if value is None else value.quantize(TWO), met))
        out.append(KpiComparison(version, cells))
    return out


# --- Drill-down -------------------------------------------------------------------------------------


def drilldown(
    *,
    user: Any,
    code: str,
    period: ReportPeriod,
    filters: Filters,
    group_by: str = "",
    key: str = "",
    outcome: str = "",
) -> QuerySet[Ticket]:
    """The tickets behind one figure of the report, as USER may see them (the rollups' filing rules)."""
    if code not in FIGURE_BY_CODE:
        raise ValidationError({"figure": f"Choose one of {', '.join(FIGURE_BY_CODE)}."})
    if outcome not in ("", "met", "breached"):
        raise ValidationError({"outcome": "Choose met or breached."})
    rules = measures.current_rules()
    measure = measures.MEASURES[code]
    condition = (
        measures.unresolved_at_q(period.end)
        if code == "backlog"
        else measures.filing_q(rules, period.start, period.end)
    )
    qs = Ticket.objects.restrict(user).filter(measures.counted_q(), filters.q(), condition)
    if code.startswith("sla_"):
        target = SLA_TARGET_OF.get(code)
        sla = Q(sla_results__met__isnull=False) if outcome == "" else Q(sla_results__met=(outcome == "met"))
        if target:
            sla &= Q(sla_results__target=target)
        qs = qs.filter(sla).distinct()
    else:
        qs = qs.filter(measure.drill)
    if group_by:
        field_name = parse_group(group_by)
        column = GROUPS[field_name][0]
        if key in ("", "none"):
            qs = qs.filter(**{f"{column}__isnull": True}) if column != "channel" else qs
        elif column == "channel":
            qs = qs.filter(channel=key)
        elif key.isdigit():
            qs = qs.filter(**{column: int(key)})
        else:
            raise ValidationError({"key": "Give the id of the row's agent, team or vendor."})
    return qs.select_related("agent", "team", "vendor").order_by("opened_at", "id")
