"""SLA computation for every ticket (issue 4, performance): the cumulative business-minute index
against straightforward per-ticket loops over the same calendar.

Data: N tickets (5,000,000 at scale 1) over two years (2025–2026) with about five events each
(creation, sometimes a bot reply, first agent reply, sometimes a pending spell, a customer
follow-up and its answer, resolution, sometimes a reopen), on the demo's policies: a Hong Kong
office calendar (Mon–Fri 09:00–13:00 and 14:00–18:00, Sat 09:00–13:00, Hong Kong general
holidays, one custom and one worked day) and a 24×7 calendar for urgent tickets.

Rows (ratios are subject ÷ baseline; "≥ 20× faster" is a target of ≤ 0.05×):
- *in memory, minute loop*: the same tickets and events, already read, through the same event
  rules (``ticket_facts``/``ticket_results``); the baseline asks the naive calendar
  (``service/sla_naive.py``: every minute, is it business time?), the subject the index. Run on a
  sample, because the baseline needs minutes per thousand tickets. Target ≥ 20× (the issue's).
- *in memory, day loop*: a stronger baseline that walks day by day, building each day's
  business intervals from the timeframes and summing overlaps (what one writes without an
  index). Run on a larger sample. Reported against the same ≥ 20× target.
- *arithmetic alone*: only the business-time questions those tickets ask (elapsed business time
  between two instants, due times with pauses skipped), replayed on the index (built afresh)
  and on the day-by-day walk: what the index itself buys, without the per-ticket work that
  both share (reading events, matching policies, building results).
- *end to end*: ``recompute_tickets`` over all N tickets in the database (read tickets and
  events, compute, ``bulk_update`` the minutes, upsert the SLA rows), per ticket, against a
  per-ticket ORM loop (read one ticket's events, compute, save the ticket and its rows one by
  one) on a sample. Target ≤ 0.5× per ticket.
Both in-memory rows check that subject and baseline produce identical results.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction

from bench.harness import Context, Row, ratio_row
from service import sla, sla_services
from service.models import CalendarHoliday, Ticket, TicketEvent, TicketSla
from service.sla import CalendarSpec, PolicyBook, compute_ticket, ticket_facts, ticket_results
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


def _in_memory(ids: list[int]) -> tuple[list[sla.TicketRow], dict[int, list[tuple[str, int, str]]]]:
    rows = sla._ticket_rows(ids)
    return rows, sla._event_rows(ids)


def _compute_indexed(book: PolicyBook, rows, events, now: int) -> list:
    book.indexes.clear()  # building the index is part of the work
    return [compute_ticket(book, row, events.get(row[0], []), now) for row in rows]


def _compute_with(book: PolicyBook, times: dict, rows, events, now: int) -> list:
    """The same rules, each business-time question answered by TIMES[calendar] instead of the index."""
    out = []
    for row in rows:
        pk, opened_at, priority, channel, tier, team_id, merged, spam = row
        opened = sla.epoch(opened_at)
        facts = ticket_facts(opened, events.get(pk, []))
        facts.merged_or_spam = facts.merged_or_spam or merged or spam
        rule = book.match(priority, channel, tier, team_id, opened)
        if rule is None:
            out.append(ticket_results(facts, {}, None, now))
        else:
            out.append(ticket_results(facts, rule.targets, times[rule.calendar_id], now))
    return out


class _Recorder:
    """Passes business-time questions on to INNER and notes them, to replay them alone later."""

    def __init__(self, inner: sla.BusinessTime, calendar_id: int, log: list) -> None:
        self.inner, self.calendar_id, self.log = inner, calendar_id, log

    def between(self, a: int, b: int) -> int:
        self.log.append((self.calendar_id, "between", (a, b)))
        return self.inner.between(a, b)

    def add(self, start: int, seconds: int, pauses=()) -> int | None:  # type: ignore[no-untyped-def]
        self.log.append((self.calendar_id, "add", (start, seconds, list(pauses))))
        return self.inner.add(start, seconds, pauses)


def _questions(book: PolicyBook, rows, events, now: int) -> list:
    """Every business-time question the tickets ask (what the index answers, and nothing else)."""
    log: list = []
    for row in rows:
        opened = sla.epoch(row[1])
        rule = book.match(row[2], row[3], row[4], row[5], opened)
        if rule is None:
            continue
        index = book.index(rule.calendar_id, opened)
        facts = ticket_facts(opened, events.get(row[0], []))
        ticket_results(facts, rule.targets, _Recorder(index, rule.calendar_id, log), now)
    return log


def _replay(times: dict, log: list) -> None:
    for calendar_id, op, args in log:
        getattr(times[calendar_id], op)(*args)


def _fresh_indexes(book: PolicyBook, rows) -> dict:
    book.indexes.clear()
    for row in rows:
        opened = sla.epoch(row[1])
        rule = book.match(row[2], row[3], row[4], row[5], opened)
        if rule is not None:
            book.index(rule.calendar_id, opened)
    return dict(book.indexes)


def _per_ticket_orm_loop(ids: list[int], now: datetime) -> None:
    """One ticket at a time: its row, its events, one save and one row per target."""
    book = PolicyBook.load()
    current = sla.epoch(now)
    for pk in ids:
        with transaction.atomic():
            ticket = Ticket.objects.get(pk=pk)
            events = [
                (e.kind, sla.epoch(e.occurred_at), e.status)
                for e in ticket.events.order_by("occurred_at", "pk")
            ]
            row = (
                pk,
                ticket.opened_at,
                ticket.priority,
                ticket.channel,
                ticket.customer_tier,
                ticket.team_id,
                ticket.is_merged,
                ticket.is_spam,
            )
            figures, results = compute_ticket(book, row, events, current)
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
    rows: list[Row] = []

    minute_sample = ids[:: max(1, len(ids) // min(len(ids), 200))][:200]
    data = _in_memory(minute_sample)
    assert _compute_indexed(book, *data, now) == _compute_with(book, naive, *data, now), "index ≠ minute loop"
    rows.append(
        ctx.compare(
            f"SLA results of {len(minute_sample)} tickets in memory (sample of {n:,})",
            baseline=("per-ticket loop, minute by minute", lambda: _compute_with(book, naive, *data, now)),
            subject=("cumulative business-minute index", lambda: _compute_indexed(book, *data, now)),
            max_ratio=0.05,
            repeats=min(ctx.repeats, 2),
            notes="same rules, same results (checked); the loop asks the calendar about every minute",
        )
    )

    day_sample = ids[:: max(1, len(ids) // min(len(ids), 20_000))][:20_000]
    data2 = _in_memory(day_sample)
    assert _compute_indexed(book, *data2, now) == _compute_with(book, daywalk, *data2, now), (
        "index ≠ day loop"
    )
    rows.append(
        ctx.compare(
            f"SLA results of {len(day_sample):,} tickets in memory (sample of {n:,})",
            baseline=("per-ticket loop, day by day", lambda: _compute_with(book, daywalk, *data2, now)),
            subject=("cumulative business-minute index", lambda: _compute_indexed(book, *data2, now)),
            max_ratio=0.05,
            repeats=min(ctx.repeats, 3),
            notes="same rules, same results (checked); the loop builds each day's intervals as it walks",
        )
    )

    log = _questions(book, *data2, now)
    rows.append(
        ctx.compare(
            f"Business-time arithmetic alone: the {len(log):,} questions of those tickets",
            baseline=("day-by-day interval walk", lambda: _replay(daywalk, log)),
            subject=("index (built afresh) + bisect", lambda: _replay(_fresh_indexes(book, data2[0]), log)),
            max_ratio=0.05,
            repeats=min(ctx.repeats, 3),
            notes="elapsed business time and due times only; the rest of the per-ticket work is shared",
        )
    )

    orm_sample = list(islice(ids, 0, None, max(1, len(ids) // 1000)))[:1000]
    loop_s = ctx.best_of(lambda: _per_ticket_orm_loop(orm_sample, NOW), repeats=1)
    bulk_s = ctx.best_of(lambda: sla.recompute_tickets(ids, now=NOW), repeats=1)
    per_loop, per_bulk = loop_s / len(orm_sample), bulk_s / len(ids)
    rows.append(
        ratio_row(
            f"Recompute SLA of all {n:,} tickets in the database, per ticket",
            baseline=(f"per-ticket ORM loop ({len(orm_sample):,} tickets: {loop_s:.1f} s)", per_loop),
            subject=(f"recompute_tickets, all ({bulk_s:.1f} s)", per_bulk),
            max_ratio=0.5,
            notes=f"{len(ids) / bulk_s:,.0f} tickets/s; {TicketSla.objects.count():,} SLA rows",
        )
    )
    return rows
