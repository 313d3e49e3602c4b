"""Business-hours arithmetic and per-ticket SLA results (issue 4 items 2 and 3, PRODUCT.md §3).

The rules are written out in ``docs/service_sla.md``; in short:

- A :class:`BusinessIndex` lists a calendar's business intervals as UTC epoch seconds, merged
  and sorted, with the cumulative business seconds before each one. "Business seconds up to
  t" is one ``bisect`` plus a subtraction, and so is its inverse ("the instant at which N
  business seconds have passed"), so a ticket costs O(log n) in the number of intervals no
  matter how long it stays open. Intervals are made from local wall-clock times in the
  calendar's time zone, day by day, so a daylight-saving day simply has a 23- or 25-hour
  midnight-to-midnight interval.
- :func:`ticket_facts` reads a ticket's events once: first public human reply, first and last
  resolution, paused spans (pending/on-hold; resolved/closed before a reopen) and the
  next-response gaps (customer message to the next agent reply).
- :func:`ticket_results` turns facts, a policy's targets and an index into stored figures.
  These two state the rules one ticket at a time and are the reference.
- :func:`recompute_tickets` and :func:`recompute_opened_between` are the bulk, set-based path:
  tickets and events read in chunks with times as epoch seconds (:func:`load_chunk`), the
  same rules applied to the whole chunk at once by ``service.sla_batch``, one index per
  calendar, and the results stored by :func:`write_results` (``COPY`` and staging tables on
  PostgreSQL, prepared ``executemany`` on SQLite; unchanged rows are left alone).
"""

from __future__ import annotations

import bisect
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import holidays as holiday_data
from django.db import connection, transaction
from django.db.models import BigIntegerField, Func, Q
from django.utils import timezone

from service.models import (
    BusinessCalendar,
    CalendarHoliday,
    SlaPolicy,
    SlaTarget,
    Ticket,
    TicketEvent,
    TicketSla,
)

Kind = TicketEvent.Kind
Status = Ticket.Status

PAUSED_STATUSES = frozenset({Status.PENDING.value, Status.ON_HOLD.value})
DONE_STATUSES = frozenset({Status.RESOLVED.value, Status.CLOSED.value})
# How far past the last known instant an index is first built; it grows on demand.
HORIZON_DAYS = 400
# An index never reaches further than this past its start: a calendar with (almost) no business
# time must not make a due-time search run forever. Due times beyond it are left empty.
MAX_INDEX_DAYS = 20 * 366
# Tickets per chunk: large enough that numpy's per-call cost is spread thin, small enough for
# SQLite's limit on query parameters (32,766) in the ``IN`` lists.
CHUNK = 10_000


def epoch(value: datetime) -> int:
    """Whole UTC epoch seconds of an aware datetime; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{value!r} has no time zone; SLA arithmetic needs aware datetimes.")
    return math.floor(value.timestamp())


def from_epoch(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def minutes_up(seconds: int) -> int:
    """Seconds as whole minutes, rounded up: a 60-minute target is met by 60:00, not by 60:01."""
    return -(-seconds // 60)


# --- Calendars --------------------------------------------------------------------------------


@cache
def hk_general_holidays(year: int) -> dict[date, str]:
    """Hong Kong general holidays of YEAR: the ``holidays`` package's public and optional categories."""
    found = holiday_data.country_holidays("HK", years=[year], categories=("public", "optional"))
    return {day: str(name) for day, name in found.items()}


@dataclass(frozen=True)
class CalendarSpec:
    """A calendar as plain data: what :class:`BusinessIndex` needs, and nothing from the database."""

    time_zone: str
    timeframes: dict[int, tuple[tuple[int, int], ...]]  # weekday -> ((start, end) minutes), sorted
    hk_holidays: bool = True
    closed: frozenset[date] = frozenset()
    worked: frozenset[date] = frozenset()
    effective_from: date | None = None
    effective_to: date | None = None

    def is_closed(self, day: date) -> bool:
        if day in self.closed:
            return True
        return self.hk_holidays and day not in self.worked and day in hk_general_holidays(day.year)

    def day_minutes(self, day: date) -> tuple[tuple[int, int], ...]:
        """The day's timeframes in local minutes after midnight; empty on a closed day."""
        if self.is_closed(day):
            return ()
        return self.timeframes.get(day.weekday(), ())

    def in_effect(self, day: date) -> bool:
        return (self.effective_from is None or self.effective_from <= day) and (
            self.effective_to is None or day <= self.effective_to
        )


