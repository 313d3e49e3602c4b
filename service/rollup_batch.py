"""The rollup rows of a range of months, computed with numpy (issue 4, performance clause on KPIs).

``service.rollups`` decides what to rebuild (and holds the lock and the transaction); this module
reads the tickets, computes every rollup cell and writes the rows:

1. **read** the counted tickets filed in the range (filing instant as epoch seconds, agent, team,
   vendor, channel, priority, the stored minute figures and flags) and their SLA results as two
   plain queries, a slice at a time (``_sources``): slices of ids when the range holds most tickets
   (a rebuild: both tables read in stored order), else month by month through the filing index
   (a refresh of a few days). One more query returns the few tickets that are ever in an
   end-of-month backlog (still open, or resolved in a later month than they were opened in);
2. **group**: days and months come from the local zone's own midnights (``searchsorted`` on their
   epochs, so daylight saving is honoured); cells are found by ``lexsort`` on their keys; sums and
   counts are one ``bincount`` per column, the maxima ``np.maximum.reduceat``, the histograms one
   ``bincount`` of cell × bucket. Each slice's cells are merged with those so far, so memory grows
   with the cells (days × agents, months × agents × channels × priorities), not the tickets;
3. **write** PostgreSQL: ``COPY … FROM STDIN`` in binary format built with numpy; SQLite: one
   ``executemany`` per 50,000 rows, zipped from columns, with a larger page cache meanwhile.

Why not SQL: the same figures as ``INSERT … SELECT … GROUP BY`` (the previous rebuild, whose column
definitions ``service.rollups.figure_columns`` remain the reference, used by the reports and by
``service/tests/test_kpi_rollup_engine.py`` to check this module cell by cell) cost ~70 aggregates
per cell in the databases' row-at-a-time executors: 25–28 s on SQLite and 8.7 s on PostgreSQL at
250,000 tickets against 2.6–2.8 s for one DuckDB query (bench/bench_service_kpis.py). Profiled at
that size, whole rebuild, 2 shared CPUs at load average 3–5 (so every figure is inflated):

- SQLite, 13.1 s: the databases' reads 3.2 s and turning their rows into arrays 1.5 s; grouping
  2.3 s; ``executemany`` of the 235,000 rows 2.9 s plus 0.7 s building them; commit 0.4 s.
- PostgreSQL, 16.8 s: reads and arrays 5.3 s (SLA results 2.5 s of it); grouping 3.6 s; building
  the binary COPY data 1.1 s; the server's COPY 5.1 s.

The writes are the floor: the old SQL rebuild paid the same inserts inside its INSERT … SELECT.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import BigIntegerField, Case, ExpressionWrapper, F, Max, Min, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import columnar
from kpis import periods as period_math
from service.measures import counted_q, local_zone, window
from service.models import Priority, SlaTarget, Ticket, TicketChannel, TicketSla
from service.report_models import (
    AGENT_DIMENSIONS,
    BUCKET_EDGES,
    DIMENSIONS,
    FIRST_RESPONSE_BUCKETS,
    RESOLUTION_BUCKETS,
    SUM_COLUMNS,
    ServiceAgentMonthRollup,
    ServiceDailyRollup,
    ServiceMonthlyRollup,
)
from service.sla import Epoch

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

NO_ID = -1  # an agent, team or vendor id that is NULL (unassigned; in-house: no vendor)
NOT_A_VALUE = np.iinfo(np.int64).min  # a NULL minute figure: below any value when taking maxima
NONE = -1  # a NULL minute figure or SLA outcome as read (minutes are never negative)
AT = {name: i for i, name in enumerate(SUM_COLUMNS)}
BACKLOG = len(SUM_COLUMNS)  # the figures' last column: the end-of-month backlog
WIDTH = BACKLOG + 1
MAX_AT = (AT["fr_max"], AT["res_max"])
EDGES = np.asarray(BUCKET_EDGES, dtype=np.int64)
# A ticket as read is narrower: the figures before the histograms, then its two histogram buckets
# (-1: none), counted into the cells' histogram columns when tickets are first grouped.
FIRST_BUCKET = AT[FIRST_RESPONSE_BUCKETS[0]]
FR_BUCKET, RES_BUCKET = FIRST_BUCKET, FIRST_BUCKET + 1
NARROW = FIRST_BUCKET + 2
N_BUCKETS = len(BUCKET_EDGES)
ID_CHUNK = 1 << 20  # ids per read when most tickets are rebuilt (read in id order: sequentially)


@dataclass
class Cells:
    """Rows keyed by period (an index) × agent × team × vendor × (channel, priority) (a code), with
    their figures: SUM_COLUMNS then the backlog. A ticket as read is a cell of one."""

    period: Ints
    agent: Ints
    team: Ints
    vendor: Ints
    kind: Ints
    values: Ints

    def __len__(self) -> int:
        return len(self.period)

    def take(self, which: Any) -> Cells:
        return Cells(
            self.period[which], self.agent[which], self.team[which], self.vendor[which], self.kind[which],
            self.values[which],
        )  # fmt: skip

    def at(self, period: Ints, *, kind: bool = True) -> Cells:
        """The same rows in PERIOD, with their (channel, priority) or without (all code 0)."""
        kinds = self.kind if kind else np.zeros_like(self.kind)
        return Cells(period, self.agent, self.team, self.vendor, kinds, self.values)


def _no_cells(width: int = WIDTH) -> Cells:
    empty = np.zeros(0, dtype=np.int64)
    return Cells(empty, empty, empty, empty, empty, np.zeros((0, width), dtype=np.int64))


def _concat(parts: Sequence[Cells]) -> Cells:
    names = ("period", "agent", "team", "vendor", "kind", "values")
    return Cells(*(np.concatenate([getattr(p, name) for p in parts]) for name in names))


def _cell_order(cells: Cells) -> tuple[Ints, Ints]:
    """The rows of CELLS sorted by key (period, agent, team, vendor, kind), and where each key's run
    of rows starts in that order. The five keys are packed into one integer when their ranges fit in
    63 bits (ids and indexes are small: one sort of an int64 instead of five passes of lexsort)."""
    columns = (cells.period, cells.agent, cells.team, cells.vendor, cells.kind)
    lows = [int(column.min()) for column in columns]
    widths = [max(int(column.max()) - low, 0).bit_length() for column, low in zip(columns, lows, strict=True)]
    if sum(widths) <= 63:
        packed = np.zeros(len(cells), dtype=np.int64)
        for column, low, width in zip(columns, lows, widths, strict=True):
            packed = (packed << width) | (column - low)
        order = np.argsort(packed)
        ordered = packed[order]
        new = np.r_[True, ordered[1:] != ordered[:-1]]
    else:
        order = np.lexsort(columns[::-1])
        keys = np.stack(columns)[:, order]
        new = np.r_[True, (keys[:, 1:] != keys[:, :-1]).any(axis=0)]
    return order, np.flatnonzero(new)


def combine(cells: Cells) -> Cells:
    """CELLS with the same key made one: figures summed, maxima taken (NOT_A_VALUE: none yet).

    Rows of tickets as read (``NARROW``) get their histogram columns counted from their buckets."""
    if not len(cells):
        return _no_cells(WIDTH if cells.values.shape[1] == NARROW else cells.values.shape[1])
    order, starts = _cell_order(cells)
    n = len(starts)
    values = cells.values[order]  # rows of a cell together: sums are one reduceat over the rows
    narrow = values.shape[1] == NARROW
    width = FIRST_BUCKET if narrow else values.shape[1]
    sums = np.zeros((n, WIDTH if narrow else width), dtype=np.int64)
    sums[:, :width] = np.add.reduceat(values[:, :width], starts, axis=0)
    if narrow:  # tickets: their buckets counted into the histogram columns, one bincount each
        cell = np.repeat(np.arange(n, dtype=np.int64), np.diff(np.r_[starts, len(order)]))
        for column, first in (
            (FR_BUCKET, AT[FIRST_RESPONSE_BUCKETS[0]]),
            (RES_BUCKET, AT[RESOLUTION_BUCKETS[0]]),
        ):
            bucket = values[:, column]
            counted = bucket >= 0
            flat = np.bincount(cell[counted] * N_BUCKETS + bucket[counted], minlength=n * N_BUCKETS)
            sums[:, first : first + N_BUCKETS] = flat.reshape(n, N_BUCKETS)
    if sums.shape[1] == WIDTH:
        for at in MAX_AT:  # their sums above are meaningless (NOT_A_VALUE wraps): the maxima instead
            sums[:, at] = np.maximum.reduceat(values[:, at], starts)
    first_rows = order[starts]
    return Cells(
        cells.period[first_rows], cells.agent[first_rows], cells.team[first_rows], cells.vendor[first_rows],
        cells.kind[first_rows], sums,
    )  # fmt: skip


def _merge(cells: Cells, more: Cells) -> Cells:
    """CELLS and MORE as one set of cells (each already has one row per key)."""
    if not len(cells) or not len(more):
        return more if len(more) else cells
    return combine(_concat([cells, more]))


# --- Reading ----------------------------------------------------------------------------------


def _floats(values: Sequence[Any]) -> Floats:
    """A fetched column as floats, NULL as NaN."""
    return np.asarray(values, dtype=np.float64)


def _kinds(channel: Sequence[str], priority: Sequence[str], kinds: dict[tuple[str, str], int]) -> Ints:
    """(channel, priority) pairs as codes of KINDS, which grows with the pairs seen."""
    return np.fromiter(
        (kinds.setdefault(pair, len(kinds)) for pair in zip(channel, priority, strict=True)),
        dtype=np.int64,
        count=len(channel),
    )


def _code(column: str, names: Sequence[str]) -> Case:
    """COLUMN's position in NAMES (-1: not among them), computed by the database."""
    return Case(*(When(**{column: name}, then=Value(i)) for i, name in enumerate(names)), default=Value(-1))


