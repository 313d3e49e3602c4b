"""Ingest: a ticket's status and stored figures follow from its events (issue 4 item 1)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from service.importing import ingest
from service.models import Agent, Ticket, TicketEvent
from service.tests.ingest_helpers import conversation, event, make_teams, numbered

pytestmark = pytest.mark.django_db


def hk(day: str, time: str) -> datetime:
    return datetime.fromisoformat(f"{day}T{time}+08:00").astimezone(UTC)


@pytest.fixture
def teams(vendor):
    return make_teams(vendor)


def test_first_response_is_the_first_public_human_reply_not_the_bot_or_a_note(teams):
    result = ingest(numbered(conversation()), actor=None, via="test")
    ticket = Ticket.objects.get(external_id="T-1")
    assert result.tickets_created == 1 and result.events_created == 6
    assert ticket.opened_at == hk("2026-10-05", "09:00:00")
    assert ticket.first_response_at == hk("2026-10-05", "09:45:00")
    assert ticket.first_resolved_at == ticket.resolved_at == hk("2026-10-05", "10:30:00")
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.agent_reply_count == 1
    assert ticket.reopen_count == 0


def test_reopen_counts_and_the_last_resolution_is_kept(teams):
    rows = [
        *conversation(),
        event("T-1", "e7", "reopened", "2026-10-06T11:00:00"),
        event("T-1", "e8", "status_change", "2026-10-06T11:05:00", status="pending"),
    ]
    ingest(numbered(rows), actor=None, via="test")
    ticket = Ticket.objects.get(external_id="T-1")
    assert ticket.reopen_count == 1
    assert ticket.status == Ticket.Status.PENDING
    assert ticket.resolved_at is None
    assert ticket.first_resolved_at == hk("2026-10-05", "10:30:00")
    ingest(numbered([event("T-1", "e9", "resolved", "2026-10-07T12:00:00")]), actor=None, via="test")
    ticket.refresh_from_db()
    assert ticket.status == Ticket.Status.RESOLVED
    assert ticket.resolved_at == hk("2026-10-07", "12:00:00")
    assert ticket.first_resolved_at == hk("2026-10-05", "10:30:00")


def test_a_new_ticket_with_an_agent_reply_is_open(teams):
    rows = [
        event("T-2", "e1", "created", "2026-10-05T09:00:00"),
        event("T-2", "e2", "agent_reply", "2026-10-05T09:10:00"),
    ]
    ingest(numbered(rows), actor=None, via="test")
    assert Ticket.objects.get(external_id="T-2").status == Ticket.Status.OPEN


@pytest.mark.parametrize(("kind", "flag"), [("merged", "is_merged"), ("spam", "is_spam")])
def test_merged_and_spam_are_flagged_and_closed(teams, kind, flag):
    rows = [
        event("T-3", "e1", "created", "2026-10-05T09:00:00"),
        event("T-3", "e2", kind, "2026-10-05T09:05:00"),
    ]
    ingest(numbered(rows), actor=None, via="test")
    ticket = Ticket.objects.get(external_id="T-3")
    assert getattr(ticket, flag) is True
    assert ticket.status == Ticket.Status.CLOSED
    assert not ticket.counts


def test_vendor_follows_the_agent_or_the_team_and_is_empty_in_house(teams, vendor):
    rows = [
        *conversation("T-in", agent="a-01"),
        *conversation("T-out", team="harbourcall-hotline", agent="hc-07", agent_name="Raymond Chow"),
    ]
    result = ingest(numbered(rows), actor=None, via="test")
    assert Ticket.objects.get(external_id="T-in").vendor_id is None
    outsourced = Ticket.objects.get(external_id="T-out")
    assert outsourced.vendor_id == vendor.pk
    agent = Agent.objects.get(external_id="hc-07")
    assert (agent.name, agent.vendor_id) == ("Raymond Chow", vendor.pk)
    assert agent.team is not None and agent.team.code == "harbourcall-hotline"
    assert outsourced.agent == agent
    assert result.agents_created == 2


def test_events_out_of_order_are_accepted_and_ordered_by_time(teams):
    rows = list(reversed(conversation()))
    result = ingest(numbered(rows), actor=None, via="test")
    assert result.errors == []
    ticket = Ticket.objects.get(external_id="T-1")
    assert ticket.status == Ticket.Status.RESOLVED
    kinds = list(
        TicketEvent.objects.filter(ticket=ticket).order_by("occurred_at").values_list("kind", flat=True)
    )
    assert kinds[0] == "created" and kinds[-1] == "resolved"
    # The ticket's fields come from its newest row, wherever it stood in the file.
    assert ticket.subject == "Order T-1 arrived damaged"


def test_status_assigned_and_internal_events_keep_their_agent(teams):
    rows = [
        event("T-4", "e1", "created", "2026-10-05T09:00:00"),
        event("T-4", "e2", "assigned", "2026-10-05T09:01:00", event_agent="a-02"),
        event("T-4", "e3", "status_change", "2026-10-05T09:02:00", status="on_hold", event_agent="a-02"),
    ]
    ingest(numbered(rows), actor=None, via="test")
    ticket = Ticket.objects.get(external_id="T-4")
    assert ticket.status == Ticket.Status.ON_HOLD
    assigned = TicketEvent.objects.get(ticket=ticket, external_id="e2")
    assert assigned.agent is not None and assigned.agent.external_id == "a-02"
