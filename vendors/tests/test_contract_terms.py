"""A contract's parties, term, fees in HKD, renewal and notice: a term ends after it starts, money is
Decimal, the notice deadline follows from the end and the notice period; bad input writes nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors import services
from vendors.models import Contract, ContractVersion, FeeItem
from vendors.tests.conftest import TERMS, call


def contract_body(vendor, **changes):
    body = {
        "vendor_id": vendor.pk,
        "reference": "HC-CS-2025",
        "title": "Customer-service outsourcing",
        "our_entity": "Steward Trading (HK) Ltd",
        "start": "2025-01-01",
        "end": "2026-12-31",
        "monthly_fee": "100000.00",
        "at_risk_pct": "10",
        "renewal_type": "automatic",
        "renewal_term_months": 12,
        "notice_period_days": 90,
    }
    body.update(changes)
    return body


def test_a_contract_is_recorded_with_its_first_version_as_a_draft(draft_contract, vendor):
    version = draft_contract.versions.get()
    assert draft_contract.vendor_entity == vendor.name
    assert draft_contract.alert_days == [120, 90, 30]
    assert (version.number, version.kind, version.status) == (1, "original", "draft")
    assert version.monthly_fee == Decimal("100000.00") and isinstance(version.monthly_fee, Decimal)
    assert version.at_risk_amount == Decimal("10000.00")
    assert version.notice_by == date(2026, 10, 2)  # 31 Dec 2026 − 90 days
    assert version.effective_end == version.end == date(2026, 12, 31)


def test_a_contract_that_ends_before_it_starts_is_refused_and_nothing_is_written(vendor, vendor_manager):
    terms = {**TERMS, "start": date(2025, 6, 1), "end": date(2025, 5, 31)}
    with nothing_written(Contract, ContractVersion), pytest.raises(ValidationError) as caught:
        services.contract_create(
            actor=vendor_manager, vendor=vendor, reference="X-1", title="X", our_entity="Us Ltd", **terms
        )
    assert "ends" in caught.value.message_dict["end"][0]


def test_the_api_refuses_an_end_before_the_start_naming_the_field(client, vendor, vendor_manager):
    headers = bearer(vendor_manager)
    with nothing_written(Contract, ContractVersion):
        response = call(
            client, "post", "/api/v1/vendors/contracts", headers, contract_body(vendor, end="2024-12-31")
        )
    data = assert_problem(response, 422)
    assert error_fields(data) == {"end"}


def test_the_api_records_a_contract_with_fees_in_hkd(client, vendor, vendor_manager):
    response = api_call(client, "post", "/api/v1/vendors/contracts", vendor_manager, contract_body(vendor))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["currency"] == "HKD"
    contract = Contract.objects.get(pk=data["id"])
    version = contract.versions.get()
    fees = [
        {"description": "Monthly service fee", "basis": "monthly", "amount": "100000.00"},
        {"description": "Overflow calls", "basis": "per_unit", "amount": "18.50", "unit": "per call"},
    ]
    response = api_call(
        client, "put", f"/api/v1/vendors/contract-versions/{version.pk}/fees", vendor_manager, {"items": fees}
    )
    assert response.status_code == 200, response.content
    assert [f["amount"] for f in response.json()["fees"]] == ["100000.00", "18.50"]
    assert FeeItem.objects.get(unit="per call").amount == Decimal("18.50")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"monthly_fee": "-1"}, "monthly_fee"),
        ({"monthly_fee": "1.005"}, "monthly_fee"),
        ({"at_risk_pct": "101"}, "at_risk_pct"),
        ({"notice_period_days": 731}, "notice_period_days"),
        ({"renewal_type": "forever"}, "renewal_type"),
        ({"reference": ""}, "reference"),
        ({"alert_days": []}, "alert_days"),
    ],
)
def test_bad_terms_are_refused_before_anything_is_written(client, vendor, vendor_manager, changes, field):
    headers = bearer(vendor_manager)
    with nothing_written(Contract, ContractVersion):
        response = call(
            client, "post", "/api/v1/vendors/contracts", headers, contract_body(vendor, **changes)
        )
    data = assert_problem(response, 422)
    assert field in error_fields(data)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"renewal_type": "automatic", "renewal_term_months": None}, "renewal_term_months"),
        ({"notice_period_days": 700, "end": "2025-06-30"}, "notice_period_days"),
        ({"alert_days": [120, 0]}, "alert_days"),
        ({"alert_days": [400]}, "alert_days"),
        ({"signed_on": "2027-01-01"}, "signed_on"),
    ],
)
def test_terms_that_break_a_rule_are_refused(client, vendor, vendor_manager, changes, field):
    headers = bearer(vendor_manager)
    with nothing_written(Contract, ContractVersion):
        response = call(
            client, "post", "/api/v1/vendors/contracts", headers, contract_body(vendor, **changes)
        )
    data = assert_problem(response, 422)
    assert field in error_fields(data)


def test_a_contract_with_an_ended_vendor_is_refused(vendor_manager):
    ended = services.vendor_create(actor=vendor_manager, code="gone", name="Gone Ltd", status="ended")
    with pytest.raises(ValidationError) as caught:
        services.contract_create(
            actor=vendor_manager, vendor=ended, reference="G", title="G", our_entity="Us", **TERMS
        )
    assert "vendor" in caught.value.message_dict


def test_contract_listing_shows_the_term_of_the_version_in_force(client, contract, vendor_manager):
    data = api_call(client, "get", "/api/v1/vendors/contracts", vendor_manager).json()
    (item,) = data["items"]
    assert (item["term_start"], item["term_end"], item["notice_by"]) == (
        "2025-01-01",
        "2026-12-31",
        "2026-10-02",
    )
    assert item["monthly_fee"] == "100000.00"


def test_outsiders_see_no_contract(client, contract, outsider, no_role_user):
    for persona in (outsider, no_role_user):
        assert_outsider_blocked(client, persona, "get", "/api/v1/vendors/contracts", secrets=("HC-CS-2025",))
        assert_outsider_blocked(
            client, persona, "get", f"/api/v1/vendors/contracts/{contract.pk}", secrets=("HC-CS-2025",)
        )
        assert_outsider_blocked(
            client,
            persona,
            "post",
            "/api/v1/vendors/contracts",
            body=contract_body(contract.vendor, reference="X-2"),
        )
    assert Contract.objects.count() == 1
