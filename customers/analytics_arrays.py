"""The full rebuilds of SalesMonth and CustomerMetrics, vectorised with numpy (issue 7, performance).

``customers.analytics`` states every figure as set-based SQL, and that SQL stays the reference
(and the path of the incremental refresh, which touches few rows). A *full* rebuild reads every
order, and there both databases spent their time in the engine rather than the arithmetic:
SQLite sorts for every GROUP BY and every DISTINCT (it has no hash aggregation), PostgreSQL
joins ~1.7 lines per order to their orders and sorts each (cell, order) and (cell, customer)
pair for its distinct counts, row by row (``bench/bench_customers_reports.py``, measured
against DuckDB). Here the database only streams the columns, and numpy does the rest:

1. **read** the live orders and all lines, without a join, as flat columns: PostgreSQL with
   ``COPY … TO STDOUT (FORMAT binary)`` through psycopg, every field fixed-width (ids, codes,
   money as integer ten-thousandths, ``timestamptz`` as its native microseconds since
   2000-01-01), so the whole stream is one ``numpy.frombuffer`` with no per-row Python; SQLite
   with one ``fetchall`` (its money is REAL, its times ISO text parsed by numpy in one call).
   Channels and categories travel as small integer codes into a list read first, sorted by
   the database's own collation, so ``MIN(channel)`` and ``ORDER BY category`` ties come out
   as in SQL;
2. **join** each line to its order with ``searchsorted`` on the sorted order ids (lines of
   cancelled orders find no order and drop out);
3. **aggregate** by integer keys: sums with ``bincount``, distinct order and customer counts as
   the number of distinct (cell, order) and (cell, customer) pairs (``np.unique``), NTILE(5) as
   the rank in a ``lexsort`` with SQL's bucket sizes (the first ``n % 5`` buckets one larger);
4. **write** the rows back in the caller's transaction: PostgreSQL COPYs fixed-width binary
   rows into a temporary staging table and turns them into the real rows with one
   ``INSERT … SELECT`` (names from the code lists, money back to exact ``numeric``); SQLite
   inserts with one ``executemany``.

Money is summed as integers (ten-thousandths of a dollar, so SQLite's REAL amounts with three
decimals sum exactly as well); the refund share of a line (amount × refunded ÷ total) is the
one division, summed in float64 per cell and rounded to the cent half away from zero, as
``numeric(18, 2)`` stores it. ``customers/tests/test_analytics_arrays.py`` checks that both
paths write the same rows.
"""

# S608: the SQL here is assembled only from constants (table and column names); every value
# is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection

from core import columnar
from customers.models import ALL, Channel, Order

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

CANCELLED = Order.Status.CANCELLED.value
UNIT = 10_000  # money is read as integer ten-thousandths of a dollar
CENT = UNIT // 100
HK_OFFSET_US = 8 * 3600 * 1_000_000
PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 UTC, PostgreSQL's binary timestamp origin
# Preferred channel: the channel of most orders; a tie goes to the first by name (as in SQL).
CHANNELS = sorted(str(value) for value in Channel.values)
SEGMENTS = ["champions", "loyal", "new", "potential", "at_risk", "lost", "hibernating"]


def _pg() -> bool:
    return connection.vendor == "postgresql"


# --- Reading -------------------------------------------------------------------------------------


def _names(sql: str) -> list[str]:
    """The values of SQL's one column, in the order it returns them (the database's collation)."""
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [str(row[0]) for row in cursor.fetchall()]


def _code(column: str, names: list[str]) -> tuple[str, list[Any]]:
    """SQL giving COLUMN's position in NAMES, 0-based (-1 when absent), and its parameters."""
    if _pg():
        return f"COALESCE(array_position(%s::text[], {column}), 0) - 1", [names]
    whens = " ".join(f"WHEN %s THEN {i}" for i in range(len(names)))
    return f"CASE {column} {whens} ELSE -1 END", list(names)


def _money(column: str) -> str:
    if _pg():
        return f"({column} * {UNIT})::int8"
    return f"CAST(ROUND({column} * {UNIT}) AS INTEGER)"


# Ids per PostgreSQL read: each slice is an index range read without a sort (grouping the rows
# of one query into chunks made the database sort them all first), and the next slice is read
# while this one is parsed (``core.columnar.read_ahead``).
PG_SLICE = 1 << 20