def local_instant(day: date, minute: int, zone: ZoneInfo) -> int:
    """Epoch seconds of MINUTE after local midnight of DAY in ZONE (1440 = the next midnight).

    A wall-clock time that a spring-forward skips is read with the offset before the change
    (fold=0), so 02:30 on that day in Berlin is 03:30 summer time; a time that a fall-back
    repeats is its first occurrence.
    """
    local = datetime.combine(day, time()) + timedelta(minutes=minute)
    return math.floor(local.replace(tzinfo=zone).timestamp())


def day_intervals(spec: CalendarSpec, zone: ZoneInfo, day: date) -> list[tuple[int, int]]:
    """DAY's business intervals as epoch-second pairs.

    On a day without an offset change (midnight to midnight is exactly 24 hours) every local
    time is midnight plus its minutes; only the two daylight-saving days per year convert each
    time on its own.
    """
    minutes = spec.day_minutes(day)
    if not minutes:
        return []
    midnight = local_instant(day, 0, zone)
    if local_instant(day + timedelta(days=1), 0, zone) - midnight == 86_400:
        return [(midnight + start * 60, midnight + end * 60) for start, end in minutes]
    out = []
    for start, end in minutes:
        a, b = local_instant(day, start, zone), local_instant(day, end, zone)
        if b > a:
            out.append((a, b))
    return out


class BusinessIndex:
    """Cumulative business seconds of one calendar, for O(log n) elapsed and due-time arithmetic.

    ``starts``/``ends`` are the merged business intervals (epoch seconds, sorted, disjoint);
    ``before[i]`` is the business time before interval ``i`` and ``through[i]`` the business
    time up to its end. ``elapsed(t)`` is the business time from the index's first day to
    ``t``; the difference of two is the business time between them. The index starts on
    ``first_day`` and extends itself on demand, a year at a time.
    """

    def __init__(self, spec: CalendarSpec, first_day: date, last_day: date) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.time_zone)
        self.first_day = first_day
        self.start = local_instant(first_day, 0, self.zone)
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.before: list[int] = []
        self.through: list[int] = []
        self.next_day = first_day
        self.covered_until = self.start  # every instant before this is indexed
        self.extend_to(last_day)

    def extend_to(self, last_day: date) -> None:
        day = self.next_day
        while day <= last_day:
            for a, b in day_intervals(self.spec, self.zone, day):
                if self.ends and a <= self.ends[-1]:  # touching or (DST edge) overlapping the last one
                    if b > self.ends[-1]:
                        self.through[-1] += b - self.ends[-1]
                        self.ends[-1] = b
                    continue
                total = self.through[-1] if self.through else 0
                self.starts.append(a)
                self.ends.append(b)
                self.before.append(total)
                self.through.append(total + b - a)
            day += timedelta(days=1)
        self.next_day = day
        self.covered_until = max(self.covered_until, local_instant(day, 0, self.zone))

    def _cover(self, t: int) -> bool:
        """Make sure instant T is indexed; False when it is past the index's furthest reach."""
        while t >= self.covered_until:
            if (self.next_day - self.first_day).days >= MAX_INDEX_DAYS:
                return False
            self.extend_to(self.next_day + timedelta(days=366))
        return True

    def elapsed(self, t: int) -> int:
        """Business seconds from the index's start to T (0 before it)."""
        if t <= self.start:
            return 0
        if t >= self.covered_until and not self._cover(t):
            return self.through[-1] if self.through else 0
        i = bisect.bisect_right(self.starts, t) - 1
        if i < 0:
            return 0
        end = self.ends[i]
        return self.before[i] + (end if t > end else t) - self.starts[i]

    def instant(self, value: int) -> int | None:
        """The earliest instant at which VALUE business seconds have elapsed (None: out of reach)."""
        if value <= 0:
            return self.start
        while not self.through or self.through[-1] < value:
            if (self.next_day - self.first_day).days >= MAX_INDEX_DAYS:
                return None
            self.extend_to(self.next_day + timedelta(days=366))
        j = bisect.bisect_left(self.through, value)
        return self.starts[j] + value - self.before[j]

    def between(self, a: int, b: int) -> int:
        return self.elapsed(b) - self.elapsed(a) if b > a else 0

    def add(self, start: int, seconds: int, pauses: Sequence[tuple[int, int | None]] = ()) -> int | None:
        """START plus SECONDS of business time, skipping PAUSES known so far (disjoint, in order).

        None when a pause that began before the due time is still running (the clock is
        stopped, so no due time exists yet) or the due time is beyond the index's reach.
        """
        value = self.elapsed(start) + seconds
        for pa, pb in pauses:
            if pb is not None and pb <= start:
                continue
            pa = max(pa, start)
            if self.elapsed(pa) >= value:
                break  # the pause began after the due time
            if pb is None:
                return None
            value += self.between(pa, pb)
        return self.instant(value)


