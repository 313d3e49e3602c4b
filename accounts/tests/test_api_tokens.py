"""Personal API tokens: shown once, stored hashed, scoped, expiring, revocable, audited, personal."""

import hashlib
import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts import services
from accounts.models import ApiToken
from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer

pytestmark = pytest.mark.django_db

TOKENS = "/api/v1/accounts/tokens"
ME = "/api/v1/accounts/me"


def post_json(client, url, body, **headers):
    return client.post(url, data=json.dumps(body), content_type="application/json", **headers)


def assert_401_problem(response):
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response["WWW-Authenticate"] == "Bearer"
    return response.json()


def test_the_secret_is_returned_once_and_only_its_hash_is_stored(client, auditor):
    client.force_login(auditor)
    response = post_json(client, TOKENS, {"name": "helpdesk import", "scope": "read", "days": 30})

    assert response.status_code == 201
    assert response["Cache-Control"] == "no-store"
    secret = response.json()["token"]
    token = ApiToken.objects.get(pk=response.json()["id"])
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    stored = [str(getattr(token, f.attname)) for f in ApiToken._meta.concrete_fields]
    # The random part may itself hold "_" (token_urlsafe): split off only the two leading fields.
    assert not any(secret in value or secret.split("_", 2)[2] in value for value in stored)
    assert all(secret not in json.dumps(e.changes) for e in AuditEvent.objects.all())

    listed = client.get(TOKENS).json()["items"]
    assert [t["id"] for t in listed] == [token.pk]
    assert "token" not in listed[0]
    assert secret not in client.get(TOKENS).content.decode()


def test_the_tokens_page_shows_the_secret_once(client, auditor):
    client.force_login(auditor)
    response = client.post(reverse("accounts:tokens"), {"name": "report", "scope": "read", "days": 7})
    assert response.status_code == 200
    secret = response.context["issued"].secret
    assert secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert secret not in client.get(reverse("accounts:tokens")).content.decode()


def test_the_token_works_as_a_bearer_credential(client, auditor):
    response = client.get(ME, **bearer(auditor, "read"))
    assert response.status_code == 200
    assert response.json()["username"] == auditor.username
    assert ApiToken.objects.get(user=auditor).last_used_at is not None


def test_a_read_token_gets_403_on_writes(client, vendor_manager, vendor):
    read = bearer(vendor_manager, "read")
    assert client.get(f"/api/v1/vendors/{vendor.pk}", **read).status_code == 200

    patch = client.patch(
        f"/api/v1/vendors/{vendor.pk}",
        data=json.dumps({"name": "Renamed"}),
        content_type="application/json",
        **read,
    )
    post = post_json(client, TOKENS, {"name": "more", "scope": "write", "days": 1}, **read)

    for response in (patch, post):
        assert response.status_code == 403
        assert response["Content-Type"].startswith("application/problem+json")
        assert "read-only" in response.json()["detail"]
    vendor.refresh_from_db()
    assert vendor.name != "Renamed"
    assert ApiToken.objects.filter(user=vendor_manager).count() == 1


def test_a_write_token_can_write(client, vendor_manager, vendor):
    response = client.patch(
        f"/api/v1/vendors/{vendor.pk}",
        data=json.dumps({"name": "Renamed"}),
        content_type="application/json",
        **bearer(vendor_manager, "write"),
    )
    assert response.status_code == 200
    vendor.refresh_from_db()
    assert vendor.name == "Renamed"


