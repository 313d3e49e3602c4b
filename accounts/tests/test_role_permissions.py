"""Roles of PRODUCT.md §1 are Django groups holding exactly the permissions roles.py names."""

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.roles import EVERYONE, ROLES
from accounts.services import sync_roles

pytestmark = pytest.mark.django_db

TOKEN_PERMS = set(EVERYONE)
RESERVED_APP_LABELS = {"auth", "accounts", "admin", "sessions", "contenttypes", "axes", "otp_totp"}


def perms_of(role: str) -> set[str]:
    group = Group.objects.get(name=role)
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")
    }


def all_perms() -> set[str]:
    return {
        f"{p.content_type.app_label}.{p.codename}" for p in Permission.objects.select_related("content_type")
    }


def test_every_role_is_a_group():
    assert set(ROLES) <= set(Group.objects.values_list("name", flat=True))


def test_administrator_holds_every_permission_including_user_administration():
    perms = perms_of("administrator")
    assert perms == all_perms()
    assert {"accounts.change_user", "accounts.add_user", "auth.change_group"} <= perms


def test_auditor_reads_everything_but_changes_nothing():
    perms = perms_of("auditor")
    assert {"vendors.view_vendor", "core.view_auditevent", "core.verify_auditevent"} <= perms
    writes = {p for p in perms - TOKEN_PERMS if p.split(".")[1].startswith(("add_", "change_", "delete_"))}
    assert writes == set()
    assert {p for p in perms if p.startswith(("accounts.", "auth."))} == TOKEN_PERMS & perms
    assert "accounts.view_user" not in perms


def test_vendor_portal_holds_only_its_vendor_view_and_its_own_tokens():
    perms = perms_of("vendor_portal")
    foundation = {p for p in perms if p.split(".")[0] in {"core", "accounts", "auth"}}
    assert foundation == TOKEN_PERMS
    assert "vendors.view_vendor" in perms
    # A vendor's own staff never manage the register or the contract itself.
    assert not perms & {
        "vendors.add_vendor",
        "vendors.change_vendor",
        "vendors.add_contract",
        "vendors.change_contract",
        "vendors.change_servicelevel",
    }
    # Feature packages may add to the portal role, but only by naming each permission.
    named = set(ROLES["vendor_portal"].permissions) | TOKEN_PERMS
    assert not any("*" in pattern for pattern in named)
    assert perms == named & all_perms()


def test_only_the_administrator_reaches_user_group_and_session_administration():
    for code in ROLES:
        if code == "administrator":
            continue
        reserved = {p for p in perms_of(code) if p.split(".")[0] in RESERVED_APP_LABELS}
        assert reserved <= TOKEN_PERMS, f"{code} holds {sorted(reserved - TOKEN_PERMS)}"


def test_dpo_reads_and_verifies_the_audit_trail_but_cannot_change_vendors():
    perms = perms_of("data_protection_officer")
    assert {"core.view_auditevent", "core.verify_auditevent", "vendors.view_vendor"} <= perms
    assert "vendors.change_vendor" not in perms


def test_sync_roles_removes_permissions_granted_by_hand():
    group = Group.objects.get(name="auditor")
    group.permissions.add(Permission.objects.get(codename="change_vendor"))
    assert "vendors.change_vendor" in perms_of("auditor")
    sync_roles()
    assert "vendors.change_vendor" not in perms_of("auditor")


def test_a_person_has_the_permissions_of_their_role(auditor, vendor_manager):
    assert auditor.has_perm("vendors.view_vendor")
    assert not auditor.has_perm("vendors.change_vendor")
    assert vendor_manager.has_perm("vendors.change_vendor")
    assert not vendor_manager.has_perm("accounts.view_user")