class BusinessTime(Protocol):
    """What the SLA rules need of a calendar: :class:`BusinessIndex`, or the naive reference
    loop in ``service/sla_naive.py`` that the tests and the benchmark compare it with."""

    def between(self, a: int, b: int) -> int: ...

    def add(self, start: int, seconds: int, pauses: Sequence[tuple[int, int | None]] = ()) -> int | None: ...


def calendar_spec(calendar: BusinessCalendar) -> CalendarSpec:
    """Read CALENDAR (with its timeframes and holiday rows) into a :class:`CalendarSpec`."""
    frames: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for frame in calendar.timeframes.all():
        frames[frame.weekday].append((frame.start_minute, frame.end_minute))
    closed: set[date] = set()
    worked: set[date] = set()
    for holiday in calendar.holidays.all():
        (worked if holiday.kind == CalendarHoliday.Kind.WORKED else closed).add(holiday.day)
    return CalendarSpec(
        time_zone=calendar.time_zone,
        timeframes={weekday: tuple(sorted(spans)) for weekday, spans in frames.items()},
        hk_holidays=calendar.hk_public_holidays,
        closed=frozenset(closed),
        worked=frozenset(worked),
        effective_from=calendar.effective_from,
        effective_to=calendar.effective_to,
    )


# --- Tickets ----------------------------------------------------------------------------------


@dataclass
class TicketFacts:
    """What a ticket's events say, in epoch seconds (rules: docs/service_sla.md)."""

    opened: int
    first_response: int | None = None
    first_resolved: int | None = None
    resolved: int | None = None  # the last resolution, None while the ticket is open again
    pauses: list[tuple[int, int | None]] = field(default_factory=list)  # None: still paused
    gaps: list[tuple[int, int | None]] = field(default_factory=list)  # None: still unanswered
    merged_or_spam: bool = False


def ticket_facts(opened: int, events: Iterable[tuple[str, int, str]]) -> TicketFacts:
    """Read EVENTS (kind, epoch seconds, new status), in order of time, into :class:`TicketFacts`.

    - first response: the first ``agent_reply`` (bot replies and internal notes never count);
    - resolution: ``resolved`` or a status change to resolved/closed; the first one is the
      first resolution, the last one (unless a reopen follows) the full resolution;
    - paused: from a status change to pending/on-hold until the next status change to
      anything else (or a resolution); from a resolution until a reopen (``reopened``, or a
      status change back to new/open/pending/on-hold);
    - next response: from the first customer message after an agent reply (the oldest
      unanswered one) to the next agent reply; customer messages before the first reply are
      covered by first response, and those on a resolved ticket start nothing until it reopens.
    """
    facts = TicketFacts(opened=opened)
    paused_since: int | None = None
    done_since: int | None = None
    gap_since: int | None = None
    for kind, at, status in events:
        at = max(at, opened)  # an event stamped before creation counts from creation
        if kind in (Kind.MERGED, Kind.SPAM):
            facts.merged_or_spam = True
        elif kind == Kind.AGENT_REPLY:
            if facts.first_response is None:
                facts.first_response = at
            if gap_since is not None:
                facts.gaps.append((gap_since, at))
                gap_since = None
        elif kind == Kind.CUSTOMER_MESSAGE:
            if facts.first_response is not None and gap_since is None and done_since is None:
                gap_since = at
        elif kind == Kind.RESOLVED or (kind == Kind.STATUS_CHANGE and status in DONE_STATUSES):
            if done_since is not None:
                continue  # resolved → closed: still the same resolution
            if paused_since is not None:
                facts.pauses.append((paused_since, at))
                paused_since = None
            if gap_since is not None:  # resolving answers nothing, but ends the wait
                facts.gaps.append((gap_since, at))
                gap_since = None
            if facts.first_resolved is None:
                facts.first_resolved = at
            facts.resolved = at
            done_since = at
        elif kind == Kind.REOPENED or (kind == Kind.STATUS_CHANGE and status):
            if done_since is not None:
                facts.pauses.append((done_since, at))
                facts.resolved = None
                done_since = None
            if kind == Kind.STATUS_CHANGE and status in PAUSED_STATUSES:
                if paused_since is None:
                    paused_since = at
            elif paused_since is not None:
                facts.pauses.append((paused_since, at))
                paused_since = None
    if paused_since is not None:
        facts.pauses.append((paused_since, None))
    if gap_since is not None:
        facts.gaps.append((gap_since, None))
    return facts


