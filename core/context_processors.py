"""Navigation per role: each entry names the permission that shows it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class NavEntry:
    """One link of the main navigation.

    `perm` is the permission that shows it (None: every signed-in user); `portal` says whether a
    vendor's portal user may see it; `section` is the path prefix under which the entry is the
    current page (by default its own URL).
    """

    label: str
    url_name: str
    perm: str | None
    portal: bool = False
    section: str | None = None


# Grouped by the work they serve, so a person with many roles can still find their way; each
# group shows only the entries the user may open, and a group with none is left out.
NAVIGATION: list[tuple[str, list[NavEntry]]] = [
    ("", [NavEntry("Home", "core:home", None, portal=True)]),
    (
        "Partners",
        [
            NavEntry("Vendors", "vendors:list", "vendors.view_vendor", portal=True),
            NavEntry("Proposals", "proposals:home", "proposals.view_call", portal=True),
        ],
    ),
    (
        "Performance",
        [
            NavEntry("Scorecards", "kpis:home", "kpis.view_scorecard", portal=True),
            NavEntry("Service KPIs", "service:reports", "service.view_servicemonthlyrollup", portal=True),
            NavEntry(
                "Sales report", "customers:report", "customers.view_salesmonth", section="/customers/reports/"
            ),
        ],
    ),
    (
        "Customer service",
        [
            NavEntry("Tickets", "service:home", "service.view_ticket", portal=True),
            NavEntry("SLA policies", "service:sla_policies", "service.view_slapolicy"),
            NavEntry(
                "Service quality", "service:qa_list", "service.view_qareview", section="/service/quality/"
            ),
        ],
    ),
    (
        "Customers",
        [
            NavEntry("Customers", "customers:list", "customers.view_customer"),
            NavEntry("Marketing", "customers:marketing", "customers.add_marketingexport"),
            NavEntry("Consent", "customers:privacy", "customers.view_collectionstatement"),
            NavEntry("Data protection", "customers:privacy_queue", "customers.handle_privacyrequest"),
        ],
    ),
    (
        "Administration",
        [
            NavEntry("Audit trail", "audit:list", "core.view_auditevent"),
            NavEntry("People", "accounts:people", "accounts.view_user"),
            NavEntry("API tokens", "accounts:tokens", "accounts.view_apitoken", portal=True),
            NavEntry("API docs", "api-1:openapi-view", None),
        ],
    ),
]


def navigation(request: HttpRequest) -> dict[str, Any]:
    """The groups of links this user may open; the one whose section is the longest match is current."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_groups": []}
    portal = getattr(user, "vendor_id", None) is not None
    groups: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for heading, entries in NAVIGATION:
        items = []
        for entry in entries:
            if (portal and not entry.portal) or (entry.perm and not user.has_perm(entry.perm)):
                continue
            try:
                url = reverse(entry.url_name)
            except NoReverseMatch:
                continue
            section = entry.section or url
            item: dict[str, Any] = {"label": entry.label, "url": url, "section": section, "active": False}
            items.append(item)
            matches = request.path == url or (url != "/" and request.path.startswith(section))
            if matches and (current is None or len(section) > len(current["section"])):
                current = item
        if items:
            groups.append({"heading": heading, "items": items})
    if current is not None:
        current["active"] = True
    return {"nav_groups": groups}


def csp_nonce(request: HttpRequest) -> dict[str, Any]:
    """The CSP nonce under the name django-htmx's script tag looks for."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
