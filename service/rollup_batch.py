"""The rollup rows of a range of months, computed with numpy (issue 4, performance clause on KPIs).

``service.rollups`` decides what to rebuild (and holds the lock and the transaction); this module
reads the tickets, computes every rollup cell and writes the rows:

1. **read** the counted tickets filed in the range and their SLA results a slice at a time
   (``_sources``): slices of ids when the range holds most tickets (a rebuild: both tables read in
   stored order), else month by month through the filing index (a refresh of a few days). Each
   slice is two queries whose columns arrive as arrays (``core.columnar``: on PostgreSQL one
   ``array_agg`` per column in a binary COPY, on SQLite one ``group_concat``), and the database
   packs the small figures first, because every column read costs about as much as the arithmetic
   that packs it: four flags with the positions of channel and priority in one integer, two minute
   figures in another, an SLA result's target, outcome and minutes in a third. On PostgreSQL the
   next slice is read by a second thread on the same connection while numpy works on this one;
2. **group**: days and months come from the local zone's own midnights (``searchsorted`` on their
   epochs, so daylight saving is honoured); a ticket's cell is found by one sort of its five keys
   packed into an int64; each figure is one ``bincount`` over its column, the maxima
   ``maximum.at``, the histograms one ``bincount`` of cell × bucket. The slices' cells are merged
   once at the end (a sort and ``add.reduceat``), so memory grows with the cells (days × agents,
   months × agents × channels × priorities) and one slice of tickets. End-of-month backlogs come
   from the tickets already read when the range holds every ticket (filed by opening), else from
   one query of the tickets that can be in one; either way a +1 / -1 per (cell, month) summed along
   the months;
3. **write** PostgreSQL: ``COPY … FROM STDIN`` in binary format built with numpy; SQLite: one
   ``executemany`` per 50,000 rows, zipped from columns, with a larger page cache meanwhile.

Why not SQL: the same figures as ``INSERT … SELECT … GROUP BY`` (the previous rebuild, whose column
definitions ``service.rollups.figure_columns`` remain the reference, used by the reports and by
``service/tests/test_kpi_rollup_engine.py`` to check this module cell by cell) cost ~70 aggregates
per cell in the databases' row-at-a-time executors. Measured against one DuckDB query over the same
data in Parquet (``bench/bench_service_kpis.py``, ``bench/retime_service_rebuild.py``), PostgreSQL,
5,000,000 tickets: the SQL rebuild 15.0×, the first numpy version (rows fetched one by one) 6.9×,
columns as arrays 5.3×, packed and read ahead 2.6×. At that size the reads are what grows; the
~235,000 rows written (2–3 s on either database) are a floor that does not, which is why at 250,000
tickets the ratio is higher (4.4× PostgreSQL, 5.7× SQLite).
"""

# S611: the raw SQL here is built from model metadata and constants; every value is a parameter.
# ruff: noqa: S611

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
from django.db.models import F, Max, Min, Q, QuerySet, Value
from django.db.models.expressions import RawSQL
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
    """CELLS with the same key made one: figures summed, maxima taken (NOT_A_VALUE: none yet)."""
    if not len(cells):
        return _no_cells(cells.values.shape[1])
    order, starts = _cell_order(cells)
    values = cells.values[order]  # rows of a cell together: sums are one reduceat over the rows
    sums = np.add.reduceat(values, starts, axis=0)
    if sums.shape[1] == WIDTH:
        for at in MAX_AT:  # their sums above are meaningless (NOT_A_VALUE wraps): the maxima instead
            sums[:, at] = np.maximum.reduceat(values[:, at], starts)
    first_rows = order[starts]
    return Cells(
        cells.period[first_rows], cells.agent[first_rows], cells.team[first_rows], cells.vendor[first_rows],
        cells.kind[first_rows], sums,
    )  # fmt: skip


