# mypy: disable-error-code="arg-type, misc, union-attr, operator, index"
"""Competitor benchmarks: import (one, CSV all-or-nothing), like-for-like placement, the KPI review page."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing.factories import UserFactory
from core.testing.personas import api_call, bearer
from core.testing.problems import assert_problem, nothing_written
from kpis import registry
from kpis import services as kpi_services
from kpis.models import KpiReview
from service import benchmarks
from service.report_models import ServiceBenchmark
from service.tests.kpi_data import APRIL, MARCH, build

pytestmark = pytest.mark.django_db
D = Decimal
HEADER = (
    "source,source_url,period_start,period_end,industry,measure_code,statistic,time_basis,unit,"
    "definition,value,illustrative\n"
)
MEDIAN_ROW = (
    "Sample CX Report 2026,,2026-01-01,2026-03-31,E-commerce,first_response_median,median,business,"
    "minutes,Median first reply,30,yes\n"
)
MEAN_ROW = (
    "Sample CX Report 2026,,2026-01-01,2026-03-31,E-commerce,first_response_median,mean,calendar,"
    "minutes,Mean first reply (24/7),45,yes\n"
)


@pytest.fixture
def manager():
    return UserFactory(username="carmen", roles=["cs_manager"])


@pytest.fixture
def data(vendor):
    return build(vendor)


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("benchmarks.csv", text.encode(), content_type="text/csv")


def test_like_for_like_placement_and_refusal(data, manager):
    saved = benchmarks.benchmarks_import(actor=manager, content=(HEADER + MEDIAN_ROW + MEAN_ROW).encode())
    assert len(saved) == 2
    found = {
        c.benchmark.statistic: c
        for c in benchmarks.compare(measure_code="first_response_median", start=MARCH, end=APRIL)
    }
    # Steward's median over all counted March tickets: 10, 20, 30, 40, 100, 200 → 35.
    assert found["median"].comparable and found["median"].steward_value == D("35.00")
    assert (
        "Steward's 35 minutes is 5 minutes (16.7%) worse than the benchmark's 30 "
        in found["median"].explanation
    )
    refused = found["mean"]
    assert not refused.comparable
    assert "a mean but Steward" in refused.explanation and "calendar (24/7) minutes" in refused.explanation


def test_csv_import_is_all_or_nothing_with_line_numbers(client, manager):
    bad = (
        HEADER
        + MEDIAN_ROW
        + "Other,,2026-01-01,2026-03-31,Retail,first_response_median,average,business,minutes,x,abc,no\n"
    )
    auth = bearer(manager)
    with nothing_written(ServiceBenchmark):
        response = client.post("/api/v1/service/benchmarks/import", {"file": upload(bad)}, **auth)
        body = assert_problem(response, 422)
    messages = " ".join(e["message"] for e in body["errors"])
    assert "line 3: statistic" in messages and "line 3: value" in messages
    response = client.post("/api/v1/service/benchmarks/import", {"file": upload(HEADER + MEDIAN_ROW)}, **auth)
    assert response.status_code == 201 and response.json()[0]["illustrative"] is True


def test_api_create_compare_and_permissions(client, data, manager, portal_user, no_role_user):
    payload = {
        "source": "Sample CX Report 2026",
        "period_start": "2026-01-01",
        "period_end": "2026-03-31",
        "industry": "E-commerce",
        "measure_code": "sla_first_response_pct",
        "statistic": "rate",
        "time_basis": "none",
        "unit": "%",
        "definition": "Share of tickets answered within target.",
        "value": "80",
    }
    for user in (portal_user, no_role_user):
        auth = bearer(user)
        with nothing_written(ServiceBenchmark):
            response = client.post(
                "/api/v1/service/benchmarks", payload, content_type="application/json", **auth
            )
            assert_problem(response, 403)
    wrong_unit = {**payload, "unit": "minutes"}
    auth = bearer(manager)
    with nothing_written(ServiceBenchmark):
        assert_problem(
            client.post("/api/v1/service/benchmarks", wrong_unit, content_type="application/json", **auth),
            422,
        )
    assert api_call(client, "POST", "/api/v1/service/benchmarks", manager, payload).status_code == 201
    rows = api_call(
        client,
        "GET",
        "/api/v1/service/benchmarks/compare?measure=sla_first_response_pct&period=2026-03",
        manager,
    ).json()
    assert rows[0]["comparable"] and rows[0]["steward_value"] == "66.67"
    assert "worse than the benchmark's 80" in rows[0]["explanation"]
    assert_problem(
        api_call(
            client, "GET", "/api/v1/service/benchmarks/compare?measure=sla_first_response_pct", portal_user
        ),
        403,
    )


def test_kpi_review_page_shows_benchmark_placement(client, data, manager):
    benchmarks.benchmarks_import(actor=manager, content=(HEADER + MEDIAN_ROW + MEAN_ROW).encode())
    approver = UserFactory(username="vivian", roles=["vendor_manager"])
    version = kpi_services.kpi_define(
        actor=manager,
        code="cs_first_response",
        name="First response median",
        description="Median business minutes to the first public agent reply.",
        formula="first_response_median",
        unit="minutes",
        direction="lower",
        statistic="median",
        target=D(25),
        bands=[
            {"label": "Slow", "lower": "30", "upper": None, "score": "0"},
            {"label": "On target", "lower": None, "upper": "30", "score": "100", "is_target": True},
        ],
        effective_from=date(2026, 1, 1),
    )
    kpi_services.kpi_version_approve(actor=approver, version=version)
    placed = registry.benchmark_for("cs_first_response", MARCH, APRIL)
    assert placed["measure"] == "first_response_median"
    assert "worse than the benchmark's 30" in placed["placement"]
    assert any(not c["comparable"] for c in placed["comparisons"])
    review = KpiReview.objects.create(definition=version.definition, due_on=date(2026, 4, 1))
    client.force_login(manager)
    html = client.get(f"/kpis/reviews/{review.pk}/").content.decode()
    assert "Benchmark placement" in html and "Sample CX Report 2026" in html and "Not compared" in html


def test_benchmarks_page_import_and_placement(client, data, manager):
    client.force_login(manager)
    response = client.post(
        "/service/benchmarks/", {"kind": "csv", "csv-file": upload(HEADER + MEDIAN_ROW + MEAN_ROW)}
    )
    assert response.status_code == 302
    html = client.get("/service/benchmarks/?period=2026-03").content.decode()
    assert (
        "illustrative sample figure" in html and "Not compared" in html and "worse than the benchmark" in html
    )
    response = client.post("/service/benchmarks/", {"kind": "csv", "csv-file": upload(HEADER + "x,,bad\n")})
    assert response.status_code == 200 and "line 2" in response.content.decode()
