"""Done-when, in a real browser: define a KPI (with the live preview), change its target with a reason,
see both versions applied to last month, and approve a proposed credit."""

from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory, VendorFactory
from kpis import services
from kpis.models import Adjustment, KpiDefinition, KpiVersion, Subject
from kpis.periods import MONTH, previous_period
from kpis.services import LineSpec

from .conftest import evidence

pytestmark = pytest.mark.browser
D = Decimal

BANDS = [("Missed", "", "90", "0"), ("Near", "90", "95", "60"), ("Met", "95", "", "100")]


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/accounts/login/" in url)


def fill_bands(page, bands, target_index):
    for i, (label, lower, upper, score) in enumerate(bands):
        page.locator(f"[name=band_label_{i}]").fill(label)
        page.locator(f"[name=band_lower_{i}]").fill(lower)
        page.locator(f"[name=band_upper_{i}]").fill(upper)
        page.locator(f"[name=band_score_{i}]").fill(score)
    page.locator(f"input[name=target_band][value='{target_index}']").check()


def test_define_change_compare_and_approve_in_the_browser(page):
    mandy: Any = UserFactory(username="mandy", roles=["cs_manager"])
    dave: Any = UserFactory(username="dave", roles=["cs_manager"])
    vivian: Any = UserFactory(username="vivian", roles=["vendor_manager"])
    vendor: Any = VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")
    sla = services.measure_create(actor=mandy, code="sla_pct", label="Tickets within SLA", unit="%")
    make_csat = services.measure_create(actor=mandy, code="csat_pct", label="CSAT", unit="%")
    subject = services.subject_create(actor=mandy, kind=Subject.Kind.VENDOR, label=vendor.name, vendor=vendor)

    # 1. Mandy defines the KPI; the live preview checks the formula as she types.
    login(page, "mandy")
    page.goto("/kpis/definitions/new/")
    page.get_by_label("Code").fill("sla_attainment")
    page.get_by_label("Name").fill("SLA attainment")
    page.get_by_label("What it means").fill("Tickets that met their SLA ÷ tickets due.")
    page.get_by_label("Formula").fill("sla_pct / nope")
    expect(page.locator("#preview")).to_contain_text("Unknown measure(s): nope")
    page.get_by_label("Formula").fill("sla_pct")
    expect(page.locator("#preview")).to_contain_text("measures used: sla_pct")
    page.get_by_label("Target", exact=True).fill("95")
    fill_bands(page, BANDS, 2)
    page.get_by_label("Reason for this version").fill("Service schedule 2.")
    page.get_by_role("button", name="Define the KPI").click()
    expect(page.locator(".messages")).to_contain_text("another person must approve it")
    kpi = KpiDefinition.objects.get(code="sla_attainment")
    sign_out(page)

    # 2. Dave approves version 1.
    login(page, "dave")
    page.goto(f"/kpis/definitions/{kpi.pk}/")
    page.get_by_role("button", name="Approve version 1").click()
    expect(page.locator("#v1")).to_contain_text("Approved")
    sign_out(page)

    # The contract's scorecard and last month's data, as the vendor issue and the portal would provide.
    csat = services.kpi_define(
        actor=mandy,
        code="csat",
        name="CSAT",
        description="4–5 ÷ all.",
        formula="csat_pct",
        unit="%",
        direction="higher",
        target=D("85"),
        reason="x",
        bands=[
            {"label": "Low", "lower": None, "upper": "85", "score": "0"},
            {"label": "OK", "lower": "85", "upper": None, "score": "100", "is_target": True},
        ],
    )
    services.kpi_version_approve(actor=dave, version=csat)
    card = services.scorecard_create(
        actor=vivian,
        name="Harbour Call contract",
        subject=subject,
        lines=[
            LineSpec(kpi, D("60"), critical=True, allocation_pct=D("40")),
            LineSpec(csat.definition, D("40"), critical=True, allocation_pct=D("60")),
        ],
    )
    services.credit_terms_set(
        actor=vivian, scorecard=card, monthly_fee=D("100000"), at_risk_pct=D("10"), pool_pct=D("50")
    )
    last = previous_period(MONTH, timezone.localdate())
    for measure, value in ((sla, "92"), (make_csat, "88")):
        submission = services.submission_create(
            actor=mandy,
            measure=measure,
            subject=subject,
            start=last.start,
            end=last.end,
            value=D(value),
            evidence=evidence(),
        )
        services.submission_decide(actor=vivian, submission=submission, approve=True)
    period = services.period_close(actor=vivian, scorecard=card, start=last.start)

    # 3. Mandy changes the target with a reason: version 2, awaiting approval.
    login(page, "mandy")
    page.goto(f"/kpis/definitions/{kpi.pk}/change/")
    page.get_by_label("Target", exact=True).fill("92")
    fill_bands(page, [("Missed", "", "88", "0"), ("Near", "88", "92", "60"), ("Met", "92", "", "100")], 2)
    page.get_by_label("Reason for this version").fill("Volumes doubled after the merger.")
    page.get_by_role("button", name="Propose version 2").click()
    expect(page.locator("#v2")).to_contain_text("Volumes doubled after the merger.")
    assert KpiVersion.objects.get(definition=kpi, number=2).status == "draft"

    # 4. Both versions applied to last month, side by side.
    page.get_by_role("link", name="see it under each version").click()
    table = page.locator("table.data")
    expect(table).to_contain_text("v1 (approved), target 95: 92.00 → Near, score 60")
    expect(table).to_contain_text("v2 (awaiting approval), target 92: 92.00 → Met, score 100")
    sign_out(page)

    # 5. Vivian approves the proposed HK$2,000 credit.
    login(page, "vivian")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scorecards").click()
    page.get_by_role("link", name="Credits and bonuses").click()
    row = page.locator("tr", has_text="SLA attainment")
    expect(row).to_contain_text("HK$2,000.00")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text("Service credit decided.")
    credit = Adjustment.objects.get(period=period, kpi=kpi)
    assert (credit.status, credit.approved_amount) == ("approved", D("2000.00"))
