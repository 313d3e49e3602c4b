"""Fetching one object through ``restrict``; a miss by an outsider is audited (never explained)."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import models
from django.http import Http404

from core import audit
from core.models import AuditEvent

_M = TypeVar("_M", bound=models.Model)


def get_restricted_or_404(model: type[_M], *, user: Any, action: str = "view", **lookup: Any) -> _M:
    """The object if USER may do ACTION on it; otherwise Http404, the same answer as for no object.

    When the object exists but is out of the user's reach (a portal user trying another
    vendor's id), the attempt is written to the audit trail.
    """
    try:
        return model.objects.restrict(user, action).get(**lookup)  # type: ignore[attr-defined, no-any-return]
    except model.DoesNotExist:  # type: ignore[attr-defined]
        if model._default_manager.filter(**lookup).exists():
            audit.record_event(
                AuditEvent.Action.ACCESS_DENIED,
                object_type=model._meta.label_lower,
                object_id=str(lookup.get("pk", lookup.get("id", ""))),
                detail={"action": action},
                actor=user if getattr(user, "is_authenticated", False) else None,
            )
        raise Http404 from None
