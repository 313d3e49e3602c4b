"""The audit trail through the API: /api/v1/audit/events (filters, pagination) and /api/v1/audit/verify."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from core import audit, context
from core.models import AuditEvent
from core.testing.personas import assert_outsider_blocked, bearer
from vendors.services import vendor_create

pytestmark = pytest.mark.django_db

EVENTS = "/api/v1/audit/events"
VERIFY = "/api/v1/audit/verify"


@pytest.fixture
def trail(vendor_manager, dpo):
    with context.acting_as(vendor_manager, channel="api", request_id="req-api-create-1"):
        vendor_create(actor=vendor_manager, code="harbour", name="Harbour Call Ltd")
    vendor_create(actor=vendor_manager, code="kowloon", name="Kowloon Digital Co.")
    audit.record_access(
        AuditEvent.Action.READ,
        object_type="customers.customer",
        object_ids=[7],
        purpose="complaint follow-up",
        actor=dpo,
    )


@pytest.fixture
def as_auditor(client, auditor):
    headers = bearer(auditor, scope="read")

    def get(url, params=None):
        return client.get(url, params or {}, **headers)

    return get


def test_auditor_lists_events_newest_first_with_every_field(as_auditor, trail):
    response = as_auditor(EVENTS)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == AuditEvent.objects.count()
    seqs = [item["seq"] for item in body["items"]]
    assert seqs == sorted(seqs, reverse=True)
    read = next(item for item in body["items"] if item["action"] == "read")
    assert read["actor_username"] == "daniel"
    assert read["purpose"] == "complaint follow-up"
    assert read["object_type"] == "customers.customer" and read["object_id"] == "7"
    assert len(read["hash"]) == 64 and len(read["prev_hash"]) == 64


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"actor": "daniel"}, [("read", "customers.customer")]),
        ({"action": "read"}, [("read", "customers.customer")]),
        ({"object_type": "vendors.vendor", "action": "create"}, [("create", "vendors.vendor")] * 2),
        ({"request_id": "req-api-create-1"}, [("create", "vendors.vendor")]),
    ],
)
def test_filters(as_auditor, trail, params, expected):
    items = as_auditor(EVENTS, params).json()["items"]
    assert [(i["action"], i["object_type"]) for i in items] == expected


def test_date_range_filter(as_auditor, trail):
    now = timezone.now()
    assert as_auditor(EVENTS, {"since": (now - timedelta(minutes=5)).isoformat()}).json()["count"] >= 3
    assert as_auditor(EVENTS, {"since": (now + timedelta(minutes=5)).isoformat()}).json()["count"] == 0
    assert as_auditor(EVENTS, {"until": (now - timedelta(minutes=5)).isoformat()}).json()["count"] == 0


def test_an_unknown_action_is_a_validation_problem(as_auditor):
    response = as_auditor(EVENTS, {"action": "explode"})
    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")


def test_pagination(as_auditor):
    for i in range(7):
        audit.record_event(AuditEvent.Action.OTHER, object_type="test", object_id=str(i))
    first = as_auditor(EVENTS, {"object_type": "test", "page_size": 3}).json()
    assert (first["count"], first["pages"], len(first["items"])) == (7, 3, 3)
    last = as_auditor(EVENTS, {"object_type": "test", "page_size": 3, "page": 3}).json()
    assert [i["object_id"] for i in last["items"]] == ["0"]


def test_one_event(as_auditor, trail):
    response = as_auditor(f"{EVENTS}/2")
    assert response.status_code == 200
    assert response.json()["seq"] == 2
    assert as_auditor(f"{EVENTS}/999999").status_code == 404


def test_verify_reports_an_intact_chain(as_auditor, trail):
    body = as_auditor(VERIFY).json()
    assert body["ok"] is True
    assert body["checked"] == AuditEvent.objects.count()
    assert body["first_broken_seq"] is None


def test_verify_names_the_first_broken_event(as_auditor, trail):
    with connection.cursor() as cursor:
        cursor.execute("UPDATE core_auditevent SET object_repr = 'x' WHERE seq = 2")
    body = as_auditor(VERIFY).json()
    assert body["ok"] is False
    assert body["first_broken_seq"] == 2
    assert body["checked"] == 1


def test_the_dpo_reads_and_verifies_too(client, trail, dpo):
    headers = bearer(dpo, scope="read")
    assert client.get(EVENTS, **headers).json()["count"] >= 3
    assert client.get(VERIFY, **headers).json()["ok"] is True


@pytest.mark.parametrize("persona", ["outsider", "portal_user", "no_role_user", "vendor_manager"])
def test_nobody_else_reads_or_verifies_the_trail(client, trail, persona, request):
    user = request.getfixturevalue(persona)
    secrets = ("Harbour Call Ltd", "complaint follow-up")
    assert_outsider_blocked(client, user, "GET", EVENTS, secrets=secrets)
    assert_outsider_blocked(client, user, "GET", f"{EVENTS}/1", secrets=secrets)
    assert_outsider_blocked(client, user, "GET", VERIFY)


def test_anonymous_callers_get_401(client, trail):
    response = client.get(EVENTS)
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")