@dataclass(frozen=True)
class SlaResult:
    target: str
    target_minutes: int
    due_at: int | None
    met: bool | None
    breached_at: int | None
    business_minutes: int | None


@dataclass(frozen=True)
class TicketFigures:
    first_response_business_minutes: int | None
    first_response_calendar_minutes: int | None
    first_resolution_business_minutes: int | None
    first_resolution_calendar_minutes: int | None
    resolution_business_minutes: int | None
    resolution_calendar_minutes: int | None


FIGURE_FIELDS = tuple(TicketFigures.__dataclass_fields__)
NO_FIGURES = TicketFigures(None, None, None, None, None, None)


class Clock:
    """Business and calendar time of one ticket with its paused spans left out.

    Without an index (no policy matched the ticket) only calendar time is known.
    """

    def __init__(
        self, index: BusinessTime | None, pauses: Sequence[tuple[int, int | None]], now: int
    ) -> None:
        self._index = index
        self.now = now
        # An open pause runs until now; nothing later is known.
        self.pauses = [(a, b if b is not None else max(a, now)) for a, b in pauses]

    @property
    def index(self) -> BusinessTime:
        if self._index is None:
            raise ValueError("this ticket has no business calendar")
        return self._index

    def business(self, a: int, b: int) -> int:
        total = self.index.between(a, b)
        if not self.pauses:
            return total
        for pa, pb in self.pauses:
            lo, hi = max(a, pa), min(b, pb)
            if hi > lo:
                total -= self.index.between(lo, hi)
        return total

    def calendar(self, a: int, b: int) -> int:
        total = max(0, b - a)
        for pa, pb in self.pauses:
            lo, hi = max(a, pa), min(b, pb)
            if hi > lo:
                total -= hi - lo
        return total

    def due(self, start: int, seconds: int, pauses: Sequence[tuple[int, int | None]]) -> int | None:
        return self.index.add(start, seconds, pauses)


def _judge(
    target: str, minutes: int, due: int | None, elapsed: int | None, ended: bool, now: int, paused: bool
) -> SlaResult:
    """A target's result: met when it ended within the target, breached at the due time otherwise;
    while running, breached once ``now`` is past the due time."""
    limit = minutes * 60
    if ended and elapsed is not None:
        met = elapsed <= limit
        return SlaResult(target, minutes, due, met, None if met else due, minutes_up(elapsed))
    if due is not None and now >= due and not paused:
        return SlaResult(target, minutes, due, False, due, None)
    return SlaResult(target, minutes, due, None, None, None)


def ticket_results(
    facts: TicketFacts, targets: dict[str, int], index: BusinessTime | None, now: int
) -> tuple[TicketFigures, list[SlaResult]]:
    """Stored figures and SLA results of one ticket. Without an index (no policy matched) the
    business figures stay empty and there are no results. Merged and spam tickets get neither."""
    if facts.merged_or_spam:
        return NO_FIGURES, []
    opened = facts.opened
    clock = Clock(index, facts.pauses, now)

    def business(a: int, b: int | None, paused: bool = True) -> int | None:
        if b is None or index is None:
            return None
        return minutes_up(clock.business(a, b) if paused else index.between(a, b))

    def calendar(a: int, b: int | None, paused: bool = True) -> int | None:
        if b is None:
            return None
        return minutes_up(clock.calendar(a, b) if paused else max(0, b - a))

    fr, first_res, res = facts.first_response, facts.first_resolved, facts.resolved
    # First response is never paused; resolution figures leave paused spans out.
    figures = TicketFigures(
        first_response_business_minutes=business(opened, fr, paused=False),
        first_response_calendar_minutes=calendar(opened, fr, paused=False),
        first_resolution_business_minutes=business(opened, first_res),
        first_resolution_calendar_minutes=calendar(opened, first_res),
        resolution_business_minutes=business(opened, res),
        resolution_calendar_minutes=calendar(opened, res),
    )
    if index is None:
        return figures, []
    paused_now = bool(facts.pauses) and facts.pauses[-1][1] is None
    results: list[SlaResult] = []
    if (minutes := targets.get(SlaTarget.FIRST_RESPONSE.value)) is not None:
        due = clock.due(opened, minutes * 60, ())
        if fr is not None:
            results.append(
                _judge(
                    SlaTarget.FIRST_RESPONSE, minutes, due, clock.index.between(opened, fr), True, now, False
                )
            )
        else:
            # Resolved without a public reply: breached only if the due time passed first.
            reference = res if res is not None else now
            if due is not None and reference >= due:
                results.append(SlaResult(SlaTarget.FIRST_RESPONSE, minutes, due, False, due, None))
            elif res is None:
                results.append(SlaResult(SlaTarget.FIRST_RESPONSE, minutes, due, None, None, None))
    if (minutes := targets.get(SlaTarget.NEXT_RESPONSE.value)) is not None and facts.gaps:
        results.append(_next_response(clock, facts, minutes, now))
    if (minutes := targets.get(SlaTarget.RESOLUTION.value)) is not None:
        due = clock.due(opened, minutes * 60, facts.pauses)
        elapsed = clock.business(opened, res) if res is not None else None
        results.append(_judge(SlaTarget.RESOLUTION, minutes, due, elapsed, res is not None, now, paused_now))
    return figures, results


