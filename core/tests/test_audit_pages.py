"""Auditors and the DPO browse and filter the audit trail on /audit/ and verify the chain there;
nobody else reaches it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User
from core import audit, context
from core.models import AuditEvent
from core.testing.factories import UserFactory
from vendors.services import vendor_create, vendor_update

pytestmark = pytest.mark.django_db

URL = "/audit/"
VERIFY_URL = "/audit/verify/"


@pytest.fixture
def trail(vendor_manager, dpo):
    """A small trail: two creates and an update by vivian (one tagged request), a read by daniel."""
    with context.acting_as(vendor_manager, channel="web", request_id="req-harbour-create"):
        harbour = vendor_create(actor=vendor_manager, code="harbour", name="Harbour Call Ltd")
    vendor_create(actor=vendor_manager, code="kowloon", name="Kowloon Digital Co.")
    vendor_update(actor=vendor_manager, vendor=harbour, status="onboarding")
    audit.record_access(
        AuditEvent.Action.READ,
        object_type="customers.customer",
        object_ids=[7],
        purpose="complaint follow-up",
        actor=dpo,
    )
    return harbour


def rows(response) -> list[AuditEvent]:
    return list(response.context["page"].object_list)


@pytest.mark.parametrize("persona", ["auditor", "dpo", "admin_user"])
def test_auditors_the_dpo_and_administrators_see_the_trail(client, trail, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 200
    seqs = [e.seq for e in rows(response)]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    assert {e.object_repr for e in rows(response)} >= {"Harbour Call Ltd", "Kowloon Digital Co."}
    assert b"complaint follow-up" in response.content


@pytest.mark.parametrize("persona", ["outsider", "portal_user", "no_role_user", "vendor_manager"])
def test_everyone_else_is_refused(client, trail, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(URL)
    assert response.status_code == 403
    assert b"Harbour Call Ltd" not in response.content
    assert client.post(VERIFY_URL).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, trail):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_filter_by_actor(client, trail, auditor):
    client.force_login(auditor)
    found = rows(client.get(URL, {"actor": "DANIEL"}))
    assert [e.action for e in found] == [AuditEvent.Action.READ]


def test_filter_by_action(client, trail, auditor):
    client.force_login(auditor)
    found = rows(client.get(URL, {"action": "update"}))
    assert [(e.action, e.object_repr) for e in found] == [("update", "Harbour Call Ltd")]


def test_filter_by_record_type_and_id(client, trail, auditor):
    client.force_login(auditor)
    found = rows(client.get(URL, {"object_type": "Vendors.Vendor"}))
    assert {e.object_type for e in found} == {"vendors.vendor"} and len(found) == 3
    found = rows(client.get(URL, {"object_type": "vendors.vendor", "object_id": str(trail.pk)}))
    assert {e.action for e in found} == {"create", "update"}


def test_filter_by_request_id(client, trail, auditor):
    client.force_login(auditor)
    found = rows(client.get(URL, {"request_id": "req-harbour-create"}))
    assert [(e.action, e.object_repr) for e in found] == [("create", "Harbour Call Ltd")]


def test_filter_by_date_range(client, trail, auditor):
    client.force_login(auditor)
    now = timezone.localtime()
    fmt = "%Y-%m-%dT%H:%M"
    everything = rows(client.get(URL, {"since": (now - timedelta(hours=1)).strftime(fmt)}))
    assert len(everything) == AuditEvent.objects.count()
    assert rows(client.get(URL, {"since": (now + timedelta(hours=1)).strftime(fmt)})) == []
    assert rows(client.get(URL, {"until": (now - timedelta(hours=1)).strftime(fmt)})) == []


def test_filters_combine(client, trail, auditor):
    client.force_login(auditor)
    found = rows(client.get(URL, {"actor": "vivian", "action": "create", "object_type": "vendors.vendor"}))
    assert sorted(e.object_repr for e in found) == ["Harbour Call Ltd", "Kowloon Digital Co."]


def test_htmx_requests_get_only_the_table(client, trail, auditor):
    client.force_login(auditor)
    response = client.get(URL, {"action": "read"}, HTTP_HX_REQUEST="true")
    assert [t.name for t in response.templates][0] == "core/_audit_table.html"
    assert b"<h1>" not in response.content
    assert b"complaint follow-up" in response.content


def test_the_trail_is_paginated(client, auditor):
    for i in range(60):
        audit.record_event(AuditEvent.Action.OTHER, object_type="test", object_id=str(i))
    client.force_login(auditor)
    first = client.get(URL, {"object_type": "test"})
    assert len(rows(first)) == 50
    second = client.get(URL, {"object_type": "test", "page": 2})
    assert len(rows(second)) == 10
    assert {e.seq for e in rows(first)}.isdisjoint({e.seq for e in rows(second)})


def test_the_verify_button_reports_an_intact_chain(client, trail, auditor):
    client.force_login(auditor)
    response = client.post(VERIFY_URL)
    assert response.status_code == 200
    assert b"Chain intact" in response.content


def test_the_verify_button_names_the_first_broken_event(client, trail, dpo):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET purpose = 'edited' WHERE seq = 2")
    client.force_login(dpo)
    response = client.post(VERIFY_URL)
    assert b"Chain broken at event #2" in response.content


def test_verifying_needs_a_post(client, auditor):
    client.force_login(auditor)
    assert client.get(VERIFY_URL).status_code == 405


def test_the_page_shows_the_verify_button_only_to_those_who_may_verify(client, trail, auditor):
    client.force_login(auditor)
    assert b"Verify the chain" in client.get(URL).content
    viewer: User = UserFactory(username="viewer", roles=[])  # type: ignore[assignment]

    viewer.user_permissions.add(Permission.objects.get(codename="view_auditevent"))
    client.force_login(viewer)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Verify the chain" not in response.content
    assert client.post(VERIFY_URL).status_code == 403


def test_a_filter_that_does_not_parse_shows_nothing_and_says_why(client, trail, auditor):
    client.force_login(auditor)
    response = client.get(URL, {"since": "next tuesday"})
    assert response.status_code == 200
    assert rows(response) == []
    assert response.context["form"].errors["since"]


def test_the_page_costs_the_same_queries_for_5_or_50_events(client, auditor):
    client.force_login(auditor)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL).status_code == 200
        return len(captured)

    for i in range(5):
        audit.record_event(AuditEvent.Action.OTHER, object_type="test", object_id=str(i))
    few = queries()
    for i in range(45):
        audit.record_event(AuditEvent.Action.OTHER, object_type="test", object_id=str(i))
    assert queries() == few
