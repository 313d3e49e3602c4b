"""A vendor portal user is bound to exactly one vendor, holds no other role and is never staff."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from accounts import services
from accounts.models import User

pytestmark = pytest.mark.django_db

PASSWORD = "Lantau-Peak-934"


def create(**kwargs):
    return services.user_create(username=kwargs.pop("username", "newbie"), password=PASSWORD, **kwargs)


def test_portal_user_is_bound_to_their_vendor_and_is_not_staff(vendor):
    user = create(roles=["vendor_portal"], vendor=vendor)
    assert user.vendor == vendor
    assert user.is_portal_user
    assert not user.is_staff and not user.is_superuser
    assert user.role_codes == {"vendor_portal"}


def test_portal_role_without_a_vendor_is_refused():
    with pytest.raises(ValidationError) as exc:
        create(roles=["vendor_portal"])
    assert "vendor" in exc.value.message_dict
    assert not User.objects.filter(username="newbie").exists()


def test_portal_user_cannot_hold_another_role(vendor):
    with pytest.raises(ValidationError) as exc:
        create(roles=["vendor_portal", "auditor"], vendor=vendor)
    assert "roles" in exc.value.message_dict


@pytest.mark.parametrize("roles", [["auditor"], ["administrator"], []])
def test_staff_cannot_have_a_vendor(vendor, roles):
    with pytest.raises(ValidationError):
        create(roles=roles, vendor=vendor)
    assert not User.objects.filter(username="newbie").exists()


def test_unknown_role_is_refused():
    with pytest.raises(ValidationError) as exc:
        create(roles=["superhero"])
    assert "superhero" in str(exc.value)


def test_portal_user_cannot_be_given_a_staff_role(portal_user):
    with pytest.raises(ValidationError):
        services.user_set_roles(user=portal_user, roles=["administrator"])
    portal_user.refresh_from_db()
    assert not portal_user.is_staff
    assert set(portal_user.groups.values_list("name", flat=True)) == {"vendor_portal"}


def test_staff_cannot_be_given_the_portal_role(auditor):
    with pytest.raises(ValidationError):
        services.user_set_roles(user=auditor, roles=["vendor_portal"])


def test_administrator_role_makes_staff_and_losing_it_undoes_that(auditor, admin_user):
    services.user_set_roles(user=auditor, roles=["administrator"], actor=admin_user)
    auditor.refresh_from_db()
    assert auditor.is_staff and auditor.is_superuser
    services.user_set_roles(user=auditor, roles=["auditor"], actor=admin_user)
    auditor.refresh_from_db()
    assert not auditor.is_staff and not auditor.is_superuser


def test_database_refuses_a_staff_portal_user(vendor):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="sneaky", vendor=vendor, is_staff=True)


def test_database_refuses_a_superuser_portal_user(portal_user):
    portal_user.is_superuser = True
    with pytest.raises(IntegrityError), transaction.atomic():
        portal_user.save()


def test_the_last_administrator_cannot_lose_the_role(admin_user):
    with pytest.raises(ValidationError):
        services.user_set_roles(user=admin_user, roles=["auditor"], actor=admin_user)
    assert User.objects.get(pk=admin_user.pk).is_superuser


def test_the_last_administrator_cannot_be_deactivated(admin_user):
    with pytest.raises(ValidationError):
        services.user_update(user=admin_user, actor=admin_user, is_active=False)
    assert User.objects.get(pk=admin_user.pk).is_active


def test_an_administrator_can_step_down_when_another_remains(admin_user):
    other = create(username="grace", roles=["administrator"])
    services.user_set_roles(user=admin_user, roles=["auditor"], actor=other)
    assert not User.objects.get(pk=admin_user.pk).is_superuser
