"""Contacts with escalation levels (personal data kept out of the audit trail) and certificates with
expiry dates, reminded ahead of expiry by a daily task until a replacement is registered."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked
from vendors import services, tasks
from vendors.models import VendorContact, VendorDocument
from vendors.tests.conftest import exe, pdf


def test_contacts_sit_on_the_escalation_path_with_one_primary(client, vendor, vendor_manager):
    first = services.contact_create(
        actor=vendor_manager,
        vendor=vendor,
        name="Winnie Lau",
        escalation_level=1,
        is_primary=True,
        email="winnie@harbourcall.hk",
    )
    second = services.contact_create(
        actor=vendor_manager, vendor=vendor, name="Raymond Chow", escalation_level=3, is_primary=True
    )
    first.refresh_from_db()
    assert (first.is_primary, second.is_primary) == (False, True)
    listing = api_call(client, "get", f"/api/v1/vendors/{vendor.pk}/contacts", vendor_manager).json()["items"]
    assert [(c["name"], c["escalation_level"]) for c in listing] == [("Winnie Lau", 1), ("Raymond Chow", 3)]


def test_a_contacts_personal_data_never_reaches_the_audit_trail(vendor, vendor_manager):
    contact = services.contact_create(
        actor=vendor_manager,
        vendor=vendor,
        name="Winnie Lau",
        email="winnie@harbourcall.hk",
        phone="+852 9123 4567",
    )
    services.contact_update(actor=vendor_manager, contact=contact, phone="+852 9765 4321")
    services.contact_delete(actor=vendor_manager, contact=contact)
    stored = " ".join(
        str(e.changes) + e.object_repr for e in AuditEvent.objects.filter(object_type="vendors.vendorcontact")
    )
    assert AuditEvent.objects.filter(object_type="vendors.vendorcontact").count() == 3
    for secret in ("Winnie", "winnie@", "9123", "9765"):
        assert secret not in stored


def test_a_bad_email_is_refused(vendor, vendor_manager):
    with pytest.raises(ValidationError):
        services.contact_create(actor=vendor_manager, vendor=vendor, name="X", email="not-an-address")
    assert not VendorContact.objects.exists()


def test_a_document_expires_after_it_is_issued(vendor, vendor_manager):
    with pytest.raises(ValidationError) as caught:
        services.document_add(
            actor=vendor_manager,
            vendor=vendor,
            kind="certificate",
            title="ISO 27001",
            issued_on=date(2025, 3, 1),
            expires_on=date(2025, 2, 1),
        )
    assert "expires_on" in caught.value.message_dict


def test_a_document_file_is_checked_by_content(vendor, vendor_manager, media_files):
    with pytest.raises(ValidationError):
        services.document_add(
            actor=vendor_manager, vendor=vendor, kind="certificate", title="ISO 27001", upload=exe("iso.pdf")
        )
    assert media_files() == [] and not VendorDocument.objects.exists()
    document = services.document_add(
        actor=vendor_manager, vendor=vendor, kind="certificate", title="ISO 27001", upload=pdf("iso.pdf")
    )
    assert (document.content_type, document.file_name) == ("application/pdf", "iso.pdf")


@pytest.fixture
def certificate(vendor, vendor_manager):
    return services.document_add(
        actor=vendor_manager,
        vendor=vendor,
        kind="certificate",
        title="ISO/IEC 27001 certificate",
        reference="IS 712345",
        issued_on=date(2022, 8, 1),
        expires_on=date(2025, 7, 31),
    )


def test_expiry_reminders_go_once_per_lead_time(
    certificate, vendor_manager, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.remind_expiring_documents("2025-05-01") == 0  # 91 days ahead
        assert tasks.remind_expiring_documents("2025-06-01") == 1  # 60 days
        assert tasks.remind_expiring_documents("2025-06-02") == 0  # already reminded at 60
        assert tasks.remind_expiring_documents("2025-07-01") == 1  # 30 days
        assert tasks.remind_expiring_documents("2025-07-31") == 1  # on the day
        assert tasks.remind_expiring_documents("2025-08-05") == 0
    assert len(mail.outbox) == 3 and mail.outbox[0].to == [vendor_manager.email]
    assert "ISO/IEC 27001 certificate expires in 60 days" in mail.outbox[0].body


def test_a_replaced_certificate_is_not_reminded_of(certificate, vendor, vendor_manager):
    services.document_add(
        actor=vendor_manager,
        vendor=vendor,
        kind="certificate",
        title="ISO/IEC 27001 certificate",
        issued_on=date(2025, 7, 15),
        expires_on=date(2028, 7, 14),
        replaces=certificate,
    )
    assert tasks.remind_expiring_documents("2025-07-20") == 0


def test_outsiders_see_no_contacts_or_documents(
    client, vendor, vendor_manager, certificate, portal_user, outsider, no_role_user
):
    contact = services.contact_create(actor=vendor_manager, vendor=vendor, name="Winnie Lau")
    for persona in (portal_user, outsider, no_role_user):
        assert_outsider_blocked(
            client, persona, "get", f"/api/v1/vendors/{vendor.pk}/contacts", secrets=("Winnie",)
        )
        assert_outsider_blocked(
            client, persona, "get", f"/api/v1/vendors/contacts/{contact.pk}", secrets=("Winnie",)
        )
        assert_outsider_blocked(client, persona, "delete", f"/api/v1/vendors/contacts/{contact.pk}")
        assert_outsider_blocked(
            client, persona, "get", f"/api/v1/vendors/{vendor.pk}/documents", secrets=("IS 712345",)
        )
    assert VendorContact.objects.count() == 1
