"""A vendor moves only along prospect → onboarding → active → under review → exiting → ended; every
move is kept with its reason and audited; a move the lifecycle does not allow changes nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors import services
from vendors.models import Vendor, VendorStatusChange
from vendors.tests.conftest import call


@pytest.fixture
def prospect(vendor_manager):
    return services.vendor_create(actor=vendor_manager, code="lantau-it", name="Lantau IT Managed Services")


def test_a_vendor_walks_the_whole_lifecycle_with_its_history(prospect, vendor_manager):
    steps = [
        ("onboarding", "Contract signed; onboarding starts."),
        ("active", "Go-live on 1 March."),
        ("under_review", "Two months below target."),
        ("active", "Improvement plan delivered."),
        ("exiting", "Service moving in-house."),
        ("ended", "Exit completed; data returned."),
    ]
    for status, reason in steps:
        services.vendor_change_status(actor=vendor_manager, vendor=prospect, status=status, reason=reason)

    history = list(VendorStatusChange.objects.filter(vendor=prospect).order_by("id"))
    assert [(h.from_status, h.to_status) for h in history] == [
        ("", "prospect"),
        ("prospect", "onboarding"),
        ("onboarding", "active"),
        ("active", "under_review"),
        ("under_review", "active"),
        ("active", "exiting"),
        ("exiting", "ended"),
    ]
    assert history[-1].reason == "Exit completed; data returned."
    assert history[-1].changed_by == vendor_manager
    updates = AuditEvent.objects.filter(
        object_type="vendors.vendor", object_id=str(prospect.pk), action=AuditEvent.Action.UPDATE
    ).order_by("seq")
    assert [e.changes["after"]["status"] for e in updates] == [s for s, _ in steps]
    assert updates.last().purpose == "Exit completed; data returned."  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("start", "target"),
    [
        ("prospect", "active"),
        ("prospect", "under_review"),
        ("onboarding", "under_review"),
        ("active", "ended"),
        ("ended", "active"),
        ("exiting", "active"),
    ],
)
def test_a_move_the_lifecycle_does_not_allow_is_refused_and_changes_nothing(vendor_manager, start, target):
    vendor = services.vendor_create(actor=vendor_manager, code="v", name="V Ltd", status=start)

    with nothing_written(Vendor, VendorStatusChange), pytest.raises(ValidationError) as caught:
        services.vendor_change_status(actor=vendor_manager, vendor=vendor, status=target, reason="Try")

    assert "cannot go from" in caught.value.message_dict["status"][0]
    vendor.refresh_from_db()
    assert vendor.status == start


def test_a_status_change_needs_a_reason(prospect, vendor_manager):
    with pytest.raises(ValidationError) as caught:
        services.vendor_change_status(actor=vendor_manager, vendor=prospect, status="onboarding", reason=" ")
    assert "reason" in caught.value.message_dict


def test_a_standing_flags_only_an_active_vendor_for_review(vendor_manager):
    active = services.vendor_create(actor=vendor_manager, code="a", name="A Ltd", status="active")
    exiting = services.vendor_create(actor=vendor_manager, code="b", name="B Ltd", status="exiting")

    assert services.vendor_flag_for_review(actor=None, vendor=active, reason="Standing: Critical") is True
    assert services.vendor_flag_for_review(actor=None, vendor=exiting, reason="Standing: Critical") is False

    active.refresh_from_db()
    exiting.refresh_from_db()
    assert (active.status, exiting.status) == ("under_review", "exiting")


def test_the_api_moves_a_vendor_with_a_reason_and_shows_the_history(client, prospect, vendor_manager):
    url = f"/api/v1/vendors/{prospect.pk}/status"
    response = api_call(client, "post", url, vendor_manager, {"status": "onboarding", "reason": "Signed."})
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "onboarding"

    history = api_call(client, "get", f"/api/v1/vendors/{prospect.pk}/status-changes", vendor_manager).json()
    assert [item["to_status"] for item in history["items"]] == ["onboarding", "prospect"]


def test_the_api_refuses_a_skipped_step_with_a_problem_naming_the_status(client, prospect, vendor_manager):
    headers = bearer(vendor_manager)
    with nothing_written(Vendor, VendorStatusChange):
        response = call(
            client,
            "post",
            f"/api/v1/vendors/{prospect.pk}/status",
            headers,
            {"status": "active", "reason": "x"},
        )
    data = assert_problem(response, 422)
    assert error_fields(data) == {"status"}
    assert "Onboarding" in data["errors"][0]["message"]


def test_the_old_patch_route_follows_the_same_rule(client, prospect, vendor_manager):
    response = api_call(
        client, "patch", f"/api/v1/vendors/{prospect.pk}", vendor_manager, {"status": "ended"}
    )
    assert response.status_code == 200, response.content
    response = api_call(
        client, "patch", f"/api/v1/vendors/{prospect.pk}", vendor_manager, {"status": "active"}
    )
    assert_problem(response, 422)


def test_outsiders_cannot_move_or_read_the_lifecycle(client, vendor, outsider, no_role_user):
    for persona in (outsider, no_role_user):
        assert_outsider_blocked(
            client,
            persona,
            "post",
            f"/api/v1/vendors/{vendor.pk}/status",
            body={"status": "exiting", "reason": "x"},
        )
        assert_outsider_blocked(client, persona, "get", f"/api/v1/vendors/{vendor.pk}/status-changes")
    vendor.refresh_from_db()
    assert vendor.status == "active"


def test_a_portal_user_cannot_move_even_their_own_vendor(client, vendor, portal_user):
    response = api_call(
        client,
        "post",
        f"/api/v1/vendors/{vendor.pk}/status",
        portal_user,
        {"status": "exiting", "reason": "x"},
    )
    assert_problem(response, 404)
    response = api_call(client, "get", f"/api/v1/vendors/{vendor.pk}/status-changes", portal_user)
    assert response.json()["items"] == []
