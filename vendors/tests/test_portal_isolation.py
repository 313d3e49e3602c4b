"""The vendor portal: a vendor's user sees their own contract summary, obligations (and uploads
evidence), update requests and the actions assigned to the vendor — and nothing of any other vendor,
through pages, the API or exports. Another vendor's ids are a 404, and each attempt is audited."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from vendors import services
from vendors.tests.conftest import TODAY, pdf

SECRETS = (
    "HC-CS-2025",
    "Monthly service report",
    "Weekend staffing plan",
    "Chatbot pilot figures",
    "Harbour Call",
)


@pytest.fixture
def harbour_world(contract, monthly_report, vendor_manager, portal_user):
    """Harbour Call's things: the contract, an obligation with evidence, a request, a meeting with actions."""
    july = monthly_report.instances.get(due_on=date(2025, 7, 5))
    evidence = services.evidence_upload(actor=portal_user, instance=july, upload=pdf())
    request = services.update_request_create(
        actor=vendor_manager,
        vendor=contract.vendor,
        title="Chatbot pilot figures",
        details="Containment rate and CSAT of the pilot.",
        due_on=date(2025, 6, 30),
        today=TODAY,
    )
    entry = services.liaison_entry_create(
        actor=vendor_manager,
        vendor=contract.vendor,
        contract=contract,
        kind="meeting",
        occurred_at=timezone.now(),
        title="June service review",
        minutes="Internal: we are tendering the service in 2026.",
        actions=[
            services.ActionSpec("Weekend staffing plan", "vendor", date(2025, 6, 20)),
            services.ActionSpec("Internal: benchmark the fee", "company", date(2025, 6, 30)),
        ],
    )
    return {
        "contract": contract,
        "version": contract.versions.get(),
        "obligation": monthly_report,
        "instance": july,
        "evidence": evidence,
        "request": request,
        "entry": entry,
        "vendor_action": entry.actions.get(owner_party="vendor"),
        "our_action": entry.actions.get(owner_party="company"),
    }


# --- The vendor's own user sees its own things -------------------------------------------------------


def test_the_portal_page_shows_the_vendors_own_contract_obligations_requests_and_actions(
    client, harbour_world, portal_user
):
    client.force_login(portal_user)
    html = client.get("/vendors/portal/").content.decode()
    assert "HC-CS-2025" in html and "HK$100,000.00 a month" in html
    assert "Monthly service report" in html
    assert "Chatbot pilot figures" in html
    assert "Weekend staffing plan" in html
    assert "Internal: benchmark the fee" not in html, "our own actions stay internal"
    assert "tendering" not in html, "meeting minutes stay internal"


def test_the_portal_user_answers_a_request_and_moves_an_action(client, harbour_world, portal_user):
    client.force_login(portal_user)
    request = harbour_world["request"]
    client.post(f"/vendors/requests/{request.pk}/respond/", {"response": "Containment 41%, CSAT 88%."})
    request.refresh_from_db()
    assert (request.status, request.response) == ("answered", "Containment 41%, CSAT 88%.")

    action = harbour_world["vendor_action"]
    response = client.post(
        f"/vendors/actions/{action.pk}/",
        {"status": "done", "progress_note": "Sent on 18 June."},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200 and "Sent on 18 June." in response.content.decode()
    action.refresh_from_db()
    assert action.status == "done" and action.completed_at is not None


def test_the_portal_user_cannot_touch_our_own_actions_or_close_requests(client, harbour_world, portal_user):
    ours = harbour_world["our_action"]
    response = api_call(
        client, "patch", f"/api/v1/vendors/action-items/{ours.pk}", portal_user, {"status": "done"}
    )
    assert response.status_code == 404
    response = api_call(
        client, "post", f"/api/v1/vendors/update-requests/{harbour_world['request'].pk}/close", portal_user
    )
    assert response.status_code == 403
    ours.refresh_from_db()
    assert ours.status == "open"


def test_the_portal_user_uploads_evidence_through_the_page(client, harbour_world, portal_user):
    client.force_login(portal_user)
    instance = harbour_world["obligation"].instances.get(due_on=date(2025, 8, 5))
    response = client.post(
        f"/vendors/obligations/{instance.pk}/evidence/", {"file": pdf("aug.pdf")}, follow=True
    )
    assert "Evidence uploaded." in response.content.decode()
    assert instance.evidence.get().uploaded_by == portal_user


def test_the_portal_user_reads_through_the_api_only_their_vendors_things(client, harbour_world, portal_user):
    items = api_call(client, "get", "/api/v1/vendors/action-items", portal_user).json()["items"]
    assert [a["description"] for a in items] == ["Weekend staffing plan"]
    calendar = api_call(client, "get", "/api/v1/vendors/obligation-instances", portal_user).json()
    assert calendar["count"] == 24
    vendors = api_call(client, "get", "/api/v1/vendors/", portal_user).json()["items"]
    assert [v["code"] for v in vendors] == ["harbourcall"]


# --- Another vendor's user sees nothing ---------------------------------------------------------------


def _pages(world, vendor) -> list[str]:
    return [
        f"/vendors/{vendor.pk}/",
        f"/vendors/{vendor.pk}/risk/",
        f"/vendors/{vendor.pk}/contracts/new/",
        f"/vendors/{vendor.pk}/liaison/new/",
        f"/vendors/contracts/{world['contract'].pk}/",
        f"/vendors/versions/{world['version'].pk}/",
        f"/vendors/obligations/{world['instance'].pk}/",
        f"/vendors/evidence/{world['evidence'].pk}/",
        f"/vendors/liaison/{world['entry'].pk}/",
    ]


def test_another_vendors_user_gets_404_on_every_page_and_each_attempt_is_audited(
    client, harbour_world, vendor, outsider
):
    client.force_login(outsider)
    before = AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_DENIED).count()
    pages = _pages(harbour_world, vendor)
    for url in pages:
        response = client.get(url)
        assert response.status_code == 404, f"{url} gave {response.status_code}"
        text = response.content.decode()
        assert not any(secret in text for secret in SECRETS), f"{url} leaked"
    denied = AuditEvent.objects.filter(
        action=AuditEvent.Action.ACCESS_DENIED, actor_username=outsider.username
    )
    assert denied.count() - before == len(pages)


