from django.urls import path

from service import views

app_name = "service"
urlpatterns = [
    # --- ingest (issue 4 item 1) ---
    path("", views.home, name="home"),
    path("tickets/<int:pk>/", views.ticket_detail, name="ticket"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:pk>/", views.import_detail, name="import"),
    path("imports/<int:pk>/errors.csv", views.import_errors, name="import_errors"),
]
