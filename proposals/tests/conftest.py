"""Shared set-up for the proposals tests: CRM staff, a panel, two invited vendors and a call."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.testing.factories import UserFactory, VendorFactory
from proposals import services
from proposals.models import Objective

SECTIONS = {
    "objectives": "Lift repeat purchase among lapsed members.",
    "segments": "Members with no order in 6 months, Kowloon and New Territories.",
    "initiatives": "WhatsApp win-back journeys; a points booster week.",
    "kpis": "Repeat purchase rate from 18% to 24%.",
    "cost": "HK$380,000 set-up, HK$40,000 a month.",
    "data": "Order history (12 months), consented WhatsApp numbers.",
    "timeline": "Pilot in Q1, roll-out in Q2.",
    "risks": "Opt-out handling under PDPO Part 6A; message fatigue.",
}


def components(prefix: str = "") -> list[dict]:
    return [
        {
            "key": "winback",
            "title": f"{prefix}WhatsApp win-back journey",
            "objective": "retention",
            "kpi": "Repeat purchase rate",
            "baseline": "18",
            "target": "24",
            "cost": "380000",
            "expected_benefit": "900000",
        },
        {
            "key": "booster",
            "title": f"{prefix}Points booster week",
            "objective": "retention",
            "cost": "120000",
        },
        {
            "key": "survey",
            "title": f"{prefix}Post-delivery feedback survey",
            "objective": "service",
            "cost": "30000",
        },
    ]


@pytest.fixture
def crm():
    return UserFactory(username="crystal", roles=["crm_staff"], email="crystal@steward.hk")


@pytest.fixture
def panelist():
    return UserFactory(username="carol", roles=["cs_manager"])


@pytest.fixture
def marketer():
    return UserFactory(username="mandy", roles=["marketing"])


@pytest.fixture
def vendor_b_user(other_vendor):
    """The second invited vendor's portal user (the `outsider` persona is this vendor's too)."""
    return UserFactory(username="bobby", roles=["vendor_portal"], vendor=other_vendor)


@pytest.fixture
def stranger():
    third = VendorFactory(code="tsuen-wan-logistics", name="Tsuen Wan Logistics Ltd")
    return UserFactory(username="sam", roles=["vendor_portal"], vendor=third)


@pytest.fixture
def objectives(crm):
    return [
        services.objective_create(actor=crm, code="retention", title="Keep members buying"),
        services.objective_create(actor=crm, code="service", title="Faster, friendlier service"),
        services.objective_create(actor=crm, code="acquisition", title="Win new online customers"),
    ]


@pytest.fixture
def call(crm, vendor, other_vendor, objectives):
    created = services.call_create(
        actor=crm,
        title="Member retention strategy 2027",
        objectives="Raise repeat purchases; keep opt-outs honoured.",
        required_sections=["objectives", "segments", "kpis", "cost", "data"],
        deadline=timezone.now() + timedelta(days=14),
        vendors=[vendor, other_vendor],
    )
    return services.call_set_status(actor=crm, call=created, status="open")


@pytest.fixture
def submitted(call, portal_user, vendor_b_user):
    """Both vendors submitted version 1."""
    out = []
    for user, prefix in ((portal_user, ""), (vendor_b_user, "Kowloon ")):
        draft = services.proposal_save_draft(
            actor=user, call=call, sections=SECTIONS, components=components(prefix)
        )
        out.append(services.proposal_submit(actor=user, proposal=draft.proposal).proposal)
    return out


@pytest.fixture
def panel(call, crm, panelist, marketer):
    members = [services.panel_add(actor=crm, call=call, user=u) for u in (crm, panelist, marketer)]
    return members


def full_scores(value: int) -> dict[str, int]:
    return dict.fromkeys(["effectiveness", "compatibility", "cost", "risk", "privacy", "feasibility"], value)


__all__ = ["SECTIONS", "components", "full_scores", "Objective"]
