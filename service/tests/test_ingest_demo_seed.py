"""The demo seed: in-house and Harbour Call teams, ~20 agents, 1,500 tickets over three closed months."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db.models import Max, Min

from core.testing.factories import UserFactory
from service import demo
from service.models import Agent, Team, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def test_the_seed_builds_realistic_tickets_through_the_ingest_path(vendor):
    UserFactory(username="cs.agent", roles=["cs_agent"])
    assert demo.seed_tickets(today=date(2026, 11, 23)) is True
    assert Team.objects.count() == 3
    assert Team.objects.get(code="harbourcall-hotline").vendor == vendor
    assert 18 <= Agent.objects.count() <= 22
    assert Agent.objects.get(user__username="cs.agent").name == "Kelvin Ho"
    assert Ticket.objects.count() == 1500
    span = Ticket.objects.aggregate(first=Min("opened_at"), last=Max("opened_at"))
    assert span["first"] >= datetime(2026, 7, 31, 16, 0, tzinfo=UTC)  # 1 Aug HKT
    assert span["last"] < datetime(2026, 10, 31, 16, 0, tzinfo=UTC)  # before 1 Nov HKT
    assert Ticket.objects.filter(vendor=vendor).count() > 300
    assert Ticket.objects.filter(vendor__isnull=True).count() > 900
    kinds = set(TicketEvent.objects.values_list("kind", flat=True))
    assert kinds == set(TicketEvent.Kind.values)
    assert Ticket.objects.filter(status="resolved").count() > 1200
    assert Ticket.objects.filter(reopen_count__gt=0).exists()
    assert demo.seed_tickets(today=date(2026, 11, 23)) is False
