"""API of the customers package. Sub-routers of each feature are added below."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["customers"])

# --- privacy requests, retention, breaches, data quality, duplicates (c3) ---
from customers.api_duplicates import router as duplicates_router  # noqa: E402
from customers.api_privacy import router as privacy_router  # noqa: E402
from customers.api_quality import router as quality_router  # noqa: E402
from customers.api_records import router as records_router  # noqa: E402

router.add_router("", privacy_router)
router.add_router("", records_router)
router.add_router("", quality_router)
router.add_router("", duplicates_router)
# --- c1: sales activity, segments, reports ---
from customers.api_sales import router as sales_router  # noqa: E402

router.add_router("", sales_router)
# --- collection statements, consent, field access, access log, processors (c2) ---
from customers.api_consent import router as consent_router  # noqa: E402

router.add_router("", consent_router)
# --- disclosures: whose data each outgoing exchange carried (s23(1)(c)) ---
from customers.api_disclosures import router as disclosures_router  # noqa: E402

router.add_router("", disclosures_router)