def group_tickets(cells: Cells) -> Cells:
    """Tickets as read (``NARROW`` figures, stored column by column) grouped into cells: one sort
    of the packed keys for each ticket's cell, then one ``bincount`` per figure (a column read in
    place, no rows gathered), the maxima with ``maximum.at`` and the histograms with one
    ``bincount`` of cell × bucket each."""
    if not len(cells):
        return _no_cells()
    order, starts = _cell_order(cells)
    n = len(starts)
    cell = np.empty(len(order), dtype=np.int64)
    cell[order] = np.repeat(np.arange(n, dtype=np.int64), np.diff(np.r_[starts, len(order)]))
    values = cells.values
    sums = np.zeros((n, WIDTH), dtype=np.int64)
    for at in range(FIRST_BUCKET):
        if at in MAX_AT:
            top = np.full(n, NOT_A_VALUE, dtype=np.int64)
            np.maximum.at(top, cell, values[:, at])
            sums[:, at] = top
        else:  # float64 sums are exact below 2**53 (counts and minute totals)
            sums[:, at] = np.bincount(cell, weights=values[:, at], minlength=n)
    for column, first in (
        (FR_BUCKET, AT[FIRST_RESPONSE_BUCKETS[0]]),
        (RES_BUCKET, AT[RESOLUTION_BUCKETS[0]]),
    ):
        bucket = values[:, column]
        counted = bucket >= 0
        flat = np.bincount(cell[counted] * N_BUCKETS + bucket[counted], minlength=n * N_BUCKETS)
        sums[:, first : first + N_BUCKETS] = flat.reshape(n, N_BUCKETS)
    first_rows = order[starts]
    return Cells(
        cells.period[first_rows], cells.agent[first_rows], cells.team[first_rows], cells.vendor[first_rows],
        cells.kind[first_rows], sums,
    )  # fmt: skip


# --- Reading ----------------------------------------------------------------------------------


# A ticket's small figures, packed by the database into few 64-bit columns: each column read costs
# PostgreSQL about as much as the arithmetic that packs it. FLAGS: four bits, then the positions of
# channel and priority among the names read (+1, so that 0 is "none of them"), 6 bits each.
RESOLVED, RESOLVED_ONCE, REOPENED, ONE_REPLY = 1, 2, 4, 8
POSITION_BITS = 6
# Two minute figures (never negative, at most 2**31 - 1: integer columns) +1 each (0: NULL) in one.
PAIR = 1 << 32
# An SLA result: its target (0–2, 3: another) × 3 + its outcome (0: undecided, 1: breached, 2: met),
# and above these 8 bits its business minutes + 1 (0: NULL).
OUTCOME_BITS = 8


def _position(column: str, names: Sequence[str], otherwise: int = -1) -> tuple[str, list[str]]:
    """SQL of COLUMN's position in NAMES (OTHERWISE: none of them), and its parameters."""
    whens = " ".join(f"WHEN %s THEN {i}" for i in range(len(names)))
    return f"CASE {column} {whens} ELSE {otherwise} END", list(names)


def _columns(table: type[Any]) -> dict[str, str]:
    """The quoted, table-qualified column names of TABLE's model (raw SQL below stays unambiguous
    when the query holds a subquery of another table)."""
    quote = connection.ops.quote_name
    prefix = quote(table._meta.db_table)
    return {f.attname: f"{prefix}.{quote(f.column)}" for f in table._meta.concrete_fields}


Names = tuple[list[str], list[str]]  # the channels and the priorities whose positions are read
CHOICES: Names = (list(TicketChannel.values), list(Priority.values))


