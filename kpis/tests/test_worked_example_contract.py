"""Done-when: the contract arithmetic of PRODUCT.md §2 end to end, through closing real periods.

HK$100,000 monthly fee, 10% at risk (HK$10,000); SLA attainment misses with pool 50% ×
allocation 40% → a proposed HK$2,000 credit; a vendor manager approves it; beating the
earn-back target in the next two months proposes cancelling it.
"""

from datetime import date
from decimal import Decimal

import pytest

from kpis import services
from kpis.models import Adjustment, KpiResult, ScorecardPeriod
from kpis.services import LineSpec

from .conftest import make_kpi, make_measure, submit_value

pytestmark = pytest.mark.django_db
D = Decimal
MAY, JUNE, JULY, AUGUST = date(2025, 5, 1), date(2025, 6, 1), date(2025, 7, 1), date(2025, 8, 1)

CSAT_BANDS = [
    {"label": "Poor", "lower": None, "upper": "80", "score": "0"},
    {"label": "Fair", "lower": "80", "upper": "90", "score": "50"},
    {"label": "Good", "lower": "90", "upper": None, "score": "100", "is_target": True},
]


@pytest.fixture
def contract(cs_manager, second_manager, vendor_subject):
    sla_m = make_measure(cs_manager, "sla_met_pct")
    csat_m = make_measure(cs_manager, "csat_pct")
    fcr_m = make_measure(cs_manager, "fcr_pct")
    sla = make_kpi(cs_manager, second_manager, "sla_attainment", "sla_met_pct", target="95", weight="40")
    csat = make_kpi(
        cs_manager, second_manager, "csat", "csat_pct", target="90", bands=CSAT_BANDS, weight="30"
    )
    fcr = make_kpi(
        cs_manager,
        second_manager,
        "fcr",
        "fcr_pct",
        target="70",
        bands=[
            {"label": "Low", "lower": None, "upper": "70", "score": "0"},
            {"label": "OK", "lower": "70", "upper": None, "score": "100", "is_target": True},
        ],
    )
    scorecard = services.scorecard_create(
        actor=second_manager,
        name="Harbour Call contract",
        subject=vendor_subject,
        lines=[
            LineSpec(
                sla.definition, D("40"), critical=True, allocation_pct=D("40"), earn_back_target=D("97")
            ),
            LineSpec(csat.definition, D("30"), critical=True, allocation_pct=D("60")),
            LineSpec(fcr.definition, D("30")),  # a key measurement: reported, no credit
        ],
    )
    services.credit_terms_set(
        actor=second_manager,
        scorecard=scorecard,
        monthly_fee=D("100000"),
        at_risk_pct=D("10"),
        pool_pct=D("50"),
        earn_back_periods=2,
    )
    return {"scorecard": scorecard, "sla": sla_m, "csat": csat_m, "fcr": fcr_m, "sla_kpi": sla}


def month(contract, start, *, sla, csat, actor, approver, subject, today):
    for measure, value in ((contract["sla"], sla), (contract["csat"], csat)):
        if value is not None:
            end = date(start.year + start.month // 12, start.month % 12 + 1, 1)
            submit_value(actor, approver, measure, subject, value, start=start, end=end)
    return services.period_close(actor=approver, scorecard=contract["scorecard"], start=start, today=today)


def test_a_missed_critical_service_level_proposes_the_two_thousand_dollar_credit(
    contract, cs_manager, second_manager, vendor_subject
):
    period = month(
        contract,
        MAY,
        sla="90",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 6, 3),
    )
    assert period.status == ScorecardPeriod.Status.CLOSED
    credit = Adjustment.objects.get(period=period)
    assert (credit.kind, credit.kpi.code, credit.proposed_amount, credit.status) == (
        "credit",
        "sla_attainment",
        D("2000.00"),
        "proposed",
    )
    assert "pool 50% × allocation 40% × at-risk HK$10,000.00 = HK$2,000.00" in credit.explanation[0]


def test_the_period_score_reweights_around_the_not_applicable_key_measurement(
    contract, cs_manager, second_manager, vendor_subject
):
    period = month(
        contract,
        MAY,
        sla="90",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 6, 3),
    )
    results = {r.kpi.code: r for r in KpiResult.objects.filter(period=period, is_official=True)}
    assert (results["sla_attainment"].attainment, results["sla_attainment"].band_label) == (D("60"), "Near")
    assert results["csat"].attainment == D("100")
    assert results["fcr"].applicable is False and results["fcr"].reason == "no data for fcr_pct"
    assert results["fcr"].value is None  # never 0, never 100
    period.refresh_from_db()
    assert period.score == D("77.14")  # (60×40 + 100×30) ÷ 70
    assert results["sla_attainment"].effective_weight == D("57.14")


