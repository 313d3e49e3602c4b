"""Date arithmetic for obligations: the due dates of a recurrence, and an instance's status on a day."""

from __future__ import annotations

import calendar
from datetime import date, timedelta

# An open obligation instance is "due" from this many days before its due date; "upcoming" before.
DUE_SOON_DAYS = 14
# No obligation generates more instances than this (a weekly one for ten years is 522).
MAX_INSTANCES = 600

_STEP_MONTHS = {"monthly": 1, "quarterly": 3, "half_yearly": 6, "yearly": 12}


def add_months(day: date, months: int) -> date:
    """DAY moved by MONTHS calendar months, kept inside the month (31 Jan + 1 month = 28/29 Feb)."""
    years, month_index = divmod(day.month - 1 + months, 12)
    year, month = day.year + years, month_index + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def due_dates(first: date, recurrence: str, until: date) -> list[date]:
    """Every due date from FIRST up to and including UNTIL (a one-off is due once, on FIRST).

    Each date is counted from FIRST, not from the previous date, so that a month-end obligation
    stays at month end (31 Jan, 29 Feb, 31 Mar…).
    """
    if recurrence == "once":
        return [first]
    dates: list[date] = []
    index = 0
    while len(dates) < MAX_INSTANCES:
        if recurrence == "weekly":
            day = first + timedelta(weeks=index)
        elif recurrence in _STEP_MONTHS:
            day = add_months(first, _STEP_MONTHS[recurrence] * index)
        else:
            raise ValueError(f"unknown recurrence {recurrence!r}")
        if day > until:
            break
        dates.append(day)
        index += 1
    return dates


def open_status(due_on: date, today: date) -> str:
    """The status of an instance nobody has met or waived yet, as of TODAY."""
    if due_on < today:
        return "missed"
    if due_on <= today + timedelta(days=DUE_SOON_DAYS):
        return "due"
    return "upcoming"
