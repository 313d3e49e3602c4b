"""The main navigation: grouped by the work, only what the user may open, one current entry."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from core.context_processors import navigation
from core.testing.factories import UserFactory, VendorFactory

pytestmark = pytest.mark.django_db


def _nav(user: Any, path: str) -> list[dict[str, Any]]:
    request = RequestFactory().get(path)
    request.user = user
    groups: list[dict[str, Any]] = navigation(request)["nav_groups"]
    return groups


def _current(groups: list[dict[str, Any]]) -> list[str]:
    return [item["label"] for group in groups for item in group["items"] if item["active"]]


@pytest.mark.parametrize(
    ("path", "current"),
    [
        ("/customers/", ["Customers"]),
        ("/customers/42/", ["Customers"]),
        ("/customers/consent/", ["Consent"]),
        ("/customers/consent/statements/3/", ["Consent"]),
        ("/customers/privacy/", ["Data protection"]),
        ("/customers/reports/sales/", ["Sales report"]),
        ("/service/", ["Tickets"]),
        ("/service/quality/rubrics/", ["Service quality"]),
        ("/service/sla/calendars/", ["SLA policies"]),
        ("/", ["Home"]),
        ("/no-such-page/", []),
    ],
)
def test_exactly_one_entry_is_current_the_longest_matching_section(path: str, current: list[str]) -> None:
    admin = UserFactory(roles=["administrator"])

    assert _current(_nav(admin, path)) == current


def test_entries_are_grouped_and_a_group_without_entries_is_left_out() -> None:
    marketing = UserFactory(roles=["marketing"])

    headings = [group["heading"] for group in _nav(marketing, "/")]

    assert headings[0] == ""  # Home stands alone
    assert "Customers" in headings
    assert "Customer service" not in headings  # marketing opens no ticket, SLA or QA page


def test_a_portal_user_sees_no_staff_only_entry() -> None:
    portal = UserFactory(roles=["vendor_portal"], vendor=VendorFactory())

    labels = {item["label"] for group in _nav(portal, "/") for item in group["items"]}

    assert "Home" in labels
    assert not labels & {"Audit trail", "People", "API docs", "Customers", "Consent", "Data protection"}


def test_an_anonymous_visitor_gets_no_navigation() -> None:
    from django.contrib.auth.models import AnonymousUser

    assert _nav(AnonymousUser(), "/") == []


def test_the_home_page_puts_the_panels_of_the_users_own_area_first() -> None:
    from core.dashboard import dashboard_panels

    dpo = UserFactory(roles=["data_protection_officer"])
    urls = [panel.url for panel in dashboard_panels(dpo)]

    assert any(not url.startswith("/customers/") for url in urls)  # other panels are there too…
    firsts = [url.startswith("/customers/") for url in urls]
    assert firsts == sorted(firsts, reverse=True)  # …but every privacy panel comes before them
