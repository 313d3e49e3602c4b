"""Ingest of tickets and their events: the one path behind the API, the file import and the webhook.

Every way in turns its input into *rows*: one per event, with the ticket's fields repeated
(the flat format of docs/service.md, in the column order of :data:`FIELDS`). A batch of rows
goes through three steps, all set-based:

1. **Row checks in Python** (:func:`parse_row`): required fields, known kinds, channels and
   priorities, lengths, and timestamps that carry a time zone (a naive one is refused: the
   helpdesk's local time is anyone's guess). A second row with the same source, ticket id and
   event id in one input is refused; the first one counts.
2. **Staging and checks in SQL**: the good rows are loaded into a temporary table (``COPY`` on
   PostgreSQL, ``executemany`` on SQLite), then checked against each other and against what is
   stored: an unknown team, a ticket that has no *created* event (neither in the batch nor
   stored), an event before its ticket's creation, a second *created* event.
3. **Writes in SQL**: unknown agents are created (in the row's team, with that team's vendor),
   new tickets inserted, existing tickets' fields updated from their newest row (only when that
   row is at least as new as every stored event, so an old file cannot undo a newer one), events
   inserted with ``ON CONFLICT DO NOTHING`` on (ticket, event id), and then each touched ticket's
   status and stored figures derived from all its events in one ``UPDATE … FROM``.

Replays are harmless: stored events are never rewritten and an unchanged ticket is not touched,
so importing the same rows twice changes nothing. Each batch writes one audit event and, after
its commit, sends :data:`service.signals.ticket_events_changed` with the ids of the tickets it
changed (the SLA computation listens). Business minutes and SLA results are not computed here.

*All or nothing* runs every batch in one transaction and rolls it back when any row was refused;
*keep good rows* commits each batch, refused rows left out and reported.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import IO, Any

from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from service.measures import local_zone
from service.models import Priority, Ticket, TicketChannel, TicketEvent
from service.rollups import rollups_refresh_later
from service.signals import ticket_events_changed

# The flat format, in this order (a CSV header may list them in any order).
FIELDS: tuple[str, ...] = (
    "source",
    "ticket_id",
    "event_id",
    "kind",
    "occurred_at",
    "event_agent",
    "status",
    "subject",
    "channel",
    "priority",
    "customer_tier",
    "team",
    "agent",
    "agent_name",
    "customer_source",
    "customer_id",
    "customer_email",
)
REQUIRED: tuple[str, ...] = ("ticket_id", "event_id", "kind", "occurred_at")
TICKET_FIELDS = frozenset(
    {"source", "ticket_id", "subject", "channel", "priority", "customer_tier", "team", "agent", "agent_name",
     "customer_source", "customer_id", "customer_email"}
)  # fmt: skip
_INDEX = {name: i for i, name in enumerate(FIELDS)}
_LIMITS = {
    "source": 40,
    "ticket_id": 100,
    "event_id": 100,
    "event_agent": 100,
    "subject": 300,
    "customer_tier": 12,
    "team": 40,
    "agent": 100,
    "agent_name": 120,
    "customer_source": 40,
    "customer_id": 100,
    "customer_email": 254,
}
KINDS = frozenset(TicketEvent.Kind.values)
STATUSES = frozenset(Ticket.Status.values)
CHANNELS = frozenset(TicketChannel.values)
PRIORITIES = frozenset(Priority.values)
DEFAULT_SOURCE = "steward"
CHUNK_ROWS = 20_000
MAX_STORED_ERRORS = 5_000
ANALYZE_AFTER = 1_000  # rows written in a batch after which PostgreSQL's statistics are refreshed

# (line, source, ticket_id, event_id, kind, occurred_at, … customer_email): the staging order
Row = tuple[Any, ...]
_CUSTOMER_EXT, _CUSTOMER_EMAIL = 16, 17  # positions in a Row


@dataclass(frozen=True)
class RowError:
    """A refused row: its line (file line, or position in an API body), the field, and why."""

    line: int
    field: str
    message: str


@dataclass
class IngestResult:
    """What one ingest did."""

    rows: int = 0
    rows_rejected: int = 0
    tickets_created: int = 0
    tickets_updated: int = 0
    events_created: int = 0
    agents_created: int = 0
    customers_linked: int = 0
    customers_unmatched: int = 0
    customers_ambiguous: int = 0
    errors: list[RowError] = field(default_factory=list)
    ticket_ids: set[int] = field(default_factory=set)

    @property
    def rejected_lines(self) -> set[int]:
        return {error.line for error in self.errors}

    def summary(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "rows_rejected": self.rows_rejected,
            "tickets_created": self.tickets_created,
            "tickets_updated": self.tickets_updated,
            "events_created": self.events_created,
            "agents_created": self.agents_created,
            "customers_linked": self.customers_linked,
            "customers_unmatched": self.customers_unmatched,
            "customers_ambiguous": self.customers_ambiguous,
        }


class IngestRejected(Exception):
    """All or nothing, and some rows were refused: nothing was written."""

    def __init__(self, result: IngestResult) -> None:
        super().__init__(f"{len(result.errors)} problem(s) in the input; nothing was written")
        self.result = result


class FileRejected(Exception):
    """The file as a whole cannot be read (wrong header, not UTF-8)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


