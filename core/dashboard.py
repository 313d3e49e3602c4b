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


def dashboard_panels(user: Any) -> list[Panel]:
    panels: list[Panel] = []
    for provider in _providers:
        panels.extend(provider(user))
    return panels


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
