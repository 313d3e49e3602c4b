"""In the browser: an agent on a call records "stop marketing to me" from the customer's page; the
customer drops off marketing at once; the agent still sees masked details and no consent ledger.
Then the DPO sees, on the disclosures page, which batches carried whose data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from core.testing.browser import login
from core.testing.factories import UserFactory
from customers import marketing
from customers.consent import marketable
from customers.models import Customer, ExchangeCustomer, Suppression
from customers.tests.privacy.conftest import grant, make_customer
from vendors import services as vendor_services

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("STEWARD_SHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)


def test_an_agent_takes_an_opt_out_on_a_call_and_the_dpo_sees_disclosures(page, vendor):
    dpo = UserFactory(username="daniel", roles=["data_protection_officer"])
    UserFactory(username="kelvin", roles=["cs_agent"])
    manager = UserFactory(username="vivian", roles=["vendor_manager"])
    purpose = marketing.purpose_create(actor=dpo, code="own-offers", name="Offers on our own products")
    customer = make_customer("C-900", "Tai Man", "Chan", email="chan.taiman@example.hk")
    grant(customer, purpose, dpo)

    login(page, "kelvin")
    page.goto(f"/customers/{customer.pk}/privacy/")
    expect(page.locator("#customer-fields")).to_contain_text("c***@example.hk")
    expect(page.locator("#consent-state")).to_have_count(0)
    section = page.locator("#call-opt-out")
    section.get_by_label("Stop marketing by").select_option("all")
    section.get_by_label("Note (ticket number, words used)").fill("Ticket 4411: please stop all offers")
    section.get_by_role("button", name="Record the opt-out").click()
    expect(page.locator("main")).to_contain_text("Opt-out recorded (All channels)")
    _shot(page, "agent-call-opt-out")
    recorder = Suppression.objects.get(customer=customer).recorded_by
    assert recorder is not None and recorder.username == "kelvin"
    assert not marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()

    flow = vendor_services.data_flow_create(
        actor=manager,
        vendor=vendor,
        direction="to_vendor",
        title="Open cases",
        data_categories="name, phone",
        personal_data=True,
        frequency="daily",
        channel="sftp",
        legal_basis="Customer service, clause 7",
        retention="90 days",
    )
    batch = vendor_services.data_exchange_log(
        actor=manager, flow=flow, occurred_at=timezone.now(), record_count=1, reference="cases.csv"
    )
    page.context.clear_cookies()
    login(page, "daniel")
    page.goto("/customers/consent/disclosures/")
    expect(page.locator("#exchanges")).to_contain_text("not recorded")
    page.get_by_role("link", name=timezone.localtime(batch.occurred_at).strftime("%-d %b %Y %H:%M")).click()
    page.get_by_label("Customer ids as sent").fill("C-900")
    page.get_by_role("button", name="Record these customers").click()
    expect(page.locator("#customers-recorded")).to_have_text("1")
    _shot(page, "dpo-exchange-recorded")
    assert ExchangeCustomer.objects.filter(exchange=batch, customer=customer).exists()
    page.goto(f"/customers/{customer.pk}/privacy/")
    expect(page.locator("#disclosures")).to_contain_text("Open cases")
