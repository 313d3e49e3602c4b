"""Day, month and agent-month rollups of the stored per-ticket figures (issue 4 item 6).

``rollups_rebuild(start, end)`` replaces the rows of the months [start, end) touches: the daily rows
(day × agent × team × vendor), the monthly rows (month × agent × team × vendor × channel ×
priority, plus each month's end-of-month backlog) and the agent-month rows (the monthly ones summed
over channels and priorities). ``rollups_refresh_days(days)`` does the same for a few days (and the
months between them); the ingest and the SLA recomputation queue it, so reports stay fresh without
a manual rebuild. Both hold the rollup lock and run in one transaction; the cells themselves are
computed by ``service.rollup_batch`` (numpy over the tickets read in bulk: grouping ~70 aggregates
per cell in SQL was 3–10 times slower than the issue allows). The figures' definitions stay here
as ORM expressions (``figure_columns``): the reports use them for what the rollups do not hold,
and the tests check the rollups against them.

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
    FilteredRelation,
    Func,
    IntegerField,
    Max,
    Min,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from kpis import periods as period_math
from service import rollup_batch
from service.measures import current_rules, local_zone
from service.models import SlaTarget, Ticket
from service.report_models import (
    BUCKET_EDGES,
    FIRST_RESPONSE_BUCKETS,
    RESOLUTION_BUCKETS,
    ServiceAgentMonthRollup,
    ServiceDailyRollup,
    ServiceKpiRules,
    ServiceMonthlyRollup,
)

ZERO = Value(0, output_field=IntegerField())
ROLLUP_LOCK = 4_004_006  # advisory lock key of the rollup writers (issue 4, item 6)


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


SLA_JOINS = (
    ("fr", "sla_fr", SlaTarget.FIRST_RESPONSE),
    ("nr", "sla_nr", SlaTarget.NEXT_RESPONSE),
    ("res", "sla_res", SlaTarget.RESOLUTION),
)


def with_sla(tickets: QuerySet[Ticket]) -> QuerySet[Ticket]:
    """TICKETS joined to their SLA result of each target (at most one each: unique per ticket and
    target), so that every figure is one grouped pass over the tickets, with no row multiplied."""
    return tickets.annotate(
        **{
            alias: FilteredRelation("sla_results", condition=Q(sla_results__target=target))
            for _, alias, target in SLA_JOINS
        }
    )


def sla_columns() -> dict[str, Expression]:
    """The rollup columns from the tickets' SLA results (on a queryset from ``with_sla``)."""
    columns: dict[str, Expression] = {}
    for prefix, alias, _ in SLA_JOINS:
        columns[f"sla_{prefix}_met"] = _count(Q(**{f"{alias}__met": True}))
        columns[f"sla_{prefix}_breached"] = _count(Q(**{f"{alias}__met": False}))
    columns["nr_n"] = _count(Q(sla_nr__business_minutes__isnull=False))
    columns["nr_sum"] = _sum("sla_nr__business_minutes")
    return columns


def figure_columns() -> dict[str, Expression]:
    """Every rollup column (bar the backlog), for a grouped ``with_sla`` queryset of tickets."""
    return {**ticket_columns(), **sla_columns()}


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


def _lock() -> None:
    """One rebuild or refresh at a time: two overlapping ones (a worker each) would both delete the
    rows of a month and both insert theirs. SQLite serialises writers anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])


@transaction.atomic
def rollups_rebuild(*, start: date | None = None, end: date | None = None) -> RebuildResult:
    """Rebuild the daily rollup for [start, end) and the monthly rollups of every month it touches.

    Without dates, everything from the first ticket to today is rebuilt (e.g. after the KPI rules
    change). Idempotent: running it twice gives the same rows.
    """
    rules = current_rules()
    _lock()
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
    _empty_if_all_replaced(month_start, month_end)
    return _replace(rules, month_start, month_end, [(month_start, month_end)])


def _empty_if_all_replaced(start: date, end: date) -> None:
    """Empty the rollup tables at once when [start, end) holds all their rows: cheaper than deleting
    row by row, and on PostgreSQL it leaves no dead rows behind for the inserts to step over."""
    # Two ranges rather than NOT (inside): the (period, agent) indexes answer them without a scan.
    outside = ServiceMonthlyRollup.objects.filter(Q(month__lt=start) | Q(month__gte=end))
    if outside.exists() or ServiceDailyRollup.objects.filter(Q(day__lt=start) | Q(day__gte=end)).exists():
        return
    tables = [m._meta.db_table for m in (ServiceDailyRollup, ServiceMonthlyRollup, ServiceAgentMonthRollup)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"TRUNCATE {', '.join(connection.ops.quote_name(t) for t in tables)}")
        else:
            for table in tables:  # SQLite empties a table without a WHERE in one step
                cursor.execute(f"DELETE FROM {connection.ops.quote_name(table)}")  # noqa: S608 (model table)


def _runs(days: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted DAYS as [start, end) runs of consecutive days."""
    runs: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if runs and runs[-1][1] == day:
            runs[-1] = (runs[-1][0], day + timedelta(days=1))
        else:
            runs.append((day, day + timedelta(days=1)))
    return runs


