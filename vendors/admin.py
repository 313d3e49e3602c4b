"""Django admin for the vendor register: for looking things up, through ``restrict``.

Writes go through the pages and the API, which call ``vendors.services`` and so keep every rule
(lifecycle transitions, no overlapping versions, allocations within the pool, evidence checked by
content). The admin only renames a vendor or registers one, through the same services.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from core.admin import RestrictedAdmin
from vendors import models, services


@admin.register(models.Vendor)
class VendorAdmin(RestrictedAdmin):
    list_display = ["name", "code", "status"]
    list_filter = ["status"]
    search_fields = ["name", "code"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        # The status moves only along the lifecycle, with a reason, on the vendor's page or the API.
        return ("code", "status") if obj is not None else ()

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        assert isinstance(obj, models.Vendor)
        if change:
            current = models.Vendor.objects.get(pk=obj.pk)
            services.vendor_update(actor=request.user, vendor=current, name=obj.name)
            obj.refresh_from_db()
        else:
            created = services.vendor_create(
                actor=request.user, code=obj.code, name=obj.name, status=obj.status
            )
            obj.pk = created.pk
            obj.refresh_from_db()


class ReadOnlyAdmin(RestrictedAdmin):
    """Lists and shows, through ``restrict``; changes happen where the rules are checked."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(models.VendorStatusChange)
class VendorStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["vendor", "from_status", "to_status", "changed_by", "created_at"]
    list_filter = ["to_status"]


@admin.register(models.RiskQuestionnaire)
class RiskQuestionnaireAdmin(ReadOnlyAdmin):
    list_display = ["title", "code", "version", "created_at"]


@admin.register(models.RiskAssessment)
class RiskAssessmentAdmin(ReadOnlyAdmin):
    list_display = ["vendor", "tier", "score", "questionnaire", "created_at"]
    list_filter = ["tier"]


@admin.register(models.VendorContact)
class VendorContactAdmin(ReadOnlyAdmin):
    list_display = ["vendor", "escalation_level", "job_title", "is_primary"]


@admin.register(models.VendorDocument)
class VendorDocumentAdmin(ReadOnlyAdmin):
    list_display = ["vendor", "title", "kind", "expires_on", "replaced_by"]
    list_filter = ["kind"]
    search_fields = ["title", "reference"]


class _PartsInline(admin.TabularInline):  # type: ignore[type-arg]
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceLevelInline(_PartsInline):
    model = models.ServiceLevel


class FeeInline(_PartsInline):
    model = models.FeeItem


@admin.register(models.Contract)
class ContractAdmin(ReadOnlyAdmin):
    list_display = ["reference", "title", "vendor", "owner"]
    search_fields = ["reference", "title"]


@admin.register(models.ContractVersion)
class ContractVersionAdmin(ReadOnlyAdmin):
    list_display = ["contract", "number", "kind", "status", "start", "effective_end", "monthly_fee"]
    list_filter = ["status", "kind"]
    inlines = [FeeInline, ServiceLevelInline]


@admin.register(models.Obligation)
class ObligationAdmin(ReadOnlyAdmin):
    list_display = ["title", "contract", "owner_party", "recurrence", "first_due_on", "active"]


@admin.register(models.ObligationInstance)
class ObligationInstanceAdmin(ReadOnlyAdmin):
    list_display = ["obligation", "due_on", "status"]
    list_filter = ["status"]
    date_hierarchy = "due_on"


@admin.register(models.ObligationEvidence)
class ObligationEvidenceAdmin(ReadOnlyAdmin):
    list_display = ["file_name", "instance", "content_type", "size", "uploaded_by", "created_at"]


@admin.register(models.ContractAlert)
class ContractAlertAdmin(ReadOnlyAdmin):
    list_display = ["contract", "kind", "due_on", "lead_days", "raised_on", "acknowledged_at"]


@admin.register(models.LiaisonEntry)
class LiaisonEntryAdmin(ReadOnlyAdmin):
    list_display = ["title", "vendor", "kind", "occurred_at"]


@admin.register(models.ActionItem)
class ActionItemAdmin(ReadOnlyAdmin):
    list_display = ["description", "vendor", "owner_party", "due_on", "status"]
    list_filter = ["status", "owner_party"]


@admin.register(models.UpdateRequest)
class UpdateRequestAdmin(ReadOnlyAdmin):
    list_display = ["title", "vendor", "due_on", "status"]
    list_filter = ["status"]
