"""Every accounts page renders inside the shared layout (the browser suite checks them further)."""

import base64

import pytest
from django.test import override_settings
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts import services

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_two_factor")]


@pytest.fixture
def _no_two_factor():
    with override_settings(STEWARD_2FA_REQUIRED_ROLES=[]):
        yield


def assert_page(response, title):
    assert response.status_code == 200, response
    html = response.content.decode()
    assert f"<title>{title} · Steward</title>" in html
    assert "steward/steward.css" in html
    return html


def test_sign_in_page(client):
    html = assert_page(client.get(reverse("accounts:login")), "Sign in")
    assert 'name="csrfmiddlewaretoken"' in html and 'name="username"' in html


def test_security_page(client, auditor):
    client.force_login(auditor)
    html = assert_page(client.get(reverse("accounts:security")), "Security")
    assert reverse("accounts:two_factor_setup") in html and reverse("accounts:password_change") in html


def test_password_change_page(client, auditor):
    client.force_login(auditor)
    html = assert_page(client.get(reverse("accounts:password_change")), "Change password")
    assert 'name="new_password1"' in html


def test_tokens_page_lists_tokens_without_secrets(client, auditor):
    issued = services.token_create(user=auditor, name="nightly export", scope="read", days=3)
    client.force_login(auditor)
    html = assert_page(client.get(reverse("accounts:tokens")), "API tokens")
    assert "nightly export" in html and f"stw_{issued.token.prefix}_" in html
    assert issued.secret not in html
    assert reverse("accounts:token_revoke", args=[issued.token.pk]) in html


def test_two_factor_setup_page(client, auditor):
    client.force_login(auditor)
    response = client.get(reverse("accounts:two_factor_setup"))
    html = assert_page(response, "Set up two-factor authentication")
    assert response["Cache-Control"] == "no-store"
    assert 'src="data:image/svg+xml' in html and 'autocomplete="one-time-code"' in html
    # The key to type by hand is the base32 one authenticator apps expect, as in the QR code.
    device = TOTPDevice.objects.get(user=auditor, confirmed=False)
    typed = base64.b32encode(device.bin_key).decode().rstrip("=")
    assert f"secret={typed}" in device.config_url
    shown = html.split('<p class="secret">')[1].split("</p>")[0]
    assert shown.replace(" ", "") == typed


def test_two_factor_verify_page(client, auditor):
    TOTPDevice.objects.create(user=auditor, name="phone", confirmed=True)
    client.force_login(auditor)
    html = assert_page(client.get(reverse("accounts:two_factor_verify")), "Two-factor verification")
    assert reverse("accounts:logout") in html


def test_people_page(client, admin_user):
    client.force_login(admin_user)
    assert_page(client.get(reverse("accounts:people")), "People")


def test_admin_pages_for_people(client, admin_user, auditor):
    client.force_login(admin_user)
    for url in (
        reverse("admin:accounts_user_changelist"),
        reverse("admin:accounts_user_add"),
        reverse("admin:accounts_user_change", args=[auditor.pk]),
        reverse("admin:auth_user_password_change", args=[auditor.pk]),
        reverse("admin:accounts_apitoken_changelist"),
    ):
        assert client.get(url).status_code == 200, url


def test_navigation_hides_tokens_from_people_without_a_role(client, no_role_user, auditor):
    client.force_login(no_role_user)
    assert f'href="{reverse("accounts:tokens")}"' not in client.get(reverse("core:home")).content.decode()
    client.force_login(auditor)
    assert f'href="{reverse("accounts:tokens")}"' in client.get(reverse("core:home")).content.decode()
