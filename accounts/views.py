"""Sign-in, sign-out, password change, two-factor enrolment and verification, API tokens, people."""

from __future__ import annotations

import base64
from typing import Any

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import selectors, services
from accounts.forms import OtpCodeForm, PasswordChangeForm, PeopleFilterForm, TokenCreateForm
from accounts.middleware import two_factor_required_for
from accounts.models import User
from accounts.roles import ROLES

PEOPLE_PAGE_SIZE = 50


def _person(request: HttpRequest) -> User:
    # login_required (or the API's authentication) ran first.
    user: User = request.user  # type: ignore[assignment]
    return user


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _safe_next(request: HttpRequest) -> str | None:
    target = request.POST.get("next") or request.GET.get("next")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None


class LoginView(auth_views.LoginView):
    """Django's sign-in; django-axes locks a username+address after AXES_FAILURE_LIMIT failures."""

    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        context["failure_limit"] = settings.AXES_FAILURE_LIMIT
        return context


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's password change, saved and audited through ``services.user_set_password``."""

    template_name = "accounts/password_change.html"
    form_class = PasswordChangeForm
    success_url = reverse_lazy("accounts:security")

    def form_valid(self, form: Any) -> HttpResponse:
        messages.success(self.request, "Your password was changed.")
        return super().form_valid(form)


@login_required
def security(request: HttpRequest) -> HttpResponse:
    """The person's own security settings: two-factor state, password, API tokens."""
    user = _person(request)
    devices = TOTPDevice.objects.filter(user=user, confirmed=True)
    return render(
        request,
        "accounts/security.html",
        {
            "devices": devices,
            "required": two_factor_required_for(user),
            "verified": user.is_verified(),  # type: ignore[attr-defined]
        },
    )


def _qr_data_uri(device: TOTPDevice) -> str:
    return str(segno.make(device.config_url, error="m").svg_data_uri(scale=4))


def _manual_key(device: TOTPDevice) -> str:
    # Authenticator apps take the key in base32 (as in the QR code), grouped for typing.
    key = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _wrong_code_message(device: TOTPDevice) -> str:
    allowed, data = device.verify_is_allowed()
    if not allowed and data and data.get("failure_count", 0) >= 3:
        return "Too many wrong codes in a row. Wait a few seconds, then enter the current code."
    return (
        "That code is not right. Check that your phone's clock is set automatically "
        "and enter the current code."
    )


@login_required
def two_factor_setup(request: HttpRequest) -> HttpResponse:
    """Enrol a TOTP authenticator: scan the QR code, then prove it with a code."""
    user = _person(request)
    if not user.is_verified() and user_has_device(user, confirmed=True):  # type: ignore[attr-defined]
        # Adding a device needs the existing one first, or a stolen password would be enough.
        return redirect("accounts:two_factor_verify")
    device = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if device.verify_token(form.cleaned_data["code"]):
            services.two_factor_confirm(user=user, device=device)
            otp_login(request, device)
            messages.success(request, "Two-factor authentication is on.")
            return redirect("core:home")
        services.two_factor_failed(user=user)
        form.add_error("code", _wrong_code_message(device))
    response = render(
        request,
        "accounts/two_factor_setup.html",
        {
            "form": form,
            "qr": _qr_data_uri(device),
            "secret": _manual_key(device),
            "required": two_factor_required_for(user),
        },
    )
    response["Cache-Control"] = "no-store"  # the page holds the device's secret key
    return response


@login_required
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    """The second step of signing in for a person with a confirmed authenticator."""
    user = _person(request)
    devices = list(TOTPDevice.objects.filter(user=user, confirmed=True))
    if not devices:
        return redirect("accounts:two_factor_setup")
    form = OtpCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        for device in devices:
            if device.verify_token(form.cleaned_data["code"]):
                otp_login(request, device)
                return redirect(_safe_next(request) or "core:home")
        services.two_factor_failed(user=user)
        form.add_error("code", _wrong_code_message(devices[0]))
    return render(
        request,
        "accounts/two_factor_verify.html",
        {"form": form, "next": _safe_next(request) or ""},
    )


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """List the person's API tokens and issue new ones (the secret is shown once)."""
    _require(request, "accounts.view_apitoken")
    form = TokenCreateForm(request.POST or None)
    issued = None
    if request.method == "POST":
        _require(request, "accounts.add_apitoken")
        if form.is_valid():
            try:
                issued = services.token_create(user=_person(request), **form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                form = TokenCreateForm()
    response = render(
        request,
        "accounts/tokens.html",
        {
            "form": form,
            "issued": issued,
            "tokens": selectors.token_list(user=request.user),
            "max_days": settings.STEWARD_API_TOKEN_MAX_DAYS,
        },
    )
    if issued is not None:
        response["Cache-Control"] = "no-store"  # the page holds a secret
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = selectors.token_get(user=request.user, pk=pk, action="change")
    services.token_revoke(token=token, actor=_person(request))
    messages.success(request, f"Token “{token.name}” was revoked.")
    return redirect("accounts:tokens")


@login_required
def people(request: HttpRequest) -> HttpResponse:
    """Administrators: everyone who can sign in, with their roles, vendor and two-factor state."""
    _require(request, "accounts.view_user")
    form = PeopleFilterForm(request.GET or None)
    role = search = ""
    if form.is_valid():
        role, search = form.cleaned_data["role"], form.cleaned_data["q"]
    paginator = Paginator(selectors.user_list(user=request.user, role=role, search=search), PEOPLE_PAGE_SIZE)
    page = paginator.get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    locked = selectors.locked_usernames([person.username for person in page])
    rows = [
        (
            person,
            [ROLES[c].label for c in selectors.role_codes_of(person) if c in ROLES],
            person.username in locked,
        )
        for person in page
    ]
    return render(
        request,
        "accounts/people.html",
        {
            "form": form,
            "page": page,
            "rows": rows,
            "query": query.urlencode(),
            "can_change": request.user.has_perm("accounts.change_user"),
        },
    )


@login_required
@require_POST
def person_security(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Administrators: reset a person's two-factor or lift their sign-in lock-out."""
    _require(request, "accounts.change_user")
    person = selectors.user_get(user=request.user, pk=pk, action="change")
    admin = request.user
    assert isinstance(admin, User)  # noqa: S101 (login_required guarantees it)
    if action == "two-factor-reset":
        removed = services.two_factor_reset(user=person, actor=admin)
        messages.success(
            request, f"{person.username}: {removed} authenticator app(s) removed; they enrol again."
        )
    elif action == "unlock":
        services.sign_in_unlock(user=person, actor=admin)
        messages.success(request, f"{person.username} can sign in again.")
    else:
        raise PermissionDenied
    return redirect("accounts:people")