def test_another_vendors_user_cannot_write_through_the_pages(client, harbour_world, outsider):
    client.force_login(outsider)
    world = harbour_world
    posts = [
        (f"/vendors/obligations/{world['instance'].pk}/evidence/", {"file": pdf()}),
        (f"/vendors/requests/{world['request'].pk}/respond/", {"response": "Hijacked"}),
        (f"/vendors/actions/{world['vendor_action'].pk}/", {"status": "done"}),
        (f"/vendors/obligations/{world['instance'].pk}/met/", {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    world["request"].refresh_from_db()
    world["vendor_action"].refresh_from_db()
    assert world["request"].response == "" and world["vendor_action"].status == "open"
    assert world["instance"].evidence.count() == 1


def test_another_vendors_portal_shows_none_of_the_first_vendor(client, harbour_world, outsider):
    client.force_login(outsider)
    html = client.get("/vendors/portal/").content.decode()
    assert "Kowloon Digital" in html
    assert not any(secret in html for secret in SECRETS)
    for url in ("/vendors/obligations/", "/", "/vendors/"):
        text = client.get(url, follow=True).content.decode()
        assert not any(secret in text for secret in SECRETS), url


def test_exports_show_another_vendors_user_nothing(client, harbour_world, outsider):
    client.force_login(outsider)
    for url in ("/vendors/obligations/export.csv", "/vendors/contracts/export.csv"):
        response = client.get(url)
        assert response.status_code == 200
        text = response.content.decode()
        assert text.count("\n") == 1, f"{url} exported rows: {text}"
        assert not any(secret in text for secret in SECRETS)


def test_the_vendors_own_export_has_its_obligations(client, harbour_world, portal_user):
    client.force_login(portal_user)
    text = client.get("/vendors/obligations/export.csv").content.decode()
    assert text.count("Monthly service report") == 24
    assert AuditEvent.objects.filter(action="export", object_type="vendors.obligationinstance").exists()


@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("get", "/api/v1/vendors/{vendor}", None),
        ("get", "/api/v1/vendors/contracts/{contract}", None),
        ("get", "/api/v1/vendors/contracts/{contract}/obligations", None),
        ("get", "/api/v1/vendors/contracts/{contract}/compliance?start=2025-01-01&end=2025-12-31", None),
        ("get", "/api/v1/vendors/contract-versions/{version}", None),
        ("get", "/api/v1/vendors/obligations/{obligation}", None),
        ("get", "/api/v1/vendors/obligation-instances/{instance}", None),
        ("get", "/api/v1/vendors/obligation-instances/{instance}/evidence", None),
        ("get", "/api/v1/vendors/evidence/{evidence}/download", None),
        ("get", "/api/v1/vendors/update-requests/{request}", None),
        ("get", "/api/v1/vendors/liaison/{entry}", None),
        ("post", "/api/v1/vendors/update-requests/{request}/respond", {"response": "Hijacked"}),
        ("patch", "/api/v1/vendors/action-items/{vendor_action}", {"status": "done"}),
        ("post", "/api/v1/vendors/obligation-instances/{instance}/met", {}),
        ("get", "/api/v1/vendors/obligation-instances", None),
        ("get", "/api/v1/vendors/contracts", None),
        ("get", "/api/v1/vendors/action-items", None),
        ("get", "/api/v1/vendors/update-requests", None),
        ("get", "/api/v1/vendors/liaison", None),
        ("get", "/api/v1/vendors/renewals", None),
        ("get", "/api/v1/vendors/alerts", None),
    ],
)
def test_another_vendors_user_gets_nothing_from_the_api(
    client, harbour_world, vendor, outsider, no_role_user, method, url, body
):
    ids = {key: getattr(value, "pk", None) for key, value in harbour_world.items()}
    url = url.format(vendor=vendor.pk, **ids)
    for persona in (outsider, no_role_user):
        assert_outsider_blocked(client, persona, method, url, body=body, secrets=SECRETS)


def test_an_api_attempt_on_another_vendors_id_is_audited(client, harbour_world, outsider):
    headers = bearer(outsider)
    client.get(f"/api/v1/vendors/contracts/{harbour_world['contract'].pk}", **headers)
    event = AuditEvent.objects.filter(action=AuditEvent.Action.ACCESS_DENIED).latest("seq")
    assert (event.object_type, event.object_id, event.actor_username) == (
        "vendors.contract",
        str(harbour_world["contract"].pk),
        outsider.username,
    )
