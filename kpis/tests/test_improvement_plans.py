"""Improvement plans (issue 3): the subject writes the plan, another person accepts it — in the API
and on the period page, through the same audited services; outsiders reach none of it."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked
from kpis.models import ImprovementPlan

from .factories import ImprovementPlanFactory

pytestmark = pytest.mark.django_db
API = "/api/v1/kpis"


@pytest.fixture
def plan(vendor_subject):
    return ImprovementPlanFactory(period__scorecard__subject=vendor_subject)


def test_the_vendor_writes_the_plan_and_a_manager_accepts_it_in_the_api(
    client, portal_user, cs_manager, plan
):
    listed = api_call(client, "GET", f"{API}/improvement-plans", portal_user).json()
    assert [p["id"] for p in listed["items"]] == [plan.pk] and listed["items"][0]["status"] == "required"
    response = api_call(
        client, "POST", f"{API}/improvement-plans/{plan.pk}/submit", portal_user, {"plan": "Two more agents."}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "submitted" and response.json()["submitted_by_id"] == portal_user.pk
    accepted = api_call(client, "POST", f"{API}/improvement-plans/{plan.pk}/accept", cs_manager)
    assert accepted.status_code == 200, accepted.content
    plan.refresh_from_db()
    assert (plan.status, plan.plan, plan.accepted_by) == ("accepted", "Two more agents.", cs_manager)
    assert AuditEvent.objects.filter(object_type="kpis.improvementplan", object_id=str(plan.pk)).count() == 2
    detail = api_call(client, "GET", f"{API}/improvement-plans/{plan.pk}", portal_user).json()
    assert detail["status"] == "accepted" and detail["accepted_by_id"] == cs_manager.pk


def test_bad_updates_are_refused_and_change_nothing(client, cs_manager, portal_user, plan):
    empty = api_call(client, "POST", f"{API}/improvement-plans/{plan.pk}/submit", portal_user, {"plan": ""})
    assert empty.status_code in (400, 422)
    early = api_call(client, "POST", f"{API}/improvement-plans/{plan.pk}/accept", cs_manager)
    assert early.status_code in (400, 422)
    api_call(client, "POST", f"{API}/improvement-plans/{plan.pk}/submit", cs_manager, {"plan": "Mine."})
    self_accept = api_call(client, "POST", f"{API}/improvement-plans/{plan.pk}/accept", cs_manager)
    assert self_accept.status_code == 403
    vendor_accept = api_call(client, "POST", f"{API}/improvement-plans/{plan.pk}/accept", portal_user)
    assert vendor_accept.status_code == 403
    plan.refresh_from_db()
    assert (plan.status, plan.plan, plan.accepted_by) == ("submitted", "Mine.", None)


def test_outsiders_reach_no_plan_in_the_api(client, outsider, no_role_user, plan):
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "GET", f"{API}/improvement-plans")
        assert_outsider_blocked(client, person, "GET", f"{API}/improvement-plans/{plan.pk}")
        assert_outsider_blocked(
            client, person, "POST", f"{API}/improvement-plans/{plan.pk}/submit", body={"plan": "Hijack."}
        )
        assert_outsider_blocked(client, person, "POST", f"{API}/improvement-plans/{plan.pk}/accept")
    plan.refresh_from_db()
    assert (plan.status, plan.plan) == ("required", "")


def test_the_period_page_writes_and_accepts_the_plan(client, cs_manager, second_manager, plan):
    period_url = reverse("kpis:period_detail", args=[plan.period_id])
    action_url = reverse("kpis:improvement_plan_act", args=[plan.pk])
    client.force_login(cs_manager)
    page = client.get(period_url).content.decode()
    assert action_url in page and "Submit the plan" in page and "Accept the plan" not in page
    response = client.post(action_url, {"action": "submit", "plan": "Coaching for the evening shift."})
    assert response.status_code == 302 and response["Location"] == period_url
    plan.refresh_from_db()
    assert (plan.status, plan.submitted_by) == ("submitted", cs_manager)
    # The author does not see, nor may use, the accept button.
    assert "Accept the plan" not in client.get(period_url).content.decode()
    client.post(action_url, {"action": "accept"})
    plan.refresh_from_db()
    assert plan.status == "submitted"
    client.force_login(second_manager)
    assert "Accept the plan" in client.get(period_url).content.decode()
    client.post(action_url, {"action": "accept"})
    plan.refresh_from_db()
    assert (plan.status, plan.accepted_by) == ("accepted", second_manager)


def test_an_empty_plan_on_the_page_writes_nothing(client, cs_manager, plan):
    client.force_login(cs_manager)
    response = client.post(
        reverse("kpis:improvement_plan_act", args=[plan.pk]), {"action": "submit", "plan": "  "}, follow=True
    )
    assert "Write the plan." in response.content.decode() or "required" in response.content.decode()
    plan.refresh_from_db()
    assert (plan.status, plan.plan) == ("required", "")
    assert not AuditEvent.objects.filter(object_type="kpis.improvementplan").exists()


def test_outsiders_cannot_act_on_a_plan_in_the_page(client, outsider, no_role_user, agent, plan):
    for person in (outsider, no_role_user, agent):
        client.force_login(person)
        response = client.post(
            reverse("kpis:improvement_plan_act", args=[plan.pk]), {"action": "submit", "plan": "Hijack."}
        )
        assert response.status_code in (403, 404), person
        assert client.post(
            reverse("kpis:improvement_plan_act", args=[plan.pk]), {"action": "accept"}
        ).status_code in (
            403,
            404,
        )
    plan.refresh_from_db()
    assert (plan.status, plan.plan) == ("required", "")
    assert ImprovementPlan.objects.count() == 1
