"""Issue 4's done-when as one user story in a real browser: the customer-service manager imports a
helpdesk export, sees a ticket's SLA results, opens the dashboard, drills into a breached figure,
compares two vendors with in-house staff, places a figure against an imported benchmark, and
reviews an agent and records a decision. (The same story through the API: test_service_story_api.)"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.testing.browser import login
from service.models import StaffReview
from service.rollups import rollups_rebuild
from service.tests import story_data

pytestmark = pytest.mark.browser


def test_the_service_quality_story_in_the_browser(page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    manager = story_data.set_up()["manager"]
    export = tmp_path / "helpdesk-march.csv"
    export.write_bytes(story_data.export_csv())
    login(page, "mandy")

    # 1. Import the helpdesk export.
    page.locator("nav.mainnav").get_by_role("link", name="Tickets", exact=True).click()
    page.get_by_role("link", name="Import tickets").click()
    page.get_by_label("File").set_input_files(str(export))
    page.get_by_role("button", name="Import").click()
    expect(page.locator("#import-progress")).to_contain_text("Imported.")

    # 2. SLA results on a ticket: HD-2 was answered 3½ business hours late.
    page.locator("nav.mainnav").get_by_role("link", name="Tickets", exact=True).click()
    expect(page.locator("#tickets")).to_contain_text("(6 tickets)")
    page.get_by_role("link", name="#HD-2").click()
    expect(page.locator("h1")).to_contain_text("#HD-2")
    sla = page.locator("#sla tr", has_text="First response")
    expect(sla).to_contain_text(re.compile("breached", re.IGNORECASE))

    # 3. The dashboard (rollups are rebuilt nightly; here, now).
    rollups_rebuild()
    page.get_by_role("link", name="Service KPIs").click()
    page.get_by_label("Period").fill(story_data.PERIOD)
    page.get_by_label("Group by").select_option("agent")
    page.get_by_role("button", name="Show").click()
    kelvin = page.locator("#figures tr", has_text="Kelvin Ho")
    expect(kelvin).to_be_visible()

    # 4. Compare both vendors with in-house staff on the same KPI version.
    vendors = page.locator("#vendors")
    for label in ("In-house", "Harbour Call Centre Ltd", "Kowloon Digital Marketing Co."):
        expect(vendors).to_contain_text(label)

    # 5. Drill into Kelvin's breached first-response figure: the tickets behind it.
    kelvin.locator("a[href*='figure=sla_first_response_pct']").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("SLA first response")
    expect(page.locator("#tickets tbody tr")).to_have_count(1)
    expect(page.locator("#tickets")).to_contain_text("HD-2")

    # 6. Import published benchmarks and place Steward's figure against them.
    page.goto(f"/service/benchmarks/?period={story_data.PERIOD}")
    benchmarks = tmp_path / "benchmarks.csv"
    benchmarks.write_bytes(story_data.BENCHMARKS_CSV)
    page.get_by_text("Import a CSV file (all rows or none)").click()
    page.get_by_label("File").set_input_files(str(benchmarks))
    page.get_by_role("button", name="Import").click()
    expect(page.get_by_text("2 benchmark values imported.")).to_be_visible()
    page.get_by_label("Steward period").fill(story_data.PERIOD)
    page.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(story_data.PERIOD)
    placed = page.locator("tr", has_text="HK Contact Centre Survey 2026")
    expect(placed).to_contain_text(re.compile(r"(better|worse) than the benchmark"))
    refused = page.locator("tr", has_text="Asia Service Report 2026")
    expect(refused).to_contain_text(re.compile("not compar|statistic|time basis", re.IGNORECASE))

    # 7. Review Kelvin for March and record a decision with a reason.
    page.goto("/service/quality/staff/")
    page.get_by_label("Agent").select_option(label="Kelvin Ho")
    page.get_by_label("Month").fill(story_data.PERIOD)
    page.get_by_role("button", name="Prepare").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Staff review: Kelvin Ho")
    page.get_by_label("Decision").select_option("coaching")
    page.get_by_label("Reason").fill(
        "One late first reply in four days; pair with a senior on the e-mail queue."
    )
    page.get_by_role("button", name="Record decision").click()
    expect(page.get_by_role("heading", name=re.compile("Decision: Coaching"))).to_be_visible()
    review = StaffReview.objects.get(agent__external_id="hd-101")
    assert (review.status, review.decision, review.decided_by_id) == ("decided", "coaching", manager.pk)
