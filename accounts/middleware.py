"""Two-factor enforcement: verify an enrolled device at each sign-in; enrol first where a role requires it."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django_otp import user_has_device

from core.api import problem

_EXEMPT_PREFIXES = ("/accounts/logout", "/accounts/two-factor/", "/static/", "/healthz", "/readyz", "/s/")


def two_factor_required_for(user: object) -> bool:
    """Whether USER's roles are in STEWARD_2FA_REQUIRED_ROLES (a superuser counts as an administrator)."""
    required = set(settings.STEWARD_2FA_REQUIRED_ROLES)
    if not required:
        return False
    if getattr(user, "is_superuser", False) and "administrator" in required:
        return True
    return bool(getattr(user, "role_codes", set()) & required)


def _bearer_call(request: HttpRequest) -> bool:
    # API tokens are a separate credential: the token authenticator decides, not the session.
    return request.path.startswith("/api/") and request.headers.get("Authorization", "").startswith("Bearer ")


class TwoFactorRequiredMiddleware:
    """A signed-in session that has not passed its second factor reaches only the two-factor
    pages and sign-out: people with a confirmed device verify it, people whose role requires
    two-factor enrol first. API calls on such a session get a 403 problem document."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or request.path.startswith(_EXEMPT_PREFIXES)
            or _bearer_call(request)
        ):
            return self.get_response(request)
        if user.is_verified():
            return self.get_response(request)
        if user_has_device(user, confirmed=True):
            target = "accounts:two_factor_verify"
        elif two_factor_required_for(user):
            target = "accounts:two_factor_setup"
        else:
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return problem(
                request, 403, "Complete two-factor verification in the browser first.", kind="two-factor"
            )
        url = reverse(target)
        if request.method == "GET" and target == "accounts:two_factor_verify":
            url += "?" + urlencode({"next": request.get_full_path()})
        return redirect(url)
