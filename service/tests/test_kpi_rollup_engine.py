# mypy: disable-error-code="arg-type, misc, union-attr, operator, comparison-overlap, index"
"""The rollup rows computed in memory (``service.rollup_batch``) equal the same figures grouped by
the database from the per-ticket columns (``service.rollups.figure_columns``, the definitions the
reports use), cell by cell: read in slices of ids (a rebuild) or month by month (a partial one),
refreshed for a few days, in Hong Kong time and in a zone with daylight saving."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db.models import Count, DateField
from django.db.models.functions import TruncDate, TruncMonth

from service import rollup_batch
from service.measures import counted_q, unresolved_at_q
from service.models import SlaTarget, Ticket, TicketSla
from service.report_models import (
    AGENT_DIMENSIONS,
    DIMENSIONS,
    MAX_COLUMNS,
    SUM_COLUMNS,
    ServiceAgentMonthRollup,
    ServiceDailyRollup,
    ServiceMonthlyRollup,
)
from service.rollups import figure_columns, rollups_rebuild, rollups_refresh_days, with_sla
from service.tests.kpi_data import build

pytestmark = pytest.mark.django_db
MONTHS = (date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1), date(2026, 5, 1))
CHANNELS, PRIORITIES = ("email", "chat", "phone"), ("low", "normal", "urgent")


def _minutes(rng: random.Random) -> int | None:
    return None if rng.random() < 0.2 else rng.choice([0, 4, 5, 59, 60, 61, 480, 10_079, 10_080, 50_000])


def make_tickets(vendor, zone_name: str, count: int = 120) -> None:
    """Alice's and Bob's hand-computed tickets plus COUNT random ones: many filed a minute either side
    of a local midnight (month ends and the daylight saving changes included), unassigned, in-house
    and vendor ones, merged and spam ones, with and without each SLA result."""
    data = build(vendor)
    zone, rng = ZoneInfo(zone_name), random.Random(4)
    people = [(data.alice, data.island, None), (data.bob, data.outsourced, vendor), (None, None, None)]
    midnights = [date(2026, 3, 1), date(2026, 3, 29), date(2026, 3, 30), date(2026, 4, 1), date(2026, 4, 15)]
    for i in range(count):
        if i % 3:
            opened = datetime.combine(rng.choice(midnights), time(), zone) + timedelta(
                minutes=rng.choice([-1, 0, 1])
            )
        else:
            opened = datetime(2026, 2, 20, tzinfo=zone) + timedelta(minutes=rng.randrange(70 * 1440))
        resolved = (
            None
            if rng.random() < 0.3
            else opened + timedelta(minutes=rng.choice([5, 600, 20 * 1440, 45 * 1440]))
        )
        agent, team, ticket_vendor = rng.choice(people)
        fr, res = _minutes(rng), _minutes(rng) if resolved else None
        ticket = Ticket.objects.create(
            external_id=f"r{i}", subject="", agent=agent, team=team, vendor=ticket_vendor, opened_at=opened,
            channel=rng.choice(CHANNELS), priority=rng.choice(PRIORITIES), is_merged=rng.random() < 0.05,
            is_spam=rng.random() < 0.05, first_resolved_at=resolved, resolved_at=resolved,
            reopen_count=rng.choice([0, 0, 1]), agent_reply_count=rng.choice([0, 1, 1, 2]),
            first_response_business_minutes=fr,
            first_response_calendar_minutes=None if fr is None else 2 * fr,
            resolution_business_minutes=res, resolution_calendar_minutes=_minutes(rng),
            first_resolution_business_minutes=res,
        )  # fmt: skip
        for target in (SlaTarget.FIRST_RESPONSE, SlaTarget.NEXT_RESPONSE, SlaTarget.RESOLUTION):
            if rng.random() < 0.7:
                TicketSla.objects.create(
                    ticket=ticket, target=target, target_minutes=60, met=rng.choice([True, False, None]),
                    business_minutes=_minutes(rng),
                )  # fmt: skip


def expected(zone_name: str) -> dict[str, dict[tuple, tuple]]:
    """Every rollup cell of MONTHS, grouped by the database."""
    zone = ZoneInfo(zone_name)
    tickets = with_sla(Ticket.objects.filter(counted_q()))
    out: dict[str, dict[tuple, tuple]] = {"daily": {}, "monthly": {}, "agent": {}}
    days = tickets.annotate(k=TruncDate("opened_at", tzinfo=zone))
    for row in days.values("k", *AGENT_DIMENSIONS).annotate(**figure_columns()):
        out["daily"][(row["k"], *(row[d] for d in AGENT_DIMENSIONS))] = tuple(row[c] for c in SUM_COLUMNS)
    months = tickets.annotate(k=TruncMonth("opened_at", tzinfo=zone, output_field=DateField()))
    for row in months.values("k", *DIMENSIONS).annotate(**figure_columns()):
        key = (row["k"], *(row[d] for d in DIMENSIONS))
        out["monthly"][key] = (*(row[c] for c in SUM_COLUMNS), 0)
    for month, following in zip(MONTHS, MONTHS[1:], strict=False):
        with_backlog = Ticket.objects.filter(counted_q(), unresolved_at_q(following))
        for row in with_backlog.values(*DIMENSIONS).annotate(n=Count("pk")):
            key = (month, *(row[d] for d in DIMENSIONS))
            figures = out["monthly"].get(key, (0,) * (len(SUM_COLUMNS) + 1))
            out["monthly"][key] = (*figures[:-1], row["n"])
    out["monthly"] = {k: v for k, v in out["monthly"].items() if MONTHS[0] <= k[0] < MONTHS[-1]}
    out["daily"] = {k: v for k, v in out["daily"].items() if MONTHS[0] <= k[0] < MONTHS[-1]}
    for (month, *dims), figures in out["monthly"].items():
        key = (month, *dims[:3])
        before = out["agent"].get(key)
        if before is None:
            out["agent"][key] = figures
            continue
        columns = (*SUM_COLUMNS, "backlog_end")
        out["agent"][key] = tuple(
            max(a, b) if c in MAX_COLUMNS else a + b for c, a, b in zip(columns, before, figures, strict=True)
        )
    return out


def stored(months: tuple[date, date] = (MONTHS[0], MONTHS[-1])) -> dict[str, dict[tuple, tuple]]:
    lo, hi = months
    daily = ServiceDailyRollup.objects.filter(day__gte=lo, day__lt=hi)
    monthly = ServiceMonthlyRollup.objects.filter(month__gte=lo, month__lt=hi)
    agent = ServiceAgentMonthRollup.objects.filter(month__gte=lo, month__lt=hi)
    n = 1 + len(AGENT_DIMENSIONS)
    return {
        "daily": {r[:n]: r[n:] for r in daily.values_list("day", *AGENT_DIMENSIONS, *SUM_COLUMNS)},
        "monthly": {
            r[: n + 2]: r[n + 2 :]
            for r in monthly.values_list("month", *DIMENSIONS, *SUM_COLUMNS, "backlog_end")
        },
        "agent": {
            r[:n]: r[n:] for r in agent.values_list("month", *AGENT_DIMENSIONS, *SUM_COLUMNS, "backlog_end")
        },
    }


def only(rows: dict[str, dict[tuple, tuple]], lo: date, hi: date) -> dict[str, dict[tuple, tuple]]:
    return {name: {k: v for k, v in cells.items() if lo <= k[0] < hi} for name, cells in rows.items()}


@pytest.fixture(params=["Asia/Hong_Kong", "Europe/Berlin"])
def zone_name(request, settings):
    settings.TIME_ZONE = request.param
    return request.param


def test_a_rebuild_read_in_slices_of_ids_gives_the_databases_figures(vendor, zone_name, monkeypatch):
    make_tickets(vendor, zone_name)
    monkeypatch.setattr(rollup_batch, "ID_CHUNK", 17)  # many slices, cells merged across them
    rollups_rebuild(start=MONTHS[0], end=MONTHS[-1])
    want = expected(zone_name)
    assert want["monthly"] and any(k[3] is None for k in want["monthly"])  # in-house cells
    assert any(v[-1] for v in want["monthly"].values())  # backlogs
    assert any(k[1] is None for k in want["daily"])  # unassigned tickets
    assert stored() == want


def test_one_month_is_read_by_the_filing_index_and_gives_the_same(vendor, zone_name):
    make_tickets(vendor, zone_name)
    rollups_rebuild(start=MONTHS[1], end=MONTHS[2])  # a small share of the tickets: month by month
    assert stored() == only(expected(zone_name), MONTHS[1], MONTHS[2])


def test_refreshing_a_few_days_after_a_change_matches_a_rebuild(vendor, zone_name):
    make_tickets(vendor, zone_name)
    rollups_rebuild(start=MONTHS[0], end=MONTHS[-1])
    zone = ZoneInfo(zone_name)
    moved = Ticket.objects.filter(counted_q(), opened_at__gte=datetime(2026, 3, 29, tzinfo=zone)).order_by(
        "pk"
    )
    ticket = moved.filter(opened_at__lt=datetime(2026, 3, 30, tzinfo=zone)).first()
    Ticket.objects.filter(pk=ticket.pk).update(resolved_at=None, channel="phone", priority="urgent")
    rollups_refresh_days({ticket.opened_at.astimezone(zone).date(), date(2026, 4, 30)})
    assert stored() == expected(zone_name)


def test_a_channel_outside_the_choices_is_read_by_its_own_value(vendor, settings):
    """Channels and priorities travel as positions among the model's choices; a stored value that is
    not one (written around Steward, e.g. by an old import) still gets its own cells."""
    settings.TIME_ZONE = "Asia/Hong_Kong"
    make_tickets(vendor, "Asia/Hong_Kong", count=40)
    counted = Ticket.objects.filter(counted_q()).order_by("pk")
    Ticket.objects.filter(pk__in=[t.pk for t in counted[:3]]).update(channel="fax", priority="p0")
    rollups_rebuild(start=MONTHS[0], end=MONTHS[-1])
    want = expected("Asia/Hong_Kong")
    assert any("fax" in key for key in want["monthly"])
    assert stored() == want
