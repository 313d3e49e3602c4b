"""The home dashboard's scorecard panel: what awaits the user's decision, and a way in."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from core.dashboard import Panel, register


@register
def _scorecards_panel(user: Any) -> list[Panel]:
    if not user.has_perm("kpis.view_scorecard"):
        return []
    from kpis import selectors

    counts = selectors.open_counts(user=user)
    return [
        Panel(
            "Scorecards",
            "Vendors, teams and agents judged by the same versioned KPIs; credits proposed, people decide.",
            reverse("kpis:home"),
            [(label.capitalize(), n) for label, n in counts.items()],
        )
    ]