def _flag(condition: Q) -> Case:
    return Case(When(condition, then=Value(1)), default=Value(0))


def _or_none(column: str) -> Coalesce:
    """A nullable minute figure (never negative) with NULL read as NONE."""
    return Coalesce(F(column), Value(NONE))


def _read_tickets(
    tickets: QuerySet[Ticket], field: str, channels: Sequence[str], priorities: Sequence[str]
) -> list[Ints]:
    no_id = Value(NO_ID)
    kind = ExpressionWrapper(
        _code("channel", channels) * Value(len(priorities)) + _code("priority", priorities),
        output_field=BigIntegerField(),
    )
    return columnar.queryset_columns(
        tickets.order_by()
        .annotate(
            filed=Epoch(field),
            k_agent=Coalesce(F("agent_id"), no_id),
            k_team=Coalesce(F("team_id"), no_id),
            k_vendor=Coalesce(F("vendor_id"), no_id),
            k_kind=kind,
            fr=_or_none("first_response_business_minutes"),
            fr_cal=_or_none("first_response_calendar_minutes"),
            res=_or_none("resolution_business_minutes"),
            res_cal=_or_none("resolution_calendar_minutes"),
            first_res=_or_none("first_resolution_business_minutes"),
            is_resolved=_flag(Q(resolved_at__isnull=False)),
            was_resolved=_flag(Q(first_resolved_at__isnull=False)),
        )
        .values_list(
            "id", "filed", "k_agent", "k_team", "k_vendor", "k_kind", "fr", "fr_cal", "res", "res_cal",
            "first_res", "is_resolved", "was_resolved", "reopen_count", "agent_reply_count",
        )
    )  # fmt: skip


