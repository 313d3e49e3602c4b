"""Snapshots in the audit trail never hold personal data: those fields are redacted (DPP4).

No model of the foundation declares personal-data fields yet, so the tests declare one on
Vendor for their duration (``personal_data_fields`` is read at run time).
"""

from __future__ import annotations

import json

import pytest

from accounts.models import User
from core import audit
from core.models import AuditEvent
from core.testing.factories import UserFactory
from vendors.models import Vendor
from vendors.services import vendor_create, vendor_update

pytestmark = pytest.mark.django_db

SECRET_NAME = "Chan Tai Man Trading"
NEW_SECRET_NAME = "Wong Siu Ming Trading"


@pytest.fixture
def name_is_personal(monkeypatch):
    monkeypatch.setattr(Vendor, "personal_data_fields", frozenset({"name"}))


def stored_text(event: AuditEvent) -> str:
    """Everything the trail keeps about EVENT, as text."""
    event = AuditEvent.objects.get(pk=event.pk)
    return json.dumps(event.changes, ensure_ascii=False) + event.object_repr + event.purpose


def test_snapshot_redacts_personal_data_fields(name_is_personal):
    vendor = Vendor(code="ctm", name=SECRET_NAME, status=Vendor.Status.ACTIVE)
    snap = audit.snapshot(vendor)
    assert snap["name"] == audit.REDACTED
    assert snap["code"] == "ctm" and snap["status"] == "active"
    assert SECRET_NAME not in json.dumps(snap)


def test_an_empty_personal_field_is_recorded_as_empty_not_redacted(name_is_personal):
    assert audit.snapshot(Vendor(code="x", name=""))["name"] is None


def test_fields_are_kept_when_the_model_declares_no_personal_data():
    assert audit.snapshot(Vendor(code="ctm", name=SECRET_NAME))["name"] == SECRET_NAME


def test_a_created_record_is_audited_without_its_personal_data(name_is_personal):
    vendor_create(actor=None, code="ctm", name=SECRET_NAME)
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_type="vendors.vendor")
    assert event.changes["after"]["name"] == audit.REDACTED
    assert event.changes["after"]["code"] == "ctm"
    assert SECRET_NAME not in stored_text(event)


def test_the_record_label_does_not_leak_a_name_either(name_is_personal):
    vendor = vendor_create(actor=None, code="ctm", name=SECRET_NAME)
    event = AuditEvent.objects.get(object_type="vendors.vendor", object_id=str(vendor.pk))
    assert event.object_repr == f"vendor {vendor.pk}"


def test_a_change_to_a_personal_field_is_recorded_without_either_value(name_is_personal):
    vendor = vendor_create(actor=None, code="ctm", name=SECRET_NAME)
    vendor_update(actor=None, vendor=vendor, name=NEW_SECRET_NAME)
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert event.changes == {"before": {"name": audit.REDACTED}, "after": {"name": audit.REDACTED}}
    text = stored_text(event)
    assert SECRET_NAME not in text and NEW_SECRET_NAME not in text


def test_an_update_records_only_the_fields_that_changed(name_is_personal):
    vendor = vendor_create(actor=None, code="ctm", name=SECRET_NAME)
    vendor_update(actor=None, vendor=vendor, name=SECRET_NAME, status=Vendor.Status.ONBOARDING)
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert event.changes == {"before": {"status": "prospect"}, "after": {"status": "onboarding"}}


def test_a_deleted_record_is_audited_without_its_personal_data(name_is_personal):
    vendor = vendor_create(actor=None, code="ctm", name=SECRET_NAME)
    event = audit.record_change(AuditEvent.Action.DELETE, vendor)
    assert event.changes["after"] is None
    assert event.changes["before"]["name"] == audit.REDACTED
    assert SECRET_NAME not in stored_text(event)


def test_passwords_never_reach_a_snapshot():
    user: User = UserFactory(username="kelvin")  # type: ignore[assignment]
    snap = audit.snapshot(user)
    assert "password" not in snap
    assert user.password not in json.dumps(snap)
