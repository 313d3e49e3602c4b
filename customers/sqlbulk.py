"""Many plain rows into one table with multi-row ``INSERT`` statements, without building a model
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
    model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *, batch_size: int = 1000
) -> int:
    """Insert ROWS (values in the order of FIELDS, model field names) into MODEL's table; returns the
    count. One multi-row ``INSERT … VALUES (…), (…)`` per batch (within the database's parameter
    limit; on PostgreSQL ``INSERT … SELECT * FROM UNNEST(arrays)``), values prepared as the ORM
    would (datetimes adapted); no signals, no ``save()``. Runs in the caller's transaction."""
    connection = connections[DEFAULT_DB_ALIAS]
    meta = model._meta
    columns: list[Any] = [meta.get_field(name) for name in fields]
    quote = connection.ops.quote_name
    names = ", ".join(quote(str(column.column)) for column in columns)
    head = f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES "  # noqa: S608 (names from the model)
    one = "(" + ", ".join(["%s"] * len(columns)) + ")"
    limit = connection.features.max_query_params
    per_statement = min(batch_size, limit // len(columns)) if limit else batch_size
    preparers = [_preparer(column, connection) for column in columns]
    iterator = iter(rows)
    total = 0
    if connection.vendor == "postgresql":
        # One statement per batch with one array parameter per column (as Django's own bulk_create
        # does on PostgreSQL): no per-row placeholders for the driver to parse.
        casts = ", ".join(f"%s::{column.db_type(connection)}[]" for column in columns)
        sql = f"{head.removesuffix(' VALUES ')} SELECT * FROM UNNEST({casts})"  # noqa: S608 (as above)
        with connection.cursor() as cursor:
            while batch := list(islice(iterator, batch_size * 10)):
                arrays = [
                    [row[i] if prep is None else prep(row[i]) for row in batch]
                    for i, prep in enumerate(preparers)
                ]
                cursor.execute(sql, arrays)
                total += len(batch)
        return total
    with connection.cursor() as cursor:
        while batch := list(islice(iterator, per_statement)):
            params: list[Any] = []
            for row in batch:
                params += [
                    value if prep is None else prep(value) for prep, value in zip(preparers, row, strict=True)
                ]
            cursor.execute(head + ", ".join([one] * len(batch)), params)
            total += len(batch)
    return total
