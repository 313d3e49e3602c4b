"""API of the service package. Sub-routers of each feature are added below."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["service"])

# --- ingest (issue 4 item 1) ---
from service.api_ingest import router as ingest_router  # noqa: E402

router.add_router("", ingest_router)

# --- teams and agents (issue 4 item 1) ---
from service.api_setup import router as setup_router  # noqa: E402

router.add_router("", setup_router)

# --- business hours and SLA policies (s2) ---
from service.api_sla import router as sla_router  # noqa: E402

router.add_router("", sla_router)

# --- quality: surveys, codes of practice, QA and staff reviews (s3) ---
from service.api_quality import router as quality_router  # noqa: E402

router.add_router("", quality_router)
# --- s4 service KPI reports, rules, rollups, benchmarks ---
from service.api_reports import router as reports_router  # noqa: E402

router.add_router("", reports_router)
