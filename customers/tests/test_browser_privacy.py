"""In a real browser: the data-protection officer logs an access request, sees the 40-day clock,
verifies the requester's identity, downloads the copy as PDF and marks the request complied with;
a second request is refused with a reason that lands in the refusal log book."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory
from customers.privacy_models import PrivacyRequest, RefusalLogEntry
from customers.tests.dpo_fixtures import make_customer

pytestmark = pytest.mark.browser


def test_the_dpo_answers_an_access_request_within_the_clock(page):
    UserFactory(username="daniel", roles=["data_protection_officer"])
    customer: Any = make_customer()

    login(page, "daniel")
    page.goto("/customers/privacy/")
    page.get_by_role("link", name="Log a request").click()
    page.get_by_label("Kind").select_option("access")
    page.get_by_label("Customer id").fill(str(customer.pk))
    page.get_by_label("Requester name").fill("Chan Siu Ming")
    page.get_by_label("Requester contact").fill("siuming.chan@example.hk")
    page.get_by_role("button", name="Log the request").click()

    expect(page.locator("#days-left")).to_contain_text("days left")
    expect(page.locator("#status")).to_have_text("Received, identity not yet verified")
    page.get_by_label("How the identity was verified").fill("HKID sighted at the Mong Kok counter")
    page.get_by_role("button", name="Identity verified").click()
    expect(page.locator("#status")).to_have_text("Identity verified, in progress")

    with page.expect_download() as download:
        page.locator("#copy-pdf").click()
    assert download.value.suggested_filename.endswith(".pdf")

    page.get_by_role("button", name="Mark complied with").click()
    expect(page.locator("#status")).to_have_text("Complied with")
    expect(page.locator("#steps")).to_contain_text("Copy of the data produced")
    assert PrivacyRequest.objects.get().status == "completed"

    # A second request from someone who cannot prove who they are: refused, and logged.
    page.goto(f"/customers/privacy/new/?customer={customer.pk}")
    page.get_by_label("Requester name").fill("Someone else")
    page.get_by_label("Requester contact").fill("someone@example.hk")
    page.get_by_role("button", name="Log the request").click()
    page.locator("#refuse-form select[name=ground]").select_option("s20_1_a")
    page.locator("#refuse-form textarea[name=reasons]").fill("Could not verify the requester's identity.")
    page.get_by_role("button", name="Refuse in writing").click()
    expect(page.locator("#status")).to_have_text("Refused")
    page.get_by_role("link", name="Refusal log book").first.click()
    expect(page.locator("table.data")).to_contain_text("Could not verify the requester's identity.")
    assert RefusalLogEntry.objects.count() == 1
