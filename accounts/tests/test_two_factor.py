"""TOTP two-factor: mandatory for the roles in STEWARD_2FA_REQUIRED_ROLES, verified after every
sign-in by anyone with a confirmed device; API tokens are a separate credential."""

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent
from core.testing.factories import PASSWORD
from core.testing.personas import bearer

pytestmark = pytest.mark.django_db

REQUIRED = override_settings(STEWARD_2FA_REQUIRED_ROLES=["administrator", "data_protection_officer"])
HOME = reverse("core:home")
SETUP = reverse("accounts:two_factor_setup")
VERIFY = reverse("accounts:two_factor_verify")


def code_for(device, steps_ahead=0):
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift + steps_ahead):06d}"


def wrong_code_for(device):
    # Any six digits the device would not accept now (tolerance is one step either way).
    valid = {code_for(device, n) for n in (-1, 0, 1)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def confirmed_device(user):
    return TOTPDevice.objects.create(user=user, name="phone", confirmed=True)


def sign_in(client, user):
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302


@REQUIRED
def test_required_role_is_sent_to_setup_and_cannot_reach_anything_else(client, dpo):
    client.force_login(dpo)
    for url in (HOME, reverse("vendors:list"), reverse("accounts:tokens"), reverse("accounts:security")):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"] == SETUP
    response = client.get(SETUP)
    assert response.status_code == 200
    assert "data:image/svg+xml" in response.content.decode()
    assert "Your role requires" in response.content.decode()


@REQUIRED
def test_a_valid_code_confirms_the_device_and_opens_steward(client, dpo):
    client.force_login(dpo)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=dpo, confirmed=False)

    response = client.post(SETUP, {"code": code_for(device)})

    assert response.status_code == 302
    assert response["Location"] == HOME
    device.refresh_from_db()
    assert device.confirmed
    assert client.get(HOME).status_code == 200
    enrolled = AuditEvent.objects.get(object_type="accounts.user", object_id=str(dpo.pk), action="update")
    assert enrolled.changes["two_factor"] == "enrolled"


@REQUIRED
def test_a_wrong_code_is_refused_with_a_clear_message(client, dpo):
    client.force_login(dpo)
    client.get(SETUP)
    device = TOTPDevice.objects.get(user=dpo, confirmed=False)

    response = client.post(SETUP, {"code": wrong_code_for(device)})

    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    device.refresh_from_db()
    assert not device.confirmed
    assert client.get(HOME)["Location"] == SETUP
    failed = AuditEvent.objects.get(action=AuditEvent.Action.LOGIN_FAILED, object_id=str(dpo.pk))
    assert failed.changes == {"stage": "two_factor"}


def test_a_malformed_code_is_refused_with_a_clear_message(client, auditor):
    confirmed_device(auditor)
    client.force_login(auditor)
    response = client.post(VERIFY, {"code": "12ab"})
    assert response.status_code == 200
    assert "Enter the six digits your app shows." in response.content.decode()


def test_a_confirmed_device_must_be_verified_after_every_sign_in(client, auditor):
    # The auditor's role does not require two-factor; having turned it on, they must use it.
    device = confirmed_device(auditor)
    sign_in(client, auditor)
    response = client.get(HOME)
    assert response.status_code == 302
    assert response["Location"] == f"{VERIFY}?next=%2F"

    response = client.post(f"{VERIFY}?next=/", {"code": code_for(device)})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.get(HOME).status_code == 200

    client.post(reverse("accounts:logout"))
    sign_in(client, auditor)
    assert client.get(HOME)["Location"].startswith(VERIFY)


def test_verify_refuses_a_wrong_code(client, auditor):
    device = confirmed_device(auditor)
    client.force_login(auditor)
    response = client.post(VERIFY, {"code": wrong_code_for(device)})
    assert response.status_code == 200
    assert "That code is not right" in response.content.decode()
    assert client.get(HOME).status_code == 302


def test_verify_only_redirects_within_steward(client, auditor):
    device = confirmed_device(auditor)
    client.force_login(auditor)
    response = client.post(f"{VERIFY}?next=https://evil.example/steal", {"code": code_for(device)})
    assert response.status_code == 302
    assert response["Location"] == HOME


def test_a_new_device_cannot_be_added_before_the_existing_one_is_verified(client, auditor):
    # Otherwise a stolen password alone would let someone enrol their own phone.
    confirmed_device(auditor)
    client.force_login(auditor)
    response = client.get(SETUP)
    assert response.status_code == 302
    assert response["Location"] == VERIFY
    assert not TOTPDevice.objects.filter(user=auditor, confirmed=False).exists()


@REQUIRED
def test_a_superuser_counts_as_an_administrator(client, admin_user):
    client.force_login(admin_user)
    assert client.get(HOME)["Location"] == SETUP
    assert client.get(reverse("admin:index"))["Location"] == SETUP


@REQUIRED
def test_roles_not_listed_are_not_forced(client, auditor):
    client.force_login(auditor)
    assert client.get(HOME).status_code == 200


@override_settings(STEWARD_2FA_REQUIRED_ROLES=[])
def test_with_no_required_roles_two_factor_is_optional(client, dpo):
    client.force_login(dpo)
    assert client.get(HOME).status_code == 200


@REQUIRED
def test_session_api_calls_before_two_factor_get_a_403_problem(client, dpo):
    client.force_login(dpo)
    response = client.get("/api/v1/accounts/me")
    assert response.status_code == 403
    assert response["Content-Type"].startswith("application/problem+json")
    assert response.json()["type"].endswith("/two-factor")


def test_session_api_calls_before_verifying_an_enrolled_device_get_a_403(client, auditor):
    confirmed_device(auditor)
    client.force_login(auditor)
    assert client.get("/api/v1/accounts/me").status_code == 403


@REQUIRED
def test_api_tokens_are_unaffected_by_two_factor(client, dpo):
    headers = bearer(dpo, "read")
    assert client.get("/api/v1/accounts/me", **headers).status_code == 200
    # Even when the same client also holds an unverified session.
    client.force_login(dpo)
    response = client.get("/api/v1/accounts/me", **headers)
    assert response.status_code == 200
    assert response.json()["username"] == dpo.username


@REQUIRED
def test_sign_out_stays_reachable_before_two_factor(client, dpo):
    client.force_login(dpo)
    response = client.post(reverse("accounts:logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session
