"""CSRF everywhere: every page form and every session API write needs the token; no view opts out."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiToken
from core.testing.factories import PASSWORD
from core.testing.problems import nothing_written

pytestmark = pytest.mark.django_db


def _views(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry.url_patterns, prefix + str(entry.pattern))
        elif isinstance(entry, URLPattern):
            yield prefix + str(entry.pattern), entry.callback


def test_no_view_is_exempt_from_csrf_except_the_api():
    # The API's views are exempt from Django's middleware only because the API checks CSRF
    # itself for session callers (SessionAuth); token callers send no cookies to forge.
    exempt = [route for route, view in _views() if getattr(view, "csrf_exempt", False)]

    assert exempt, "the walk found no API view: is it still walking the URL map?"
    assert all(route.startswith("api/v1/") for route in exempt), exempt


def test_a_sign_in_without_the_csrf_token_is_refused(admin_user):
    browser = Client(enforce_csrf_checks=True)

    response = browser.post("/accounts/login/", {"username": admin_user.username, "password": PASSWORD})

    assert response.status_code == 403
    assert "text/html" in response["Content-Type"]
    assert b"Form expired" in response.content
    assert settings.SESSION_COOKIE_NAME not in response.cookies


def test_a_signed_in_form_post_without_the_csrf_token_changes_nothing(vendor_manager):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(vendor_manager)

    with nothing_written(ApiToken):
        response = browser.post("/accounts/tokens/", {"name": "forged", "scope": "write", "days": 30})

    assert response.status_code == 403


def test_the_same_form_post_with_the_csrf_token_works(vendor_manager):
    # The control: the refusal above is the CSRF check, not the form.
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(vendor_manager)
    browser.get("/accounts/tokens/")
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value

    response = browser.post(
        "/accounts/tokens/", {"name": "genuine", "scope": "write", "days": 30, "csrfmiddlewaretoken": token}
    )

    assert response.status_code == 200
    assert ApiToken.objects.filter(user=vendor_manager, name="genuine").exists()
