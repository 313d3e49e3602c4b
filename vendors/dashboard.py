"""The vendor register's home-dashboard panels (registered in ``VendorsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from core.dashboard import Panel, register
from vendors import selectors


@register
def vendor_panels(user: Any) -> list[Panel]:
    """Staff: renewal and notice deadlines, open alerts, obligations due or missed.
    A vendor's portal user: their own obligations and what we asked of them."""
    if getattr(user, "vendor_id", None) is not None:
        return _portal_panel(user)
    if not user.has_perm("vendors.view_contract"):
        return []
    figures = selectors.dashboard_figures(user=user)
    return [
        Panel(
            "Contract renewals and notices",
            "Notice deadlines and contract ends in the next 120 days; alerts go to each contract's owner "
            "at 120, 90 and 30 days.",
            reverse("vendors:renewals"),
            [
                ("Notice due ≤ 30 days", figures["notice_30"]),
                ("Deadlines ≤ 120 days", figures["renewals_120"]),
                ("Open alerts", figures["alerts_open"]),
            ],
        ),
        Panel(
            "Vendor obligations",
            "Contract obligations due in the next 14 days, and those missed.",
            reverse("vendors:calendar"),
            [("Due", figures["obligations_due"]), ("Missed", figures["obligations_missed"])],
        ),
    ]


def _portal_panel(user: Any) -> list[Panel]:
    if not user.has_perm("vendors.view_obligationinstance"):
        return []
    figures = selectors.portal_figures(user=user)
    return [
        Panel(
            "Your obligations and requests",
            "What your contract asks of you, and what we asked you for.",
            reverse("vendors:portal"),
            [
                ("Obligations due", figures["obligations_due"]),
                ("Requests open", figures["requests_open"]),
                ("Actions open", figures["actions_open"]),
            ],
        )
    ]


# --- v1: cooperation (third-party staff access, reviews) ---


@register
def cooperation_panels(user: Any) -> list[Panel]:
    """Staff: access still open after a third-party worker left, and cooperation reviews coming up."""
    from vendors import cooperation_selectors as reads

    if getattr(user, "vendor_id", None) is not None or not user.has_perm("vendors.view_accessgrant"):
        return []
    panels = [
        Panel(
            "Third-party staff access",
            "System access still open after one of a vendor's people left our service.",
            reverse("vendors:staff"),
            [("Access left open", reads.access_alerts(user=user).count())],
        )
    ]
    if user.has_perm("vendors.view_cooperationreview"):
        panels.append(
            Panel(
                "Cooperation reviews",
                "Quarterly business reviews and annual strategy reviews due in the next 45 days.",
                reverse("vendors:reviews"),
                [("Due ≤ 45 days", reads.upcoming_reviews(user=user).count())],
            )
        )
    return panels
