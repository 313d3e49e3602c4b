"""The Django admin for people and tokens. Every write goes through accounts.services, so the
admin enforces the same rules (portal binding, validated passwords, a remaining administrator)
and writes the same audit rows, in the same transaction, as the pages and the API."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.forms import UserAdminChangeForm, UserAdminCreationForm, UserAdminPasswordForm
from accounts.models import ApiToken, User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):  # type: ignore[type-arg]
    form = UserAdminChangeForm
    add_form = UserAdminCreationForm
    change_password_form = UserAdminPasswordForm
    # Roles are the only way to grant rights: no groups, per-user permissions or staff flags here.
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name", "email", "time_zone")}),
        ("Access", {"fields": ("is_active", "roles", "vendor")}),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "username",
                    "password1",
                    "password2",
                    "first_name",
                    "last_name",
                    "email",
                    "roles",
                    "vendor",
                ),
            },
        ),
    )
    list_display = ["username", "email", "first_name", "last_name", "vendor", "is_active"]
    list_filter = ["groups", "vendor", "is_active"]
    filter_horizontal = ()
    list_select_related = ["vendor"]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        # A username is how the audit trail names people; a portal user's vendor is fixed.
        return ("username", "vendor", "last_login", "date_joined")

    def save_model(self, request: HttpRequest, obj: User, form: Any, change: bool) -> None:
        actor: User = request.user  # type: ignore[assignment]
        roles = list(form.cleaned_data.get("roles") or [])
        if not change:
            services.user_add(user=obj, roles=roles, actor=actor)
            return
        person = User.objects.get(pk=obj.pk)
        changes = {f: form.cleaned_data[f] for f in form.changed_data if f in services.USER_EDITABLE_FIELDS}
        if changes:
            services.user_update(user=person, actor=actor, **changes)
        if "roles" in form.changed_data:
            services.user_set_roles(user=person, roles=roles, actor=actor)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # People are deactivated, never deleted: the audit trail and their records keep naming them.
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Read-only view of everyone's tokens, with a revoke action (tokens are issued by their owners)."""

    list_display = ["name", "user", "prefix", "scope", "expires_at", "revoked_at", "last_used_at"]
    list_filter = ["scope"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__username"]
    actions = ["revoke"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Revoke the selected tokens", permissions=["revoke"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        actor: User = request.user  # type: ignore[assignment]
        live = queryset.filter(revoked_at__isnull=True)
        count = 0
        for token in live:
            services.token_revoke(token=token, actor=actor)
            count += 1
        self.message_user(request, f"{count} token(s) revoked.", messages.SUCCESS)

    def has_revoke_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("accounts.change_apitoken")


# Roles are defined in accounts/roles.py and synced after every migrate; editing a group's
# permissions by hand would drift from that and escape the audit trail.
admin.site.unregister(Group)


@admin.register(Group)
class RoleGroupAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Roles as Django groups, read-only: change accounts/roles.py instead."""

    list_display = ["name"]
    filter_horizontal = ("permissions",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
