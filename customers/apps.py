from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # --- privacy requests (c3): the DPO's home-dashboard panel ---
        from customers import dashboard_privacy  # noqa: F401
