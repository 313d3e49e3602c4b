"""The demo seed: Harbour Call Centre's contract (HK$100,000 a month, 10% at risk, two critical
service levels), its obligations, a service review with actions, and a Kowloon Digital contract near
its notice date."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from accounts.models import User
from core.testing.factories import UserFactory, VendorFactory
from vendors import demo, selectors
from vendors.models import (
    ActionItem,
    Contract,
    ContractAlert,
    Obligation,
    RiskAssessment,
    ServiceLevel,
    UpdateRequest,
)

TODAY = date(2025, 6, 15)


@pytest.fixture
def demo_people(vendor, other_vendor):
    VendorFactory(code="tsuen-wan-logistics", name="Tsuen Wan Logistics Services", status="onboarding")
    VendorFactory(code="lantau-it", name="Lantau IT Managed Services", status="under_review")
    for username, role in [
        ("cs.manager", "cs_manager"),
        ("vendor.manager", "vendor_manager"),
        ("cs.agent", "cs_agent"),
    ]:
        UserFactory(username=username, roles=[role])
    UserFactory(username="portal.harbourcall", roles=["vendor_portal"], vendor=vendor)


def test_the_seed_records_harbour_calls_contract_and_its_liaison(demo_people):
    assert demo.seed(today=TODAY) is True

    contract = Contract.objects.get(reference="HC-CS-2025")
    version = contract.versions.get()
    assert (version.status, version.monthly_fee, version.at_risk_amount) == (
        "active",
        Decimal("100000.00"),
        Decimal("10000.00"),
    )
    critical = ServiceLevel.objects.filter(version=version, kind="critical").order_by("position")
    assert [(s.kpi.code, s.allocation_pct) for s in critical] == [
        ("sla_attainment", Decimal(40)),
        ("csat", Decimal(60)),
    ]
    assert contract.scorecard is not None
    assert contract.subject is not None and contract.subject.kind == "vendor_contract"
    assert Obligation.objects.filter(contract=contract).count() == 4
    assert set(
        contract.obligations.get(title="Monthly service report").instances.values_list("status", flat=True)
    ) >= {"waived", "met"}
    # Three from the monthly service review, two from the quarterly business review (v1).
    assert ActionItem.objects.filter(entry__contract=contract).count() == 5
    assert UpdateRequest.objects.filter(vendor=contract.vendor, status="open").count() == 1
    assert RiskAssessment.objects.count() == 4
    assert ContractAlert.objects.filter(
        contract__reference="KD-MKT-2024", kind="notice", lead_days=90
    ).exists()
    manager = User.objects.get(username="vendor.manager")
    flags = {f.name: (f.is_gap, f.is_overlap) for f in selectors.scope_matrix(user=manager)}
    assert flags["Social media replies"] == (True, False)
    assert flags["Web shop hosting"] == (False, True)
    assert flags["Order and delivery enquiries"] == (False, False)
    lines = selectors.data_flows(user=manager, personal_data=True)
    register = {f.title: f.exchange_count for f in lines}  # type: ignore[attr-defined]
    assert register == {"Open customer cases": 7, "Marketing audience": 0}


def test_the_seed_runs_once(demo_people):
    demo.seed(today=TODAY)
    assert demo.seed(today=TODAY) is False
    assert Contract.objects.count() == 2
