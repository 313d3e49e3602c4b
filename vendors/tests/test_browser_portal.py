"""In a real browser: a vendor manager logs a meeting with an action for the vendor; the vendor's
portal user sees it, moves it on in place (HTMX) and uploads evidence; another vendor's user sees
none of it and gets "not found" on its address."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory, VendorFactory
from vendors import services
from vendors.models import ActionItem, ObligationEvidence

pytestmark = pytest.mark.browser


def sign_out(page):
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/accounts/login/" in url)


def test_a_meeting_action_reaches_only_the_vendors_portal(page, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    harbour: Any = VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")
    kowloon: Any = VendorFactory(code="kowloon-digital", name="Kowloon Digital Marketing Co.")
    vivian: Any = UserFactory(username="vivian", roles=["vendor_manager"])
    UserFactory(username="priscilla", roles=["vendor_portal"], vendor=harbour)
    UserFactory(username="patrick", roles=["vendor_portal"], vendor=kowloon)
    today = timezone.localdate()
    contract = services.contract_create(
        actor=vivian,
        vendor=harbour,
        reference="HC-CS-2025",
        title="Customer-service outsourcing",
        our_entity="Steward Trading (HK) Ltd",
        start=today - timedelta(days=30),
        end=today + timedelta(days=700),
        monthly_fee=Decimal("100000.00"),
        at_risk_pct=Decimal("10"),
    )
    services.contract_version_activate(actor=vivian, version=contract.versions.get())
    report = services.obligation_create(
        actor=vivian,
        contract=contract,
        title="Monthly service report",
        first_due_on=today + timedelta(days=5),
    )

    # 1. Vivian logs the monthly review with an action for Harbour Call.
    login(page, "vivian")
    page.goto(f"/vendors/{harbour.pk}/liaison/new/")
    page.get_by_label("Title").fill("Monthly service review")
    page.get_by_label("Minutes").fill("Internal: considering a second vendor.")
    page.locator("[name=actions-0-description]").fill("Send the weekend staffing plan")
    page.locator("[name=actions-0-due_on]").fill((today + timedelta(days=7)).isoformat())
    page.get_by_role("button", name="Log it").click()
    expect(page.locator("h1")).to_contain_text("Meeting: Monthly service review")
    sign_out(page)

    # 2. Priscilla sees the action on her portal and marks it done in place.
    login(page, "priscilla")
    page.goto("/vendors/")
    expect(page).to_have_url(f"{page.url.split('/vendors')[0]}/vendors/portal/")
    expect(page.locator("main")).not_to_contain_text("second vendor")
    action = ActionItem.objects.get()
    row = page.locator(f"#action-{action.pk}")
    row.get_by_label("Status").select_option("done")
    row.get_by_label("Progress note").fill("Sent on Friday.")
    row.get_by_role("button", name="Save").click()
    expect(page.locator(f"#action-{action.pk}")).to_contain_text("Sent on Friday.")
    action.refresh_from_db()
    assert action.status == "done"

    # 3. She uploads the report; a disguised file is refused with the reason.
    instance = report.instances.get()
    page.goto(f"/vendors/obligations/{instance.pk}/")
    disguised = tmp_path / "report.pdf"
    disguised.write_bytes(b"MZ\x90\x00 not a pdf")
    page.locator("input[type=file]").set_input_files(str(disguised))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator(".messages")).to_contain_text("is not a PDF document")
    real = tmp_path / "June report.pdf"
    real.write_bytes(b"%PDF-1.7\n%%EOF\n")
    page.locator("input[type=file]").set_input_files(str(real))
    page.get_by_role("button", name="Upload").click()
    expect(page.locator("main")).to_contain_text("June report.pdf")
    assert ObligationEvidence.objects.count() == 1
    sign_out(page)

    # 4. Patrick, of another vendor, sees nothing of it, and its address is "not found".
    login(page, "patrick")
    page.goto("/vendors/portal/")
    expect(page.locator("main")).not_to_contain_text("HC-CS-2025")
    expect(page.locator("main")).not_to_contain_text("weekend staffing")
    response = page.goto(f"/vendors/obligations/{instance.pk}/")
    assert response is not None and response.status == 404