def _pg_reads(
    expressions: list[str], kinds: list[str], table: str, where: str, params: list[Any]
) -> list[Any]:
    """The reads (``core.columnar.Read``) of the NOT NULL integer EXPRESSIONS over the rows of
    TABLE that match WHERE, a slice of ids each. KINDS are the binary types ("i8", "i4")."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT MIN(id), MAX(id) FROM {table}")
        row = cursor.fetchone()
    if row is None or row[0] is None:
        return []
    first, last = int(row[0]), int(row[1])
    aggregates = ", ".join(f"array_agg({expression})" for expression in expressions)
    condition = f"{where} AND " if where else ""
    sql = f"SELECT {aggregates} FROM {table} WHERE {condition}id >= %s AND id < %s"
    read_kinds = ["i4" if kind == "i4" else "int" for kind in kinds]
    return [
        columnar.Read(sql, [*params, start, start + PG_SLICE], read_kinds)
        for start in range(first, last + 1, PG_SLICE)
    ]


def _joined(parts: list[list[Ints]], width: int) -> list[Ints]:
    """The slices' columns, each made one."""
    if not parts:
        return [np.zeros(0, dtype=np.int64) for _ in range(width)]
    return [np.concatenate([part[i] for part in parts]) for i in range(width)]


def _pg_columns(
    expressions: list[str], kinds: list[str], table: str, where: str, params: list[Any]
) -> list[Ints]:
    """The NOT NULL integer EXPRESSIONS over the rows of TABLE that match WHERE, as int64 arrays,
    a slice of ids at a time, the next slice read while this one is parsed."""
    reads = _pg_reads(expressions, kinds, table, where, params)
    return _joined([columns for (columns,) in columnar.read_ahead([read] for read in reads)], len(kinds))


def _pg_known(name: str) -> list[str]:
    """The values of the text column NAME that the last rebuild saw, sorted by the database."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT v FROM (SELECT DISTINCT {name} AS v FROM customers_salesmonth WHERE {name} <> %s "
            "UNION SELECT unnest(%s::text[])) known ORDER BY v",
            [ALL, CHANNELS if name == "channel" else []],
        )
        return [str(row[0]) for row in cursor.fetchall()]


# What ``_read`` reads: the text column, the integer expressions, the table and the filter.
Source = tuple[str, list[str], str, str]
Prefetched = tuple[list[str], list[Ints]]  # the names tried and the columns read with them


def _pg_side_by_side(groups: list[list[Source]]) -> list[list[Prefetched]] | None:
    """The sources of each group read in turn, the groups at the same time, with the known names
    (``columnar.read_side_by_side``); None where that cannot be done (see there)."""
    plans: list[list[tuple[list[str], int, list[Any]]]] = []
    for sources in groups:
        plans.append([])
        for name, numbers, table, where in sources:
            names = _pg_known(name)
            code, params = _code(name, names)
            kinds = ["i8"] * len(numbers) + ["i4"]
            plans[-1].append((names, len(kinds), _pg_reads([*numbers, code], kinds, table, where, params)))
    results = columnar.read_side_by_side([[read for _, _, reads in plan for read in reads] for plan in plans])
    if results is None:
        return None
    out: list[list[Prefetched]] = []
    for plan, columns in zip(plans, results, strict=True):
        out.append([])
        for names, width, reads in plan:
            out[-1].append((names, _joined(columns[: len(reads)], width)))
            columns = columns[len(reads) :]
    return out


def _affinity_source() -> Source:
    return "category", ["customer_id", _money("spend")], "customers_categoryaffinity", ""


def _pg_unchanged(table: str) -> bool:
    """Whether this transaction has inserted, updated or deleted no row of TABLE (PostgreSQL)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT COALESCE(SUM(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables "
            "WHERE relname = %s",
            [table],
        )
        row = cursor.fetchone()
    return row is not None and int(row[0]) == 0


@dataclass
class Orders:
    """The live (not cancelled) orders as columns, sorted by id."""

    id: Ints
    customer: Ints  # 0: no customer
    channel: Ints  # position in ``channels``
    placed: Ints  # microseconds since 1970-01-01 UTC
    total: Ints  # ten-thousandths
    refunded: Ints
    channels: list[str]

    def months(self) -> Ints:
        """Each order's month in Hong Kong time, as months since 1970-01."""
        local = (self.placed + HK_OFFSET_US).astype("datetime64[us]")
        return local.astype("datetime64[M]").astype(np.int64)


@dataclass
class Lines:
    """Lines of live orders: their order's position in ``Orders``, category code, amount."""

    order: Ints
    category: Ints
    amount: Ints
    categories: list[str]


def _read(
    name: str, numbers: list[str], table: str, where: str = "", prefetched: Prefetched | None = None
) -> tuple[list[str], Ints, list[Ints]]:
    """Read the rows of TABLE that match WHERE: the text column NAME as codes into a list of its
    values sorted by the database's collation, and the NOT NULL integer expressions NUMBERS as
    int64 columns.

    PostgreSQL: the values first (``SELECT DISTINCT … ORDER BY``), then binary COPYs of arrays
    (``_pg_columns``) with the codes computed by ``array_position``. SQLite: one ``group_concat``
    per column in a single scan (every aggregate of a row steps together, so the columns stay
    aligned), parsed by ``numpy.fromstring``: a few strings instead of a Python object per value,
    which was most of the time of ``fetchall``. The text column is joined with the unit separator
    (U+001F) and coded in Python; should a value contain that character, the pieces do not add up
    to the row count and the values are read as with PostgreSQL instead (SQLite's BINARY collation
    is Python's string order).
    """
    source = f"FROM {table}" + (f" WHERE {where}" if where else "")
    if _pg():
        # Most values were seen by the last rebuild: try those first (sorted by the database),
        # and scan for the distinct values only when a row has one that is not among them.
        if prefetched is not None and not (prefetched[1][-1] < 0).any():
            return prefetched[0], prefetched[1][-1], prefetched[1][:-1]
        names = _pg_known(name)
        for attempt in ("known", "all"):
            if attempt == "all":
                names = _names(f"SELECT DISTINCT {name} {source} ORDER BY {name}")
            code, params = _code(name, names)
            columns = _pg_columns([*numbers, code], ["i8"] * len(numbers) + ["i4"], table, where, params)
            if attempt == "all" or not (columns[-1] < 0).any():
                break
        return names, columns[-1], columns[:-1]
    concat = ", ".join(f"group_concat({number})" for number in numbers)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*), group_concat({name}, char(31)), {concat} {source}", [])
        row = cursor.fetchone()
    count = int(row[0]) if row else 0
    if not count or row is None:
        return [], np.zeros(0, dtype=np.int64), [np.zeros(0, dtype=np.int64) for _ in numbers]
    columns = [np.fromstring(text, dtype=np.int64, sep=",") for text in row[2:]]
    pieces = str(row[1]).split("\x1f")
    if len(pieces) == count:
        names = sorted(set(pieces))
        index = {value: i for i, value in enumerate(names)}
        return names, np.fromiter(map(index.__getitem__, pieces), dtype=np.int64, count=count), columns
    names = _names(f"SELECT DISTINCT {name} {source} ORDER BY {name}")
    code, params = _code(name, names)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT group_concat({code}) {source}", params)
        codes = cursor.fetchone()
    return names, np.fromstring(codes[0] if codes else "", dtype=np.int64, sep=","), columns


