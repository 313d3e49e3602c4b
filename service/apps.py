from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = "Customer service"

    def ready(self) -> None:
        # The SLA recompute and survey-invitation receivers; survey and QA measures for the engine;
        # the home-dashboard panels.
        import service.dashboard_quality  # noqa: F401
        import service.quality_measures  # noqa: F401
        import service.signals  # noqa: F401

        # --- s4 service KPIs: measures and benchmarks registered with the measurement engine ---
        from service import benchmarks, measures

        measures.register_all()
        benchmarks.register_all()
