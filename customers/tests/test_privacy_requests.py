"""DPP6, s18–s28: data access and correction requests, end to end, through the services and the API."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.testing.factories import UserFactory
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers import privacy
from customers.models import Customer
from customers.privacy_models import (
    CorrectionNotice,
    PrivacyRequest,
    RefusalGround,
    RefusalLogEntry,
    RequestStep,
)
from customers.tests.dpo_fixtures import make_customer, make_event, make_order
from vendors import services as vendor_services
from vendors.models import DataFlow, VendorContact

pytestmark = pytest.mark.django_db
API = "/api/v1/customers/privacy-requests"


@pytest.fixture
def customer():
    return make_customer()


def _access(dpo, customer, received_at=None):
    return privacy.privacy_request_create(
        actor=dpo,
        kind="access",
        customer=customer,
        requester_name="Chan Siu Ming",
        requester_contact="siuming.chan@example.hk",
        received_at=received_at or timezone.now() - timedelta(days=3),
    )


def test_an_access_request_is_answered_end_to_end_within_the_clock(client, dpo, customer):
    received = timezone.now() - timedelta(days=5)
    make_order(customer, received - timedelta(days=30), ref="BEFORE")
    make_order(customer, received + timedelta(days=1), ref="AFTER")
    request = _access(dpo, customer, received)
    assert request.due_on == timezone.localtime(received).date() + timedelta(days=40)
    assert request.status == PrivacyRequest.Status.RECEIVED

    privacy.privacy_request_verify_identity(actor=dpo, request=request, method="HKID sighted at the counter")
    privacy.privacy_request_set_fee(actor=dpo, request=request, amount="50", basis="photocopying")
    body, _ = privacy.privacy_request_export(actor=dpo, request=request, fmt="json")
    copy = json.loads(body)
    # The copy reflects what was held when the request arrived (s19(3)).
    assert [o["reference"] for o in copy["orders"]] == ["BEFORE"]
    assert copy["profile"]["email"] == "siuming.chan@example.hk"
    pdf, _ = privacy.privacy_request_export(actor=dpo, request=request, fmt="pdf")
    assert pdf.startswith(b"%PDF")

    done = privacy.privacy_request_complete(actor=dpo, request=request)
    assert done.status == PrivacyRequest.Status.COMPLETED
    steps = list(done.steps.values_list("kind", flat=True))
    assert steps[0] == RequestStep.Kind.RECEIVED and steps[-1] == RequestStep.Kind.COMPLETED
    assert done.steps.get(kind=RequestStep.Kind.COMPLETED).note == "within the 40 days"


def test_access_cannot_be_completed_before_a_copy_is_produced(dpo, customer):
    request = _access(dpo, customer)
    privacy.privacy_request_verify_identity(actor=dpo, request=request, method="video call")
    with pytest.raises(ValidationError, match="copy"):
        privacy.privacy_request_complete(actor=dpo, request=request)


def test_identity_not_verified_means_nothing_is_supplied_and_the_request_is_refused(dpo, customer):
    request = _access(dpo, customer)
    with pytest.raises(ValidationError, match="s20"):
        privacy.privacy_request_export(actor=dpo, request=request, fmt="json")
    with pytest.raises(ValidationError, match="identity"):
        privacy.privacy_request_complete(actor=dpo, request=request)
    refused = privacy.privacy_request_refuse(
        actor=dpo,
        request=request,
        ground=RefusalGround.IDENTITY_NOT_VERIFIED,
        reasons="The copy of the HKID did not match the account holder.",
    )
    assert refused.status == PrivacyRequest.Status.REFUSED
    assert refused.log_entry.ground == "s20_1_a"


def test_a_refusal_is_logged_with_its_reason_and_kept_four_years(dpo, customer):
    request = _access(dpo, customer)
    privacy.privacy_request_refuse(
        actor=dpo,
        request=request,
        ground=RefusalGround.REPEATED,
        reasons="Third identical request this month.",
    )
    entry = RefusalLogEntry.objects.get(request=request)
    today = timezone.localdate()
    assert entry.reasons == "Third identical request this month."
    assert entry.keep_until.year == today.year + 4
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        RefusalLogEntry.objects.all().delete()
    with pytest.raises(PermissionError):
        RefusalLogEntry.objects.update(reasons="changed")
    # After four years the entry may go.
    RefusalLogEntry.objects.filter(pk=entry.pk)  # still there
    entry.keep_until = today - timedelta(days=1)
    assert entry.delete()[0] == 1


def test_a_refusal_needs_a_ground_allowed_for_the_kind_and_written_reasons(dpo, customer):
    request = _access(dpo, customer)
    with pytest.raises(ValidationError):
        privacy.privacy_request_refuse(actor=dpo, request=request, ground=RefusalGround.REPEATED, reasons=" ")
    with pytest.raises(ValidationError):
        privacy.privacy_request_refuse(
            actor=dpo,
            request=request,
            ground=RefusalGround.NOT_SATISFIED_INACCURATE,
            reasons="s24 is for corrections",
        )
    assert not RefusalLogEntry.objects.exists()


def test_no_fee_for_a_correction_and_no_excessive_fee_for_access(dpo, customer):
    correction = privacy.privacy_request_create(
        actor=dpo,
        kind="correction",
        customer=customer,
        requester_name="Chan Siu Ming",
        requester_contact="siuming.chan@example.hk",
        received_at=timezone.now(),
        requested_changes={"address_line": "Flat 3B, 20 Shing Yip Street"},
    )
    with pytest.raises(ValidationError, match="No fee"):
        privacy.privacy_request_set_fee(actor=dpo, request=correction, amount="10", basis="admin")
    access = _access(dpo, customer)
    with pytest.raises(ValidationError, match="excessive"):
        privacy.privacy_request_set_fee(actor=dpo, request=access, amount="5000", basis="copy")
    correction.refresh_from_db()
    assert correction.fee == Decimal(0)


def test_other_peoples_data_is_redacted_from_the_copy(dpo, customer):
    received = timezone.now()
    make_event(customer, received - timedelta(days=2), query="gift for mary.wong@example.hk 98765432")
    make_event(customer, received - timedelta(days=1), query="delivery to siuming.chan@example.hk")
    request = _access(dpo, customer, received)
    privacy.privacy_request_verify_identity(actor=dpo, request=request, method="in person")
    copy = json.loads(privacy.privacy_request_export(actor=dpo, request=request, fmt="json")[0])
    searches = [e["search"] for e in copy["behaviour_events"]]
    assert "mary.wong" not in json.dumps(copy) and "98765432" not in json.dumps(copy)
    assert searches[0].count(privacy.REDACTED_OTHER) == 2
    assert searches[1] == "delivery to siuming.chan@example.hk"


def test_a_correction_is_applied_and_passed_to_recent_recipients_only(
    dpo, customer, vendor, other_vendor, vendor_manager, mailoutbox, django_capture_on_commit_callbacks
):
    VendorContact.objects.create(vendor=vendor, name="Ops desk", email="ops@harbourcall.hk", is_primary=True)
    recent = vendor_services.data_flow_create(
        actor=vendor_manager,
        vendor=vendor,
        direction=DataFlow.Direction.TO_VENDOR,
        title="Open cases",
        data_categories="name, phone",
        personal_data=True,
        frequency="daily",
        channel="sftp",
        legal_basis="Customer service, clause 7",
        retention="90 days",
    )
    stale = vendor_services.data_flow_create(
        actor=vendor_manager,
        vendor=other_vendor,
        direction=DataFlow.Direction.TO_VENDOR,
        title="Campaign list",
        data_categories="name, e-mail",
        personal_data=True,
        frequency="monthly",
        channel="sftp",
        legal_basis="Marketing, clause 3",
        retention="30 days",
    )
    vendor_services.data_exchange_log(
        actor=vendor_manager, flow=recent, occurred_at=timezone.now() - timedelta(days=20), record_count=300
    )
    vendor_services.data_exchange_log(
        actor=vendor_manager, flow=stale, occurred_at=timezone.now() - timedelta(days=400), record_count=900
    )

    request = privacy.privacy_request_create(
        actor=dpo,
        kind="correction",
        customer=customer,
        requester_name="Chan Siu Ming",
        requester_contact="siuming.chan@example.hk",
        received_at=timezone.now(),
        requested_changes={"phone": "+85261234567", "address_line": "Flat 3B, 20 Shing Yip Street"},
    )
    privacy.privacy_request_verify_identity(actor=dpo, request=request, method="HKID")
    with django_capture_on_commit_callbacks(execute=True):
        privacy.privacy_request_complete(actor=dpo, request=request)

    customer.refresh_from_db()
    assert customer.phone == "+85261234567"
    notice = CorrectionNotice.objects.get()
    assert notice.vendor == vendor and notice.fields == ["address_line", "phone"]
    assert notice.sent_to == "ops@harbourcall.hk"
    assert [m.to for m in mailoutbox] == [["ops@harbourcall.hk"]]
    assert "+85261234567" not in mailoutbox[0].body  # the notice names fields, never values


def test_the_copy_notes_corrections_made_after_the_request_arrived(dpo, customer):
    request = _access(dpo, customer, timezone.now() - timedelta(days=2))
    privacy.customer_correct(
        actor=dpo, customer=customer, changes={"email": "new@example.hk"}, purpose="test"
    )
    privacy.privacy_request_verify_identity(actor=dpo, request=request, method="HKID")
    copy = json.loads(privacy.privacy_request_export(actor=dpo, request=request, fmt="json")[0])
    assert copy["profile"]["email"] == "siuming.chan@example.hk"
    assert copy["corrections_since_receipt"] == [
        {"field": "email", "as_held": "siuming.chan@example.hk", "now": "new@example.hk"}
    ]


def test_reminders_go_out_once_per_threshold_and_when_overdue(
    dpo, customer, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.STEWARD_DAR_REMINDER_DAYS = [7, 2]
    request = _access(dpo, customer, timezone.now() - timedelta(days=34))
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        assert privacy.privacy_reminders_send(today=today) == 1  # 6 or 5 days left: the 7-day reminder
    assert privacy.privacy_reminders_send(today=today) == 0
    assert privacy.privacy_reminders_send(today=request.due_on - timedelta(days=1)) == 1
    assert privacy.privacy_reminders_send(today=request.due_on + timedelta(days=1)) == 1
    assert request.steps.filter(kind=RequestStep.Kind.REMINDER).count() == 3
    assert mailoutbox and dpo.email in mailoutbox[0].to


# --- API ----------------------------------------------------------------------------------------------


def test_the_api_runs_the_same_workflow(client, dpo, customer):
    created = api_call(
        client,
        "post",
        API,
        dpo,
        {
            "kind": "access",
            "customer_id": customer.pk,
            "requester_name": "Chan Siu Ming",
            "requester_contact": "siuming.chan@example.hk",
            "received_at": "2026-11-20T10:00:00+08:00",
        },
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["due_on"] == "2026-12-30"
    assert api_call(client, "post", f"{API}/{pk}/verify-identity", dpo, {"method": "HKID"}).status_code == 200
    copy = api_call(client, "get", f"{API}/{pk}/copy?format=pdf", dpo)
    assert copy.status_code == 200 and copy["Content-Type"] == "application/pdf"
    done = api_call(client, "post", f"{API}/{pk}/complete", dpo)
    assert done.json()["status"] == "completed"


def test_bad_input_is_a_problem_and_writes_nothing(client, dpo, customer):
    headers = bearer(dpo)
    with nothing_written(PrivacyRequest, RequestStep):
        response = client.post(
            API,
            data=json.dumps(
                {
                    "kind": "correction",
                    "customer_id": customer.pk,
                    "requester_name": "Chan",
                    "requester_contact": "x@example.hk",
                    "received_at": "2026-11-20T10:00:00+08:00",
                    "requested_changes": {"tier": "vip"},
                }
            ),
            content_type="application/json",
            **headers,
        )
    assert_problem(response, 422)
    request = _access(dpo, customer)
    with nothing_written(PrivacyRequest, RequestStep):
        response = client.post(
            f"{API}/{request.pk}/fee",
            data=json.dumps({"amount": "9999", "basis": "x"}),
            content_type="application/json",
            **headers,
        )
    assert_problem(response, 422)


def test_only_the_dpo_reaches_privacy_requests(client, dpo, customer, outsider, no_role_user):
    request = _access(dpo, customer)
    marketing = UserFactory(username="mandy", roles=["marketing"])
    agent = UserFactory(username="kelvin", roles=["cs_agent"])
    auditor = UserFactory(username="audrey", roles=["auditor"])
    users: list[Any] = [outsider, no_role_user, marketing, agent, auditor]
    for user in users:
        assert_outsider_blocked(client, user, "GET", f"{API}/{request.pk}", secrets=("Chan Siu Ming",))
        assert_outsider_blocked(client, user, "GET", API, secrets=("Chan Siu Ming",))
        assert_outsider_blocked(
            client, user, "POST", f"{API}/{request.pk}/verify-identity", body={"method": "x"}
        )
        assert not PrivacyRequest.objects.restrict(user).exists()
    client.force_login(marketing)
    assert client.get(f"/customers/privacy/{request.pk}/").status_code in (403, 404)
    assert client.get("/customers/privacy/").status_code == 403
    assert Customer.objects.filter(pk=customer.pk).exists()


def test_reading_a_request_is_audited_with_its_purpose(client, dpo, customer):
    from core.models import AuditEvent

    request = _access(dpo, customer)
    api_call(client, "get", f"{API}/{request.pk}", dpo)
    client.force_login(dpo)
    client.get(f"/customers/privacy/{request.pk}/")
    reads = AuditEvent.objects.filter(
        action="read", object_type="customers.privacyrequest", object_id=str(request.pk)
    )
    assert reads.count() == 2
    assert set(reads.values_list("purpose", flat=True)) == {f"handling {request}"}