def _next_response(clock: Clock, facts: TicketFacts, minutes: int, now: int) -> SlaResult:
    """Every gap is judged on its own; the row keeps the worst answered gap, the first breach and
    the due time of the latest gap (the one still waiting, if any)."""
    limit = minutes * 60
    worst: int | None = None
    first_breach: int | None = None
    running = False
    due = None
    for start, end in facts.gaps:
        due = clock.due(start, limit, facts.pauses)
        if end is not None:
            gap = clock.business(start, end)
            worst = gap if worst is None else max(worst, gap)
            breached = gap > limit
        else:
            paused_now = bool(facts.pauses) and facts.pauses[-1][1] is None
            breached = due is not None and now >= due and not paused_now
            running = not breached
        if breached and due is not None and (first_breach is None or due < first_breach):
            first_breach = due
    met: bool | None = False if first_breach is not None else (None if running else True)
    return SlaResult(
        SlaTarget.NEXT_RESPONSE, minutes, due, met, first_breach, None if worst is None else minutes_up(worst)
    )


# --- Policies ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PolicyRule:
    """An SLA policy as plain data, for matching many tickets without a query each."""

    id: int
    name: str
    priorities: frozenset[str]
    channels: frozenset[str]
    customer_tiers: frozenset[str]
    team_ids: frozenset[int]
    calendar_id: int
    targets: dict[str, int]
    effective_from: date | None
    effective_to: date | None

    def matches(self, priority: str, channel: str, tier: str, team_id: int | None, day: date) -> bool:
        return (
            (not self.priorities or priority in self.priorities)
            and (not self.channels or channel in self.channels)
            and (not self.customer_tiers or tier in self.customer_tiers)
            and (not self.team_ids or team_id in self.team_ids)
            and (self.effective_from is None or self.effective_from <= day)
            and (self.effective_to is None or day <= self.effective_to)
        )


@dataclass
class PolicyBook:
    """Every active policy in order, with the specs of their calendars and one index per calendar."""

    rules: list[PolicyRule]
    specs: dict[int, CalendarSpec]
    indexes: dict[int, BusinessIndex] = field(default_factory=dict)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("Asia/Hong_Kong"))

    @classmethod
    def load(cls) -> PolicyBook:
        policies = list(
            SlaPolicy.objects.filter(active=True).prefetch_related("teams").order_by("position", "id")
        )
        calendars = BusinessCalendar.objects.filter(
            pk__in={p.calendar_id for p in policies}
        ).prefetch_related("timeframes", "holidays")
        rules = [
            PolicyRule(
                id=p.pk,
                name=p.name,
                priorities=frozenset(p.priorities),
                channels=frozenset(p.channels),
                customer_tiers=frozenset(p.customer_tiers),
                team_ids=frozenset(t.pk for t in p.teams.all()),
                calendar_id=p.calendar_id,
                targets=p.target_minutes(),
                effective_from=p.effective_from,
                effective_to=p.effective_to,
            )
            for p in policies
        ]
        return cls(
            rules=rules, specs={c.pk: calendar_spec(c) for c in calendars}, zone=ZoneInfo("Asia/Hong_Kong")
        )

    def match(
        self, priority: str, channel: str, tier: str, team_id: int | None, opened: int
    ) -> PolicyRule | None:
        """The first policy (by position) whose conditions match and whose calendar is in effect
        on the ticket's opening day (in the calendar's own time zone)."""
        days: dict[str, date] = {}
        for rule in self.rules:
            spec = self.specs[rule.calendar_id]
            day = days.get(spec.time_zone)
            if day is None:
                day = days[spec.time_zone] = datetime.fromtimestamp(
                    opened, tz=ZoneInfo(spec.time_zone)
                ).date()
            if spec.in_effect(day) and rule.matches(priority, channel, tier, team_id, day):
                return rule
        return None

    def index(self, calendar_id: int, opened: int) -> BusinessIndex:
        """The calendar's index, rebuilt from an earlier first day when a ticket opened before it."""
        spec = self.specs[calendar_id]
        zone = ZoneInfo(spec.time_zone)
        day = datetime.fromtimestamp(opened, tz=zone).date() - timedelta(days=1)
        current = self.indexes.get(calendar_id)
        if current is None or day < current.first_day:
            last = max(day, timezone.localdate()) + timedelta(days=HORIZON_DAYS)
            # Start well before the first ticket seen, so that tickets read in id order (not in
            # order of time) rarely make the index start again from an earlier day.
            first = (day if current is None else min(day, current.first_day)) - timedelta(days=2 * 366)
            current = BusinessIndex(spec, first, last)
            self.indexes[calendar_id] = current
        return current


