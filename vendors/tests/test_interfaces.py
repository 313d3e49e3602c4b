"""Outsourcing scope, the interfaces (issue 5 item 2): the systems connected between the vendor's
management system and ours, and the governance around them (reports exchanged, meetings and their
cadence, the escalation path), on the vendor page, the interfaces page and the API."""

from __future__ import annotations

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors import cooperation
from vendors.models import GovernanceItem, SystemInterface
from vendors.tests.conftest import call


def interface_body(vendor, **changes):
    body = {
        "vendor_id": vendor.pk,
        "our_system": "Steward ticketing",
        "their_system": "Genesys Cloud contact centre",
        "direction": "both",
        "data_exchanged": "Tickets, their events and CSAT survey answers",
        "channel": "api",
        "protocol": "REST/JSON over TLS 1.3",
        "frequency": "real_time",
        "their_owner": "Raymond Lau",
        "status": "live",
    }
    body.update(changes)
    return body


def test_an_interface_is_recorded_and_listed_through_the_api(client, vendor, vendor_manager):
    response = api_call(client, "post", "/api/v1/vendors/interfaces", vendor_manager, interface_body(vendor))
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["our_system"], data["their_system"], data["status"]) == (
        "Steward ticketing",
        "Genesys Cloud contact centre",
        "live",
    )
    listed = api_call(
        client, "get", f"/api/v1/vendors/interfaces?vendor_id={vendor.pk}", vendor_manager
    ).json()
    assert [i["id"] for i in listed["items"]] == [data["id"]]
    patched = api_call(
        client, "patch", f"/api/v1/vendors/interfaces/{data['id']}", vendor_manager, {"status": "retired"}
    )
    assert patched.json()["status"] == "retired"


def test_a_bad_interface_writes_nothing(client, vendor, vendor_manager, portal_user):
    headers = bearer(vendor_manager)
    with nothing_written(SystemInterface):
        response = call(
            client, "post", "/api/v1/vendors/interfaces", headers, interface_body(vendor, channel="pigeon")
        )
        assert "channel" in error_fields(assert_problem(response, 422, kind="validation"))
        # The vendor's own portal user cannot own our end of an interface.
        response = call(
            client,
            "post",
            "/api/v1/vendors/interfaces",
            headers,
            interface_body(vendor, our_owner_id=portal_user.pk),
        )
        assert "our_owner" in error_fields(assert_problem(response, 422, kind="rule"))


def test_governance_lines_and_the_escalation_path(client, vendor, vendor_manager):
    body = {"vendor_id": vendor.pk, "kind": "escalation", "position": 1, "title": "Team leader on duty"}
    first = api_call(client, "post", "/api/v1/vendors/governance", vendor_manager, body)
    assert first.status_code == 201, first.content
    headers = bearer(vendor_manager)
    with nothing_written(GovernanceItem):
        again = call(client, "post", "/api/v1/vendors/governance", headers, body)
        assert "position" in error_fields(assert_problem(again, 422, kind="rule"))
    report = {
        "vendor_id": vendor.pk,
        "kind": "report",
        "title": "Monthly service report",
        "frequency": "monthly",
    }
    assert api_call(client, "post", "/api/v1/vendors/governance", vendor_manager, report).status_code == 201
    listed = api_call(
        client, "get", f"/api/v1/vendors/governance?vendor_id={vendor.pk}", vendor_manager
    ).json()
    assert [(g["kind"], g["title"]) for g in listed["items"]] == [
        ("escalation", "Team leader on duty"),
        ("report", "Monthly service report"),
    ]


def test_the_vendor_page_and_the_interfaces_page_show_them(client, vendor, vendor_manager):
    cooperation.interface_create(actor=vendor_manager, vendor=vendor, **_fields())
    cooperation.governance_item_create(
        actor=vendor_manager,
        vendor=vendor,
        kind="meeting",
        title="Weekly operations call",
        frequency="weekly",
    )
    client.force_login(vendor_manager)
    page = client.get(f"/vendors/{vendor.pk}/").content.decode()
    assert "Genesys Cloud contact centre" in page and "Weekly operations call" in page
    listing = client.get("/vendors/interfaces/").content.decode()
    assert "Genesys Cloud contact centre" in listing and "Harbour Call" in listing


def test_the_interface_form_refuses_bad_input_and_writes_nothing(client, vendor, vendor_manager):
    client.force_login(vendor_manager)
    with nothing_written(SystemInterface):
        response = client.post(f"/vendors/{vendor.pk}/interfaces/new/", {"our_system": "Steward"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post(f"/vendors/{vendor.pk}/interfaces/new/", _form())
    assert response.status_code == 302
    assert SystemInterface.objects.get().their_system == "Genesys Cloud contact centre"


def test_an_outsider_reaches_no_interface(client, vendor, vendor_manager, outsider, no_role_user):
    interface = cooperation.interface_create(actor=vendor_manager, vendor=vendor, **_fields())
    for who in (outsider, no_role_user):
        assert_outsider_blocked(client, who, "get", f"/api/v1/vendors/interfaces/{interface.pk}")
        assert_outsider_blocked(client, who, "get", "/api/v1/vendors/interfaces", secrets=("Genesys",))
        assert_outsider_blocked(
            client, who, "patch", f"/api/v1/vendors/interfaces/{interface.pk}", body={"status": "retired"}
        )
    interface.refresh_from_db()
    assert interface.status == "live"


def _fields():
    return {
        "our_system": "Steward ticketing",
        "their_system": "Genesys Cloud contact centre",
        "direction": "both",
        "data_exchanged": "Tickets",
        "channel": "api",
        "frequency": "real_time",
        "status": "live",
    }


def _form():
    return {**_fields(), "protocol": "REST", "their_owner": "", "notes": ""}
