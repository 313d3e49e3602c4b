"""SLA computation for every ticket (issue 4, performance): Steward's vectorised recompute
(``service/sla_batch.py`` on the cumulative business-time index) against straightforward
per-ticket loops over the same calendars, tickets and events.

Data: N tickets (5,000,000 at scale 1) over two years (2025–2026) with about five events each
(creation, sometimes a bot reply, first agent reply, sometimes a pending spell, a customer
follow-up and its answer, resolution, sometimes a reopen), on the demo's policies: a Hong Kong
office calendar (Mon–Fri 09:00–13:00 and 14:00–18:00, Sat 09:00–13:00, Hong Kong general
holidays, one custom and one worked day) and a 24×7 calendar for urgent tickets.

Every row gives both sides the same inputs and asks for the same outputs (ratios are subject ÷
baseline; the issue's "≥ 20× faster" is a target of ≤ 0.05×):

- *in memory*: the inputs are the tickets and events as ``service.sla.load_chunk`` reads them
  (plain tuples, times as epoch seconds), read once before timing; the output is every ticket's
  six minute figures and its SLA rows as tuples. The baseline groups the events by ticket and, per
  ticket, applies the rules (``ticket_facts``, ``ticket_results``) asking its calendar about
  business time; the subject is ``service.sla_batch.compute`` with a fresh policy book (building
  the index is part of its work). Two baselines: the *minute loop* (``service/sla_naive.py``: is
  this minute business time?) on a sample of 200 tickets, because it needs minutes per thousand
  tickets; and the stronger *day loop* (each day's business intervals built from the timeframes
  and summed, what one writes without an index) on all N tickets. Both check that the outputs are
  identical.
- *end to end*: everything from the database back to the database, for all N tickets. The
  baseline reads each chunk with the same two queries, runs the day loop per ticket and stores the
  results with the same bulk writes; the subject is ``recompute_opened_between()`` (the path the
  policy and calendar changes, the API and ``manage.py recompute_sla`` use). Only the
  computation differs, so the ratio shows what reading and writing leave of the gain.
- *per-ticket ORM loop*: the most literal "per-ticket loop": read one ticket and its events,
  compute with the day loop, save the ticket and ``update_or_create`` each SLA row; on a sample of
  1,000 tickets, per ticket, against the end-to-end subject per ticket.
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from bench.harness import Context, Row, ratio_row
from service import sla, sla_batch, sla_services
from service.models import CalendarHoliday, Ticket, TicketEvent, TicketSla
from service.sla import CalendarSpec, PolicyBook, ticket_facts, ticket_results
from service.sla_naive import NaiveTime
from service.sla_services import Timeframe

HK = ZoneInfo("Asia/Hong_Kong")
START = datetime(2025, 1, 1, tzinfo=HK)
DAYS = 730
BATCH = 20_000
NOW = datetime(2027, 1, 15, tzinfo=UTC)


class DayWalkTime:
    """Business time by walking day by day: each day's intervals from the timeframes, summed."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.time_zone)

    def _day(self, t: int) -> date:
        return datetime.fromtimestamp(t, tz=self.zone).date()

    def between(self, a: int, b: int) -> int:
        total = 0
        day, last = self._day(a), self._day(b)
        while day <= last:
            for s, e in sla.day_intervals(self.spec, self.zone, day):
                lo, hi = max(a, s), min(b, e)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add(self, start: int, seconds: int, pauses=()) -> int | None:  # type: ignore[no-untyped-def]
        if seconds <= 0:
            return start
        remaining = seconds
        day = self._day(start)
        for _ in range(2 * 366):
            for s, e in sla.day_intervals(self.spec, self.zone, day):
                lo = max(s, start)
                while lo < e:
                    hi, blocked = e, False
                    for pa, pb in pauses:
                        if pa <= lo and (pb is None or lo < pb):
                            if pb is None:
                                return None
                            lo, blocked = pb, True
                            break
                        if lo < pa < hi:
                            hi = pa
                    if blocked:
                        continue
                    if hi - lo >= remaining:
                        return lo + remaining
                    remaining -= hi - lo
                    lo = hi
            day += timedelta(days=1)
        return None


