"""Cooperation-strategy reviews (issue 5 item 8, seed 000 §3 "regularly review the cooperation
strategy"): Celery beat schedules a quarterly business review and an annual strategy review for each
contract in force; the review page assembles the score trend, credits and bonuses, obligations
missed, open actions, ideas and their outcomes, and cost against value; the decision (continue /
expand / renegotiate / improvement plan / exit) is recorded with its rationale, follow-up actions
and, for an improvement plan, the plan with its milestones; "exit" moves the vendor to exiting."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from kpis.models import Adjustment, ScorecardPeriod
from vendors import cooperation, services, tasks
from vendors import cooperation_selectors as reads
from vendors.models import (
    ActionItem,
    CooperationReview,
    Idea,
    ImprovementMilestone,
    LiaisonEntry,
    ObligationInstance,
    Vendor,
    VendorImprovementPlan,
)
from vendors.tests.conftest import TODAY, call

D = Decimal


@pytest.fixture
def scored_contract(contract, monthly_report, vendor_manager, sla_kpi, portal_user):
    """Harbour Call's contract with a monthly scorecard: six months scored, a credit approved in May and
    a bonus in June, the May report missed, an idea accepted."""
    scorecard = services.contract_scorecard_setup(actor=vendor_manager, contract=contract, today=TODAY)
    scores = {1: "91", 2: "88", 3: "84", 4: "79", 5: "72", 6: "86"}
    periods = {
        month: ScorecardPeriod.objects.create(
            scorecard=scorecard,
            start=date(2025, month, 1),
            end=date(2025, month + 1, 1),
            status="closed",
            score=D(score),
        )
        for month, score in scores.items()
    }
    Adjustment.objects.create(
        period=periods[5],
        kpi=sla_kpi,
        kind="credit",
        computed_amount=D("4000"),
        proposed_amount=D("4000"),
        approved_amount=D("4000"),
        status="approved",
    )
    Adjustment.objects.create(
        period=periods[6],
        kpi=sla_kpi,
        kind="bonus",
        computed_amount=D("1000"),
        proposed_amount=D("1000"),
        approved_amount=D("1000"),
        status="approved",
    )
    Adjustment.objects.create(
        period=periods[2],
        kpi=sla_kpi,
        kind="credit",
        computed_amount=D("9999"),
        proposed_amount=D("9999"),
        approved_amount=D("9999"),
        status="approved",
    )  # February: outside the quarter
    # The report was met in April and June, missed in May.
    ObligationInstance.objects.filter(
        obligation=monthly_report, due_on__in=[date(2025, 4, 5), date(2025, 6, 5)]
    ).update(status="met")
    idea = cooperation.idea_submit(
        actor=portal_user, vendor=contract.vendor, title="Chatbot", description="Order tracking"
    )
    cooperation.idea_decide(actor=vendor_manager, idea=idea, status="accepted")
    Idea.objects.filter(pk=idea.pk).update(created_at=datetime(2025, 5, 20, 2, 0, tzinfo=UTC))
    return contract


@pytest.fixture
def qbr(scored_contract, vendor_manager):
    return cooperation.review_schedule(
        actor=vendor_manager,
        contract=scored_contract,
        kind="quarterly",
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        scheduled_on=date(2025, 7, 14),
    )


def test_beat_schedules_the_quarterly_and_annual_reviews_once(contract):
    assert tasks.schedule_cooperation_reviews("2025-06-10") == 2
    assert tasks.schedule_cooperation_reviews("2025-06-11") == 0
    reviews = {r.kind: r for r in CooperationReview.objects.filter(contract=contract)}
    assert (
        reviews["quarterly"].period_start,
        reviews["quarterly"].period_end,
        reviews["quarterly"].scheduled_on,
    ) == (
        date(2025, 4, 1),
        date(2025, 6, 30),
        date(2025, 7, 14),
    )
    assert (reviews["annual"].period_start, reviews["annual"].scheduled_on) == (
        date(2025, 1, 1),
        date(2026, 1, 31),
    )
    assert tasks.schedule_cooperation_reviews("2025-07-01") == 1  # the third quarter's


def test_the_dossier_assembles_the_quarter(qbr, vendor_manager):
    dossier = reads.review_dossier(user=vendor_manager, review=qbr)
    assert [score for _label, score, _colour in dossier.trend] == [
        D(s) for s in ("91", "88", "84", "79", "72", "86")
    ]
    assert dossier.average_score == D("79.00") and dossier.periods_scored == 3
    assert (dossier.credits, dossier.bonuses) == (D("4000"), D("1000"))
    assert (dossier.fees, dossier.months_in_force) == (D("300000.00"), 3)
    assert dossier.net_cost == D("297000.00")
    assert dossier.compliance is not None and dossier.compliance.missed == 1
    assert [i.due_on for i in dossier.missed] == [date(2025, 5, 5)]
    assert dossier.ideas_by_status == {"accepted": 1}


def test_an_improvement_plan_decision_needs_the_plan_and_writes_nothing_without_it(
    client, qbr, vendor_manager
):
    url = f"/api/v1/vendors/reviews/{qbr.pk}/decide"
    headers = bearer(vendor_manager)
    body = {"decision": "improvement_plan", "rationale": "Scores fell three months running."}
    with nothing_written(
        CooperationReview, LiaisonEntry, ActionItem, VendorImprovementPlan, ImprovementMilestone
    ):
        response = call(client, "post", url, headers, body)
        assert "plan" in error_fields(assert_problem(response, 422, kind="rule"))
        plan: dict[str, Any] = {
            "title": "Recover SLA",
            "objective": "SLA ≥ 90%",
            "due_on": "2027-09-30",
            "milestones": [],
        }
        response = call(client, "post", url, headers, {**body, "plan": plan})
        assert "plan" in error_fields(assert_problem(response, 422, kind="rule"))
    plan["milestones"] = [{"description": "Weekend roster at 95% of plan", "due_on": "2027-08-31"}]
    actions = [{"description": "Send the recovery roster", "owner_party": "vendor", "due_on": "2027-07-31"}]
    response = call(client, "post", url, headers, {**body, "plan": plan, "actions": actions})
    assert response.status_code == 200, response.content
    data = response.json()
    assert (data["status"], data["decision"]) == ("completed", "improvement_plan")
    assert data["figures"]["net_cost"] == "297000.00" and data["dossier"]["credits"] == "4000.00"
    qbr.refresh_from_db()
    assert [a.description for a in qbr.meeting.actions.all()] == ["Send the recovery roster"]
    assert [m.description for m in qbr.improvement_plan.milestones.all()] == ["Weekend roster at 95% of plan"]
    # A closed review is not decided twice.
    again = call(client, "post", url, headers, {"decision": "continue", "rationale": "Again."})
    assert_problem(again, 422, kind="rule")


def test_an_exit_decision_moves_the_vendor_to_exiting(qbr, vendor_manager):
    cooperation.review_decide(
        actor=vendor_manager,
        review=qbr,
        decision="exit",
        rationale="Chronic failure; tender in Q4.",
        figures={},
    )
    vendor = Vendor.objects.get(pk=qbr.vendor_id)
    assert vendor.status == "exiting"
    assert vendor.status_changes.get(to_status="exiting").reason.startswith("Cooperation review:")


def test_an_exit_the_lifecycle_forbids_writes_nothing(qbr, vendor_manager):
    Vendor.objects.filter(pk=qbr.vendor_id).update(status="prospect")
    with nothing_written(CooperationReview, LiaisonEntry), pytest.raises(ValidationError):
        cooperation.review_decide(
            actor=vendor_manager, review=qbr, decision="exit", rationale="Stop.", figures={}
        )
    qbr.refresh_from_db()
    assert qbr.status == "scheduled"


def test_milestones_settle_the_plan(qbr, vendor_manager):
    plan = cooperation.PlanSpec(
        title="Recover SLA",
        objective="SLA ≥ 90%",
        due_on=date(2027, 9, 30),
        milestones=[
            cooperation.MilestoneSpec("Roster", date(2027, 8, 1)),
            cooperation.MilestoneSpec("Coaching", date(2027, 9, 1)),
        ],
    )
    cooperation.review_decide(
        actor=vendor_manager,
        review=qbr,
        decision="improvement_plan",
        rationale="Fell.",
        figures={},
        plan=plan,
    )
    first, second = qbr.improvement_plan.milestones.all()
    cooperation.milestone_update(actor=vendor_manager, milestone=first, status="done")
    assert VendorImprovementPlan.objects.get().status == "open"
    cooperation.milestone_update(actor=vendor_manager, milestone=second, status="missed")
    assert VendorImprovementPlan.objects.get().status == "failed"


def test_the_review_page_shows_the_dossier_and_takes_the_decision(client, qbr, vendor_manager):
    client.force_login(vendor_manager)
    html = client.get(f"/vendors/reviews/{qbr.pk}/").content.decode()
    assert "297,000.00" in html and "4,000.00" in html and "<svg" in html and "Chatbot" in html
    response = client.post(
        f"/vendors/reviews/{qbr.pk}/",
        {
            "decision": "improvement_plan",
            "rationale": "Fell.",
            "plan_milestones": "soon Roster",
            **_no_actions(),
        },
    )
    assert response.status_code == 200 and "start with a date" in response.content.decode()
    qbr.refresh_from_db()
    assert qbr.status == "scheduled"
    response = client.post(
        f"/vendors/reviews/{qbr.pk}/",
        {"decision": "continue", "rationale": "Recovered in June.", **_no_actions()},
    )
    assert response.status_code == 302
    qbr.refresh_from_db()
    assert (qbr.status, qbr.decision, qbr.figures["average_score"]) == ("completed", "continue", "79.00")
    assert "Recovered in June." in client.get("/vendors/reviews/").content.decode()


def test_reviews_are_internal(client, qbr, portal_user, outsider, no_role_user):
    for who in (portal_user, outsider, no_role_user):
        assert_outsider_blocked(client, who, "get", "/api/v1/vendors/reviews", secrets=("quarterly",))
        assert_outsider_blocked(client, who, "get", f"/api/v1/vendors/reviews/{qbr.pk}")
        assert_outsider_blocked(
            client,
            who,
            "post",
            f"/api/v1/vendors/reviews/{qbr.pk}/decide",
            body={"decision": "exit", "rationale": "x"},
        )
    client.force_login(portal_user)
    assert client.get(f"/vendors/reviews/{qbr.pk}/").status_code in (403, 404)
    qbr.refresh_from_db()
    assert qbr.status == "scheduled"


def test_scheduling_through_the_api_refuses_a_reversed_period(client, scored_contract, vendor_manager):
    headers = bearer(vendor_manager)
    body = {
        "contract_id": scored_contract.pk,
        "kind": "annual",
        "period_start": "2025-12-31",
        "period_end": "2025-01-01",
        "scheduled_on": "2026-01-31",
    }
    with nothing_written(CooperationReview):
        assert "period_end" in error_fields(
            assert_problem(call(client, "post", "/api/v1/vendors/reviews", headers, body), 422)
        )
    body.update(period_start="2025-01-01", period_end="2025-12-31")
    assert api_call(client, "post", "/api/v1/vendors/reviews", vendor_manager, body).status_code == 201


def _no_actions():
    """The empty action rows as the browser sends them (the owner select keeps its default)."""
    rows = {f"actions-{n}-owner_party": "vendor" for n in range(3)}
    return {
        "actions-TOTAL_FORMS": "3",
        "actions-INITIAL_FORMS": "0",
        "actions-MIN_NUM_FORMS": "0",
        "actions-MAX_NUM_FORMS": "20",
        **rows,
    }


def test_a_review_is_scheduled_from_the_contract_page(client, scored_contract, vendor_manager):
    client.force_login(vendor_manager)
    assert "Schedule a review" in client.get(f"/vendors/contracts/{scored_contract.pk}/").content.decode()
    with nothing_written(CooperationReview):
        response = client.post(
            f"/vendors/contracts/{scored_contract.pk}/reviews/",
            {
                "kind": "annual",
                "period_start": "2025-12-31",
                "period_end": "2025-01-01",
                "scheduled_on": "2026-01-31",
            },
            follow=True,
        )
    assert "A review period ends on or after it starts." in response.content.decode()
    response = client.post(
        f"/vendors/contracts/{scored_contract.pk}/reviews/",
        {
            "kind": "annual",
            "period_start": "2025-01-01",
            "period_end": "2025-12-31",
            "scheduled_on": "2026-01-31",
        },
    )
    review = CooperationReview.objects.get()
    assert response["Location"] == f"/vendors/reviews/{review.pk}/"


def test_the_dossier_lists_the_vendors_proposals_and_their_outcomes(qbr, vendor_manager, other_vendor):
    from proposals.models import Call, ComponentDecision, Invitation, Proposal, ProposalVersion

    def proposal_of(vendor: Vendor, title: str, deadline: datetime) -> Proposal:
        call = Call.objects.create(
            title=title,
            objectives="o",
            required_sections=["objectives"],
            deadline=deadline,
            created_by=vendor_manager,
        )
        Invitation.objects.create(call=call, vendor=vendor)
        return Proposal.objects.create(call=call, vendor=vendor, status=Proposal.Status.DECIDED)

    ours = proposal_of(qbr.vendor, "Peak season 2025", datetime(2025, 5, 15, 4, tzinfo=UTC))
    version = ProposalVersion.objects.create(
        proposal=ours, number=1, submitted_at=datetime(2025, 5, 10, tzinfo=UTC)
    )
    for key, outcome in (("a", "adopt"), ("b", "adopt"), ("c", "reject")):
        ComponentDecision.objects.create(
            proposal=ours,
            version=version,
            component_key=key,
            outcome=outcome,
            reason="r",
            decided_by=vendor_manager,
        )
    proposal_of(qbr.vendor, "Decided long before", datetime(2024, 1, 15, 4, tzinfo=UTC))
    proposal_of(other_vendor, "Another vendor's", datetime(2025, 5, 15, 4, tzinfo=UTC))

    dossier = reads.review_dossier(user=vendor_manager, review=qbr)

    assert dossier.proposals == [
        {
            "id": ours.pk,
            "call": "Peak season 2025",
            "status": "Decided",
            "adopted": 2,
            "adapted": 0,
            "rejected": 1,
        }
    ]
    assert dossier.figures()["proposals"][0]["adopted"] == 2
