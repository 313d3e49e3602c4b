"""/healthz says the process answers; /readyz says whether the database and the Celery broker
do, and answers 503 naming the part that does not."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import OperationalError
from kombu.exceptions import OperationalError as BrokerError

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_the_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


def test_readyz_is_ok_when_everything_answers(client, settings):
    settings.CELERY_BROKER_URL = ""
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert response.json()["broker"] == "eager"


def test_readyz_is_503_naming_the_database_when_it_is_unreachable(client):
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError("connection refused")
    with mock.patch("core.views.connection", broken):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "unavailable", "failures": ["database: OperationalError"]}


def test_readyz_is_503_naming_the_broker_when_it_is_unreachable(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    conn = mock.MagicMock()
    conn.__enter__.return_value.ensure_connection.side_effect = BrokerError("Connection refused")
    with mock.patch("steward.celery.app.connection_for_write", return_value=conn):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failures"] == ["broker: OperationalError"]


def test_readyz_names_both_when_both_are_down(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    broken_db = mock.MagicMock()
    broken_db.cursor.side_effect = OperationalError("connection refused")
    conn = mock.MagicMock()
    conn.__enter__.return_value.ensure_connection.side_effect = BrokerError("Connection refused")
    with (
        mock.patch("core.views.connection", broken_db),
        mock.patch("steward.celery.app.connection_for_write", return_value=conn),
    ):
        response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["failures"] == ["database: OperationalError", "broker: OperationalError"]


def test_readyz_reports_a_reachable_broker(client, settings):
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:6379/15"
    with mock.patch("steward.celery.app.connection_for_write") as connect:
        response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json()["broker"] == "ok"
    connect.return_value.__enter__.return_value.ensure_connection.assert_called_once()


def test_probes_need_no_sign_in_and_only_answer_get(client):
    assert client.get("/healthz").status_code == 200
    assert client.post("/healthz").status_code == 405
    assert client.post("/readyz").status_code == 405


def test_a_failure_does_not_leak_connection_details(client):
    broken = mock.MagicMock()
    broken.cursor.side_effect = OperationalError(
        'password authentication failed for user "steward" at db.internal'
    )
    with mock.patch("core.views.connection", broken):
        response = client.get("/readyz")
    assert b"db.internal" not in response.content
    assert b"password" not in response.content