def _seed_policies() -> None:
    office = sla_services.calendar_create(
        actor=None,
        name="HK office",
        timeframes=[
            *(Timeframe(d, s, e) for d in range(5) for s, e in ((540, 780), (840, 1080))),
            Timeframe(5, 540, 780),
        ],
    )
    sla_services.holiday_set(actor=None, calendar=office, day=date(2026, 6, 12), name="Anniversary")
    sla_services.holiday_set(
        actor=None, calendar=office, day=date(2026, 12, 26), name="Sale", kind=CalendarHoliday.Kind.WORKED
    )
    always = sla_services.calendar_create(
        actor=None,
        name="24x7",
        hk_public_holidays=False,
        timeframes=[Timeframe(d, 0, 1440) for d in range(7)],
    )
    policies: list[tuple[str, dict[str, Any], Any, tuple[int, int, int]]] = [
        ("Urgent", {"priorities": ["urgent"]}, always, (30, 60, 240)),
        ("VIP", {"customer_tiers": ["vip"]}, office, (60, 120, 960)),
        ("High", {"priorities": ["high"]}, office, (120, 240, 1440)),
        ("Standard", {}, office, (480, 480, 2400)),
    ]
    for name, conditions, calendar, targets in policies:
        sla_services.policy_create(
            actor=None,
            name=name,
            calendar=calendar,
            first_response_minutes=targets[0],
            next_response_minutes=targets[1],
            resolution_minutes=targets[2],
            **conditions,
        )


def _ticket_batch(rng: random.Random, first: int, n: int) -> tuple[list[Ticket], list[list[tuple]]]:
    tickets, plans = [], []
    for i in range(first, first + n):
        day = START + timedelta(days=rng.randrange(DAYS))
        # Most tickets arrive in the daytime; some at night or at the weekend.
        minute = rng.randrange(8 * 60, 20 * 60) if rng.random() < 0.85 else rng.randrange(0, 1440)
        opened = (day + timedelta(minutes=minute, seconds=rng.randrange(60))).astimezone(UTC)
        priority = rng.choices(["low", "normal", "high", "urgent"], weights=[15, 60, 20, 5])[0]
        tickets.append(
            Ticket(
                external_id=f"B{i:08d}",
                opened_at=opened,
                priority=priority,
                channel=rng.choice(["email", "chat", "phone", "whatsapp"]),
                customer_tier="vip" if rng.random() < 0.05 else "",
            )
        )
        t = opened
        events: list[tuple] = [("created", t, "")]
        if rng.random() < 0.3:
            events.append(("bot_reply", t + timedelta(seconds=20), ""))
        t += timedelta(minutes=rng.expovariate(1 / 240))
        events.append(("agent_reply", t, ""))
        if rng.random() < 0.15:
            t += timedelta(minutes=rng.randrange(5, 60))
            events.append(("status_change", t, "pending"))
            t += timedelta(minutes=rng.expovariate(1 / 1440))
            events.append(("status_change", t, "open"))
        if rng.random() < 0.4:
            t += timedelta(minutes=rng.expovariate(1 / 300))
            events.append(("customer_message", t, ""))
            t += timedelta(minutes=rng.expovariate(1 / 200))
            events.append(("agent_reply", t, ""))
        if rng.random() < 0.92:
            t += timedelta(minutes=rng.expovariate(1 / 600))
            events.append(("resolved", t, ""))
            if rng.random() < 0.06:
                t += timedelta(minutes=rng.expovariate(1 / 2880))
                events.append(("reopened", t, ""))
                t += timedelta(minutes=rng.expovariate(1 / 300))
                events.append(("resolved", t, ""))
        plans.append(events)
    return tickets, plans


def _generate(ctx: Context, n: int) -> None:
    rng = random.Random(ctx.seed)
    made = 0
    while made < n:
        size = min(BATCH, n - made)
        tickets, plans = _ticket_batch(rng, made, size)
        with transaction.atomic():
            Ticket.objects.bulk_create(tickets, batch_size=2000)
            TicketEvent.objects.bulk_create(
                (
                    TicketEvent(ticket=ticket, external_id=f"e{j}", kind=kind, occurred_at=at, status=status)
                    for ticket, events in zip(tickets, plans, strict=True)
                    for j, (kind, at, status) in enumerate(events)
                ),
                batch_size=2000,
            )
        made += size


