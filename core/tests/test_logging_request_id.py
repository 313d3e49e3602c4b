"""Logs are JSON lines, and a line written while a request is handled carries that request's
X-Request-ID (and the acting user), so that one id ties the response, the logs and the audit trail."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta

import pytest
from django.http import HttpRequest, HttpResponse
from django.urls import path

from core import context
from core.logging import RequestContextFilter

pytestmark = pytest.mark.django_db

REQUEST_ID = "req-logging-0123456789"
logger = logging.getLogger("steward.test")


def _page_that_logs(request: HttpRequest) -> HttpResponse:
    logger.warning("something worth knowing", extra={"detail": "shown in the JSON line"})
    return HttpResponse("ok")


urlpatterns = [path("logs/", _page_that_logs)]


@pytest.fixture
def log_lines():
    """The JSON lines Steward's configured console handler writes (settings.LOGGING)."""
    handler = next(
        h for h in logging.getLogger().handlers if any(isinstance(f, RequestContextFilter) for f in h.filters)
    )
    assert isinstance(handler, logging.StreamHandler)
    buffer = io.StringIO()
    previous = handler.setStream(buffer)

    def lines() -> list[dict]:
        return [json.loads(line) for line in buffer.getvalue().splitlines() if line.strip()]

    yield lines
    handler.setStream(previous)


def ours(lines: list[dict]) -> dict:
    return next(line for line in lines if line.get("logger") == "steward.test")


@pytest.mark.urls(__name__)
def test_a_log_line_written_during_a_request_carries_its_request_id(client, log_lines):
    response = client.get("/logs/", HTTP_X_REQUEST_ID=REQUEST_ID)
    assert response["X-Request-ID"] == REQUEST_ID
    line = ours(log_lines())
    assert line["request_id"] == REQUEST_ID
    assert line["message"] == "something worth knowing"
    assert line["level"] == "WARNING"
    assert line["detail"] == "shown in the JSON line"
    assert datetime.fromisoformat(line["time"]).utcoffset() == timedelta(0)  # ISO 8601, UTC


@pytest.mark.urls(__name__)
def test_a_generated_request_id_is_logged_and_returned_alike(client, log_lines):
    response = client.get("/logs/")
    assert ours(log_lines())["request_id"] == response["X-Request-ID"]


@pytest.mark.urls(__name__)
def test_a_malformed_incoming_id_is_replaced_everywhere(client, log_lines):
    response = client.get("/logs/", HTTP_X_REQUEST_ID="bad id with spaces\n{}")
    assert response["X-Request-ID"] != "bad id with spaces\n{}"
    assert ours(log_lines())["request_id"] == response["X-Request-ID"]


@pytest.mark.urls(__name__)
def test_the_signed_in_user_is_on_the_line(client, log_lines, auditor):
    client.force_login(auditor)
    client.get("/logs/", HTTP_X_REQUEST_ID=REQUEST_ID)
    assert ours(log_lines())["user_id"] == auditor.pk


@pytest.mark.urls(__name__)
def test_two_requests_do_not_share_an_id(client, log_lines):
    client.get("/logs/", HTTP_X_REQUEST_ID="req-first-00000001")
    client.get("/logs/", HTTP_X_REQUEST_ID="req-second-0000002")
    ids = [line["request_id"] for line in log_lines() if line.get("logger") == "steward.test"]
    assert ids == ["req-first-00000001", "req-second-0000002"]


def test_a_task_or_command_logs_under_its_own_id(log_lines):
    with context.acting_as(None, channel="task", request_id="task-run-00000042"):
        logger.warning("from a task")
    assert ours(log_lines())["request_id"] == "task-run-00000042"


def test_logging_outside_any_request_does_not_invent_a_shared_id(log_lines):
    token = context.set_current(None)  # type: ignore[arg-type]
    try:
        logger.warning("at start-up")
        assert context._current.get() is None
    finally:
        context.reset(token)
    assert ours(log_lines())["request_id"] == ""
