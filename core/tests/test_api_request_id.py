"""Request ids: every response carries one; a proxy's well-formed id is kept, anything else replaced."""

from __future__ import annotations

import json
import re

import pytest

from core.models import AuditEvent
from core.testing.personas import bearer

pytestmark = pytest.mark.django_db

GENERATED = re.compile(r"^[0-9a-f]{32}$")


@pytest.mark.parametrize("url", ["/healthz", "/accounts/login/", "/api/v1/vendors/", "/api/v1/openapi.json"])
def test_every_response_carries_a_fresh_request_id(client, url):
    first = client.get(url)["X-Request-ID"]
    second = client.get(url)["X-Request-ID"]

    assert GENERATED.match(first) and GENERATED.match(second)
    assert first != second


@pytest.mark.parametrize(
    "incoming", ["abcdefgh", "req-2025.03.01_0001", "A" * 64, "0f8e7d6c-5b4a-3210-fedc-ba9876543210"]
)
def test_a_well_formed_incoming_id_is_kept(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert response["X-Request-ID"] == incoming


@pytest.mark.parametrize(
    "incoming",
    [
        "short",
        "A" * 65,
        "has space in it",
        "semi;colon-123",
        "new\nline-12345",
        "<script>alert(1)</script>",
        "",
    ],
    ids=["too-short", "too-long", "space", "semicolon", "newline", "markup", "empty"],
)
def test_a_malformed_incoming_id_is_replaced(client, incoming):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=incoming)

    assert GENERATED.match(response["X-Request-ID"]), response["X-Request-ID"]
    assert response["X-Request-ID"] != incoming


def test_a_problem_names_the_request_id_of_its_response(client):
    response = client.get("/api/v1/vendors/", HTTP_X_REQUEST_ID="trace-from-proxy-42")

    assert response.status_code == 401
    assert response.json()["request_id"] == "trace-from-proxy-42" == response["X-Request-ID"]


def test_the_audit_row_of_an_api_write_carries_the_request_id(client, vendor_manager):
    response = client.post(
        "/api/v1/vendors/",
        data=json.dumps({"code": "lantau-logistics", "name": "Lantau Logistics Ltd"}),
        content_type="application/json",
        HTTP_X_REQUEST_ID="trace-from-proxy-43",
        **bearer(vendor_manager),
    )

    assert response.status_code == 201
    event = AuditEvent.objects.get(object_type="vendors.vendor", action=AuditEvent.Action.CREATE)
    assert event.request_id == "trace-from-proxy-43"
    assert event.actor_id == vendor_manager.pk
    assert event.channel == "api"
