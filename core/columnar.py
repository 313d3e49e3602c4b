"""Integer columns read out of the database as numpy arrays, without a Python object per value.

The full rebuilds of the report rollups (``customers.analytics_arrays``, ``service.rollup_batch``)
read millions of rows. Through ``cursor.fetchall()`` every value becomes a Python object, and on
PostgreSQL even a binary ``COPY`` hands Python one message per row; either way that, not the
database, was most of the rebuild's time. Here the database packs the rows first:

- **PostgreSQL**: ``COPY (SELECT array_agg(c0), array_agg(c1), … ) TO STDOUT (FORMAT binary)``:
  the rows travel as one row of arrays, parsed by ``numpy.frombuffer`` as one strided record array
  per array. Every aggregate consumes the rows in the same order, so the arrays stay aligned.
- **SQLite**: one ``group_concat`` per column in a single scan (the aggregates of a row step
  together, so the columns stay aligned), parsed by ``numpy.fromstring``.

The columns must be NOT NULL integers (map NULL to a sentinel with ``COALESCE``, flags to 0/1 with
``CASE``; several small ones can share one 64-bit value) or datetimes.
"""

# S608: the SQL is assembled from the caller's SQL and generated aliases; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import QuerySet

Ints = npt.NDArray[np.int64]


def pg_copy_bytes(sql: str, params: Sequence[Any], raw: Any = None) -> bytearray:
    """The binary COPY output of the query SQL. RAW: a psycopg connection to use instead of
    Django's (see ``read_ahead``)."""
    data = bytearray()
    statement = f"COPY ({sql}) TO STDOUT (FORMAT binary)"
    with connection.cursor() if raw is None else raw.cursor() as cursor:
        psycopg_cursor = cursor.cursor if raw is None else cursor  # Django's wrapper holds it
        with psycopg_cursor.copy(statement, list(params)) as copy:
            for block in copy:
                data += block
    return data


def pg_parse_arrays(data: bytearray, kinds: Sequence[str]) -> list[Ints]:
    """Binary COPY DATA of rows of integer arrays (one per KIND, "i8" or "i4", elements not NULL)
    as one int64 column per KIND, the rows' arrays concatenated.

    Binary COPY: a 19-byte header, then per row a 2-byte field count (-1 ends the data) and per
    field a 4-byte length (-1: NULL, as an aggregate over no rows is) and the value; an int array
    is a 20-byte header (dimensions, flags, element type, size, lower bound) and its elements as
    (4-byte length, value) pairs, which ``numpy.frombuffer`` reads as one strided record array.
    """
    parts: list[list[Ints]] = [[] for _ in kinds]
    position = 19
    while (
        position + 2 <= len(data) and int.from_bytes(data[position : position + 2], "big", signed=True) >= 0
    ):
        position += 2
        for i, kind in enumerate(kinds):
            length = int.from_bytes(data[position : position + 4], "big", signed=True)
            if length >= 20:  # an empty array is only its 12-byte header
                size = int.from_bytes(data[position + 16 : position + 20], "big", signed=True)
                element = np.dtype([("length", ">i4"), ("value", f">{kind}")])
                values = np.frombuffer(data, dtype=element, count=size, offset=position + 24)["value"]
                parts[i].append(values.astype(np.int64))
            position += 4 + max(length, 0)
    return [np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for p in parts]


# SQLite keeps a datetime as Django's UTC text "YYYY-MM-DD HH:MM:SS[.ffffff]": its microseconds
# since 1970 (whole seconds from the first 19 characters, as strftime would round a fraction up).
SQLITE_MICROS = (
    "(CAST(strftime('%%s', substr({0}, 1, 19)) AS INTEGER) * 1000000 "
    "+ CAST(substr({0} || '.000000', 21, 6) AS INTEGER))"
)
PG_EPOCH_US = 946_684_800 * 1_000_000  # 2000-01-01 UTC, PostgreSQL's binary timestamp origin


@dataclass(frozen=True)
class Read:
    """A read of integer columns, prepared: its SQL (arrays on PostgreSQL, one ``group_concat`` per
    column on SQLite) and each column's kind: "int" (int8 arrays on PostgreSQL), "i4" (int4 arrays),
    "time" (``timestamptz`` arrays: microseconds since 2000, shifted to 1970; SQLite gives
    microseconds since 1970 already)."""

    sql: str
    params: list[Any]
    kinds: list[str]

    def fetch(self, raw: Any = None) -> Any:
        """What the database returns (PostgreSQL: the COPY's bytes; RAW as in pg_copy_bytes)."""
        if connection.vendor == "postgresql":
            return pg_copy_bytes(self.sql, self.params, raw)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            return cursor.fetchone()

    def decode(self, fetched: Any) -> list[Ints]:
        if connection.vendor == "postgresql":
            columns = pg_parse_arrays(fetched, ["i4" if k == "i4" else "i8" for k in self.kinds])
            return [c + PG_EPOCH_US if k == "time" else c for c, k in zip(columns, self.kinds, strict=True)]
        if fetched is None or not fetched[0]:
            return [np.zeros(0, dtype=np.int64) for _ in self.kinds]
        return [np.fromstring(text, dtype=np.int64, sep=",") for text in fetched[1:]]

    def run(self, raw: Any = None) -> list[Ints]:
        return self.decode(self.fetch(raw))


