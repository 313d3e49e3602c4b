from django.urls import path  # noqa: F401

app_name = "customers"
urlpatterns: list = []  # type: ignore[type-arg]

# --- privacy (c2) ---
from customers.urls_consent import urlpatterns as privacy_urlpatterns  # noqa: E402

urlpatterns += privacy_urlpatterns
