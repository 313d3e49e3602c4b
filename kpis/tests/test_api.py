"""The KPI API: the same rules as the pages, problem details for every refusal, outsiders see nothing."""

import json
from datetime import date
from decimal import Decimal

import pytest

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from kpis import services
from kpis.models import Adjustment, KpiVersion, MeasureSubmission
from kpis.services import LineSpec

from .conftest import LAST_MONTH, bands_higher, make_kpi, make_measure, submit_value

pytestmark = pytest.mark.django_db
D = Decimal
BASE = "/api/v1/kpis"
BANDS_90 = [
    {"label": "Missed", "lower": None, "upper": "90", "score": "0"},
    {"label": "Met", "lower": "90", "upper": None, "score": "100", "is_target": True},
]


def kpi_body(**overrides):
    body = {
        "code": "resolution_rate",
        "name": "Resolution rate",
        "description": "Solved ÷ received.",
        "formula": "solved_pct",
        "unit": "%",
        "direction": "higher",
        "target": "95",
        "bands": bands_higher("95"),
        "weight": "50",
        "min_sample_size": 10,
    }
    body.update(overrides)
    return body


@pytest.fixture
def solved(cs_manager):
    return make_measure(cs_manager, "solved_pct")


def test_define_change_and_approve_a_kpi_through_the_api(client, cs_manager, second_manager, solved):
    created = api_call(client, "post", f"{BASE}/definitions", cs_manager, kpi_body())
    assert created.status_code == 201, created.content
    kpi = created.json()
    assert [v["status"] for v in kpi["versions"]] == ["draft"]
    v1 = kpi["versions"][0]["id"]
    own = api_call(client, "post", f"{BASE}/versions/{v1}/approve", cs_manager, {"note": ""})
    assert own.status_code == 403 and "another person" in own.json()["detail"]
    assert (
        api_call(client, "post", f"{BASE}/versions/{v1}/approve", second_manager, {"note": "ok"}).status_code
        == 200
    )
    changed = api_call(
        client,
        "post",
        f"{BASE}/definitions/{kpi['id']}/versions",
        cs_manager,
        {"reason": "Merger.", "target": "90", "bands": BANDS_90},
    )
    assert changed.status_code == 201, changed.content
    assert (changed.json()["number"], changed.json()["target"], changed.json()["status"]) == (
        2,
        "90",
        "draft",
    )
    detail = api_call(client, "get", f"{BASE}/definitions/{kpi['id']}", second_manager).json()
    assert [(v["number"], v["status"]) for v in detail["versions"]] == [(2, "draft"), (1, "approved")]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"formula": "solved_pct + nope"}, "formula", "Unknown measure(s): nope"),
        ({"formula": "solved_pct / 0"}, "formula", "division by zero"),
        ({"formula": "__import__('os')"}, "formula", "not an allowed function"),
        (
            {
                "bands": [
                    {"label": "A", "lower": None, "upper": "80", "score": "0"},
                    {"label": "B", "lower": "85", "upper": None, "score": "100", "is_target": True},
                ]
            },
            "bands",
            "fall in no band",
        ),
    ],
)
def test_bad_definitions_get_a_clear_problem_and_change_nothing(
    client, cs_manager, solved, overrides, field, message
):
    response = api_call(client, "post", f"{BASE}/definitions", cs_manager, kpi_body(**overrides))
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert any(e["field"] == field and message in e["message"] for e in errors), errors
    assert not KpiVersion.objects.exists()


def test_the_formula_preview_checks_and_evaluates_on_last_months_data(client, cs_manager, solved):
    response = api_call(
        client,
        "post",
        f"{BASE}/formula-preview",
        cs_manager,
        {"formula": "solved_pct * 2", "target": "95", "bands": bands_higher("95")},
    )
    assert response.status_code == 200
    assert response.json()["error"] == "" and response.json()["names"] == ["solved_pct"]
    bad = api_call(client, "post", f"{BASE}/formula-preview", cs_manager, {"formula": "x.y"})
    assert "attribute access" in bad.json()["error"]


@pytest.fixture
def contract(cs_manager, second_manager, vendor_subject, solved):
    version = make_kpi(cs_manager, second_manager, "resolution_rate", "solved_pct", weight="100")
    card = services.scorecard_create(
        actor=cs_manager,
        name="Harbour Call",
        subject=vendor_subject,
        lines=[LineSpec(version.definition, D("100"), critical=True, allocation_pct=D("100"))],
    )
    services.credit_terms_set(
        actor=cs_manager, scorecard=card, monthly_fee=D("100000"), at_risk_pct=D("10"), pool_pct=D("20")
    )
    submit_value(cs_manager, second_manager, solved, vendor_subject, "80", sample_size=40)
    period = services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=date(2025, 6, 2))
    return card, period


