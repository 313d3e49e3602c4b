"""Every create, update and delete made through a service is recorded: who, when, which
record, what action, before/after, and the request it came from."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.utils import timezone

from core import audit, context
from core.models import AuditEvent
from vendors.models import Vendor
from vendors.services import vendor_create, vendor_update

pytestmark = pytest.mark.django_db

REQUEST_ID = "req-0123456789abcdef"


# A page of our own, so that the whole middleware stack runs without depending on any
# feature's views: it calls a service exactly as a real page does.
def _create_vendor_page(request: HttpRequest) -> HttpResponse:
    vendor = vendor_create(actor=request.user, code=request.POST["code"], name=request.POST["name"])
    return HttpResponse(str(vendor.pk), status=201)


urlpatterns = [path("make-vendor/", _create_vendor_page)]


def test_a_create_records_who_when_what_and_the_full_new_record(vendor_manager):
    before = timezone.now()
    with context.acting_as(vendor_manager, channel="web", request_id=REQUEST_ID):
        vendor = vendor_create(actor=vendor_manager, code="harbour", name="Harbour Call Ltd")
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.CREATE
    assert (event.actor_id, event.actor_username) == (vendor_manager.pk, "vivian")
    assert (event.object_type, event.object_id, event.object_repr) == (
        "vendors.vendor",
        str(vendor.pk),
        "Harbour Call Ltd",
    )
    assert before <= event.occurred_at <= timezone.now()
    assert event.request_id == REQUEST_ID
    assert event.channel == "web"
    assert event.changes["before"] is None
    assert (
        event.changes["after"].items()
        >= {
            "id": vendor.pk,
            "code": "harbour",
            "name": "Harbour Call Ltd",
            "status": "prospect",
        }.items()
    )


def test_an_update_records_before_and_after_of_what_changed(vendor_manager):
    vendor = vendor_create(actor=vendor_manager, code="harbour", name="Harbour Call Ltd")
    vendor_update(actor=vendor_manager, vendor=vendor, status=Vendor.Status.ONBOARDING)
    event = AuditEvent.objects.get(action=AuditEvent.Action.UPDATE)
    assert event.actor_username == "vivian"
    assert event.changes == {"before": {"status": "prospect"}, "after": {"status": "onboarding"}}


def test_a_delete_records_the_whole_record_as_it_was(vendor_manager):
    vendor = vendor_create(actor=vendor_manager, code="harbour", name="Harbour Call Ltd")
    pk = vendor.pk
    audit.record_change(AuditEvent.Action.DELETE, vendor, actor=vendor_manager)
    vendor.delete()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE)
    assert event.object_id == str(pk)
    assert event.changes["after"] is None
    assert event.changes["before"]["code"] == "harbour"


def test_the_acting_user_defaults_to_the_one_in_the_request_context(auditor):
    with context.acting_as(auditor, channel="task"):
        audit.record_event(AuditEvent.Action.OTHER, object_type="test")
    event = AuditEvent.objects.get()
    assert (event.actor_id, event.channel) == (auditor.pk, "task")


def test_work_outside_any_request_is_recorded_as_the_system():
    vendor_create(actor=None, code="seeded", name="Seeded Ltd")
    event = AuditEvent.objects.get()
    assert event.actor_id is None and event.actor_username == ""
    assert event.channel == "command"
    assert event.request_id  # still traceable to one run


@pytest.mark.urls(__name__)
def test_a_change_made_through_a_web_request_carries_that_request(client, vendor_manager):
    client.force_login(vendor_manager)
    response = client.post(
        "/make-vendor/", {"code": "harbour", "name": "Harbour Call Ltd"}, HTTP_X_REQUEST_ID=REQUEST_ID
    )
    assert response.status_code == 201
    assert response["X-Request-ID"] == REQUEST_ID
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_type="vendors.vendor")
    assert event.request_id == REQUEST_ID
    assert event.actor_username == "vivian"
    assert event.channel == "web"
    assert event.ip_address == "127.0.0.1"
    assert audit.verify_chain().ok


@pytest.mark.urls(__name__)
def test_a_request_without_an_id_gets_one_that_ties_the_response_to_the_audit_row(client, vendor_manager):
    client.force_login(vendor_manager)
    response = client.post("/make-vendor/", {"code": "harbour", "name": "Harbour Call Ltd"})
    event = AuditEvent.objects.get(action=AuditEvent.Action.CREATE, object_type="vendors.vendor")
    assert event.request_id == response["X-Request-ID"]
    assert len(event.request_id) >= 8
