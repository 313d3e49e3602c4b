"""Periods close on a schedule, set-based: one query per measure however many scorecards close."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.testing.factories import VendorFactory
from kpis import registry, services, tasks
from kpis.models import (
    ImprovementPlan,
    KpiResult,
    MeasureValue,
    Scorecard,
    ScorecardPeriod,
    StaffRecommendation,
    Subject,
)
from kpis.services import LineSpec
from vendors.models import Vendor

from .conftest import LAST_MONTH, LAST_MONTH_END, TODAY, make_kpi, make_measure, submit_value

pytestmark = pytest.mark.django_db
D = Decimal

STANDINGS: list[dict[str, Any]] = [
    {
        "name": "At risk",
        "colour": "#cf222e",
        "lower": "0",
        "upper": "60",
        "notify_roles": ["vendor_manager"],
        "require_improvement_plan": True,
        "staff_recommendation": "coaching",
    },
    {"name": "Fair", "colour": "#9a6700", "lower": "60", "upper": "80", "staff_recommendation": "no_action"},
    {
        "name": "Excellent",
        "colour": "#1a7f37",
        "lower": "80",
        "upper": "100",
        "staff_recommendation": "reward",
    },
]


@pytest.fixture
def kit(cs_manager, second_manager):
    """Two KPIs: one over a submitted measure, one over the built-in computed measure."""
    quality = make_measure(cs_manager, "quality_pct")
    v_quality = make_kpi(cs_manager, second_manager, "quality", "quality_pct", target="95", weight="50")
    v_count = make_kpi(
        cs_manager,
        second_manager,
        "reporting",
        "approved_submissions",
        target="1",
        weight="50",
        unit="count",
        bands=[
            {"label": "None", "lower": None, "upper": "1", "score": "0"},
            {"label": "Reported", "lower": "1", "upper": None, "score": "100", "is_target": True},
        ],
    )
    scheme = services.standing_scheme_create(actor=cs_manager, name="Default", standings=STANDINGS)
    return {"quality": quality, "kpis": [v_quality.definition, v_count.definition], "scheme": scheme}


def make_scorecards(n, kit, actor, *, prefix):
    cards = []
    for i in range(n):
        vendor: Any = VendorFactory(code=f"{prefix}-{i}")
        subject = services.subject_create(
            actor=actor, kind=Subject.Kind.VENDOR, label=vendor.name, vendor=vendor
        )
        card = services.scorecard_create(
            actor=actor,
            name=f"{prefix} {i}",
            subject=subject,
            standing_scheme=kit["scheme"],
            lines=[
                LineSpec(kit["kpis"][0], D("50"), critical=True, allocation_pct=D("100")),
                LineSpec(kit["kpis"][1], D("50")),
            ],
        )
        services.credit_terms_set(actor=actor, scorecard=card, monthly_fee=D("50000"), at_risk_pct=D("10"))
        cards.append(card)
    return cards


def close_and_count(cards):
    with CaptureQueriesContext(connection) as queries:
        services.periods_compute(actor=None, scorecards=cards, start=LAST_MONTH, close=True, today=TODAY)
    return len(queries)


def test_query_count_does_not_grow_with_the_number_of_scorecards(kit, cs_manager, second_manager):
    small = make_scorecards(2, kit, cs_manager, prefix="small")
    large = make_scorecards(9, kit, cs_manager, prefix="large")
    for card in small + large:  # some data, some not-applicable, a credit for every other one
        submit_value(cs_manager, second_manager, kit["quality"], card.subject, "90" if card.pk % 2 else "97")
    small_count, large_count = close_and_count(small), close_and_count(large)
    assert small_count == large_count
    assert KpiResult.objects.filter(period__scorecard__in=large).count() == 18
    assert ScorecardPeriod.objects.filter(status="closed").count() == 11


def test_every_measure_value_is_stored_with_source_and_null_when_there_is_no_data(
    kit, cs_manager, second_manager
):
    [with_data, without] = make_scorecards(2, kit, cs_manager, prefix="v")
    submit_value(cs_manager, second_manager, kit["quality"], with_data.subject, "97", sample_size=120)
    services.periods_compute(
        actor=None, scorecards=[with_data, without], start=LAST_MONTH, close=True, today=TODAY
    )
    stored = MeasureValue.objects.get(measure=kit["quality"], subject=with_data.subject)
    assert (stored.value, stored.sample_size, stored.source, stored.end) == (
        D("97"),
        120,
        "submitted",
        LAST_MONTH_END,
    )
    assert stored.submission_id is not None
    assert MeasureValue.objects.get(measure=kit["quality"], subject=without.subject).value is None
    counted = MeasureValue.objects.get(measure__code="approved_submissions", subject=with_data.subject)
    assert (counted.value, counted.source) == (D("1"), "computed")
    period = ScorecardPeriod.objects.get(scorecard=without)
    assert period.score is None and period.standing is None  # nothing applicable: no score, not 0


def test_beat_closes_last_month_for_every_active_scorecard_once(kit, cs_manager):
    cards = make_scorecards(3, kit, cs_manager, prefix="beat")
    Scorecard.objects.filter(pk=cards[2].pk).update(status=Scorecard.Status.ARCHIVED)
    assert tasks.close_due_periods(today=TODAY.isoformat())["month"] == 2
    assert set(ScorecardPeriod.objects.filter(status="closed").values_list("scorecard_id", flat=True)) == {
        cards[0].pk,
        cards[1].pk,
    }
    assert tasks.close_due_periods(today=TODAY.isoformat())["month"] == 0  # already closed: not again


def test_a_period_that_has_not_ended_cannot_be_closed(kit, cs_manager):
    [card] = make_scorecards(1, kit, cs_manager, prefix="early")
    with pytest.raises(ValidationError, match="has not ended"):
        services.period_close(actor=cs_manager, scorecard=card, start=date(2025, 6, 1), today=TODAY)
    assert not ScorecardPeriod.objects.exists()


def test_a_start_that_is_not_a_period_start_is_refused(kit, cs_manager):
    [card] = make_scorecards(1, kit, cs_manager, prefix="odd")
    with pytest.raises(ValidationError, match="not the first day"):
        services.period_close(actor=cs_manager, scorecard=card, start=date(2025, 5, 2), today=TODAY)


def test_below_the_minimum_sample_size_a_kpi_does_not_judge(cs_manager, second_manager, vendor_subject):
    measure = make_measure(cs_manager, "csat_pct")
    version = make_kpi(
        cs_manager, second_manager, "csat", "csat_pct", target="95", weight="100", min_sample_size=30
    )
    card = services.scorecard_create(
        actor=cs_manager, name="CSAT", subject=vendor_subject, lines=[LineSpec(version.definition, D("100"))]
    )
    submit_value(cs_manager, second_manager, measure, vendor_subject, "100", sample_size=4)
    period = services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=TODAY)
    result = KpiResult.objects.get(period=period)
    assert (result.applicable, result.value, result.reason) == (
        False,
        D("100"),
        "sample of 4 is below the minimum of 30",
    )
    assert period.score is None


def test_a_low_standing_requires_an_improvement_plan_and_notifies_the_named_role(
    kit, cs_manager, second_manager, vendor_manager, django_capture_on_commit_callbacks
):
    [card] = make_scorecards(1, kit, cs_manager, prefix="low")
    submit_value(
        cs_manager, second_manager, kit["quality"], card.subject, "50"
    )  # score (0×50 + 100×50) ÷ 100
    with django_capture_on_commit_callbacks(execute=True):
        period = services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=TODAY)
    assert period.standing is not None
    assert (period.score, period.standing.name) == (D("50.00"), "At risk")
    plan = ImprovementPlan.objects.get(period=period)
    assert plan.due_on == date(2025, 6, 24)
    assert [m.to for m in mail.outbox] == [sorted([vendor_manager.email, second_manager.email])]
    assert "standing At risk" in mail.outbox[0].body
    # Recomputing the same period does not repeat the actions.
    with django_capture_on_commit_callbacks(execute=True):
        services.period_recompute(actor=cs_manager, period=period)
    assert len(mail.outbox) == 1 and ImprovementPlan.objects.count() == 1


def test_a_standing_can_flag_the_vendor_for_review(kit, cs_manager, second_manager, vendor, vendor_subject):
    scheme = services.standing_scheme_create(
        actor=cs_manager,
        name="Strict",
        standings=[
            {
                "name": "Failing",
                "colour": "#cf222e",
                "lower": "0",
                "upper": "60",
                "flag_vendor_for_review": True,
            },
            {"name": "Passing", "colour": "#1a7f37", "lower": "60", "upper": "100"},
        ],
    )
    card = services.scorecard_create(
        actor=cs_manager,
        name="Strict",
        subject=vendor_subject,
        standing_scheme=scheme,
        lines=[LineSpec(kit["kpis"][0], D("100"))],
    )
    submit_value(cs_manager, second_manager, kit["quality"], vendor_subject, "80")
    services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=TODAY)
    vendor.refresh_from_db()
    assert vendor.status == Vendor.Status.UNDER_REVIEW


def test_agents_get_a_recommendation_and_repeat_coaching_becomes_a_formal_review(
    kit, cs_manager, second_manager, agent_subject
):
    card = services.scorecard_create(
        actor=cs_manager,
        name="Kelvin",
        subject=agent_subject,
        standing_scheme=kit["scheme"],
        lines=[LineSpec(kit["kpis"][0], D("100"))],
    )
    submit_value(
        cs_manager,
        second_manager,
        kit["quality"],
        agent_subject,
        "50",
        start=date(2025, 4, 1),
        end=date(2025, 5, 1),
    )
    submit_value(cs_manager, second_manager, kit["quality"], agent_subject, "50")
    april = services.period_close(actor=cs_manager, scorecard=card, start=date(2025, 4, 1), today=TODAY)
    may = services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=TODAY)
    assert StaffRecommendation.objects.get(period=april).proposed == "coaching"
    recommendation = StaffRecommendation.objects.get(period=may)
    assert recommendation.proposed == "formal_review"
    assert "previous period already called for coaching" in recommendation.basis
    services.recommendation_decide(
        actor=cs_manager,
        recommendation=recommendation,
        final="coaching",
        reason="First month on the new queue.",
    )
    recommendation.refresh_from_db()
    assert (recommendation.status, recommendation.final) == ("overridden", "coaching")


def test_a_registered_selector_is_called_once_for_all_subjects(kit, cs_manager, second_manager):
    calls = []

    def fake(subjects, start, end):
        calls.append(len(subjects))
        return {s.id: registry.Reading(D("99"), 50, {"ticket_ids": [1, 2]}) for s in subjects}

    registry.register_measure("fake_sla", "Fake SLA", "%", fake)
    try:
        services.measures_sync()
        version = make_kpi(cs_manager, second_manager, "fake", "fake_sla", target="95", weight="100")
        cards = []
        for i in range(4):
            vendor: Any = VendorFactory(code=f"fake-{i}")
            subject = services.subject_create(
                actor=cs_manager, kind="vendor", label=vendor.name, vendor=vendor
            )
            cards.append(
                services.scorecard_create(
                    actor=cs_manager,
                    name=f"F{i}",
                    subject=subject,
                    lines=[LineSpec(version.definition, D("100"))],
                )
            )
        services.periods_compute(actor=None, scorecards=cards, start=LAST_MONTH, close=True, today=TODAY)
    finally:
        registry.unregister_measure("fake_sla")
    assert calls == [4]
    result = KpiResult.objects.filter(period__scorecard=cards[0]).get()
    assert result.inputs["fake_sla"] == {
        "value": "99",
        "sample_size": 50,
        "source": "computed",
        "submission_id": None,
        "ref": {"ticket_ids": [1, 2]},
    }
