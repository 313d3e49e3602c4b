"""Issue 5's performance clause, as a test: the obligation calendar, renewals and notices, the vendor
list, and the cooperation pages take the same number of queries at two sizes, the larger one beyond
a page (so the window that replaces the count is exercised). ``bench/bench_vendors.py`` measures the
read time at 2,000 vendors, 10,000 contracts and 500,000 obligation instances."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from vendors import cooperation
from vendors.models import (
    Contract,
    ContractAlert,
    ContractVersion,
    Idea,
    Obligation,
    ObligationInstance,
    SystemInterface,
    ThirdPartyWorker,
    Vendor,
    VendorService,
)


def _register(n: int) -> None:
    """N vendors, each with a contract in its notice window, an open alert, an obligation with three
    instances, an interface, an idea and a worker: bulk-made, the state the pages read."""
    today = timezone.localdate()
    vendors = Vendor.objects.bulk_create(
        [Vendor(code=f"q{n}-{i}", name=f"Query Vendor {n}-{i:03d}", status="active") for i in range(n)]
    )
    VendorService.objects.bulk_create(
        [VendorService(vendor=v, category="customer_service", service_model="bpo") for v in vendors]
    )
    contracts = Contract.objects.bulk_create(
        [
            Contract(vendor=v, reference=f"Q{n}-{i}", title="Hotline", our_entity="Us", vendor_entity=v.name)
            for i, v in enumerate(vendors)
        ]
    )
    versions = ContractVersion.objects.bulk_create(
        [
            ContractVersion(
                contract=c,
                number=1,
                status="active",
                start=today - timedelta(days=300),
                end=today + timedelta(days=60),
                effective_end=today + timedelta(days=60),
                notice_by=today + timedelta(days=20),
                monthly_fee=Decimal("50000"),
            )
            for c in contracts
        ]
    )
    ContractAlert.objects.bulk_create(
        [
            ContractAlert(
                contract=v.contract,
                version=v,
                kind="notice",
                due_on=v.notice_by,
                lead_days=30,
                raised_on=today,
            )
            for v in versions
        ]
    )
    obligations = Obligation.objects.bulk_create(
        [Obligation(contract=c, title="Monthly report", first_due_on=today) for c in contracts]
    )
    ObligationInstance.objects.bulk_create(
        [
            ObligationInstance(obligation=o, due_on=today + timedelta(days=30 * k))
            for o in obligations
            for k in range(3)
        ]
    )
    SystemInterface.objects.bulk_create(
        [
            SystemInterface(
                vendor=v,
                our_system="Steward",
                their_system="CRM",
                direction="both",
                data_exchanged="Tickets",
                channel="api",
                frequency="daily",
            )
            for v in vendors
        ]
    )
    Idea.objects.bulk_create(
        [Idea(vendor=v, source="vendor", title="Idea", description="An idea") for v in vendors]
    )
    ThirdPartyWorker.objects.bulk_create(
        [
            ThirdPartyWorker(vendor=v, name=f"Worker {v.code}", role="Agent", onboarded_on=date(2025, 1, 1))
            for v in vendors
        ]
    )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.mark.parametrize(
    "url",
    [
        "/vendors/obligations/",
        "/vendors/renewals/",
        "/vendors/",
        "/vendors/interfaces/",
        "/vendors/ideas/",
        "/vendors/staff/",
        "/vendors/reviews/",
    ],
)
def test_the_pages_take_the_same_queries_at_two_sizes(client, vendor_manager, url):
    client.force_login(vendor_manager)
    _register(2)
    few = _queries(client, url)
    _register(58)  # 60 in all: more than one page of 50
    many = _queries(client, url)
    assert many == few, f"{url}: {few} queries with 2 vendors, {many} with 60"


def test_the_review_page_takes_the_same_queries_whatever_the_history(
    client, contract, monthly_report, vendor_manager
):
    review = cooperation.review_schedule(
        actor=vendor_manager,
        contract=contract,
        kind="annual",
        period_start=date(2025, 1, 1),
        period_end=date(2025, 12, 31),
        scheduled_on=date(2026, 1, 31),
    )
    client.force_login(vendor_manager)
    few = _queries(client, f"/vendors/reviews/{review.pk}/")
    for n in range(5):
        cooperation.idea_submit(
            actor=vendor_manager, vendor=contract.vendor, title=f"Idea {n}", description="More."
        )
    ObligationInstance.objects.filter(obligation=monthly_report, due_on__lt=date(2025, 6, 1)).update(
        status="missed"
    )
    many = _queries(client, f"/vendors/reviews/{review.pk}/")
    assert many == few