def test_weights_that_do_not_total_100_are_refused(client, cs_manager, contract):
    card, _ = contract
    kpi_id = card.lines.get().kpi_id
    response = api_call(
        client,
        "put",
        f"{BASE}/scorecards/{card.pk}/lines",
        cs_manager,
        {"lines": [{"kpi_id": kpi_id, "weight": "90"}]},
    )
    assert response.status_code == 422
    assert "must total exactly 100" in response.json()["errors"][0]["message"]


def test_a_period_explains_every_result(client, cs_manager, contract):
    _, period = contract
    body = api_call(client, "get", f"{BASE}/periods/{period.pk}", cs_manager).json()
    [result] = body["results"]
    assert (result["kpi_code"], result["version_number"], result["formula"]) == (
        "resolution_rate",
        1,
        "solved_pct",
    )
    assert (result["value"], result["band"], result["attainment"]) == ("80.000000", "Missed", "0.00")
    assert result["inputs"]["solved_pct"]["source"] == "submitted"
    assert result["inputs"]["solved_pct"]["submission_id"] == MeasureSubmission.objects.get().pk
    assert body["status"] == "closed" and body["score"] == "0.00"


def test_a_vendor_manager_approves_the_proposed_credit(client, cs_manager, vendor_manager, contract):
    _, period = contract
    [credit] = api_call(client, "get", f"{BASE}/adjustments?status=proposed", vendor_manager).json()["items"]
    assert (credit["proposed_amount"], credit["currency"]) == ("2000.00", "HKD")  # 20% × 100% × 10,000
    refused = api_call(
        client, "post", f"{BASE}/adjustments/{credit['id']}/decide", cs_manager, {"decision": "approve"}
    )
    assert refused.status_code == 403
    done = api_call(
        client, "post", f"{BASE}/adjustments/{credit['id']}/decide", vendor_manager, {"decision": "approve"}
    )
    assert done.status_code == 200 and done.json()["status"] == "approved"
    assert Adjustment.objects.get().approved_amount == D("2000.00")


def test_recomputing_a_closed_period_needs_the_permission(client, contract, auditor):
    _, period = contract
    response = api_call(client, "post", f"{BASE}/periods/{period.pk}/recompute", auditor, {"versions": []})
    assert response.status_code in (403, 404)


def test_a_portal_user_submits_a_measurement_with_evidence_over_multipart(
    client, portal_user, solved, vendor_subject
):
    from .conftest import evidence

    response = client.post(
        f"{BASE}/submissions",
        data={
            "measure_id": solved.pk,
            "subject_id": vendor_subject.pk,
            "start": "2025-05-01",
            "end": "2025-06-01",
            "value": "97.5",
            "evidence": evidence(),
        },
        **bearer(portal_user),
    )
    assert response.status_code == 201, response.content
    assert response.json()["has_evidence"] is True and response.json()["status"] == "submitted"


def test_outsiders_reach_nothing_of_the_vendors_scorecards(client, outsider, no_role_user, contract, vendor):
    card, period = contract
    credit = Adjustment.objects.get()
    secrets = ("Harbour Call",)
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "get", f"{BASE}/scorecards/{card.pk}", secrets=secrets)
        assert_outsider_blocked(client, person, "get", f"{BASE}/periods/{period.pk}", secrets=secrets)
        assert_outsider_blocked(
            client, person, "get", f"{BASE}/periods/{period.pk}/statement?format=csv", secrets=secrets
        )
        assert_outsider_blocked(client, person, "get", f"{BASE}/adjustments", secrets=("2000",))
        assert_outsider_blocked(
            client, person, "post", f"{BASE}/adjustments/{credit.pk}/decide", body={"decision": "approve"}
        )
        assert_outsider_blocked(
            client, person, "post", f"{BASE}/periods/{period.pk}/recompute", body={"versions": []}
        )
    assert Adjustment.objects.get().status == "proposed"


def test_the_statement_downloads_as_csv_with_formula_injection_neutralised(client, cs_manager, contract):
    _, period = contract
    response = api_call(client, "get", f"{BASE}/periods/{period.pk}/statement?format=csv", cs_manager)
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = response.content.decode("utf-8-sig")
    assert "Resolution Rate,v1,solved_pct,80,95,Missed,0,100" in text
    assert "2000" in text


def test_the_openapi_document_lists_the_kpi_endpoints(client, cs_manager):
    response = client.get("/api/v1/openapi.json", **bearer(cs_manager))
    paths = json.loads(response.content)["paths"]
    assert "/api/v1/kpis/definitions" in paths and "/api/v1/kpis/adjustments/{adjustment_id}/decide" in paths
