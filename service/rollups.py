"""Day, month and agent-month rollups of the stored per-ticket figures, set-based (issue 4 item 6).

``rollups_rebuild(start, end)`` replaces the rows of the months [start, end) touches: the daily rows
(day × agent × team × vendor) and the monthly rows (month × agent × team × vendor × channel ×
priority, plus each month's end-of-month backlog) each with ONE ``INSERT … SELECT … GROUP BY`` over
the tickets joined to their SLA results, then the agent-month rows summed from the monthly ones.
``rollups_refresh_days(days)`` does the same for a few days (and the months between them); the
ingest and the SLA recomputation queue it, so reports stay fresh without a manual rebuild. The
SELECTs are built with the ORM (time-zone truncation and quoting are the database's own) and
wrapped in INSERT; nothing passes through Python row by row.

Rollups group tickets by their assignee (``Ticket.agent``); the "every agent who replied" rule
applies to scorecards (``service.measures``), and the report pages say so.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
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
from django.db.models.functions import Coalesce, TruncDate, TruncMonth
from django.utils import timezone

from kpis import periods as period_math
from service.measures import counted_q, current_rules, local_zone, window
from service.models import SlaTarget, Ticket
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


class LocalMonth(Func):
    """The first day of the local calendar month of a UTC timestamp (see ``LocalDate``)."""

    output_field = DateField()

    def __init__(self, expression: str, zone: Any) -> None:
        self.zone = zone
        super().__init__(F(expression))

    def as_sql(  # type: ignore[override]  # delegates to TruncMonth
        self, compiler: Any, connection: Any, **extra: Any
    ) -> Any:
        return (
            TruncMonth(self.source_expressions[0], tzinfo=self.zone, output_field=DateField())
            .resolve_expression(compiler.query)
            .as_sql(compiler, connection)
        )

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        minutes = _fixed_offset_minutes(self.zone)
        if minutes is None:
            return self.as_sql(compiler, connection, **extra)
        sql, params = compiler.compile(self.source_expressions[0])
        return f"date({sql}, '{minutes:+d} minutes', 'start of month')", params


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
    """INSERT into MODEL's table the rows of PARTS (period, dimensions, columns), cells combined."""
    if not parts:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    dims = [f"k_{name}" for name in dimensions]
    columns = (*SUM_COLUMNS, *extra)
    target = ", ".join(
        connection.ops.quote_name(c)
        for c in ("created_at", "updated_at", period_column, *dimensions, *columns)
    )
    # Each part has at most one row per cell and zeros in the other parts' columns (figures vs
    # backlog), so MAX combines them: cheaper than SUM, which PostgreSQL computes in numeric.
    aggregates = ", ".join(f"MAX(c_{c})" for c in columns)
    union = " UNION ALL ".join(sql for sql, _ in parts)
    params: list[Any] = []
    for _, p in parts:
        params.extend(p)
    # The CTE names the union's columns positionally: each part selects period, dimensions, columns.
    names = ", ".join(["k_period", *dims, *(f"c_{c}" for c in columns)])
    now = timezone.now()
    if len(parts) == 2 and connection.vendor == "postgresql":
        return _insert_joined(table, target, dims, columns, parts, now)
    if len(parts) == 1:
        select = (
            f"SELECT %s, %s, k_period, {', '.join(dims)}, {', '.join(f'c_{c}' for c in columns)} FROM parts"  # noqa: S608 (identifiers)
        )
    else:
        select = (
            f"SELECT %s, %s, k_period, {', '.join(dims)}, {aggregates} FROM parts "  # noqa: S608 (identifiers)
            f"GROUP BY k_period, {', '.join(dims)}"
        )
    sql = (
        f"WITH parts ({names}) AS ({union}) "  # noqa: S608 (identifiers from model metadata, values bound)
        f"INSERT INTO {table} ({target}) {select}"
    )
    return _execute(sql, [*params, now, now])


