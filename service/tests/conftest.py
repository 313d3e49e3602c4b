"""Fixtures for the service-quality tests: the CS manager, agents with logins, a rubric, surveys."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from core.testing.factories import UserFactory
from service import qa, surveys
from service.tests.quality_factories import AgentFactory, TeamFactory


@pytest.fixture
def cs_manager():
    return UserFactory(username="mandy", roles=["cs_manager"])


@pytest.fixture
def second_manager():
    """Another CS manager: resolves disputes of reviews `cs_manager` wrote."""
    return UserFactory(username="marco", roles=["cs_manager"])


@pytest.fixture
def agent_user():
    return UserFactory(username="kelvin", roles=["cs_agent"])


@pytest.fixture
def other_agent_user():
    return UserFactory(username="karen", roles=["cs_agent"])


@pytest.fixture
def team():
    return TeamFactory(code="hk-care", name="Hong Kong Customer Care")


@pytest.fixture
def agent(agent_user, team):
    return AgentFactory(external_id="kelvin.ho", name="Kelvin Ho", user=agent_user, team=team)


@pytest.fixture
def other_agent(other_agent_user, team):
    return AgentFactory(external_id="karen.chan", name="Karen Chan", user=other_agent_user, team=team)


@pytest.fixture
def vendor_agent(vendor):
    team = TeamFactory(code="harbour", name="Harbour Call", vendor=vendor)
    return AgentFactory(external_id="hc.lee", name="Lee Ka Wai", team=team, vendor=vendor)


def category(name, weight, low=0, high=4, critical=False, pass_mark=Decimal(100)):
    return qa.CategorySpec(
        name=name,
        weight=Decimal(weight),
        scale_min=low,
        scale_max=high,
        critical=critical,
        pass_mark=pass_mark,
    )


@pytest.fixture
def rubric(cs_manager):
    """Courtesy (weight 20, 0–4), Accuracy (30, 1–5, critical, pass 50), Verification (50, 0–1, critical)."""
    return qa.rubric_create(
        actor=cs_manager,
        name="Conversation quality",
        categories=[
            category("Courtesy", "20"),
            category("Accuracy", "30", 1, 5, critical=True, pass_mark=Decimal(50)),
            category("Verification", "50", 0, 1, critical=True),
        ],
    )


def invite(ticket):
    """Invite without queuing the e-mail; returns (invitation, token)."""
    invitation = surveys.survey_invite(actor=None, ticket=ticket, send=False)
    return invitation, surveys.survey_token(invitation)


def call(client, method: str, url: str, headers: dict[str, str], body=None):
    """An API call with HEADERS made beforehand (``bearer(user)``), so that issuing the token (an
    audited write) is not counted inside a ``nothing_written`` block."""
    kwargs = {"content_type": "application/json", **headers}
    if body is not None:
        kwargs["data"] = json.dumps(body, default=str)
    return getattr(client, method.lower())(url, **kwargs)
