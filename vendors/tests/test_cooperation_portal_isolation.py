"""Portal isolation for the cooperation work: Harbour Call's portal user sees Harbour Call's
interfaces, shared documents (once shared), its own ideas, its people and its improvement plans;
Kowloon Digital's portal user sees none of it through pages or the API, and another vendor's ids
are a 404 that is written to the audit trail."""

from __future__ import annotations

from datetime import date

import pytest

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked
from vendors import cooperation
from vendors.tests.conftest import pdf

SECRETS = ("Genesys", "Hotline call script", "Chatbot for order tracking", "Chan Tai Man", "Recover SLA")


@pytest.fixture
def harbour(contract, vendor, vendor_manager, portal_user):
    interface = cooperation.interface_create(
        actor=vendor_manager,
        vendor=vendor,
        our_system="Steward ticketing",
        their_system="Genesys Cloud",
        direction="both",
        data_exchanged="Tickets",
        channel="api",
        frequency="real_time",
    )
    document = cooperation.shared_document_create(
        actor=vendor_manager,
        vendor=vendor,
        title="Hotline call script",
        upload=pdf(),
        shared_with_vendor=True,
    )
    idea = cooperation.idea_submit(
        actor=portal_user,
        vendor=vendor,
        title="Chatbot for order tracking",
        description="From the tracking feed.",
    )
    worker = cooperation.worker_create(
        actor=vendor_manager, vendor=vendor, name="Chan Tai Man", role="Agent", onboarded_on=date(2025, 3, 3)
    )
    review = cooperation.review_schedule(
        actor=vendor_manager,
        contract=contract,
        kind="quarterly",
        period_start=date(2025, 4, 1),
        period_end=date(2025, 6, 30),
        scheduled_on=date(2025, 7, 14),
    )
    cooperation.review_decide(
        actor=vendor_manager,
        review=review,
        decision="improvement_plan",
        rationale="Scores fell.",
        figures={},
        plan=cooperation.PlanSpec(
            title="Recover SLA",
            objective="SLA ≥ 90%",
            due_on=date(2027, 9, 30),
            milestones=[cooperation.MilestoneSpec("Roster", date(2027, 8, 1))],
        ),
    )
    return {"interface": interface, "document": document, "idea": idea, "worker": worker, "review": review}


def test_the_vendors_own_portal_user_sees_its_own(client, harbour, portal_user):
    for url, key, expected in [
        ("/api/v1/vendors/interfaces", "their_system", "Genesys Cloud"),
        ("/api/v1/vendors/shared-documents", "title", "Hotline call script"),
        ("/api/v1/vendors/ideas", "title", "Chatbot for order tracking"),
        ("/api/v1/vendors/workers", "name", "Chan Tai Man"),
        ("/api/v1/vendors/improvement-plans", "title", "Recover SLA"),
    ]:
        items = api_call(client, "get", url, portal_user).json()["items"]
        assert [item[key] for item in items] == [expected], url
    client.force_login(portal_user)
    html = client.get("/vendors/portal/").content.decode()
    for secret in ("Hotline call script", "Chatbot for order tracking", "Chan Tai Man", "Recover SLA"):
        assert secret in html


def test_another_vendors_portal_user_sees_nothing_of_it(client, harbour, outsider):
    ids = {name: obj.pk for name, obj in harbour.items()}
    version = harbour["document"].versions.get()
    for url in [
        "/api/v1/vendors/interfaces",
        "/api/v1/vendors/governance",
        "/api/v1/vendors/shared-documents",
        "/api/v1/vendors/ideas",
        "/api/v1/vendors/workers",
        "/api/v1/vendors/access-alerts",
        "/api/v1/vendors/improvement-plans",
        f"/api/v1/vendors/interfaces/{ids['interface']}",
        f"/api/v1/vendors/shared-documents/{ids['document']}",
        f"/api/v1/vendors/shared-document-versions/{version.pk}/download",
        f"/api/v1/vendors/ideas/{ids['idea']}",
        f"/api/v1/vendors/workers/{ids['worker']}",
    ]:
        assert_outsider_blocked(client, outsider, "get", url, secrets=SECRETS)
    client.force_login(outsider)
    html = client.get("/vendors/portal/").content.decode()
    assert not any(secret in html for secret in SECRETS)
    for url in [
        f"/vendors/shared/{ids['document']}/",
        f"/vendors/shared/versions/{version.pk}/file/",
        f"/vendors/ideas/{ids['idea']}/",
        f"/vendors/staff/{ids['worker']}/",
        f"/vendors/reviews/{ids['review']}/",
    ]:
        assert client.get(url).status_code in (403, 404), url
    denied = AuditEvent.objects.filter(action="access_denied", actor_id=outsider.pk)
    assert {"vendors.idea", "vendors.thirdpartyworker", "vendors.shareddocument"} <= set(
        denied.values_list("object_type", flat=True)
    )
