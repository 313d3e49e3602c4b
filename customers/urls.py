from django.urls import path

from customers import views_duplicates, views_privacy, views_quality, views_records

app_name = "customers"
urlpatterns: list = []  # type: ignore[type-arg]

# --- privacy requests, retention, breaches, data quality, duplicates (c3) ---
urlpatterns += [
    path("privacy/", views_privacy.request_queue, name="privacy_queue"),
    path("privacy/new/", views_privacy.request_create, name="privacy_create"),
    path("privacy/refusals/", views_privacy.refusal_log, name="privacy_refusals"),
    path("privacy/<int:pk>/", views_privacy.request_detail, name="privacy_detail"),
    path("privacy/<int:pk>/copy.<str:fmt>", views_privacy.request_copy, name="privacy_copy"),
    path("privacy/<int:pk>/<str:action>/", views_privacy.request_action, name="privacy_action"),
    path("retention/", views_records.retention_page, name="retention"),
    path("retention/start/", views_records.retention_start, name="retention_start"),
    path("retention/runs/<int:pk>/", views_records.retention_run_detail, name="retention_run"),
    path("breaches/", views_records.breach_list, name="breaches"),
    path("breaches/new/", views_records.breach_create, name="breach_create"),
    path("breaches/<int:pk>/", views_records.breach_detail, name="breach_detail"),
    path("breaches/<int:pk>/notify/", views_records.breach_notify, name="breach_notify"),
    path("quality/", views_quality.quality_page, name="quality"),
    path("quality/run/", views_quality.quality_run, name="quality_run"),
    path("quality/issues/<int:pk>/", views_quality.issue_update, name="quality_issue"),
    path("quality/customers/<int:pk>/link/", views_quality.link_send, name="quality_link"),
    path("update/<str:token>/", views_quality.self_service, name="self_service"),
    path("duplicates/", views_duplicates.duplicate_queue, name="duplicates"),
    path("duplicates/detect/", views_duplicates.duplicate_detect, name="duplicates_detect"),
    path("duplicates/<int:pk>/", views_duplicates.duplicate_decide, name="duplicate_decide"),
    path("merges/<int:pk>/undo/", views_duplicates.merge_undo, name="merge_undo"),
]

# --- c1: customers, orders, imports, segments, sales report ---
from customers import views_sales  # noqa: E402

urlpatterns += [
    path("", views_sales.customer_list, name="list"),
    path("<int:pk>/", views_sales.customer_detail, name="detail"),
    path("orders/", views_sales.order_list, name="orders"),
    path("imports/", views_sales.import_list, name="imports"),
    path("imports/<int:pk>/", views_sales.import_detail, name="import_detail"),
    path("imports/<int:pk>/errors.csv", views_sales.import_errors, name="import_errors"),
    path("segments/", views_sales.segment_list, name="segments"),
    path("segments/<int:pk>/", views_sales.segment_detail, name="segment_detail"),
    path("segments/<int:pk>/export.<str:fmt>", views_sales.segment_export, name="segment_export"),
    path("metrics/rebuild/", views_sales.metrics_rebuild, name="metrics_rebuild"),
    path("reports/sales/", views_sales.sales_report, name="report"),
    path("reports/sales/export.<str:fmt>", views_sales.sales_report_export, name="report_export"),
]
# --- privacy (c2) ---
from customers.urls_consent import urlpatterns as consent_urlpatterns  # noqa: E402

urlpatterns += consent_urlpatterns