def read_tickets(
    tickets: QuerySet[Ticket], results: QuerySet[TicketSla], field: str, kinds: dict[tuple[str, str], int]
) -> tuple[Ints, Cells]:
    """The filing instants (epoch seconds) and the figures of TICKETS, one cell each, with their
    SLA RESULTS (a superset is fine: results of other tickets are skipped). KINDS codes the
    (channel, priority) pairs and grows with the pairs seen.

    The columns come as arrays (``core.columnar``), every one an integer: NULL minutes as NONE,
    flags as 0/1, (channel, priority) as the positions of both among the model's choices; a value
    outside the choices (none can be saved through Steward, but a database can hold one) makes
    the slice be read again with the values it holds."""
    channels, priorities = list(TicketChannel.values), list(Priority.values)
    columns = _read_tickets(tickets, field, channels, priorities)
    if (columns[5] < 0).any():
        pairs = tickets.order_by().values_list("channel", "priority").distinct()
        channels = sorted({c for c, _ in pairs} | set(channels))
        priorities = sorted({p for _, p in pairs} | set(priorities))
        columns = _read_tickets(tickets, field, channels, priorities)
    (ids, filed, agent, team, vendor, pair, fr, fr_cal, res, res_cal, first_res, resolved, once, reopens,
     replies) = columns  # fmt: skip
    n = len(ids)
    if not n:
        return np.zeros(0, dtype=np.int64), _no_cells(NARROW)
    values = np.zeros((n, NARROW), dtype=np.int64)
    values[:, AT["tickets"]] = 1
    values[:, [FR_BUCKET, RES_BUCKET]] = -1

    def minutes(column: Ints, count: str | None, total: str, top: str | None, buckets: int) -> None:
        present = column != NONE
        values[:, AT[total]] = np.where(present, column, 0)
        if count:
            values[:, AT[count]] = present
        if top:
            values[:, AT[top]] = np.where(present, column, NOT_A_VALUE)
        if buckets >= 0:  # the histogram: a bucket holds its lower edge, the last is open-ended
            values[present, buckets] = np.searchsorted(EDGES, column[present], side="right") - 1

    minutes(fr, "fr_n", "fr_sum", "fr_max", FR_BUCKET)
    minutes(fr_cal, None, "fr_cal_sum", None, -1)
    minutes(res, "res_n", "res_sum", "res_max", RES_BUCKET)
    minutes(res_cal, None, "res_cal_sum", None, -1)
    minutes(first_res, "first_res_n", "first_res_sum", None, -1)
    is_resolved, was_resolved = resolved == 1, once == 1
    reopened, one_reply = reopens > 0, replies == 1
    values[:, AT["resolved"]] = is_resolved
    values[:, AT["resolved_once"]] = was_resolved
    values[:, AT["reopened"]] = was_resolved & reopened
    values[:, AT["one_touch"]] = is_resolved & one_reply & ~reopened
    # (channel, priority) positions as codes of KINDS: one dictionary step per distinct pair.
    seen, index = np.unique(pair, return_inverse=True)
    codes = np.asarray(
        [
            kinds.setdefault((channels[p // len(priorities)], priorities[p % len(priorities)]), len(kinds))
            for p in seen
        ],
        dtype=np.int64,
    )
    order = np.argsort(ids, kind="stable")
    cells = Cells(
        period=np.zeros(n, dtype=np.int64),
        agent=agent,
        team=team,
        vendor=vendor,
        kind=codes[index],
        values=values,
    ).take(order)
    _add_sla(ids[order], cells.values, results)
    return filed[order], cells


def _add_sla(ids: Ints, values: Ints, results: QuerySet[TicketSla]) -> None:
    """The SLA columns of the tickets IDS (sorted; VALUES row by row) from their RESULTS."""
    targets = (SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE, SlaTarget.RESOLUTION)
    ticket_ids, codes, outcome, gap = columnar.queryset_columns(
        results.order_by()
        .annotate(
            code=_code("target", targets),
            outcome=Case(When(met=True, then=Value(1)), When(met=False, then=Value(0)), default=Value(NONE)),
            gap=_or_none("business_minutes"),
        )
        .values_list("ticket_id", "code", "outcome", "gap")
    )
    if not len(ticket_ids) or not len(ids):
        return
    row = np.minimum(np.searchsorted(ids, ticket_ids), len(ids) - 1)
    ours = ids[row] == ticket_ids
    for i, prefix in enumerate(("fr", "nr", "res")):
        which = ours & (codes == i)
        at = row[which]
        values[at, AT[f"sla_{prefix}_met"]] = outcome[which] == 1
        values[at, AT[f"sla_{prefix}_breached"]] = outcome[which] == 0
        if prefix == "nr":
            measured = gap[which] != NONE
            values[at, AT["nr_n"]] = measured
            values[at, AT["nr_sum"]] = np.where(measured, gap[which], 0)


def _sources(
    field: str, lo: datetime, hi: datetime, months: Sequence[datetime]
) -> Iterator[tuple[QuerySet[Ticket], QuerySet[TicketSla]]]:
    """The counted tickets filed in [LO, HI) and their SLA results, a slice at a time.

    When they are most of the tickets (a rebuild), slices of ids: both tables are read in the order
    they are stored, where picking each month's tickets by the filing index and their results by
    ticket cost four times as much. Otherwise (a refresh) a month at a time (MONTHS: the instants
    between [LO, HI)'s months) by the filing index.
    """
    filed = {f"{field}__gte": lo, f"{field}__lt": hi}
    counted = Ticket.objects.filter(counted_q(), **filed)
    span = Ticket.objects.aggregate(first=Min("id"), last=Max("id"))
    if span["first"] is None:
        return
    first, last = int(span["first"]), int(span["last"])
    if 3 * Ticket.objects.filter(**filed).count() >= last - first + 1:
        for start in range(first, last + 1, ID_CHUNK):
            ids = {"gte": start, "lt": start + ID_CHUNK}
            yield (
                counted.filter(id__gte=ids["gte"], id__lt=ids["lt"]),
                TicketSla.objects.filter(ticket_id__gte=ids["gte"], ticket_id__lt=ids["lt"]),
            )
        return
    bounds = [lo, *months, hi]
    for month_lo, month_hi in zip(bounds, bounds[1:], strict=False):
        tickets = counted.filter(**{f"{field}__gte": month_lo, f"{field}__lt": month_hi})
        yield tickets, TicketSla.objects.filter(ticket__in=tickets.values("id"))


def _local_month_sql(column: str) -> str | None:
    """SQL of the local month of a timestamp COLUMN, or None where there is no cheap one (SQLite
    and a zone with daylight saving: the backlog query then reads every ticket resolved later)."""
    from service.rollups import _fixed_offset_minutes

    zone = local_zone()
    if connection.vendor == "postgresql":
        return f"date_trunc('month', {column} AT TIME ZONE '{zone.key}')"
    minutes = _fixed_offset_minutes(zone)
    if connection.vendor == "sqlite" and minutes is not None:
        return f"date({column}, '{minutes:+d} minutes', 'start of month')"
    return None


def read_backlog(month_ends: Sequence[datetime], kinds: dict[tuple[str, str], int]) -> Iterator[Cells]:
    """Each month's end-of-month backlog (MONTH_ENDS sorted; the period is the month's index), as
    cells of ``backlog_end`` only: the counted tickets opened before the month's end and not
    resolved before it. Only tickets still open at the end of the month they were opened in are
    ever in one (the open ones and those resolved in a later month): the query reads just those."""
    ops = connection.ops
    table = ops.quote_name(Ticket._meta.db_table)
    keys = ", ".join(
        f"COALESCE({ops.quote_name(d)}, {NO_ID})" if d.endswith("_id") else ops.quote_name(d)
        for d in DIMENSIONS
    )
    opened, resolved = _local_month_sql("opened_at"), _local_month_sql("resolved_at")
    crosses = f" AND (resolved_at IS NULL OR {resolved} > {opened})" if opened and resolved else ""
    # Whole epoch seconds, as ``service.sla.Epoch`` (the doubled % survives parameter formatting).
    if connection.vendor == "sqlite":
        epoch = "CAST(strftime('%%s', substr({}, 1, 19)) AS INTEGER)"
    else:
        epoch = "CAST(FLOOR(EXTRACT(EPOCH FROM {})) AS BIGINT)"
    sql = (
        f"SELECT {keys}, {epoch.format('opened_at')}, {epoch.format('resolved_at')} FROM {table} "  # noqa: S608 (identifiers from model metadata)
        "WHERE NOT is_merged AND NOT is_spam AND opened_at < %s "
        f"AND (resolved_at IS NULL OR resolved_at >= %s){crosses}"
    )
    adapt = ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(sql, [adapt(month_ends[-1]), adapt(month_ends[0])])
        rows = cursor.fetchall()
    if not rows:
        return
    agent, team, vendor, channel, priority, opened_at, resolved_at = zip(*rows, strict=True)
    ends = np.asarray([int(e.timestamp()) for e in month_ends], dtype=np.int64)
    resolved_epoch = _floats(resolved_at)
    # Open at a month's end: opened before it (from the first month ending after the opening) and
    # not resolved before it (up to the last month ending at or before the resolution).
    first = np.searchsorted(ends, np.asarray(opened_at, dtype=np.int64), side="right")
    last = np.where(
        np.isnan(resolved_epoch),
        len(ends),
        np.searchsorted(ends, np.nan_to_num(resolved_epoch), side="right"),
    )
    tickets = Cells(
        period=np.zeros(len(rows), dtype=np.int64),
        agent=np.asarray(agent, dtype=np.int64),
        team=np.asarray(team, dtype=np.int64),
        vendor=np.asarray(vendor, dtype=np.int64),
        kind=_kinds(channel, priority, kinds),
        values=np.ones((len(rows), 1), dtype=np.int64),
    )
    for month in range(len(ends)):
        open_then = tickets.take((first <= month) & (month < last))
        if not len(open_then):
            continue
        counted = combine(open_then.at(np.full(len(open_then), month, dtype=np.int64)))
        values = np.zeros((len(counted), WIDTH), dtype=np.int64)
        values[:, BACKLOG] = counted.values[:, 0]
        values[:, MAX_AT] = NOT_A_VALUE
        yield Cells(counted.period, counted.agent, counted.team, counted.vendor, counted.kind, values)


# --- Writing ----------------------------------------------------------------------------------

WRITE_SLICE = 50_000  # rows per statement: bounds the Python rows held at once
PG_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _ids(column: Ints) -> list[int | None]:
    """Ids as Python ints, NO_ID as None (NULL)."""
    ids = column.astype(object)
    ids[column == NO_ID] = None
    return list(ids.tolist())


def write(
    model: type[Any], periods: Sequence[date], cells: Cells, kinds: Sequence[tuple[str, str]] | None
) -> int:
    """CELLS into MODEL's table, PERIODS naming their period indexes and KINDS their (channel,
    priority) codes (the monthly rows; None elsewhere). Returns the number of rows."""
    values = cells.values.copy()
    for at in MAX_AT:  # no value: 0, as COALESCE(MAX(…), 0)
        values[values[:, at] == NOT_A_VALUE, at] = 0
    if model is ServiceDailyRollup:
        values = values[:, :BACKLOG]
    cells = Cells(cells.period, cells.agent, cells.team, cells.vendor, cells.kind, values)
    period_column = "day" if model is ServiceDailyRollup else "month"
    dimensions = DIMENSIONS if kinds is not None else AGENT_DIMENSIONS
    columns = ("created_at", "updated_at", period_column, *dimensions, *SUM_COLUMNS)
    columns += ("backlog_end",) if model is not ServiceDailyRollup else ()
    quote = connection.ops.quote_name
    table, names = quote(model._meta.db_table), ", ".join(quote(c) for c in columns)
    for start in range(0, len(cells), WRITE_SLICE):
        part = cells.take(slice(start, start + WRITE_SLICE))
        if connection.vendor == "postgresql":
            data = _binary_rows(part, periods, kinds)
            with (
                connection.cursor() as cursor,
                cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN (FORMAT BINARY)") as copy,
            ):
                copy.write(data)
        else:
            _insert_rows(
                f"INSERT INTO {table} ({names}) VALUES ({', '.join('%s' for _ in columns)})",  # noqa: S608 (identifiers)
                part,
                periods,
                kinds,
            )  # noqa: S608 (identifiers)
    return len(cells)


def _insert_rows(
    sql: str, cells: Cells, periods: Sequence[date], kinds: Sequence[tuple[str, str]] | None
) -> None:
    """SQLite: one ``executemany``, the rows zipped from columns (a Python loop per row cost more
    than the INSERT itself)."""
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    n = len(cells)
    data: list[list[Any]] = [[now] * n, [now] * n]
    data.append(
        np.asarray([ops.adapt_datefield_value(d) for d in periods], dtype=object)[cells.period].tolist()
    )
    data += [_ids(cells.agent), _ids(cells.team), _ids(cells.vendor)]
    if kinds is not None:
        pairs = np.asarray(kinds, dtype=object)[cells.kind]
        data += [pairs[:, 0].tolist(), pairs[:, 1].tolist()]
    data += cells.values.T.tolist()
    with connection.cursor() as cursor:
        cursor.executemany(sql, list(zip(*data, strict=True)))


def _binary_rows(cells: Cells, periods: Sequence[date], kinds: Sequence[tuple[str, str]] | None) -> bytes:
    """PostgreSQL's binary COPY format of CELLS, built with numpy: rows that share their layout (the
    same channel and priority text, the same NULL ids) are one fixed-width record array."""
    now = int((timezone.now() - PG_EPOCH) / timedelta(microseconds=1))
    days = np.asarray([(d - PG_EPOCH.date()).days for d in periods], dtype=np.int64)[cells.period]
    ids = (cells.agent, cells.team, cells.vendor)
    layout = cells.kind * 8 + sum((column == NO_ID).astype(np.int64) << i for i, column in enumerate(ids))
    n_fields = 3 + len(ids) + (2 if kinds is not None else 0) + cells.values.shape[1]
    out = [b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)]
    for shape in np.unique(layout):
        rows = np.flatnonzero(layout == shape)
        # Each field: its length (-1: NULL) and its big-endian value, in the order of the columns.
        fields: list[tuple[int, str | None, Any]] = [(8, ">i8", now), (8, ">i8", now), (4, ">i4", days[rows])]
        for column in ids:
            fields.append((-1, None, None) if column[rows[0]] == NO_ID else (8, ">i8", column[rows]))
        if kinds is not None:
            for text in kinds[int(cells.kind[rows[0]])]:
                encoded = text.encode()
                fields.append((len(encoded), f"S{len(encoded)}" if encoded else None, encoded))
        fields += [(8, ">i8", cells.values[rows, i]) for i in range(cells.values.shape[1])]
        dtype = [("count", ">i2")]
        for i, (_, kind, _) in enumerate(fields):
            dtype.append((f"n{i}", ">i4"))
            if kind is not None:
                dtype.append((f"v{i}", kind))
        records = np.empty(len(rows), dtype=dtype)
        records["count"] = n_fields
        for i, (length, kind, value) in enumerate(fields):
            records[f"n{i}"] = length
            if kind is not None:
                records[f"v{i}"] = value
        out.append(records.tobytes())
    out.append(struct.pack(">h", -1))
    return b"".join(out)


# --- The rebuild ------------------------------------------------------------------------------


def months_between(start: date, end: date) -> list[date]:
    """First days of the months in [START, END) (START a first of the month)."""
    months, month = [], start
    while month < end:
        months.append(month)
        month = period_math.period_containing(period_math.MONTH, month).end
    return months


def _midnights(days: Sequence[date]) -> Ints:
    """Epoch seconds of the local midnights starting DAYS (from the zone: daylight saving counts)."""
    return np.asarray([int(window(d, d)[0].timestamp()) for d in days], dtype=np.int64)


@contextmanager
def _page_cache() -> Iterator[None]:
    """On SQLite, a page cache of up to 256 MB for the rebuild's own statements, then the size it
    had: with the default 2,000 pages (8 MB) the reads of the tickets and the inserts spent a
    third of their time fetching pages from the operating system."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute("PRAGMA cache_size = -262144")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


def rebuild(
    field: str, start: date, end: date, daily_runs: Sequence[tuple[date, date]]
) -> dict[type[Any], int]:
    """Write the monthly and agent-month rows of the months [START, END) and the daily rows of the
    days in DAILY_RUNS ([first, last) pairs inside them), the tickets filed by FIELD; the caller has
    deleted the rows they replace. Returns the rows written per model."""
    with _page_cache():
        return _rebuild(field, start, end, daily_runs)


def _rebuild(
    field: str, start: date, end: date, daily_runs: Sequence[tuple[date, date]]
) -> dict[type[Any], int]:
    months = months_between(start, end)
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    month_starts, day_starts = _midnights([*months, end]), _midnights([*days, end])
    wanted = np.asarray([any(lo <= d < hi for lo, hi in daily_runs) for d in days], dtype=np.bool_)
    kinds: dict[tuple[str, str], int] = {}
    daily, monthly = _no_cells(), _no_cells()
    lo, hi = window(start, end)
    for tickets, results in _sources(field, lo, hi, [window(m, m)[0] for m in months[1:]]):
        filed, rows = read_tickets(tickets, results, field, kinds)
        day = np.searchsorted(day_starts, filed, side="right") - 1
        month = np.searchsorted(month_starts, filed, side="right") - 1
        on_wanted_day = wanted[day]
        # Each slice's tickets grouped first, then merged with the cells so far.
        daily = _merge(daily, combine(rows.at(day, kind=False).take(on_wanted_day)))
        monthly = _merge(monthly, combine(rows.at(month)))
    backlog = list(read_backlog([window(m, m)[0] for m in [*months[1:], end]], kinds))
    monthly = combine(_concat([monthly, *backlog]))
    names = list(kinds)
    return {
        ServiceDailyRollup: write(ServiceDailyRollup, days, daily, None),
        ServiceMonthlyRollup: write(ServiceMonthlyRollup, months, monthly, names),
        ServiceAgentMonthRollup: write(
            ServiceAgentMonthRollup, months, combine(monthly.at(monthly.period, kind=False)), None
        ),
    }
