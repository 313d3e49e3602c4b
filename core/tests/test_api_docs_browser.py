"""The API docs in a real browser: Swagger UI's "Try it out" works with the session, CSRF and our CSP.

The page fixture fails the test on any Content-Security-Policy violation.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory
from vendors.models import Vendor

pytestmark = pytest.mark.browser


def _operation(page, method: str, path: str):
    # data-path holds the exact path; the text would also match longer paths that start with it.
    block = page.locator(f".opblock-{method.lower()}").filter(
        has=page.locator(f'.opblock-summary-path[data-path="{path}"]')
    )
    block.locator(".opblock-summary").first.click()
    block.get_by_role("button", name="Try it out").click()
    return block


def test_try_it_out_reads_with_the_session(page):
    UserFactory(username="vivian", roles=["vendor_manager"])
    login(page, "vivian")
    page.goto("/api/v1/docs")

    block = _operation(page, "get", "/api/v1/accounts/me")
    block.get_by_role("button", name="Execute").click()

    expect(block.locator(".live-responses-table tbody .response-col_status")).to_have_text("200")
    expect(block.locator(".live-responses-table tbody .response-col_description")).to_contain_text('"vivian"')


def test_try_it_out_writes_with_the_csrf_token(page):
    UserFactory(username="vivian", roles=["vendor_manager"])
    login(page, "vivian")
    page.goto("/api/v1/docs")

    block = _operation(page, "post", "/api/v1/vendors/")
    block.locator("textarea.body-param__text").fill(
        json.dumps({"code": "lantau-logistics", "name": "Lantau Logistics Ltd"})
    )
    block.get_by_role("button", name="Execute").click()

    expect(block.locator(".live-responses-table tbody .response-col_status")).to_have_text("201")
    assert Vendor.objects.filter(code="lantau-logistics").exists()
