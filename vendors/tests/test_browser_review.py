"""In a real browser: a vendor manager opens a quarterly business review, reads the assembled
figures (score trend chart, credits, cost against value), records an improvement-plan decision with
its milestones and a follow-up action, and sees the plan on the page; the review's address is "not
found" for a vendor's portal user."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory, VendorFactory
from kpis.models import Adjustment, ScorecardPeriod
from vendors import cooperation, schedules, services
from vendors.models import CooperationReview
from vendors.tests.factories import KpiDefinitionFactory

pytestmark = pytest.mark.browser


def test_a_quarterly_review_ends_in_an_improvement_plan(page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    harbour: Any = VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")
    vivian: Any = UserFactory(username="vivian", roles=["vendor_manager"])
    UserFactory(username="priscilla", roles=["vendor_portal"], vendor=harbour)
    today = timezone.localdate()
    quarter_start, quarter_end = cooperation.quarter_of(schedules.add_months(today, -3))
    contract = services.contract_create(
        actor=vivian,
        vendor=harbour,
        reference="HC-CS-2025",
        title="Customer-service outsourcing",
        our_entity="Steward Trading (HK) Ltd",
        start=quarter_start - timedelta(days=90),
        end=quarter_start + timedelta(days=640),
        monthly_fee=Decimal("100000.00"),
        at_risk_pct=Decimal("10"),
    )
    version = contract.versions.get()
    sla: Any = KpiDefinitionFactory(code="sla_attainment", name="SLA attainment")
    services.service_levels_set(
        actor=vivian,
        version=version,
        levels=[services.ServiceLevelSpec(sla, "critical", Decimal(100), Decimal(100), "Schedule 2")],
    )
    services.contract_version_activate(actor=vivian, version=version, today=quarter_start)
    scorecard = services.contract_scorecard_setup(actor=vivian, contract=contract, today=quarter_start)
    month = quarter_start
    for score in ("88", "74", "81"):
        period = ScorecardPeriod.objects.create(
            scorecard=scorecard,
            start=month,
            end=schedules.add_months(month, 1),
            status="closed",
            score=Decimal(score),
        )
        month = schedules.add_months(month, 1)
    Adjustment.objects.create(
        period=period,
        kpi=sla,
        kind="credit",
        computed_amount=Decimal("6500"),
        proposed_amount=Decimal("6500"),
        approved_amount=Decimal("6500"),
        status="approved",
    )
    review = cooperation.review_schedule(
        actor=vivian,
        contract=contract,
        kind="quarterly",
        period_start=quarter_start,
        period_end=quarter_end,
        scheduled_on=quarter_end + timedelta(days=14),
    )

    login(page, "vivian")
    page.goto("/vendors/reviews/")
    page.get_by_role("link", name="Quarterly business review").first.click()
    main = page.locator("main")
    expect(page.locator("h1")).to_contain_text("Quarterly business review: Harbour Call Centre Ltd")
    figures = page.get_by_label("Cost and value")
    expect(figures).to_contain_text("81.00")  # (88 + 74 + 81) ÷ 3
    expect(figures).to_contain_text("6,500.00")
    expect(figures).to_contain_text("293,500.00")  # 3 × 100,000 − 6,500
    expect(main.locator("figure.chart svg")).to_be_visible()

    page.get_by_label("Decision").select_option("improvement_plan")
    page.get_by_label("Rationale").fill("SLA fell below 80% in the second month; recover the weekend cover.")
    page.get_by_role("button", name="Record the decision").click()
    expect(main).to_contain_text("An improvement plan needs this.")
    page.get_by_label("Plan title").fill("Weekend service recovery")
    page.get_by_label("Plan objective").fill("SLA of 90% or more at weekends for two months running.")
    page.get_by_label("Plan due").fill((today + timedelta(days=90)).isoformat())
    page.get_by_label("Milestones (one a line: date, then what)").fill(
        f"{(today + timedelta(days=30)).isoformat()} Weekend roster at 95% of plan\n"
        f"{(today + timedelta(days=60)).isoformat()} Callback for abandoned calls live"
    )
    page.locator("[name=actions-0-description]").fill("Send the weekend recovery roster")
    page.locator("[name=actions-0-due_on]").fill((today + timedelta(days=14)).isoformat())
    page.get_by_role("button", name="Record the decision").click()

    expect(page.locator(".messages")).to_contain_text("Decision recorded.")
    expect(main).to_contain_text("Decision: Improvement plan")
    expect(main).to_contain_text("Improvement plan: Weekend service recovery")
    expect(main).to_contain_text("Callback for abandoned calls live")
    expect(main).to_contain_text("Send the weekend recovery roster")
    review.refresh_from_db()
    assert (review.status, review.decision) == ("completed", CooperationReview.Decision.IMPROVEMENT_PLAN)
    assert review.figures["credits"] == "6500.00"

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/accounts/login/" in url)
    login(page, "priscilla")
    response = page.goto(f"/vendors/reviews/{review.pk}/")
    assert response is not None and response.status in (403, 404)
