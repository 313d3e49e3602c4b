"""Many plain rows into one table through the driver's ``executemany``, without building a model
instance per row. For append-only bookkeeping (export lines, access-log rows) written in bulk, where
``bulk_create`` spends most of its time constructing instances (``bench/bench_privacy.py``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from itertools import islice
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections, models

# Values of these fields go to the driver as they are (ints, bools, text; None is NULL).
_AS_IS = (models.IntegerField, models.BooleanField, models.CharField, models.TextField, models.ForeignKey)


def _preparer(field: Any, connection: Any) -> Callable[[Any], Any] | None:
    if isinstance(field, _AS_IS):
        return None
    if isinstance(field, models.DateTimeField):
        return connection.ops.adapt_datetimefield_value  # type: ignore[no-any-return]
    return lambda value: field.get_db_prep_value(value, connection, False)


def insert_rows(
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *, batch_size: int = 2000
) -> int:
    """Insert ROWS (values in the order of FIELDS, model field names) into MODEL's table; returns the
    count. Values are prepared as the ORM would (datetimes adapted for the database); no signals,
    no ``save()``. Runs in the caller's transaction."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    columns: list[Any] = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(columns))
    names = ", ".join(quote(str(column.column)) for column in columns)
    sql = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES ({placeholders})"  # noqa: S608 (names from the model)
    preparers = [_preparer(column, connection) for column in columns]
    plain = all(p is None for p in preparers)
    iterator = iter(rows)
    total = 0
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, batch_size)):
            if plain:
                values: list[Any] = batch
            else:
                values = [
                    [
                        value if prep is None else prep(value)
                        for prep, value in zip(preparers, row, strict=True)
                    ]
                    for row in batch
                ]
            cursor.executemany(sql, values)
            total += len(batch)
    return total
