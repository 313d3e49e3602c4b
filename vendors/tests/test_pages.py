"""The vendor pages render for a vendor manager, forms go through the services, and the list pages
(register, contracts, obligation calendar, renewals) take the same number of queries for 3 rows as for 30."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.testing.factories import VendorFactory
from vendors import services
from vendors.models import Contract, LiaisonEntry, ObligationInstance, ServiceLevel, Vendor
from vendors.tests.conftest import TERMS, TODAY, pdf
from vendors.tests.factories import (
    ContractVersionFactory,
    DataExchangeFactory,
    ObligationInstanceFactory,
    RiskAssessmentFactory,
    ScopeAssignmentFactory,
    VendorServiceFactory,
)


@pytest.fixture
def signed_in(client, vendor_manager):
    client.force_login(vendor_manager)
    return client


def test_every_page_renders_for_a_vendor_manager(signed_in, contract, monthly_report, vendor_manager):
    instance = monthly_report.instances.first()
    entry = services.liaison_entry_create(
        actor=vendor_manager,
        vendor=contract.vendor,
        kind="meeting",
        occurred_at=timezone.now(),
        title="Review",
    )
    draft = services.contract_version_create(
        actor=vendor_manager, contract=contract, kind="amendment", start=date(2025, 9, 1)
    )
    urls = [
        "/vendors/",
        "/vendors/new/",
        f"/vendors/{contract.vendor_id}/",
        f"/vendors/{contract.vendor_id}/risk/",
        f"/vendors/{contract.vendor_id}/contracts/new/",
        f"/vendors/{contract.vendor_id}/liaison/new/",
        "/vendors/contracts/",
        "/vendors/contracts/export.csv",
        f"/vendors/contracts/{contract.pk}/",
        f"/vendors/contracts/{contract.pk}/obligations/new/",
        f"/vendors/versions/{contract.versions.get(number=1).pk}/",
        f"/vendors/versions/{draft.pk}/",
        "/vendors/obligations/",
        "/vendors/obligations/?status=missed&start=2025-01-01",
        "/vendors/obligations/export.csv",
        f"/vendors/obligations/{instance.pk}/",
        "/vendors/renewals/",
        "/vendors/scope/",
        "/vendors/information/",
        f"/vendors/{contract.vendor_id}/information/new/",
        f"/vendors/liaison/{entry.pk}/",
        "/",
    ]
    for url in urls:
        response = signed_in.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"


def test_the_home_dashboard_shows_the_renewals_panel(signed_in, contract):
    response = signed_in.get("/")
    assert b"Contract renewals and notices" in response.content
    assert b"Vendor obligations" in response.content


def test_registering_a_vendor_through_the_page(signed_in):
    response = signed_in.post(
        "/vendors/new/",
        {
            "code": "harbour-2",
            "name": "Harbour Two Ltd",
            "status": "prospect",
            "category": "customer_service",
            "service_model": "bpo",
        },
    )
    vendor = Vendor.objects.get(code="harbour-2")
    assert response.status_code == 302 and response["Location"] == f"/vendors/{vendor.pk}/"
    assert [(s.category, s.service_model) for s in vendor.services.all()] == [("customer_service", "bpo")]


def test_the_page_shows_a_broken_rule_next_to_the_field(signed_in, vendor):
    form = {
        "reference": "X-1",
        "title": "X",
        "our_entity": "Us Ltd",
        "alert_days": "120, 90, 30",
        "start": "2025-06-01",
        "end": "2025-05-01",
        "monthly_fee": "1000",
        "at_risk_pct": "0",
        "renewal_type": "none",
        "notice_period_days": "30",
    }
    response = signed_in.post(f"/vendors/{vendor.pk}/contracts/new/", form)
    assert response.status_code == 200
    assert "before or on the day it starts" in response.content.decode()
    assert not Contract.objects.exists()


def test_building_a_contract_on_the_pages(signed_in, draft_contract, sla_kpi, csat_kpi):
    version = draft_contract.versions.get()
    url = f"/vendors/versions/{version.pk}/"
    signed_in.post(url + "fees/", {"description": "Monthly fee", "basis": "monthly", "amount": "100000"})
    signed_in.post(url + "raci/", {"activity": "Answer enquiries", "company_role": "A", "vendor_role": "R"})
    signed_in.post(
        url + "service_levels/",
        {"kpi": sla_kpi.pk, "kind": "critical", "weight": "100", "allocation_pct": "70"},
    )
    response = signed_in.post(
        url + "service_levels/",
        {"kpi": csat_kpi.pk, "kind": "critical", "weight": "0.01", "allocation_pct": "40"},
        follow=True,
    )
    assert "110%" in response.content.decode(), "the page says why the second line was refused"
    assert ServiceLevel.objects.filter(version=version).count() == 1
    assert version.fees.count() == 1 and version.raci.count() == 1
    html = signed_in.get(url).content.decode()
    assert f'action="{url}fees/"' in html and 'name="remove" value="0"' in html
    signed_in.post(url + "fees/", {"remove": "0"})
    assert version.fees.count() == 0
    signed_in.post(url + "activate/")
    version.refresh_from_db()
    assert version.status == "active"


def test_logging_a_meeting_with_actions(signed_in, contract):
    response = signed_in.post(
        f"/vendors/{contract.vendor_id}/liaison/new/",
        {
            "kind": "meeting",
            "occurred_at": "2025-06-09T10:00",
            "title": "June service review",
            "contract": contract.pk,
            "minutes": "SLA below target in week 2 (typhoon).",
            "decisions": "Add weekend cover from July.",
            "actions-TOTAL_FORMS": "3",
            "actions-INITIAL_FORMS": "0",
            "actions-0-description": "Send the weekend staffing plan",
            "actions-0-owner_party": "vendor",
            "actions-0-due_on": "2025-06-20",
            "actions-1-description": "Approve the plan",
            "actions-1-owner_party": "company",
            "actions-1-due_on": "2025-06-27",
            "actions-2-description": "",
            "actions-2-owner_party": "vendor",
            "actions-2-due_on": "",
        },
    )
    entry = LiaisonEntry.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/vendors/liaison/{entry.pk}/"
    assert [(a.description, a.owner_party) for a in entry.actions.order_by("due_on")] == [
        ("Send the weekend staffing plan", "vendor"),
        ("Approve the plan", "company"),
    ]
    assert entry.occurred_at.astimezone(timezone.get_current_timezone()).hour == 10


def test_evidence_upload_page_refuses_a_disguised_file(signed_in, monthly_report, media_files):
    from vendors.tests.conftest import exe

    instance = monthly_report.instances.get(due_on=date(2025, 7, 5))
    response = signed_in.post(f"/vendors/obligations/{instance.pk}/evidence/", {"file": exe()}, follow=True)
    assert "is not a PDF document" in response.content.decode()
    assert media_files() == []
    response = signed_in.post(f"/vendors/obligations/{instance.pk}/evidence/", {"file": pdf()}, follow=True)
    assert "Evidence uploaded." in response.content.decode()


# --- Query counts do not grow with the number of rows --------------------------------------------


def _vendors(n: int) -> None:
    for i in range(n):
        vendor = VendorFactory(code=f"qv-{n}-{i}", name=f"Query Vendor {n}-{i}")
        VendorServiceFactory(vendor=vendor)
        RiskAssessmentFactory(vendor=vendor)


def _contracts(n: int) -> None:
    today = timezone.localdate()
    for i in range(n):
        version = ContractVersionFactory(
            contract__reference=f"Q-{n}-{i}",
            start=today - timedelta(days=300),
            end=today + timedelta(days=60),
            effective_end=today + timedelta(days=60),
            notice_by=today + timedelta(days=20),
        )
        ObligationInstanceFactory(
            obligation__contract=version.contract, due_on=today + timedelta(days=i % 20)
        )


def _functions(n: int) -> None:
    for i in range(n):
        assignment = ScopeAssignmentFactory(function__name=f"F {n}-{i}", vendor__code=f"sv-{n}-{i}")
        ScopeAssignmentFactory(function=assignment.function, mode="in_house", vendor=None)


def _flows(n: int) -> None:
    for i in range(n):
        DataExchangeFactory(flow__vendor__code=f"fv-{n}-{i}")


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    ("url", "make"),
    [
        ("/vendors/", _vendors),
        ("/vendors/contracts/", _contracts),
        ("/vendors/obligations/", _contracts),
        ("/vendors/renewals/", _contracts),
        ("/vendors/contracts/export.csv", _contracts),
        ("/vendors/obligations/export.csv", _contracts),
        ("/vendors/scope/", _functions),
        ("/vendors/information/", _flows),
    ],
)
def test_list_pages_take_the_same_queries_for_3_rows_as_for_30(signed_in, url, make):
    make(3)
    few = _queries(signed_in, url)
    make(27)
    many = _queries(signed_in, url)
    assert many == few, f"{url}: {few} queries for 3 rows, {many} for 30"


def test_money_is_shown_as_hkd_with_cents(signed_in, contract):
    html = signed_in.get(f"/vendors/contracts/{contract.pk}/").content.decode()
    assert "HK$100,000.00 a month" in html
    assert "4,000.00" in html  # 40% of the HK$10,000 at risk
    assert "6,000.00" in html  # 60%
    assert ObligationInstance.objects.count() == 0
    assert TERMS["monthly_fee"] == Decimal("100000.00") and TODAY


def test_the_admin_lists_through_restrict_and_renames_through_the_service(client, contract, admin_user):
    client.force_login(admin_user)
    for model in (
        "vendor",
        "contract",
        "contractversion",
        "obligationinstance",
        "riskassessment",
        "actionitem",
    ):
        assert client.get(f"/admin/vendors/{model}/").status_code == 200, model
    vendor = contract.vendor
    response = client.post(
        f"/admin/vendors/vendor/{vendor.pk}/change/", {"name": "Harbour Call Centre Limited"}
    )
    assert response.status_code == 302
    vendor.refresh_from_db()
    assert vendor.name == "Harbour Call Centre Limited" and vendor.status == "active"
    assert (
        client.get(f"/admin/vendors/contractversion/{contract.versions.get().pk}/change/").status_code == 200
    )
