"""Password change and sign-out work and are audited; sign-in is audited too."""

import pytest
from django.urls import reverse

from core.models import AuditEvent
from core.testing.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "Tai-Mo-Shan-957"


def events(action, user):
    return AuditEvent.objects.filter(action=action, object_type="accounts.user", object_id=str(user.pk))


def test_password_change_sets_the_new_password_and_is_audited(client, auditor):
    client.force_login(auditor)
    response = client.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:security")
    auditor.refresh_from_db()
    assert auditor.check_password(NEW_PASSWORD)
    event = events(AuditEvent.Action.UPDATE, auditor).get()
    assert event.changes == {"password": "changed"}
    assert event.actor_id == auditor.pk
    assert NEW_PASSWORD not in str(event.changes) and "pbkdf2" not in str(event.changes)
    # The session survives its own password change.
    assert client.get(reverse("accounts:security")).status_code == 200


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (PASSWORD, "short"),
        (PASSWORD, "password123"),
        (PASSWORD, "1234567890123"),
        ("not-the-old-one", NEW_PASSWORD),
    ],
)
def test_password_change_refuses_weak_passwords_and_a_wrong_old_one(client, auditor, old, new):
    client.force_login(auditor)
    response = client.post(
        reverse("accounts:password_change"), {"old_password": old, "new_password1": new, "new_password2": new}
    )
    assert response.status_code == 200
    assert response.context["form"].errors
    auditor.refresh_from_db()
    assert auditor.check_password(PASSWORD)
    assert not events(AuditEvent.Action.UPDATE, auditor).exists()


def test_sign_in_and_sign_out_are_audited(client, auditor):
    response = client.post(reverse("accounts:login"), {"username": auditor.username, "password": PASSWORD})
    assert response.status_code == 302
    assert events(AuditEvent.Action.LOGIN, auditor).get().actor_id == auditor.pk

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in client.session
    assert events(AuditEvent.Action.LOGOUT, auditor).get().actor_id == auditor.pk


def test_sign_out_needs_a_post(client, auditor):
    client.force_login(auditor)
    assert client.get(reverse("accounts:logout")).status_code == 405
    assert "_auth_user_id" in client.session