# --- Step 1: one row ----------------------------------------------------------------------------


def _parse_time(value: str) -> datetime | str:
    """An aware UTC datetime, or the reason the value is not one."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return f"“{value[:40]}” is not an ISO 8601 date and time (e.g. 2026-10-05T10:30:00+08:00)."
    offset = moment.utcoffset()
    if offset is None:
        return "The time has no time zone: add Z or an offset such as +08:00."
    if moment.tzinfo is UTC:
        return moment
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return "The date and time is out of range."


_ID_FIELDS = ("ticket_id", "event_id", "customer_id")  # may be JSON numbers


def _as_text(values: Sequence[Any], line: int, errors: list[RowError]) -> list[str] | None:
    """The slow path for JSON input: numbers as ids, datetimes as ISO text, None as empty."""
    out: list[str] = []
    bad = False
    for name, raw in zip(FIELDS, values, strict=True):
        if raw is None:
            out.append("")
        elif isinstance(raw, str):
            out.append(raw.strip())
        elif isinstance(raw, int) and not isinstance(raw, bool) and name in _ID_FIELDS:
            out.append(str(raw))
        elif isinstance(raw, datetime) and name == "occurred_at":
            out.append(raw.isoformat())
        else:
            errors.append(RowError(line, name, "Must be text."))
            bad = True
    return None if bad else out


_LIMITED = tuple((i, name, limit) for i, name in enumerate(FIELDS) if (limit := _LIMITS.get(name)))
_KIND_CHOICES = ", ".join(sorted(KINDS))
_STATUS_CHOICES = ", ".join(sorted(STATUSES))
_CHANNEL_CHOICES = ", ".join(sorted(CHANNELS))
_PRIORITY_CHOICES = ", ".join(sorted(PRIORITIES))


def parse_row(values: Sequence[Any], line: int, default_source: str, errors: list[RowError]) -> Row | None:
    """VALUES (in FIELDS order) as a staging row, or None with the reasons appended to ERRORS.

    Written for speed (it runs once per row of every import): text goes the fast path, anything
    else through :func:`_as_text`.
    """
    try:
        text = [value.strip() for value in values]
    except AttributeError:
        converted = _as_text(values, line, errors)
        if converted is None:
            return None
        text = converted
    found = len(errors)
    if "\x00" in "".join(text):
        for name, value in zip(FIELDS, text, strict=True):
            if "\x00" in value:
                errors.append(RowError(line, name, "The NUL character is not allowed."))
        return None
    for index, name, limit in _LIMITED:
        if len(text[index]) > limit:
            errors.append(RowError(line, name, f"At most {limit} characters."))
    if len(errors) > found:
        return None
    (source, ticket_id, event_id, kind, occurred, event_agent, status, subject, channel, priority, tier, team,
     agent, agent_name, customer_source, customer_id, customer_email) = text  # fmt: skip
    for name, value in (
        ("ticket_id", ticket_id),
        ("event_id", event_id),
        ("kind", kind),
        ("occurred_at", occurred),
    ):
        if not value:
            errors.append(RowError(line, name, "This field is required."))
    if kind and kind not in KINDS:
        errors.append(RowError(line, "kind", f"Unknown kind “{kind}”: use one of {_KIND_CHOICES}."))
    if kind == "status_change":
        if status not in STATUSES:
            errors.append(
                RowError(line, "status", f"A status change needs the new status ({_STATUS_CHOICES}).")
            )
    elif status:
        errors.append(RowError(line, "status", "Only a status_change row carries a status."))
    channel = channel or "email"
    if channel not in CHANNELS:
        errors.append(
            RowError(line, "channel", f"Unknown channel “{channel}”: use one of {_CHANNEL_CHOICES}.")
        )
    priority = priority or "normal"
    if priority not in PRIORITIES:
        errors.append(
            RowError(line, "priority", f"Unknown priority “{priority}”: use one of {_PRIORITY_CHOICES}.")
        )
    if customer_email and ("@" not in customer_email or any(c.isspace() for c in customer_email)):
        # Said without echoing the value: it is personal data and error reports are kept.
        errors.append(RowError(line, "customer_email", "Not an e-mail address."))
    moment: datetime | str = ""
    if occurred:
        moment = _parse_time(occurred)
        if isinstance(moment, str):
            errors.append(RowError(line, "occurred_at", moment))
    if len(errors) > found:
        return None
    return (line, source or default_source, ticket_id, event_id, kind, moment, event_agent, status, subject,
            channel, priority, tier, team, agent, agent_name, customer_source, customer_id,
            customer_email.lower())  # fmt: skip


def values_from_mapping(data: dict[str, Any]) -> list[Any]:
    """A JSON object's values in FIELDS order (unknown keys are the caller's business)."""
    return [data.get(name) for name in FIELDS]


# --- Reading files ------------------------------------------------------------------------------


def read_csv(stream: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    """(line, values in FIELDS order) for each data row of a UTF-8 CSV file with a header row."""
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        header = [name.strip().lower() for name in next(reader, [])]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileRejected([RowError(1, "", f"The header row cannot be read: {exc}")]) from exc
    problems = [RowError(1, name, f"Unknown column “{name}”.") for name in header if name not in _INDEX]
    problems += [
        RowError(1, name, f"The column “{name}” is missing.") for name in REQUIRED if name not in header
    ]
    seen: set[str] = set()
    for name in header:
        if name in seen:
            problems.append(RowError(1, name, f"The column “{name}” appears twice."))
        seen.add(name)
    if problems:
        raise FileRejected(problems)
    positions = [header.index(name) if name in header else None for name in FIELDS]
    width = len(header)
    try:
        for values in reader:
            if not values or values == [""]:
                continue
            line = reader.line_num
            if len(values) != width:
                yield line, [f"\x00columns:{len(values)}:{width}"]
                continue
            yield line, [values[p] if p is not None else "" for p in positions]
    except (UnicodeDecodeError, csv.Error) as exc:
        raise FileRejected(
            [RowError(reader.line_num + 1, "", f"The file cannot be read here: {exc}")]
        ) from exc


def read_ndjson(stream: IO[bytes]) -> Iterator[tuple[int, list[Any]]]:
    """(line, values in FIELDS order) for each line of an NDJSON file: one JSON object per line."""
    for number, raw in enumerate(stream, start=1):
        text = raw.strip()
        if not text:
            continue
        try:
            data = json.loads(text.decode("utf-8-sig") if number == 1 else text)
        except (UnicodeDecodeError, ValueError):
            yield number, ["\x00json"]
            continue
        if not isinstance(data, dict):
            yield number, ["\x00object"]
            continue
        unknown = sorted(set(data) - set(FIELDS))
        if unknown:
            yield number, [f"\x00unknown:{unknown[0][:40]}"]
            continue
        yield number, values_from_mapping(data)


def _unreadable(line: int, values: list[Any]) -> RowError | None:
    """Rows the readers could not turn into values carry a marker instead (see read_csv/read_ndjson)."""
    if len(values) != 1 or not isinstance(values[0], str) or not values[0].startswith("\x00"):
        return None
    marker = values[0][1:]
    if marker.startswith("columns:"):
        _, got, want = marker.split(":")
        return RowError(line, "", f"The row has {got} columns; the header has {want}.")
    if marker == "json":
        return RowError(line, "", "The line is not valid JSON.")
    if marker == "object":
        return RowError(line, "", "Each line must be one JSON object.")
    return RowError(line, marker.split(":", 1)[1], f"Unknown field “{marker.split(':', 1)[1]}”.")


# --- Step 2 and 3: a batch in SQL ---------------------------------------------------------------

_STAGE_COLUMNS = (
    "line, source, ticket_ext, event_ext, kind, occurred_at, event_agent, status, "
    "subject, channel, priority, customer_tier, team, agent, agent_name, "
    "customer_source, customer_ext, customer_email"
)


def _postgres() -> bool:
    return connection.vendor == "postgresql"


def _create_stage(cursor: Any) -> None:
    time_type = "timestamptz" if _postgres() else "text"
    cursor.execute("DROP TABLE IF EXISTS svc_stage")
    cursor.execute("DROP TABLE IF EXISTS svc_touched")
    cursor.execute(
        "CREATE TEMP TABLE svc_stage (line integer NOT NULL, source text NOT NULL, ticket_ext text NOT NULL, "
        f"event_ext text NOT NULL, kind text NOT NULL, occurred_at {time_type} NOT NULL, "
        "event_agent text NOT NULL, status text NOT NULL, subject text NOT NULL, channel text NOT NULL, "
        "priority text NOT NULL, customer_tier text NOT NULL, team text NOT NULL, agent text NOT NULL, "
        "agent_name text NOT NULL, customer_source text NOT NULL, customer_ext text NOT NULL, "
        "customer_email text NOT NULL)"
    )
    cursor.execute("CREATE TEMP TABLE svc_touched (id bigint PRIMARY KEY)")
    if not _postgres():
        # SQLite joins by nested loops: give it the index PostgreSQL's hash joins do without.
        cursor.execute("CREATE INDEX svc_stage_ticket ON svc_stage (source, ticket_ext)")


def _load_stage(cursor: Any, rows: list[Row]) -> None:
    if _postgres():
        with cursor.cursor.copy(f"COPY svc_stage ({_STAGE_COLUMNS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Without statistics the planner guesses a temporary table is tiny and joins the batch's
        # per-ticket subqueries by nested loops: minutes instead of a second for 100,000 rows.
        cursor.execute("ANALYZE svc_stage")
        return
    # SQLite stores datetimes as text in Django's format: naive UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]".
    marks = ", ".join(["%s"] * 18)
    cursor.executemany(
        f"INSERT INTO svc_stage ({_STAGE_COLUMNS}) VALUES ({marks})",  # noqa: S608 (fixed column list)
        [(*row[:5], str(row[5].replace(tzinfo=None)), *row[6:]) for row in rows],
    )


def _now_param() -> Any:
    now = timezone.now()
    return now if _postgres() else str(now.astimezone(UTC).replace(tzinfo=None))


def _drop_lines(cursor: Any, lines: Iterable[int]) -> None:
    cursor.execute("DELETE FROM svc_touched")
    cursor.executemany("INSERT INTO svc_touched (id) VALUES (%s)", [(line,) for line in lines])
    cursor.execute("DELETE FROM svc_stage WHERE line IN (SELECT id FROM svc_touched)")
    cursor.execute("DELETE FROM svc_touched")


_UNKNOWN_TEAMS = """
SELECT s.line, s.team FROM svc_stage s
WHERE s.team <> '' AND NOT EXISTS (SELECT 1 FROM service_team t WHERE t.code = s.team)
"""

# Each row's ticket creation time: the stored ticket's, else the batch's first created event.
_CREATION_PROBLEMS = """
SELECT s.line, s.kind, s.occurred_at, COALESCE(t.opened_at, c.at) AS opened_at,
  CASE
    WHEN t.id IS NULL AND c.at IS NULL THEN 'no_created'
    WHEN s.kind <> 'created' AND s.occurred_at < COALESCE(t.opened_at, c.at) THEN 'before_created'
    WHEN s.kind = 'created' AND t.id IS NOT NULL AND NOT EXISTS (
      SELECT 1 FROM service_ticketevent e WHERE e.ticket_id = t.id AND e.external_id = s.event_ext
    ) THEN 'already_created'
  END AS problem