def _insert_joined(
    table: str,
    target: str,
    dims: list[str],
    columns: tuple[str, ...],
    parts: list[tuple[str, tuple[Any, ...]]],
    now: datetime,
) -> int:
    """PostgreSQL: INSERT the figures part FULL JOINed to the backlog part on the cell.

    The two parts have at most one row per cell each, and the backlog part carries only its count,
    so a hash join on the cell replaces sorting both parts' wide rows together and taking ~70 MAXes
    per cell (a sixth of the monthly rebuild). The keys are compared through COALESCE (in-house
    cells have no vendor, unassigned ones no agent or team): equal NULLs must meet, and
    ``IS NOT DISTINCT FROM`` cannot be hashed.
    """
    (figures_sql, figures_params), (backlog_sql, backlog_params) = parts
    figures = ", ".join(["k_period", *dims, *(f"c_{c}" for c in columns)])
    backlog = ", ".join(["k_period", *dims, *(f"b_{c}" for c in columns)])

    def key(name: str, side: str) -> str:
        # The channel and priority are never NULL; the ids may be.
        if name == "k_period":  # the figures' month is a truncated timestamp: compare as dates
            return f"CAST({side}.{name} AS date)"
        never_null = name in ("k_channel", "k_priority")
        return f"{side}.{name}" if never_null else f"COALESCE({side}.{name}, -1)"

    same = " AND ".join(f"{key(d, 'f')} = {key(d, 'b')}" for d in ["k_period", *dims])
    keys = ", ".join(f"COALESCE(f.{d}, b.{d})" for d in ["k_period", *dims])
    values = ", ".join(
        f"COALESCE(b.b_{c}, 0)" if c == "backlog_end" else f"COALESCE(f.c_{c}, 0)" for c in columns
    )
    sql = (
        f"WITH f ({figures}) AS ({figures_sql}), b ({backlog}) AS ({backlog_sql}) "  # noqa: S608 (identifiers)
        f"INSERT INTO {table} ({target}) SELECT %s, %s, {keys}, {values} "
        f"FROM f FULL JOIN b ON {same}"
    )
    return _execute(sql, [*figures_params, *backlog_params, now, now])


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


