"""The demo seed: Harbour Call's contract with a closed last month and a HK$2,000 credit awaiting approval."""

from datetime import date
from decimal import Decimal

import pytest

from core.testing.factories import UserFactory
from kpis import demo
from kpis.models import Adjustment, KpiDefinition, Scorecard, ScorecardPeriod

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_people(vendor):
    for username, role in [
        ("cs.manager", "cs_manager"),
        ("vendor.manager", "vendor_manager"),
        ("cs.agent", "cs_agent"),
    ]:
        UserFactory(username=username, roles=[role])
    UserFactory(username="portal.harbourcall", roles=["vendor_portal"], vendor=vendor)


def test_the_seed_leaves_a_proposed_credit_on_a_closed_last_month(demo_people):
    assert demo.seed(today=date(2025, 6, 15)) is True
    contract = Scorecard.objects.get(subject__vendor__code="harbourcall")
    may = ScorecardPeriod.objects.get(scorecard=contract, start=date(2025, 5, 1))
    assert may.standing is not None
    assert (may.status, may.score, may.standing.name) == ("closed", Decimal("77.14"), "Good")
    credit = Adjustment.objects.get(period=may)
    assert (credit.kind, credit.proposed_amount, credit.status) == ("credit", Decimal("2000.00"), "proposed")
    assert (
        ScorecardPeriod.objects.filter(scorecard__subject__user__username="cs.agent", status="closed").count()
        == 3
    )
    csat = KpiDefinition.objects.get(code="csat")
    assert [v.status for v in csat.versions.order_by("number")] == ["approved", "approved"]


def test_the_seed_runs_once(demo_people):
    demo.seed(today=date(2025, 6, 15))
    assert demo.seed(today=date(2025, 6, 15)) is False
    assert Scorecard.objects.count() == 2
