"""Daily and monthly rollups of the stored per-ticket figures, rebuilt set-based (issue 4 item 6).

``rollups_rebuild(start, end)`` replaces the daily rows of [start, end) with one
``INSERT … SELECT … GROUP BY`` over the tickets filed on those days (and their SLA results),
then replaces the monthly rows of the months touched with one ``INSERT … SELECT`` over the daily
rows plus each month's end-of-month backlog. The SELECTs are built with the ORM (so time-zone
truncation and quoting are the database's own) and wrapped in INSERT; nothing passes through
Python row by row. Run after an import or an SLA recomputation (Celery task
``service.tasks.rebuild_service_rollups``, command ``manage.py rebuild_service_rollups``).

Rollups group tickets by their assignee (``Ticket.agent``); the "every agent who replied" rule
applies to scorecards (``service.measures``), and the report pages say so.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import (
    Count,
    DateField,
    Expression,
    F,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from kpis import periods as period_math
from service.measures import counted_q, current_rules, local_zone, window
from service.models import SlaTarget, Ticket, TicketSla
from service.report_models import (
    AGENT_DIMENSIONS,
    BUCKET_EDGES,
    DIMENSIONS,
    FIRST_RESPONSE_BUCKETS,
    MAX_COLUMNS,
    RESOLUTION_BUCKETS,
    SUM_COLUMNS,
    ServiceAgentMonthRollup,
    ServiceDailyRollup,
    ServiceKpiRules,
    ServiceMonthlyRollup,
)

ZERO = Value(0, output_field=IntegerField())


def _fixed_offset_minutes(zone: Any) -> int | None:
    """The zone's UTC offset in minutes when it has no daylight saving (Hong Kong: +480), else None."""
    offsets = {
        zone.utcoffset(datetime(year, month, 15, tzinfo=UTC).replace(tzinfo=None))  # noqa: DTZ001 (probing the zone)
        for year in range(2000, 2040)
        for month in (1, 7)
    }
    if len(offsets) != 1:
        return None
    offset = next(iter(offsets))
    return None if offset is None else int(offset.total_seconds() // 60)


class LocalDate(Func):
    """The local calendar date of a UTC timestamp.

    On SQLite, Django's ``TruncDate`` calls a Python function per row (twice: SELECT and GROUP BY),
    which dominated the rebuild; for a zone without daylight saving (Asia/Hong_Kong) the same date is
    SQLite's own ``date(ts, '+480 minutes')``. Other databases and zones use ``TruncDate``.
    """

    output_field = DateField()

    def __init__(self, expression: str, zone: Any) -> None:
        self.zone = zone
        super().__init__(F(expression))

    def as_sql(  # type: ignore[override]  # delegates to TruncDate/TruncMonth
        self, compiler: Any, connection: Any, **extra: Any
    ) -> Any:
        return (
            TruncDate(self.source_expressions[0], tzinfo=self.zone)
            .resolve_expression(compiler.query)
            .as_sql(compiler, connection)
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        minutes = _fixed_offset_minutes(self.zone)
        if minutes is None:
            return self.as_sql(compiler, connection, **extra)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, '{minutes:+d} minutes')", params


class MonthOf(Func):
    """The first day of a date's month (SQLite natively, elsewhere ``TruncMonth``)."""

    output_field = DateField()

    def __init__(self, expression: str) -> None:
        super().__init__(F(expression))

    def as_sql(  # type: ignore[override]  # delegates to TruncDate/TruncMonth
        self, compiler: Any, connection: Any, **extra: Any
    ) -> Any:
        return (
            TruncMonth(self.source_expressions[0], output_field=DateField())
            .resolve_expression(compiler.query)
            .as_sql(compiler, connection)
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, 'start of month')", params


def _count(condition: Q) -> Expression:
    return Count("pk", filter=condition)


def _sum(name: str, condition: Q | None = None) -> Expression:
    return Coalesce(Sum(name, filter=condition), ZERO)


def _buckets(field: str, names: Iterable[str], t: str = "") -> dict[str, Expression]:
    out: dict[str, Expression] = {}
    for i, name in enumerate(names):
        low = BUCKET_EDGES[i]
        condition = Q(**{f"{t}{field}__gte": low})
        if i + 1 < len(BUCKET_EDGES):
            condition &= Q(**{f"{t}{field}__lt": BUCKET_EDGES[i + 1]})
        out[name] = _count(condition)
    return out


def ticket_columns() -> dict[str, Expression]:
    """Every rollup column computed from the ticket rows themselves (no joins)."""
    fr, res = "first_response_business_minutes", "resolution_business_minutes"
    has_fr, has_res = Q(**{f"{fr}__isnull": False}), Q(**{f"{res}__isnull": False})
    columns: dict[str, Expression] = {
        "tickets": Count("pk"),
        "fr_n": _count(has_fr),
        "fr_sum": _sum(fr),
        "fr_cal_sum": _sum("first_response_calendar_minutes"),
        "fr_max": Coalesce(Max(fr), ZERO),
        "resolved": _count(Q(resolved_at__isnull=False)),
        "resolved_once": _count(Q(first_resolved_at__isnull=False)),
        "res_n": _count(has_res),
        "res_sum": _sum(res),
        "res_cal_sum": _sum("resolution_calendar_minutes"),
        "res_max": Coalesce(Max(res), ZERO),
        "first_res_n": _count(Q(first_resolution_business_minutes__isnull=False)),
        "first_res_sum": _sum("first_resolution_business_minutes"),
        "reopened": _count(Q(first_resolved_at__isnull=False, reopen_count__gt=0)),
        "one_touch": _count(Q(resolved_at__isnull=False, agent_reply_count=1, reopen_count=0)),
    }
    columns.update(_buckets(fr, FIRST_RESPONSE_BUCKETS))
    columns.update(_buckets(res, RESOLUTION_BUCKETS))
    return columns


def sla_columns() -> dict[str, Expression]:
    """The rollup columns computed from SLA result rows (one per ticket and target)."""
    columns: dict[str, Expression] = {}
    for prefix, target in (
        ("fr", SlaTarget.FIRST_RESPONSE),
        ("nr", SlaTarget.NEXT_RESPONSE),
        ("res", SlaTarget.RESOLUTION),
    ):
        columns[f"sla_{prefix}_met"] = _count(Q(target=target, met=True))
        columns[f"sla_{prefix}_breached"] = _count(Q(target=target, met=False))
    next_gap = Q(target=SlaTarget.NEXT_RESPONSE, business_minutes__isnull=False)
    columns["nr_n"] = _count(next_gap)
    columns["nr_sum"] = _sum("business_minutes", next_gap)
    return columns


def _select(
    qs: QuerySet[Any], keys: dict[str, Any], columns: dict[str, Expression], order: tuple[str, ...]
) -> tuple[str, tuple[Any, ...]]:
    """SQL of ``SELECT keys…, columns… GROUP BY keys``, every column of ORDER present (zeros elsewhere)."""
    aggregates = {name: columns.get(name, ZERO) for name in order}
    grouped = qs.order_by().values(**keys).annotate(**aggregates).values_list(*keys, *order)
    sql, params = grouped.query.sql_with_params()
    return sql, tuple(params)


def _dimension_keys(t: str = "", dimensions: tuple[str, ...] = DIMENSIONS) -> dict[str, Any]:
    return {f"k_{name}": F(f"{t}{name}") for name in dimensions}


def _insert(
    model: type[Any],
    period_column: str,
    extra: tuple[str, ...],
    parts: list[tuple[str, tuple[Any, ...]]],
    dimensions: tuple[str, ...] = DIMENSIONS,
) -> int:
    """INSERT into MODEL's table the GROUP BY of the UNION ALL of PARTS (period, dimensions, columns)."""
    if not parts:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    dims = [f"k_{name}" for name in dimensions]
    columns = (*SUM_COLUMNS, *extra)
    target = ", ".join(
        connection.ops.quote_name(c)
        for c in ("created_at", "updated_at", period_column, *dimensions, *columns)
    )
    aggregates = ", ".join(f"{'MAX' if c in MAX_COLUMNS else 'SUM'}(c_{c})" for c in columns)
    union = " UNION ALL ".join(sql for sql, _ in parts)
    params: list[Any] = []
    for _, p in parts:
        params.extend(p)
    # The CTE names the union's columns positionally: each part selects period, dimensions, columns.
    names = ", ".join(["k_period", *dims, *(f"c_{c}" for c in columns)])
    now = timezone.now()
    sql = (
        f"WITH parts ({names}) AS ({union}) "  # noqa: S608 (identifiers from model metadata, values bound)
        f"INSERT INTO {table} ({target}) "
        f"SELECT %s, %s, k_period, {', '.join(dims)}, {aggregates} FROM parts "
        f"GROUP BY k_period, {', '.join(dims)}"
    )
    return _execute(sql, [*params, now, now])


def _execute(sql: str, params: list[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount or 0)


def _filing_field(rules: ServiceKpiRules) -> str:
    return "opened_at" if rules.filing == ServiceKpiRules.Filing.CREATED else "resolved_at"


@dataclass(frozen=True)
class RebuildResult:
    start: date
    end: date
    daily_rows: int
    monthly_rows: int


def ticket_day_range(rules: ServiceKpiRules | None = None) -> tuple[date, date] | None:
    """[first, last + 1 day) of the filing dates of all tickets, or None when there are none."""
    rules = rules or current_rules()
    name = _filing_field(rules)
    span = Ticket.objects.aggregate(lo=Min(name), hi=Max(name), opened=Min("opened_at"))
    if span["lo"] is None and span["opened"] is None:
        return None
    zone = local_zone()
    lo = min(x for x in (span["lo"], span["opened"]) if x is not None).astimezone(zone).date()
    hi = max(x for x in (span["hi"], span["opened"]) if x is not None).astimezone(zone).date()
    return lo, max(hi + timedelta(days=1), timezone.localdate() + timedelta(days=1))


@transaction.atomic
def rollups_rebuild(*, start: date | None = None, end: date | None = None) -> RebuildResult:
    """Rebuild the daily rollup for [start, end) and the monthly rollup of every month it touches.

    Without dates, everything from the first ticket to today is rebuilt (e.g. after the KPI rules
    change). Idempotent: running it twice gives the same rows.
    """
    rules = current_rules()
    if start is None or end is None:
        span = ticket_day_range(rules)
        if span is None:
            ServiceDailyRollup.objects.all().delete()
            ServiceMonthlyRollup.objects.all().delete()
            ServiceAgentMonthRollup.objects.all().delete()
            today = timezone.localdate()
            return RebuildResult(today, today, 0, 0)
        start, end = start or span[0], end or span[1]
    month_start = start.replace(day=1)
    month_end = period_math.period_containing(period_math.MONTH, end - timedelta(days=1)).end
    daily = _rebuild_daily(rules, month_start, month_end)
    monthly = _rebuild_monthly(month_start, month_end)
    _rebuild_agent_months(month_start, month_end)
    return RebuildResult(month_start, month_end, daily, monthly)


def _rebuild_daily(rules: ServiceKpiRules, start: date, end: date) -> int:
    ServiceDailyRollup.objects.filter(day__gte=start, day__lt=end).delete()
    lo, hi = window(start, end)
    name = _filing_field(rules)
    zone = local_zone()
    tickets = Ticket.objects.filter(counted_q(), **{f"{name}__gte": lo, f"{name}__lt": hi})
    ticket_part = _select(
        tickets,
        {"k_period": LocalDate(name, zone), **_dimension_keys()},
        ticket_columns(),
        SUM_COLUMNS,
    )
    results = TicketSla.objects.filter(
        counted_q("ticket__"), **{f"ticket__{name}__gte": lo, f"ticket__{name}__lt": hi}
    )
    sla_part = _select(
        results,
        {"k_period": LocalDate(f"ticket__{name}", zone), **_dimension_keys("ticket__")},
        sla_columns(),
        SUM_COLUMNS,
    )
    return _insert(ServiceDailyRollup, "day", (), [ticket_part, sla_part])


def _rebuild_agent_months(start: date, end: date) -> int:
    """The monthly rollup summed over channels and priorities (month × agent × team × vendor)."""
    ServiceAgentMonthRollup.objects.filter(month__gte=start, month__lt=end).delete()
    order = (*SUM_COLUMNS, "backlog_end")
    sums: dict[str, Expression] = {c: (Max(c) if c in MAX_COLUMNS else Sum(c)) for c in order}
    part = _select(
        ServiceMonthlyRollup.objects.filter(month__gte=start, month__lt=end),
        {"k_period": F("month"), **_dimension_keys("", AGENT_DIMENSIONS)},
        sums,
        order,
    )
    return _insert(ServiceAgentMonthRollup, "month", ("backlog_end",), [part], AGENT_DIMENSIONS)


def _backlog_part(start: date, end: date, order: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    """Each month's end-of-month backlog per cell, in ONE pass over the tickets.

    The months are a small derived table; ``CROSS JOIN`` makes SQLite scan the tickets once and
    test each against every month end (26 × N comparisons in C), instead of one index range scan
    of the tickets per month. PostgreSQL plans the join itself; its parameters are typed.
    """
    ops, pg = connection.ops, connection.vendor == "postgresql"
    month_sql, end_sql = ("CAST(%s AS date)", "CAST(%s AS timestamp with time zone)") if pg else ("%s", "%s")
    rows, params = [], []
    month = start
    while month < end:
        following = period_math.period_containing(period_math.MONTH, month).end
        rows.append(f"SELECT {month_sql} AS month, {end_sql} AS end_ts")
        params += [
            ops.adapt_datefield_value(month),
            ops.adapt_datetimefield_value(window(following, following)[0]),
        ]
        month = following
    table = ops.quote_name(Ticket._meta.db_table)
    zeros = ", ".join("0" for name in order if name != "backlog_end")
    dims = ", ".join(f"t.{ops.quote_name(name)}" for name in DIMENSIONS)
    sql = (
        f"SELECT m.month, {dims}, {zeros}, COUNT(*) "  # noqa: S608 (identifiers from model metadata)
        f"FROM {table} AS t CROSS JOIN ({' UNION ALL '.join(rows)}) AS m "
        "WHERE NOT t.is_merged AND NOT t.is_spam AND t.opened_at < m.end_ts "
        "AND (t.resolved_at IS NULL OR t.resolved_at >= m.end_ts) "
        f"GROUP BY m.month, {dims}"
    )
    return sql, tuple(params)


def _rebuild_monthly(start: date, end: date) -> int:
    ServiceMonthlyRollup.objects.filter(month__gte=start, month__lt=end).delete()
    order = (*SUM_COLUMNS, "backlog_end")
    sums: dict[str, Expression] = {c: (Max(c) if c in MAX_COLUMNS else Sum(c)) for c in SUM_COLUMNS}
    parts = [
        _select(
            ServiceDailyRollup.objects.filter(day__gte=start, day__lt=end),
            {"k_period": MonthOf("day"), **_dimension_keys()},
            sums,
            order,
        )
    ]
    parts.append(_backlog_part(start, end, order))
    return _insert(ServiceMonthlyRollup, "month", ("backlog_end",), parts)
