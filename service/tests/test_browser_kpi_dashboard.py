"""Done-when, in a real browser: open the service dashboard, filter it, drill into a breached figure."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory, VendorFactory
from service.rollups import rollups_rebuild
from service.tests.kpi_data import build

pytestmark = pytest.mark.browser


def test_dashboard_filter_and_drill_into_breached_tickets(page):
    UserFactory(username="mandy", roles=["cs_manager"])
    vendor: Any = VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")
    build(vendor)
    rollups_rebuild()

    login(page, "mandy")
    page.get_by_role("link", name="Service KPIs").click()
    page.get_by_label("Period").fill("2026-03")
    page.get_by_label("Group by").select_option("agent")
    page.get_by_role("button", name="Show").click()
    table = page.locator("#figures")
    expect(table).to_contain_text("Alice Chan")
    expect(page.locator("#vendors")).to_contain_text("In-house")
    expect(page.locator("#vendors")).to_contain_text("Harbour Call Centre Ltd")
    expect(page.locator("svg.chart").first).to_be_visible()
    alice = table.locator("tr", has_text="Alice Chan")
    # Columns: name, volume, FR median, p90, mean, resolution median, SLA first response, …
    alice.locator("td").nth(6).get_by_role("link").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SLA first response")
    expect(page.locator("#tickets")).to_contain_text("#a3")
    expect(page.locator("#tickets tbody tr")).to_have_count(1)
