"""Object-level access: one mechanism (`restrict`) decides who sees what."""

import pytest
from django.contrib.auth.models import Permission

from core import audit
from core.models import AuditEvent
from vendors.models import Vendor

pytestmark = pytest.mark.django_db


def test_vendor_manager_sees_every_vendor(vendor, other_vendor, vendor_manager):
    assert set(Vendor.objects.restrict(vendor_manager)) == {vendor, other_vendor}


def test_portal_user_sees_only_their_own_vendor(vendor, other_vendor, portal_user):
    assert list(Vendor.objects.restrict(portal_user)) == [vendor]


def test_portal_user_cannot_change_even_their_own_vendor(vendor, portal_user):
    assert not Vendor.objects.restrict(portal_user, "change").exists()


def test_user_without_role_sees_nothing(vendor, no_role_user):
    assert not Vendor.objects.restrict(no_role_user).exists()


def test_anonymous_sees_nothing(vendor):
    from django.contrib.auth.models import AnonymousUser

    assert not Vendor.objects.restrict(AnonymousUser()).exists()


def test_inactive_user_sees_nothing(vendor, vendor_manager):
    vendor_manager.is_active = False
    vendor_manager.save()
    assert not Vendor.objects.restrict(vendor_manager).exists()


def test_portal_user_never_reads_models_without_a_vendor_path(portal_user):
    # Even a wrongly granted permission does not open a model that has no vendor path.
    portal_user.groups.first().permissions.add(Permission.objects.get(codename="view_auditevent"))
    portal_user = type(portal_user).objects.get(pk=portal_user.pk)  # drop the permission cache
    audit.record_event(AuditEvent.Action.OTHER, object_type="test.thing")
    assert portal_user.has_perm("core.view_auditevent")
    assert AuditEvent.objects.exists()
    assert not AuditEvent.objects.restrict(portal_user).exists()


def test_unknown_action_is_a_programming_error(vendor_manager):
    with pytest.raises(ValueError):
        Vendor.objects.restrict(vendor_manager, "destroy")
