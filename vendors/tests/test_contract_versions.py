"""Versions and amendments keep history: an active version is frozen, a new version starts as a copy,
an amendment supersedes from its start, and two active versions of a contract never overlap."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors import services
from vendors.models import ContractVersion, ServiceLevel
from vendors.tests.conftest import TODAY, call


def test_an_active_version_cannot_be_edited(contract, vendor_manager):
    version = contract.versions.get()
    with pytest.raises(ValidationError) as caught:
        services.contract_version_update(actor=vendor_manager, version=version, monthly_fee=Decimal("1"))
    assert "amendment" in caught.value.message_dict["version"][0]
    with pytest.raises(ValidationError):
        services.fees_set(actor=vendor_manager, version=version, items=[])


def test_an_amendment_starts_as_a_copy_and_supersedes_from_its_start(contract, vendor_manager):
    original = contract.versions.get()
    amendment = services.contract_version_create(
        actor=vendor_manager,
        contract=contract,
        kind="amendment",
        start=date(2025, 7, 1),
        monthly_fee=Decimal("110000.00"),
        summary="Weekend cover added from July.",
    )
    assert amendment.number == 2 and amendment.status == "draft"
    assert amendment.end == original.end
    assert [s.kpi_id for s in amendment.service_levels.all()] == [
        s.kpi_id for s in original.service_levels.all()
    ]

    services.contract_version_activate(actor=vendor_manager, version=amendment, today=TODAY)

    original.refresh_from_db()
    assert (original.status, original.effective_end, original.end) == (
        "superseded",
        date(2025, 6, 30),
        date(2026, 12, 31),
    )
    assert original.service_levels.count() == 3, "the superseded version keeps its terms"
    assert AuditEvent.objects.filter(
        object_type="vendors.contractversion", object_id=str(original.pk), purpose="superseded by v2"
    ).exists()


def test_a_renewal_that_overlaps_the_active_version_is_refused(contract, vendor_manager):
    renewal = services.contract_version_create(
        actor=vendor_manager,
        contract=contract,
        kind="renewal",
        start=date(2026, 12, 1),
        end=date(2028, 12, 31),
    )
    with nothing_written(ServiceLevel), pytest.raises(ValidationError) as caught:
        services.contract_version_activate(actor=vendor_manager, version=renewal, today=TODAY)
    assert "overlaps the active version 1" in caught.value.message_dict["start"][0]
    renewal.refresh_from_db()
    assert renewal.status == "draft"
    assert contract.versions.get(number=1).status == "active"


def test_a_renewal_after_the_term_is_active_alongside_it(contract, vendor_manager):
    renewal = services.contract_version_create(
        actor=vendor_manager,
        contract=contract,
        kind="renewal",
        start=date(2027, 1, 1),
        end=date(2028, 12, 31),
    )
    services.contract_version_activate(actor=vendor_manager, version=renewal, today=TODAY)
    active = ContractVersion.objects.filter(contract=contract, status="active").order_by("start")
    assert [(v.start, v.effective_end) for v in active] == [
        (date(2025, 1, 1), date(2026, 12, 31)),
        (date(2027, 1, 1), date(2028, 12, 31)),
    ]


def test_an_amendment_that_starts_before_the_active_version_is_refused(contract, vendor_manager):
    amendment = services.contract_version_create(
        actor=vendor_manager, contract=contract, kind="amendment", start=date(2024, 12, 1)
    )
    with pytest.raises(ValidationError):
        services.contract_version_activate(actor=vendor_manager, version=amendment, today=TODAY)


def test_one_draft_at_a_time(contract, vendor_manager):
    services.contract_version_create(
        actor=vendor_manager, contract=contract, kind="amendment", start=date(2025, 8, 1)
    )
    with pytest.raises(ValidationError) as caught:
        services.contract_version_create(
            actor=vendor_manager, contract=contract, kind="amendment", start=date(2025, 9, 1)
        )
    assert "still a draft" in caught.value.message_dict["kind"][0]


def test_a_cancelled_draft_is_kept_with_its_reason(contract, vendor_manager):
    draft = services.contract_version_create(
        actor=vendor_manager, contract=contract, kind="amendment", start=date(2025, 8, 1)
    )
    services.contract_version_cancel(actor=vendor_manager, version=draft, reason="Vendor withdrew the offer.")
    draft.refresh_from_db()
    assert draft.status == "cancelled"
    services.contract_version_create(
        actor=vendor_manager, contract=contract, kind="amendment", start=date(2025, 9, 1)
    )


def test_the_api_refuses_overlapping_active_versions_with_a_problem(client, contract, vendor_manager):
    response = api_call(
        client,
        "post",
        f"/api/v1/vendors/contracts/{contract.pk}/versions",
        vendor_manager,
        {"kind": "renewal", "start": "2026-06-01", "end": "2028-05-31"},
    )
    assert response.status_code == 201, response.content
    version_id = response.json()["id"]
    headers = bearer(vendor_manager)
    with nothing_written(ContractVersion):
        response = call(client, "post", f"/api/v1/vendors/contract-versions/{version_id}/activate", headers)
    data = assert_problem(response, 422)
    assert error_fields(data) == {"start"}
    assert "overlap" in data["errors"][0]["message"]


def test_a_portal_user_sees_agreed_versions_but_never_drafts(client, contract, vendor_manager, portal_user):
    draft = services.contract_version_create(
        actor=vendor_manager,
        contract=contract,
        kind="amendment",
        start=date(2025, 8, 1),
        summary="Fee cut (internal)",
    )
    listing = api_call(client, "get", f"/api/v1/vendors/contracts/{contract.pk}/versions", portal_user).json()
    assert [v["number"] for v in listing["items"]] == [1]
    response = api_call(client, "get", f"/api/v1/vendors/contract-versions/{draft.pk}", portal_user)
    assert_problem(response, 404)
    active = api_call(
        client, "get", f"/api/v1/vendors/contract-versions/{contract.versions.get(number=1).pk}", portal_user
    )
    assert active.status_code == 200
    assert len(active.json()["service_levels"]) == 3


def test_outsiders_reach_no_version(client, contract, outsider, no_role_user):
    version = contract.versions.get()
    for persona in (outsider, no_role_user):
        assert_outsider_blocked(client, persona, "get", f"/api/v1/vendors/contract-versions/{version.pk}")
        assert_outsider_blocked(client, persona, "get", f"/api/v1/vendors/contracts/{contract.pk}/versions")
        assert_outsider_blocked(
            client,
            persona,
            "post",
            f"/api/v1/vendors/contracts/{contract.pk}/versions",
            body={"kind": "renewal"},
        )
