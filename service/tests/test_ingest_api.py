"""API: send tickets one by one or in bulk, read them back; bad input is a problem that writes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from core.testing.factories import UserFactory
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from service.models import Agent, Ticket, TicketEvent, TicketSla
from service.tests.ingest_helpers import call, make_teams

pytestmark = pytest.mark.django_db
TICKETS = "/api/v1/service/tickets"


@pytest.fixture
def teams(vendor):
    return make_teams(vendor)


@pytest.fixture
def cs_manager():
    return UserFactory(username="cheryl", roles=["cs_manager"])


@pytest.fixture
def cs_agent():
    return UserFactory(username="kelvin", roles=["cs_agent"])


def ticket(ticket_id: str = "Z-100", team: str = "hk-email", **fields: Any) -> dict[str, Any]:
    return {
        "source": "zendesk",
        "ticket_id": ticket_id,
        "subject": "Refund for order 8812",
        "channel": "chat",
        "priority": "high",
        "team": team,
        "agent": "zd-7",
        "agent_name": "Mandy Chan",
        "events": [
            {"event_id": "1", "kind": "created", "occurred_at": "2026-10-05T09:00:00+08:00"},
            {"event_id": "2", "kind": "bot_reply", "occurred_at": "2026-10-05T09:00:05+08:00"},
            {
                "event_id": "3",
                "kind": "agent_reply",
                "occurred_at": "2026-10-05T09:12:00+08:00",
                "agent": "zd-7",
            },
            {
                "event_id": "4",
                "kind": "status_change",
                "occurred_at": "2026-10-05T09:13:00+08:00",
                "status": "pending",
            },
        ],
        **fields,
    }


def test_sending_a_ticket_stores_it_and_returns_it_with_its_events(client, teams, cs_manager):
    response = api_call(client, "POST", TICKETS, cs_manager, ticket())
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["tickets_created"], body["events_created"], body["agents_created"]) == (1, 4, 1)
    assert body["ticket"]["status"] == "pending"
    assert body["ticket"]["first_response_at"] == "2026-10-05T01:12:00Z"
    assert [e["kind"] for e in body["ticket"]["events"]] == [
        "created",
        "bot_reply",
        "agent_reply",
        "status_change",
    ]
    assert body["ticket"]["sla"] == []
    again = api_call(client, "POST", TICKETS, cs_manager, ticket()).json()
    assert (again["tickets_created"], again["tickets_updated"], again["events_created"]) == (0, 0, 0)


def test_a_time_without_a_zone_is_refused_before_anything_is_written(client, teams, cs_manager):
    body = ticket()
    body["events"][2]["occurred_at"] = "2026-10-05T09:12:00"
    headers = bearer(cs_manager)
    with nothing_written(Ticket, TicketEvent, Agent):
        response = call(client, "POST", TICKETS, headers, body)
    data = assert_problem(response, 422, kind="validation")
    assert "events.2.occurred_at" in error_fields(data)


def test_a_reply_before_creation_is_named_by_its_path(client, teams, cs_manager):
    body = ticket()
    body["events"][2]["occurred_at"] = "2026-10-05T08:00:00+08:00"
    headers = bearer(cs_manager)
    with nothing_written(Ticket, TicketEvent, Agent):
        response = call(client, "POST", TICKETS, headers, body)
    data = assert_problem(response, 422, kind="rule")
    assert error_fields(data) == {"tickets.0.events.2.occurred_at"}


def test_bulk_rolls_back_or_keeps_the_good_tickets_as_asked(client, teams, cs_manager):
    good, bad = ticket("Z-1"), ticket("Z-2", team="nowhere")
    headers = bearer(cs_manager)
    with nothing_written(Ticket, TicketEvent, Agent):
        response = call(client, "POST", f"{TICKETS}/bulk", headers, {"tickets": [good, bad]})
    assert "tickets.1.team" in error_fields(assert_problem(response, 422, kind="rule"))
    response = api_call(
        client, "POST", f"{TICKETS}/bulk", cs_manager, {"tickets": [good, bad], "on_error": "skip"}
    )
    body = response.json()
    assert body["tickets_created"] == 1 and body["rows_rejected"] == 4
    assert {e["field"] for e in body["errors"]} == {"tickets.1.team"}
    assert list(Ticket.objects.values_list("external_id", flat=True)) == ["Z-1"]


def test_reading_needs_no_more_than_view_and_sending_needs_the_manager(client, teams, cs_manager, cs_agent):
    api_call(client, "POST", TICKETS, cs_manager, ticket())
    listing = api_call(client, "GET", f"{TICKETS}?channel=chat&period=2026-10", cs_agent).json()
    assert [t["external_id"] for t in listing["items"]] == ["Z-100"]
    assert api_call(client, "GET", f"{TICKETS}?period=2026-11", cs_agent).json()["items"] == []
    headers = bearer(cs_agent)
    with nothing_written(Ticket, TicketEvent):
        assert_problem(call(client, "POST", TICKETS, headers, ticket("Z-9")), 403)


def test_filters_by_vendor_and_in_house(client, teams, cs_manager, vendor):
    api_call(client, "POST", TICKETS, cs_manager, ticket("Z-1"))
    api_call(client, "POST", TICKETS, cs_manager, ticket("Z-2", team="harbourcall-hotline", agent="hc-1"))
    vendor_ids = api_call(client, "GET", f"{TICKETS}?vendor={vendor.pk}", cs_manager).json()["items"]
    in_house = api_call(client, "GET", f"{TICKETS}?vendor=in-house", cs_manager).json()["items"]
    assert [t["external_id"] for t in vendor_ids] == ["Z-2"]
    assert [t["external_id"] for t in in_house] == ["Z-1"]


def test_portal_users_see_only_their_vendors_tickets(
    client, teams, cs_manager, portal_user, outsider, vendor
):
    api_call(client, "POST", TICKETS, cs_manager, ticket("Z-1"))
    api_call(client, "POST", TICKETS, cs_manager, ticket("Z-2", team="harbourcall-hotline", agent="hc-1"))
    theirs = Ticket.objects.get(external_id="Z-2")
    TicketSla.objects.create(ticket=theirs, target="first_response", target_minutes=60, met=True)
    listing = api_call(client, "GET", TICKETS, portal_user).json()["items"]
    assert [t["external_id"] for t in listing] == ["Z-2"]
    detail = api_call(client, "GET", f"{TICKETS}/{theirs.pk}", portal_user).json()
    assert detail["sla"][0]["met"] is True
    in_house = Ticket.objects.get(external_id="Z-1")
    assert_problem(api_call(client, "GET", f"{TICKETS}/{in_house.pk}", portal_user), 404)
    assert_outsider_blocked(client, outsider, "GET", f"{TICKETS}/{theirs.pk}", secrets=("Refund for order",))
    assert_outsider_blocked(client, outsider, "GET", TICKETS, secrets=("Z-2",))
    assert_outsider_blocked(client, outsider, "POST", TICKETS, body=ticket("Z-3"))


def test_a_manager_sets_up_teams_before_importing_to_them(client, cs_manager, cs_agent, vendor):
    body = {"code": "hc-chat", "name": "Harbour Call chat", "vendor_id": vendor.pk}
    created = api_call(client, "POST", "/api/v1/service/teams", cs_manager, body)
    assert created.status_code == 201 and created.json()["vendor_id"] == vendor.pk
    assert_problem(api_call(client, "POST", "/api/v1/service/teams", cs_manager, body), 422, kind="rule")
    assert_problem(api_call(client, "POST", "/api/v1/service/teams", cs_agent, {**body, "code": "x"}), 403)
    sent = api_call(client, "POST", TICKETS, cs_manager, ticket(team="hc-chat"))
    assert sent.json()["ticket"]["vendor"] == "harbourcall"
