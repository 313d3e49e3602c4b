"""Security headers on every response: CSP with a per-request nonce, frame denial, referrer policy,
nosniff; HSTS, secure cookies and the HTTPS redirect when Steward runs behind TLS."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.test import Client, override_settings

from core.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db

PAGE = "/accounts/login/"
API = "/api/v1/vendors/"  # a 401 problem for an anonymous client: error responses need the headers too


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    parsed = {}
    for part in policy.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


@pytest.mark.parametrize("url", [PAGE, API, "/api/v1/docs", "/healthz", "/no-such-page/"])
def test_every_response_denies_framing_sniffing_and_foreign_referrers(client, url):
    response = client.get(url)

    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    csp = directives(response)
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]


def test_a_page_gets_a_csp_nonce_and_its_script_carries_it(client):
    response = client.get(PAGE)

    script_src = directives(response)["script-src"]
    nonces = [word for word in script_src if word.startswith("'nonce-")]
    assert len(nonces) == 1, script_src
    nonce = nonces[0][len("'nonce-") : -1]
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts, "the page has no script tag to check"
    assert all(f'nonce="{nonce}"' in tag for tag in scripts), scripts


def test_the_nonce_is_new_on_every_request(client):
    first = directives(client.get(PAGE))["script-src"]
    second = directives(client.get(PAGE))["script-src"]

    assert first != second


@pytest.mark.parametrize("url", [PAGE, "/api/v1/docs"])
def test_no_inline_script_or_eval_is_allowed(client, url):
    csp = directives(client.get(url))

    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp[directive]
        assert "'unsafe-eval'" not in csp[directive]
    assert "*" not in csp["script-src"]


def test_without_tls_there_is_no_hsts_and_no_redirect(client):
    assert not settings.TLS  # the test profile runs without TLS

    response = client.get(PAGE, secure=True)

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response


def test_the_session_cookie_is_http_only_and_both_cookies_same_site(client, admin_user):
    client.get(PAGE)
    response = client.post(PAGE, {"username": admin_user.username, "password": PASSWORD})

    assert response.status_code == 302, response.content
    session = response.cookies[settings.SESSION_COOKIE_NAME]
    assert session["httponly"] is True
    assert session["samesite"] == "Lax"
    assert client.cookies[settings.CSRF_COOKIE_NAME]["samesite"] == "Lax"


# What settings.py sets when STEWARD_TLS is on (test_production_settings checks that it does).
TLS_SETTINGS = {
    "SECURE_PROXY_SSL_HEADER": ("HTTP_X_FORWARDED_PROTO", "https"),
    "SECURE_SSL_REDIRECT": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
}


@override_settings(**TLS_SETTINGS)
def test_behind_tls_responses_carry_hsts():
    response = Client().get(PAGE, HTTP_X_FORWARDED_PROTO="https")

    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


@override_settings(**TLS_SETTINGS)
def test_behind_tls_plain_http_is_redirected_except_the_health_probes():
    redirected = Client().get(PAGE)
    probe = Client().get("/healthz")

    assert redirected.status_code == 301
    assert redirected["Location"] == f"https://testserver{PAGE}"
    assert probe.status_code == 200


@override_settings(**TLS_SETTINGS)
def test_behind_tls_the_session_and_csrf_cookies_are_secure(admin_user):
    browser = Client()
    browser.get(PAGE, HTTP_X_FORWARDED_PROTO="https")
    response = browser.post(
        PAGE, {"username": admin_user.username, "password": PASSWORD}, HTTP_X_FORWARDED_PROTO="https"
    )

    assert response.status_code == 302, response.content
    assert response.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True
    assert browser.cookies[settings.CSRF_COOKIE_NAME]["secure"] is True
