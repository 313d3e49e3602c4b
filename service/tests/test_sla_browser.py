"""In a real browser: the customer-service manager works a Hong Kong public holiday on the office
calendar, and a ticket's SLA results then count that day as business time."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory
from service import sla
from service.models import CalendarHoliday, TicketSla
from service.tests.sla_helpers import office_calendar, policy, ticket

pytestmark = pytest.mark.browser


def test_working_christmas_moves_the_due_time(page):
    UserFactory(username="carmen", roles=["cs_manager"])
    calendar = office_calendar()
    policy(calendar, "High", targets=(120, 240, 1440))
    t = ticket("2026-12-24 17:00")
    sla.recompute_tickets([t.pk])
    due = TicketSla.objects.get(ticket=t, target="first_response").due_at
    assert due is not None and due.isoformat() == "2026-12-28T02:00:00+00:00"  # Mon 28 Dec 10:00 HKT

    login(page, "carmen")
    page.goto(f"/service/sla/calendars/{calendar.pk}/?year=2026")
    row = page.locator("#public-holidays tr", has_text="Fri 25 Dec 2026")
    row.get_by_role("button", name="Work this day").click()
    expect(page.locator("#public-holidays tr", has_text="Fri 25 Dec 2026")).to_contain_text("worked")
    assert calendar.holidays.get().kind == CalendarHoliday.Kind.WORKED

    page.goto(f"/service/tickets/{t.pk}/sla/")
    expect(page.locator("table").first).to_contain_text("Fri 25 Dec 2026 10:00")
