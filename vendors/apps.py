from django.apps import AppConfig


class VendorsConfig(AppConfig):
    name = "vendors"
    verbose_name = "Vendors"

    def ready(self) -> None:
        # Registers the home-dashboard panels.
        from vendors import dashboard  # noqa: F401
