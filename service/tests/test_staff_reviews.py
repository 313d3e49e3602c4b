"""Staff reviews (seed 004 §3): KPI scorecard, QA and CSAT with sample sizes and minimums; the engine's
recommendation; the manager's decision with a reason (audited). An agent sees only their own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError

from accounts.models import User
from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from kpis.models import StaffRecommendation, Subject
from kpis.tests.factories import (
    KpiResultFactory,
    ScorecardFactory,
    ScorecardPeriodFactory,
    StaffRecommendationFactory,
)
from service import qa, staff_reviews, surveys
from service.models import QaReview, StaffReview
from service.tests.conftest import call, invite
from service.tests.quality_factories import make_ticket

pytestmark = pytest.mark.django_db
OCT = (date(2026, 10, 1), date(2026, 11, 1))
API = "/api/v1/service/staff-reviews"


def october_for(agent, manager, rubric, *, csat: list[int], qa_picks: list[tuple[int, int, int]]):
    for rating in csat:
        _, token = invite(make_ticket(agent=agent))
        surveys.survey_answer(token=token, csat=rating)
    c = {c.name: c.pk for c in rubric.categories.all()}
    for courtesy, accuracy, verification in qa_picks:
        review = qa.qa_assign(actor=manager, ticket=make_ticket(agent=agent), reviewer=manager, rubric=rubric)
        selections = {
            c["Courtesy"]: qa.Selection(courtesy),
            c["Accuracy"]: qa.Selection(accuracy),
            c["Verification"]: qa.Selection(verification),
        }
        qa.qa_review_submit(actor=manager, review=review, selections=selections)
    QaReview.objects.update(submitted_at=datetime(2026, 10, 20, 3, 0, tzinfo=UTC))


def test_below_the_minimum_sample_nothing_is_judged(cs_manager, rubric, agent):
    october_for(agent, cs_manager, rubric, csat=[1, 1, 2], qa_picks=[(0, 1, 0), (0, 1, 0)])
    review = staff_reviews.staff_review_prepare(actor=cs_manager, agent=agent, start=OCT[0], end=OCT[1])
    qa_figure, csat_figure = review.figures["qa"], review.figures["csat"]
    assert (qa_figure["value"], qa_figure["sample_size"], qa_figure["minimum"], qa_figure["judged"]) == (
        "0.00",
        2,
        3,
        False,
    )
    assert (csat_figure["value"], csat_figure["sample_size"], csat_figure["judged"]) == ("0.00", 3, False)
    assert "not enough data (2 of the 3 needed)" in qa_figure["note"]
    # Terrible figures, but too few of them: never a formal review.
    assert review.recommendation == StaffReview.Recommendation.NO_ACTION
    assert review.recommendation_basis.startswith("Not enough data")


def test_at_the_minimum_the_rule_recommends(cs_manager, rubric, agent, settings):
    settings.STEWARD_STAFF_REVIEW_MIN_QA = 2
    settings.STEWARD_STAFF_REVIEW_MIN_CSAT = 4
    october_for(agent, cs_manager, rubric, csat=[5, 5, 4, 2], qa_picks=[(3, 4, 1), (4, 4, 1)])
    review = staff_reviews.staff_review_prepare(actor=cs_manager, agent=agent, start=OCT[0], end=OCT[1])
    assert review.figures["qa"]["value"] == "90.00" and review.figures["qa"]["judged"]
    assert review.figures["csat"]["value"] == "75.00" and review.figures["csat"]["judged"]
    assert review.recommendation == StaffReview.Recommendation.COACHING  # CSAT 75 is below 80
    assert review.recommendation_source == "rule"
    assert review.figures["scorecard"] is None


def test_the_scorecard_recommendation_is_used_and_decided_with_the_review(cs_manager, second_manager, agent):
    subject = Subject.objects.create(kind="agent", label=agent.name, user=agent.user)
    period = ScorecardPeriodFactory(scorecard=ScorecardFactory(subject=subject), start=OCT[0], end=OCT[1])
    KpiResultFactory(period=period, sample_size=12)
    engine: Any = StaffRecommendationFactory(
        period=period, proposed="coaching", basis="Score 60 is in “Watch”."
    )
    review = staff_reviews.staff_review_prepare(actor=cs_manager, agent=agent, start=OCT[0], end=OCT[1])
    assert (review.recommendation, review.recommendation_source) == ("coaching", "kpis_scorecard")
    assert review.figures["scorecard"]["score"] == "60.00"
    assert review.figures["scorecard"]["results"][0]["sample_size"] == 12

    decided = staff_reviews.staff_review_decide(
        actor=second_manager, review=review, decision="no_action", reason="First month on a new queue."
    )
    assert (decided.status, decided.decision, decided.decided_by) == ("decided", "no_action", second_manager)
    engine.refresh_from_db()
    assert (engine.status, engine.final) == (StaffRecommendation.Status.OVERRIDDEN, "no_action")
    trail = AuditEvent.objects.filter(object_type="service.staffreview", object_id=str(review.pk)).first()
    assert trail is not None
    assert trail.actor_id == second_manager.pk
    assert trail.changes["after"]["decision_reason"] == "First month on a new queue."


def test_a_decision_needs_a_reason_and_is_taken_once(client, cs_manager, agent):
    review = staff_reviews.staff_review_prepare(actor=cs_manager, agent=agent, start=OCT[0], end=OCT[1])
    headers = bearer(cs_manager)
    with nothing_written(StaffReview):
        blank = call(
            client, "post", f"{API}/{review.pk}/decide", headers, {"decision": "reward", "reason": " "}
        )
    assert "reason" in error_fields(assert_problem(blank, 422))
    bad = call(client, "post", f"{API}/{review.pk}/decide", headers, {"decision": "bonus", "reason": "x"})
    assert "decision" in error_fields(assert_problem(bad, 422, kind="validation"))
    ok = call(
        client, "post", f"{API}/{review.pk}/decide", headers, {"decision": "no_action", "reason": "Steady."}
    )
    assert ok.status_code == 200 and ok.json()["status"] == "decided"
    again = call(
        client, "post", f"{API}/{review.pk}/decide", headers, {"decision": "reward", "reason": "More."}
    )
    assert_problem(again, 422, kind="rule")
    with pytest.raises(ValidationError):
        staff_reviews.staff_review_prepare(actor=cs_manager, agent=agent, start=OCT[0], end=OCT[1])


def test_nobody_decides_their_own_review(cs_manager, agent, agent_user):
    review = staff_reviews.staff_review_prepare(actor=cs_manager, agent=agent, start=OCT[0], end=OCT[1])
    agent_user.groups.add(*Group.objects.filter(name="cs_manager"))  # a team lead who also answers tickets
    lead = User.objects.get(pk=agent_user.pk)
    with nothing_written(StaffReview), pytest.raises(PermissionDenied):
        staff_reviews.staff_review_decide(actor=lead, review=review, decision="reward", reason="Me!")


def test_an_agent_sees_their_own_decided_review_and_nothing_of_others(
    client, cs_manager, agent, other_agent, agent_user, other_agent_user, outsider, no_role_user
):
    mine = staff_reviews.staff_review_prepare(actor=cs_manager, agent=agent, start=OCT[0], end=OCT[1])
    theirs = staff_reviews.staff_review_prepare(actor=cs_manager, agent=other_agent, start=OCT[0], end=OCT[1])
    assert api_call(client, "get", API, agent_user).json()["items"] == []  # not yet decided
    for review in (mine, theirs):
        staff_reviews.staff_review_decide(
            actor=cs_manager, review=review, decision="no_action", reason="Fine."
        )
    listed = api_call(client, "get", API, agent_user).json()["items"]
    assert [r["id"] for r in listed] == [mine.pk]
    assert api_call(client, "get", f"{API}/{mine.pk}", agent_user).status_code == 200
    assert_problem(api_call(client, "get", f"{API}/{theirs.pk}", agent_user), 404)
    assert client.get(f"/service/quality/staff/{theirs.pk}/").status_code == 302  # signed out: to the login
    client.force_login(agent_user)
    assert client.get(f"/service/quality/staff/{mine.pk}/").status_code == 200
    page = client.get(f"/service/quality/staff/{theirs.pk}/")
    assert page.status_code == 404 and "Karen Chan" not in page.content.decode()
    client.force_login(other_agent_user)
    assert "Kelvin Ho" not in client.get("/service/quality/staff/").content.decode()
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "get", API, secrets=("Kelvin Ho",))
        assert_outsider_blocked(client, person, "get", f"{API}/{mine.pk}", secrets=("Kelvin Ho",))


def test_an_agent_cannot_prepare_or_decide(client, cs_manager, agent, other_agent, agent_user):
    review = staff_reviews.staff_review_prepare(actor=cs_manager, agent=other_agent, start=OCT[0], end=OCT[1])
    refused = api_call(client, "post", API, agent_user, {"agent_id": other_agent.pk, "month": "2026-10"})
    assert refused.status_code in (403, 404)
    decide = api_call(
        client, "post", f"{API}/{review.pk}/decide", agent_user, {"decision": "reward", "reason": "x"}
    )
    assert decide.status_code in (403, 404)
    review.refresh_from_db()
    assert review.status == StaffReview.Status.PROPOSED


def test_prepare_through_the_api_and_bad_months(client, cs_manager, agent):
    headers = bearer(cs_manager)
    with nothing_written(StaffReview):
        bad = call(client, "post", API, headers, {"agent_id": agent.pk, "month": "2026-13"})
    assert "month" in error_fields(assert_problem(bad, 422, kind="validation"))
    with nothing_written(StaffReview):
        future = call(client, "post", API, headers, {"agent_id": agent.pk, "month": "2999-01"})
    assert_problem(future, 422, kind="rule")
    created = call(client, "post", API, headers, {"agent_id": agent.pk, "month": "2026-10"})
    assert created.status_code == 201, created.content
    assert created.json()["figures"]["qa"]["minimum"] == 3
