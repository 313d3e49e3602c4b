from django.urls import path

from service import views, views_reports

app_name = "service"
urlpatterns = [
    # --- ingest (issue 4 item 1) ---
    path("", views.home, name="home"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
]

# --- business hours and SLA policies (s2) ---
from service import views_sla  # noqa: E402

urlpatterns += [
    path("sla/", views_sla.policy_list, name="sla_policies"),
    path("sla/policies/new/", views_sla.policy_create, name="sla_policy_create"),
    path("sla/policies/<int:pk>/edit/", views_sla.policy_edit, name="sla_policy_edit"),
    path("sla/policies/<int:pk>/move/", views_sla.policy_move, name="sla_policy_move"),
    path("sla/recompute/", views_sla.recompute, name="sla_recompute"),
    path("sla/calendars/", views_sla.calendar_list, name="sla_calendars"),
    path("sla/calendars/new/", views_sla.calendar_create, name="sla_calendar_create"),
    path("sla/calendars/<int:pk>/", views_sla.calendar_detail, name="sla_calendar"),
    path("sla/calendars/<int:pk>/edit/", views_sla.calendar_edit, name="sla_calendar_edit"),
    path("sla/calendars/<int:pk>/holidays/", views_sla.holiday_add, name="sla_holiday_add"),
    path("sla/calendars/<int:pk>/holidays/import/", views_sla.holiday_import, name="sla_holiday_import"),
    path(
        "sla/calendars/<int:pk>/holidays/<int:holiday_pk>/remove/",
        views_sla.holiday_remove,
        name="sla_holiday_remove",
    ),
    path(
        "sla/calendars/<int:pk>/public/<str:day>/",
        views_sla.public_holiday_toggle,
        name="sla_public_holiday_toggle",
    ),
    path("tickets/<int:pk>/sla/", views_sla.ticket_sla, name="ticket_sla"),
]

# --- quality: surveys, codes of practice, QA and staff reviews (s3) ---
from service.urls_quality import urlpatterns as quality_urlpatterns  # noqa: E402

urlpatterns += quality_urlpatterns

# --- s4 service KPI reports, drill-down, exports, rules, benchmarks ---
urlpatterns += [
    path("reports/", views_reports.dashboard, name="reports"),
    path("reports/drilldown/", views_reports.drilldown, name="report_drilldown"),
    path("reports/export/<str:fmt>/", views_reports.export, name="report_export"),
    path("reports/rules/", views_reports.rules, name="report_rules"),
    path("benchmarks/", views_reports.benchmark_list, name="benchmarks"),
]

# --- teams and agents (issue 4 item 1) ---
from service import views_teams  # noqa: E402

urlpatterns += [
    path("teams/", views_teams.team_list, name="teams"),
    path("teams/new/", views_teams.team_create, name="team_create"),
    path("teams/<int:pk>/edit/", views_teams.team_edit, name="team_edit"),
    path("teams/<int:pk>/active/", views_teams.team_active, name="team_active"),
    path("agents/new/", views_teams.agent_create, name="agent_create"),
    path("agents/<int:pk>/edit/", views_teams.agent_edit, name="agent_edit"),
    path("agents/<int:pk>/active/", views_teams.agent_active, name="agent_active"),
]