# SQLite: Django's "YYYY-MM-DD HH:MM:SS[.ffffff]" UTC text as microseconds since 1970 ("%%":
# Django formats every query run with parameters, and _read passes them).
SQLITE_MICROS = (
    "CAST(strftime('%%s', placed_at) AS INTEGER) * 1000000 "
    "+ CAST(substr(placed_at || '.000000', 21, 6) AS INTEGER)"
)


# What one rebuild has read (see ``reads_shared``); None outside a rebuild.
_READ: ContextVar[dict[str, Any] | None] = ContextVar("customers_rebuild_reads", default=None)


@contextmanager
def reads_shared() -> Iterator[None]:
    """Within this block (``analytics.tuned``, one rebuild in one transaction), the orders and
    lines are read once and shared by every rollup computed from them: a rebuild writes only the
    rollup tables, never the orders, so a second read would return the same rows. Nested blocks
    share the outermost one's reads; they are dropped when it ends."""
    if _READ.get() is not None:
        yield
        return
    token = _READ.set({})
    try:
        yield
    finally:
        _READ.reset(token)


def _orders_source() -> Source:
    placed = "placed_at" if _pg() else SQLITE_MICROS
    numbers = ["id", "COALESCE(customer_id, 0)", placed, _money("total"), _money("refunded_amount")]
    return "channel", numbers, "customers_order", f"status <> '{CANCELLED}'"


def _lines_source() -> Source:
    return "category", ["order_id", _money("amount")], "customers_orderline", ""


def orders_read() -> Orders:
    """The live orders, sorted by id (read once per rebuild, see ``reads_shared``). Within a
    rebuild on PostgreSQL that has written nothing yet, the lines are read at the same time on a
    second connection (``columnar.read_side_by_side``), for ``lines_read``, and the stored
    category affinity after the orders, for ``_top_categories`` (used only if the rebuild has not
    rewritten it by then)."""
    shared = _READ.get()
    if shared is not None and "orders" in shared:
        found: Orders = shared["orders"]
        return found
    prefetched = None
    if shared is not None and _pg():
        # Orders then the stored affinity on one connection, the lines (the longest) on another.
        both = _pg_side_by_side([[_orders_source(), _affinity_source()], [_lines_source()]])
        if both is not None:
            (prefetched, shared["affinity_prefetched"]), (shared["lines_prefetched"],) = both
    orders = _orders_read(prefetched)
    if shared is not None:
        shared["orders"] = orders
    return orders


