"""Home dashboard panels. Feature packages register a provider; each returns panels for a user."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.urls import reverse


@dataclass(frozen=True)
class Panel:
    title: str
    body: str
    url: str = ""
    figures: list[tuple[str, Any]] = field(default_factory=list)


Provider = Callable[[Any], list[Panel]]
_providers: list[Provider] = []


def register(provider: Provider) -> Provider:
    _providers.append(provider)
    return provider


# Where each role's own work lives: its panels come first on the home page, so a data-protection
# officer opens on privacy requests, not on vendor contracts (the rest keep their usual order).
ROLE_AREAS: dict[str, tuple[str, ...]] = {
    "vendor_manager": ("/vendors/",),
    "crm_staff": ("/proposals/", "/customers/"),
    "cs_manager": ("/service/", "/kpis/"),
    "cs_agent": ("/service/", "/kpis/"),
    "marketing": ("/customers/",),
    "data_protection_officer": ("/customers/",),
    "auditor": ("/audit/",),
}


def dashboard_panels(user: Any) -> list[Panel]:
    """The panels USER may see, those of USER's own area first."""
    panels: list[Panel] = []
    for provider in _providers:
        panels.extend(provider(user))
    areas = tuple(a for code in getattr(user, "role_codes", []) or [] for a in ROLE_AREAS.get(code, ()))
    if not areas:
        return panels
    return sorted(panels, key=lambda panel: not panel.url.startswith(areas))


@register
def _audit_panel(user: Any) -> list[Panel]:
    from core.models import AuditEvent

    if not user.has_perm("core.view_auditevent"):
        return []
    latest = AuditEvent.objects.restrict(user).order_by("-seq").values_list("seq", flat=True).first()
    return [
        Panel(
            "Audit trail",
            "Every change and every read of personal data, hash-chained.",
            reverse("audit:list"),
            [("Events recorded", latest or 0)],
        )
    ]
