"""The quality demo: a published code of practice, a rubric, reviews (one disputed), survey answers for
a share of resolved tickets, and a staff review of Kelvin Ho awaiting the CS manager. Safe to run twice."""

from __future__ import annotations

from datetime import date

import pytest

from core.testing.factories import UserFactory
from kpis import demo as kpis_demo
from service import demo
from service.models import CodeOfPractice, QaReview, StaffReview, SurveyInvitation, SurveyResponse, Ticket

pytestmark = pytest.mark.django_db
TODAY = date(2026, 11, 23)


@pytest.fixture
def demo_people(vendor):
    for username, role in [
        ("cs.manager", "cs_manager"),
        ("vendor.manager", "vendor_manager"),
        ("cs.agent", "cs_agent"),
    ]:
        UserFactory(username=username, roles=[role])
    UserFactory(username="portal.harbourcall", roles=["vendor_portal"], vendor=vendor)


def test_the_quality_demo(demo_people):
    kpis_demo.seed(today=TODAY)
    assert demo.seed_quality(today=TODAY) is True
    assert CodeOfPractice.objects.get().status == "published"
    resolved = Ticket.objects.filter(resolved_at__gte=demo.surveyed_since(TODAY)).count()
    assert SurveyInvitation.objects.count() == resolved  # every resolved ticket of the surveyed months
    assert Ticket.objects.filter(resolved_at__lt=demo.surveyed_since(TODAY)).exists()
    assert not SurveyInvitation.objects.filter(sent_at__isnull=True).exists()
    assert 0.5 < SurveyResponse.objects.count() / resolved < 0.9
    assert QaReview.objects.filter(status="disputed").count() == 1
    assert QaReview.objects.filter(status="acknowledged").exists()
    review = StaffReview.objects.get(agent__user__username="cs.agent")
    assert (review.start, review.status, review.recommendation_source) == (
        date(2026, 10, 1),
        "proposed",
        "kpis_scorecard",
    )
    assert review.figures["csat"]["judged"] and review.figures["qa"]["judged"]
    assert demo.seed_quality(today=TODAY) is False
