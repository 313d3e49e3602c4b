"""The information-exchange register (seed 000 §3): what each vendor receives and sends, personal data
or not, how often, by which channel, on what basis, how long it is kept and where; each actual exchange
logged with its record count."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.testing.personas import api_call, assert_outsider_blocked
from core.testing.problems import assert_problem
from vendors import selectors, services
from vendors.models import DataExchange, DataFlow

CASES: dict[str, Any] = {
    "direction": "to_vendor",
    "title": "Open customer cases",
    "data_categories": "Customer name, phone number, order history",
    "personal_data": True,
    "frequency": "daily",
    "channel": "sftp",
    "legal_basis": "Handling customer enquiries (Schedule 4 §2)",
    "retention": "Deleted 90 days after the case closes",
}


@pytest.fixture
def cases(vendor, vendor_manager, contract):
    return services.data_flow_create(actor=vendor_manager, vendor=vendor, contract=contract, **CASES)


def test_exchanges_are_logged_and_counted_on_the_register(cases, vendor_manager):
    now = timezone.now()
    services.data_exchange_log(
        actor=vendor_manager, flow=cases, occurred_at=now - timedelta(days=1), record_count=1250
    )
    services.data_exchange_log(
        actor=vendor_manager, flow=cases, occurred_at=now, record_count=980, reference="cases-0610.csv"
    )
    (line,) = selectors.data_flows(user=vendor_manager)
    assert (line.exchange_count, line.last_exchange) == (2, now)  # type: ignore[attr-defined]


def test_personal_data_held_outside_hong_kong_names_its_transfer_clauses(vendor, vendor_manager):
    with pytest.raises(ValidationError) as caught:
        services.data_flow_create(actor=vendor_manager, vendor=vendor, **{**CASES, "location": "Singapore"})
    assert "transfer_clauses" in caught.value.message_dict
    flow = services.data_flow_create(
        actor=vendor_manager,
        vendor=vendor,
        **{
            **CASES,
            "location": "Singapore",
            "transfer_clauses": "PCPD model clauses (2022), user to processor",
        },
    )
    assert flow.pk


def test_a_stopped_exchange_takes_no_more_logs(cases, vendor_manager):
    services.data_flow_retire(actor=vendor_manager, flow=cases, reason="Cases now handled in our own CRM.")
    with pytest.raises(ValidationError) as caught:
        services.data_exchange_log(
            actor=vendor_manager, flow=cases, occurred_at=timezone.now(), record_count=5
        )
    assert "flow" in caught.value.message_dict
    assert not DataExchange.objects.exists()


def test_an_exchange_in_the_future_is_refused(cases, vendor_manager):
    with pytest.raises(ValidationError):
        services.data_exchange_log(
            actor=vendor_manager, flow=cases, occurred_at=timezone.now() + timedelta(days=2), record_count=5
        )


def test_the_api_registers_and_logs(client, vendor, vendor_manager):
    response = api_call(
        client, "post", "/api/v1/vendors/data-flows", vendor_manager, {**CASES, "vendor_id": vendor.pk}
    )
    assert response.status_code == 201, response.content
    flow_id = response.json()["id"]
    response = api_call(
        client,
        "post",
        f"/api/v1/vendors/data-flows/{flow_id}/exchanges",
        vendor_manager,
        {"occurred_at": "2025-06-09T18:00:00+08:00", "record_count": 1250, "reference": "cases-0609.csv"},
    )
    assert response.status_code == 201, response.content
    response = api_call(
        client,
        "post",
        f"/api/v1/vendors/data-flows/{flow_id}/exchanges",
        vendor_manager,
        {"occurred_at": "2025-06-09T18:00:00+08:00", "record_count": -1},
    )
    assert_problem(response, 422)
    listing = api_call(client, "get", "/api/v1/vendors/data-flows?personal_data=true", vendor_manager).json()
    assert [(f["title"], f["exchange_count"]) for f in listing["items"]] == [("Open customer cases", 1)]


def test_the_register_pages_render_and_log(client, cases, vendor, vendor_manager):
    client.force_login(vendor_manager)
    assert "Open customer cases" in client.get("/vendors/information/?personal=1").content.decode()
    assert client.get(f"/vendors/{vendor.pk}/information/new/").status_code == 200
    client.post(
        f"/vendors/information/{cases.pk}/", {"occurred_at": "2025-06-09T18:00", "record_count": "40"}
    )
    assert cases.exchanges.get().record_count == 40


def test_the_register_is_internal(
    client, cases, vendor, vendor_manager, dpo, portal_user, outsider, no_role_user
):
    assert selectors.data_flows(user=dpo).count() == 1, "the data-protection officer reads the register"
    for persona in (portal_user, outsider, no_role_user):
        assert_outsider_blocked(
            client, persona, "get", "/api/v1/vendors/data-flows", secrets=("Open customer cases",)
        )
        assert_outsider_blocked(client, persona, "get", f"/api/v1/vendors/data-flows/{cases.pk}/exchanges")
        assert_outsider_blocked(
            client,
            persona,
            "post",
            f"/api/v1/vendors/data-flows/{cases.pk}/exchanges",
            body={"occurred_at": "2025-06-09T18:00:00+08:00", "record_count": 1},
        )
    assert DataFlow.objects.count() == 1 and not DataExchange.objects.exists()
