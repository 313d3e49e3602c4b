"""The liaison log: meetings, calls and messages with minutes, decisions and action items (owner, due,
status); update requests to a vendor with a due date, answered through the portal."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.testing.personas import api_call, assert_outsider_blocked
from core.testing.problems import assert_problem
from vendors import services
from vendors.models import ActionItem, LiaisonEntry, UpdateRequest
from vendors.tests.conftest import TODAY


def meeting_body(vendor, **changes):
    body = {
        "vendor_id": vendor.pk,
        "kind": "meeting",
        "occurred_at": "2025-06-09T10:00:00+08:00",
        "title": "June service review",
        "minutes": "SLA missed in week 2 (black rainstorm).",
        "decisions": "Weekend cover from July.",
        "actions": [
            {
                "description": "Send the weekend staffing plan",
                "owner_party": "vendor",
                "due_on": "2025-06-20",
            },
            {"description": "Approve the plan", "owner_party": "company", "due_on": "2025-06-27"},
        ],
    }
    body.update(changes)
    return body


def test_a_meeting_is_logged_with_its_actions_through_the_api(client, vendor, vendor_manager):
    response = api_call(client, "post", "/api/v1/vendors/liaison", vendor_manager, meeting_body(vendor))
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["occurred_at"].startswith("2025-06-09T02:00:00")  # stored in UTC
    assert [(a["description"], a["owner_party"], a["status"]) for a in data["actions"]] == [
        ("Send the weekend staffing plan", "vendor", "open"),
        ("Approve the plan", "company", "open"),
    ]


def test_a_bad_action_leaves_no_half_written_meeting(client, vendor, vendor_manager, outsider):
    body = meeting_body(vendor)
    body["actions"][1]["owner_id"] = outsider.pk  # another vendor's user cannot own our action
    response = api_call(client, "post", "/api/v1/vendors/liaison", vendor_manager, body)
    data = assert_problem(response, 422)
    assert "Action 2" in data["errors"][0]["message"]
    assert not LiaisonEntry.objects.exists() and not ActionItem.objects.exists()


def test_an_action_moves_on_and_records_completion(vendor, vendor_manager, portal_user):
    entry = services.liaison_entry_create(
        actor=vendor_manager,
        vendor=vendor,
        kind="call",
        occurred_at=timezone.now(),
        title="Escalation call",
        actions=[services.ActionSpec("Root-cause report", "vendor", date(2025, 6, 20), owner=portal_user)],
    )
    action = entry.actions.get()
    services.action_item_update(
        actor=portal_user, item=action, status="in_progress", progress_note="Drafting."
    )
    services.action_item_update(actor=portal_user, item=action, status="done")
    action.refresh_from_db()
    assert action.status == "done" and action.completed_at is not None and action.progress_note == "Drafting."
    with pytest.raises(ValidationError):
        services.action_item_update(actor=portal_user, item=action, status="cancelled")


def test_a_naive_time_is_refused(vendor, vendor_manager):
    with pytest.raises(ValidationError) as caught:
        services.liaison_entry_create(
            actor=vendor_manager,
            vendor=vendor,
            kind="call",
            occurred_at=datetime(2025, 6, 9, 10),  # noqa: DTZ001 (the naive time under test)
            title="Call",
        )
    assert "occurred_at" in caught.value.message_dict


def test_a_contract_of_another_vendor_is_refused(contract, other_vendor, vendor_manager):
    with pytest.raises(ValidationError):
        services.liaison_entry_create(
            actor=vendor_manager,
            vendor=other_vendor,
            contract=contract,
            kind="call",
            occurred_at=timezone.now(),
            title="Call",
        )


def test_an_update_request_reaches_the_vendor_and_is_answered(
    vendor, vendor_manager, portal_user, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        request = services.update_request_create(
            actor=vendor_manager,
            vendor=vendor,
            title="Chatbot pilot figures",
            details="Containment rate and CSAT.",
            due_on=date(2025, 6, 30),
            today=TODAY,
        )
    assert [m.to for m in mail.outbox] == [[portal_user.email]]
    assert "due 30 Jun 2025" in mail.outbox[0].body

    services.update_request_respond(actor=portal_user, request=request, response="Containment 41%.")
    services.update_request_close(actor=vendor_manager, request=request)
    request.refresh_from_db()
    assert (request.status, request.responded_by) == ("closed", portal_user)
    with pytest.raises(ValidationError):
        services.update_request_respond(actor=portal_user, request=request, response="Late edit")


def test_an_update_request_due_in_the_past_is_refused(vendor, vendor_manager):
    with pytest.raises(ValidationError) as caught:
        services.update_request_create(
            actor=vendor_manager, vendor=vendor, title="X", details="Y", due_on=date(2025, 6, 1), today=TODAY
        )
    assert "due_on" in caught.value.message_dict
    assert not UpdateRequest.objects.exists()


def test_outsiders_cannot_log_or_read_liaison(client, vendor, vendor_manager, outsider, no_role_user):
    entry = services.liaison_entry_create(
        actor=vendor_manager, vendor=vendor, kind="meeting", occurred_at=timezone.now(), title="Secret review"
    )
    for persona in (outsider, no_role_user):
        assert_outsider_blocked(client, persona, "post", "/api/v1/vendors/liaison", body=meeting_body(vendor))
        assert_outsider_blocked(client, persona, "get", "/api/v1/vendors/liaison", secrets=("Secret review",))
        assert_outsider_blocked(client, persona, "get", f"/api/v1/vendors/liaison/{entry.pk}")
    assert LiaisonEntry.objects.count() == 1