def _orders_read(prefetched: Prefetched | None = None) -> Orders:
    channels, channel, columns = _read(*_orders_source(), prefetched=prefetched)
    if _pg():
        columns[2] = columns[2] + PG_EPOCH_US
    order = columns[0].argsort(kind="stable")
    ids, customer, micros, total, refunded = (column[order] for column in columns)
    return Orders(ids, customer, channel[order], micros, total, refunded, channels)


def lines_read(orders: Orders) -> Lines:
    """The lines of ORDERS, each joined to its order by ``searchsorted`` on the sorted ids (read
    once per rebuild, see ``reads_shared``)."""
    shared = _READ.get()
    if shared is not None and "lines" in shared and shared["lines"][0] is orders:
        found: Lines = shared["lines"][1]
        return found
    lines = _lines_read(orders, shared.pop("lines_prefetched", None) if shared is not None else None)
    if shared is not None:
        shared["lines"] = (orders, lines)
    return lines


def _lines_read(orders: Orders, prefetched: Prefetched | None = None) -> Lines:
    categories, category, (order_id, amount) = _read(*_lines_source(), prefetched=prefetched)
    position = np.searchsorted(orders.id, order_id)
    position = np.minimum(position, max(len(orders.id) - 1, 0))
    live = orders.id[position] == order_id if len(orders.id) else np.zeros(len(order_id), dtype=np.bool_)
    return Lines(order=position[live], category=category[live], amount=amount[live], categories=categories)


# --- Aggregating ---------------------------------------------------------------------------------


def _groups(key: Ints) -> tuple[Ints, Ints]:
    """The distinct keys (sorted) and each row's group number. Keys are small non-negative
    integers (cells of month × channel × category), so a bincount maps them without sorting."""
    present = np.bincount(key) > 0 if len(key) else np.zeros(0, dtype=np.bool_)
    number = np.cumsum(present) - 1
    return np.nonzero(present)[0].astype(np.int64), number[key].astype(np.int64)


def _distinct_per_group(group: Ints, groups: int, member: Ints) -> Ints:
    """How many distinct MEMBER values each group has (members < 0 do not count): the distinct
    (member, group) pairs, found by one sort (numpy's hashing unique was slower here). The pairs
    are keyed member first and sorted with timsort, which runs in about linear time when the
    members come in order (the lines of an order are read together, so counting orders per cell
    is then nearly free); in random order it costs about as much as any sort."""
    keep = member >= 0
    width = max(groups, 1)
    if int(member.max(initial=0)) >= (1 << 62) // width:  # the packed key would overflow
        members, in_groups = member[keep], group[keep]
        order = np.lexsort((in_groups, members))
        ordered = np.stack([members[order], in_groups[order]])
        new = np.r_[True, (ordered[:, 1:] != ordered[:, :-1]).any(axis=0)] if len(order) else order > 0
        return np.bincount(ordered[1][new], minlength=groups).astype(np.int64)
    pairs = np.sort(member[keep] * width + group[keep], kind="stable")
    first = np.ones(len(pairs), dtype=np.bool_)
    first[1:] = pairs[1:] != pairs[:-1]
    counts: Ints = np.bincount(pairs[first] % width, minlength=groups).astype(np.int64)
    return counts


def _sum(group: Ints, groups: int, values: Ints | Floats) -> Floats:
    # Integer sums stay below 2**53 (ten-thousandths of 10,000,000 orders' revenue), so exact.
    sums: Floats = np.bincount(group, weights=values.astype(np.float64), minlength=groups).astype(np.float64)
    return sums


def _money_out(units: Floats) -> list[Any]:
    """Ten-thousandths as the SQL path stores them. PostgreSQL: Decimal dollars rounded to the
    cent half away from zero, as ``numeric(…, 2)`` rounds on insert. SQLite: the float value
    unrounded, as SQL's REAL arithmetic leaves it (Django rounds it to the cent when reading)."""
    if not _pg():
        values: list[Any] = (units / UNIT).tolist()
        return values
    cents = np.floor(np.abs(units) / CENT + 0.5) * np.sign(units)
    return [Decimal(int(c)).scaleb(-2) for c in cents]


