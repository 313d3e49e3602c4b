"""API of the customers package. Sub-routers of each feature are added below."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["customers"])

# --- privacy (c2) ---
from customers.api_consent import router as privacy_router  # noqa: E402

router.add_router("", privacy_router)
