"""The processor register (DPP2(3), DPP4(2)): vendors receiving personal data, linked to the
information-exchange register, with contract clause, location and transfer clauses, and a security
checklist answered with evidence."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers import processors
from customers.models import Processor, ProcessorCheck
from customers.tests.privacy.conftest import call
from vendors import services as vendor_services

pytestmark = pytest.mark.django_db

FLOW: dict[str, Any] = {
    "direction": "to_vendor",
    "title": "Open customer cases",
    "data_categories": "Customer name, phone number, order history",
    "frequency": "daily",
    "channel": "sftp",
    "legal_basis": "Handling customer enquiries (Schedule 4 §2)",
    "retention": "Deleted 90 days after the case closes",
}


@pytest.fixture
def flow(vendor, vendor_manager):
    return vendor_services.data_flow_create(actor=vendor_manager, vendor=vendor, personal_data=True, **FLOW)


@pytest.fixture
def processor(dpo, vendor, flow):
    return processors.processor_create(
        actor=dpo,
        vendor=vendor,
        processing="Answers customer calls and e-mails for us",
        contract_clause="Master services agreement cl. 14 (data protection), Schedule 6",
        data_flows=[flow],
    )


def test_a_processor_is_linked_to_its_personal_data_exchanges(
    dpo, vendor, other_vendor, vendor_manager, flow
):
    other = vendor_services.data_flow_create(
        actor=vendor_manager, vendor=other_vendor, personal_data=True, **{**FLOW, "title": "Leads"}
    )
    plain = vendor_services.data_flow_create(
        actor=vendor_manager, vendor=vendor, personal_data=False, **{**FLOW, "title": "Call volumes"}
    )
    for flows in ([other], [plain]):
        with nothing_written(Processor), pytest.raises(ValidationError):
            processors.processor_create(
                actor=dpo, vendor=vendor, processing="Calls", contract_clause="cl. 14", data_flows=flows
            )


def test_data_kept_outside_hong_kong_names_its_transfer_clauses(dpo, vendor):
    with pytest.raises(ValidationError) as caught:
        processors.processor_create(
            actor=dpo,
            vendor=vendor,
            processing="E-mail platform",
            contract_clause="DPA §3",
            location="Singapore",
        )
    assert "model_clauses" in caught.value.message_dict
    processor = processors.processor_create(
        actor=dpo,
        vendor=vendor,
        processing="E-mail platform",
        contract_clause="DPA §3",
        location="Singapore",
        model_clauses="user_to_processor",
    )
    assert processor.cross_border


def test_checklist_answers_need_dated_evidence(dpo, processor):
    with nothing_written(ProcessorCheck), pytest.raises(ValidationError):
        processors.processor_check_answer(
            actor=dpo, processor=processor, item="encryption_rest", answer="yes"
        )
    with pytest.raises(ValidationError):
        processors.processor_check_answer(
            actor=dpo,
            processor=processor,
            item="encryption_rest",
            answer="yes",
            evidence="ISO 27001 certificate",
            evidence_date=timezone.localdate() + timedelta(days=3),
        )
    processors.processor_check_answer(
        actor=dpo,
        processor=processor,
        item="encryption_rest",
        answer="yes",
        evidence="ISO 27001 certificate HK-2291",
        evidence_date=date(2026, 3, 1),
    )
    processors.processor_check_answer(actor=dpo, processor=processor, item="encryption_rest", answer="no")
    assert processor.checks.get().answer == "no", "one answer per item, updated"


def test_the_api_and_pages(client, dpo, vendor, flow, processor):
    headers = bearer(dpo)
    response = call(
        client,
        "post",
        "/api/v1/customers/privacy/processors",
        headers,
        {
            "vendor_id": vendor.pk,
            "processing": "Delivery",
            "contract_clause": "Courier agreement cl. 9",
            "data_flow_ids": [flow.pk],
        },
    )
    assert response.status_code == 201, response.content
    assert response.json()["data_flow_ids"] == [flow.pk]
    response = call(
        client,
        "post",
        f"/api/v1/customers/privacy/processors/{processor.pk}/checks",
        headers,
        {
            "item": "audit",
            "answer": "partly",
            "evidence": "Annual audit report 2025",
            "evidence_date": "2025-12-01",
        },
    )
    assert response.json()["checks"][0]["answer"] == "partly"
    with nothing_written(ProcessorCheck):
        bad = call(
            client,
            "post",
            f"/api/v1/customers/privacy/processors/{processor.pk}/checks",
            headers,
            {"item": "telepathy", "answer": "yes"},
        )
    assert_problem(bad, 422)
    client.force_login(dpo)
    assert "Answers customer calls" in client.get("/customers/consent/processors/").content.decode()
    client.post(f"/customers/consent/processors/{processor.pk}/", {"item": "retention", "answer": "no"})
    assert processor.checks.filter(item="retention").exists()


def test_the_register_is_internal(client, outsider, portal_user, no_role_user, processor):
    for person in (outsider, portal_user, no_role_user):
        assert_outsider_blocked(client, person, "get", f"/api/v1/customers/privacy/processors/{processor.pk}")
        assert api_call(client, "get", "/api/v1/customers/privacy/processors", person).json()["items"] == []