FROM svc_stage s
LEFT JOIN (
  SELECT source, ticket_ext, MIN(occurred_at) AS at FROM svc_stage WHERE kind = 'created'
  GROUP BY source, ticket_ext
) c ON c.source = s.source AND c.ticket_ext = s.ticket_ext
LEFT JOIN service_ticket t ON t.source = s.source AND t.external_id = s.ticket_ext
"""

_NEW_AGENTS = """
INSERT INTO service_agent
  (source, external_id, name, email, team_id, vendor_id, active, created_at, updated_at)
SELECT g.source, g.ext, g.name, '', g.team_id, tm.vendor_id, TRUE, %s, %s
FROM (
  SELECT n.source, n.ext, COALESCE(NULLIF(MAX(n.name), ''), n.ext) AS name, MAX(t.id) AS team_id
  FROM (
    SELECT source, agent AS ext, agent_name AS name, team FROM svc_stage WHERE agent <> ''
    UNION ALL
    SELECT source, event_agent, '', team FROM svc_stage WHERE event_agent <> ''
  ) n LEFT JOIN service_team t ON t.code = n.team
  GROUP BY n.source, n.ext
) g LEFT JOIN service_team tm ON tm.id = g.team_id
WHERE NOT EXISTS (SELECT 1 FROM service_agent a WHERE a.source = g.source AND a.external_id = g.ext)
"""

# The newest row of each ticket in the batch carries the ticket's fields.
_LATEST = """
SELECT l.source, l.ticket_ext, l.occurred_at, l.subject, l.channel, l.priority, l.customer_tier,
  tm.id AS team_id, ag.id AS agent_id, COALESCE(ag.vendor_id, tm.vendor_id) AS vendor_id
