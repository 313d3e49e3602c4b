"""The vectorised recompute (service/sla_batch.py) gives exactly the results of the one-ticket rules.

Random tickets open around both Berlin daylight-saving changes of 2026 and Hong Kong's Lunar New
Year, Easter and Christmas holidays, at any hour (so many open outside business hours), with
random event histories: replies, bot replies and notes, customer follow-ups, pending and on-hold
spells, resolutions, closes, reopens, merges, events stamped before creation. Each ticket's
figures and SLA rows must equal those of ``ticket_facts`` + ``ticket_results`` asked through the
minute-by-minute calendar (``service/sla_naive.py``) and through the scalar index.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from service import sla, sla_batch
from service.sla import CalendarSpec, PolicyBook, PolicyRule, ticket_facts, ticket_results
from service.sla_naive import NaiveTime

BERLIN = ZoneInfo("Europe/Berlin")
HK = ZoneInfo("Asia/Hong_Kong")

BERLIN_OFFICE = CalendarSpec(
    time_zone="Europe/Berlin",
    timeframes={d: ((8 * 60, 12 * 60), (13 * 60, 17 * 60)) for d in range(5)},
    hk_holidays=False,
    closed=frozenset({date(2026, 3, 30), date(2026, 10, 26)}),
)
BERLIN_ALWAYS = CalendarSpec(
    time_zone="Europe/Berlin", timeframes={d: ((0, 1440),) for d in range(7)}, hk_holidays=False
)
HK_OFFICE = CalendarSpec(
    time_zone="Asia/Hong_Kong",
    timeframes={
        **{d: ((540, 780), (840, 1080)) for d in range(5)},
        5: ((540, 780),),
    },
    closed=frozenset({date(2026, 12, 24)}),
    worked=frozenset({date(2026, 12, 26)}),
)
NOWHERE = CalendarSpec(time_zone="Asia/Hong_Kong", timeframes={}, hk_holidays=False)

# Around the Berlin spring-forward and fall-back, Lunar New Year, Easter and Christmas in Hong Kong.
ORIGINS = [
    datetime(2026, 3, 27, tzinfo=BERLIN),
    datetime(2026, 10, 23, tzinfo=BERLIN),
    datetime(2026, 2, 14, tzinfo=HK),
    datetime(2026, 4, 1, tzinfo=HK),
    datetime(2026, 12, 22, tzinfo=HK),
]
NOW = int(datetime(2026, 12, 30, 12, tzinfo=UTC).timestamp())


def _rule(
    pk: int,
    calendar: int,
    targets: tuple[int | None, int | None, int | None],
    *,
    priorities: tuple[str, ...] = (),
    channels: tuple[str, ...] = (),
    tiers: tuple[str, ...] = (),
    teams: tuple[int, ...] = (),
    effective_to: date | None = None,
) -> PolicyRule:
    names = ("first_response", "next_response", "resolution")
    return PolicyRule(
        id=pk,
        name=f"P{pk}",
        priorities=frozenset(priorities),
        channels=frozenset(channels),
        customer_tiers=frozenset(tiers),
        team_ids=frozenset(teams),
        calendar_id=calendar,
        targets={n: m for n, m in zip(names, targets, strict=True) if m is not None},
        effective_from=None,
        effective_to=effective_to,
    )


def _book(dated: bool) -> PolicyBook:
    rules = [
        _rule(1, 4, (60, None, 600), tiers=("nowhere",)),
        _rule(2, 2, (30, 60, 240), priorities=("urgent",)),
        _rule(3, 1, (90, 120, 960), channels=("email",), teams=(7,)),
        _rule(4, 3, (120, 240, 1440), priorities=("high",)),
        _rule(5, 1, (None, 180, 2400), tiers=("vip",)),
        _rule(6, 3, (480, 480, 2400), effective_to=date(2026, 12, 1) if dated else None),
    ]
    specs = {1: BERLIN_OFFICE, 2: BERLIN_ALWAYS, 3: HK_OFFICE, 4: NOWHERE}
    return PolicyBook(rules=rules, specs=specs)


def _tickets(seed: int, n: int) -> tuple[list[sla_batch.TicketInput], list[sla_batch.EventInput]]:
    rng = random.Random(seed)
    tickets: list[sla_batch.TicketInput] = []
    events: list[sla_batch.EventInput] = []
    for pk in range(1, n + 1):
        origin = rng.choice(ORIGINS)
        opened = int(
            (origin + timedelta(minutes=rng.randrange(0, 5 * 1440), seconds=rng.randrange(60))).timestamp()
        )
        tier = rng.choices(["", "vip", "nowhere"], weights=[80, 15, 5])[0]
        tickets.append(
            (
                pk,
                opened,
                rng.choice(["low", "normal", "high", "urgent"]),
                rng.choice(["email", "chat"]),
                tier,
                rng.choice([None, 7]),
                rng.random() < 0.02,
                rng.random() < 0.02,
            )
        )
        t = opened - (rng.randrange(1, 600) if rng.random() < 0.05 else 0)
        history: list[tuple[str, int, str]] = [("created", t, "")]
        for _ in range(rng.randrange(0, 9)):
            t += int(rng.expovariate(1 / 9000))
            kind = rng.choices(
                [
                    "agent_reply",
                    "customer_message",
                    "bot_reply",
                    "internal_note",
                    "status_change",
                    "resolved",
                    "reopened",
                    "merged",
                ],
                weights=[25, 20, 5, 5, 20, 12, 6, 1],
            )[0]
            status = ""
            if kind == "status_change":
                status = rng.choice(["pending", "on_hold", "open", "new", "resolved", "closed"])
            history.append((kind, t, status))
            if rng.random() < 0.05:  # two events in the same second
                history.append(("agent_reply", t, ""))
        events.extend((pk, kind, at, status) for kind, at, status in history)
    return tickets, events


def _one_by_one(
    book: PolicyBook, tickets: list[sla_batch.TicketInput], events: list[sla_batch.EventInput], times: dict
) -> tuple[list, list]:
    by_ticket: dict[int, list[tuple[str, int, str]]] = {}
    for tid, kind, at, status in events:
        by_ticket.setdefault(tid, []).append((kind, at, status))
    figures, rows = [], []
    for pk, opened, priority, channel, tier, team, merged, spam in tickets:
        facts = ticket_facts(opened, by_ticket.get(pk, []))
        facts.merged_or_spam = facts.merged_or_spam or merged or spam
        rule = book.match(priority, channel, tier, team, opened)
        if rule is None:
            figs, results = ticket_results(facts, {}, None, NOW)
        elif times:
            figs, results = ticket_results(facts, rule.targets, times[rule.calendar_id], NOW)
        else:
            figs, results = ticket_results(facts, rule.targets, book.index(rule.calendar_id, opened), NOW)
        figures.append(sla_batch.as_figure_row(pk, figs))
        rows.extend(sla_batch.as_sla_rows(pk, results))
    return sorted(figures), sorted(rows, key=repr)


def _batch(book: PolicyBook, tickets, events) -> tuple[list, list]:
    out = sla_batch.compute(book, tickets, events, NOW)
    return sorted(out.figures), sorted(out.rows, key=repr)


@pytest.mark.parametrize("dated", [False, True])
def test_batch_equals_the_minute_by_minute_loop(dated):
    # The "nowhere" tier (a calendar with no business time) is left to the index test: the naive
    # loop would walk two years of minutes for each of its due times.
    book = _book(dated)
    tickets, events = _tickets(seed=11 + dated, n=220)
    tickets = [t for t in tickets if t[4] != "nowhere"]
    naive = {pk: NaiveTime(spec) for pk, spec in book.specs.items()}
    expected = _one_by_one(book, tickets, events, naive)
    assert _batch(book, tickets, events) == expected
    rows = expected[1]
    # The sample really covers the cases: breaches, met targets, running ones, stopped clocks.
    assert any(r[4] is False for r in rows) and any(r[4] is True for r in rows)
    assert any(r[4] is None for r in rows) and any(r[3] is None for r in rows)
    assert {r[1] for r in rows} == {"first_response", "next_response", "resolution"}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_batch_equals_the_scalar_index_on_many_tickets(seed):
    book = _book(dated=seed == 3)
    tickets, events = _tickets(seed=seed, n=3000)
    assert _batch(book, tickets, events) == _one_by_one(book, tickets, events, {})


def test_no_business_time_leaves_due_times_empty_through_the_one_ticket_path():
    book = _book(dated=False)
    tickets, events = _tickets(seed=5, n=400)
    nowhere = [t for t in tickets if t[4] == "nowhere" and not (t[6] or t[7])]
    assert nowhere
    out = sla_batch.compute(book, nowhere, events, NOW)
    assert out.rows and all(r[3] is None for r in out.rows)
    assert sorted(out.rows, key=repr) == _one_by_one(book, nowhere, events, {})[1]


def test_events_of_tickets_outside_the_chunk_are_ignored():
    book = _book(dated=False)
    tickets, events = _tickets(seed=8, n=300)
    some = tickets[::3]
    assert _batch(book, some, events) == _one_by_one(book, some, events, {})


def test_empty_chunk():
    out = sla_batch.compute(_book(dated=False), [], [], NOW)
    assert (out.figures, out.rows) == ([], [])


def test_epochs_read_by_the_database_match_python(db):
    """``sla.Epoch`` rounds down like ``sla.epoch``, also at .9995 s (SQLite would round up)."""
    from service.tests.sla_helpers import ticket

    t = ticket("2026-03-29 01:59:59.999700", [("agent_reply", "2026-03-29 03:00:00.000001")], zone=BERLIN)
    tickets, events = sla.load_chunk([t.pk])
    assert tickets[0][1] == sla.epoch(t.opened_at)
    assert [e[2] for e in events] == [
        sla.epoch(t.opened_at),
        sla.epoch(datetime(2026, 3, 29, 1, 0, 0, 1, tzinfo=UTC)),
    ]