def _inputs(ids: list[int]) -> tuple[list[Any], list[Any]]:
    """Tickets and events of IDS as the recompute reads them (chunk by chunk, concatenated)."""
    tickets: list[Any] = []
    events: list[Any] = []
    for i in range(0, len(ids), sla.CHUNK):
        t, e = sla.load_chunk(ids[i : i + sla.CHUNK])
        tickets.extend(t)
        events.extend(e)
    return tickets, events


def _per_ticket(book: PolicyBook, times: dict, tickets: list, events: list, now: int) -> sla_batch.Output:
    """The straightforward way: events grouped by ticket, then the rules ticket by ticket, each
    business-time question answered by TIMES[calendar]."""
    by_ticket: dict[int, list[tuple[str, int, str]]] = defaultdict(list)
    for tid, kind, at, status in events:
        by_ticket[tid].append((kind, at, status))
    figures, rows = [], []
    for pk, opened, priority, channel, tier, team_id, merged, spam in tickets:
        facts = ticket_facts(opened, by_ticket.get(pk, []))
        facts.merged_or_spam = facts.merged_or_spam or merged or spam
        rule = book.match(priority, channel, tier, team_id, opened)
        if rule is None:
            figs, results = ticket_results(facts, {}, None, now)
        else:
            figs, results = ticket_results(facts, rule.targets, times[rule.calendar_id], now)
        figures.append(sla_batch.as_figure_row(pk, figs))
        rows.extend(sla_batch.as_sla_rows(pk, results))
    return sla_batch.Output(figures, rows)


def _vectorised(book: PolicyBook, tickets: list, events: list, now: int) -> sla_batch.Output:
    fresh = PolicyBook(rules=book.rules, specs=book.specs)  # the index is built inside the timing
    return sla_batch.compute(fresh, tickets, events, now)


def _same(a: sla_batch.Output, b: sla_batch.Output) -> bool:
    return sorted(a.figures) == sorted(b.figures) and sorted(a.rows, key=repr) == sorted(b.rows, key=repr)


def _compare_outputs(
    ctx: Context, name: str, baseline: tuple[str, Any], subject: tuple[str, Any], repeats: int, notes: str
) -> Row:
    """ctx.compare, keeping the outputs of the timed calls to check that they are identical."""
    seen: dict[str, sla_batch.Output] = {}

    def keep(label: str, fn: Any) -> Any:
        def call() -> None:
            seen[label] = fn()

        return call

    row = ctx.compare(
        name,
        baseline=(baseline[0], keep("baseline", baseline[1])),
        subject=(subject[0], keep("subject", subject[1])),
        max_ratio=0.05,
        repeats=repeats,
        notes=notes,
    )
    assert _same(seen["baseline"], seen["subject"]), f"{name}: outputs differ"
    return row


def _loop_recompute(ids: list[int], now: int) -> None:
    """End-to-end baseline: the recompute's reads and writes, the day loop in between."""
    book = PolicyBook.load()
    daywalk = {pk: DayWalkTime(spec) for pk, spec in book.specs.items()}
    for i in range(0, len(ids), sla.CHUNK):
        chunk = ids[i : i + sla.CHUNK]
        tickets, events = sla.load_chunk(chunk)
        out = _per_ticket(book, daywalk, tickets, events, now)
        sla.write_results([t[0] for t in tickets], out.figures, out.rows)