FROM (
  SELECT s.*, ROW_NUMBER() OVER (
    PARTITION BY s.source, s.ticket_ext ORDER BY s.occurred_at DESC, s.line DESC) AS rn
  FROM svc_stage s
) l
LEFT JOIN service_team tm ON tm.code = l.team
LEFT JOIN service_agent ag ON ag.source = l.source AND ag.external_id = l.agent
WHERE l.rn = 1
"""

_STATUS_KINDS = ("created", "status_change", "resolved", "reopened", "merged", "spam")
_RESOLUTION = "(e.kind = 'resolved' OR (e.kind = 'status_change' AND e.status IN ('resolved', 'closed')))"


def _derivation(events: str, keys: tuple[str, ...], tie_break: str, carry: tuple[str, ...] = ()) -> str:
    """SQL: one row per ticket (KEYS) of the EVENTS (aliased ``e``) with everything they say about it,
    in one pass of window functions (no join between per-ticket subqueries, which planners misjudge).

    Status: the newest status-bearing event decides (created → new, status_change → its status,
    resolved, reopened → open, merged and spam → closed); a new ticket with a public reply is open.
    Events at the same instant are ordered by TIE_BREAK. CARRY: columns taken from the newest event.
    """
    keys_e = ", ".join(f"e.{k}" for k in keys)
    outer = ", ".join((*keys, *carry))
    inner = ", ".join(f"e.{c}" for c in (*keys, *carry))
    status_kinds = ", ".join(f"'{kind}'" for kind in _STATUS_KINDS)
    return f"""
  SELECT {outer}, opened_at,
    CASE WHEN last_status = 'new' AND agent_reply_count > 0 THEN 'open' ELSE last_status END AS status,
    first_response_at, first_resolved_at,
    CASE WHEN last_status IN ('resolved', 'closed') THEN last_resolved_at END AS resolved_at,
    reopen_count, agent_reply_count, is_merged, is_spam
  FROM (
    SELECT {inner},
      ROW_NUMBER() OVER (PARTITION BY {keys_e} ORDER BY e.occurred_at DESC, {tie_break} DESC) AS rn,
      MIN(CASE WHEN e.kind = 'created' THEN e.occurred_at END) OVER w AS opened_at,
      SUM(CASE WHEN e.kind = 'agent_reply' THEN 1 ELSE 0 END) OVER w AS agent_reply_count,
      MIN(CASE WHEN e.kind = 'agent_reply' THEN e.occurred_at END) OVER w AS first_response_at,
      MIN(CASE WHEN {_RESOLUTION} THEN e.occurred_at END) OVER w AS first_resolved_at,
      MAX(CASE WHEN {_RESOLUTION} THEN e.occurred_at END) OVER w AS last_resolved_at,
      SUM(CASE WHEN e.kind = 'reopened' THEN 1 ELSE 0 END) OVER w AS reopen_count,
      (MAX(CASE WHEN e.kind = 'merged' THEN 1 ELSE 0 END) OVER w) = 1 AS is_merged,
      (MAX(CASE WHEN e.kind = 'spam' THEN 1 ELSE 0 END) OVER w) = 1 AS is_spam,
      FIRST_VALUE(
        CASE e.kind WHEN 'created' THEN 'new' WHEN 'resolved' THEN 'resolved' WHEN 'reopened' THEN 'open'
          WHEN 'merged' THEN 'closed' WHEN 'spam' THEN 'closed' ELSE e.status END
      ) OVER (
        PARTITION BY {keys_e}
        ORDER BY CASE WHEN e.kind IN ({status_kinds}) THEN 0 ELSE 1 END, e.occurred_at DESC, {tie_break} DESC
      ) AS last_status
    FROM {events}
    WINDOW w AS (PARTITION BY {keys_e})
  ) f
  WHERE f.rn = 1