def int_read(sql: str, params: Sequence[Any], kinds: Sequence[str]) -> Read:
    """The read of the columns of the query SQL, one per KIND: "int" for a NOT NULL integer, "time"
    for a NOT NULL datetime, returned as microseconds since 1970 UTC (PostgreSQL sends
    ``timestamptz`` as its own microseconds since 2000, SQLite's text is converted by the database).

    The rows come as one aggregate, so the caller bounds how many a query returns (PostgreSQL caps
    an array at 1 GB, about 89 million values); grouping them into chunks would make PostgreSQL
    sort the rows first.
    """
    names = [f"c{i}" for i in range(len(kinds))]
    rows = f"WITH q({', '.join(names)}) AS ({sql})"
    pairs = list(zip(names, kinds, strict=True))
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"array_agg({n})" if k == "time" else f"array_agg({n}::int8)" for n, k in pairs)
        return Read(f"{rows} SELECT {arrays} FROM q", list(params), list(kinds))
    concat = ", ".join(f"group_concat({SQLITE_MICROS.format(n) if k == 'time' else n})" for n, k in pairs)
    return Read(f"{rows} SELECT COUNT(*), {concat} FROM q", list(params), list(kinds))


def queryset_read(queryset: QuerySet[Any], kinds: Sequence[str]) -> Read:
    """The read of a ``values_list`` QUERYSET's columns, one per KIND (see int_read)."""
    sql, params = queryset.query.sql_with_params()
    return int_read(sql, params, kinds)


def queryset_columns(queryset: QuerySet[Any], kinds: Sequence[str]) -> list[Ints]:
    """The columns of a ``values_list`` QUERYSET, one per KIND, read now (see int_read)."""
    return queryset_read(queryset, kinds).run()


def read_ahead(batches: Iterator[Sequence[Read]]) -> Iterator[list[list[Ints]]]:
    """The columns of each batch of READS in turn. On PostgreSQL the next batch is read by a second
    thread while the caller works on the one yielded, through the same connection (so in the same
    transaction: it sees what the caller's transaction wrote), which the caller leaves alone until
    it asks for the next batch; the database computes while numpy parses and the caller works.
    BATCHES is consumed in the caller's thread (building a read compiles SQL)."""
    if connection.vendor != "postgresql":
        for batch in batches:
            yield [read.run() for read in batch]
        return
    connection.ensure_connection()
    raw = connection.connection

    def fetch(batch: Sequence[Read]) -> tuple[Sequence[Read], list[Any]]:
        return batch, [read.fetch(raw) for read in batch]

    def decoded(done: Future[tuple[Sequence[Read], list[Any]]]) -> list[list[Ints]]:
        batch, fetched = done.result()
        return [read.decode(data) for read, data in zip(batch, fetched, strict=True)]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="columnar-read") as pool:
        pending: Future[tuple[Sequence[Read], list[Any]]] | None = None
        for batch in batches:
            started = pool.submit(fetch, batch)
            if pending is not None:
                yield decoded(pending)  # parsed here while the database serves the next batch
            pending = started
        if pending is not None:
            yield decoded(pending)


def read_side_by_side(groups: Sequence[Sequence[Read]]) -> list[list[list[Ints]]] | None:
    """The columns of each group of READS, the groups read at the same time, each by a connection
    of its own that shares this transaction's snapshot (``pg_export_snapshot``): on two cores the
    database reads two tables at once. Only on PostgreSQL, inside a transaction that has written
    nothing yet (its own changes would be invisible to the other connections; then None, and the
    caller reads as usual). Parsing happens in the caller's thread."""
    # A snapshot can be exported only by the transaction itself, not from inside a savepoint.
    if connection.vendor != "postgresql" or not connection.in_atomic_block or any(connection.savepoint_ids):
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id_if_assigned() IS NULL")
        row = cursor.fetchone()
        if row is None or not row[0]:
            return None
        cursor.execute("SELECT pg_export_snapshot()")
        row = cursor.fetchone()
    from psycopg import sql as psycopg_sql  # PostgreSQL's driver, loaded only where it is used

    snapshot = str(row[0]) if row else ""
    settings = connection.get_connection_params()

    def fetch(group: Sequence[Read]) -> list[Any]:
        raw = connection.get_new_connection(settings)
        try:
            raw.autocommit = True
            raw.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            raw.execute(psycopg_sql.SQL("SET TRANSACTION SNAPSHOT {}").format(psycopg_sql.Literal(snapshot)))
            fetched = [read.fetch(raw) for read in group]
            raw.execute("COMMIT")
            return fetched
        finally:
            raw.close()

    with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="columnar-side") as pool:
        futures = [pool.submit(fetch, group) for group in groups]
        fetched = [future.result() for future in futures]
    return [
        [read.decode(data) for read, data in zip(group, results, strict=True)]
        for group, results in zip(groups, fetched, strict=True)
    ]
