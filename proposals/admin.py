"""Back-office views of proposals. Writes with rules go through the pages and the API."""

from django.contrib import admin

from proposals.models import Call, CriteriaSet, Guideline, Initiative, Objective, Proposal


@admin.register(Call)
class CallAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("title", "status", "deadline")
    list_filter = ("status",)


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("call", "vendor", "status")
    list_filter = ("status",)

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return False  # submitted versions are never edited


admin.site.register([CriteriaSet, Guideline, Objective, Initiative])
