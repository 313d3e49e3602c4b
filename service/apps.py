from django.apps import AppConfig


class ServiceConfig(AppConfig):
    name = "service"
    verbose_name = "Customer service"

    def ready(self) -> None:
        # --- s4 service KPIs: measures and benchmarks registered with the measurement engine ---
        from service import benchmarks, measures

        measures.register_all()
        benchmarks.register_all()
