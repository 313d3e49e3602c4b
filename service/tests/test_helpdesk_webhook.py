"""Webhook: an external helpdesk posts tickets, signed with HMAC-SHA256 of the raw body (issue 4)."""

from __future__ import annotations

import json

import pytest

from core.models import AuditEvent
from core.testing.problems import assert_problem
from service.models import Ticket, TicketEvent
from service.services import SIGNATURE_HEADER, webhook_signature
from service.tests.ingest_helpers import make_teams

pytestmark = pytest.mark.django_db
URL = "/api/v1/service/webhooks/helpdesk"
SECRET = "s3cret-shared-with-the-helpdesk"
HEADER = "HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_")


@pytest.fixture(autouse=True)
def _secret(settings, vendor):
    settings.STEWARD_HELPDESK_WEBHOOK_SECRET = SECRET
    make_teams(vendor)


def payload(**extra) -> bytes:
    body = {
        "source": "freshdesk",
        "ticket_id": "FD-501",
        "subject": "Where is my parcel?",
        "channel": "whatsapp",
        "team": "harbourcall-hotline",
        "agent": "fd-22",
        "events": [
            {"event_id": "c1", "kind": "created", "occurred_at": "2026-10-06T01:00:00Z"},
            {
                "event_id": "r1",
                "kind": "agent_reply",
                "occurred_at": "2026-10-06T01:20:00Z",
                "agent": "fd-22",
            },
        ],
        **extra,
    }
    return json.dumps(body).encode()


def post(client, body: bytes, signature: str | None):
    headers = {HEADER: signature} if signature is not None else {}
    return client.post(URL, data=body, content_type="application/json", **headers)


def test_a_signed_delivery_is_ingested_without_login(client, vendor):
    body = payload()
    response = post(client, body, webhook_signature(body, SECRET))
    assert response.status_code == 200, response.content
    ticket = Ticket.objects.get(source="freshdesk", external_id="FD-501")
    assert ticket.vendor_id == vendor.pk and ticket.status == Ticket.Status.OPEN
    replay = post(client, body, webhook_signature(body, SECRET)).json()
    assert replay["events_created"] == 0


@pytest.mark.parametrize("signature", [None, "sha256=00", "md5=abc"])
def test_a_bad_or_missing_signature_is_refused_and_audited(client, signature):
    body = payload()
    response = post(client, body, signature)
    assert_problem(response, 401, kind="bad-signature")
    assert not Ticket.objects.exists()
    denied = AuditEvent.objects.get(action=AuditEvent.Action.ACCESS_DENIED, object_type="service.webhook")
    assert denied.changes["reason"] in {"missing signature", "bad signature"}


def test_a_body_changed_after_signing_is_refused(client):
    signature = webhook_signature(payload(), SECRET)
    assert_problem(post(client, payload(subject="tampered"), signature), 401)
    assert not TicketEvent.objects.exists()


def test_a_signed_but_bad_payload_names_the_field(client):
    body = payload(events=[{"event_id": "c1", "kind": "created", "occurred_at": "2026-10-06 09:00"}])
    data = assert_problem(post(client, body, webhook_signature(body, SECRET)), 422)
    assert any(e["field"].startswith("events.0.occurred_at") for e in data["errors"])
    body = payload(team="nowhere")
    data = assert_problem(post(client, body, webhook_signature(body, SECRET)), 422, kind="rule")
    assert {e["field"] for e in data["errors"]} == {"team"}
    assert not Ticket.objects.exists()


def test_without_a_configured_secret_the_webhook_is_off(client, settings):
    settings.STEWARD_HELPDESK_WEBHOOK_SECRET = ""
    body = payload()
    assert_problem(post(client, body, webhook_signature(body, "")), 401, kind="not-configured")
    assert not Ticket.objects.exists()
