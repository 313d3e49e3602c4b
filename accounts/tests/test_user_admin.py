"""The Django admin changes people only through accounts.services: the same rules, and an
audit row in the same transaction, as the pages and the API."""

import pytest
from django.contrib.auth.models import Group
from django.test import override_settings
from django.urls import reverse

from accounts import services
from accounts.models import User
from core.models import AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_two_factor")]

STRONG = "Sai-Kung-Country-Park-81"


@pytest.fixture
def _no_two_factor():
    with override_settings(STEWARD_2FA_REQUIRED_ROLES=[]):
        yield


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def change_form(person, **overrides):
    data = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "time_zone": person.time_zone,
        "is_active": "on" if person.is_active else "",
        "roles": sorted(person.groups.values_list("name", flat=True)),
        "_save": "Save",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v != ""}


def user_events(person, action):
    return AuditEvent.objects.filter(object_type="accounts.user", object_id=str(person.pk), action=action)


def test_the_change_page_offers_roles_not_groups_or_staff_flags(admin_client, auditor):
    response = admin_client.get(reverse("admin:accounts_user_change", args=[auditor.pk]))
    assert response.status_code == 200
    fields = response.context["adminform"].form.fields
    assert "roles" in fields
    assert not {"groups", "user_permissions", "is_staff", "is_superuser"} & set(fields)
    assert fields["roles"].initial == ["auditor"]


def test_a_role_change_in_the_admin_goes_through_the_service_and_is_audited(
    admin_client, admin_user, auditor
):
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[auditor.pk]),
        change_form(auditor, roles=["auditor", "marketing"]),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    assert set(auditor.groups.values_list("name", flat=True)) == {"auditor", "marketing"}
    event = user_events(auditor, "update").get()
    assert event.actor_id == admin_user.pk
    assert event.changes == {"before": {"roles": ["auditor"]}, "after": {"roles": ["auditor", "marketing"]}}


def test_other_changes_in_the_admin_are_audited_with_before_and_after(admin_client, auditor):
    admin_client.post(
        reverse("admin:accounts_user_change", args=[auditor.pk]), change_form(auditor, last_name="Yip-Lee")
    )
    event = user_events(auditor, "update").get()
    assert event.changes == {"before": {"last_name": auditor.last_name}, "after": {"last_name": "Yip-Lee"}}


def test_the_admin_refuses_a_staff_role_for_a_portal_user(admin_client, portal_user):
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[portal_user.pk]),
        change_form(portal_user, roles=["administrator"]),
    )
    assert response.status_code == 200
    assert "roles" in response.context["adminform"].form.errors
    portal_user.refresh_from_db()
    assert not portal_user.is_staff
    assert not user_events(portal_user, "update").exists()


def test_the_admin_refuses_to_remove_the_last_administrator(admin_client, admin_user):
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[admin_user.pk]),
        change_form(admin_user, roles=["auditor"]),
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert User.objects.get(pk=admin_user.pk).is_superuser


def test_adding_a_person_in_the_admin_goes_through_the_service(admin_client, admin_user, vendor):
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "portal.new",
            "password1": STRONG,
            "password2": STRONG,
            "roles": ["vendor_portal"],
            "vendor": vendor.pk,
            "_save": "Save",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    person = User.objects.get(username="portal.new")
    assert person.vendor == vendor and not person.is_staff
    assert person.role_codes == {"vendor_portal"}
    event = user_events(person, "create").get()
    assert event.actor_id == admin_user.pk
    assert event.changes["after"]["roles"] == ["vendor_portal"]


@pytest.mark.parametrize(
    ("roles", "with_vendor", "password"),
    [(["vendor_portal"], False, STRONG), (["auditor"], True, STRONG), (["auditor"], False, "password")],
)
def test_the_admin_add_form_applies_the_same_rules(admin_client, vendor, roles, with_vendor, password):
    data = {
        "username": "someone",
        "password1": password,
        "password2": password,
        "roles": roles,
        "_save": "Save",
    }
    if with_vendor:
        data["vendor"] = vendor.pk
    response = admin_client.post(reverse("admin:accounts_user_add"), data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not User.objects.filter(username="someone").exists()


def test_a_password_set_in_the_admin_is_audited_without_the_password(admin_client, admin_user, auditor):
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[auditor.pk]),
        {"password1": STRONG, "password2": STRONG, "usable_password": "true", "set-password": "1"},
    )
    assert response.status_code == 302
    auditor.refresh_from_db()
    assert auditor.check_password(STRONG)
    event = user_events(auditor, "update").get()
    assert event.changes == {"password": "changed"}
    assert event.actor_id == admin_user.pk


def test_the_admin_refuses_a_weak_password(admin_client, auditor):
    response = admin_client.post(
        reverse("admin:auth_user_password_change", args=[auditor.pk]),
        {"password1": "password", "password2": "password", "usable_password": "true", "set-password": "1"},
    )
    assert response.status_code == 200
    assert not user_events(auditor, "update").exists()


def test_people_are_deactivated_never_deleted_in_the_admin(admin_client, auditor):
    assert admin_client.get(reverse("admin:accounts_user_delete", args=[auditor.pk])).status_code == 403
    assert User.objects.filter(pk=auditor.pk).exists()


def test_deactivating_in_the_admin_is_audited(admin_client, auditor):
    form = change_form(auditor)
    form.pop("is_active")
    response = admin_client.post(reverse("admin:accounts_user_change", args=[auditor.pk]), form)
    assert response.status_code == 302
    assert not User.objects.get(pk=auditor.pk).is_active
    assert user_events(auditor, "update").get().changes == {
        "before": {"is_active": True},
        "after": {"is_active": False},
    }


def test_role_groups_are_read_only_in_the_admin(admin_client):
    group = Group.objects.get(name="auditor")
    assert admin_client.get(reverse("admin:auth_group_changelist")).status_code == 200
    response = admin_client.post(reverse("admin:auth_group_change", args=[group.pk]), {"name": "hacked"})
    assert response.status_code == 403
    assert admin_client.get(reverse("admin:auth_group_add")).status_code == 403
    assert Group.objects.filter(name="auditor").exists()


def test_tokens_are_revoked_in_the_admin_through_the_service(admin_client, admin_user, auditor):
    token = services.token_create(user=auditor, name="ci", scope="read", days=3).token
    assert admin_client.get(reverse("admin:accounts_apitoken_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:accounts_apitoken_changelist"), {"action": "revoke", "_selected_action": [token.pk]}
    )
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    event = AuditEvent.objects.get(object_type="accounts.apitoken", action="update")
    assert event.actor_id == admin_user.pk


def test_only_administrators_reach_the_user_admin(client, auditor, outsider, no_role_user):
    for person in (auditor, outsider, no_role_user):
        client.force_login(person)
        response = client.get(reverse("admin:accounts_user_changelist"))
        assert response.status_code == 302  # to the admin's own login page
        assert "login" in response["Location"]


def test_a_superuser_without_the_role_can_still_be_edited(admin_client, admin_user):
    # e.g. made by createsuperuser: no role group, but every right.
    lone = User.objects.create_superuser("root", "root@example.hk", STRONG)
    admin_user.groups.clear()
    User.objects.filter(pk=admin_user.pk).update(is_superuser=False, is_staff=False)
    admin_client.force_login(lone)
    response = admin_client.post(
        reverse("admin:accounts_user_change", args=[lone.pk]), change_form(lone, first_name="Root")
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert User.objects.get(pk=lone.pk).first_name == "Root"
