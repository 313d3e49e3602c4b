# mypy: disable-error-code="arg-type, misc, union-attr, operator, comparison-overlap"
"""A small, hand-computed dataset for the service KPI tests (March 2026, Hong Kong time).

Agent Alice (in-house, team Hong Kong Island) has five counted tickets filed in March, plus a
merged and a spam ticket that must never count, and one ticket from February still open:

| ticket | first response (business) | resolved            | reopened | replies | SLA first response |
|--------|---------------------------|---------------------|----------|---------|--------------------|
| a1     | 10                        | 10 Mar (120 min)    | no       | 1       | met                |
| a2     | 20                        | 2 Apr (600 min)     | yes      | 1       | met                |
| a3     | 30                        | 20 Mar (300 min)    | no       | 2       | breached           |
| a4     | 40                        | —                   | no       | 1       | running            |
| a5     | —                         | —                   | no       | 0       | —                  |

First response: median 25, p90 37 (30 + 0.7 × 10), mean 25. Resolved tickets a1–a3: reopen
rate 1/3, one-touch 1/3 (only a1). SLA first response 2 met of 3 judged: 66.67 %. Backlog at the
end of March: a2 (resolved in April), a4, a5 and the February ticket = 4. Volume 5.
Agent Bob (Harbour Call, team Outsourced) has two tickets: first responses 100 and 200 → median
150; Bob also replied on a1.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.contenttypes.models import ContentType

from accounts.models import User
from core.testing.factories import UserFactory
from kpis.engine import subject_ref
from kpis.models import Subject
from kpis.registry import SubjectRef
from service.models import Agent, SlaTarget, Team, Ticket, TicketEvent, TicketSla
from vendors.models import Vendor

HK = ZoneInfo("Asia/Hong_Kong")
MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)


def at(day: int, month: int = 3, hour: int = 10) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=HK)


@dataclass
class Data:
    alice: Agent
    bob: Agent
    island: Team
    outsourced: Team
    vendor: Vendor
    alice_user: User
    bob_user: User
    tickets: dict[str, Ticket]

    def subjects(self) -> dict[str, SubjectRef]:
        agent = Subject.objects.create(kind="agent", label="Alice", user=self.alice_user)
        bob = Subject.objects.create(kind="agent", label="Bob", user=self.bob_user)
        team = Subject.objects.create(
            kind="team",
            label="Island",
            content_type=ContentType.objects.get_for_model(Team),
            object_id=self.island.pk,
        )
        vendor = Subject.objects.create(kind="vendor", label="Harbour Call", vendor=self.vendor)
        idle_user = UserFactory(username="idle.agent")
        idle = Subject.objects.create(kind="agent", label="Idle", user=idle_user)
        Agent.objects.create(external_id="idle", name="Idle", user=idle_user)
        return {
            k: subject_ref(v)
            for k, v in {"alice": agent, "bob": bob, "team": team, "vendor": vendor, "idle": idle}.items()
        }


def ticket(agent: Agent, external_id: str, **fields: Any) -> Ticket:
    fields.setdefault("opened_at", at(5))
    return Ticket.objects.create(
        external_id=external_id,
        agent=agent,
        team=agent.team,
        vendor=agent.vendor,
        subject=f"Order {external_id}",
        **fields,
    )


def sla(t: Ticket, target: str, met: bool | None, minutes: int | None = None) -> None:
    TicketSla.objects.create(ticket=t, target=target, target_minutes=60, met=met, business_minutes=minutes)


def build(vendor: Vendor) -> Data:
    island = Team.objects.create(code="island", name="Hong Kong Island")
    outsourced = Team.objects.create(code="outsourced", name="Outsourced", vendor=vendor)
    alice_user, bob_user = UserFactory(username="alice.agent"), UserFactory(username="bob.agent")
    alice = Agent.objects.create(external_id="alice", name="Alice Chan", team=island, user=alice_user)
    bob = Agent.objects.create(
        external_id="bob", name="Bob Wong", team=outsourced, vendor=vendor, user=bob_user
    )
    t: dict[str, Ticket] = {}
    t["a1"] = ticket(
        alice,
        "a1",
        first_response_business_minutes=10,
        first_response_calendar_minutes=15,
        first_resolved_at=at(10),
        resolved_at=at(10),
        resolution_business_minutes=120,
        resolution_calendar_minutes=200,
        first_resolution_business_minutes=120,
        agent_reply_count=1,
        channel="email",
        priority="high",
        status="resolved",
    )
    t["a2"] = ticket(
        alice,
        "a2",
        first_response_business_minutes=20,
        first_response_calendar_minutes=25,
        first_resolved_at=at(12),
        resolved_at=at(2, 4),
        resolution_business_minutes=600,
        resolution_calendar_minutes=900,
        first_resolution_business_minutes=60,
        reopen_count=1,
        agent_reply_count=1,
        channel="chat",
        status="resolved",
    )
    t["a3"] = ticket(
        alice,
        "a3",
        first_response_business_minutes=30,
        first_response_calendar_minutes=35,
        first_resolved_at=at(20),
        resolved_at=at(20),
        resolution_business_minutes=300,
        resolution_calendar_minutes=400,
        first_resolution_business_minutes=300,
        agent_reply_count=2,
        status="resolved",
    )
    t["a4"] = ticket(
        alice,
        "a4",
        first_response_business_minutes=40,
        first_response_calendar_minutes=45,
        agent_reply_count=1,
        status="open",
    )
    t["a5"] = ticket(alice, "a5", status="new")
    t["merged"] = ticket(alice, "merged", first_response_business_minutes=1000, is_merged=True)
    t["spam"] = ticket(alice, "spam", first_response_business_minutes=1000, is_spam=True)
    t["feb"] = ticket(alice, "feb", opened_at=at(20, 2), status="open")
    t["b1"] = ticket(
        bob,
        "b1",
        first_response_business_minutes=100,
        first_response_calendar_minutes=100,
        agent_reply_count=1,
        channel="email",
    )
    t["b2"] = ticket(
        bob,
        "b2",
        first_response_business_minutes=200,
        first_response_calendar_minutes=200,
        agent_reply_count=1,
        channel="email",
    )
    sla(t["a1"], SlaTarget.FIRST_RESPONSE, True, 10)
    sla(t["a2"], SlaTarget.FIRST_RESPONSE, True, 20)
    sla(t["a3"], SlaTarget.FIRST_RESPONSE, False, 30)
    sla(t["a4"], SlaTarget.FIRST_RESPONSE, None)
    sla(t["a1"], SlaTarget.NEXT_RESPONSE, True, 30)
    sla(t["a2"], SlaTarget.NEXT_RESPONSE, False, 90)
    sla(t["spam"], SlaTarget.FIRST_RESPONSE, False, 1000)
    for n, (tk, who) in enumerate([(t["a1"], alice), (t["a1"], bob), (t["a1"], bob), (t["b1"], bob)]):
        TicketEvent.objects.create(
            ticket=tk,
            external_id=f"r{n}",
            kind=TicketEvent.Kind.AGENT_REPLY,
            occurred_at=at(6, hour=10 + n),
            agent=who,
        )
    return Data(alice, bob, island, outsourced, vendor, alice_user, bob_user, t)
