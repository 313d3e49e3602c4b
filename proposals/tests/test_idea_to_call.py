"""Issue 5 item 6 meets issue 6: an accepted idea from the liaison ideas log is turned into a
proposal, that is a call to the idea's vendor to write it up, linked both ways."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from proposals.models import Call
from vendors import cooperation
from vendors.models import Idea

pytestmark = pytest.mark.django_db
URL = "/api/v1/proposals/calls/from-idea"


@pytest.fixture
def idea(vendor, portal_user, vendor_manager):
    idea = cooperation.idea_submit(
        actor=portal_user,
        vendor=vendor,
        title="Callback booking for missed calls",
        description="Let customers book a callback slot when the queue is long.",
        expected_benefit="Fewer abandoned calls at peak",
    )
    return cooperation.idea_decide(actor=vendor_manager, idea=idea, status="accepted")


def deadline() -> str:
    return (timezone.now() + timedelta(days=10)).isoformat()


def test_an_accepted_idea_becomes_an_open_call_to_its_vendor(client, idea, crm, portal_user):
    response = api_call(client, "post", URL, crm, {"idea_id": idea.pk, "deadline": deadline()})

    assert response.status_code == 201, response.content
    call = Call.objects.get()
    idea.refresh_from_db()
    assert call.source_idea == idea and call.status == "open"
    assert list(call.invitations.values_list("vendor_id", flat=True)) == [idea.vendor_id]
    assert "Fewer abandoned calls" in call.objectives
    assert idea.status == Idea.Status.PROPOSAL and idea.proposal_reference == f"Call #{call.pk}: {call.title}"
    # The vendor sees the call in its portal and can answer it.
    assert [
        c["id"] for c in api_call(client, "get", "/api/v1/proposals/calls", portal_user).json()["items"]
    ] == [call.pk]


def test_an_idea_that_is_not_accepted_stays_an_idea(client, vendor, portal_user, crm):
    fresh = cooperation.idea_submit(actor=portal_user, vendor=vendor, title="T", description="D")
    headers = bearer(crm)
    with nothing_written(Call, Idea):
        response = client.post(
            URL,
            data={"idea_id": fresh.pk, "deadline": deadline()},
            content_type="application/json",
            **headers,
        )
    assert "Only an accepted idea" in str(assert_problem(response, 422))


def test_the_idea_page_offers_the_turn_and_the_call_page_links_back(client, idea, crm):
    client.force_login(crm)
    page = client.get(reverse("vendors:idea_detail", args=[idea.pk])).content.decode()
    assert "Turn into a call for proposals" in page
    form = client.get(reverse("proposals:call_create"), {"idea": idea.pk})
    assert "Callback booking for missed calls" in form.content.decode()
    local = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("proposals:call_create"),
        {"idea": idea.pk, "sections": ["objectives", "cost"], "deadline": local},
    )
    call = Call.objects.get()
    assert response.status_code == 302 and call.required_sections == ["objectives", "cost"]
    detail = client.get(reverse("vendors:idea_detail", args=[idea.pk])).content.decode()
    assert reverse("proposals:call", args=[call.pk]) in detail


def test_others_cannot_turn_an_idea_into_a_call(client, idea, outsider, vendor_manager, portal_user):
    assert_outsider_blocked(client, outsider, "post", URL, body={"idea_id": idea.pk, "deadline": deadline()})
    for person in (vendor_manager, portal_user):  # no proposals.add_call
        response = api_call(client, "post", URL, person, {"idea_id": idea.pk, "deadline": deadline()})
        assert response.status_code in (403, 404)
    assert not Call.objects.exists()