def _month_date(month: int) -> date:
    return date(1970 + month // 12, month % 12 + 1, 1)


SalesRow = tuple[date, str, str, int, Any, Any, int]


def sales_rows(orders: Orders, lines: Lines) -> list[SalesRow]:
    """SalesMonth rows of every month: month × channel × category, month × category (channel
    "*"), month × channel and month (category "*"); as ``analytics.sales_months_rebuild``."""
    month = orders.months()
    first_month = int(month.min(initial=0))
    month = month - first_month  # keys from 0, for _groups
    n_channels, n_categories = len(orders.channels) + 1, len(lines.categories) + 1
    everyone = n_channels - 1  # the "*" channel / category codes
    customer = np.where(orders.customer > 0, orders.customer, -1)
    rows: list[SalesRow] = []

    def level(keys: Ints, order_pos: Ints, revenue: Ints, refunds: Floats, count_pairs: bool) -> None:
        unique, group = _groups(keys)
        count = len(unique)
        orders_n = (
            _distinct_per_group(group, count, order_pos)
            if count_pairs
            else np.bincount(group, minlength=count).astype(np.int64)
        )
        customers_n = _distinct_per_group(group, count, customer[order_pos])
        revenue_sum, refund_sum = (
            _money_out(_sum(group, count, revenue)),
            _money_out(_sum(group, count, refunds)),
        )
        for i, key in enumerate(unique.tolist()):
            cell, category = divmod(key, n_categories)
            m, channel = divmod(cell, n_channels)
            rows.append(
                (
                    _month_date(first_month + m),
                    ALL if channel == everyone else orders.channels[channel],
                    ALL if category == n_categories - 1 else lines.categories[category],
                    int(orders_n[i]),
                    revenue_sum[i],
                    refund_sum[i],
                    int(customers_n[i]),
                )
            )

    # Lines: a line's share of its order's refund, by amount; zero-total orders refund nothing.
    total = orders.total[lines.order]
    # One rounding: the product is exact in float64 below 2**53 (amounts up to about $9,000 each).
    product = lines.amount.astype(np.float64) * orders.refunded[lines.order]
    share = np.where(total > 0, product / np.maximum(total, 1), 0.0)
    line_month = month[lines.order]
    for channel in (orders.channel[lines.order], np.full(len(lines.order), everyone, dtype=np.int64)):
        level(
            (line_month * n_channels + channel) * n_categories + lines.category,
            lines.order,
            lines.amount,
            share,
            True,
        )
    # Orders: revenue and refunds are the order totals.
    positions = np.arange(len(orders.id), dtype=np.int64)
    refunded = orders.refunded.astype(np.float64)
    for channel in (orders.channel, np.full(len(orders.id), everyone, dtype=np.int64)):
        level(
            (month * n_channels + channel) * n_categories + n_categories - 1,
            positions,
            orders.total,
            refunded,
            False,
        )
    return rows


def sales_months_write(rows: list[SalesRow]) -> None:
    """Replace every SalesMonth row with ROWS (small: months × channels × categories)."""
    from customers.analytics import ROLLUP_COLUMNS

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_salesmonth")
    _insert(
        "customers_salesmonth",
        ROLLUP_COLUMNS,
        [row if _pg() else (row[0].isoformat(), *row[1:]) for row in rows],
    )


# --- RFM -----------------------------------------------------------------------------------------


def ntile(order: Ints, buckets: int = 5) -> Ints:
    """NTILE(BUCKETS) of each row, ORDER being the row positions in ranked order (as SQL: the
    first ``n % buckets`` buckets hold one row more)."""
    n = len(order)
    size, bigger = divmod(n, buckets)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n, dtype=np.int64)
    first_small = bigger * (size + 1)
    return (
        np.where(
            rank < first_small, rank // (size + 1), bigger + (rank - first_small) // max(size, 1)
        ).astype(np.int64)
        + 1
    )


def segments_of(r: Ints, f: Ints, m: Ints) -> Ints:
    """Positions in SEGMENTS, by the rules of ``analytics.SEGMENT_CASE`` (first match wins)."""
    rules = [
        (r >= 4) & (f >= 4) & (m >= 4),
        (r >= 3) & (f >= 4),
        (r >= 4) & (f <= 1),
        (r >= 3) & (f >= 2),
        (r <= 2) & (f >= 3),
        (r <= 1) & (f <= 2),
    ]
    return np.select(rules, list(range(len(rules))), default=len(rules)).astype(np.int64)


@dataclass
class Scores:
    """One CustomerMetrics row per customer with a live order, as columns."""

    customer: Ints
    n: Ints
    gross: Ints  # ten-thousandths
    refunds: Ints
    first: Ints  # position in Orders of the first order
    last: Ints
    channel: Ints  # position in Orders.channels
    r: Ints
    f: Ints
    m: Ints
    segment: Ints


