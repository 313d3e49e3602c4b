"""Issue 7, "Done when", in a real browser, for the data-protection officer, in one sitting:

- see which PICS and consents apply to a customer;
- process an access request end to end within the clock (log, verify, copy, comply);
- refuse one with a reason that lands in the log book;
- run the retention job's dry run (nothing changes) and then the job;
- show who read the customer's details and why.

Set ``STEWARD_SHOTS=/some/dir`` to keep a screenshot of every step (the browser fixture keeps the
last one in ``test-artifacts/screenshots`` anyway).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from core.testing.browser import login
from core.testing.factories import UserFactory
from customers import collection, field_access, marketing
from customers.models import BehaviourEvent, ConsentEntry
from customers.privacy_models import PrivacyRequest, RefusalLogEntry, RetentionRun
from customers.tests.dpo_fixtures import make_customer, make_event

pytestmark = pytest.mark.browser


def _shot(page: Page, name: str) -> None:
    folder = os.environ.get("STEWARD_SHOTS")
    if folder:
        page.screenshot(path=str(Path(folder) / f"dpo-{name}.png"), full_page=True)


def _setup() -> Any:
    dpo = UserFactory(username="daniel", roles=["data_protection_officer"])
    agent = UserFactory(username="kelvin", roles=["cs_agent"])
    statement = collection.statement_create(
        actor=dpo,
        title="Online shop PICS",
        purposes="Processing orders, delivery, after-sales service.",
        transferee_classes="Delivery companies; payment processors.",
        access_contact="Data Protection Officer, privacy@example.hk",
        direct_marketing="With your consent we use your name and e-mail for offers on our own products.",
        items=[
            {"field": "given_name", "obligatory": True, "consequence": "We cannot address your order."},
            {"field": "email", "obligatory": True, "consequence": "We cannot send your receipt."},
        ],
    )
    statement = collection.statement_publish(actor=dpo, statement=statement)
    form = collection.form_create(
        actor=dpo,
        name="Web checkout",
        channel="web",
        statement=statement,
        fields=[{"field": "given_name", "obligatory": True}, {"field": "email", "obligatory": True}],
    )
    customer = make_customer(email="chan.taiman@example.hk")
    collection.collection_record(actor=dpo, customer=customer, form=form, supplied=["given_name", "email"])
    purpose = marketing.purpose_create(actor=dpo, code="own-offers", name="Offers on our own products")
    marketing.consent_grant(
        actor=dpo,
        customer=customer,
        purpose=purpose,
        channel="email",
        method=ConsentEntry.Method.ONLINE_TICK,
        notice_text="We would like to send you offers on our own products by e-mail.",
        source="Checkout page, web shop",
    )
    # An agent opens the customer's details (masked): a read the DPO must be able to show.
    field_access.customer_fields_for(agent, customer)
    make_event(customer, timezone.now() - timedelta(days=800), query="oolong")  # past any 13-month rule
    make_event(customer, timezone.now() - timedelta(days=3))
    return customer


def test_the_dpo_does_everything_the_issue_asks_in_the_browser(page):
    customer = _setup()
    login(page, "daniel")

    # 1. Which PICS and consents apply to the customer.
    page.goto(f"/customers/{customer.pk}/privacy/")
    expect(page.locator("main")).to_contain_text("How the data was collected")
    expect(page.get_by_role("link", name="v1")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Web checkout")
    expect(page.locator("#consent-state")).to_contain_text("Offers on our own products")
    expect(page.locator("#consent-state")).to_contain_text("consented")
    _shot(page, "1-pics-and-consents")

    # 2. An access request, end to end, within the 40-day clock.
    page.goto("/customers/privacy/")
    page.get_by_role("link", name="Log a request").click()
    page.get_by_label("Kind").select_option("access")
    page.get_by_label("Customer id").fill(str(customer.pk))
    page.get_by_label("Requester name").fill("Chan Siu Ming")
    page.get_by_label("Requester contact").fill("siuming.chan@example.hk")
    page.get_by_role("button", name="Log the request").click()
    expect(page.locator("#days-left")).to_contain_text("40 days left")
    page.get_by_label("How the identity was verified").fill("HKID sighted at the Mong Kok counter")
    page.get_by_role("button", name="Identity verified").click()
    with page.expect_download() as download:
        page.locator("#copy-pdf").click()
    assert download.value.suggested_filename.endswith(".pdf")
    page.get_by_role("button", name="Mark complied with").click()
    expect(page.locator("#status")).to_have_text("Complied with")
    _shot(page, "2-access-request-complied")
    done = PrivacyRequest.objects.get()
    assert done.closed_at is not None and timezone.localdate(done.closed_at) <= done.due_on

    # 3. A second request refused, with the reason in the log book.
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
    _shot(page, "3-refusal-log-book")
    assert RefusalLogEntry.objects.count() == 1

    # 4. Retention: a rule, the dry run (nothing changes), then the job.
    page.goto("/customers/retention/")
    page.get_by_label("Category").select_option("events")
    page.get_by_label("Months").fill("13")
    page.get_by_label("Action").select_option("erase")
    page.get_by_label("Basis").fill("Browsing history is only useful for a year.")
    page.get_by_role("button", name="Save rule").click()
    expect(page.locator("main")).to_contain_text("Retention rule saved")
    page.locator("#dry-run").click()
    expect(page.locator("main")).to_contain_text("Nothing was changed")
    expect(page.locator("#report tbody")).to_contain_text("events")
    expect(page.locator("#report tfoot")).to_contain_text("1")
    _shot(page, "4a-retention-dry-run")
    assert BehaviourEvent.objects.count() == 2
    page.locator("#real-run").click()
    expect(page.locator("main")).to_contain_text("These rows were erased or anonymised")
    _shot(page, "4b-retention-run")
    assert BehaviourEvent.objects.count() == 1
    assert list(RetentionRun.objects.order_by("started_at").values_list("dry_run", flat=True))[-2:] == [
        True,
        False,
    ]

    # 5. Who read the customer's details, and why.
    page.goto(f"/customers/{customer.pk}/privacy/")
    page.get_by_role("link", name="Full access log").click()
    table = page.locator("table.data").first
    expect(table).to_contain_text("kelvin")
    expect(table).to_contain_text("routine view (contact details masked)")
    expect(table).to_contain_text("daniel")
    _shot(page, "5-access-log")
