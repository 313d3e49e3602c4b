"""API of the customers package. Sub-routers of each feature are added below."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["customers"])

# --- c1: sales activity, segments, reports ---
from customers.api_sales import router as sales_router  # noqa: E402

router.add_router("", sales_router)
