"""URL map: pages per domain package, the API, the admin, health probes."""

from django.contrib import admin
from django.urls import include, path

from core import views as core_views
from steward.api import api

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("api/v1/", api.urls),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("audit/", include("core.audit_urls")),
    path("vendors/", include("vendors.urls")),
    path("kpis/", include("kpis.urls")),
    path("service/", include("service.urls")),
    path("customers/", include("customers.urls")),
    path("proposals/", include("proposals.urls")),
    path("", include("core.urls")),
]

handler404 = "core.views.not_found"
handler403 = "core.views.forbidden"
handler500 = "core.views.server_error"
