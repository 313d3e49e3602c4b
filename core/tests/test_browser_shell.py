"""The application shell in a real browser: sign-in per role, navigation, audit, tokens, CSP, API docs."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from core.management.commands.seed_demo import PEOPLE
from core.models import AuditEvent
from core.testing.browser import login, nav_labels
from core.testing.factories import UserFactory, VendorFactory
from vendors.services import vendor_create

pytestmark = pytest.mark.browser

# What each demo role must and must not find in the main navigation.
MUST_SEE = {
    "administrator": {"Home", "Vendors", "Audit trail", "API tokens", "API docs"},
    "vendor_manager": {"Home", "Vendors", "API tokens", "API docs"},
    "crm_staff": {"Home", "Vendors", "API tokens"},
    "cs_manager": {"Home", "Vendors", "API tokens"},
    "cs_agent": {"Home", "API tokens"},
    "marketing": {"Home", "API tokens"},
    "data_protection_officer": {"Home", "Vendors", "Audit trail", "API tokens"},
    "auditor": {"Home", "Vendors", "Audit trail", "API tokens"},
    "vendor_portal": {"Home", "Vendors", "API tokens"},
}
MUST_NOT_SEE = {
    # The trail holds everyone's sign-ins and personal-data reads: auditors' and the DPO's business only.
    "vendor_manager": {"Audit trail"},
    "crm_staff": {"Audit trail"},
    "cs_manager": {"Audit trail"},
    "cs_agent": {"Vendors", "Audit trail"},
    "marketing": {"Vendors", "Audit trail"},
    # A vendor's staff are outsiders to everything but their own vendor: no staff-only page is offered.
    "vendor_portal": {"Audit trail", "People", "API docs"},
}


def test_each_demo_role_signs_in_and_sees_its_navigation(page, subtests):
    # One browser for all roles (a subtest each): a browser test's database reset is what costs time.
    for username, _first, _last, role, vendor_code in PEOPLE:
        vendor = VendorFactory(code=vendor_code, name=f"{vendor_code} Ltd") if vendor_code else None
        UserFactory(username=username, roles=[role], vendor=vendor)

    for username, _first, _last, role, vendor_code in PEOPLE:
        with subtests.test(msg=username, role=role):
            page.context.clear_cookies()
            login(page, username)

            labels = nav_labels(page)
            assert MUST_SEE[role] <= set(labels), f"{role} sees {labels}"
            assert not MUST_NOT_SEE.get(role, set()) & set(labels), f"{role} sees {labels}"
            if role == "vendor_portal":
                expect(page.locator("main")).to_contain_text(f"vendor portal for {vendor_code} Ltd")
            # Every link offered opens for this role: none leads to "Not allowed" or an error page.
            for href in [link.get_attribute("href") for link in page.locator("nav.mainnav a").all()]:
                response = page.request.get(href)
                assert response.status == 200, f"{role}: {href} gave {response.status}"


def test_wrong_password_shows_an_error_and_does_not_sign_in(page):
    UserFactory(username="vivian", roles=["vendor_manager"])

    page.goto("/accounts/login/")
    page.get_by_label("Username").fill("vivian")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    assert nav_labels(page) == []
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/"))


def test_audit_filter_swaps_the_table_with_htmx_and_pushes_the_url(page):
    manager = UserFactory(username="vivian", roles=["vendor_manager"])
    UserFactory(username="alice", roles=["auditor"])
    vendor_create(actor=manager, code="harbourcall", name="Harbour Call Centre Ltd")
    vendor_create(actor=manager, code="kowloon-digital", name="Kowloon Digital Marketing Co.")
    login(page, "alice")
    page.goto("/audit/")
    total = AuditEvent.objects.count()
    created = AuditEvent.objects.filter(action=AuditEvent.Action.CREATE).count()
    assert created == 2 and total > created  # the sign-in is on the trail too
    expect(page.locator("#audit-table")).to_contain_text(f"{total} events")
    page.evaluate("window.__steward_same_document = true")
    htmx_requests: list[str] = []
    page.on("request", lambda r: htmx_requests.append(r.url) if r.headers.get("hx-request") else None)

    page.get_by_label("Action").select_option(label="Created")

    expect(page).to_have_url(re.compile(r"/audit/\?.*action=create"))
    expect(page.locator("#audit-table")).to_contain_text(f"{created} events")
    expect(page.locator("#audit-table tbody tr")).to_have_count(created)
    expect(page.locator("#audit-table tbody")).not_to_contain_text("Logged in")
    assert page.evaluate("window.__steward_same_document") is True, "the filter reloaded the whole page"
    assert any("action=create" in url for url in htmx_requests)
    # The pushed URL is a real address: opened directly it shows the same filtered page.
    page.reload()
    expect(page.locator("#audit-table")).to_contain_text(f"{created} events")


def test_verify_the_chain_reports_chain_intact(page):
    manager = UserFactory(username="vivian", roles=["vendor_manager"])
    UserFactory(username="alice", roles=["auditor"])
    vendor_create(actor=manager, code="harbourcall", name="Harbour Call Centre Ltd")
    login(page, "alice")
    page.goto("/audit/")

    page.get_by_role("button", name="Verify the chain").click()

    checked = AuditEvent.objects.count()
    expect(page.locator("#verify-result")).to_contain_text(f"Chain intact: {checked} events verified")


def test_api_token_secret_is_shown_once(page):
    UserFactory(username="vivian", roles=["vendor_manager"])
    login(page, "vivian")
    page.goto("/accounts/tokens/")

    page.get_by_label("Name").fill("helpdesk import")
    page.get_by_label("Scope").select_option(index=0)
    page.get_by_label(re.compile("Valid for")).fill("30")
    page.get_by_role("button", name="Create token").click()

    secret = page.locator("#new-token").inner_text().strip()
    assert re.fullmatch(r"stw_\S+", secret), secret
    expect(page.locator("table.data")).to_contain_text("helpdesk import")
    page.goto("/accounts/tokens/")
    expect(page.locator("table.data")).to_contain_text("helpdesk import")
    expect(page.locator("#new-token")).to_have_count(0)
    assert secret not in page.content()
    # The secret shown works against the API.
    response = page.request.get("/api/v1/vendors/", headers={"Authorization": f"Bearer {secret}"})
    assert response.status == 200


def test_sign_out_ends_the_session(page):
    UserFactory(username="vivian", roles=["vendor_manager"])
    login(page, "vivian")

    page.get_by_role("button", name="Sign out").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    page.goto("/vendors/")
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/vendors/"))
    assert nav_labels(page) == []


def test_pages_run_under_the_content_security_policy(page, page_console):
    manager = UserFactory(username="ada", roles=["administrator"])
    vendor_create(actor=manager, code="harbourcall", name="Harbour Call Centre Ltd")
    page.goto("/accounts/login/")
    login(page, "ada")
    hrefs = [link.get_attribute("href") for link in page.locator("nav.mainnav a").all()]
    hrefs += ["/accounts/security/", "/no-such-page/"]

    for href in hrefs:
        page.goto(href)
        page.wait_for_load_state("networkidle")
        if href != "/api/v1/docs":
            # htmx arrived through the nonce-carrying script tag, so our pages' behaviour is on.
            assert page.evaluate("typeof window.htmx") == "object", href

    assert page_console.csp_violations() == []
    assert page_console.errors == []


def test_api_docs_render_swagger_ui(page):
    UserFactory(username="vivian", roles=["vendor_manager"])
    login(page, "vivian")

    page.goto("/api/v1/docs")

    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Steward API")
    expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
