"""Django admin for back-office data, through the same access rules and audit trail."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from core import audit
from core.models import AuditEvent


class RestrictedAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Lists only what ``restrict`` allows, and audits every save and delete."""

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return super().get_queryset(request).restrict(request.user, "view")  # type: ignore[attr-defined, no-any-return]

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        before = audit.snapshot(type(obj)._default_manager.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit.record_change(
            AuditEvent.Action.UPDATE if change else AuditEvent.Action.CREATE,
            obj,
            before=before,
            actor=request.user,
        )

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        audit.record_change(AuditEvent.Action.DELETE, obj, actor=request.user)
        super().delete_model(request, obj)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only: the trail cannot be changed from the admin."""

    list_display = ["seq", "occurred_at", "actor_username", "action", "object_type", "object_id"]
    list_filter = ["action", "object_type"]
    search_fields = ["actor_username", "object_id", "request_id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Any]:
        return AuditEvent.objects.restrict(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