"""  # noqa: S608 (fixed SQL text: constants only)


_DERIVED = (
    "status",
    "first_response_at",
    "first_resolved_at",
    "resolved_at",
    "reopen_count",
    "agent_reply_count",
    "is_merged",
    "is_spam",
)

_CARRIED = ("subject", "channel", "priority", "customer_tier", "team", "agent")
# A new ticket's events are all in the batch: its figures come straight from the staged rows.
_NEW_TICKETS = f"""
INSERT INTO service_ticket (source, external_id, subject, channel, priority, customer_tier, team_id,
  agent_id, vendor_id, opened_at, {", ".join(_DERIVED)}, created_at, updated_at)
SELECT f.source, f.ticket_ext, f.subject, f.channel, f.priority, f.customer_tier, tm.id,
  ag.id, COALESCE(ag.vendor_id, tm.vendor_id), f.opened_at, {", ".join(f"f.{c}" for c in _DERIVED)}, %s, %s
FROM ({_derivation("svc_stage e", ("source", "ticket_ext"), "e.line", _CARRIED)}) f
LEFT JOIN service_team tm ON tm.code = f.team
LEFT JOIN service_agent ag ON ag.source = f.source AND ag.external_id = f.agent
WHERE f.opened_at IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM service_ticket t WHERE t.source = f.source AND t.external_id = f.ticket_ext)
RETURNING id
"""  # noqa: S608 (fixed SQL text: constants only, values go in as parameters)

_TICKET_COLUMNS = ("subject", "channel", "priority", "customer_tier", "team_id", "agent_id", "vendor_id")

_UPDATE_TICKETS = f"""
UPDATE service_ticket SET {", ".join(f"{c} = l.{c}" for c in _TICKET_COLUMNS)}, updated_at = %s
FROM ({_LATEST}) l
WHERE service_ticket.source = l.source AND service_ticket.external_id = l.ticket_ext
  AND ({" OR ".join(f"service_ticket.{c} IS DISTINCT FROM l.{c}" for c in _TICKET_COLUMNS)})
  AND l.occurred_at >= COALESCE(
    (SELECT MAX(e.occurred_at) FROM service_ticketevent e WHERE e.ticket_id = service_ticket.id),
    l.occurred_at)
RETURNING service_ticket.id
"""  # noqa: S608 (fixed SQL text: constants only, values go in as parameters)

_NEW_EVENTS = """
INSERT INTO service_ticketevent
  (ticket_id, external_id, kind, occurred_at, agent_id, status, created_at, updated_at)
SELECT t.id, s.event_ext, s.kind, s.occurred_at, a.id, s.status, %s, %s
FROM svc_stage s
JOIN service_ticket t ON t.source = s.source AND t.external_id = s.ticket_ext
LEFT JOIN service_agent a ON a.source = s.source AND a.external_id = s.event_agent
WHERE TRUE
ON CONFLICT (ticket_id, external_id) DO NOTHING
RETURNING ticket_id
"""

# Tickets stored before the batch that got new events: re-derived from all their stored events.
_STORED_EVENTS = "service_ticketevent e JOIN svc_touched x ON x.id = e.ticket_id"
_DERIVE = f"""
UPDATE service_ticket SET {", ".join(f"{c} = d.{c}" for c in _DERIVED)}, updated_at = %s
FROM ({_derivation(_STORED_EVENTS, ("ticket_id",), "e.id")}) d
WHERE service_ticket.id = d.ticket_id
  AND ({" OR ".join(f"service_ticket.{c} IS DISTINCT FROM d.{c}" for c in _DERIVED)})
