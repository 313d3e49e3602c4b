from django.apps import AppConfig


class KpisConfig(AppConfig):
    name = "kpis"
    verbose_name = "KPIs and scorecards"

    def ready(self) -> None:
        # Built-in computed measures register themselves; post_migrate copies the registry into
        # Measure rows so that formulas can be validated against real names.
        import kpis.dashboard  # noqa: F401
        import kpis.measures  # noqa: F401
        import kpis.signals  # noqa: F401