# --- Recompute --------------------------------------------------------------------------------


TicketRow = tuple[int, datetime, str, str, str, int | None, bool, bool]


def compute_ticket(
    book: PolicyBook, row: TicketRow, events: list[tuple[str, int, str]], now: int
) -> tuple[TicketFigures, list[SlaResult]]:
    """One ticket's figures and results from its row and its events (no queries)."""
    _pk, opened_at, priority, channel, tier, team_id, merged, spam = row
    opened = epoch(opened_at)
    facts = ticket_facts(opened, events)
    facts.merged_or_spam = facts.merged_or_spam or merged or spam
    rule = book.match(priority, channel, tier, team_id, opened)
    if rule is None:
        return ticket_results(facts, {}, None, now)
    return ticket_results(facts, rule.targets, book.index(rule.calendar_id, opened), now)


def _chunks(ids: Sequence[int], size: int) -> Iterator[Sequence[int]]:
    for i in range(0, len(ids), size):
        yield ids[i : i + size]


def recompute_tickets(
    ticket_ids: Iterable[int], *, now: datetime | None = None, book: PolicyBook | None = None
) -> int:
    """Recompute the stored figures and SLA rows of TICKET_IDS, set-based; returns how many tickets.

    Per chunk of tickets: two reads (:func:`load_chunk`), the vectorised computation
    (``service.sla_batch.compute``) and one transaction of writes (:func:`write_results`: the six
    minute fields, an upsert of the SLA rows, a delete of rows a ticket no longer has).
    """
    ids = sorted(set(ticket_ids))
    current = epoch(now or timezone.now())
    book = book or PolicyBook.load()
    done = 0
    for chunk in _chunks(ids, CHUNK):
        done += _recompute_chunk(book, chunk, current)
    return done


def recompute_opened_between(
    first_day: date | None = None, last_day: date | None = None, *, now: datetime | None = None
) -> int:
    """Recompute every ticket opened from FIRST_DAY to LAST_DAY (Hong Kong dates; None: unbounded),
    walking the tickets by id so that memory stays flat at any size."""
    zone = ZoneInfo("Asia/Hong_Kong")
    tickets = Ticket.objects.all()
    if first_day is not None:
        tickets = tickets.filter(opened_at__gte=datetime.combine(first_day, time(), zone))
    if last_day is not None:
        tickets = tickets.filter(opened_at__lt=datetime.combine(last_day + timedelta(days=1), time(), zone))
    current = epoch(now or timezone.now())
    book = PolicyBook.load()
    done, after = 0, 0
    while True:
        chunk = list(tickets.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:CHUNK])
        if not chunk:
            return done
        done += _recompute_chunk(book, chunk, current)
        after = chunk[-1]


class Epoch(Func):
    """Whole UTC epoch seconds of a datetime column, computed by the database: reading the SLA
    inputs as integers spares a Python datetime per event (rounded down, as :func:`epoch`)."""

    output_field = BigIntegerField()
    template = "CAST(FLOOR(EXTRACT(EPOCH FROM %(expressions)s)) AS BIGINT)"

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        # Django stores UTC text on SQLite ("2026-11-23 09:30:15.250000"); strftime('%s') reads
        # it, but would round a fraction of .9995 up to the next second, so the fraction is cut
        # off first. The doubled %% survive two rounds of parameter formatting.
        template = "CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER)"
        return self.as_sql(compiler, connection, template=template, **extra)