"""  # noqa: S608 (fixed SQL text: constants only, values go in as parameters)

# The customer of each batch ticket that has none yet, from its newest row naming one (issue 4
# item 4: the survey goes to the customer's e-mail). The shop's customer id first, within
# customer_source when given (Customer ids are unique per source only), else the e-mail
# (case-insensitive). Merged and anonymised records are never matched, and a reference that fits
# several customers is left unlinked: a wrong link would send one person's survey to another.
_LIVE = "c.merged_into_id IS NULL AND c.anonymised_at IS NULL"
_CUSTOMER_MATCHES = f"""
WITH r AS (
  SELECT t.id AS ticket_id, x.customer_source, x.customer_ext, x.customer_email
  FROM (
    SELECT s.source, s.ticket_ext, s.customer_source, s.customer_ext, s.customer_email, ROW_NUMBER() OVER (
      PARTITION BY s.source, s.ticket_ext ORDER BY s.occurred_at DESC, s.line DESC) AS rn
    FROM svc_stage s WHERE s.customer_ext <> '' OR s.customer_email <> ''
  ) x
  JOIN service_ticket t ON t.source = x.source AND t.external_id = x.ticket_ext
  WHERE x.rn = 1 AND t.customer_id IS NULL
)
INSERT INTO svc_custref (ticket_id, customer_id, state)
SELECT r.ticket_id,
  CASE WHEN i.n = 1 THEN i.customer_id WHEN m.n = 1 THEN m.customer_id END,
  CASE WHEN i.n = 1 OR m.n = 1 THEN 'linked' WHEN i.n > 1 OR m.n > 1 THEN 'ambiguous' ELSE 'unmatched' END
FROM r
LEFT JOIN (
  SELECT r.ticket_id, MIN(c.id) AS customer_id, COUNT(*) AS n
  FROM r JOIN customers_customer c ON c.external_id = r.customer_ext
    AND (r.customer_source = '' OR c.source = r.customer_source)
  WHERE r.customer_ext <> '' AND {_LIVE}
  GROUP BY r.ticket_id
) i ON i.ticket_id = r.ticket_id
LEFT JOIN (
  SELECT r.ticket_id, MIN(c.id) AS customer_id, COUNT(*) AS n
  FROM r JOIN customers_customer c ON LOWER(c.email) = r.customer_email
  WHERE r.customer_email <> '' AND {_LIVE}
  GROUP BY r.ticket_id
) m ON m.ticket_id = r.ticket_id
"""  # noqa: S608 (fixed SQL text: constants only)

_LINK_CUSTOMERS = """
UPDATE service_ticket SET customer_id = m.customer_id, updated_at = %s
FROM svc_custref m
WHERE service_ticket.id = m.ticket_id AND m.state = 'linked' AND service_ticket.customer_id IS NULL
RETURNING service_ticket.id
"""

_CREATION_MESSAGES = {
    "no_created": ("ticket_id", "The ticket has no ‘created’ event, neither in this input nor stored."),
    "before_created": ("occurred_at", "The event is before the ticket was created ({opened})."),
    "already_created": ("kind", "The ticket was already created with another event id."),
}


def _shown(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return f"{timezone.localtime(value):%Y-%m-%d %H:%M:%S %Z}"


def _check_stage(cursor: Any) -> list[RowError]:
    """Refuse what only shows against other rows or the stored tickets; drop those rows from staging."""
    errors: list[RowError] = []
    cursor.execute(_UNKNOWN_TEAMS)
    for line, team in cursor.fetchall():
        errors.append(
            RowError(
                line, "team", f"Unknown team “{team}”: set teams up in Steward first (they carry the vendor)."
            )
        )
    if errors:
        _drop_lines(cursor, [e.line for e in errors])
    cursor.execute(f"SELECT line, problem, opened_at FROM ({_CREATION_PROBLEMS}) p WHERE problem IS NOT NULL")  # noqa: S608
    found = []
    for line, problem, opened in cursor.fetchall():
        name, message = _CREATION_MESSAGES[problem]
        found.append(RowError(line, name, message.format(opened=_shown(opened) if opened else "")))
    if found:
        _drop_lines(cursor, [e.line for e in found])
    return sorted(errors + found, key=lambda e: (e.line, e.field))


def _unknown_agents(cursor: Any, agents: set[tuple[str, str]]) -> bool:
    """Whether any of AGENTS ((source, id) named by the rows) is not stored yet (agents are few)."""
    sources = sorted({source for source, _ in agents})
    if not sources:
        return False
    marks = ", ".join(["%s"] * len(sources))
    cursor.execute(f"SELECT source, external_id FROM service_agent WHERE source IN ({marks})", sources)  # noqa: S608
    return bool(agents - set(cursor.fetchall()))


def _write_stage(
    cursor: Any, result: IngestResult, tickets_in_batch: int, agents: set[tuple[str, str]]
) -> set[int]:
    """Agents, tickets, events and derived figures from the staged rows; the ids of changed tickets."""
    now = _now_param()
    cursor.execute("SELECT COUNT(*) FROM svc_stage")
    if not cursor.fetchone()[0]:
        return set()
    if _unknown_agents(cursor, agents):
        cursor.execute(_NEW_AGENTS, [now, now])
        result.agents_created += max(cursor.rowcount, 0)
    cursor.execute(_NEW_TICKETS, [now, now])
    created = {row[0] for row in cursor.fetchall()}
    result.tickets_created += len(created)
    updated: set[int] = set()
    if len(created) < tickets_in_batch:  # some tickets were stored before: their fields may change
        if _postgres() and len(created) > ANALYZE_AFTER:
            cursor.execute("ANALYZE service_ticket")
        cursor.execute(_UPDATE_TICKETS, [now])
        updated = {row[0] for row in cursor.fetchall()} - created
    elif _postgres() and len(created) > ANALYZE_AFTER:
        cursor.execute("ANALYZE service_ticket")
    result.tickets_updated += len(updated)
    cursor.execute(_NEW_EVENTS, [now, now])
    with_events = [row[0] for row in cursor.fetchall()]
    result.events_created += len(with_events)
    touched = set(with_events) - created
    if touched:
        cursor.execute("DELETE FROM svc_touched")
        if _postgres():
            with cursor.cursor.copy("COPY svc_touched (id) FROM STDIN") as copy:
                for ticket_id in touched:
                    copy.write_row((ticket_id,))
            # Fresh statistics, or the planner takes a table filled in this transaction for empty
            # and joins it by nested loops (seconds instead of milliseconds per batch).
            cursor.execute("ANALYZE svc_touched")
            if len(touched) > ANALYZE_AFTER:
                cursor.execute("ANALYZE service_ticketevent")
        else:
            cursor.executemany("INSERT INTO svc_touched (id) VALUES (%s)", [(i,) for i in touched])
        cursor.execute(_DERIVE, [now])
    return set(with_events) | updated | created


def _link_customers(cursor: Any, result: IngestResult) -> set[int]:
    """Link the batch's tickets without a customer to the one live customer their rows name.

    Set-based: one INSERT … SELECT classifies every reference, one UPDATE writes the links. An
    unknown customer is not created (customer records come from the customers package's own
    collection, DPP1); the ticket stays unlinked and is counted. Returns the linked ticket ids.
    """
    cursor.execute("DROP TABLE IF EXISTS svc_custref")
    cursor.execute(
        "CREATE TEMP TABLE svc_custref "
        "(ticket_id bigint PRIMARY KEY, customer_id bigint, state text NOT NULL)"
    )
    cursor.execute(_CUSTOMER_MATCHES)
    cursor.execute(_LINK_CUSTOMERS, [_now_param()])
    linked = {row[0] for row in cursor.fetchall()}
    cursor.execute("SELECT state, COUNT(*) FROM svc_custref WHERE state <> 'linked' GROUP BY state")
    counts = dict(cursor.fetchall())
    cursor.execute("DROP TABLE svc_custref")
    result.customers_linked += len(linked)
    result.customers_unmatched += counts.get("unmatched", 0)
    result.customers_ambiguous += counts.get("ambiguous", 0)
    return linked


_STORED = """
SELECT t.opened_at, t.resolved_at FROM service_ticket t
JOIN (SELECT DISTINCT source, ticket_ext FROM svc_stage) s
  ON t.source = s.source AND t.external_id = s.ticket_ext
