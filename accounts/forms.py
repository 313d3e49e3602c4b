"""Forms for the accounts pages and the user admin. Saving always goes through accounts.services."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth import forms as auth_forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator

from accounts import services
from accounts.models import ApiToken, User
from accounts.roles import ROLES

ROLE_CHOICES = [(role.code, role.label) for role in ROLES.values()]


class OtpCodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\d{6}$",
        max_length=6,
        label="Six-digit code from your authenticator app",
        error_messages={"invalid": "Enter the six digits your app shows."},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}
        ),
    )


class TokenCreateForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'helpdesk import'.")
    scope = forms.ChoiceField(choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ)
    days = forms.IntegerField(min_value=1, initial=90, label="Valid for (days)")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        most = settings.STEWARD_API_TOKEN_MAX_DAYS
        self.fields["days"].validators.append(MaxValueValidator(most))
        self.fields["days"].widget.attrs["max"] = most


class PeopleFilterForm(forms.Form):
    role = forms.ChoiceField(choices=[("", "Any role"), *ROLE_CHOICES], required=False)
    q = forms.CharField(label="Search", max_length=100, required=False)


class PasswordChangeForm(auth_forms.PasswordChangeForm):
    """Django's form (old password, new twice), saved through ``services.user_set_password``."""

    def save(self, commit: bool = True) -> User:
        user: User = self.user
        return services.user_set_password(user=user, password=self.cleaned_data["new_password1"], actor=user)


# --- User admin ---------------------------------------------------------------------------------


def _add_service_errors(form: forms.BaseForm, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


class _RolesField(forms.MultipleChoiceField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            choices=ROLE_CHOICES,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text="A vendor portal user holds the vendor portal role only, and has a vendor.",
            **kwargs,
        )


class UserAdminCreationForm(auth_forms.UserCreationForm):  # type: ignore[type-arg]
    """The admin's add form: username, password twice, roles and (portal users) the vendor."""

    roles = _RolesField()

    class Meta:
        model = User
        fields = ("username", "first_name", "last_name", "email", "vendor")
        field_classes = {"username": auth_forms.UsernameField}

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        try:
            services.validate_roles(cleaned.get("roles") or [], cleaned.get("vendor"))
        except ValidationError as exc:
            _add_service_errors(self, exc)
        return cleaned


class UserAdminChangeForm(auth_forms.UserChangeForm):  # type: ignore[type-arg]
    """The admin's change form: roles replace Django's groups, permissions and staff flags."""

    roles = _RolesField()

    class Meta:
        model = User
        fields = ("username", "password", "first_name", "last_name", "email", "is_active", "time_zone")
        field_classes = {"username": auth_forms.UsernameField}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["roles"].initial = sorted(self.instance.groups.values_list("name", flat=True))

    def clean(self) -> dict[str, Any]:
        cleaned: dict[str, Any] = super().clean() or {}
        try:
            # Only what changed: an untouched field must not block saving the rest.
            services.validate_user_change(
                user=self.instance,
                roles=cleaned.get("roles") or [] if "roles" in self.changed_data else None,
                is_active=cleaned.get("is_active") if "is_active" in self.changed_data else None,
            )
        except ValidationError as exc:
            _add_service_errors(self, exc)
        return cleaned


class UserAdminPasswordForm(auth_forms.AdminPasswordChangeForm):  # type: ignore[type-arg]
    """The admin's set-password form, saved through ``services.user_set_password``.

    The acting administrator comes from the request context (the admin view does not pass it).
    """

    def save(self, commit: bool = True) -> User:
        user: User = self.user
        password = self.cleaned_data["password1"] if self.cleaned_data["set_usable_password"] else None
        return services.user_set_password(user=user, password=password)
