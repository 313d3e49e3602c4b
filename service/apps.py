from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = "Customer service"

    # --- SLA recompute (s2) ---
    def ready(self) -> None:
        from service import signals  # noqa: F401 - connects the SLA recompute receiver
