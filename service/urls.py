from django.urls import path  # noqa: F401

app_name = "service"
urlpatterns: list = []  # type: ignore[type-arg]

# --- quality: surveys, codes of practice, QA and staff reviews (s3) ---
from service.urls_quality import urlpatterns as quality_urlpatterns  # noqa: E402

urlpatterns += quality_urlpatterns
