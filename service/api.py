"""API of the service package. Sub-routers of each feature are added below."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["service"])

# --- s4 service KPI reports, rules, rollups, benchmarks ---
from service.api_reports import router as reports_router  # noqa: E402

router.add_router("", reports_router)
