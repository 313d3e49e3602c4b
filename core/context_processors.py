"""Navigation per role: each entry names the permission that shows it."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse

# (label, url name, permission needed or None for every signed-in user, portal users too?)
NAVIGATION: list[tuple[str, str, str | None, bool]] = [
    ("Home", "core:home", None, True),
    ("Vendors", "vendors:list", "vendors.view_vendor", True),
    ("Scorecards", "kpis:home", "kpis.view_scorecard", True),
    ("Proposals", "proposals:home", "proposals.view_call", True),
    ("Service quality", "service:qa_list", "service.view_qareview", False),  # s3: surveys, QA, staff reviews
    ("Service KPIs", "service:reports", "service.view_servicemonthlyrollup", True),  # s4 service KPI reports
    # --- customers: privacy (c2) ---
    ("Consent", "customers:privacy", "customers.view_collectionstatement", False),
    ("Marketing", "customers:marketing", "customers.add_marketingexport", False),
    ("Audit trail", "audit:list", "core.view_auditevent", False),
    ("People", "accounts:people", "accounts.view_user", False),
    # --- service ingest (issue 4 item 1) ---
    ("Service", "service:home", "service.view_ticket", True),
    ("API tokens", "accounts:tokens", "accounts.view_apitoken", True),
    ("API docs", "api-1:openapi-view", None, False),
]

# --- privacy requests, retention, breaches (c3) ---
NAVIGATION.insert(
    -3, ("Data protection", "customers:privacy_queue", "customers.handle_privacyrequest", False)
)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": []}
    portal = getattr(user, "vendor_id", None) is not None
    items = []
    for label, url_name, perm, for_portal in NAVIGATION:
        if portal and not for_portal:
            continue
        if perm and not user.has_perm(perm):
            continue
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        items.append(
            {
                "label": label,
                "url": url,
                "active": request.path == url or (url != "/" and request.path.startswith(url)),
            }
        )
    return {"nav_items": items}


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    """The CSP nonce under the name django-htmx's script tag looks for."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}


# --- business hours and SLA policies (s2) ---
NAVIGATION.insert(
    NAVIGATION.index(("Audit trail", "audit:list", "core.view_auditevent", False)),
    ("SLA policies", "service:sla_policies", "service.view_slapolicy", False),
)
# --- c1: customers' sales activity ---
NAVIGATION += [
    ("Customers", "customers:list", "customers.view_customer", False),
    ("Sales report", "customers:report", "customers.view_salesmonth", False),
]
