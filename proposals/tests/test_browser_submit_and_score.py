"""In a real browser: a vendor writes and submits its proposal through the portal; a panel member
declares, scores and submits; the other invited vendor cannot open the first vendor's proposal."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory, VendorFactory
from proposals import services
from proposals.models import Proposal, Scoresheet

pytestmark = pytest.mark.browser


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/accounts/login/" in url)


def test_a_vendor_submits_and_the_panel_scores_in_the_browser(page):
    harbour: Any = VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")
    kowloon: Any = VendorFactory(code="kowloon-digital", name="Kowloon Digital Marketing Co.")
    crystal: Any = UserFactory(username="crystal", roles=["crm_staff"])
    UserFactory(username="priscilla", roles=["vendor_portal"], vendor=harbour)
    UserFactory(username="patrick", roles=["vendor_portal"], vendor=kowloon)
    call = services.call_create(
        actor=crystal,
        title="Member retention 2027",
        objectives="Raise repeat purchases.",
        required_sections=["objectives", "kpis"],
        deadline=timezone.now() + timedelta(days=7),
        vendors=[harbour, kowloon],
    )
    services.call_set_status(actor=crystal, call=call, status="open")
    services.panel_add(actor=crystal, call=call, user=crystal)

    login(page, "priscilla")
    page.get_by_role("link", name="Proposals").click()
    page.get_by_role("link", name="Member retention 2027").click()
    page.locator("textarea[name=section-objectives]").fill("Bring lapsed members back.")
    page.locator("textarea[name=section-kpis]").fill("Repeat purchase 18% → 24%.")
    page.locator("input[name=c0-title]").fill("WhatsApp win-back journey")
    page.locator("input[name=c0-cost]").fill("380000")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Version 1 submitted.", exact=True)).to_be_visible()
    proposal = Proposal.objects.get()
    sign_out(page)

    login(page, "patrick")
    response = page.goto(f"/proposals/{proposal.pk}/")
    assert response is not None and response.status == 404
    sign_out(page)

    login(page, "crystal")
    page.goto(f"/proposals/calls/{call.pk}/")
    page.get_by_role("button", name="Declare").click()
    page.get_by_role("link", name="Harbour Call Centre Ltd").click()
    for field in ("effectiveness", "compatibility", "cost", "risk", "privacy", "feasibility"):
        page.locator(f"input[name=score-{field}]").fill("4")
    page.get_by_role("button", name="Submit (final)").click()
    expect(page.get_by_text("Your scores were submitted")).to_be_visible()
    assert Scoresheet.objects.get().submitted_at is not None
