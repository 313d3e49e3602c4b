"""Service levels link to KPIs of the measurement engine, critical (with an allocation of the at-risk
pool, together at most 100%) or key measurements (no credit); the contract gets a scorecard from them."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.testing.personas import api_call, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from kpis.models import CreditTerms, Scorecard, Subject
from vendors import services
from vendors.models import ServiceLevel
from vendors.tests.conftest import TODAY, call

D = Decimal


def spec(kpi, kind="critical", weight="50", allocation="50"):
    return services.ServiceLevelSpec(kpi, kind, D(weight), D(allocation))


def test_critical_allocations_above_100_percent_are_refused(
    draft_contract, vendor_manager, sla_kpi, csat_kpi
):
    version = draft_contract.versions.get()
    with nothing_written(ServiceLevel), pytest.raises(ValidationError) as caught:
        services.service_levels_set(
            actor=vendor_manager,
            version=version,
            levels=[spec(sla_kpi, allocation="70"), spec(csat_kpi, allocation="40")],
        )
    message = caught.value.message_dict["service_levels"][0]
    assert "total 110%" in message and "at most 100%" in message


def test_allocations_below_100_percent_are_allowed(draft_contract, vendor_manager, sla_kpi, csat_kpi):
    version = draft_contract.versions.get()
    rows = services.service_levels_set(
        actor=vendor_manager,
        version=version,
        levels=[spec(sla_kpi, allocation="40"), spec(csat_kpi, allocation="30")],
    )
    assert sum(r.allocation_pct for r in rows) == D(70)


def test_a_key_measurement_carries_no_allocation(draft_contract, vendor_manager, sla_kpi, csat_kpi):
    version = draft_contract.versions.get()
    with pytest.raises(ValidationError) as caught:
        services.service_levels_set(
            actor=vendor_manager,
            version=version,
            levels=[spec(sla_kpi), spec(csat_kpi, kind="key", allocation="10")],
        )
    assert "key measurement" in caught.value.message_dict["service_levels"][0]


@pytest.mark.parametrize(
    ("levels", "words"),
    [
        (lambda a, b: [spec(a, weight="60"), spec(b, weight="60", allocation="0")], "weights total 120"),
        (lambda a, b: [spec(a), spec(a, allocation="0")], "once"),
    ],
)
def test_weights_total_100_and_each_kpi_once(
    draft_contract, vendor_manager, sla_kpi, csat_kpi, levels, words
):
    version = draft_contract.versions.get()
    with pytest.raises(ValidationError) as caught:
        services.service_levels_set(actor=vendor_manager, version=version, levels=levels(sla_kpi, csat_kpi))
    assert words in caught.value.message_dict["service_levels"][0]


def test_the_api_refuses_allocations_above_the_pool_and_writes_nothing(
    client, draft_contract, vendor_manager, sla_kpi, csat_kpi
):
    version = draft_contract.versions.get()
    body = {
        "items": [
            {"kpi_id": sla_kpi.pk, "kind": "critical", "weight": "50", "allocation_pct": "60"},
            {"kpi_id": csat_kpi.pk, "kind": "critical", "weight": "50", "allocation_pct": "60"},
        ]
    }
    headers = bearer(vendor_manager)
    with nothing_written(ServiceLevel):
        response = call(
            client, "put", f"/api/v1/vendors/contract-versions/{version.pk}/service-levels", headers, body
        )
    data = assert_problem(response, 422)
    assert error_fields(data) == {"service_levels"}
    assert "120%" in data["errors"][0]["message"]


def test_the_api_names_an_unknown_kpi(client, draft_contract, vendor_manager):
    version = draft_contract.versions.get()
    body = {"items": [{"kpi_id": 999999, "kind": "critical", "weight": "100", "allocation_pct": "100"}]}
    response = api_call(
        client, "put", f"/api/v1/vendors/contract-versions/{version.pk}/service-levels", vendor_manager, body
    )
    data = assert_problem(response, 422)
    assert "999999" in data["errors"][0]["message"]


def test_the_contract_gets_a_contract_subject_and_scorecard_with_credit_terms(contract, vendor_manager):
    scorecard = services.contract_scorecard_setup(actor=vendor_manager, contract=contract, today=TODAY)

    contract.refresh_from_db()
    assert contract.scorecard == scorecard
    subject = contract.subject
    assert (subject.kind, subject.vendor_id, subject.reference) == (
        Subject.Kind.VENDOR_CONTRACT,
        contract.vendor_id,
        contract,
    )
    lines = {line.kpi.code: line for line in scorecard.lines.all()}
    assert {code: (line.critical, line.allocation_pct, line.weight) for code, line in lines.items()} == {
        "sla_attainment": (True, D(40), D(40)),
        "csat": (True, D(60), D(30)),
        "first_contact_resolution": (False, D(0), D(30)),
    }
    terms = CreditTerms.objects.get(scorecard=scorecard)
    assert (terms.monthly_fee, terms.at_risk_pct) == (D("100000.00"), D("10.00"))

    # Run again (after an amendment, say): the same subject and scorecard are brought up to date.
    again = services.contract_scorecard_setup(actor=vendor_manager, contract=contract, today=TODAY)
    assert again.pk == scorecard.pk
    assert Scorecard.objects.count() == 1 and Subject.objects.count() == 1


def test_a_scorecard_needs_an_active_version(draft_contract, vendor_manager):
    with pytest.raises(ValidationError) as caught:
        services.contract_scorecard_setup(actor=vendor_manager, contract=draft_contract, today=TODAY)
    assert "Activate" in caught.value.message_dict["contract"][0]