def _raw(queryset: Any) -> list[tuple[Any, ...]]:
    """The rows of a values_list QUERYSET as the database driver returns them: the columns read
    here need no conversion, and skipping Django's per-row machinery halves the reading time."""
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def load_chunk(ids: Sequence[int]) -> tuple[list[Any], list[Any]]:
    """The inputs of ``service.sla_batch.compute`` for tickets IDS (sorted): two queries, times as
    epochs. Dense ids (a walk over all tickets) are read by id range, which spares the database
    and Django a list of thousands of parameters; events of tickets in the range but not in IDS
    are skipped by the computation."""
    if not ids:
        return [], []
    lo, hi = ids[0], ids[-1]
    dense = hi - lo < 4 * len(ids)
    tickets = _raw(
        Ticket.objects.filter(Q(pk__gte=lo, pk__lte=hi) if dense else Q(pk__in=ids))
        .order_by("pk")
        .values_list(
            "pk",
            Epoch("opened_at"),
            "priority",
            "channel",
            "customer_tier",
            "team_id",
            "is_merged",
            "is_spam",
        )
    )
    if dense and len(tickets) != len(ids):
        wanted = set(ids)
        tickets = [t for t in tickets if t[0] in wanted]
    # SQLite returns the flags as 0/1.
    tickets = [(t[0], t[1], t[2], t[3], t[4], t[5], bool(t[6]), bool(t[7])) for t in tickets]
    events = _raw(
        TicketEvent.objects.filter(Q(ticket_id__gte=lo, ticket_id__lte=hi) if dense else Q(ticket_id__in=ids))
        .order_by("ticket_id", "occurred_at", "pk")
        .values_list("ticket_id", "kind", Epoch("occurred_at"), "status")
    )
    return tickets, events


def _recompute_chunk(book: PolicyBook, ids: Sequence[int], now: int) -> int:
    # Imported here: sla_batch builds on this module.
    from service import sla_batch

    if not ids:
        return 0
    tickets, events = load_chunk(ids)
    if not tickets:
        return 0
    out = sla_batch.compute(book, tickets, events, now)
    write_results([t[0] for t in tickets], out.figures, out.rows)
    return len(tickets)


def write_results(ids: Sequence[int], figures: list[Any], rows: list[Any]) -> None:
    """Store the figures of tickets IDS and their SLA rows (``service.sla_batch`` row layouts) in
    one transaction, set-based: the six minute fields of each ticket, an upsert of the SLA rows on
    (ticket, target), and a delete of the rows a ticket no longer has (merged, spam, no policy, a
    target the policy dropped). Rows and tickets whose values did not change are left alone, so a
    recompute after a policy change rewrites only what moved (and ``updated_at`` says when a
    result last changed)."""
    stamp = timezone.now()
    with transaction.atomic():
        if connection.vendor == "postgresql":
            _write_postgres(figures, rows, stamp)
        else:
            _write_sqlite(ids, figures, rows, stamp)


_SLA_COLUMNS = (
    "created_at",
    "updated_at",
    "ticket_id",
    "target",
    "target_minutes",
    "due_at",
    "met",
    "breached_at",
    "business_minutes",
)
_SLA_CHANGING = ("target_minutes", "due_at", "met", "breached_at", "business_minutes")


def _write_sqlite(ids: Sequence[int], figures: list[Any], rows: list[Any], stamp: datetime) -> None:
    """SQLite: one prepared single-row statement per table run with ``executemany``, which SQLite
    executes faster than it parses (and Django rewrites the placeholders of) statements with
    thousands of values."""
    qn = connection.ops.quote_name
    tickets = qn(Ticket._meta.db_table)
    results = qn(TicketSla._meta.db_table)
    sets = ", ".join(f"{qn(name)} = %s" for name in FIGURE_FIELDS)  # integer fields: column = name
    changed = " OR ".join(f"{qn(name)} IS NOT %s" for name in FIGURE_FIELDS)
    kept: dict[str, set[int]] = {target.value: set() for target in SlaTarget}
    for row in rows:
        kept[row[1]].add(row[0])
    updates = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in ("updated_at", *_SLA_CHANGING))
    differs = " OR ".join(f"{qn(c)} IS NOT excluded.{qn(c)}" for c in _SLA_CHANGING)
    when = "datetime(%s, 'unixepoch')"  # Django's own text form of a whole-second UTC datetime
    adapted = connection.ops.adapt_datetimefield_value(stamp)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {tickets} SET {sets} WHERE {qn('id')} = %s AND ({changed})",  # noqa: S608
            [(*row[1:], row[0], *row[1:]) for row in figures],
        )
        for target, keep in kept.items():
            gone = [i for i in ids if i not in keep]
            for batch in _chunks(gone, 5000):
                marks = ", ".join(["%s"] * len(batch))
                cursor.execute(
                    f"DELETE FROM {results} WHERE target = %s AND ticket_id IN ({marks})",  # noqa: S608
                    [target, *batch],
                )
        cursor.executemany(
            f"INSERT INTO {results} ({', '.join(qn(c) for c in _SLA_COLUMNS)}) "  # noqa: S608
            f"VALUES (%s, %s, %s, %s, %s, {when}, %s, {when}, %s) "
            f"ON CONFLICT ({qn('ticket_id')}, {qn('target')}) DO UPDATE SET {updates} WHERE {differs}",
            [(adapted, adapted, *row) for row in rows],
        )


