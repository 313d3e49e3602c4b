"""KPI reviews: scheduled, with trend and distribution.

The reviewer records keep / adjust target / redefine / retire with a rationale."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from kpis import selectors, services, tasks
from kpis.models import KpiDefinition, KpiReview
from kpis.services import LineSpec

from .conftest import LAST_MONTH, TODAY, make_kpi, make_measure, submit_value

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def reviewed(cs_manager, second_manager, vendor_subject):
    measure = make_measure(cs_manager, "csat_pct")
    version = make_kpi(cs_manager, second_manager, "csat", "csat_pct", target="95", weight="100")
    card = services.scorecard_create(
        actor=cs_manager, name="C", subject=vendor_subject, lines=[LineSpec(version.definition, D("100"))]
    )
    submit_value(cs_manager, second_manager, measure, vendor_subject, "92")
    services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=TODAY)
    definition = KpiDefinition.objects.get(pk=version.definition_id)
    assert definition.next_review_on is not None  # set when version 1 was approved
    tasks.schedule_kpi_reviews(today=definition.next_review_on.isoformat())
    return KpiReview.objects.get(definition=definition)


def test_a_review_opens_when_due_and_only_once(reviewed):
    assert reviewed.status == "due"
    tasks.schedule_kpi_reviews(today=reviewed.due_on.isoformat())
    assert KpiReview.objects.count() == 1


def test_the_reviewer_sees_trend_attainment_and_distribution(reviewed, cs_manager):
    figures = selectors.kpi_figures(user=cs_manager, definition=reviewed.definition, today=TODAY)
    assert figures["trend"] == [
        {"start": "2025-05-01", "mean_value": "92.00", "mean_attainment": "60.00", "subjects": 1, "met": 0}
    ]
    assert figures["distribution"] == {"Near": 1} and figures["attainment_pct"] == "0.0"


def test_adjusting_the_target_becomes_a_new_version_with_the_rationale(reviewed, cs_manager):
    bands = [
        {"label": "Missed", "lower": None, "upper": "90", "score": "0"},
        {"label": "Met", "lower": "90", "upper": None, "score": "100", "is_target": True},
    ]
    with pytest.raises(ValidationError, match="Record why"):
        services.review_decide(
            actor=cs_manager,
            review=reviewed,
            decision="adjust_target",
            rationale=" ",
            changes={"target": D("90"), "bands": bands},
        )
    services.review_decide(
        actor=cs_manager,
        review=reviewed,
        decision="adjust_target",
        rationale="95% was never reached by anyone.",
        changes={"target": D("90"), "bands": bands},
    )
    reviewed.refresh_from_db()
    assert (reviewed.status, reviewed.decision) == ("done", "adjust_target")
    assert reviewed.new_version.number == 2 and reviewed.new_version.status == "draft"
    assert reviewed.new_version.reason == "KPI review: 95% was never reached by anyone."


def test_retiring_keeps_history_and_blocks_new_scorecards(reviewed, cs_manager, vendor_subject):
    services.review_decide(actor=cs_manager, review=reviewed, decision="retire", rationale="Replaced by NPS.")
    definition = KpiDefinition.objects.get(pk=reviewed.definition_id)
    assert definition.retired_at is not None and definition.results.exists()
    with pytest.raises(ValidationError, match="retired"):
        services.scorecard_create(
            actor=cs_manager, name="New", subject=vendor_subject, lines=[LineSpec(definition, D("100"))]
        )


def test_improvement_plans_are_answered_by_the_vendor_and_accepted_by_someone_else(
    cs_manager, second_manager, portal_user, vendor_subject
):
    from kpis.models import ImprovementPlan

    measure = make_measure(cs_manager, "uptime_pct")
    version = make_kpi(cs_manager, second_manager, "uptime", "uptime_pct", weight="100")
    scheme = services.standing_scheme_create(
        actor=cs_manager,
        name="S",
        standings=[
            {
                "name": "Low",
                "colour": "#cf222e",
                "lower": "0",
                "upper": "50",
                "require_improvement_plan": True,
            },
            {"name": "OK", "colour": "#1a7f37", "lower": "50", "upper": "100"},
        ],
    )
    card = services.scorecard_create(
        actor=cs_manager,
        name="U",
        subject=vendor_subject,
        standing_scheme=scheme,
        lines=[LineSpec(version.definition, D("100"))],
    )
    submit_value(cs_manager, second_manager, measure, vendor_subject, "80")
    period = services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=date(2025, 6, 2))
    plan = ImprovementPlan.objects.get(period=period)
    assert selectors.improvement_plan_list(user=portal_user).get() == plan
    services.improvement_plan_submit(
        actor=portal_user, plan=plan, text="Two more agents on the evening shift."
    )
    services.improvement_plan_accept(actor=cs_manager, plan=plan)
    plan.refresh_from_db()
    assert (plan.status, plan.submitted_by, plan.accepted_by) == ("accepted", portal_user, cs_manager)