def scores_of(orders: Orders) -> Scores:
    """Per-customer figures, preferred channel, NTILE quintiles and segment (as ``scores_rebuild``)."""
    mine = np.nonzero(orders.customer > 0)[0]
    # Orders by customer, then time: the first and last of each customer are at the group edges.
    ranked = mine[np.lexsort((orders.placed[mine], orders.customer[mine]))]
    customer_of = orders.customer[ranked]
    starts = np.nonzero(np.diff(customer_of, prepend=-1))[0]
    ends = np.append(starts[1:], len(ranked))[: len(starts)] - 1
    group = np.cumsum(np.diff(customer_of, prepend=-1) != 0) - 1
    count = len(starts)
    customer = customer_of[starts]
    n = np.bincount(group, minlength=count).astype(np.int64)
    gross = np.rint(_sum(group, count, orders.total[ranked])).astype(np.int64)
    refunds = np.rint(_sum(group, count, orders.refunded[ranked])).astype(np.int64)
    # Orders per offered channel; the most wins, a tie the first by name; none offered: MIN(channel).
    offered = np.asarray([CHANNELS.index(c) if c in CHANNELS else -1 for c in orders.channels] + [-1])
    slot = offered[orders.channel[ranked]]
    per_channel = np.bincount(
        group[slot >= 0] * len(CHANNELS) + slot[slot >= 0], minlength=count * len(CHANNELS)
    ).reshape(count, len(CHANNELS))
    top = per_channel.argmax(axis=1)
    lowest = np.minimum.reduceat(orders.channel[ranked], starts) if count else np.zeros(0, dtype=np.int64)
    offered_code = np.asarray([orders.channels.index(c) if c in orders.channels else -1 for c in CHANNELS])
    channel = np.where(per_channel.max(axis=1, initial=0) > 0, offered_code[top], lowest)
    last_at = orders.placed[ranked[ends]]
    ltv = gross - refunds
    r = ntile(np.lexsort((customer, last_at)))
    f = ntile(np.lexsort((customer, last_at, n)))
    m = ntile(np.lexsort((customer, ltv)))
    return Scores(
        customer=customer,
        n=n,
        gross=gross,
        refunds=refunds,
        first=ranked[starts],
        last=ranked[ends],
        channel=channel.astype(np.int64),
        r=r,
        f=f,
        m=m,
        segment=segments_of(r, f, m),
    )


def _top_categories(customers: Ints) -> tuple[Ints, list[str]]:
    """The top category of each of CUSTOMERS (sorted ids) from the stored affinity, as a code
    into the returned names (-1: none): most spend, a tie the first by name in the database's
    collation (as ``analytics.TOP_CATEGORY``)."""
    shared = _READ.get()
    prefetched = shared.pop("affinity_prefetched", None) if shared is not None else None
    if prefetched is not None and not _pg_unchanged("customers_categoryaffinity"):
        prefetched = None  # rewritten since (the nightly rebuild computes it first): read it again
    categories, category, (customer, spend) = _read(*_affinity_source(), prefetched=prefetched)
    ranked = np.lexsort((category, -spend, customer))
    first = ranked[np.nonzero(np.diff(customer[ranked], prepend=-1))[0]]
    at = np.minimum(np.searchsorted(customer[first], customers), max(len(first) - 1, 0))
    found = (customer[first][at] == customers) if len(first) else np.zeros(len(customers), dtype=np.bool_)
    return np.where(found, category[first][at] if len(first) else -1, -1).astype(np.int64), categories


def scores_write(orders: Orders, scores: Scores, *, now: datetime, keep_previous: bool = False) -> int:
    """Replace every CustomerMetrics row with SCORES; returns the rows written.

    The segment movement columns follow ``customers.analytics.scores_rebuild``: the segment the
    last rebuild gave (``rebuilt_segment``) becomes ``previous_segment`` and the new segment becomes
    ``rebuilt_segment``; with KEEP_PREVIOUS (a refresh between two nightly rebuilds) both are kept.

    PostgreSQL: the rows go by binary COPY (fixed-width: ids, codes, cents, microseconds) into a
    temporary table and become CustomerMetrics in one ``INSERT … SELECT`` that names the codes,
    makes the money exact ``numeric`` and joins the previous segments (psycopg's row-by-row COPY
    cost more than the whole computation). SQLite: one executemany.
    """
    from customers.analytics import METRICS_COLUMNS, _param

    top, categories = _top_categories(scores.customer)
    count = len(scores.customer)
    if _pg():
        _pg_scores_write(orders, scores, top, categories, now=now, keep_previous=keep_previous)
        return count
    with connection.cursor() as cursor:
        cursor.execute("SELECT customer_id, previous_segment, rebuilt_segment FROM customers_customermetrics")
        before = {customer: (previous, rebuilt) for customer, previous, rebuilt in cursor.fetchall()}
        cursor.execute("DELETE FROM customers_customermetrics")
    customers = scores.customer.tolist()
    segments = [SEGMENTS[s] for s in scores.segment.tolist()]
    kept = [before.get(c, ("", "")) for c in customers]
    if keep_previous:
        previous_column, rebuilt_column = [k[0] for k in kept], [k[1] for k in kept]
    else:
        previous_column, rebuilt_column = [k[1] for k in kept], segments
    gross, refunds = scores.gross.astype(np.float64), scores.refunds.astype(np.float64)
    money = [
        _money_out(gross),
        _money_out(refunds),
        _money_out(gross - refunds),
        _money_out(gross / np.maximum(scores.n, 1)),
    ]
    placed = _times(orders.placed[scores.first]), _times(orders.placed[scores.last])
    rows = list(
        zip(
            customers,
            scores.n.tolist(),
            *money,
            *placed,
            [orders.channels[c] for c in scores.channel.tolist()],
            [categories[c] if c >= 0 else "" for c in top.tolist()],
            scores.r.tolist(),
            scores.f.tolist(),
            scores.m.tolist(),
            segments,
            previous_column,
            rebuilt_column,
            [_param(now)] * count,
            strict=True,
        )
    )
    _insert("customers_customermetrics", METRICS_COLUMNS, rows)
    return count


