"""Demo business-hours calendars and SLA policies (see ``service.demo``)."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from accounts.models import User

# --- business hours and SLA policies (s2) ---


def seed_sla() -> bool:
    """A Hong Kong office calendar, a 24×7 calendar and four SLA policies, defined by the
    customer-service manager; every ticket's SLA results are computed when they commit. Returns False
    (and does nothing) when the calendars are already there."""
    from service import sla_services
    from service.models import BusinessCalendar, CalendarHoliday
    from service.sla_services import Timeframe

    if BusinessCalendar.objects.filter(name="Hong Kong office hours").exists():
        return False
    manager = User.objects.get(username="cs.manager")
    hours = [(9 * 60, 13 * 60), (14 * 60, 18 * 60)]
    office_frames = [Timeframe(day, start, end) for day in range(5) for start, end in hours]
    office_frames.append(Timeframe(5, 9 * 60, 13 * 60))
    with transaction.atomic():
        office = sla_services.calendar_create(
            actor=manager,
            name="Hong Kong office hours",
            description=(
                "Mon–Fri 09:00–18:00 with lunch 13:00–14:00, Sat 09:00–13:00, closed on HK general holidays."
            ),
            time_zone="Asia/Hong_Kong",
            hk_public_holidays=True,
            effective_from=date(2024, 1, 1),
            timeframes=office_frames,
        )
        sla_services.holiday_set(
            actor=manager,
            calendar=office,
            day=date(2026, 6, 12),
            name="Company anniversary (office closed)",
            kind=CalendarHoliday.Kind.CLOSED,
        )
        sla_services.holiday_set(
            actor=manager,
            calendar=office,
            day=date(2026, 12, 26),
            name="Boxing Day sale: office works",
            kind=CalendarHoliday.Kind.WORKED,
        )
        round_the_clock = sla_services.calendar_create(
            actor=manager,
            name="24×7 urgent desk",
            description="Every minute of every day, holidays included.",
            time_zone="Asia/Hong_Kong",
            hk_public_holidays=False,
            timeframes=[Timeframe(day, 0, 24 * 60) for day in range(7)],
        )
        policies: list[tuple[str, dict[str, Any], BusinessCalendar, tuple[int, int, int]]] = [
            ("Urgent, round the clock", {"priorities": ["urgent"]}, round_the_clock, (30, 60, 240)),
            ("VIP customers", {"customer_tiers": ["vip"]}, office, (60, 120, 960)),
            ("High priority", {"priorities": ["high"]}, office, (120, 240, 1440)),
            ("Standard", {}, office, (480, 480, 2400)),
        ]
        for name, conditions, calendar, (first, following, resolution) in policies:
            sla_services.policy_create(
                actor=manager,
                name=name,
                calendar=calendar,
                first_response_minutes=first,
                next_response_minutes=following,
                resolution_minutes=resolution,
                **conditions,
            )
    # Every service call above queued a recompute of the tickets it affects; they ran at commit.
    return True