def _lock() -> None:
    """One rebuild or refresh at a time: two overlapping ones (a worker each) would both delete the
    rows of a month and both insert theirs. SQLite serialises writers anyway."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [ROLLUP_LOCK])
            # The grouped aggregates of a rebuild hold ~70 sums per cell: in memory, not spilled.
            cursor.execute("SET LOCAL work_mem = '256MB'")
            # Compiling the ~70 aggregates of each statement costs more than it saves here.
            cursor.execute("SET LOCAL jit = off")


@contextmanager
def _hashed_aggregates() -> Iterator[None]:
    """On PostgreSQL, group the rebuild's rows by hashing, not by sorting them.

    With ~70 aggregates per cell the planner prices the hash tables above sorting, but sorting
    250,000 wide rows on six keys (two of them collated text) cost more: 4.3 s against 3.7 s for the
    monthly rows. Only for the rebuild's own statements: the setting is put back afterwards, as the
    caller's transaction may go on.
    """
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('enable_sort'), set_config('enable_sort', 'off', true)")
        (before, _) = cursor.fetchone()
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('enable_sort', %s, true)", [before])


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
    with _hashed_aggregates():
        daily = _rebuild_daily(rules, [(month_start, month_end)])
        monthly = _rebuild_monthly(rules, month_start, month_end)
        _rebuild_agent_months(month_start, month_end)
    return RebuildResult(month_start, month_end, daily, monthly)


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
    with _hashed_aggregates():
        daily = _rebuild_daily(rules, runs)
        monthly = _rebuild_monthly(rules, month_start, month_end)
        _rebuild_agent_months(month_start, month_end)
    return RebuildResult(month_start, month_end, daily, monthly)


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


def _in_runs(name: str, runs: list[tuple[date, date]], t: str = "") -> Q:
    condition = Q()
    for start, end in runs:
        lo, hi = window(start, end)
        condition |= Q(**{f"{t}{name}__gte": lo, f"{t}{name}__lt": hi})
    return condition


def _rebuild_daily(rules: ServiceKpiRules, runs: list[tuple[date, date]]) -> int:
    """Day × agent × team × vendor rows of the tickets filed in RUNS: one grouped pass over them.

    The daily grain leaves out channel and priority: by day and channel and priority there are
    nearly as many cells as tickets. Date-range reports filtered by channel or priority read the
    stored per-ticket values instead (``service.reports``).
    """
    day_q = Q()
    for start, end in runs:
        day_q |= Q(day__gte=start, day__lt=end)
    ServiceDailyRollup.objects.filter(day_q).delete()
    name = _filing_field(rules)
    zone = local_zone()
    tickets = with_sla(Ticket.objects.filter(counted_q(), _in_runs(name, runs)))
    part = _select(
        tickets,
        {"k_period": LocalDate(name, zone), **_dimension_keys("", AGENT_DIMENSIONS)},
        figure_columns(),
        SUM_COLUMNS,
    )
    return _insert(ServiceDailyRollup, "day", (), [part], AGENT_DIMENSIONS)


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


def _month_sql(column: str) -> str | None:
    """SQL of the local month (first day) of a timestamp COLUMN, or None where there is no cheap one."""
    zone = local_zone()
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column} AT TIME ZONE '{zone.key}')"
    minutes = _fixed_offset_minutes(zone)
    if connection.vendor == "sqlite" and minutes is not None:
        return f"date({column}, '{minutes:+d} minutes', 'start of month')"
    return None


def _backlog_part(start: date, end: date, order: tuple[str, ...]) -> tuple[str, tuple[Any, ...]]:
    """Each month's end-of-month backlog per cell.

    Only a ticket still open at the end of the month it was opened in is ever in a backlog, and
    those are few (the open ones and the ones resolved after a month end): they are picked in one
    pass over the tickets (local months compared in SQL), then joined to the small table of month
    ends. Joining every ticket to every month end cost 26 index range scans of the tickets.
    """
    ops, pg = connection.ops, connection.vendor == "postgresql"
    month_sql, end_sql = ("CAST(%s AS date)", "CAST(%s AS timestamp with time zone)") if pg else ("%s", "%s")
    rows, params = [], []
    month = start
    first_end = last_end = None
    while month < end:
        following = period_math.period_containing(period_math.MONTH, month).end
        pair = f"{month_sql}, {end_sql}"
        rows.append(f"({pair})" if pg else f"SELECT {month_sql} AS month, {end_sql} AS end_ts")
        last_end = ops.adapt_datetimefield_value(window(following, following)[0])
        first_end = first_end or last_end
        params += [ops.adapt_datefield_value(month), last_end]
        month = following
    table = ops.quote_name(Ticket._meta.db_table)
    zeros = ", ".join("0" for name in order if name != "backlog_end")
    columns = ", ".join(ops.quote_name(name) for name in DIMENSIONS)
    dims = ", ".join(f"t.{ops.quote_name(name)}" for name in DIMENSIONS)
    opened, resolved = _month_sql("opened_at"), _month_sql("resolved_at")
    crosses = f" AND (resolved_at IS NULL OR {resolved} > {opened})" if opened and resolved else ""
    cast = "CAST(%s AS timestamp with time zone)" if pg else "%s"
    # On PostgreSQL a VALUES list: its month is a column the cell join can hash on (a UNION of
    # constant SELECTs is flattened into constants, and the join then compares every pair).
    if pg:
        months = f"(VALUES {', '.join(rows)}) AS m (month, end_ts)"
    else:
        months = f"({' UNION ALL '.join(rows)}) AS m"
    sql = (
        f"SELECT m.month, {dims}, {zeros}, COUNT(*) "  # noqa: S608 (identifiers from model metadata)
        f"FROM (SELECT {columns}, opened_at, resolved_at FROM {table} "
        f"WHERE NOT is_merged AND NOT is_spam AND opened_at < {cast} "
        f"AND (resolved_at IS NULL OR resolved_at >= {cast}){crosses}) AS t "
        f"JOIN {months} "
        "ON t.opened_at < m.end_ts AND (t.resolved_at IS NULL OR t.resolved_at >= m.end_ts) "
        f"GROUP BY m.month, {dims}"
    )
    return sql, (last_end, first_end, *params)


def _rebuild_monthly(rules: ServiceKpiRules, start: date, end: date) -> int:
    """Month × agent × team × vendor × channel × priority rows of [start, end), straight from the
    tickets (one grouped pass, as for the daily rows) plus each month's backlog."""
    ServiceMonthlyRollup.objects.filter(month__gte=start, month__lt=end).delete()
    order = (*SUM_COLUMNS, "backlog_end")
    lo, hi = window(start, end)
    name = _filing_field(rules)
    zone = local_zone()
    tickets = with_sla(Ticket.objects.filter(counted_q(), **{f"{name}__gte": lo, f"{name}__lt": hi}))
    parts = [
        _select(tickets, {"k_period": LocalMonth(name, zone), **_dimension_keys()}, figure_columns(), order),
        _backlog_part(start, end, order),
    ]
    return _insert(ServiceMonthlyRollup, "month", ("backlog_end",), parts)
