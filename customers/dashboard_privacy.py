"""Home-dashboard panels of the data-protection work (registered in ``CustomersConfig.ready``)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from core.dashboard import Panel, register
from customers.privacy_models import HANDLE_REQUESTS


@register
def privacy_panels(user: Any) -> list[Panel]:
    """The DPO: the 40-day clock of open data access and correction requests."""
    if getattr(user, "vendor_id", None) is not None or not user.has_perm(HANDLE_REQUESTS):
        return []
    from customers import privacy

    clock = privacy.request_clock(user=user)
    return [
        Panel(
            "Privacy requests",
            "Data access and correction requests: each is answered within 40 days of receipt (s19, s23).",
            reverse("customers:privacy_queue"),
            [("Open", clock["open"]), ("Due ≤ 7 days", clock["due_soon"]), ("Overdue", clock["overdue"])],
        )
    ]
