"""Customer-service ingest (issue 4): the real import path against a raw bulk load of the same rows.

Data: ``ctx.size(5_000_000)`` tickets with four events each (20 million events at scale 1) over
two years, 200 agents in 10 teams, 3 outsourcing vendors (bench/generators.py
``service_event_rows``), as the flat rows of text a helpdesk export holds (docs/service.md).

- *Subject*: ``service.importing.ingest`` over those rows, exactly as the file import, the bulk API
  and the webhook call it: every field checked in Python (kinds, lengths, time zones, duplicate
  ids), rows staged (``COPY`` on PostgreSQL, ``executemany`` on SQLite), checked in SQL (unknown
  teams, events before creation), then tickets and events written set-based and each ticket's
  status, first response, resolution and counts derived from its events, all or nothing.
- *Baseline*: the same tickets and events loaded raw into the same tables, with everything the
  import works out (ids, foreign keys, derived figures, parsed times) handed to it precomputed:
  ``COPY`` on PostgreSQL, one ``executemany`` per table on SQLite, one transaction.

Target (issue 4): subject throughput ≥ 0.4 × baseline throughput, i.e. time ratio ≤ 2.5×. The
tables are emptied (untimed) before every run; the ratio is the price of checking and deriving.

Two rows. The first times the import path up to its commit, as a user waits for it: the SLA
recomputation and the rollup refresh it queues on commit run on Celery workers in production and
are another benchmark's subject (``service_sla``, ``service_kpis``), so here they are switched off
(the signal receiver disconnected, the rollup hook a no-op) for the timed run. The second row
times the same import with that follow-up work run inline, as eager Celery does in the demo, for
the whole cost from file to fresh reports.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any
from unittest import mock

from django.db import connection, transaction

from bench.generators import TICKET_ROW_FIELDS, ServiceWorld, service_event_rows, service_world
from bench.harness import Context, Row
from service import importing
from service.models import Agent, Team, Ticket, TicketEvent
from vendors.models import Vendor

FULL_SIZE = 5_000_000
TICKET_COLUMNS = (
    "id, source, external_id, subject, channel, priority, status, customer_tier, team_id, agent_id, "
    "vendor_id, is_merged, is_spam, opened_at, first_response_at, first_resolved_at, resolved_at, "
    "reopen_count, agent_reply_count, created_at, updated_at"
)
EVENT_COLUMNS = "ticket_id, external_id, kind, occurred_at, agent_id, status, created_at, updated_at"


def _world(ctx: Context) -> tuple[ServiceWorld, dict[str, tuple[int, int | None]], dict[str, int]]:
    """Vendors, teams and agents in the database; (team code → (id, vendor id)), (agent id → pk)."""
    world = service_world(ctx.synth("service-world"))
    vendors = Vendor.objects.bulk_create(
        [Vendor(code=code, name=name, status=Vendor.Status.ACTIVE) for code, name in world.vendors]
    )
    teams = Team.objects.bulk_create(
        [
            Team(code=code, name=name, vendor=vendors[index] if index is not None else None)
            for code, name, index in world.teams
        ]
    )
    by_code = {team.code: team for team in teams}
    agents = Agent.objects.bulk_create(
        [
            Agent(
                source="bench",
                external_id=ext,
                name=name,
                team=by_code[team],
                vendor_id=by_code[team].vendor_id,
            )
            for ext, name, team in world.agents
        ]
    )
    return (
        world,
        {team.code: (team.pk, team.vendor_id) for team in teams},
        {agent.external_id: agent.pk for agent in agents},
    )


def _baseline_rows(
    rows: list[tuple[str, ...]], teams: dict[str, tuple[int, int | None]], agents: dict[str, int]
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The finished ticket and event rows the import produces, worked out beforehand (untimed)."""
    now = datetime.now(UTC)
    tickets: list[tuple[Any, ...]] = []
    events: list[tuple[Any, ...]] = []
    for start in range(0, len(rows), 4):
        group = rows[start : start + 4]
        first = group[0]
        pk = start // 4 + 1
        team_id, vendor_id = teams[first[11]]
        agent_id = agents[first[12]]
        times = [datetime.fromisoformat(row[4]) for row in group]
        tickets.append(
            (
                pk, "bench", first[1], first[7], first[8], first[9], "resolved", first[10], team_id, agent_id,
                vendor_id, False, False, times[0], times[2], times[3], times[3], 0, 1, now, now,
            )
        )  # fmt: skip
        for row, moment in zip(group, times, strict=True):
            events.append((pk, row[2], row[3], moment, agents.get(row[5]), "", now, now))
    return tickets, events