def _expired(user):
    issued = services.token_create(user=user, name="old", scope="read", days=1)
    ApiToken.objects.filter(pk=issued.token.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    return issued.secret, "expired"


def _revoked(user):
    issued = services.token_create(user=user, name="gone", scope="read", days=1)
    services.token_revoke(token=issued.token, actor=user)
    return issued.secret, "revoked"


def _malformed(user):
    return "not-a-steward-token", "malformed"


def _forged(user):
    issued = services.token_create(user=user, name="real", scope="read", days=1)
    return issued.secret[:-4] + "AAAA", "not valid"


def _owner_inactive(user):
    issued = services.token_create(user=user, name="leaver", scope="read", days=1)
    user.is_active = False
    user.save(update_fields=["is_active"])
    return issued.secret, "inactive"


@pytest.mark.parametrize("make", [_expired, _revoked, _malformed, _forged, _owner_inactive])
def test_a_rejected_token_gets_a_401_problem_with_www_authenticate(client, auditor, make):
    secret, reason = make(auditor)
    body = assert_401_problem(client.get(ME, HTTP_AUTHORIZATION=f"Bearer {secret}"))
    assert reason in body["detail"]


def test_no_credentials_get_a_401_problem(client):
    assert_401_problem(client.get(ME))


def test_revoking_stops_the_token_at_once_and_is_audited(client, auditor):
    issued = services.token_create(user=auditor, name="ci", scope="write", days=5)
    headers = {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}
    assert client.get(ME, **headers).status_code == 200

    response = client.post(f"{TOKENS}/{issued.token.pk}/revoke", **headers)

    assert response.status_code == 200
    assert response.json()["revoked_at"] is not None
    assert_401_problem(client.get(ME, **headers))
    created, revoked = AuditEvent.objects.filter(object_type="accounts.apitoken").order_by("seq")
    assert created.action == AuditEvent.Action.CREATE and created.actor_id == auditor.pk
    assert revoked.action == AuditEvent.Action.UPDATE and revoked.actor_id == auditor.pk
    assert revoked.changes["before"]["revoked_at"] is None
    assert revoked.changes["after"]["revoked_at"] is not None


def test_the_revoke_page_revokes_and_is_audited(client, auditor):
    issued = services.token_create(user=auditor, name="ci", scope="write", days=5)
    client.force_login(auditor)
    response = client.post(reverse("accounts:token_revoke", args=[issued.token.pk]))
    assert response.status_code == 302
    assert ApiToken.objects.get(pk=issued.token.pk).revoked_at is not None
    assert AuditEvent.objects.filter(object_type="accounts.apitoken", action="update").count() == 1


@pytest.mark.parametrize("persona", ["outsider", "no_role_user", "auditor"])
def test_nobody_sees_or_revokes_another_persons_token(client, portal_user, persona, request):
    other = request.getfixturevalue(persona)
    issued = services.token_create(user=portal_user, name="harbourcall sync", scope="read", days=5)
    token = issued.token

    # The list is not empty for them (the helper's own token is there), but it is only theirs.
    response = api_call(client, "GET", TOKENS, other)
    assert response.status_code == 200
    assert token.pk not in [t["id"] for t in response.json()["items"]]
    assert token.prefix not in response.content.decode() and "harbourcall" not in response.content.decode()
    assert_outsider_blocked(client, other, "POST", f"{TOKENS}/{token.pk}/revoke", secrets=(token.prefix,))

    token.refresh_from_db()
    assert token.revoked_at is None
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.ACCESS_DENIED, object_type="accounts.apitoken", object_id=str(token.pk)
    ).exists()


def test_nobody_revokes_another_persons_token_through_the_page(client, portal_user, outsider):
    token = services.token_create(user=portal_user, name="sync", scope="read", days=5).token
    client.force_login(outsider)
    assert client.post(reverse("accounts:token_revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize("days", [0, -1, 366, 100_000, "ninety"])
def test_days_out_of_range_is_422_and_creates_nothing(client, auditor, days):
    client.force_login(auditor)
    before = (ApiToken.objects.count(), AuditEvent.objects.count())

    response = post_json(client, TOKENS, {"name": "too long", "scope": "read", "days": days})

    assert response.status_code == 422
    assert response["Content-Type"].startswith("application/problem+json")
    assert any("days" in e["field"] for e in response.json()["errors"])
    assert (ApiToken.objects.count(), AuditEvent.objects.count()) == before


def test_the_page_refuses_days_out_of_range(client, auditor):
    client.force_login(auditor)
    response = client.post(reverse("accounts:tokens"), {"name": "x", "scope": "read", "days": 366})
    assert response.status_code == 200
    assert response.context["form"].errors["days"]
    assert not ApiToken.objects.exists()


@pytest.mark.parametrize(
    "body", [{"name": "", "days": 1}, {"name": "x", "scope": "admin"}, {"name": "x", "owner": 1}]
)
def test_invalid_token_requests_are_422(client, auditor, body):
    client.force_login(auditor)
    assert post_json(client, TOKENS, body).status_code == 422
    assert not ApiToken.objects.exists()


def test_a_person_without_a_role_cannot_issue_tokens(client, no_role_user):
    client.force_login(no_role_user)
    response = post_json(client, TOKENS, {"name": "x", "scope": "read", "days": 1})
    assert response.status_code == 403
    assert client.get(reverse("accounts:tokens")).status_code == 403
    assert not ApiToken.objects.exists()


def test_portal_users_manage_their_own_tokens(client, portal_user):
    client.force_login(portal_user)
    response = post_json(client, TOKENS, {"name": "portal sync", "scope": "read", "days": 10})
    assert response.status_code == 201
    assert [t["name"] for t in client.get(TOKENS).json()["items"]] == ["portal sync"]