def _ticket_read(tickets: QuerySet[Ticket], field: str, names: Names, with_resolution: bool) -> columnar.Read:
    """The read of the packed columns of TICKETS: id, filed (µs), agent, team, vendor, FLAGS, first-response
    pair, resolution pair, first resolution (+1), and with WITH_RESOLUTION the resolution time (µs;
    the filing time when unresolved)."""
    c = _columns(Ticket)
    channel, channel_params = _position(c["channel"], names[0])
    priority, priority_params = _position(c["priority"], names[1])
    flags = RawSQL(
        f"(CASE WHEN {c['resolved_at']} IS NOT NULL THEN {RESOLVED} ELSE 0 END "
        f"+ CASE WHEN {c['first_resolved_at']} IS NOT NULL THEN {RESOLVED_ONCE} ELSE 0 END "
        f"+ CASE WHEN {c['reopen_count']} > 0 THEN {REOPENED} ELSE 0 END "
        f"+ CASE WHEN {c['agent_reply_count']} = 1 THEN {ONE_REPLY} ELSE 0 END "
        f"+ 16 * ({channel} + 1) + {16 << POSITION_BITS} * ({priority} + 1))",
        [*channel_params, *priority_params],
    )

    def plus_one(column: str) -> str:
        return f"(COALESCE({c[column]}, -1) + 1)"

    def pair(high: str, low: str) -> RawSQL:
        return RawSQL(f"{plus_one(high)} * {PAIR} + {plus_one(low)}", [])

    no_id = Value(NO_ID)
    annotations: dict[str, Any] = {
        "k_agent": Coalesce(F("agent_id"), no_id),
        "k_team": Coalesce(F("team_id"), no_id),
        "k_vendor": Coalesce(F("vendor_id"), no_id),
        "k_flags": flags,
        "k_fr": pair("first_response_business_minutes", "first_response_calendar_minutes"),
        "k_res": pair("resolution_business_minutes", "resolution_calendar_minutes"),
        "k_first_res": RawSQL(plus_one("first_resolution_business_minutes"), []),
    }
    if with_resolution:
        annotations["k_resolved"] = Coalesce(F("resolved_at"), F(field))
    names_read = ["id", field, *annotations]
    kinds = ["int", "time"] + ["int"] * (len(annotations) - 1) + ["time" if with_resolution else "int"]
    return columnar.queryset_read(tickets.order_by().annotate(**annotations).values_list(*names_read), kinds)


