"""Many plain rows into one table through the driver's ``executemany``, without building a model
instance per row. For append-only bookkeeping (export lines, access-log rows) written in bulk, where
``bulk_create`` spends most of its time constructing instances (``bench/bench_privacy.py``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import islice
from typing import Any, cast

from django.db import connection, models


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *, batch_size: int = 2000
) -> int:
    """Insert ROWS (values in the order of FIELDS, model field names) into MODEL's table; returns the
    count. Values are prepared by each field, as the ORM would; no signals, no ``save()``."""
    meta = model._meta
    columns = [cast("models.Field[Any, Any]", meta.get_field(name)) for name in fields]
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(columns))
    names = ", ".join(quote(str(column.column)) for column in columns)
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders})"  # noqa: S608 (names from the model)
    preparers = [column.get_db_prep_value for column in columns]
    iterator = iter(rows)
    total = 0
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, batch_size)):
            cursor.executemany(
                sql,
                [
                    [prep(value, connection, False) for prep, value in zip(preparers, row, strict=True)]
                    for row in batch
                ],
            )
            total += len(batch)
    return total
