"""Third-party staff (issue 5 item 7, seed 001 "managing third party staff as own staff"): the vendor's
people working for us, their roles, system access with grant and revoke dates, training, guideline
acknowledgements, on- and off-boarding checklists, and an alert for access still open after a
person has left."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors import cooperation
from vendors import cooperation_selectors as reads
from vendors.models import AccessGrant, BoardingTask, ThirdPartyWorker
from vendors.tests.conftest import call, pdf


@pytest.fixture
def agent(vendor, vendor_manager):
    return cooperation.worker_create(
        actor=vendor_manager,
        vendor=vendor,
        name="Chan Tai Man",
        email="tm.chan@harbourcall.example.hk",
        role="Hotline agent (Cantonese)",
        onboarded_on=date(2025, 3, 3),
    )


def test_registering_a_person_starts_the_onboarding_checklist(agent):
    lines = list(agent.tasks.values_list("kind", "description"))
    assert len(lines) == len(cooperation.ONBOARDING_CHECKLIST)
    assert {kind for kind, _ in lines} == {"onboarding"}


def test_access_left_open_after_offboarding_raises_an_alert(agent, vendor_manager):
    ticketing = cooperation.access_grant(
        actor=vendor_manager,
        worker=agent,
        system="Steward ticketing",
        access_level="agent",
        granted_on=date(2025, 3, 3),
    )
    cooperation.access_grant(
        actor=vendor_manager,
        worker=agent,
        system="Order admin",
        access_level="read-only",
        granted_on=date(2025, 3, 3),
    )
    cooperation.worker_offboard(
        actor=vendor_manager, worker=agent, offboarded_on=date(2025, 5, 31), reason="Left Harbour Call."
    )
    offboarding = agent.tasks.filter(kind="offboarding").values_list("description", flat=True)
    assert (
        "Revoke Order admin (read-only)" in offboarding and "Revoke Steward ticketing (agent)" in offboarding
    )

    alerts = reads.access_alerts(user=vendor_manager, today=date(2025, 6, 10))
    assert {a.system for a in alerts} == {"Steward ticketing", "Order admin"}
    cooperation.access_revoke(actor=vendor_manager, grant=ticketing, revoked_on=date(2025, 5, 31))
    # Revoked only after the last day is still an alert: the door stayed open.
    order = AccessGrant.objects.get(system="Order admin")
    cooperation.access_revoke(actor=vendor_manager, grant=order, revoked_on=date(2025, 6, 5))
    alerts = reads.access_alerts(user=vendor_manager, today=date(2025, 6, 10))
    assert [a.system for a in alerts] == ["Order admin"]


def test_rules_on_access_training_and_acknowledgements(agent, vendor, vendor_manager, portal_user):
    with pytest.raises(ValidationError, match="on-boarding"):
        cooperation.access_grant(
            actor=vendor_manager,
            worker=agent,
            system="CRM",
            access_level="agent",
            granted_on=date(2025, 1, 1),
        )
    cooperation.access_grant(
        actor=vendor_manager, worker=agent, system="CRM", access_level="agent", granted_on=date(2025, 3, 3)
    )
    with pytest.raises(ValidationError, match="already has open access"):
        cooperation.access_grant(
            actor=vendor_manager,
            worker=agent,
            system="CRM",
            access_level="admin",
            granted_on=date(2025, 4, 1),
        )
    cooperation.training_record_add(
        actor=vendor_manager,
        worker=agent,
        course="PDPO awareness",
        completed_on=date(2025, 3, 5),
        expires_on=date(2026, 3, 5),
    )
    guideline = cooperation.shared_document_create(
        actor=vendor_manager, vendor=vendor, title="Complaint handling guideline", upload=pdf()
    )
    ack = cooperation.acknowledgement_record(
        actor=vendor_manager,
        worker=agent,
        acknowledged_on=date(2025, 3, 6),
        shared_version=guideline.versions.get(),
    )
    assert (ack.document_title, ack.document_version) == ("Complaint handling guideline", "1")
    with pytest.raises(ValidationError, match="already acknowledged"):
        cooperation.acknowledgement_record(
            actor=vendor_manager,
            worker=agent,
            acknowledged_on=date(2025, 3, 7),
            document_title="Complaint handling guideline",
            document_version="1",
        )
    with pytest.raises(PermissionDenied):
        cooperation.access_grant(
            actor=portal_user, worker=agent, system="X", access_level="y", granted_on=date(2025, 4, 1)
        )


def test_the_api_registers_grants_offboards_and_lists_alerts(client, vendor, vendor_manager, portal_user):
    body = {
        "vendor_id": vendor.pk,
        "name": "Wong Siu Ming",
        "role": "Team leader",
        "onboarded_on": "2025-02-01",
        "user_id": portal_user.pk,
    }
    response = api_call(client, "post", "/api/v1/vendors/workers", vendor_manager, body)
    assert response.status_code == 201, response.content
    worker = response.json()
    assert worker["user_id"] == portal_user.pk and len(worker["checklist"]) == len(
        cooperation.ONBOARDING_CHECKLIST
    )
    grant = api_call(
        client,
        "post",
        f"/api/v1/vendors/workers/{worker['id']}/access",
        vendor_manager,
        {"system": "Steward ticketing", "access_level": "team leader", "granted_on": "2025-02-01"},
    )
    assert grant.status_code == 201
    off = api_call(
        client,
        "post",
        f"/api/v1/vendors/workers/{worker['id']}/offboard",
        vendor_manager,
        {"offboarded_on": "2025-05-31", "reason": "Moved on."},
    )
    assert off.json()["offboarded_on"] == "2025-05-31"
    alerts = api_call(client, "get", "/api/v1/vendors/access-alerts", vendor_manager).json()["items"]
    assert [(a["worker_id"], a["system"]) for a in alerts] == [(worker["id"], "Steward ticketing")]
    # The vendor's own portal user sees its people, with their access.
    mine = api_call(client, "get", f"/api/v1/vendors/workers/{worker['id']}", portal_user).json()
    assert [g["system"] for g in mine["access"]] == ["Steward ticketing"]


def test_bad_input_writes_nothing(client, vendor, vendor_manager, outsider, agent):
    headers = bearer(vendor_manager)
    with nothing_written(ThirdPartyWorker, AccessGrant, BoardingTask):
        # Another vendor's login cannot be this vendor's worker.
        body = {
            "vendor_id": vendor.pk,
            "name": "Lee",
            "role": "Agent",
            "onboarded_on": "2025-02-01",
            "user_id": outsider.pk,
        }
        response = call(client, "post", "/api/v1/vendors/workers", headers, body)
        assert "user" in error_fields(assert_problem(response, 422, kind="rule"))
        response = call(
            client,
            "post",
            "/api/v1/vendors/workers",
            headers,
            {**body, "user_id": None, "onboarded_on": "someday"},
        )
        assert "onboarded_on" in error_fields(assert_problem(response, 422, kind="validation"))
        response = call(
            client,
            "post",
            f"/api/v1/vendors/workers/{agent.pk}/offboard",
            headers,
            {"offboarded_on": "2025-01-01", "reason": "Before the start."},
        )
        assert_problem(response, 422, kind="rule")


def test_the_pages_show_the_people_and_the_alerts(client, vendor, vendor_manager, agent):
    cooperation.access_grant(
        actor=vendor_manager,
        worker=agent,
        system="Steward ticketing",
        access_level="agent",
        granted_on=date(2025, 3, 3),
    )
    client.force_login(vendor_manager)
    response = client.post(
        f"/vendors/staff/{agent.pk}/", {"do": "offboard", "offboarded_on": "2025-05-31", "reason": ""}
    )
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    client.post(
        f"/vendors/staff/{agent.pk}/", {"do": "offboard", "offboarded_on": "2025-05-31", "reason": "Left."}
    )
    html = client.get("/vendors/staff/?all=1").content.decode()
    assert "Chan Tai Man" in html and "Steward ticketing (agent)" in html
    task = agent.tasks.filter(kind="onboarding").first()
    client.post(f"/vendors/staff/tasks/{task.pk}/done/")
    task.refresh_from_db()
    assert task.done_by == vendor_manager


def test_an_outsider_reaches_none_of_the_vendors_people(
    client, agent, outsider, no_role_user, vendor_manager
):
    grant = cooperation.access_grant(
        actor=vendor_manager,
        worker=agent,
        system="Steward ticketing",
        access_level="agent",
        granted_on=date(2025, 3, 3),
    )
    for who in (outsider, no_role_user):
        assert_outsider_blocked(client, who, "get", "/api/v1/vendors/workers", secrets=("Chan Tai Man",))
        assert_outsider_blocked(client, who, "get", f"/api/v1/vendors/workers/{agent.pk}")
        assert_outsider_blocked(client, who, "get", "/api/v1/vendors/access-alerts")
        assert_outsider_blocked(
            client,
            who,
            "post",
            f"/api/v1/vendors/access-grants/{grant.pk}/revoke",
            body={"revoked_on": "2025-06-01"},
        )
    grant.refresh_from_db()
    assert grant.revoked_on is None
    client.force_login(outsider)
    assert client.get(f"/vendors/staff/{agent.pk}/").status_code == 404


def test_the_home_dashboard_counts_access_left_open(client, agent, vendor_manager, portal_user):
    cooperation.access_grant(
        actor=vendor_manager,
        worker=agent,
        system="Order admin",
        access_level="read-only",
        granted_on=date(2025, 3, 3),
    )
    cooperation.worker_offboard(
        actor=vendor_manager, worker=agent, offboarded_on=date(2025, 5, 31), reason="Left."
    )
    client.force_login(vendor_manager)
    html = client.get("/").content.decode()
    assert "Third-party staff access" in html and "Access left open" in html
    client.force_login(portal_user)
    assert "Access left open" not in client.get("/").content.decode()
