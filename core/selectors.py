"""Reads of the audit trail, always through ``restrict``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import QuerySet

from core.models import AuditEvent


@dataclass(frozen=True)
class AuditFilter:
    """What the audit pages and API narrow the trail by; empty values mean "any"."""

    actor: str = ""
    action: str = ""
    object_type: str = ""
    object_id: str = ""
    request_id: str = ""
    since: datetime | None = None
    until: datetime | None = None


def audit_event_list(*, user: Any, filters: AuditFilter | None = None) -> QuerySet[AuditEvent]:
    """The events USER may read, newest first, narrowed by FILTERS.

    ``actor`` matches the username case-insensitively; ``object_type`` is an app label and
    model name ("vendors.vendor", any case); ``since`` is inclusive and ``until`` exclusive.
    """
    f = filters or AuditFilter()
    qs = AuditEvent.objects.restrict(user).order_by("-seq")
    if f.actor:
        qs = qs.filter(actor_username__iexact=f.actor)
    if f.action:
        qs = qs.filter(action=f.action)
    if f.object_type:
        qs = qs.filter(object_type=f.object_type.lower())
    if f.object_id:
        qs = qs.filter(object_id=f.object_id)
    if f.request_id:
        qs = qs.filter(request_id=f.request_id)
    if f.since:
        qs = qs.filter(occurred_at__gte=f.since)
    if f.until:
        qs = qs.filter(occurred_at__lt=f.until)
    return qs
