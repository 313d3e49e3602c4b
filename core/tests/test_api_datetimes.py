"""Datetimes sent to the API are made aware and converted to UTC before any query (UtcDateTime)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from core.api import UtcDateTime
from core.testing.personas import bearer
from core.testing.problems import assert_problem, error_fields

ADAPTER: TypeAdapter[datetime] = TypeAdapter(UtcDateTime)


def test_an_offset_is_converted_to_utc():
    value = ADAPTER.validate_python("2025-03-01T10:00:00+08:00")

    assert value == datetime(2025, 3, 1, 2, 0, tzinfo=UTC)
    assert value.utcoffset() == timedelta(0)


def test_an_offset_postgresql_would_refuse_is_converted_too():
    # ISO 8601 allows +22:32; PostgreSQL refuses offsets beyond about 16 hours.
    value = ADAPTER.validate_python("2025-03-01T22:32:00+22:32")

    assert value == datetime(2025, 3, 1, 0, 0, tzinfo=UTC)
    assert value.tzinfo == UTC


def test_a_naive_datetime_is_read_in_hong_kong_time():
    assert ADAPTER.validate_python("2025-03-01T10:00:00") == datetime(2025, 3, 1, 2, 0, tzinfo=UTC)


def test_a_datetime_that_leaves_the_calendar_in_utc_is_refused():
    with pytest.raises(ValidationError, match="out of range"):
        ADAPTER.validate_python(datetime(1, 1, 1, 0, 0, tzinfo=timezone(timedelta(hours=5))))


@pytest.mark.django_db
def test_the_audit_filter_takes_a_far_offset_and_refuses_nonsense(client, auditor):
    auth = bearer(auditor, scope="read")

    accepted = client.get("/api/v1/audit/events", {"since": "2025-03-01T00:00:00+22:32"}, **auth)
    refused = client.get("/api/v1/audit/events", {"since": "0001-01-01T00:00:00+05:00"}, **auth)

    assert accepted.status_code == 200, accepted.content
    data = assert_problem(refused, 422, kind="validation")
    assert error_fields(data) == {"query.since"}