@transaction.atomic
def rollups_refresh_days(days: Iterable[date]) -> RebuildResult | None:
    """Bring the rollups up to date after tickets filed on DAYS changed (issue 4 item 6: fresh
    figures without a manual rebuild).

    Rebuilds the daily rows of exactly those days, and the monthly rows (figures and end-of-month
    backlog) of every month from the first day's to the last day's: a ticket opened in March and
    resolved in May changes the backlog at the end of March and April too, so callers pass a
    ticket's opening day and its resolution day (today while it is open). Called after commit by
    ``service.tasks.refresh_service_rollups``; see ``rollups_refresh_later``.
    """
    runs = _runs(days)
    if not runs:
        return None
    rules = current_rules()
    _lock()
    month_start = runs[0][0].replace(day=1)
    month_end = period_math.period_containing(period_math.MONTH, runs[-1][1] - timedelta(days=1)).end
    return _replace(rules, month_start, month_end, runs)


def rollups_refresh_later(days: Iterable[date]) -> None:
    """Queue ``rollups_refresh_days(DAYS)`` for after the current transaction commits (Celery;
    eager in development and tests). The one hook the ingest and the SLA recomputation call."""
    wanted = sorted({d.isoformat() for d in days})
    if not wanted:
        return

    def queue() -> None:
        from service.tasks import refresh_service_rollups

        refresh_service_rollups.delay(wanted)

    transaction.on_commit(queue)


def ticket_days(ticket_ids: Iterable[int]) -> set[date]:
    """The days whose rollups TICKET_IDS count in: each one's opening day and its resolution day,
    or today while it is unresolved (it is in the backlog of every month end until then)."""
    ids = sorted({int(pk) for pk in ticket_ids})
    if not ids:
        return set()
    zone = local_zone()
    days: set[date] = set()
    # Distinct local dates in SQL, in slices that stay under SQLite's bound-parameter limit.
    for lo in range(0, len(ids), 20_000):
        chunk = Ticket.objects.filter(pk__in=ids[lo : lo + 20_000]).order_by()
        days.update(chunk.values_list(LocalDate("opened_at", zone), flat=True).distinct())
        days.update(
            d
            for d in chunk.filter(resolved_at__isnull=False)
            .values_list(LocalDate("resolved_at", zone), flat=True)
            .distinct()
            if d is not None
        )
        if chunk.filter(resolved_at__isnull=True).exists():
            days.add(timezone.localdate())
    return {d if isinstance(d, date) else date.fromisoformat(str(d)) for d in days}


def _replace(rules: ServiceKpiRules, start: date, end: date, runs: list[tuple[date, date]]) -> RebuildResult:
    """Replace the monthly and agent-month rows of the months [START, END) and the daily rows of
    the days in RUNS (inside those months) with rows computed from the tickets (``rollup_batch``)."""
    day_q = Q()
    for lo, hi in runs:
        day_q |= Q(day__gte=lo, day__lt=hi)
    ServiceDailyRollup.objects.filter(day_q).delete()
    ServiceMonthlyRollup.objects.filter(month__gte=start, month__lt=end).delete()
    ServiceAgentMonthRollup.objects.filter(month__gte=start, month__lt=end).delete()
    written = rollup_batch.rebuild(_filing_field(rules), start, end, runs)
    return RebuildResult(start, end, written[ServiceDailyRollup], written[ServiceMonthlyRollup])
