"""Loading customers, orders and behavioural events in bulk (issue 7 item 1).

One path for every way in: the REST API (single and bulk), NDJSON/CSV files, the Shopify
webhook, the demo seed and the benchmark all end in :func:`load`.

1. Each record is checked in Python (:func:`check_customer`, :func:`check_order`,
   :func:`check_event`): the rules of the issue's "bad input" list live here and nowhere
   else. A bad record becomes a :class:`RowError` (line, field, message); nothing is fixed
   silently. Invalid e-mails and phone numbers are *kept as given* (the data-quality rules
   flag them), never refused or rewritten.
2. Good records are written to a temporary staging table: PostgreSQL ``COPY``, SQLite
   ``executemany``. No per-row ORM saves.
3. One set-based ``INSERT … SELECT … ON CONFLICT`` per table moves them into place. The
   source's own id is the conflict key, so a replayed file, API call or webhook is harmless:
   an order already present is not created again (only its status and refunds follow the
   source); lines already present are left alone; an anonymised customer is never revived.

Everything runs in the caller's transaction: with ``keep_good=False`` (all or nothing) any bad
record raises :class:`ImportRejected` before a row is written, and the caller's transaction
rolls back whatever an earlier chunk staged.
"""

# S608: the SQL here is assembled only from constants (table and column names, dialect
# fragments); every value is a bound parameter.
# ruff: noqa: S608

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import connection
from django.utils import timezone

from customers.models import BehaviourEvent, Channel, Customer, Order

CHUNK = 20_000
MAX_ERRORS_KEPT = 10_000
MAX_LINES_PER_ORDER = 500
CURRENCY = "HKD"
_MONEY_LIMIT = Decimal("1e12")
_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:\-/#@]{1,100}$")

CUSTOMER_TEXT = {
    "given_name": 100,
    "family_name": 100,
    "chinese_name": 50,
    "email": 254,
    "phone": 40,
    "address_line": 300,
    "district": 60,
}
CUSTOMER_FIELDS = frozenset({"external_id", *CUSTOMER_TEXT, "country", "tier", "first_seen_at"})
ORDER_FIELDS = frozenset(
    {
        "external_id",
        "customer_id",
        "channel",
        "status",
        "placed_at",
        "currency",
        "total",
        "refunded_amount",
        "lines",
    }
)
LINE_FIELDS = frozenset({"sku", "product", "category", "quantity", "unit_price", "amount"})
EVENT_FIELDS = frozenset(
    {"external_id", "customer_id", "kind", "occurred_at", "channel", "sku", "category", "query"}
)
_CHANNELS = frozenset(Channel.values)
_STATUSES = frozenset(Order.Status.values)
_TIERS = frozenset(Customer.Tier.values)
_KINDS = frozenset(BehaviourEvent.Kind.values)


@dataclass(frozen=True)
class RowError:
    """One refused record: its line (file line, or position in the batch from 1), field and reason."""

    line: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "field": self.field, "message": self.message}


