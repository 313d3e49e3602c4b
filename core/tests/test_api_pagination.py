"""Page-number pagination: every list says items/count/page/page_size/pages, and a page is bounded."""

from __future__ import annotations

import pytest
from django.conf import settings

from core.testing.factories import VendorFactory
from core.testing.personas import bearer
from core.testing.problems import assert_problem, error_fields

pytestmark = pytest.mark.django_db

VENDORS = "/api/v1/vendors/"


@pytest.fixture
def auth(vendor_manager):
    return bearer(vendor_manager, scope="read")


@pytest.fixture
def five_vendors():
    return [VendorFactory(code=f"vendor-{n}", name=f"Vendor {n} Ltd") for n in range(5)]


def test_a_page_has_items_count_page_page_size_and_pages(client, auth, five_vendors):
    response = client.get(VENDORS, {"page": 2, "page_size": 2}, **auth)

    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"items", "count", "page", "page_size", "pages"}
    assert (data["count"], data["page"], data["page_size"], data["pages"]) == (5, 2, 2, 3)
    assert [item["code"] for item in data["items"]] == ["vendor-2", "vendor-3"]


def test_the_last_page_holds_the_rest(client, auth, five_vendors):
    data = client.get(VENDORS, {"page": 3, "page_size": 2}, **auth).json()

    assert [item["code"] for item in data["items"]] == ["vendor-4"]


def test_pages_together_hold_every_item_once(client, auth, five_vendors):
    seen = []
    for page in (1, 2, 3):
        seen += [
            item["code"]
            for item in client.get(VENDORS, {"page": page, "page_size": 2}, **auth).json()["items"]
        ]

    assert sorted(seen) == sorted(vendor.code for vendor in five_vendors)


def test_a_page_past_the_end_is_empty_not_an_error(client, auth, five_vendors):
    response = client.get(VENDORS, {"page": 99, "page_size": 2}, **auth)

    assert response.status_code == 200
    data = response.json()
    assert data["items"] == []
    assert (data["count"], data["pages"]) == (5, 3)


def test_the_default_page_size_is_fifty(client, auth, five_vendors):
    data = client.get(VENDORS, **auth).json()

    assert (data["page"], data["page_size"], data["pages"]) == (1, 50, 1)
    assert len(data["items"]) == 5


def test_the_maximum_page_size_is_allowed(client, auth, five_vendors):
    response = client.get(VENDORS, {"page_size": settings.STEWARD_API_MAX_PAGE_SIZE}, **auth)

    assert response.status_code == 200
    assert response.json()["page_size"] == settings.STEWARD_API_MAX_PAGE_SIZE


def test_a_page_size_above_the_maximum_is_422(client, auth, five_vendors):
    response = client.get(VENDORS, {"page_size": settings.STEWARD_API_MAX_PAGE_SIZE + 1}, **auth)

    data = assert_problem(response, 422, kind="validation")
    assert error_fields(data) == {"query.page_size"}


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"page": 0}, "query.page"),
        ({"page": -1}, "query.page"),
        ({"page": "two"}, "query.page"),
        ({"page_size": 0}, "query.page_size"),
        ({"page_size": "all"}, "query.page_size"),
    ],
)
def test_a_nonsense_page_or_page_size_is_422(client, auth, params, field):
    data = assert_problem(client.get(VENDORS, params, **auth), 422, kind="validation")

    assert error_fields(data) == {field}


def test_an_empty_list_is_one_empty_page(client, auth):
    data = client.get(VENDORS, **auth).json()

    assert data == {"items": [], "count": 0, "page": 1, "page_size": 50, "pages": 1}
