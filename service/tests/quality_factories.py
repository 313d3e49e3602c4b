# mypy: disable-error-code="attr-defined, misc"
"""Factories for the service-quality tests: teams, agents, customers and resolved tickets."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import factory

from accounts.models import User
from core.testing.factories import UserFactory
from customers.models import Customer
from kpis import registry
from kpis.registry import RegisteredMeasure
from service.models import Agent, Team, Ticket

RESOLVED = datetime(2026, 10, 14, 4, 0, tzinfo=UTC)  # 14 Oct 2026, 12:00 in Hong Kong


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"team-{n}")
    name = factory.Sequence(lambda n: f"Team {n}")


class AgentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Agent

    external_id = factory.Sequence(lambda n: f"agent-{n}")
    name = factory.Sequence(lambda n: f"Agent {n}")
    team = factory.SubFactory(TeamFactory)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    external_id = factory.Sequence(lambda n: f"cust-{n}")
    given_name = "Tai Man"
    family_name = "Chan"
    email = factory.Sequence(lambda n: f"customer{n}@example.hk")


class TicketFactory(factory.django.DjangoModelFactory):
    """A resolved ticket with a customer who has an e-mail address."""

    class Meta:
        model = Ticket

    external_id = factory.Sequence(lambda n: f"T{n}")
    subject = "Parcel not delivered"
    status = Ticket.Status.RESOLVED
    customer = factory.SubFactory(CustomerFactory)
    agent = factory.SubFactory(AgentFactory)
    team = factory.LazyAttribute(lambda t: t.agent.team if t.agent else None)
    vendor = factory.LazyAttribute(lambda t: t.agent.vendor if t.agent else None)
    opened_at = factory.LazyAttribute(lambda t: (t.resolved_at or RESOLVED).replace(hour=1))
    resolved_at = RESOLVED
    first_resolved_at = factory.LazyAttribute(lambda t: t.resolved_at)


def make_ticket(**kwargs: Any) -> Ticket:
    """A resolved ticket (typed for mypy: factory_boy's call is not)."""
    ticket: Any = TicketFactory(**kwargs)
    return ticket  # type: ignore[no-any-return]


def make_user(**kwargs: Any) -> User:
    user: Any = UserFactory(**kwargs)
    return user  # type: ignore[no-any-return]


def measure(code: str) -> RegisteredMeasure:
    """The registered measure CODE; fails the test when it is missing."""
    entry = registry.get(code)
    assert entry is not None, f"measure {code} is not registered"
    return entry
