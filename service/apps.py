from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = "Customer service"

    def ready(self) -> None:
        # --- quality (s3): survey and QA measures for the engine; the survey invitation on resolution.
        import service.dashboard_quality  # noqa: F401
        import service.quality_measures  # noqa: F401
        import service.signals  # noqa: F401
