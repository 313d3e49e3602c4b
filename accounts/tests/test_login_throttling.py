"""Signing in: repeated failures lock a username from an address (django-axes), and every
attempt, failed or not, is in the audit trail."""

import pytest
from django.conf import settings
from django.urls import reverse

from core.models import AuditEvent
from core.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = reverse("accounts:login")


def attempt(client, username, password, ip="127.0.0.1"):
    return client.post(LOGIN, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client):
    return "_auth_user_id" in client.session


def test_failure_limit_is_five():
    assert settings.AXES_FAILURE_LIMIT == 5


def test_the_sixth_attempt_is_locked_out_even_with_the_right_password(client, auditor):
    for _ in range(4):
        response = attempt(client, auditor.username, "wrong-password")
        assert response.status_code == 200
        assert not signed_in(client)
    assert attempt(client, auditor.username, "wrong-password").status_code == 429

    response = attempt(client, auditor.username, PASSWORD)

    assert response.status_code == 429
    assert not signed_in(client)
    assert "Too many failed sign-ins" in response.content.decode()


def test_lockout_is_per_username_and_address(client, auditor, vendor_manager):
    for _ in range(5):
        attempt(client, auditor.username, "wrong-password")
    assert attempt(client, auditor.username, PASSWORD).status_code == 429

    assert attempt(client, vendor_manager.username, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))
    assert attempt(client, auditor.username, PASSWORD, ip="10.1.2.3").status_code == 302


def test_failed_sign_ins_are_in_the_audit_trail(client, auditor):
    attempt(client, auditor.username, "wrong-password")
    attempt(client, "nobody-by-this-name", "whatever")

    failures = AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED).order_by("seq")
    assert [e.changes["username"] for e in failures] == [auditor.username, "nobody-by-this-name"]
    assert all(e.ip_address == "127.0.0.1" for e in failures)
    assert all("wrong-password" not in str(e.changes) for e in failures)


def test_a_successful_sign_in_resets_the_failure_count(client, auditor):
    for _ in range(4):
        attempt(client, auditor.username, "wrong-password")
    assert attempt(client, auditor.username, PASSWORD).status_code == 302
    client.post(reverse("accounts:logout"))

    for _ in range(4):
        assert attempt(client, auditor.username, "wrong-password").status_code == 200
    # Eight failures in all: without the reset this would be locked out.
    assert attempt(client, auditor.username, PASSWORD).status_code == 302
    assert signed_in(client)


def test_the_sign_in_page_says_when_the_account_locks(client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert "After 5 failed attempts" in response.content.decode()
