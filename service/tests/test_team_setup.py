"""Setting up teams and agents (issue 4 item 1): who employs an agent, which login sees their scorecard.

The CS manager sets them up in the browser and through the API; agents, vendor managers, portal
users and outsiders cannot. Bad input (duplicate codes and names, unknown vendors, a login that is
not an agent's, an outsourced team's agent employed elsewhere) is refused with a clear error and
writes nothing. Every change is in the audit trail.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from core.models import AuditEvent
from core.testing.factories import UserFactory
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from service import services
from service.models import Agent, Team
from service.tests.conftest import call

pytestmark = pytest.mark.django_db

TEAMS = "/api/v1/service/teams"
AGENTS = "/api/v1/service/agents"


@pytest.fixture
def cs_agent():
    return UserFactory(username="kelvin", roles=["cs_agent"], first_name="Kelvin", last_name="Ho")


@pytest.fixture
def in_house(cs_manager):
    return services.team_create(actor=cs_manager, code="hk-email", name="E-mail care")


@pytest.fixture
def outsourced(cs_manager, vendor):
    return services.team_create(
        actor=cs_manager, code="hc-hotline", name="Harbour Call hotline", vendor=vendor
    )


def audit_of(instance):
    return list(
        AuditEvent.objects.filter(object_type=instance._meta.label_lower, object_id=str(instance.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


# --- API -------------------------------------------------------------------------------------------


def test_a_manager_sets_up_a_team_and_an_agent_linked_to_their_login(client, cs_manager, cs_agent, vendor):
    team = api_call(
        client, "POST", TEAMS, cs_manager, {"code": "hc-chat", "name": "Harbour chat", "vendor_id": vendor.pk}
    )
    assert team.status_code == 201, team.content
    assert team.json() | {"id": 0} == {
        "id": 0,
        "code": "hc-chat",
        "name": "Harbour chat",
        "vendor_id": vendor.pk,
        "active": True,
        "active_agent_count": 0,
        "agent_count": 0,
    }
    body = {
        "name": "Lee Ka Wai",
        "source": "helpdesk",
        "external_id": "hc-9",
        "email": "kawai.lee@harbourcall.example.hk",
        "team_id": team.json()["id"],
        "user_id": None,
    }
    created = api_call(client, "POST", AGENTS, cs_manager, body)
    assert created.status_code == 201, created.content
    agent = Agent.objects.get(pk=created.json()["id"])
    assert agent.vendor == vendor  # an outsourced team's agent is its vendor's staff
    assert created.json()["email"] == "kawai.lee@harbourcall.example.hk"
    # In-house agent with a login: sees their own scorecard.
    mine = api_call(
        client,
        "POST",
        AGENTS,
        cs_manager,
        {"name": "Kelvin Ho", "external_id": "hd-101", "user_id": cs_agent.pk},
    )
    assert mine.status_code == 201, mine.content
    assert Agent.objects.get(user=cs_agent).vendor is None
    assert audit_of(agent) == ["create"]
    listed = api_call(client, "GET", f"{TEAMS}/{team.json()['id']}", cs_manager).json()
    assert (listed["active_agent_count"], listed["agent_count"]) == (1, 1)


def test_changes_and_deactivation_are_audited_and_the_code_stays(
    client, cs_manager, in_house, outsourced, vendor
):
    agent = services.agent_create(actor=cs_manager, name="Winnie Lau", external_id="a-1", team=in_house)
    moved = api_call(client, "PATCH", f"{AGENTS}/{agent.pk}", cs_manager, {"team_id": outsourced.pk})
    assert moved.status_code == 200 and moved.json()["vendor_id"] == vendor.pk  # moves to the vendor
    back = api_call(client, "PATCH", f"{AGENTS}/{agent.pk}", cs_manager, {"team_id": in_house.pk})
    assert back.json()["vendor_id"] is None
    # A team with an active agent is not deactivated; once the agent is, it is.
    refused = api_call(client, "PATCH", f"{TEAMS}/{in_house.pk}", cs_manager, {"active": False})
    assert "active" in error_fields(assert_problem(refused, 422, kind="rule"))
    assert (
        api_call(client, "PATCH", f"{AGENTS}/{agent.pk}", cs_manager, {"active": False}).json()["active"]
        is False
    )
    done = api_call(
        client, "PATCH", f"{TEAMS}/{in_house.pk}", cs_manager, {"active": False, "name": "Old e-mail"}
    )
    assert done.status_code == 200 and done.json()["active"] is False and done.json()["code"] == "hk-email"
    assert (
        api_call(client, "GET", f"{TEAMS}?active=false", cs_manager).json()["items"][0]["code"] == "hk-email"
    )
    assert audit_of(agent) == ["create", "update", "update", "update"]
    change = AuditEvent.objects.filter(object_type="service.team", object_id=str(in_house.pk)).latest("seq")
    assert (change.changes["before"]["active"], change.changes["after"]["active"]) == (True, False)
    # Changing nothing writes nothing.
    headers = bearer(cs_manager)
    with nothing_written(Agent):
        same = call(client, "PATCH", f"{AGENTS}/{agent.pk}", headers, {"name": "Winnie Lau"})
    assert same.status_code == 200


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (TEAMS, {"code": "hk-email", "name": "Another"}, "code"),
        (TEAMS, {"code": "HK-EMAIL", "name": "Another"}, "code"),
        (TEAMS, {"code": "hk-mail-2", "name": "e-mail CARE"}, "name"),
        (TEAMS, {"code": "hk-x", "name": "X", "vendor_id": 999_999}, "vendor_id"),
        (AGENTS, {"name": "Someone", "external_id": "a-1"}, "external_id"),
        (AGENTS, {"name": "winnie lau", "external_id": "a-2", "team_id": "in_house"}, "name"),
        (AGENTS, {"name": "B", "external_id": "a-3", "vendor_id": 999_999}, "vendor_id"),
        (AGENTS, {"name": "B", "external_id": "a-3", "team_id": 999_999}, "team_id"),
        (
            AGENTS,
            {"name": "B", "external_id": "a-3", "team_id": "outsourced", "vendor_id": "other"},
            "vendor_id",
        ),
        (AGENTS, {"name": "B", "external_id": "a-3", "user_id": "manager"}, "user_id"),
        (AGENTS, {"name": "B", "external_id": "a-3", "user_id": "linked"}, "user_id"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_writes_nothing(
    client, cs_manager, cs_agent, in_house, outsourced, other_vendor, path, body, field
):
    services.agent_create(
        actor=cs_manager, name="Winnie Lau", external_id="a-1", team=in_house, user=cs_agent
    )
    ids = {
        "in_house": in_house.pk,
        "outsourced": outsourced.pk,
        "other": other_vendor.pk,
        "manager": cs_manager.pk,
        "linked": cs_agent.pk,
    }
    body = {key: ids.get(value, value) if isinstance(value, str) else value for key, value in body.items()}
    headers = bearer(cs_manager)  # the token is issued (and audited) outside the block
    with nothing_written(Team, Agent):
        response = call(client, "POST", path, headers, body)
    data = assert_problem(response, 422, kind="rule")
    assert field in error_fields(data), data
    assert all(error["message"] for error in data["errors"])


def test_only_managers_write_agents_read_and_portal_users_and_outsiders_reach_nothing(
    client,
    cs_manager,
    cs_agent,
    in_house,
    outsourced,
    vendor,
    portal_user,
    outsider,
    no_role_user,
    vendor_manager,
):
    agent = services.agent_create(
        actor=cs_manager,
        name="Lee Ka Wai",
        external_id="hc-1",
        team=outsourced,
        email="kawai@harbour.example.hk",
    )
    for user in (cs_agent, vendor_manager, portal_user):
        assert_problem(api_call(client, "POST", TEAMS, user, {"code": "x", "name": "X"}), 403)
        assert_problem(api_call(client, "POST", AGENTS, user, {"name": "X", "external_id": "x"}), 403)
        assert api_call(client, "PATCH", f"{AGENTS}/{agent.pk}", user, {"active": False}).status_code in (
            403,
            404,
        )
        assert api_call(client, "PATCH", f"{TEAMS}/{outsourced.pk}", user, {"active": False}).status_code in (
            403,
            404,
        )
    agent.refresh_from_db()
    assert agent.active
    # Agents read names and teams (to filter tickets), never the e-mail or the login.
    seen = api_call(client, "GET", f"{AGENTS}/{agent.pk}", cs_agent).json()
    assert seen["name"] == "Lee Ka Wai" and seen["email"] == "" and seen["user_id"] is None
    # A portal user sees their own vendor's agents only.
    assert [a["external_id"] for a in api_call(client, "GET", AGENTS, portal_user).json()["items"]] == [
        "hc-1"
    ]
    for user in (outsider, no_role_user):
        assert_outsider_blocked(client, user, "GET", f"{AGENTS}/{agent.pk}", secrets=("Lee Ka Wai",))
        assert_outsider_blocked(
            client, user, "GET", f"{TEAMS}/{outsourced.pk}", secrets=("Harbour Call hotline",)
        )
        assert_outsider_blocked(client, user, "GET", AGENTS, secrets=("Lee Ka Wai",))
        assert_outsider_blocked(
            client, user, "PATCH", f"{AGENTS}/{agent.pk}", body={"name": "Hacked"}, secrets=("Lee Ka Wai",)
        )
        assert_outsider_blocked(
            client, user, "POST", TEAMS, body={"code": "x", "name": "X", "vendor_id": vendor.pk}
        )
    assert not Team.objects.filter(code="x").exists()
    # The services refuse a portal user even if a role granted the permission.
    portal_user.user_permissions.add(*Permission.objects.filter(codename__in=["add_team", "change_agent"]))
    portal_user = User.objects.get(pk=portal_user.pk)
    assert portal_user.has_perm("service.add_team")
    with pytest.raises(PermissionDenied):
        services.team_create(actor=portal_user, code="y", name="Y")
    with pytest.raises(PermissionDenied):
        services.agent_update(actor=portal_user, agent=agent, active=False)


# --- Pages -----------------------------------------------------------------------------------------


def test_the_manager_sets_up_changes_and_deactivates_in_the_browser(client, cs_manager, cs_agent, vendor):
    client.force_login(cs_manager)
    page = client.get(reverse("service:home"))
    assert reverse("service:teams") in page.content.decode()  # linked from the service sub-navigation
    response = client.post(
        reverse("service:team_create"),
        {"code": "hc-hotline", "name": "Harbour Call hotline", "vendor": vendor.pk},
    )
    assert response.status_code == 302
    team = Team.objects.get(code="hc-hotline")
    assert team.vendor == vendor
    again = client.post(reverse("service:team_create"), {"code": "hc-hotline", "name": "Other", "vendor": ""})
    assert again.status_code == 200 and "already set up" in again.content.decode()
    unknown = client.post(reverse("service:team_create"), {"code": "z", "name": "Z", "vendor": 999_999})
    assert unknown.status_code == 200 and "Select a valid choice" in unknown.content.decode()
    form = client.get(reverse("service:agent_create")).content.decode()
    assert "kelvin (Kelvin Ho)" in form and "mandy" not in form  # only agents' logins are offered
    created = client.post(
        reverse("service:agent_create"),
        {
            "name": "Kelvin Ho",
            "source": "helpdesk",
            "external_id": "hd-101",
            "team": team.pk,
            "user": cs_agent.pk,
        },
    )
    assert created.status_code == 302, created.content.decode()
    agent = Agent.objects.get(external_id="hd-101")
    assert (agent.vendor, agent.user) == (vendor, cs_agent)
    edited = client.post(
        reverse("service:agent_edit", args=[agent.pk]),
        {
            "name": "Kelvin Ho Ka Chun",
            "email": "kelvin@example.hk",
            "team": team.pk,
            "vendor": "",
            "user": "",
        },
    )
    assert edited.status_code == 302
    agent.refresh_from_db()
    assert (agent.name, agent.user, agent.vendor) == ("Kelvin Ho Ka Chun", None, vendor)
    listing = client.get(reverse("service:teams")).content.decode()
    assert "Kelvin Ho Ka Chun" in listing and "Harbour Call hotline" in listing
    refused = client.post(reverse("service:team_active", args=[team.pk]), {"active": "0"}, follow=True)
    assert "still in this team" in refused.content.decode()
    client.post(reverse("service:agent_active", args=[agent.pk]), {"active": "0"})
    client.post(reverse("service:team_active", args=[team.pk]), {"active": "0"})
    team.refresh_from_db()
    agent.refresh_from_db()
    assert not team.active and not agent.active
    assert "Deactivated" in client.get(reverse("service:teams") + "?status=all").content.decode()


def test_pages_refuse_agents_writes_and_portal_users_and_outsiders_entirely(
    client, cs_manager, cs_agent, in_house, portal_user, no_role_user
):
    agent = services.agent_create(
        actor=cs_manager, name="Winnie Lau", external_id="a-1", team=in_house, email="w@x.hk"
    )
    client.force_login(cs_agent)
    listing = client.get(reverse("service:teams"))
    assert listing.status_code == 200 and "Winnie Lau" in listing.content.decode()
    assert "w@x.hk" not in listing.content.decode()
    assert reverse("service:agent_active", args=[agent.pk]) not in listing.content.decode()
    for url in (
        reverse("service:team_create"),
        reverse("service:agent_create"),
        reverse("service:agent_edit", args=[agent.pk]),
    ):
        assert client.get(url).status_code == 403
    assert client.post(reverse("service:agent_active", args=[agent.pk]), {"active": "0"}).status_code == 403
    for user in (portal_user, no_role_user):
        client.force_login(user)
        for url in (
            reverse("service:teams"),
            reverse("service:team_create"),
            reverse("service:agent_edit", args=[agent.pk]),
        ):
            assert client.get(url).status_code in (403, 404)
    agent.refresh_from_db()
    assert agent.active


def test_the_set_up_page_costs_the_same_queries_for_more_teams_and_agents(
    client, cs_manager, in_house, vendor
):
    client.force_login(cs_manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("service:teams") + "?status=all").status_code == 200
        return len(captured)

    services.agent_create(actor=cs_manager, name="Agent 0", external_id="a-0", team=in_house)
    before = queries()
    for n in range(1, 12):
        team = services.team_create(
            actor=cs_manager, code=f"t-{n}", name=f"Team {n}", vendor=vendor if n % 2 else None
        )
        services.agent_create(actor=cs_manager, name=f"Agent {n}", external_id=f"a-{n}", team=team)
    assert queries() == before