def pg_copy_in(table: str, columns: list[tuple[str, Ints]]) -> None:
    """COPY fixed-width COLUMNS ((">i8"/">i4", values) pairs, none NULL) into TABLE in
    PostgreSQL's binary format, built by numpy in one buffer."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    for i, (kind, _) in enumerate(columns):
        fields += [(f"len{i}", ">i4"), (f"v{i}", kind)]
    rows = np.empty(len(columns[0][1]), dtype=np.dtype(fields))
    rows["count"] = len(columns)
    for i, (kind, values) in enumerate(columns):
        rows[f"len{i}"] = np.dtype(kind).itemsize
        rows[f"v{i}"] = values
    header = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} FROM STDIN (FORMAT binary)") as copy,
    ):
        copy.write(header + rows.tobytes() + b"\xff\xff")


def _pg_scores_write(
    orders: Orders, scores: Scores, top: Ints, categories: list[str], *, now: datetime, keep_previous: bool
) -> None:
    from customers.analytics import METRICS_COLUMNS

    cents = CENT
    gross, refunds = scores.gross // cents, scores.refunds // cents  # sums of cents: exact
    n = np.maximum(scores.n, 1)
    basket = (2 * gross + n) // (2 * n)  # half up, as numeric(14, 2) rounds gross / n
    staging = (
        "customer_id int8, n int8, gross int8, refunds int8, basket int8, first_at timestamptz, "
        "last_at timestamptz, channel int4, top int4, r int4, f int4, m int4, segment int4"
    )
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS tmp_scores_in")
        cursor.execute("DROP TABLE IF EXISTS tmp_previous_segment")
        cursor.execute(f"CREATE TEMP TABLE tmp_scores_in ({staging})")
        cursor.execute(
            "CREATE TEMP TABLE tmp_previous_segment AS "
            "SELECT customer_id, previous_segment AS previous, rebuilt_segment AS rebuilt "
            "FROM customers_customermetrics"
        )
    pg_copy_in(
        "tmp_scores_in",
        [
            (">i8", scores.customer),
            (">i8", scores.n),
            (">i8", gross),
            (">i8", refunds),
            (">i8", basket),
            (">i8", orders.placed[scores.first] - PG_EPOCH_US),
            (">i8", orders.placed[scores.last] - PG_EPOCH_US),
            (">i4", scores.channel),
            (">i4", top),
            (">i4", scores.r),
            (">i4", scores.f),
            (">i4", scores.m),
            (">i4", scores.segment),
        ],
    )
    if keep_previous:
        kept = "COALESCE(p.previous, ''), COALESCE(p.rebuilt, '')"
    else:
        kept = "COALESCE(p.rebuilt, ''), (%s::text[])[s.segment + 1]"
    with connection.cursor() as cursor:
        # Every row is replaced: TRUNCATE (readers wait for the rebuild's commit) leaves no dead
        # rows for the insert to step over; DELETE made the insert take 10 s instead of 6 at
        # 1,000,000 customers.
        cursor.execute("TRUNCATE customers_customermetrics")  # nothing references it, it has no checks
        cursor.execute(
            f"INSERT INTO customers_customermetrics ({METRICS_COLUMNS}) "
            "SELECT s.customer_id, s.n, s.gross / 100.0, s.refunds / 100.0, (s.gross - s.refunds) / 100.0, "
            "s.basket / 100.0, s.first_at, s.last_at, (%s::text[])[s.channel + 1], "
            "COALESCE((%s::text[])[s.top + 1], ''), s.r, s.f, s.m, (%s::text[])[s.segment + 1], "
            f"{kept}, %s "
            "FROM tmp_scores_in s LEFT JOIN tmp_previous_segment p ON p.customer_id = s.customer_id",
            [orders.channels, categories, SEGMENTS, *([] if keep_previous else [SEGMENTS]), now],
        )
        cursor.execute("DROP TABLE tmp_scores_in")
        cursor.execute("DROP TABLE tmp_previous_segment")


def _times(micros: Ints) -> list[Any]:
    """Microseconds since 1970 as the database takes them: aware datetimes for PostgreSQL, for
    SQLite the text Django writes (``str`` of a naive UTC datetime: no fraction when it is zero)."""
    values = micros.astype("datetime64[us]").tolist()
    if _pg():
        return [value.replace(tzinfo=UTC) for value in values]
    return [str(value) for value in values]


def _insert(table: str, columns: str, rows: list[tuple[Any, ...]]) -> None:
    """Append ROWS to TABLE: PostgreSQL by COPY (psycopg writes the rows in C), SQLite by one
    executemany; both inside the caller's transaction."""
    if not rows:
        return
    with connection.cursor() as cursor:
        if _pg():
            with cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
            return
        marks = ", ".join(["%s"] * len(rows[0]))
        cursor.executemany(f"INSERT INTO {table} ({columns}) VALUES ({marks})", rows)


