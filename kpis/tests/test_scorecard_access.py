"""Who sees which scorecard: managers all, agents their own, a vendor its own closed periods and
approved credits, outsiders nothing."""

from decimal import Decimal

import pytest

from kpis import selectors, services
from kpis.models import Adjustment, KpiResult, Scorecard, ScorecardPeriod, Subject
from kpis.services import LineSpec

from .conftest import LAST_MONTH, TODAY, make_kpi, make_measure, submit_value

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def world(
    cs_manager, second_manager, vendor_subject, other_vendor_subject, agent_subject, other_agent_subject
):
    measure = make_measure(cs_manager, "quality_pct")
    kpi = make_kpi(cs_manager, second_manager, "quality", "quality_pct", weight="100").definition
    cards = {}
    for name, subject in [
        ("vendor", vendor_subject),
        ("other_vendor", other_vendor_subject),
        ("agent", agent_subject),
        ("other_agent", other_agent_subject),
    ]:
        cards[name] = services.scorecard_create(
            actor=cs_manager,
            name=name,
            subject=subject,
            lines=[LineSpec(kpi, D("100"), critical=True, allocation_pct=D("100"))],
        )
        submit_value(cs_manager, second_manager, measure, subject, "80")
    for name in ("vendor", "other_vendor"):
        services.credit_terms_set(
            actor=cs_manager, scorecard=cards[name], monthly_fee=D("1000"), at_risk_pct=D("10")
        )
    for card in cards.values():
        services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=TODAY)
    # An open (provisional) period for the vendor too.
    services.periods_compute(
        actor=cs_manager, scorecards=[cards["vendor"]], start=TODAY.replace(day=1), today=TODAY
    )
    return cards


def visible(user, model):
    return set(model.objects.restrict(user))


def test_managers_and_auditors_see_every_scorecard(world, cs_manager, auditor):
    for person in (cs_manager, auditor):
        assert visible(person, Scorecard) == set(world.values())


def test_an_agent_sees_only_their_own_scorecard_and_results(world, agent):
    assert visible(agent, Scorecard) == {world["agent"]}
    assert {s.kind for s in visible(agent, Subject)} == {"agent"}
    assert {r.period.scorecard for r in visible(agent, KpiResult)} == {world["agent"]}
    assert selectors.scorecard_list(user=agent).get() == world["agent"]


def test_a_vendor_sees_its_own_closed_periods_and_only_decided_credits(world, portal_user, vendor_manager):
    assert visible(portal_user, Scorecard) == {world["vendor"]}
    periods = visible(portal_user, ScorecardPeriod)
    assert {p.status for p in periods} == {"closed"} and {p.scorecard for p in periods} == {world["vendor"]}
    assert ScorecardPeriod.objects.filter(scorecard=world["vendor"]).count() == 2  # the open one is hidden
    credit = Adjustment.objects.get(period__scorecard=world["vendor"])
    assert visible(portal_user, Adjustment) == set()  # proposed: not yet the vendor's business
    services.adjustment_decide(actor=vendor_manager, adjustment=credit, decision="approve")
    assert visible(portal_user, Adjustment) == {credit}


def test_outsiders_see_nothing_of_the_vendor(world, outsider, no_role_user):
    assert visible(outsider, Scorecard) == {world["other_vendor"]}
    assert world["vendor"] not in visible(outsider, Scorecard)
    for model in (Scorecard, ScorecardPeriod, KpiResult, Adjustment, Subject):
        assert visible(no_role_user, model) == set()