def _per_ticket_orm_loop(ids: list[int], now: datetime) -> None:
    """One ticket at a time: its row, its events, the day loop, one save and one row per target."""
    book = PolicyBook.load()
    daywalk = {pk: DayWalkTime(spec) for pk, spec in book.specs.items()}
    current = sla.epoch(now)
    for pk in ids:
        with transaction.atomic():
            ticket = Ticket.objects.get(pk=pk)
            events = [
                (e.kind, sla.epoch(e.occurred_at), e.status)
                for e in ticket.events.order_by("occurred_at", "pk")
            ]
            facts = ticket_facts(sla.epoch(ticket.opened_at), events)
            facts.merged_or_spam = facts.merged_or_spam or ticket.is_merged or ticket.is_spam
            rule = book.match(
                ticket.priority, ticket.channel, ticket.customer_tier, ticket.team_id, facts.opened
            )
            if rule is None:
                figures, results = ticket_results(facts, {}, None, current)
            else:
                figures, results = ticket_results(facts, rule.targets, daywalk[rule.calendar_id], current)
            for name in sla.FIGURE_FIELDS:
                setattr(ticket, name, getattr(figures, name))
            ticket.save(update_fields=list(sla.FIGURE_FIELDS))
            for result in results:
                TicketSla.objects.update_or_create(
                    ticket=ticket,
                    target=result.target,
                    defaults={
                        "target_minutes": result.target_minutes,
                        "due_at": sla.from_epoch(result.due_at) if result.due_at else None,
                        "met": result.met,
                        "breached_at": sla.from_epoch(result.breached_at) if result.breached_at else None,
                        "business_minutes": result.business_minutes,
                    },
                )


def run(ctx: Context) -> list[Row]:
    n = ctx.size(5_000_000)
    ctx.log(f"service_sla: generating {n:,} tickets with events")
    _seed_policies()
    _generate(ctx, n)
    ids = list(Ticket.objects.order_by("pk").values_list("pk", flat=True))
    book = PolicyBook.load()
    now = sla.epoch(NOW)
    naive = {pk: NaiveTime(spec) for pk, spec in book.specs.items()}
    daywalk = {pk: DayWalkTime(spec) for pk, spec in book.specs.items()}
    tickets, events = _inputs(ids)
    rows: list[Row] = []

    step = max(1, len(ids) // 200)
    sample = set(ids[::step][:200])
    few = [t for t in tickets if t[0] in sample]
    few_events = [e for e in events if e[0] in sample]
    rows.append(
        _compare_outputs(
            ctx,
            f"SLA results of {len(few)} tickets in memory (sample of {n:,})",
            baseline=(
                "per-ticket loop, minute by minute",
                lambda: _per_ticket(book, naive, few, few_events, now),
            ),
            subject=("vectorised (sla_batch)", lambda: _vectorised(book, few, few_events, now)),
            repeats=min(ctx.repeats, 2),
            notes="same inputs, identical outputs (checked); the loop asks the calendar about every minute",
        )
    )
    rows.append(
        _compare_outputs(
            ctx,
            f"SLA results of all {n:,} tickets in memory",
            baseline=(
                "per-ticket loop, day by day",
                lambda: _per_ticket(book, daywalk, tickets, events, now),
            ),
            subject=("vectorised (sla_batch)", lambda: _vectorised(book, tickets, events, now)),
            repeats=min(ctx.repeats, 2),
            notes=f"{len(events):,} events; same inputs, identical outputs (checked); "
            "the loop builds each day's intervals as it walks",
        )
    )
    sla.recompute_opened_between(now=NOW)  # both sides below then update existing rows alike
    rows.append(
        ctx.compare(
            f"Recompute SLA of all {n:,} tickets, database to database",
            baseline=("same reads and writes, day loop per ticket", lambda: _loop_recompute(ids, now)),
            subject=("recompute_opened_between()", lambda: sla.recompute_opened_between(now=NOW)),
            max_ratio=0.05,
            repeats=1,
            notes=f"{TicketSla.objects.count():,} SLA rows written by both; only the computation differs",
        )
    )
    orm_sample = list(islice(ids, 0, None, max(1, len(ids) // 1000)))[:1000]
    loop_s = ctx.best_of(lambda: _per_ticket_orm_loop(orm_sample, NOW), repeats=1)
    bulk_s = rows[-1].subject_s
    per_loop, per_bulk = loop_s / len(orm_sample), bulk_s / len(ids)
    rows.append(
        ratio_row(
            f"Recompute SLA of all {n:,} tickets vs a per-ticket ORM loop, per ticket",
            baseline=(
                f"per-ticket ORM loop, day by day ({len(orm_sample):,} tickets: {loop_s:.1f} s)",
                per_loop,
            ),
            subject=(f"recompute_opened_between(), all ({bulk_s:.1f} s)", per_bulk),
            max_ratio=0.05,
            notes=f"{len(ids) / bulk_s:,.0f} tickets/s",
        )
    )
    return rows
