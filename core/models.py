"""Shared building blocks: the base model with object-level access, and the audit trail."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeVar

from django.db import models
from django.db.models import Q

if TYPE_CHECKING:
    from accounts.models import User

_M = TypeVar("_M", bound=models.Model)

VIEW = "view"
ADD = "add"
CHANGE = "change"
DELETE = "delete"
ACTIONS = (VIEW, ADD, CHANGE, DELETE)


class RestrictedQuerySet(models.QuerySet[_M]):
    """A queryset that knows how to narrow itself to what a user may do.

    Every selector, page, API endpoint, export and admin view starts from
    ``Model.objects.restrict(user, action)``; nothing else decides who sees what.
    """

    def restrict(self, user: User | Any, action: str = VIEW) -> Self:
        condition = access_condition(self.model, user, action)
        if condition is None:
            return self.none()
        return self.filter(condition)


def access_condition(model: type[models.Model], user: User | Any, action: str) -> Q | None:
    """The filter a user's ACTION on MODEL is limited to, or None for "nothing at all".

    - anonymous or inactive users: nothing;
    - the Django permission ``<app>.<action>_<model>`` is required (superusers have all);
    - vendor portal users only reach rows owned by their own vendor, through the model's
      ``vendor_path``; a model without one is closed to them;
    - a model may narrow further with ``scope_for(user, action)`` (e.g. an agent's own scorecard).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    meta = model._meta
    if not user.has_perm(f"{meta.app_label}.{action}_{meta.model_name}"):
        return None
    condition = Q()
    vendor_id = getattr(user, "vendor_id", None)
    if vendor_id is not None:
        vendor_path = getattr(model, "vendor_path", None)
        if vendor_path is None:
            return None
        condition &= Q(**{vendor_path: vendor_id})
    scope = getattr(model, "scope_for", None)
    if scope is not None:
        extra = scope(user, action)
        if extra is None:
            return None
        condition &= extra
    return condition


class StewardModel(models.Model):
    """Base for every domain model: timestamps and the restricting manager.

    ``vendor_path``: the lookup from this model to the owning vendor's id (``"vendor_id"``,
    ``"contract__vendor_id"``); None means portal users never see it.
    ``personal_data_fields``: fields redacted in audit snapshots and masked for roles that
    may not see personal data (DPP4).
    """

    created_at = models.DateTimeField(auto_now_add=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True, editable=False)

    vendor_path: ClassVar[str | None] = None
    personal_data_fields: ClassVar[frozenset[str]] = frozenset()

    objects = RestrictedQuerySet.as_manager()

    class Meta:
        abstract = True

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        """Further narrowing for staff and portal users alike; the default adds nothing."""
        return Q()


class AppendOnlyQuerySet(models.QuerySet["AuditEvent"]):
    """The audit trail's queryset: rows are added one by one through ``core.audit`` and never
    changed or removed through the ORM (raw SQL is caught by the hash chain instead)."""

    def update(self, **kwargs: Any) -> int:
        raise PermissionError("the audit trail is append-only")

    def bulk_create(self, *args: Any, **kwargs: Any) -> list[AuditEvent]:
        # Rows written in bulk would skip the chain head; only core.audit appends.
        raise PermissionError("audit events are appended one by one through core.audit")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit trail is append-only")

    def restrict(self, user: User | Any, action: str = VIEW) -> AppendOnlyQuerySet:
        condition = access_condition(AuditEvent, user, action)
        return self.none() if condition is None else self.filter(condition)


class AuditEvent(models.Model):
    """One append-only, hash-chained record of something done in Steward.

    Serves the foundation's audit requirement and DPP4 (reads and exports of personal
    data are recorded with their purpose). ``hash`` = SHA-256 over the canonical JSON of
    the row and the previous row's hash, so editing or deleting any row breaks the chain
    at that point (see ``manage.py verify_audit_chain``).
    """

    class Action(models.TextChoices):
        CREATE = "create", "Created"
        UPDATE = "update", "Updated"
        DELETE = "delete", "Deleted"
        READ = "read", "Read personal data"
        EXPORT = "export", "Exported"
        LOGIN = "login", "Logged in"
        LOGIN_FAILED = "login_failed", "Login failed"
        LOGOUT = "logout", "Logged out"
        ACCESS_DENIED = "access_denied", "Access denied"
        TOKEN_USED = "token_used", "API token used"
        OTHER = "other", "Other"

    seq = models.BigIntegerField(unique=True, editable=False)
    occurred_at = models.DateTimeField(db_index=True, editable=False)
    actor_id = models.BigIntegerField(null=True, blank=True, db_index=True, editable=False)
    actor_username = models.CharField(max_length=150, blank=True, editable=False)
    action = models.CharField(max_length=32, choices=Action.choices, db_index=True, editable=False)
    object_type = models.CharField(max_length=100, db_index=True, editable=False)
    object_id = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    object_repr = models.CharField(max_length=200, blank=True, editable=False)
    changes = models.JSONField(default=dict, blank=True, editable=False)
    purpose = models.CharField(max_length=200, blank=True, editable=False)
    request_id = models.CharField(max_length=64, blank=True, db_index=True, editable=False)
    channel = models.CharField(max_length=16, blank=True, editable=False)
    ip_address = models.GenericIPAddressField(null=True, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, unique=True, editable=False)

    objects = AppendOnlyQuerySet.as_manager()

    vendor_path: ClassVar[str | None] = None

    class Meta:
        ordering = ["-seq"]
        permissions = [("verify_auditevent", "Can verify the audit chain")]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} {self.object_type}:{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise PermissionError("the audit trail is append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise PermissionError("the audit trail is append-only")


class AuditChainHead(models.Model):
    """The single row that serialises appends to the audit chain (locked FOR UPDATE)."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1, editable=False)
    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default="0" * 64)

    def __str__(self) -> str:
        return f"audit head #{self.last_seq}"