def _write_postgres(figures: list[Any], rows: list[Any], stamp: datetime) -> None:
    """PostgreSQL: ``COPY`` both outputs into temporary staging tables, then one ``UPDATE … FROM``,
    one ``DELETE … NOT EXISTS`` and one ``INSERT … SELECT … ON CONFLICT`` (psycopg would otherwise
    parse multi-row statements with tens of thousands of placeholders in Python)."""
    qn = connection.ops.quote_name
    tickets = qn(Ticket._meta.db_table)
    results = qn(TicketSla._meta.db_table)
    figure_columns = ", ".join(f"{qn(name)} integer" for name in FIGURE_FIELDS)
    sets = ", ".join(f"{qn(name)} = s.{qn(name)}" for name in FIGURE_FIELDS)
    mine = ", ".join(f"t.{qn(name)}" for name in FIGURE_FIELDS)
    staged = ", ".join(f"s.{qn(name)}" for name in FIGURE_FIELDS)
    updates = ", ".join(f"{qn(c)} = excluded.{qn(c)}" for c in ("updated_at", *_SLA_CHANGING))
    old = ", ".join(f"{results}.{qn(c)}" for c in _SLA_CHANGING)
    new = ", ".join(f"excluded.{qn(c)}" for c in _SLA_CHANGING)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS sla_stage_figures (id bigint, {figure_columns}) "
            "ON COMMIT DELETE ROWS"
        )
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS sla_stage_rows (ticket_id bigint, target varchar(20), "
            "target_minutes integer, due bigint, met boolean, breached bigint, business_minutes integer) "
            "ON COMMIT DELETE ROWS"
        )
        # Chunks of one outer transaction share the tables: empty them first.
        cursor.execute("TRUNCATE sla_stage_figures, sla_stage_rows")
        raw = cursor.cursor  # psycopg 3 cursor under Django's wrapper
        with raw.copy("COPY sla_stage_figures FROM STDIN") as copy:
            for figure in figures:
                copy.write_row(figure)
        with raw.copy("COPY sla_stage_rows FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        # Fresh statistics, so that the joins below probe the indexes rather than scan the tables.
        cursor.execute("ANALYZE sla_stage_figures, sla_stage_rows")
        cursor.execute(
            f"UPDATE {tickets} AS t SET {sets} FROM sla_stage_figures AS s "  # noqa: S608
            f"WHERE t.{qn('id')} = s.id AND ({mine}) IS DISTINCT FROM ({staged})"
        )
        cursor.execute(
            f"DELETE FROM {results} AS r WHERE r.ticket_id IN (SELECT id FROM sla_stage_figures) "  # noqa: S608
            "AND NOT EXISTS (SELECT 1 FROM sla_stage_rows AS s "
            "WHERE s.ticket_id = r.ticket_id AND s.target = r.target)"
        )
        cursor.execute(
            f"INSERT INTO {results} ({', '.join(qn(c) for c in _SLA_COLUMNS)}) "  # noqa: S608
            "SELECT %s, %s, ticket_id, target, target_minutes, to_timestamp(due), met, "
            "to_timestamp(breached), business_minutes FROM sla_stage_rows "
            f"ON CONFLICT ({qn('ticket_id')}, {qn('target')}) DO UPDATE SET {updates} "
            f"WHERE ({old}) IS DISTINCT FROM ({new})",
            [stamp, stamp],
        )


def policy_for(ticket: Ticket, book: PolicyBook | None = None) -> PolicyRule | None:
    """The policy that applies to TICKET now (for showing it beside the results)."""
    book = book or PolicyBook.load()
    return book.match(
        ticket.priority, ticket.channel, ticket.customer_tier, ticket.team_id, epoch(ticket.opened_at)
    )


def describe(value: Any) -> str:
    """Minutes as "2 h 05 min" for pages."""
    if value is None:
        return "–"
    minutes = int(value)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
