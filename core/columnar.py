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

CHUNK_BITS = 20  # PostgreSQL: keys per row of arrays, as a power of two


def pg_copy_arrays(sql: str, params: Sequence[Any], kinds: Sequence[str], raw: Any = None) -> list[Ints]:
    """Run ``COPY (SQL) TO STDOUT (FORMAT binary)``, SQL returning rows of integer arrays (one per
    KIND, the binary element type "i8" or "i4", none NULL), and return each column of arrays
    concatenated as int64.

    Binary COPY: a 19-byte header, then per row a 2-byte field count (-1 ends the data) and per
    field a 4-byte length and the value; an int array is a 20-byte header (dimensions, flags,
    element type, size, lower bound) and its elements as (4-byte length, value) pairs, which
    ``numpy.frombuffer`` reads as one strided record array. An aggregate over no rows is NULL.

    RAW: a psycopg connection to use instead of Django's (see ``read_ahead``).
    """
    data = bytearray()
    statement = f"COPY ({sql}) TO STDOUT (FORMAT binary)"
    with connection.cursor() if raw is None else raw.cursor() as cursor:
        psycopg_cursor = cursor.cursor if raw is None else cursor  # Django's wrapper holds it
        with psycopg_cursor.copy(statement, list(params)) as copy:
            for block in copy:
                data += block
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
    """A read of integer columns, prepared: its SQL (one aggregate per column on PostgreSQL, one
    ``group_concat`` per column on SQLite) and how each column is decoded."""

    sql: str
    params: list[Any]
    kinds: list[str]

    def run(self, raw: Any = None) -> list[Ints]:
        if connection.vendor == "postgresql":
            columns = pg_copy_arrays(self.sql, self.params, ["i8"] * len(self.kinds), raw)
            return [c + PG_EPOCH_US if k == "time" else c for c, k in zip(columns, self.kinds, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, self.params)
            row = cursor.fetchone()
        if row is None or not row[0]:
            return [np.zeros(0, dtype=np.int64) for _ in self.kinds]
        return [np.fromstring(text, dtype=np.int64, sep=",") for text in row[1:]]


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
    it asks for the next batch; the database computes while numpy does. BATCHES is consumed in the
    caller's thread (building a read compiles SQL)."""
    if connection.vendor != "postgresql":
        for batch in batches:
            yield [read.run() for read in batch]
        return
    connection.ensure_connection()
    raw = connection.connection

    def run(batch: Sequence[Read]) -> list[list[Ints]]:
        return [read.run(raw) for read in batch]

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="columnar-read") as pool:
        pending: Future[list[list[Ints]]] | None = None
        for batch in batches:
            started = pool.submit(run, batch)
            if pending is not None:
                yield pending.result()
            pending = started
        if pending is not None:
            yield pending.result()
