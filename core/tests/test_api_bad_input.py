"""Bad input: each class gets problem details with the right status, and nothing is written.

Malformed JSON, wrong types, unknown fields, oversized bodies, a body of the wrong media
type, missing auth, expired or revoked tokens, CSRF failures, duplicates: one test each,
against real endpoints (registering a vendor, issuing an API token).
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone

from accounts.models import ApiToken
from accounts.services import token_create
from core.testing.personas import bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

VENDORS = "/api/v1/vendors/"
TOKENS = "/api/v1/accounts/tokens"
GOOD_VENDOR = {"code": "lantau-logistics", "name": "Lantau Logistics Ltd"}


@pytest.fixture
def manager_auth(vendor_manager):
    return bearer(vendor_manager)


def post(client, url, body, auth, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return client.post(url, data=data, content_type=content_type, **auth)


def test_the_good_request_is_accepted(client, manager_auth):
    # The control for every refusal below: the same request, well formed, is written.
    response = post(client, VENDORS, GOOD_VENDOR, manager_auth)

    assert response.status_code == 201, response.content
    assert Vendor.objects.filter(code="lantau-logistics").exists()


@pytest.mark.parametrize(
    "body",
    ['{"code": "lantau-logistics", "name": ', "{'code': 'single-quotes'}", "not json at all", b"\xff\xfe{}"],
    ids=["truncated", "single-quotes", "prose", "not-utf8"],
)
def test_malformed_json_is_400(client, manager_auth, body):
    with nothing_written(Vendor):
        response = post(client, VENDORS, body, manager_auth)

    assert_problem(response, 400, kind="malformed-json")


def test_absurdly_nested_json_is_400_not_a_crash(client, manager_auth):
    with nothing_written(Vendor):
        response = post(client, VENDORS, "[" * 100_000 + "]" * 100_000, manager_auth)

    assert_problem(response, 400, kind="malformed-json")


@pytest.mark.parametrize("body", ["[]", '"vendor"', "42", "null", "true"])
def test_json_that_is_not_an_object_is_422(client, manager_auth, body):
    with nothing_written(Vendor):
        response = post(client, VENDORS, body, manager_auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"body"}


def test_wrong_types_are_422_naming_each_field(client, manager_auth):
    with nothing_written(Vendor):
        response = post(client, VENDORS, {"code": 5, "name": ["Lantau"], "status": "bankrupt"}, manager_auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"code", "name", "status"}
    assert all(error["message"] for error in data["errors"])


def test_missing_required_fields_are_422(client, manager_auth):
    with nothing_written(Vendor):
        response = post(client, VENDORS, {"name": "Lantau Logistics Ltd"}, manager_auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"code"}


def test_unknown_fields_are_422_not_silently_dropped(client, manager_auth):
    with nothing_written(Vendor):
        response = post(client, VENDORS, {**GOOD_VENDOR, "credit_limit": "1000000"}, manager_auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"credit_limit"}


def test_unknown_fields_on_a_token_request_are_422(client, vendor_manager):
    auth = bearer(vendor_manager)
    with nothing_written(ApiToken):
        response = post(client, TOKENS, {"name": "helpdesk", "scope": "write", "owner": 1}, auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"owner"}


def test_oversized_body_is_413(client, manager_auth):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert limit == 2 * 1024 * 1024  # the documented default: 2 MiB
    body = json.dumps({**GOOD_VENDOR, "name": "x" * (limit + 1)})

    with nothing_written(Vendor):
        response = post(client, VENDORS, body, manager_auth)

    data = assert_problem(response, 413, kind="too-large")
    assert str(limit) in data["detail"]


def test_a_body_that_is_not_json_is_415(client, manager_auth):
    # text/plain and forms are what a hostile page can send cross-site without a preflight.
    with nothing_written(Vendor):
        plain = post(client, VENDORS, json.dumps(GOOD_VENDOR), manager_auth, content_type="text/plain")
        form = client.post(VENDORS, data=GOOD_VENDOR, **manager_auth)

    assert_problem(plain, 415, kind="unsupported-media-type")
    assert_problem(form, 415, kind="unsupported-media-type")


def test_a_duplicate_code_is_422_not_500(client, manager_auth, vendor):
    with nothing_written(Vendor):
        response = post(client, VENDORS, {"code": vendor.code, "name": "Another Harbour"}, manager_auth)

    data = assert_problem(response, 422, kind="rule")
    assert error_fields(data) == {"code"}


def test_missing_auth_is_401_with_www_authenticate(client):
    with nothing_written(Vendor):
        response = post(client, VENDORS, GOOD_VENDOR, {})

    assert_problem(response, 401, kind="authentication")
    assert response["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize(
    "header",
    ["Bearer stw_00000000_not-a-real-token", "Bearer garbage", "Basic dml2aWFuOnNlY3JldA==", "Bearer "],
    ids=["unknown-token", "malformed-token", "basic-auth", "empty-token"],
)
def test_a_bad_credential_is_401(client, header):
    with nothing_written(Vendor):
        response = client.post(
            VENDORS, data=json.dumps(GOOD_VENDOR), content_type="application/json", HTTP_AUTHORIZATION=header
        )

    assert_problem(response, 401, kind="authentication")
    assert response["WWW-Authenticate"] == "Bearer"


def test_an_expired_token_is_401(client, vendor_manager):
    issued = token_create(user=vendor_manager, name="old import", scope="write", days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

    with nothing_written(Vendor, ApiToken):
        response = post(client, VENDORS, GOOD_VENDOR, {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"})

    data = assert_problem(response, 401, kind="authentication")
    assert "expired" in data["detail"]
    assert response["WWW-Authenticate"] == "Bearer"


def test_a_revoked_token_is_401(client, vendor_manager):
    issued = token_create(user=vendor_manager, name="leaked", scope="write", days=30)
    ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now())

    with nothing_written(Vendor):
        response = post(client, VENDORS, GOOD_VENDOR, {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"})

    data = assert_problem(response, 401, kind="authentication")
    assert "revoked" in data["detail"]


def test_a_read_only_token_cannot_write(client, vendor_manager):
    auth = bearer(vendor_manager, scope="read")

    with nothing_written(Vendor):
        refused = post(client, VENDORS, GOOD_VENDOR, auth)
    allowed = client.get(VENDORS, **auth)

    assert_problem(refused, 403)
    assert allowed.status_code == 200


def _csrf_client(user) -> tuple[Client, str]:
    """A signed-in browser session that enforces CSRF, holding the CSRF cookie the docs page sets."""
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(user)
    browser.get("/api/v1/docs")
    return browser, browser.cookies[settings.CSRF_COOKIE_NAME].value


def test_a_session_write_without_the_csrf_token_is_403(vendor_manager):
    browser, _token = _csrf_client(vendor_manager)

    with nothing_written(Vendor):
        response = browser.post(VENDORS, data=json.dumps(GOOD_VENDOR), content_type="application/json")

    assert_problem(response, 403, kind="csrf")


def test_a_session_write_with_a_wrong_csrf_token_is_403(vendor_manager):
    browser, token = _csrf_client(vendor_manager)
    wrong = token[::-1] if token[::-1] != token else "x" * len(token)

    with nothing_written(ApiToken):
        response = browser.post(
            TOKENS, data=json.dumps({"name": "mine"}), content_type="application/json", HTTP_X_CSRFTOKEN=wrong
        )

    assert_problem(response, 403, kind="csrf")


def test_a_session_write_with_the_csrf_token_is_accepted(vendor_manager):
    # The control: the 403s above are the CSRF check, not the session failing to authenticate.
    browser, token = _csrf_client(vendor_manager)

    response = browser.post(
        VENDORS, data=json.dumps(GOOD_VENDOR), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )

    assert response.status_code == 201, response.content


def test_a_session_read_needs_no_csrf_token(vendor_manager, vendor):
    browser, _token = _csrf_client(vendor_manager)

    response = browser.get(VENDORS)

    assert response.status_code == 200
    assert [item["code"] for item in response.json()["items"]] == [vendor.code]


def test_a_method_the_endpoint_lacks_is_405_problem_with_allow(client, manager_auth):
    with nothing_written(Vendor):
        response = client.delete(VENDORS, **manager_auth)

    assert_problem(response, 405)
    assert "GET" in response["Allow"] and "POST" in response["Allow"]


def test_an_unknown_api_path_is_404_problem(client, manager_auth):
    response = client.get("/api/v1/no-such-thing/", **manager_auth)

    assert_problem(response, 404)


@pytest.mark.parametrize("vendor_id", ["abc", "0", "-1", "99999999999999999999999"])
def test_a_malformed_path_id_is_422(client, manager_auth, vendor_id):
    response = client.get(f"{VENDORS}{vendor_id}", **manager_auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"path.vendor_id"}


def test_unknown_query_parameters_are_ignored(client, manager_auth, vendor):
    response = client.get(VENDORS, {"colour": "blue"}, **manager_auth)

    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_nul_character_in_the_body_is_422(client, manager_auth):
    # PostgreSQL cannot store NUL: let through, it would be a 500 from the database.
    with nothing_written(Vendor):
        response = post(client, VENDORS, {"code": "lantau", "name": "Lantau\u0000Logistics"}, manager_auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"name"}


def test_a_nul_character_in_the_query_is_422(client, manager_auth):
    response = client.get(VENDORS, {"search": "harbour\u0000"}, **manager_auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"query.search"}


def test_a_nul_character_in_the_url_is_400(client, manager_auth):
    response = client.get(f"{VENDORS}%00", **manager_auth)

    assert_problem(response, 400, kind="nul-in-url")


def test_a_refusal_before_any_view_still_carries_the_security_headers(client, manager_auth):
    response = client.get(f"{VENDORS}%00", **manager_auth)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
