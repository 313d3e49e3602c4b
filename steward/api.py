"""The REST API root: /api/v1/, OpenAPI at /api/v1/openapi.json, docs at /api/v1/docs."""

from __future__ import annotations

from accounts.api import router as accounts_router
from core.api import API_AUTH, StewardAPI
from core.audit_api import router as audit_router
from customers.api import router as customers_router
from kpis.api import router as kpis_router
from proposals.api import router as proposals_router
from service.api import router as service_router
from vendors.api import router as vendors_router
from vendors.api_cooperation import router as vendors_cooperation_router

api = StewardAPI(
    title="Steward API",
    version="1",
    description=(
        "Steward's REST API. Authenticate with a personal API token "
        "(`Authorization: Bearer stw_…`, created on the Tokens page) or, from the browser, the signed-in "
        "session with the `X-CSRFToken` header. Every error is an RFC 9457 problem-details document."
    ),
    auth=API_AUTH,
    urls_namespace="api-1",
)

api.add_router("/accounts", accounts_router)
api.add_router("/audit", audit_router)
# --- v1: vendor cooperation (before the register: its /{vendor_id} route would capture /interfaces…) ---
api.add_router("/vendors", vendors_cooperation_router)
api.add_router("/vendors", vendors_router)
api.add_router("/kpis", kpis_router)
api.add_router("/service", service_router)
api.add_router("/customers", customers_router)
api.add_router("/proposals", proposals_router)
