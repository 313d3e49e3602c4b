"""Administrators help a person who lost their phone or locked themselves out: they reset the
person's two-factor or lift the lock-out, through the People page and the API, and the audit
trail says who did it. Nobody else can."""

import pytest
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent
from core.testing.factories import PASSWORD
from core.testing.personas import api_call, assert_outsider_blocked

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_two_factor")]

PEOPLE = reverse("accounts:people")


@pytest.fixture
def _no_two_factor():
    with override_settings(STEWARD_2FA_REQUIRED_ROLES=[]):
        yield


def lock_out(username: str) -> None:
    stranger = Client()
    for _ in range(5):
        stranger.post(
            reverse("accounts:login"), {"username": username, "password": "wrong"}, REMOTE_ADDR="10.0.0.9"
        )


def can_sign_in(username: str) -> bool:
    visitor = Client()
    visitor.post(
        reverse("accounts:login"), {"username": username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.9"
    )
    return "_auth_user_id" in visitor.session


def test_the_people_page_resets_two_factor_and_the_trail_names_the_administrator(client, admin_user, dpo):
    TOTPDevice.objects.create(user=dpo, name="old phone", confirmed=True)
    client.force_login(admin_user)
    assert "Reset two-factor" in client.get(PEOPLE).content.decode()

    response = client.post(reverse("accounts:person_security", args=[dpo.pk, "two-factor-reset"]))

    assert response.status_code == 302
    assert not TOTPDevice.objects.filter(user=dpo).exists()
    event = AuditEvent.objects.filter(object_id=str(dpo.pk), changes__two_factor="reset").get()
    assert event.actor_id == admin_user.pk and event.changes["devices_removed"] == 1


def test_the_people_page_shows_a_lock_out_and_lifts_it(client, admin_user, auditor):
    lock_out(auditor.username)
    assert not can_sign_in(auditor.username)
    client.force_login(admin_user)
    assert "locked out" in client.get(PEOPLE).content.decode()

    client.post(reverse("accounts:person_security", args=[auditor.pk, "unlock"]))

    assert can_sign_in(auditor.username)
    assert "locked out" not in client.get(PEOPLE).content.decode()
    assert AuditEvent.objects.filter(object_id=str(auditor.pk), changes__sign_in="unlocked").exists()


def test_the_api_resets_two_factor_and_unlocks(client, admin_user, dpo):
    TOTPDevice.objects.create(user=dpo, name="phone", confirmed=True)
    lock_out(dpo.username)
    reset = api_call(client, "post", f"/api/v1/accounts/users/{dpo.pk}/two-factor/reset", admin_user)
    unlock = api_call(client, "post", f"/api/v1/accounts/users/{dpo.pk}/unlock", admin_user)

    assert reset.status_code == 200 and reset.json() == {"removed": 1}
    assert unlock.status_code == 200 and unlock.json()["removed"] >= 1
    assert can_sign_in(dpo.username)


@pytest.mark.parametrize("persona", ["outsider", "auditor", "vendor_manager", "dpo", "no_role_user"])
def test_nobody_but_an_administrator_can_reset_or_unlock(client, admin_user, persona, request):
    TOTPDevice.objects.create(user=admin_user, name="phone", confirmed=True)
    person = request.getfixturevalue(persona)

    for path in (
        f"/api/v1/accounts/users/{admin_user.pk}/two-factor/reset",
        f"/api/v1/accounts/users/{admin_user.pk}/unlock",
    ):
        assert_outsider_blocked(client, person, "post", path)
    client.force_login(person)
    page = client.post(reverse("accounts:person_security", args=[admin_user.pk, "two-factor-reset"]))
    assert page.status_code == 403
    assert TOTPDevice.objects.filter(user=admin_user).count() == 1


def test_an_unknown_action_changes_nothing(client, admin_user, dpo):
    TOTPDevice.objects.create(user=dpo, name="phone", confirmed=True)
    client.force_login(admin_user)
    assert (
        client.post(reverse("accounts:person_security", args=[dpo.pk, "delete-everything"])).status_code
        == 403
    )
    assert TOTPDevice.objects.filter(user=dpo).count() == 1
