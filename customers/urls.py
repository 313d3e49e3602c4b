from django.urls import path  # noqa: F401

app_name = "customers"
urlpatterns: list = []  # type: ignore[type-arg]

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
