"""In a real browser: a customer-service manager imports a helpdesk export with a bad row, keeps the
good rows, sees the refused row with its line and reason, and opens an imported ticket."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory, VendorFactory
from service.tests.ingest_helpers import as_csv, conversation, make_teams

pytestmark = pytest.mark.browser


def test_a_manager_imports_a_file_and_reads_the_refused_rows(page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    make_teams(VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd"))
    UserFactory(username="mandy", roles=["cs_manager"])
    rows: list[dict[str, Any]] = [*conversation("T-1"), *conversation("T-2", team="harbourcall-hotline")]
    rows[7]["occurred_at"] = "2026-10-05 09:00:30"  # line 9: no time zone
    export = tmp_path / "helpdesk.csv"
    export.write_bytes(as_csv(rows))

    login(page, "mandy")
    page.locator("nav.mainnav").get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_role("link", name="Import tickets").click()
    page.get_by_label("File").set_input_files(str(export))
    page.get_by_label("Keep good rows: bad rows are reported, the others kept").check()
    page.get_by_role("button", name="Import").click()

    expect(page.locator("#import-progress")).to_contain_text("Imported; 1 row(s) left out.")
    refused = page.locator("#import-progress table tbody tr")
    expect(refused).to_have_count(1)
    expect(refused.first).to_contain_text("The time has no time zone")
    expect(page.get_by_role("link", name="Download the error report (CSV)")).to_be_visible()

    page.locator("nav.mainnav").get_by_role("link", name="Tickets", exact=True).click()
    expect(page.locator("#tickets")).to_contain_text("(2 tickets)")
    page.get_by_role("link", name="#T-2").click()
    expect(page.locator("h1")).to_contain_text("#T-2")
    expect(page.get_by_text("Harbour Call Centre Ltd")).to_be_visible()
