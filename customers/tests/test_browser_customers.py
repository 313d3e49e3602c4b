"""In a real browser: CRM staff import a file of orders (the progress page settles on "Done"),
rebuild the figures, and marketing reads the sales report, drills down to a month's orders and
opens a customer with a stated purpose, seeing masked contact details. No CSP violation."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from core.testing.browser import login
from customers import services
from customers.tests.sales_helpers import customer, order, person

pytestmark = pytest.mark.browser


def test_import_then_report_drill_down_and_a_masked_profile(page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    crm = person("crm_staff")
    person("marketing")
    services.sales_records_load(actor=crm, kind="customers", records=[customer("C-1")], source="shop")
    orders = tmp_path / "orders.ndjson"
    orders.write_text("\n".join(json.dumps(order(f"O-{i}")) for i in range(3)), encoding="utf-8")

    login(page, "crm.staff")
    page.goto("/customers/imports/")
    page.get_by_label("Kind").select_option("orders")
    page.get_by_label("Source").fill("shop")
    page.set_input_files("input[type=file]", str(orders))
    page.get_by_role("button", name="Upload and load").click()
    expect(page.locator("#import-progress h2")).to_have_text("Done")
    expect(page.locator("#import-progress")).to_contain_text("Created")
    page.goto("/customers/segments/")
    page.get_by_role("button", name="Rebuild metrics, segments and report rollups now").click()
    expect(page.locator(".messages")).to_contain_text("1 customers scored")
    page.get_by_role("button", name="Sign out").click()

    login(page, "marketing")
    page.goto("/customers/reports/sales/?start=2026-05&end=2026-05")
    expect(page.locator("svg.chart")).to_be_visible()
    page.get_by_role("link", name="May 2026").click()
    expect(page.locator("table.data tbody tr")).to_have_count(3)
    page.get_by_role("link", name="Tai Man Chan").first.click()
    page.get_by_label("Purpose").select_option("sales analysis")
    page.get_by_role("button", name="Open the profile").click()
    expect(page.locator("main")).to_contain_text("c***@gmail.com")
    expect(page.locator("main")).not_to_contain_text("chan.taiman@gmail.com")
