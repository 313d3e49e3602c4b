"""Liaison (issue 5 item 6): the ideas log. A vendor sends ideas through the portal, our staff log
theirs; ideas are considered, accepted or not taken forward, and an accepted idea is turned into a
proposal (recorded as a status and the proposal's reference until the proposals package exists)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors import cooperation
from vendors.models import Idea
from vendors.tests.conftest import call

IDEA: dict[str, Any] = {
    "title": "Chatbot for order tracking",
    "description": "Answer “where is my order” in the chat widget from the carrier's tracking feed.",
    "expected_benefit": "About 30% fewer hotline calls",
}


def test_the_portal_user_sends_an_idea_which_is_marked_as_the_vendors(client, vendor, portal_user):
    response = api_call(
        client, "post", "/api/v1/vendors/ideas", portal_user, {"vendor_id": vendor.pk, **IDEA}
    )
    assert response.status_code == 201, response.content
    data = response.json()
    assert (data["source"], data["status"], data["submitted_by_id"]) == ("vendor", "new", portal_user.pk)


def test_an_idea_goes_from_new_to_a_proposal(client, vendor, vendor_manager, portal_user):
    idea = cooperation.idea_submit(actor=portal_user, vendor=vendor, **IDEA)
    url = f"/api/v1/vendors/ideas/{idea.pk}/decide"
    assert api_call(client, "post", url, vendor_manager, {"status": "under_consideration"}).json()[
        "status"
    ] == ("under_consideration")
    assert (
        api_call(
            client, "post", url, vendor_manager, {"status": "accepted", "note": "Pilot in Q3."}
        ).status_code
        == 200
    )
    headers = bearer(vendor_manager)
    with nothing_written(Idea):
        response = call(client, "post", url, headers, {"status": "proposal"})
        assert "proposal_reference" in error_fields(assert_problem(response, 422, kind="rule"))
    data = api_call(
        client, "post", url, vendor_manager, {"status": "proposal", "proposal_reference": "CRM-2025-07"}
    ).json()
    assert (data["status"], data["proposal_reference"], data["decision_note"]) == (
        "proposal",
        "CRM-2025-07",
        "Pilot in Q3.",
    )
    with pytest.raises(ValidationError):
        cooperation.idea_decide(
            actor=vendor_manager, idea=Idea.objects.get(pk=idea.pk), status="rejected", note="x"
        )


def test_a_rejection_says_why_and_skipping_acceptance_is_refused(vendor, vendor_manager):
    idea = cooperation.idea_submit(actor=vendor_manager, vendor=vendor, **IDEA)
    assert idea.source == "company"
    with pytest.raises(ValidationError, match="can become"):
        cooperation.idea_decide(actor=vendor_manager, idea=idea, status="proposal", proposal_reference="P-1")
    with pytest.raises(ValidationError, match="why"):
        cooperation.idea_decide(actor=vendor_manager, idea=idea, status="rejected")


def test_the_portal_user_cannot_decide_and_sees_only_the_vendors_own_ideas(
    client, vendor, vendor_manager, portal_user
):
    ours = cooperation.idea_submit(
        actor=vendor_manager,
        vendor=vendor,
        title="Internal: tender the hotline in 2026",
        description="Compare fees.",
    )
    theirs = cooperation.idea_submit(actor=portal_user, vendor=vendor, **IDEA)
    listed = api_call(client, "get", "/api/v1/vendors/ideas", portal_user).json()["items"]
    assert [i["id"] for i in listed] == [theirs.pk]
    assert api_call(client, "get", f"/api/v1/vendors/ideas/{ours.pk}", portal_user).status_code == 404
    with pytest.raises(PermissionDenied):
        cooperation.idea_decide(actor=portal_user, idea=theirs, status="accepted")
    response = api_call(
        client, "post", f"/api/v1/vendors/ideas/{theirs.pk}/decide", portal_user, {"status": "accepted"}
    )
    assert response.status_code in (403, 404)


def test_the_pages_log_and_decide(client, vendor, vendor_manager, portal_user):
    client.force_login(portal_user)
    with nothing_written(Idea):
        response = client.post("/vendors/ideas/", {"title": "No description"})
    assert response.status_code == 200 and "This field is required." in response.content.decode()
    response = client.post("/vendors/ideas/", {**IDEA})
    assert response.status_code == 302 and response["Location"] == "/vendors/portal/"
    idea = Idea.objects.get()
    assert idea.source == "vendor" and idea.vendor == vendor

    client.force_login(vendor_manager)
    response = client.post(f"/vendors/ideas/{idea.pk}/", {"status": "rejected", "note": ""})
    assert response.status_code == 200 and "Say why" in response.content.decode()
    client.post(f"/vendors/ideas/{idea.pk}/", {"status": "accepted", "note": "Pilot it."})
    idea.refresh_from_db()
    assert idea.status == "accepted"
    assert "Chatbot for order tracking" in client.get("/vendors/ideas/").content.decode()


def test_an_outsider_reaches_no_idea(client, vendor, portal_user, vendor_manager, outsider, no_role_user):
    idea = cooperation.idea_submit(actor=portal_user, vendor=vendor, **IDEA)
    for who in (outsider, no_role_user):
        assert_outsider_blocked(client, who, "get", "/api/v1/vendors/ideas", secrets=("Chatbot",))
        assert_outsider_blocked(client, who, "get", f"/api/v1/vendors/ideas/{idea.pk}")
        assert_outsider_blocked(
            client, who, "post", f"/api/v1/vendors/ideas/{idea.pk}/decide", body={"status": "accepted"}
        )
    # Another vendor's portal user cannot file an idea under this vendor either.
    response = api_call(client, "post", "/api/v1/vendors/ideas", outsider, {"vendor_id": vendor.pk, **IDEA})
    assert response.status_code == 404
    assert Idea.objects.count() == 1
