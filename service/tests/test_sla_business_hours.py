"""Business-hours arithmetic: the cases derived from the demo calendars (issue 4 item 2).

Hong Kong office hours (Mon–Fri 09:00–13:00 and 14:00–18:00, Sat 09:00–13:00, Hong Kong
general holidays), a Berlin calendar across both daylight-saving changes, custom and removed
holidays, and a property test of the cumulative index against the naive minute-by-minute loop.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.sla import BusinessIndex, CalendarSpec, epoch
from service.sla_naive import NaiveTime

HK = ZoneInfo("Asia/Hong_Kong")
BERLIN = ZoneInfo("Europe/Berlin")
WEEKDAY_HOURS = ((9 * 60, 13 * 60), (14 * 60, 18 * 60))

HK_OFFICE = CalendarSpec(
    time_zone="Asia/Hong_Kong",
    timeframes={**{d: WEEKDAY_HOURS for d in range(5)}, 5: ((9 * 60, 13 * 60),)},
    hk_holidays=True,
)
BERLIN_DAYTIME = CalendarSpec(
    time_zone="Europe/Berlin", timeframes={d: ((8 * 60, 20 * 60),) for d in range(7)}, hk_holidays=False
)
BERLIN_24X7 = CalendarSpec(
    time_zone="Europe/Berlin", timeframes={d: ((0, 1440),) for d in range(7)}, hk_holidays=False
)


def at(zone: ZoneInfo, text: str) -> int:
    return epoch(datetime.fromisoformat(text).replace(tzinfo=zone))


def local(zone: ZoneInfo, seconds: int | None) -> str:
    assert seconds is not None
    return datetime.fromtimestamp(seconds, tz=zone).strftime("%Y-%m-%d %H:%M")


def index(spec: CalendarSpec) -> BusinessIndex:
    return BusinessIndex(spec, date(2024, 12, 1), date(2027, 1, 31))


def test_lunch_break_is_skipped():
    idx = index(HK_OFFICE)
    assert local(HK, idx.add(at(HK, "2026-03-02 12:30"), 60 * 60)) == "2026-03-02 14:30"
    assert idx.between(at(HK, "2026-03-02 12:00"), at(HK, "2026-03-02 15:00")) == 120 * 60


def test_friday_evening_runs_into_saturday_morning_hours():
    idx = index(HK_OFFICE)
    assert local(HK, idx.add(at(HK, "2026-03-06 17:00"), 120 * 60)) == "2026-03-07 10:00"
    # Saturday closes at 13:00 and Sunday is closed: four hours from Saturday noon end Monday.
    assert local(HK, idx.add(at(HK, "2026-03-07 12:00"), 240 * 60)) == "2026-03-09 12:00"


def test_ticket_created_outside_business_hours_starts_counting_at_opening():
    idx = index(HK_OFFICE)
    created, reply = at(HK, "2026-03-02 07:00"), at(HK, "2026-03-02 09:30")
    assert idx.between(created, reply) == 30 * 60
    assert local(HK, idx.add(created, 60 * 60)) == "2026-03-02 10:00"
    # Created on Sunday night: the clock starts on Monday morning.
    assert local(HK, idx.add(at(HK, "2026-03-01 23:00"), 15 * 60)) == "2026-03-02 09:15"


def test_a_target_ending_at_closing_time_is_due_at_closing_time():
    idx = index(HK_OFFICE)
    assert local(HK, idx.add(at(HK, "2026-03-02 17:00"), 60 * 60)) == "2026-03-02 18:00"


def test_christmas_and_the_day_after_are_closed():
    idx = index(HK_OFFICE)
    # Thu 24 Dec 2026, 17:00 + 2 h: Fri 25 (Christmas), Sat 26 (first weekday after), Sun closed.
    assert local(HK, idx.add(at(HK, "2026-12-24 17:00"), 120 * 60)) == "2026-12-28 10:00"


def test_lunar_new_year_is_closed():
    idx = index(HK_OFFICE)
    # Lunar New Year 2026: Tue 17 to Thu 19 February.
    assert local(HK, idx.add(at(HK, "2026-02-16 17:00"), 120 * 60)) == "2026-02-20 10:00"
    assert idx.between(at(HK, "2026-02-17 00:00"), at(HK, "2026-02-20 00:00")) == 0


def test_custom_closed_day():
    spec = replace(HK_OFFICE, closed=frozenset({date(2026, 3, 4)}))
    assert local(HK, index(spec).add(at(HK, "2026-03-03 17:00"), 120 * 60)) == "2026-03-05 10:00"


def test_removed_public_holiday_is_worked():
    spec = replace(HK_OFFICE, worked=frozenset({date(2026, 12, 25)}))
    assert local(HK, index(spec).add(at(HK, "2026-12-24 17:00"), 120 * 60)) == "2026-12-25 10:00"
    without = replace(HK_OFFICE, hk_holidays=False)
    assert local(HK, index(without).add(at(HK, "2026-12-24 17:00"), 120 * 60)) == "2026-12-25 10:00"


def test_berlin_spring_forward_day_has_23_hours():
    idx = index(BERLIN_24X7)
    assert idx.between(at(BERLIN, "2026-03-28 12:00"), at(BERLIN, "2026-03-29 12:00")) == 23 * 3600
    # 08:00–20:00: the short night changes nothing about the twelve business hours.
    day = index(BERLIN_DAYTIME)
    start = at(BERLIN, "2026-03-28 19:00")
    due = day.add(start, 120 * 60)
    assert local(BERLIN, due) == "2026-03-29 09:00"
    assert datetime.fromtimestamp(due or 0, tz=UTC).hour == 7  # CEST is UTC+2


def test_berlin_fall_back_day_has_25_hours():
    idx = index(BERLIN_24X7)
    assert idx.between(at(BERLIN, "2026-10-24 12:00"), at(BERLIN, "2026-10-25 12:00")) == 25 * 3600
    assert idx.add(at(BERLIN, "2026-10-25 00:00"), 24 * 3600) == at(BERLIN, "2026-10-25 23:00")
    day = index(BERLIN_DAYTIME)
    due = day.add(at(BERLIN, "2026-10-24 19:00"), 120 * 60)
    assert local(BERLIN, due) == "2026-10-25 09:00"
    assert datetime.fromtimestamp(due or 0, tz=UTC).hour == 8  # CET is UTC+1


def test_pauses_push_the_due_time_and_an_open_pause_leaves_it_empty():
    idx = index(HK_OFFICE)
    start = at(HK, "2026-03-02 09:00")
    pause = (at(HK, "2026-03-02 10:00"), at(HK, "2026-03-03 10:00"))
    assert local(HK, idx.add(start, 240 * 60)) == "2026-03-02 13:00"
    assert local(HK, idx.add(start, 240 * 60, [pause])) == "2026-03-03 13:00"
    assert idx.add(start, 240 * 60, [(pause[0], None)]) is None
    # A pause that begins after the due time changes nothing.
    later = (at(HK, "2026-03-02 15:00"), None)
    assert local(HK, idx.add(start, 240 * 60, [later])) == "2026-03-02 13:00"


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError, match="no time zone"):
        epoch(datetime(2026, 3, 2, 9, 0))  # noqa: DTZ001 - the point of the test


def test_a_calendar_with_no_business_time_gives_no_due_time():
    empty = CalendarSpec(time_zone="Asia/Hong_Kong", timeframes={}, hk_holidays=False)
    idx = BusinessIndex(empty, date(2026, 1, 1), date(2026, 2, 1))
    assert idx.add(at(HK, "2026-01-05 09:00"), 60) is None


# --- The index against the naive loop ---------------------------------------------------------

CALENDARS = [
    HK_OFFICE,
    BERLIN_DAYTIME,
    BERLIN_24X7,
    replace(HK_OFFICE, closed=frozenset({date(2026, 3, 30)})),
]
INDEXES = [index(spec) for spec in CALENDARS]
NAIVE = [NaiveTime(spec) for spec in CALENDARS]
# Spans start around the Berlin DST changes and Hong Kong's Easter and Christmas holidays.
ORIGINS = [at(BERLIN, "2026-03-26 00:00"), at(BERLIN, "2026-10-22 00:00"), at(HK, "2026-12-21 00:00")]


@settings(max_examples=60, deadline=None, derandomize=True)
@given(
    which=st.integers(0, len(CALENDARS) - 1),
    origin=st.sampled_from(ORIGINS),
    offset=st.integers(0, 5 * 24 * 60),
    length=st.integers(0, 4 * 24 * 60),
    seconds=st.integers(0, 59),
)
def test_index_matches_the_minute_by_minute_loop(which, origin, offset, length, seconds):
    a = origin + offset * 60 + seconds
    b = a + length * 60 + seconds
    assert INDEXES[which].between(a, b) == NAIVE[which].between(a, b)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(
    which=st.integers(0, len(CALENDARS) - 1),
    origin=st.sampled_from(ORIGINS),
    offset=st.integers(0, 3 * 24 * 60),
    target=st.integers(1, 2 * 24 * 60),
    pause_at=st.integers(0, 2 * 24 * 60),
    pause_for=st.integers(1, 24 * 60),
    open_pause=st.booleans(),
)
def test_due_times_match_the_minute_by_minute_loop(
    which, origin, offset, target, pause_at, pause_for, open_pause
):
    start = origin + offset * 60
    pa = start + pause_at * 60 + 17
    pause = (pa, None if open_pause else pa + pause_for * 60)
    assert INDEXES[which].add(start, target * 60, [pause]) == NAIVE[which].add(start, target * 60, [pause])
