"""The demo's helpdesk tickets carry their customers (from the customers demo), so surveys go out
after resolution and about half are answered: CSAT, NPS and CES have figures, in-house and for the
vendor, and the reviewed agent's CSAT is judged."""

from __future__ import annotations

from datetime import date

import pytest
from django.db.models import Avg

from core.testing.factories import UserFactory
from customers.demo_sales import DEMO_SOURCE
from customers.models import Customer
from kpis import demo as kpis_demo
from service import demo
from service.models import StaffReview, SurveyInvitation, SurveyResponse, Ticket

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


@pytest.fixture
def demo_customers():
    """A small stand-in for the customers demo: every tier, one unusable e-mail, one merged record."""
    tiers = ["standard"] * 20 + ["silver"] * 6 + ["gold"] * 6 + ["vip"] * 3
    made = [
        Customer.objects.create(
            source=DEMO_SOURCE, external_id=f"C{i:05d}", email=f"c{i}@example.hk", tier=tier
        )
        for i, tier in enumerate(tiers, start=1)
    ]
    broken = Customer.objects.create(source=DEMO_SOURCE, external_id="C09997", email="c at example.hk")
    merged = Customer.objects.create(
        source=DEMO_SOURCE, external_id="C09998", email="m@example.hk", merged_into=made[0]
    )
    return broken, merged


def test_demo_tickets_carry_customers_and_their_surveys_are_answered(demo_people, demo_customers):
    broken, merged = demo_customers
    kpis_demo.seed(today=TODAY)
    assert demo.seed_tickets(today=TODAY) is True
    tickets = Ticket.objects.filter(source="helpdesk")
    # An e-mail always carries the address; other channels only sometimes.
    assert not tickets.filter(channel="email", customer__isnull=True).exists()
    assert tickets.filter(channel="phone", customer__isnull=True).exists()
    assert not tickets.filter(customer__in=demo_customers).exists()
    assert (
        not tickets.filter(customer_tier="vip", customer__isnull=False).exclude(customer__tier="vip").exists()
    )

    assert demo.seed_quality(today=TODAY) is True
    since = demo.surveyed_since(TODAY)
    surveyed = tickets.filter(resolved_at__gte=since, customer__isnull=False, is_spam=False, is_merged=False)
    assert SurveyInvitation.objects.count() == surveyed.filter(status__in=["resolved", "closed"]).count()
    assert not SurveyInvitation.objects.filter(sent_at__isnull=True).exists()
    answered = SurveyResponse.objects.count()
    assert 0.35 < answered / SurveyInvitation.objects.count() < 0.75  # a realistic response rate
    by_vendor = dict(
        SurveyResponse.objects.values_list("invitation__ticket__vendor__code")
        .annotate(Avg("csat"))
        .order_by()
    )
    assert set(by_vendor) == {None, "harbourcall"}
    assert by_vendor[None] > by_vendor["harbourcall"]  # the outsourced hotline does worse
    assert SurveyResponse.objects.filter(nps__isnull=False).exists()
    assert SurveyResponse.objects.filter(ces__isnull=False).exists()
    review = StaffReview.objects.get(agent__user__username="cs.agent")
    assert review.figures["csat"]["judged"], review.figures["csat"]
