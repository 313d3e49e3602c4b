"""Field-level access (DPP4; seed 003 §3 "set the authorization right"): agents and marketing see
masked contact details, auditors none, the DPO sees them in full only after stating a purpose, and
every read goes to the audit trail with its purpose."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers.field_access import customer_fields_for
from customers.tests.privacy.conftest import call, make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return make_customer(
        "C-200",
        "Mei Ling",
        "Cheung",
        email="cheung.meiling@example.hk",
        phone="+85298765432",
        address_line="Flat 12B, 8 Tung Chung Waterfront Road",
    )


def _reads(customer):
    return AuditEvent.objects.filter(
        action=AuditEvent.Action.READ, object_type="customers.customer", object_id=str(customer.pk)
    )


def test_an_agent_sees_masked_contact_details(agent, customer):
    shown = customer_fields_for(agent, customer)
    assert shown["email"] == "c***@example.hk"
    assert shown["phone"] == "+852 ****5432"
    assert shown["address_line"] == "F***"
    assert shown["given_name"] == "Mei Ling" and "hkid" not in shown or shown.get("hkid") is None
    assert _reads(customer).get().purpose == "routine view (contact details masked)"


def test_marketing_sees_masked_contact_and_no_address(marketer, customer):
    shown = customer_fields_for(marketer, customer)
    assert shown["email"] == "c***@example.hk" and "address_line" not in shown


def test_an_auditor_sees_no_personal_data(auditor, customer):
    shown = customer_fields_for(auditor, customer)
    assert not {"given_name", "email", "phone", "address_line"} & set(shown)
    assert shown["district"] == "Sha Tin"


def test_the_dpo_sees_full_details_only_after_stating_a_purpose(dpo, customer):
    assert customer_fields_for(dpo, customer)["email"] == "c***@example.hk"
    with nothing_written(), pytest.raises(ValidationError):
        customer_fields_for(dpo, customer, purpose="why")
    shown = customer_fields_for(dpo, customer, purpose="Data access request DAR-2026-014")
    assert shown["email"] == "cheung.meiling@example.hk" and shown["phone"] == "+85298765432"
    read = _reads(customer).order_by("-seq").first()
    assert read.purpose == "reveal: Data access request DAR-2026-014"
    assert "email" in read.changes["fields"]


def test_an_agent_cannot_reveal(agent, customer):
    with nothing_written(), pytest.raises(PermissionDenied):
        customer_fields_for(agent, customer, purpose="Customer called about an order")


def test_the_reveal_endpoint_needs_a_purpose_and_is_audited(client, dpo, agent, customer):
    headers = bearer(dpo)
    with nothing_written():
        assert_problem(call(client, "post", f"/api/v1/customers/{customer.pk}/reveal", headers, {}), 422)
        assert_problem(
            call(client, "post", f"/api/v1/customers/{customer.pk}/reveal", headers, {"purpose": "x"}), 422
        )
    response = call(
        client,
        "post",
        f"/api/v1/customers/{customer.pk}/reveal",
        headers,
        {"purpose": "Complaint CMP-2211 follow-up"},
    )
    assert response.json()["email"] == "cheung.meiling@example.hk"
    masked = api_call(client, "get", f"/api/v1/customers/{customer.pk}/fields", agent).json()
    assert masked["email"] == "c***@example.hk"
    assert_problem(
        api_call(
            client,
            "post",
            f"/api/v1/customers/{customer.pk}/reveal",
            agent,
            {"purpose": "Just curious today"},
        ),
        403,
    )


def test_the_reveal_page_action(client, dpo, customer):
    client.force_login(dpo)
    page = client.get(f"/customers/{customer.pk}/privacy/").content.decode()
    assert "c***@example.hk" in page and "cheung.meiling@example.hk" not in page
    response = client.post(
        f"/customers/{customer.pk}/privacy/reveal/",
        {"reason": "Data access or correction request", "detail": "DAR-2026-015"},
        HTTP_HX_REQUEST="true",
    )
    assert "cheung.meiling@example.hk" in response.content.decode()
    refused = client.post(f"/customers/{customer.pk}/privacy/reveal/", {"reason": "", "detail": ""})
    assert "cheung.meiling@example.hk" not in refused.content.decode()


def test_outsiders_see_nothing(client, outsider, no_role_user, customer):
    for person in (outsider, no_role_user):
        assert_outsider_blocked(
            client, person, "get", f"/api/v1/customers/{customer.pk}/fields", secrets=("Cheung",)
        )
        assert_outsider_blocked(
            client,
            person,
            "post",
            f"/api/v1/customers/{customer.pk}/reveal",
            body={"purpose": "Data access request"},
            secrets=("cheung.meiling",),
        )
