from django.urls import path

from service import views_reports

app_name = "service"
urlpatterns: list = []  # type: ignore[type-arg]

# --- s4 service KPI reports, drill-down, exports, rules, benchmarks ---
urlpatterns += [
    path("reports/", views_reports.dashboard, name="reports"),
    path("reports/drilldown/", views_reports.drilldown, name="report_drilldown"),
    path("reports/export/<str:fmt>/", views_reports.export, name="report_export"),
    path("reports/rules/", views_reports.rules, name="report_rules"),
    path("benchmarks/", views_reports.benchmark_list, name="benchmarks"),
]
