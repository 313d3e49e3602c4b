"""In the browser: the DPO sees which consents apply to a customer, reveals the contact details for a
stated purpose (an HTMX swap, under the Content-Security-Policy) and records an opt-out."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory
from customers import marketing
from customers.tests.privacy.conftest import grant, make_customer

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_dpo_reads_consents_reveals_on_purpose_and_records_an_opt_out(page):
    dpo = UserFactory(username="daniel", roles=["data_protection_officer"])
    purpose = marketing.purpose_create(actor=dpo, code="own-offers", name="Offers on our own products")
    customer = make_customer("C-900", "Tai Man", "Chan", email="chan.taiman@example.hk")
    grant(customer, purpose, dpo)
    login(page, "daniel")
    page.goto(f"/customers/{customer.pk}/privacy/")
    state = page.locator("#consent-state")
    expect(state).to_contain_text("Offers on our own products")
    expect(state).to_contain_text("consented")
    expect(page.locator("#customer-fields")).to_contain_text("c***@example.hk")

    details = page.locator("#customer-fields")
    details.get_by_label("Purpose").select_option("Data access or correction request")
    details.get_by_label("Details (case or request number)").fill("DAR-2026-021")
    details.get_by_role("button", name="Show full details").click()
    expect(page.locator("#customer-fields")).to_contain_text("chan.taiman@example.hk")
    expect(page.locator("#customer-fields")).to_contain_text("this read is in the audit trail")

    page.locator("#id_optout-source").fill("Customer called the hotline")
    page.get_by_role("button", name="Record an opt-out").click()
    expect(page.locator("#opt-outs")).to_contain_text("in force")
    expect(page.locator("#consent-state")).to_contain_text("withdrawn")
    expect(page.locator("#access-log")).to_contain_text("DAR-2026-021")
