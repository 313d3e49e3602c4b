"""Assertions for API failures: each is RFC 9457 problem details, and a refused request writes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.db import models

from core.api import PROBLEM_BASE, PROBLEM_CONTENT_TYPE

PROBLEM_FIELDS = ("type", "title", "status", "detail", "instance", "request_id")


def assert_problem(response: Any, status: int, *, kind: str | None = None) -> dict[str, Any]:
    """RESPONSE is a problem-details document with STATUS (and type ending in KIND); returns its body."""
    text = response.content.decode("utf-8", "replace")
    assert response.status_code == status, f"expected {status}, got {response.status_code}: {text}"
    assert response["Content-Type"].startswith(PROBLEM_CONTENT_TYPE), response["Content-Type"]
    data: dict[str, Any] = response.json()
    missing = [name for name in PROBLEM_FIELDS if name not in data]
    assert not missing, f"problem details lack {missing}: {data}"
    assert data["status"] == status
    assert data["type"].startswith(PROBLEM_BASE)
    if kind is not None:
        assert data["type"] == PROBLEM_BASE + kind, data["type"]
    assert data["title"] and data["detail"]
    assert data["instance"] == response.request["PATH_INFO"]
    assert data["request_id"] == response["X-Request-ID"]
    return data


def error_fields(data: dict[str, Any]) -> set[str]:
    """The field names a validation problem complains about."""
    return {error["field"] for error in data.get("errors", [])}


def _audit_rows() -> int:
    from core.models import AuditEvent

    # A note that a token was presented records the attempt, not anything the request asked for.
    return AuditEvent.objects.exclude(action=AuditEvent.Action.TOKEN_USED).count()


@contextmanager
def nothing_written(*watched: type[models.Model]) -> Iterator[None]:
    """The block leaves the row count of every model in WATCHED, and of the audit trail, unchanged."""
    before = {model.__name__: model._default_manager.count() for model in watched}
    before["audit trail"] = _audit_rows()
    yield
    after = {model.__name__: model._default_manager.count() for model in watched}
    after["audit trail"] = _audit_rows()
    changed = {name: (before[name], after[name]) for name in before if before[name] != after[name]}
    assert not changed, f"rows were written (before, after): {changed}"