def _empty() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("TRUNCATE service_ticketevent, service_ticket RESTART IDENTITY CASCADE")
        else:
            cursor.execute("DELETE FROM service_ticketevent")
            cursor.execute("DELETE FROM service_ticket")


def _raw_load(tickets: list[tuple[Any, ...]], events: list[tuple[Any, ...]]) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY service_ticket ({TICKET_COLUMNS}) FROM STDIN") as copy:
                for ticket in tickets:
                    copy.write_row(ticket)
            with cursor.cursor.copy(f"COPY service_ticketevent ({EVENT_COLUMNS}) FROM STDIN") as copy:
                for event in events:
                    copy.write_row(event)
            return
        ticket_marks = ", ".join(["%s"] * 21)
        cursor.executemany(
            f"INSERT INTO service_ticket ({TICKET_COLUMNS}) VALUES ({ticket_marks})",  # noqa: S608
            tickets,
        )
        cursor.executemany(
            f"INSERT INTO service_ticketevent ({EVENT_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",  # noqa: S608
            events,
        )


@contextmanager
def _follow_up_on_workers() -> Iterator[None]:
    """Leave out the work the import queues on commit (SLA recomputation, rollup refresh)."""
    from service import signals

    uid = "service.sla.recompute_on_events"
    signals.ticket_events_changed.disconnect(dispatch_uid=uid)
    try:
        with mock.patch("service.importing.rollups_refresh_later", lambda days: None):
            yield
    finally:
        signals.ticket_events_changed.connect(signals._recompute_sla_after_events, dispatch_uid=uid)


def run(ctx: Context) -> list[Row]:
    if TICKET_ROW_FIELDS != importing.FIELDS:
        raise RuntimeError("bench.generators.TICKET_ROW_FIELDS no longer matches service.importing.FIELDS")
    n = ctx.size(FULL_SIZE, minimum=1000)
    world, teams, agents = _world(ctx)
    start = datetime(2024, 11, 1, tzinfo=UTC)
    rows = list(service_event_rows(ctx.synth("service-tickets"), world, n, start=start))
    lines = [(i, row) for i, row in enumerate(rows, start=2)]
    tickets, events = _baseline_rows(rows, teams, agents)
    ctx.log(f"service ingest: {n:,} tickets, {len(rows):,} events over {timedelta(days=730).days} days")

    def subject() -> None:
        with _follow_up_on_workers():
            importing.ingest(lines, actor=None, via="benchmark", default_source="bench")

    def subject_inline() -> None:
        importing.ingest(lines, actor=None, via="benchmark", default_source="bench")

    baseline_label = "raw COPY" if connection.vendor == "postgresql" else "raw executemany"
    inline = ctx.compare(
        f"Ingest {n:,} tickets / {len(rows):,} events, SLA recomputation and rollup refresh inline",
        baseline=(baseline_label, lambda: _raw_load(tickets, events)),
        subject=("ingest + the SLA results and rollups it queues, run eagerly", subject_inline),
        setup=_empty,
        max_ratio=2.5,
        repeats=min(ctx.repeats, 3),
        notes="the follow-up runs on Celery workers in production; shown for the cost from file to reports",
    )
    row = ctx.compare(
        f"Ingest {n:,} tickets / {len(rows):,} events through the import path",
        baseline=(
            "raw COPY" if connection.vendor == "postgresql" else "raw executemany",
            lambda: _raw_load(tickets, events),
        ),
        subject=("service.importing.ingest (checks, staging, upserts, derived figures)", subject),
        setup=_empty,
        max_ratio=2.5,
        repeats=min(ctx.repeats, 3),
    )
    stored = Ticket.objects.filter(status="resolved", first_response_at__isnull=False).count()
    stored_events = TicketEvent.objects.count()
    if (stored, stored_events) != (n, len(rows)):
        raise RuntimeError(
            f"the import stored {stored} tickets and {stored_events} events, not {n} and {len(rows)}"
        )
    rate = len(rows) / row.subject_s
    base_rate = len(rows) / row.baseline_s
    notes = (
        f"throughput {rate:,.0f} vs {base_rate:,.0f} events/s = {rate / base_rate:.2f} of the baseline "
        "(target ≥ 0.4); ratio column is time"
    )
    return [Row(**{**row.__dict__, "notes": notes}), inline]
