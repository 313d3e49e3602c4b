"""Reads for calendars, SLA policies and per-ticket SLA results; every query goes through ``restrict``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import Prefetch, QuerySet

from core.access import get_restricted_or_404
from service import sla
from service.models import BusinessCalendar, CalendarHoliday, SlaPolicy, SlaTarget, Ticket, TicketSla


def calendar_list(*, user: Any) -> QuerySet[BusinessCalendar]:
    return (
        BusinessCalendar.objects.restrict(user, "view")
        .prefetch_related("timeframes", "holidays", "policies")
        .order_by("name")
    )


def calendar_get(*, user: Any, pk: int, action: str = "view") -> BusinessCalendar:
    return get_restricted_or_404(BusinessCalendar, user=user, action=action, pk=pk)


def holiday_get(*, user: Any, calendar: BusinessCalendar, pk: int) -> CalendarHoliday:
    return get_restricted_or_404(CalendarHoliday, user=user, action="change", pk=pk, calendar=calendar)


def policy_list(*, user: Any) -> QuerySet[SlaPolicy]:
    return (
        SlaPolicy.objects.restrict(user, "view")
        .select_related("calendar")
        .prefetch_related("teams")
        .order_by("position", "id")
    )


def policy_get(*, user: Any, pk: int, action: str = "view") -> SlaPolicy:
    return get_restricted_or_404(SlaPolicy, user=user, action=action, pk=pk)


@dataclass(frozen=True)
class PublicHoliday:
    day: date
    name: str
    worked: bool


def public_holidays(*, calendar: BusinessCalendar, year: int) -> list[PublicHoliday]:
    """Hong Kong general holidays of YEAR, each marked worked when the calendar removed it."""
    worked = set(
        calendar.holidays.filter(kind=CalendarHoliday.Kind.WORKED, day__year=year).values_list(
            "day", flat=True
        )
    )
    return [
        PublicHoliday(day, name, day in worked) for day, name in sorted(sla.hk_general_holidays(year).items())
    ]


@dataclass(frozen=True)
class TicketSlaView:
    """A ticket's SLA results with the policy that applies and the stored minutes."""

    ticket: Ticket
    policy: sla.PolicyRule | None
    results: list[TicketSla]


TARGET_ORDER = {t.value: i for i, t in enumerate(SlaTarget)}


def ticket_sla(*, user: Any, pk: int) -> TicketSlaView:
    """One ticket's SLA results; 404 for a ticket the user may not see (portal users: their vendor's)."""
    ticket = get_restricted_or_404(Ticket, user=user, pk=pk)
    rows = list(TicketSla.objects.restrict(user, "view").filter(ticket=ticket))
    rows.sort(key=lambda row: TARGET_ORDER[row.target])
    return TicketSlaView(ticket=ticket, policy=sla.policy_for(ticket), results=rows)


def prefetch_sla(tickets: QuerySet[Ticket], *, user: Any) -> QuerySet[Ticket]:
    """TICKETS with their SLA rows loaded in one more query (for lists)."""
    return tickets.prefetch_related(
        Prefetch("sla_results", queryset=TicketSla.objects.restrict(user, "view"))
    )