def read_tickets(
    tickets: QuerySet[Ticket],
    results: QuerySet[TicketSla],
    field: str,
    kinds: dict[tuple[str, str], int],
    *,
    with_resolution: bool = False,
    read: tuple[list[Ints], list[Ints]] | None = None,
) -> tuple[Ints, Ints | None, Cells]:
    """The filing instants (epoch seconds), with WITH_RESOLUTION the resolution instants (-1:
    unresolved), and the figures of TICKETS, one cell each (figures stored column by column),
    with their SLA RESULTS (a superset is fine: results of other tickets are skipped). KINDS codes
    the (channel, priority) pairs and grows with the pairs seen. READ: the columns of
    ``slice_reads`` already read (else they are read here).

    Channel and priority travel as positions among the model's choices; a value outside them (none
    can be saved through Steward, but a database can hold one) makes the slice be read again with
    the values it holds."""
    names = CHOICES
    columns, sla = read or [r.run() for r in slice_reads(tickets, results, field, with_resolution)]
    flags = columns[5]
    channel = ((flags >> 4) & ((1 << POSITION_BITS) - 1)) - 1
    priority = (flags >> (4 + POSITION_BITS)) - 1
    if (channel < 0).any() or (priority < 0).any():
        pairs = set(tickets.order_by().values_list("channel", "priority").distinct())
        names = (sorted({c for c, _ in pairs} | set(names[0])), sorted({p for _, p in pairs} | set(names[1])))
        if max(map(len, names)) >= 1 << POSITION_BITS:
            raise ValueError("too many distinct ticket channels or priorities to roll up")
        columns = _ticket_read(tickets, field, names, with_resolution).run()
        flags = columns[5]
        channel = ((flags >> 4) & ((1 << POSITION_BITS) - 1)) - 1
        priority = (flags >> (4 + POSITION_BITS)) - 1
    ids, filed, agent, team, vendor, _, fr_pair, res_pair, first_res = columns[:9]
    n = len(ids)
    if not n:
        return np.zeros(0, dtype=np.int64), None, _no_cells(NARROW)
    # Column by column (Fortran order): each figure is written and later summed in place.
    values = np.zeros((n, NARROW), dtype=np.int64, order="F")
    values[:, AT["tickets"]] = 1
    values[:, FR_BUCKET] = values[:, RES_BUCKET] = -1

    def minutes(plus_one: Ints, count: str | None, total: str, top: str | None, buckets: int) -> None:
        present = plus_one > 0
        column = plus_one - 1
        values[:, AT[total]] = np.where(present, column, 0)
        if count:
            values[:, AT[count]] = present
        if top:
            values[:, AT[top]] = np.where(present, column, NOT_A_VALUE)
        if buckets >= 0:  # the histogram: a bucket holds its lower edge, the last is open-ended
            values[present, buckets] = np.searchsorted(EDGES, column[present], side="right") - 1

    minutes(fr_pair >> 32, "fr_n", "fr_sum", "fr_max", FR_BUCKET)
    minutes(fr_pair & (PAIR - 1), None, "fr_cal_sum", None, -1)
    minutes(res_pair >> 32, "res_n", "res_sum", "res_max", RES_BUCKET)
    minutes(res_pair & (PAIR - 1), None, "res_cal_sum", None, -1)
    minutes(first_res, "first_res_n", "first_res_sum", None, -1)
    is_resolved, was_resolved = (flags & RESOLVED) > 0, (flags & RESOLVED_ONCE) > 0
    reopened, one_reply = (flags & REOPENED) > 0, (flags & ONE_REPLY) > 0
    values[:, AT["resolved"]] = is_resolved
    values[:, AT["resolved_once"]] = was_resolved
    values[:, AT["reopened"]] = was_resolved & reopened
    values[:, AT["one_touch"]] = is_resolved & one_reply & ~reopened
    # (channel, priority) positions as codes of KINDS: one dictionary step per distinct pair.
    pair_code = channel * len(names[1]) + priority
    seen, index = np.unique(pair_code, return_inverse=True)
    codes = np.asarray(
        [
            kinds.setdefault((names[0][p // len(names[1])], names[1][p % len(names[1])]), len(kinds))
            for p in seen
        ],
        dtype=np.int64,
    )
    _add_sla(ids, values, sla)
    cells = Cells(np.zeros(n, dtype=np.int64), agent, team, vendor, codes[index].reshape(n), values)
    resolved = None
    if with_resolution:
        resolved = np.where(is_resolved, np.floor_divide(columns[9], 1_000_000), -1)
    return np.floor_divide(filed, 1_000_000), resolved, cells


def _sla_read(results: QuerySet[TicketSla]) -> columnar.Read:
    """The read of RESULTS packed into two columns: ticket, and target × 3 + outcome with the
    business minutes + 1 above (see OUTCOME_BITS)."""
    c = _columns(TicketSla)
    targets = (SlaTarget.FIRST_RESPONSE.value, SlaTarget.NEXT_RESPONSE.value, SlaTarget.RESOLUTION.value)
    target, params = _position(c["target"], targets, otherwise=len(targets))
    packed = RawSQL(
        f"CAST(COALESCE({c['business_minutes']}, -1) + 1 AS BIGINT) * {1 << OUTCOME_BITS} "
        f"+ {target} * 3 "
        f"+ CASE WHEN {c['met']} THEN 2 WHEN NOT {c['met']} THEN 1 ELSE 0 END",
        params,
    )
    return columnar.queryset_read(
        results.order_by().annotate(k_packed=packed).values_list("ticket_id", "k_packed"), ["int", "int"]
    )


def slice_reads(
    tickets: QuerySet[Ticket], results: QuerySet[TicketSla], field: str, with_resolution: bool
) -> tuple[columnar.Read, columnar.Read]:
    """The two reads of a slice (see read_tickets), prepared: they can run ahead of the work on the
    slice before (``columnar.read_ahead``)."""
    return _ticket_read(tickets, field, CHOICES, with_resolution), _sla_read(results)


def _add_sla(ids: Ints, values: Ints, sla: list[Ints]) -> None:
    """The SLA columns of the tickets IDS (VALUES row by row) from their results as read (see
    _sla_read; results of other tickets are skipped)."""
    ticket_ids, results_packed = sla
    if not len(ticket_ids) or not len(ids):
        return
    # Ids come in index order from a slice of ids; sorted only when they are not.
    sorter = None if bool((ids[1:] >= ids[:-1]).all()) else np.argsort(ids)
    found = np.minimum(np.searchsorted(ids, ticket_ids, sorter=sorter), len(ids) - 1)
    row = found if sorter is None else sorter[found]
    ours = ids[row] == ticket_ids
    code = results_packed & ((1 << OUTCOME_BITS) - 1)
    gap = (results_packed >> OUTCOME_BITS) - 1
    outcome = code % 3
    for i, prefix in enumerate(("fr", "nr", "res")):
        which = ours & (code // 3 == i)
        at = row[which]
        values[at, AT[f"sla_{prefix}_met"]] = outcome[which] == 2
        values[at, AT[f"sla_{prefix}_breached"]] = outcome[which] == 1
        if prefix == "nr":
            measured = gap[which] >= 0
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
    # Every ticket filed inside the range (two lookups in the filing index), or failing that most of
    # them (a count, which reads the range's part of that index).
    outside = Ticket.objects.filter(Q(**{f"{field}__lt": lo}) | Q(**{f"{field}__gte": hi}))
    if not outside.exists() or 3 * Ticket.objects.filter(**filed).count() >= last - first + 1:
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


def read_backlog(month_ends: Sequence[datetime], kinds: dict[tuple[str, str], int]) -> Cells:
    """The tickets that are ever in an end-of-month backlog of MONTH_ENDS (see backlog_cells), read
    by their own query: the counted tickets opened before the last month's end and not resolved
    before the first, and where the database can tell the local month cheaply, only those still open
    at the end of the month they were opened in (the open ones and those resolved in a later month).
    Each is a cell of one whose figure is the first month (index) whose end it was open at, then the
    month after the last."""
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
        return _no_cells(2)
    agent, team, vendor, channel, priority, opened_at, resolved_at = zip(*rows, strict=True)
    resolved_epoch = _floats(resolved_at)
    first, last = _open_at_ends(
        month_ends,
        np.asarray(opened_at, dtype=np.int64),
        np.where(np.isnan(resolved_epoch), -1, np.nan_to_num(resolved_epoch)).astype(np.int64),
    )
    return Cells(
        period=np.zeros(len(rows), dtype=np.int64),
        agent=np.asarray(agent, dtype=np.int64),
        team=np.asarray(team, dtype=np.int64),
        vendor=np.asarray(vendor, dtype=np.int64),
        kind=_kinds(channel, priority, kinds),
        values=np.stack([first, last], axis=1),
    )


def _open_at_ends(month_ends: Sequence[datetime], opened: Ints, resolved: Ints) -> tuple[Ints, Ints]:
    """For tickets OPENED and RESOLVED (epoch seconds, -1: unresolved), the first month (index into
    MONTH_ENDS) whose end each was open at and the month after the last: opened before the end and
    not resolved before it."""
    ends = np.asarray([int(e.timestamp()) for e in month_ends], dtype=np.int64)
    first = np.searchsorted(ends, opened, side="right")
    last = np.where(resolved < 0, len(ends), np.searchsorted(ends, resolved, side="right"))
    return first, last


def backlog_cells(crossing: Cells, months: int) -> Cells:
    """Each month's end-of-month backlog as cells of ``backlog_end`` only (the period is the month's
    index), from tickets CROSSING month ends (cells of one: figures the first month whose end each
    was open at and the month after the last, see read_backlog). Per (agent, team, vendor, kind): +1
    at the first month, -1 after the last, summed along the months."""
    crossing = crossing.take(crossing.values[:, 0] < np.minimum(crossing.values[:, 1], months))
    if not len(crossing):
        return _no_cells()
    keys = Cells(np.zeros(len(crossing), dtype=np.int64), crossing.agent, crossing.team, crossing.vendor,
                 crossing.kind, np.zeros((len(crossing), 1), dtype=np.int64))  # fmt: skip
    order, starts = _cell_order(keys)
    key = np.empty(len(order), dtype=np.int64)
    key[order] = np.repeat(np.arange(len(starts), dtype=np.int64), np.diff(np.r_[starts, len(order)]))
    steps = np.zeros((len(starts), months + 1), dtype=np.int64)
    np.add.at(steps, (key, crossing.values[:, 0]), 1)
    np.add.at(steps, (key, np.minimum(crossing.values[:, 1], months)), -1)
    open_then = np.cumsum(steps[:, :months], axis=1)
    cell, month = np.nonzero(open_then)
    values = np.zeros((len(cell), WIDTH), dtype=np.int64)
    values[:, BACKLOG] = open_then[cell, month]
    values[:, MAX_AT] = NOT_A_VALUE
    first_rows = order[starts][cell]
    return Cells(month.astype(np.int64), crossing.agent[first_rows], crossing.team[first_rows],
                 crossing.vendor[first_rows], crossing.kind[first_rows], values)  # fmt: skip


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
    lo, hi = window(start, end)
    month_ends = [window(m, m)[0] for m in [*months[1:], end]]
    # Filed by opening and none opened before the range: every ticket of a backlog is read below.
    backlog_read = field == "opened_at" and not Ticket.objects.filter(counted_q(), opened_at__lt=lo).exists()
    crossing: list[Cells] = []
    days_grouped: list[Cells] = []
    months_grouped: list[Cells] = []
    # Each slice's reads run ahead while the slice before is grouped (PostgreSQL).
    sources = list(_sources(field, lo, hi, month_ends[:-1]))
    reads = (slice_reads(tickets, results, field, backlog_read) for tickets, results in sources)
    for (tickets, results), (ticket_columns, sla) in zip(sources, columnar.read_ahead(reads), strict=True):
        filed, resolved, rows = read_tickets(
            tickets, results, field, kinds, with_resolution=backlog_read, read=(ticket_columns, sla)
        )
        day = np.searchsorted(day_starts, filed, side="right") - 1
        month = np.searchsorted(month_starts, filed, side="right") - 1
        # Each slice's tickets grouped first, the slices' cells merged at the end.
        by_day = rows.at(day, kind=False)
        days_grouped.append(group_tickets(by_day if wanted.all() else by_day.take(wanted[day])))
        months_grouped.append(group_tickets(rows.at(month)))
        if resolved is not None:
            first, last = _open_at_ends(month_ends, filed, resolved)
            across = first < last
            crossing.append(
                Cells(rows.period[across], rows.agent[across], rows.team[across], rows.vendor[across],
                      rows.kind[across], np.stack([first[across], last[across]], axis=1))
            )  # fmt: skip
    if not backlog_read:
        crossing = [read_backlog(month_ends, kinds)]
    backlog = backlog_cells(_concat(crossing) if crossing else _no_cells(2), len(months))
    daily = combine(_concat(days_grouped)) if days_grouped else _no_cells()
    monthly = combine(_concat([*months_grouped, backlog]))
    names = list(kinds)
    return {
        ServiceDailyRollup: write(ServiceDailyRollup, days, daily, None),
        ServiceMonthlyRollup: write(ServiceMonthlyRollup, months, monthly, names),
        ServiceAgentMonthRollup: write(
            ServiceAgentMonthRollup, months, combine(monthly.at(monthly.period, kind=False)), None
        ),
    }
