"""Issue 4's done-when as one user story through the API (the browser twin:
test_browser_service_story): import a helpdesk export file, read a ticket's SLA results, read the
KPI report, drill into a breached figure, compare two vendors with in-house staff, place a figure
against imported benchmarks, prepare an agent's staff review and record the decision."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing.personas import bearer
from service.models import StaffReview, Ticket
from service.tests import story_data
from service.tests.conftest import call

pytestmark = pytest.mark.django_db(transaction=True)
API = "/api/v1/service"


def ok(response, status=200):
    assert response.status_code == status, response.content.decode()
    return response.json()


def test_the_service_quality_story_through_the_api(client, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    people = story_data.set_up()
    headers = bearer(people["manager"])

    # 1. Import the helpdesk export (runs in the background; eagerly here).
    upload = SimpleUploadedFile("helpdesk-march.csv", story_data.export_csv(), content_type="text/csv")
    job = ok(client.post(f"{API}/imports", {"file": upload, "mode": "all_or_nothing"}, **headers), 202)
    job = ok(call(client, "GET", f"{API}/imports/{job['id']}", headers))
    assert (job["status"], job["tickets_created"], job["rows_rejected"]) == ("done", 6, 0)

    # 2. SLA results on the late ticket.
    late = Ticket.objects.get(external_id="HD-2")
    detail = ok(call(client, "GET", f"{API}/tickets/{late.pk}", headers))
    first = next(r for r in detail["sla"] if r["target"] == "first_response")
    assert (first["met"], first["business_minutes"]) == (False, 210)

    # 3. The KPI report by agent (after the nightly rollup rebuild, asked for here).
    ok(call(client, "POST", f"{API}/rollups/rebuild", headers, {"start": "2026-03-01", "end": "2026-04-01"}))
    report = ok(call(client, "GET", f"{API}/reports/kpis?period={story_data.PERIOD}&group_by=agent", headers))
    kelvin = next(r for r in report["rows"] if r["label"] == "Kelvin Ho")
    assert kelvin["figures"]["sla_first_response_pct"]["value"] == "50.00"

    # 4. In-house staff against both vendors, on the same KPI version.
    vendors = {v["label"]: v["figures"]["sla_first_response_pct"]["value"] for v in report["vendors"]}
    assert vendors == {
        "In-house": "50.00",
        "Harbour Call Centre Ltd": "50.00",
        "Kowloon Digital Marketing Co.": "100.00",
    }

    # 5. Drill into Kelvin's breached first responses: the one late ticket.
    tickets = ok(call(client, "GET", kelvin["figures"]["sla_first_response_pct"]["drilldown"], headers))
    assert [t["external_id"] for t in tickets["items"]] == ["HD-2"]

    # 6. Import benchmarks, place Steward's median first response against them.
    upload = SimpleUploadedFile("benchmarks.csv", story_data.BENCHMARKS_CSV, content_type="text/csv")
    imported = ok(client.post(f"{API}/benchmarks/import", {"file": upload}, **headers), 201)
    assert len(imported) == 2
    placed = ok(
        call(
            client,
            "GET",
            f"{API}/benchmarks/compare?measure=first_response_median&period={story_data.PERIOD}",
            headers,
        )
    )
    by_source = {c["source"]: c for c in placed}
    survey = by_source["HK Contact Centre Survey 2026"]
    assert survey["comparable"] and survey["steward_value"] is not None
    assert "than the benchmark" in survey["explanation"]
    assert not by_source["Asia Service Report 2026"]["comparable"]
    assert "mean" in by_source["Asia Service Report 2026"]["explanation"]

    # 7. Prepare Kelvin's review for March and decide it.
    agent = people["kelvin"]
    review = ok(
        call(
            client,
            "POST",
            f"{API}/staff-reviews",
            headers,
            {"agent_id": agent.pk, "month": story_data.PERIOD},
        ),
        201,
    )
    decided = ok(
        call(
            client,
            "POST",
            f"{API}/staff-reviews/{review['id']}/decide",
            headers,
            {
                "decision": "coaching",
                "reason": "One late first reply; pair with a senior on the e-mail queue.",
            },
        )
    )
    assert (decided["status"], decided["decision"]) == ("decided", "coaching")
    assert StaffReview.objects.get(pk=review["id"]).decided_by == people["manager"]
