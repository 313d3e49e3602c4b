"""Fixtures every package's tests share: roles, personas, API helpers."""

from __future__ import annotations

import pytest

from accounts.services import sync_roles
from core.testing.factories import UserFactory, VendorFactory

# Browser fixtures (page, browser, page_console) for tests marked `browser`: core/testing/browser.py.
pytest_plugins = ["core.testing.browser"]


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Real hashing costs most of a second per user on a 2-core machine; tests are about the
    # rules around passwords, not the hash function, so use Django's cheapest hasher.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _roles(db):
    # Role groups are filled after migrate; the test database flush between
    # transactional tests empties them, so make sure they exist for every test.
    sync_roles()


@pytest.fixture
def vendor():
    return VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")


@pytest.fixture
def other_vendor():
    return VendorFactory(code="kowloon-digital", name="Kowloon Digital Marketing Co.")


@pytest.fixture
def admin_user():
    return UserFactory(username="ada", roles=["administrator"])


@pytest.fixture
def vendor_manager():
    return UserFactory(username="vivian", roles=["vendor_manager"])


@pytest.fixture
def auditor():
    return UserFactory(username="alice", roles=["auditor"])


@pytest.fixture
def dpo():
    return UserFactory(username="daniel", roles=["data_protection_officer"])


@pytest.fixture
def portal_user(vendor):
    return UserFactory(username="priscilla", roles=["vendor_portal"], vendor=vendor)


@pytest.fixture
def outsider(other_vendor):
    """A portal user of another vendor: should reach nothing of `vendor`'s data."""
    return UserFactory(username="patrick", roles=["vendor_portal"], vendor=other_vendor)


@pytest.fixture
def no_role_user():
    """A signed-in staff member with no role: should reach nothing."""
    return UserFactory(username="nobody", roles=[])
