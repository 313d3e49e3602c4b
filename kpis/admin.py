"""Admin views of the measurement engine: browse through ``restrict``; changes go through the pages,
the API or the services, so KPI versions, results and credits are read-only here."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from core.admin import RestrictedAdmin
from kpis.models import (
    Adjustment,
    KpiDefinition,
    KpiResult,
    KpiVersion,
    Measure,
    MeasureSubmission,
    Scorecard,
    ScorecardPeriod,
    StandingScheme,
    Subject,
)


class ReadOnlyAdmin(RestrictedAdmin):
    """Rows with rules (four eyes, immutability, caps) change only through kpis.services."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Measure)
class MeasureAdmin(ReadOnlyAdmin):
    list_display = ["code", "label", "unit", "source"]
    search_fields = ["code", "label"]


@admin.register(Subject)
class SubjectAdmin(ReadOnlyAdmin):
    list_display = ["label", "kind", "vendor", "user"]
    list_filter = ["kind"]


@admin.register(KpiDefinition)
class KpiDefinitionAdmin(ReadOnlyAdmin):
    list_display = ["code", "name", "retired_at", "next_review_on"]
    search_fields = ["code", "name"]


@admin.register(KpiVersion)
class KpiVersionAdmin(ReadOnlyAdmin):
    list_display = ["definition", "number", "status", "target", "author", "approved_by", "effective_from"]
    list_filter = ["status"]


@admin.register(StandingScheme)
class StandingSchemeAdmin(ReadOnlyAdmin):
    list_display = ["name"]


@admin.register(Scorecard)
class ScorecardAdmin(ReadOnlyAdmin):
    list_display = ["name", "subject", "granularity", "status"]
    list_filter = ["granularity", "status"]


@admin.register(ScorecardPeriod)
class ScorecardPeriodAdmin(ReadOnlyAdmin):
    list_display = ["scorecard", "start", "status", "score", "standing"]
    list_filter = ["status"]


@admin.register(KpiResult)
class KpiResultAdmin(ReadOnlyAdmin):
    list_display = ["period", "kpi", "version", "value", "attainment", "is_official"]


@admin.register(MeasureSubmission)
class MeasureSubmissionAdmin(ReadOnlyAdmin):
    list_display = ["measure", "subject", "start", "value", "status", "submitted_by", "decided_by"]
    list_filter = ["status"]


@admin.register(Adjustment)
class AdjustmentAdmin(ReadOnlyAdmin):
    list_display = ["period", "kpi", "kind", "proposed_amount", "approved_amount", "status"]
    list_filter = ["kind", "status"]
