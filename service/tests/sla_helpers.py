"""Builders shared by the SLA tests: calendars, policies and tickets with events, in local time."""

from __future__ import annotations

from datetime import datetime
from itertools import count
from zoneinfo import ZoneInfo

from service import sla_services
from service.models import BusinessCalendar, SlaPolicy, Ticket, TicketEvent
from service.sla_services import Timeframe

HK = ZoneInfo("Asia/Hong_Kong")
_ids = count(1)


def hk(text: str, zone: ZoneInfo = HK) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=zone)


def office_calendar(name: str = "HK office", **extra) -> BusinessCalendar:
    """Mon–Fri 09:00–13:00 and 14:00–18:00, Sat 09:00–13:00, Hong Kong general holidays."""
    frames = [Timeframe(d, s, e) for d in range(5) for s, e in ((540, 780), (840, 1080))]
    frames.append(Timeframe(5, 540, 780))
    return sla_services.calendar_create(actor=None, name=name, timeframes=frames, **extra)


def policy(calendar: BusinessCalendar, name: str, targets=(60, 120, 240), **conditions) -> SlaPolicy:
    first, following, resolution = targets
    return sla_services.policy_create(
        actor=None,
        name=name,
        calendar=calendar,
        first_response_minutes=first,
        next_response_minutes=following,
        resolution_minutes=resolution,
        **conditions,
    )


def ticket(opened: str, events=(), zone: ZoneInfo = HK, **fields) -> Ticket:
    """A ticket opened at local time OPENED with EVENTS as (kind, local time[, new status])."""
    created = Ticket.objects.create(external_id=f"T{next(_ids)}", opened_at=hk(opened, zone), **fields)
    rows = [TicketEvent(ticket=created, external_id="e0", kind="created", occurred_at=created.opened_at)]
    for i, event in enumerate(events, start=1):
        kind, when, *status = event
        rows.append(
            TicketEvent(
                ticket=created,
                external_id=f"e{i}",
                kind=kind,
                occurred_at=hk(when, zone),
                status=status[0] if status else "",
            )
        )
    TicketEvent.objects.bulk_create(rows)
    return created


def results(ticket_obj: Ticket) -> dict[str, dict]:
    return {
        row.target: {
            "due": row.due_at.astimezone(HK).strftime("%Y-%m-%d %H:%M") if row.due_at else None,
            "met": row.met,
            "breached": row.breached_at.astimezone(HK).strftime("%Y-%m-%d %H:%M")
            if row.breached_at
            else None,
            "minutes": row.business_minutes,
        }
        for row in ticket_obj.sla_results.all()
    }