def test_a_vendor_manager_approves_the_credit_and_the_statement_totals_it(
    contract, cs_manager, second_manager, vendor_manager, vendor_subject
):
    from kpis import selectors

    period = month(
        contract,
        MAY,
        sla="90",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 6, 3),
    )
    credit = Adjustment.objects.get(period=period)
    services.adjustment_decide(actor=vendor_manager, adjustment=credit, decision="approve")
    credit.refresh_from_db()
    assert (credit.status, credit.approved_amount, credit.decided_by) == (
        "approved",
        D("2000.00"),
        vendor_manager,
    )
    statement = selectors.statement(user=vendor_manager, period=period)
    assert statement.credits_total == D("2000.00")


def test_both_critical_levels_missed_with_a_generous_pool_stop_at_the_monthly_cap(
    contract, cs_manager, second_manager, vendor_subject
):
    services.credit_terms_set(
        actor=second_manager,
        scorecard=contract["scorecard"],
        monthly_fee=D("100000"),
        at_risk_pct=D("10"),
        pool_pct=D("250"),
    )
    period = month(
        contract,
        MAY,
        sla="80",
        csat="70",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 6, 3),
    )
    credits = list(Adjustment.objects.filter(period=period).order_by("id"))
    assert [(c.kpi.code, c.computed_amount, c.proposed_amount) for c in credits] == [
        ("sla_attainment", D("10000.00"), D("10000.00")),  # 250% × 40% × 10,000
        ("csat", D("15000.00"), D("0.00")),  # 250% × 60% × 10,000, nothing left under the cap
    ]
    assert sum(c.proposed_amount for c in credits) == D("10000.00")


def test_beating_the_earn_back_target_for_two_months_proposes_cancelling_the_credit(
    contract, cs_manager, second_manager, vendor_manager, vendor_subject
):
    may = month(
        contract,
        MAY,
        sla="90",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 6, 3),
    )
    credit = Adjustment.objects.get(period=may)
    services.adjustment_decide(actor=vendor_manager, adjustment=credit, decision="approve")
    month(
        contract,
        JUNE,
        sla="97.5",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 7, 2),
    )
    july = month(
        contract,
        JULY,
        sla="98",
        csat="93",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 8, 2),
    )
    earn_back = Adjustment.objects.get(period=july, kind=Adjustment.Kind.EARN_BACK)
    assert (earn_back.proposed_amount, earn_back.earns_back) == (D("-2000.00"), credit)
    services.adjustment_decide(actor=vendor_manager, adjustment=earn_back, decision="approve")
    net = sum(
        a.final_amount or D(0) for a in Adjustment.objects.filter(period__scorecard=contract["scorecard"])
    )
    assert net == D("0.00")


def test_no_earn_back_when_one_month_since_only_meets_the_ordinary_target(
    contract, cs_manager, second_manager, vendor_subject
):
    month(
        contract,
        MAY,
        sla="90",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 6, 3),
    )
    month(
        contract,
        JUNE,
        sla="96",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 7, 2),
    )
    july = month(
        contract,
        JULY,
        sla="98",
        csat="93",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 8, 2),
    )
    assert not Adjustment.objects.filter(period=july, kind=Adjustment.Kind.EARN_BACK).exists()


def test_overriding_a_credit_needs_a_reason_and_stays_under_the_cap(
    contract, cs_manager, second_manager, vendor_manager, vendor_subject
):
    from django.core.exceptions import ValidationError

    period = month(
        contract,
        MAY,
        sla="90",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 6, 3),
    )
    credit = Adjustment.objects.get(period=period)
    with pytest.raises(ValidationError, match="Say why"):
        services.adjustment_decide(
            actor=vendor_manager, adjustment=credit, decision="override", amount=D("1500")
        )
    with pytest.raises(ValidationError, match="exceed the at-risk amount"):
        services.adjustment_decide(
            actor=vendor_manager,
            adjustment=credit,
            decision="override",
            amount=D("12000"),
            reason="penalty for the outage",
        )
    credit.refresh_from_db()
    assert credit.status == "proposed"
    services.adjustment_decide(
        actor=vendor_manager,
        adjustment=credit,
        decision="override",
        amount=D("1500"),
        reason="Outage partly caused by our own network change.",
    )
    credit.refresh_from_db()
    assert (credit.status, credit.approved_amount) == ("overridden", D("1500.00"))


def test_only_people_with_the_approval_permission_decide_credits(
    contract, cs_manager, second_manager, vendor_subject, portal_user, auditor
):
    from django.core.exceptions import PermissionDenied

    period = month(
        contract,
        MAY,
        sla="90",
        csat="92",
        actor=cs_manager,
        approver=second_manager,
        subject=vendor_subject,
        today=date(2025, 6, 3),
    )
    credit = Adjustment.objects.get(period=period)
    for person in (cs_manager, portal_user, auditor):
        with pytest.raises(PermissionDenied):
            services.adjustment_decide(actor=person, adjustment=credit, decision="approve")
    credit.refresh_from_db()
    assert credit.status == "proposed"
