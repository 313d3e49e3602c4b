"""The straightforward way to count business time: walk the span minute by minute.

Kept as the reference that ``service/sla.py``'s index is checked against (property tests in
``service/tests/test_sla_business_hours.py``) and as the baseline of
``bench/bench_service_sla.py``. It asks the calendar, for every minute, whether the wall
clock in the calendar's time zone falls in a timeframe of a day that is not closed, and so
is obviously right and slow: O(length of the span) per question.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from service.sla import CalendarSpec

# A due time further away than this (about two years of minutes) is "out of reach", as in the index.
MAX_STEPS = 2 * 366 * 24 * 60


class NaiveTime:
    """Business time of one calendar by walking minutes (satisfies ``service.sla.BusinessTime``)."""

    def __init__(self, spec: CalendarSpec) -> None:
        self.spec = spec
        self.zone = ZoneInfo(spec.time_zone)

    def is_business(self, t: int) -> bool:
        """Whether the minute holding instant T is business time."""
        local = datetime.fromtimestamp(t, tz=self.zone)
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.spec.day_minutes(local.date()))

    def between(self, a: int, b: int) -> int:
        total = 0
        t = a
        while t < b:
            step = min(b, (t // 60 + 1) * 60)
            if self.is_business(t):
                total += step - t
            t = step
        return total

    def add(self, start: int, seconds: int, pauses: Sequence[tuple[int, int | None]] = ()) -> int | None:
        remaining = seconds
        t = start
        if remaining <= 0:
            return start
        for _ in range(MAX_STEPS):
            step = (t // 60 + 1) * 60
            paused = False
            for pa, pb in pauses:
                if pa <= t and (pb is None or t < pb):
                    if pb is None:
                        return None
                    paused = True
                    step = min(step, pb) if pb > t else step
                    break
                if t < pa < step:
                    step = pa
            if not paused and self.is_business(t):
                if step - t >= remaining:
                    return t + remaining
                remaining -= step - t
            t = step
        return None
