"""Choosing partners (weighted criteria, prequalification score) and the compatibility view."""

from __future__ import annotations

from decimal import Decimal

import pytest

from core.testing.personas import api_call
from proposals import selectors, services

pytestmark = pytest.mark.django_db


def test_a_prequalification_score_is_the_weighted_share_of_full_marks(client, crm, vendor):
    criteria = [
        {"key": "experience", "label": "HK e-commerce experience", "weight": 40},
        {"key": "security", "label": "Information security", "weight": 35},
        {"key": "price", "label": "Price", "weight": 25},
    ]
    created = api_call(
        client,
        "post",
        "/api/v1/proposals/criteria-sets",
        crm,
        {"name": "CS partners", "category": "customer_service", "criteria": criteria},
    )
    assert created.status_code == 201
    response = api_call(
        client,
        "post",
        "/api/v1/proposals/prequalifications",
        crm,
        {
            "vendor_id": vendor.pk,
            "criteria_set_id": created.json()["id"],
            "scores": {"experience": 5, "security": 3, "price": 2},
        },
    )
    # (40×5 + 35×3 + 25×2) ÷ 5 = 71
    assert response.status_code == 201 and Decimal(response.json()["score"]) == Decimal("71.0")


def test_a_score_above_five_or_a_missing_criterion_is_refused(crm, vendor):
    criteria_set = services.criteria_set_create(
        actor=crm, name="IT", category="it", criteria=[{"key": "a", "label": "A", "weight": 100}]
    )
    for scores in ({"a": 6}, {}, {"a": 3, "b": 1}):
        with pytest.raises(Exception, match="0–5|Score|Not criteria"):
            services.vendor_prequalify(actor=crm, vendor=vendor, criteria_set=criteria_set, scores=scores)


def test_compatibility_flags_duplicates_conflicts_and_gaps(crm, submitted, objectives, call):
    services.initiative_create(
        actor=crm,
        objective=objectives[0],
        title="WhatsApp win-back journeys",
        kpi="Repeat purchase rate",
        target=Decimal(20),
    )
    view = selectors.compatibility(user=crm, call=call)
    winback = next(
        r for r in view.rows if r.component["key"] == "winback" and r.vendor == "Harbour Call Centre Ltd"
    )
    assert any("current initiative" in d for d in winback.duplicates)
    assert any("Kowloon" in d for d in winback.duplicates)
    assert any("already targeted at 20" in c for c in winback.conflicts)
    assert [o.code for o in view.gaps] == ["acquisition"]


def test_the_diff_pairs_lines_side_by_side(submitted, portal_user, call, crm):
    from proposals.tests.conftest import SECTIONS, components

    proposal = submitted[0]
    cr = services.change_request_create(
        actor=crm, proposal=proposal, section="timeline", request="Earlier pilot?"
    )
    services.proposal_save_draft(
        actor=portal_user,
        call=call,
        sections={**SECTIONS, "timeline": "Pilot in December."},
        components=components()[:2],
    )
    v2 = services.proposal_submit(actor=portal_user, proposal=proposal, responses={cr.pk: "Moved."})
    diff = {d.label: d for d in selectors.version_diff(proposal.versions.get(number=1), v2)}
    timeline = diff["Timeline"]
    assert timeline.changed and (timeline.lines[0].left, timeline.lines[0].right) == (
        "Pilot in Q1, roll-out in Q2.",
        "Pilot in December.",
    )
    assert not diff["Objectives"].changed
    removed = [line for line in diff["Components"].lines if line.tag == "delete"]
    assert removed and removed[0].left.startswith("[survey]")
