"""Integer columns read out of the database as numpy arrays, without a Python object per value.

The full rebuilds of the report rollups (``customers.analytics_arrays``, ``service.rollup_batch``)
read millions of rows. Through ``cursor.fetchall()`` every value becomes a Python object, and on
PostgreSQL even a binary ``COPY`` hands Python one message per row; either way that, not the
database, was most of the rebuild's time. Here the database packs the rows first:

- **PostgreSQL**: ``COPY (SELECT array_agg(c0), array_agg(c1), … GROUP BY c0 >> 20) TO STDOUT
  (FORMAT binary)``: each chunk of 2^20 keys travels as one row of arrays, parsed by
  ``numpy.frombuffer`` as one strided record array per array. Every aggregate of a group consumes
  the group's rows in the same order, so the arrays of a chunk stay aligned.
- **SQLite**: one ``group_concat`` per column in a single scan (the aggregates of a row step
  together, so the columns stay aligned), parsed by ``numpy.fromstring``.

The columns must be NOT NULL integers (map NULL to a sentinel with ``COALESCE``, flags to 0/1 with
``CASE``); the first is an integer key that groups the chunks (an id).
"""

# S608: the SQL is assembled from the caller's SQL and generated aliases; values are parameters.
# ruff: noqa: S608

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from django.db import connection
from django.db.models import QuerySet

Ints = npt.NDArray[np.int64]

CHUNK_BITS = 20  # PostgreSQL: keys per row of arrays, as a power of two


def pg_copy_arrays(sql: str, params: Sequence[Any], kinds: Sequence[str]) -> list[Ints]:
    """Run ``COPY (SQL) TO STDOUT (FORMAT binary)``, SQL returning rows of integer arrays (one per
    KIND, the binary element type "i8" or "i4", none NULL), and return each column of arrays
    concatenated as int64.

    Binary COPY: a 19-byte header, then per row a 2-byte field count (-1 ends the data) and per
    field a 4-byte length and the value; an int array is a 20-byte header (dimensions, flags,
    element type, size, lower bound) and its elements as (4-byte length, value) pairs, which
    ``numpy.frombuffer`` reads as one strided record array.
    """
    data = bytearray()
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor under Django's wrapper
        with raw.copy(f"COPY ({sql}) TO STDOUT (FORMAT binary)", list(params)) as copy:
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
            position += 4 + length
    return [np.concatenate(p) if p else np.zeros(0, dtype=np.int64) for p in parts]


def int_columns(sql: str, params: Sequence[Any], width: int) -> list[Ints]:
    """The WIDTH integer columns of the query SQL (NOT NULL, the first an integer key), each as an
    int64 array in the same row order."""
    names = [f"c{i}" for i in range(width)]
    rows = f"WITH q({', '.join(names)}) AS ({sql})"
    if connection.vendor == "postgresql":
        arrays = ", ".join(f"array_agg({name}::int8)" for name in names)
        return pg_copy_arrays(
            f"{rows} SELECT {arrays} FROM q GROUP BY c0 >> {CHUNK_BITS}", params, ["i8"] * width
        )
    concat = ", ".join(f"group_concat({name})" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(f"{rows} SELECT COUNT(*), {concat} FROM q", list(params))
        row = cursor.fetchone()
    if row is None or not row[0]:
        return [np.zeros(0, dtype=np.int64) for _ in names]
    return [np.fromstring(text, dtype=np.int64, sep=",") for text in row[1:]]


def queryset_columns(queryset: QuerySet[Any]) -> list[Ints]:
    """The columns of a ``values_list`` QUERYSET of NOT NULL integer expressions (see int_columns)."""
    sql, params = queryset.query.sql_with_params()
    return int_columns(sql, params, len(queryset.query.values_select) + len(queryset.query.annotation_select))
