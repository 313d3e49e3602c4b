"""Scorecard periods: week (ISO, Monday first), month, quarter and year.

A period is the half-open date range ``[start, end)``: ``end`` is the first day of the next
period, so adjacent periods never overlap and "the month of March" is ``[1 Mar, 1 Apr)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

WEEK = "week"
MONTH = "month"
QUARTER = "quarter"
YEAR = "year"
GRANULARITIES = (WEEK, MONTH, QUARTER, YEAR)


@dataclass(frozen=True, order=True)
class Period:
    start: date
    end: date  # exclusive

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def label(self, granularity: str) -> str:
        if granularity == WEEK:
            year, week, _ = self.start.isocalendar()
            return f"{year}-W{week:02d}"
        if granularity == MONTH:
            return self.start.strftime("%Y-%m")
        if granularity == QUARTER:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if granularity == YEAR:
            return str(self.start.year)
        return f"{self.start.isoformat()}–{self.last_day.isoformat()}"


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def period_containing(granularity: str, day: date) -> Period:
    """The period of GRANULARITY that contains DAY."""
    if granularity == WEEK:
        start = day - timedelta(days=day.weekday())
        return Period(start, start + timedelta(days=7))
    if granularity == MONTH:
        start = day.replace(day=1)
        return Period(start, _add_months(start, 1))
    if granularity == QUARTER:
        start = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
        return Period(start, _add_months(start, 3))
    if granularity == YEAR:
        start = date(day.year, 1, 1)
        return Period(start, date(day.year + 1, 1, 1))
    raise ValueError(f"unknown granularity {granularity!r}")


def previous_period(granularity: str, day: date) -> Period:
    """The last complete period before the one containing DAY (what a nightly close closes)."""
    current = period_containing(granularity, day)
    return period_containing(granularity, current.start - timedelta(days=1))


def shift(granularity: str, period: Period, count: int) -> Period:
    """The period COUNT steps after (negative: before) PERIOD."""
    result = period
    step = 1 if count >= 0 else -1
    for _ in range(abs(count)):
        anchor = result.end if step > 0 else result.start - timedelta(days=1)
        result = period_containing(granularity, anchor)
    return result


def is_period_start(granularity: str, day: date) -> bool:
    return period_containing(granularity, day).start == day