class ImportRejected(Exception):
    """All-or-nothing load refused: the errors of every bad record (nothing was written)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__(f"{len(errors)} record(s) refused")
        self.errors = errors


@dataclass
class LoadResult:
    """What a load did. ``existing``: records already present (replays), not created again."""

    received: int = 0
    created: int = 0
    existing: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    # Orders loaded or changed: their months (Hong Kong) and customers, for the rollup refresh.
    months: set[date] = field(default_factory=set)
    customer_ids: set[int] = field(default_factory=set)

    def add_errors(self, errors: Iterable[RowError]) -> None:
        for error in errors:
            self.error_count += 1
            if len(self.errors) < MAX_ERRORS_KEPT:
                self.errors.append(error)

    @property
    def refused(self) -> int:
        return len({e.line for e in self.errors})


class _Bad(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# --- Checking one record -------------------------------------------------------------------------


def _text(record: Mapping[str, Any], name: str, limit: int, *, required: bool = False) -> str:
    value = record.get(name)
    if value is None:
        value = ""
    elif not isinstance(value, str):
        if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
            raise _Bad(name, "must be text")
        value = str(value)
    value = value.strip()
    if "\x00" in value:
        raise _Bad(name, "the NUL character is not allowed")
    if required and not value:
        raise _Bad(name, "is required")
    if len(value) > limit:
        raise _Bad(name, f"is longer than {limit} characters")
    return value


def _identifier(record: Mapping[str, Any], name: str, *, required: bool = True) -> str:
    value = _text(record, name, 100, required=required)
    if value and not _ID_PATTERN.match(value):
        raise _Bad(name, "may only hold letters, digits and . _ : - / # @")
    return value


def _timestamp(record: Mapping[str, Any], name: str, *, required: bool = True) -> datetime | None:
    """An ISO 8601 timestamp WITH its zone (``Z`` or ``+08:00``), returned in UTC.

    A timestamp without a zone is refused: guessing would shift orders between days and months.
    """
    value = record.get(name)
    if value in (None, ""):
        if required:
            raise _Bad(name, "is required")
        return None
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise _Bad(name, "is not an ISO 8601 date and time (e.g. 2026-05-01T10:30:00+08:00)") from None
    else:
        raise _Bad(name, "must be an ISO 8601 date and time")
    if parsed.tzinfo is None or parsed.utcoffset() is None:
        raise _Bad(name, "has no time zone: add Z or an offset such as +08:00")
    try:
        return parsed.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _Bad(name, "is out of range") from None


def _money(record: Mapping[str, Any], name: str, *, default: Decimal | None = None) -> Decimal:
    value = record.get(name)
    if value in (None, ""):
        if default is None:
            raise _Bad(name, "is required")
        return default
    if isinstance(value, bool) or isinstance(value, float) and not math.isfinite(value):
        raise _Bad(name, "must be an amount in HKD")
    try:
        amount = Decimal(str(value).strip())
    except InvalidOperation:
        raise _Bad(name, "must be an amount in HKD, e.g. 199.50") from None
    if not amount.is_finite():
        raise _Bad(name, "must be an amount in HKD")
    if amount < 0:
        raise _Bad(name, "must not be negative")
    if amount >= _MONEY_LIMIT:
        raise _Bad(name, "is too large")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise _Bad(name, "has more than 2 decimal places")
    return amount.quantize(Decimal("0.01"))


def _quantity(record: Mapping[str, Any], name: str) -> int:
    value = record.get(name)
    if isinstance(value, bool) or value in (None, ""):
        raise _Bad(name, "is required")
    try:
        number = int(str(value).strip())
    except ValueError:
        raise _Bad(name, "must be a whole number") from None
    if number < 1:
        raise _Bad(name, "must be at least 1 (returns are refunds, not negative quantities)")
    if number > 1_000_000:
        raise _Bad(name, "is too large")
    return number


def _choice(record: Mapping[str, Any], name: str, allowed: frozenset[str], default: str) -> str:
    value = _text(record, name, 40) or default
    if value not in allowed:
        raise _Bad(name, f"must be one of {', '.join(sorted(allowed))}")
    return value


def _unknown(record: Mapping[str, Any], allowed: frozenset[str], prefix: str = "") -> None:
    extra = sorted(str(k) for k in record if k not in allowed)
    if extra:
        raise _Bad(prefix + extra[0], "is not a known field")


def check_customer(record: Mapping[str, Any], *, source: str, now: datetime) -> tuple[Any, ...]:
    """A customer record as a staging row, or _Bad. E-mail and phone are kept exactly as given."""
    if not isinstance(record, Mapping):
        raise _Bad("record", "must be a JSON object")
    _unknown(record, CUSTOMER_FIELDS)
    external_id = _identifier(record, "external_id")
    texts = [_text(record, name, limit) for name, limit in CUSTOMER_TEXT.items()]
    country = (_text(record, "country", 2) or "HK").upper()
    if not country.isalpha() or len(country) != 2:
        raise _Bad("country", "must be a two-letter country code (ISO 3166), e.g. HK")
    tier = _choice(record, "tier", _TIERS, Customer.Tier.STANDARD)
    first_seen = _timestamp(record, "first_seen_at", required=False)
    return (source, external_id, *texts, country, tier, first_seen)


def check_order(record: Mapping[str, Any], *, source: str) -> tuple[tuple[Any, ...], list[tuple[Any, ...]]]:
    """An order record as (order staging row, line staging rows), or _Bad naming the field."""
    if not isinstance(record, Mapping):
        raise _Bad("record", "must be a JSON object")
    _unknown(record, ORDER_FIELDS)
    external_id = _identifier(record, "external_id")
    customer_id = _identifier(record, "customer_id", required=False)
    currency = _text(record, "currency", 10) or CURRENCY
    if currency.upper() != CURRENCY:
        raise _Bad("currency", f"{currency!r} is not accepted: Steward records sales in HKD only")
    channel = _choice(record, "channel", _CHANNELS, Channel.WEB)
    status = _choice(record, "status", _STATUSES, Order.Status.PLACED)
    placed_at = _timestamp(record, "placed_at")
    raw_lines = record.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        raise _Bad("lines", "an order needs at least one line")
    if len(raw_lines) > MAX_LINES_PER_ORDER:
        raise _Bad("lines", f"an order may have at most {MAX_LINES_PER_ORDER} lines")
    lines: list[tuple[Any, ...]] = []
    line_sum = Decimal(0)
    for number, raw in enumerate(raw_lines, start=1):
        prefix = f"lines.{number - 1}."
        if not isinstance(raw, Mapping):
            raise _Bad(prefix[:-1], "must be a JSON object")
        try:
            _unknown(raw, LINE_FIELDS)
            quantity = _quantity(raw, "quantity")
            unit_price = _money(raw, "unit_price")
            amount = _money(raw, "amount", default=unit_price * quantity)
            line = (
                source,
                external_id,
                number,
                _text(raw, "sku", 80),
                _text(raw, "product", 200, required=True),
                _text(raw, "category", 80),
                quantity,
                unit_price,
                amount,
            )
        except _Bad as bad:
            raise _Bad(prefix + bad.field, bad.message) from None
        line_sum += amount
        lines.append(line)
    total = _money(record, "total", default=line_sum)
    refunded = _money(record, "refunded_amount", default=Decimal(0))
    if refunded > total:
        raise _Bad("refunded_amount", "is more than the order total")
    row = (source, external_id, source, customer_id, channel, status, placed_at, CURRENCY, total, refunded)
    return row, lines


def check_event(record: Mapping[str, Any], *, source: str) -> tuple[Any, ...]:
    if not isinstance(record, Mapping):
        raise _Bad("record", "must be a JSON object")
    _unknown(record, EVENT_FIELDS)
    return (
        source,
        _identifier(record, "external_id"),
        source,
        _identifier(record, "customer_id", required=False),
        _choice(record, "kind", _KINDS, ""),
        _timestamp(record, "occurred_at"),
        _choice(record, "channel", _CHANNELS, Channel.WEB),
        _text(record, "sku", 80),
        _text(record, "category", 80),
        _text(record, "query", 200),
    )


# --- Staging and the set-based upsert ------------------------------------------------------------

# Staging tables: temporary, one per connection. Column order = the checked rows' order + line.
_STAGING = {
    "customers": (
        "stg_customers",
        "source varchar(40), external_id varchar(100), given_name varchar(100), family_name varchar(100), "
        "chinese_name varchar(50), email varchar(254), phone varchar(40), address_line varchar(300), "
        "district varchar(60), country varchar(2), tier varchar(12), first_seen_at {ts}, line integer",
    ),
    "orders": (
        "stg_orders",
        "source varchar(40), external_id varchar(100), customer_source varchar(40), "
        "customer_external_id varchar(100), channel varchar(20), status varchar(20), placed_at {ts}, "
        "currency varchar(3), total numeric(14,2), refunded_amount numeric(14,2), line integer",
    ),
    "lines": (
        "stg_lines",
        "order_source varchar(40), order_external_id varchar(100), line_number integer, sku varchar(80), "
        "product varchar(200), category varchar(80), quantity integer, unit_price numeric(12,2), "
        "amount numeric(14,2), line integer",
    ),
    "events": (
        "stg_events",
        "source varchar(40), external_id varchar(100), customer_source varchar(40), "
        "customer_external_id varchar(100), kind varchar(10), occurred_at {ts}, channel varchar(20), "
        "sku varchar(80), category varchar(80), query varchar(200), line integer",
    ),
}


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _prepare(name: str) -> str:
    """Create (or empty) the staging table NAME for this connection; returns its table name."""
    table, columns = _STAGING[name]
    timestamp = "timestamptz" if _postgres() else "datetime"
    with connection.cursor() as cursor:
        if _postgres():
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns.format(ts=timestamp)}) "
                "ON COMMIT DELETE ROWS"
            )
        else:
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {table} ({columns.format(ts=timestamp)})")
        cursor.execute(f"DELETE FROM {table}")
    return table


def _sqlite_value(value: Any) -> Any:
    # Django's SQLite backend stores datetimes as naive UTC text and decimals as text; staging matches.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")
    if isinstance(value, Decimal):
        return str(value)
    return value


def stage(name: str, rows: Sequence[tuple[Any, ...]]) -> str:
    """Write ROWS into the staging table NAME: COPY on PostgreSQL, executemany on SQLite."""
    table = _prepare(name)
    if not rows:
        return table
    if _postgres():
        with connection.cursor() as cursor:
            raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
            with raw.copy(f"COPY {table} FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        marks = ", ".join(["%s"] * len(rows[0]))
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} VALUES ({marks})",
                [tuple(_sqlite_value(v) for v in row) for row in rows],
            )
    return table


def _scalar(sql: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return int(row[0] or 0) if row else 0


def _execute(sql: str, params: Sequence[Any] = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.rowcount or 0)


def _now_param(now: datetime) -> Any:
    return now if _postgres() else _sqlite_value(now)


def _upsert_customers(now: datetime) -> tuple[int, int]:
    existing = _scalar(
        "SELECT COUNT(*) FROM stg_customers s JOIN customers_customer c "
        "ON c.source = s.source AND c.external_id = s.external_id"
    )
    staged = _scalar("SELECT COUNT(*) FROM stg_customers")
    keep = "CASE WHEN excluded.{f} <> '' THEN excluded.{f} ELSE customers_customer.{f} END"
    updates = ", ".join(f"{f} = {keep.format(f=f)}" for f in CUSTOMER_TEXT)
    _execute(
        "INSERT INTO customers_customer (created_at, updated_at, source, external_id, given_name, "
        "family_name, chinese_name, email, phone, address_line, district, country, tier, first_seen_at) "
        "SELECT %s, %s, source, external_id, given_name, family_name, chinese_name, email, phone, "
        "address_line, district, country, tier, COALESCE(first_seen_at, %s) FROM stg_customers WHERE 1 = 1 "
        f"ON CONFLICT (source, external_id) DO UPDATE SET {updates}, tier = excluded.tier, "
        "updated_at = excluded.updated_at WHERE customers_customer.anonymised_at IS NULL",
        [_now_param(now)] * 3,
    )
    return staged - existing, existing


def _unknown_customers(table: str) -> list[tuple[int, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.line, s.customer_external_id FROM {table} s LEFT JOIN customers_customer c "
            "ON c.source = s.customer_source AND c.external_id = s.customer_external_id "
            "WHERE s.customer_external_id <> '' AND c.id IS NULL ORDER BY s.line"
        )
        return [(int(line), str(ext)) for line, ext in cursor.fetchall()]


def _upsert_orders(now: datetime) -> tuple[int, int]:
    existing = _scalar(
        "SELECT COUNT(*) FROM stg_orders s JOIN customers_order o "
        "ON o.source = s.source AND o.external_id = s.external_id"
    )
    staged = _scalar("SELECT COUNT(*) FROM stg_orders")
    _execute(
        "INSERT INTO customers_order (created_at, updated_at, source, external_id, customer_id, channel, "
        "status, placed_at, currency, total, refunded_amount) "
        "SELECT %s, %s, s.source, s.external_id, c.id, s.channel, s.status, s.placed_at, s.currency, "
        "s.total, s.refunded_amount FROM stg_orders s LEFT JOIN customers_customer c "
        "ON c.source = s.customer_source AND c.external_id = s.customer_external_id WHERE 1 = 1 "
        "ON CONFLICT (source, external_id) DO UPDATE SET status = excluded.status, "
        "refunded_amount = excluded.refunded_amount, updated_at = excluded.updated_at "
        "WHERE customers_order.status <> excluded.status "
        "OR customers_order.refunded_amount <> excluded.refunded_amount",
        [_now_param(now)] * 2,
    )
    _execute(
        "INSERT INTO customers_orderline (created_at, updated_at, order_id, line_number, sku, product, "
        "category, quantity, unit_price, amount) "
        "SELECT %s, %s, o.id, l.line_number, l.sku, l.product, l.category, l.quantity, l.unit_price, "
        "l.amount FROM stg_lines l JOIN customers_order o "
        "ON o.source = l.order_source AND o.external_id = l.order_external_id WHERE 1 = 1 "
        "ON CONFLICT (order_id, line_number) DO NOTHING",
        [_now_param(now)] * 2,
    )
    return staged - existing, existing


def _upsert_events(now: datetime) -> tuple[int, int]:
    existing = _scalar(
        "SELECT COUNT(*) FROM stg_events s JOIN customers_behaviourevent e "
        "ON e.source = s.source AND e.external_id = s.external_id"
    )
    staged = _scalar("SELECT COUNT(*) FROM stg_events")
    _execute(
        "INSERT INTO customers_behaviourevent (created_at, updated_at, source, external_id, customer_id, "
        "kind, occurred_at, channel, sku, category, query) "
        "SELECT %s, %s, s.source, s.external_id, c.id, s.kind, s.occurred_at, s.channel, s.sku, "
        "s.category, s.query FROM stg_events s LEFT JOIN customers_customer c "
        "ON c.source = s.customer_source AND c.external_id = s.customer_external_id WHERE 1 = 1 "
        "ON CONFLICT (source, external_id) DO NOTHING",
        [_now_param(now)] * 2,
    )
    return staged - existing, existing


# --- Loading -------------------------------------------------------------------------------------


def _chunks(records: Iterable[tuple[int, Any]], size: int) -> Iterator[list[tuple[int, Any]]]:
    chunk: list[tuple[int, Any]] = []
    for item in records:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _numbered(records: Iterable[Any]) -> Iterator[tuple[int, Any]]:
    """(line, record) pairs: records that come numbered (from a file) keep their line."""
    for position, item in enumerate(records, start=1):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], int):
            yield item
        else:
            yield position, item


def load(
    kind: str,
    records: Iterable[Any],
    *,
    source: str,
    keep_good: bool = False,
    chunk_size: int = CHUNK,
    progress: Any = None,
) -> LoadResult:
    """Check and load RECORDS of KIND ("customers", "orders" or "events") from SOURCE.

    RECORDS are mappings, or (line, mapping) pairs from a file. Call inside a transaction.
    ``keep_good=False``: any bad record raises :class:`ImportRejected` with every error found,
    and nothing is written (records are all checked before anything is staged when they
    fit in one chunk; larger loads rely on the caller's transaction rolling back).
    ``progress(done)`` is called after each chunk.
    """
    if kind not in {"customers", "orders", "events"}:
        raise ValueError(f"unknown kind {kind!r}")
    result = LoadResult()
    seen: set[str] = set()
    now = timezone.now()
    rejected: list[RowError] = []
    for chunk in _chunks(_numbered(records), chunk_size):
        rows: list[tuple[Any, ...]] = []
        lines: list[tuple[Any, ...]] = []
        errors: list[RowError] = []
        for line, record in chunk:
            if isinstance(record, _Unreadable):
                errors.append(RowError(line, "record", record.reason))
                continue
            try:
                if kind == "customers":
                    row = check_customer(record, source=source, now=now)
                elif kind == "orders":
                    row, order_lines = check_order(record, source=source)
                else:
                    row = check_event(record, source=source)
            except _Bad as bad:
                errors.append(RowError(line, bad.field, bad.message))
                continue
            external_id = row[1]
            if external_id in seen:
                errors.append(RowError(line, "external_id", f"{external_id!r} appears twice in this batch"))
                continue
            seen.add(external_id)
            rows.append((*row, line))
            if kind == "orders":
                lines.extend((*order_line, line) for order_line in order_lines)
        result.received += len(chunk)
        if errors and not keep_good:
            rejected.extend(errors)
        result.add_errors(errors)
        if rejected:
            continue  # all or nothing: keep checking to report every error, write nothing
        created, existing = _load_chunk(kind, rows, lines, now, result, keep_good)
        result.created += created
        result.existing += existing
        if progress is not None:
            progress(result.received)
    if rejected:
        raise ImportRejected(rejected[:MAX_ERRORS_KEPT])
    if progress is not None:
        progress(result.received)
    return result


def _load_chunk(
    kind: str,
    rows: list[tuple[Any, ...]],
    lines: list[tuple[Any, ...]],
    now: datetime,
    result: LoadResult,
    keep_good: bool,
) -> tuple[int, int]:
    if kind == "customers":
        table = stage("customers", rows)
        counts = _upsert_customers(now)
        # New or updated details (district, tier): the customers' segments are refreshed after.
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT c.id FROM {table} s JOIN customers_customer c "  # noqa: S608 (a staging table name)
                "ON c.source = s.source AND c.external_id = s.external_id"
            )
            result.customer_ids.update(int(row[0]) for row in cursor.fetchall())
        return counts
    table = stage(kind, rows)
    if kind == "orders":
        stage("lines", lines)
    unknown = _unknown_customers(table)
    if unknown:
        errors = [
            RowError(line, "customer_id", f"no customer {ext!r} from this source; send the customer first")
            for line, ext in unknown
        ]
        if not keep_good:
            raise ImportRejected(errors)
        result.add_errors(errors)
        bad_lines = [line for line, _ in unknown]
        with connection.cursor() as cursor:
            for start in range(0, len(bad_lines), 500):
                part = bad_lines[start : start + 500]
                marks = ", ".join(["%s"] * len(part))
                cursor.execute(f"DELETE FROM {table} WHERE line IN ({marks})", part)
                if kind == "orders":
                    cursor.execute(f"DELETE FROM stg_lines WHERE line IN ({marks})", part)
    if kind == "orders":
        counts = _upsert_orders(now)
        _note_touched(result)
        return counts
    return _upsert_events(now)


def _note_touched(result: LoadResult) -> None:
    """Add the months and customers of the staged orders (as stored) to RESULT."""
    from customers.analytics import month_of

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT {month_of('o.placed_at')}, o.customer_id FROM stg_orders s "
            "JOIN customers_order o ON o.source = s.source AND o.external_id = s.external_id"
        )
        for month, customer_id in cursor.fetchall():
            result.months.add(month if isinstance(month, date) else date.fromisoformat(str(month)))
            if customer_id is not None:
                result.customer_ids.add(int(customer_id))


# --- Files ---------------------------------------------------------------------------------------

# CSV columns per kind. Orders come one line per row; rows with the same order id are one order
# (order-level columns are read from its first row).
CSV_ORDER_COLUMNS = (
    "external_id",
    "customer_id",
    "channel",
    "status",
    "placed_at",
    "currency",
    "total",
    "refunded_amount",
)
CSV_LINE_COLUMNS = ("sku", "product", "category", "quantity", "unit_price", "amount")


def _csv_value(value: str | None) -> str | None:
    return None if value is None or value == "" else value


def read_ndjson(text: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line, record) pairs from NDJSON; an unreadable line becomes a record the checks refuse."""
    import json

    for number, raw in enumerate(text, start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        try:
            yield number, json.loads(stripped)
        except ValueError:
            yield number, _Unreadable("not valid JSON")


class _Unreadable:
    """Stands for a line that could not be parsed; refused by :func:`load` with its reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def read_csv(kind: str, text: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line, record) pairs from CSV with a header row (line numbers count the header as line 1)."""
    import csv

    reader = csv.DictReader(text)
    if kind != "orders":
        for row in reader:
            yield reader.line_num, {k: _csv_value(v) for k, v in row.items() if k is not None}
        return
    current: dict[str, Any] | None = None
    first_line = 0
    for row in reader:
        values = {k: _csv_value(v) for k, v in row.items() if k is not None}
        order_id = values.get("external_id") or ""
        line = {k: values.get(k) for k in CSV_LINE_COLUMNS if values.get(k) is not None}
        if current is not None and current["external_id"] == order_id and order_id:
            current["lines"].append(line)
            continue
        if current is not None:
            yield first_line, current
        current = {k: values.get(k) for k in CSV_ORDER_COLUMNS if values.get(k) is not None}
        current["external_id"] = order_id
        current["lines"] = [line]
        unknown = set(values) - set(CSV_ORDER_COLUMNS) - set(CSV_LINE_COLUMNS)
        for name in unknown:
            current[name] = values[name]
        first_line = reader.line_num
    if current is not None:
        yield first_line, current