# --- Category affinity and cohorts ---------------------------------------------------------------


def affinity_write(orders: Orders, lines: Lines) -> int:
    """Replace CategoryAffinity: each customer's spend and share per category (blank categories
    left out, as ``analytics.affinity_rebuild``); returns the rows written. The share is rounded
    to ``decimal(5, 4)`` in integers (half up, as PostgreSQL rounds) on PostgreSQL; SQLite keeps
    SQL's unrounded REAL."""
    customer = orders.customer[lines.order]
    named = [i for i, name in enumerate(lines.categories) if name != ""]
    keep = (customer > 0) & np.isin(lines.category, named)
    width = len(lines.categories)
    pair = customer[keep] * width + lines.category[keep]
    unique, group = np.unique(pair, return_inverse=True)
    spend = np.rint(_sum(group.astype(np.int64), len(unique), lines.amount[keep])).astype(np.int64)
    who = unique // width
    starts = np.nonzero(np.diff(who, prepend=-1))[0]
    per_customer = np.add.reduceat(spend, starts) if len(starts) else np.zeros(0, dtype=np.int64)
    total = np.repeat(per_customer, np.diff(np.append(starts, len(who))))
    if _pg():
        # Binary COPY of codes and integers into a staging table, named and made numeric by
        # PostgreSQL in one INSERT … SELECT (about six rows per customer: millions at full size).
        share = np.where(total > 0, (spend * 20_000 + total) // np.maximum(2 * total, 1), 0)
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS tmp_affinity_in")
            cursor.execute(
                "CREATE TEMP TABLE tmp_affinity_in (customer_id int8, category int4, spend int8, share int8)"
            )
        pg_copy_in(
            "tmp_affinity_in",
            [(">i8", who), (">i4", unique % width), (">i8", spend // CENT), (">i8", share)],
        )
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM customers_categoryaffinity")
            cursor.execute(
                "INSERT INTO customers_categoryaffinity (customer_id, category, spend, share) "
                "SELECT customer_id, (%s::text[])[category + 1], spend / 100.0, share / 10000.0 "
                "FROM tmp_affinity_in",
                [lines.categories],
            )
            cursor.execute("DROP TABLE tmp_affinity_in")
        return len(who)
    shares = np.where(total > 0, spend / np.maximum(total, 1), 0.0).tolist()
    rows = list(
        zip(
            who.tolist(),
            [lines.categories[c] for c in (unique % width).tolist()],
            _money_out(spend.astype(np.float64)),
            shares,
            strict=True,
        )
    )
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_categoryaffinity")
    _insert("customers_categoryaffinity", "customer_id, category, spend, share", rows)
    return len(rows)


def cohorts_write(orders: Orders) -> int:
    """Replace CohortMonth: per (month of first order, month) the customers active and their net
    revenue (as ``analytics.cohorts_rebuild``); returns the rows written."""
    mine = orders.customer > 0
    customer, month = orders.customer[mine], orders.months()[mine]
    net = (orders.total - orders.refunded)[mine]
    first_month = int(month.min(initial=0))
    span = int(month.max(initial=0)) - first_month + 1
    active = customer * span + (month - first_month)
    unique, group = np.unique(active, return_inverse=True)
    net_sum = _sum(group.astype(np.int64), len(unique), net)
    who, when = unique // span, unique % span
    starts = np.nonzero(np.diff(who, prepend=-1))[0]
    cohort = np.repeat(when[starts], np.diff(np.append(starts, len(who))))
    cell = cohort * span + when
    cells, cell_group = np.unique(cell, return_inverse=True)
    customers = np.bincount(cell_group, minlength=len(cells))
    revenue = _money_out(_sum(cell_group.astype(np.int64), len(cells), net_sum))
    rows: list[tuple[Any, ...]] = [
        (
            _month_date(first_month + c // span),
            _month_date(first_month + c % span),
            int(n),
            r,
        )
        for c, n, r in zip(cells.tolist(), customers.tolist(), revenue, strict=True)
    ]
    if not _pg():
        rows = [(a.isoformat(), b.isoformat(), n, r) for a, b, n, r in rows]
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM customers_cohortmonth")
    _insert("customers_cohortmonth", "cohort, month, customers, revenue", rows)
    return len(rows)
