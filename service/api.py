"""API of the service package. Sub-routers of each feature are added below."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["service"])

# --- quality: surveys, codes of practice, QA and staff reviews (s3) ---
from service.api_quality import router as quality_router  # noqa: E402

router.add_router("", quality_router)