"""


def _stored_days(cursor: Any) -> set[date]:
    """Local opening and resolution days (today while open) of the batch's already stored tickets."""
    cursor.execute(_STORED)
    zone = local_zone()
    days: set[date] = set()
    for row in cursor.fetchall():
        for value in row:
            if value is None:
                days.add(timezone.localdate())
                continue
            moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
            days.add((moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(zone).date())
    return days


def _ingest_chunk(
    rows: list[Row], errors: list[RowError], result: IngestResult, *, actor: Any, via: str
) -> None:
    """Stage, check and write one batch inside the caller's transaction."""
    result.errors.extend(errors)
    with connection.cursor() as cursor:
        if _postgres():
            # The batch's sorts (per ticket, per time) fit in memory instead of spilling to disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        _create_stage(cursor)
        _load_stage(cursor, rows)
        result.errors.extend(_check_stage(cursor))
        tickets = len({(row[1], row[2]) for row in rows})
        agents = {(row[1], row[i]) for row in rows for i in (6, 13) if row[i]}
        filed_before = _stored_days(cursor)
        changed = _write_stage(cursor, result, tickets, agents)
        if any(row[_CUSTOMER_EXT] or row[_CUSTOMER_EMAIL] for row in rows):
            changed |= _link_customers(cursor, result)
        cursor.execute("DROP TABLE svc_stage")
        cursor.execute("DROP TABLE svc_touched")
    if changed:
        result.ticket_ids |= changed
        ids = sorted(changed)
        audit.record_event(
            AuditEvent.Action.OTHER,
            object_type="service.ticket",
            object_repr=f"Ticket ingest via {via}",
            detail={"via": via, **result.summary(), "tickets_in_batch": len(ids)},
            actor=actor,
        )
        transaction.on_commit(lambda: ticket_events_changed.send(sender=Ticket, ticket_ids=ids))
        # The SLA recomputation that follows refreshes the report rollups of the days the tickets
        # are filed on now; the days they were filed on before this batch are refreshed here.
        rollups_refresh_later(filed_before)


@dataclass
class Ingest:
    """One ingest run over many rows: remembers ids across batches to spot duplicates."""

    actor: Any
    via: str
    keep_good: bool = False
    default_source: str = DEFAULT_SOURCE
    chunk_rows: int = CHUNK_ROWS
    on_progress: Callable[[IngestResult], None] | None = None
    result: IngestResult = field(default_factory=IngestResult)
    _seen: dict[tuple[str, str, str], int] = field(default_factory=dict)
    _created: dict[tuple[str, str], int] = field(default_factory=dict)

    def _parse(self, batch: list[tuple[int, Sequence[Any]]]) -> tuple[list[Row], list[RowError]]:
        rows: list[Row] = []
        errors: list[RowError] = []
        seen = self._seen
        for line, values in batch:
            if len(values) == 1:
                unreadable = _unreadable(line, list(values))
                if unreadable is not None:
                    errors.append(unreadable)
                    continue
            row = parse_row(values, line, self.default_source, errors)
            if row is None:
                continue
            key = (row[1], row[2], row[3])
            first = seen.get(key)
            if first is not None:
                errors.append(
                    RowError(
                        line,
                        "event_id",
                        f"Event “{row[3]}” of ticket “{row[2]}” appears again (first on line {first}).",
                    )
                )
                continue
            if row[4] == "created":
                ticket = (row[1], row[2])
                other = self._created.get(ticket)
                if other is not None:
                    errors.append(
                        RowError(
                            line, "kind", f"The ticket has a second ‘created’ event (first on line {other})."
                        )
                    )
                    continue
                self._created[ticket] = line
            seen[key] = line
            rows.append(row)
        return rows, errors

    def _batches(
        self, rows: Iterable[tuple[int, Sequence[Any]]]
    ) -> Iterator[list[tuple[int, Sequence[Any]]]]:
        batch: list[tuple[int, Sequence[Any]]] = []
        for item in rows:
            batch.append(item)
            if len(batch) >= self.chunk_rows:
                yield batch
                batch = []
        if batch:
            yield batch

    def _one(self, batch: list[tuple[int, Sequence[Any]]]) -> None:
        rows, errors = self._parse(batch)
        self.result.rows += len(batch)
        _ingest_chunk(rows, errors, self.result, actor=self.actor, via=self.via)
        self.result.rows_rejected = len(self.result.rejected_lines)

    def run(self, rows: Iterable[tuple[int, Sequence[Any]]]) -> IngestResult:
        """Ingest ROWS ((line, values in FIELDS order)); raise IngestRejected when all or nothing fails."""
        if self.actor is not None and not self.actor.has_perm("service.add_ticket"):
            raise PermissionDenied("Importing tickets needs the customer-service manager role.")
        if self.keep_good:
            for batch in self._batches(rows):
                with transaction.atomic():
                    self._one(batch)
                if self.on_progress is not None:
                    self.on_progress(self.result)
            self.result.errors.sort(key=lambda e: (e.line, e.field))
            return self.result
        with transaction.atomic():
            for batch in self._batches(rows):
                self._one(batch)
                if self.on_progress is not None:
                    self.on_progress(self.result)
            if self.result.errors:
                self.result.errors.sort(key=lambda e: (e.line, e.field))
                raise IngestRejected(self.result)
        return self.result


def ingest(
    rows: Iterable[tuple[int, Sequence[Any]]],
    *,
    actor: Any,
    via: str,
    keep_good: bool = False,
    default_source: str = DEFAULT_SOURCE,
    chunk_rows: int = CHUNK_ROWS,
    on_progress: Callable[[IngestResult], None] | None = None,
) -> IngestResult:
    """Ingest ROWS through the one shared path (see the module docstring).

    ACTOR is the acting user (needs ``service.add_ticket``), or None for the system (a signed
    webhook, the demo seed, the benchmark). VIA names the way in for the audit trail.
    """
    return Ingest(
        actor=actor,
        via=via,
        keep_good=keep_good,
        default_source=default_source,
        chunk_rows=chunk_rows,
        on_progress=on_progress,
    ).run(rows)


def rows_from_tickets(
    tickets: Sequence[dict[str, Any]],
) -> tuple[list[tuple[int, list[Any]]], Callable[[RowError], str]]:
    """Flatten API tickets (ticket fields + ``events``) to rows, and map a row error back to its JSON path."""
    rows: list[tuple[int, list[Any]]] = []
    where: dict[int, tuple[int, int]] = {}
    line = 0
    for t_index, ticket in enumerate(tickets):
        base = {k: v for k, v in ticket.items() if k != "events"}
        for e_index, event in enumerate(ticket.get("events", [])):
            line += 1
            data = {**base, **{("event_agent" if k == "agent" else k): v for k, v in event.items()}}
            rows.append((line, values_from_mapping(data)))
            where[line] = (t_index, e_index)

    def locate(error: RowError) -> str:
        t_index, e_index = where.get(error.line, (0, 0))
        prefix = f"tickets.{t_index}"
        if error.field in TICKET_FIELDS:
            return f"{prefix}.{error.field}"
        name = "agent" if error.field == "event_agent" else error.field
        return f"{prefix}.events.{e_index}.{name}" if name else f"{prefix}.events.{e_index}"

    return rows, locate
