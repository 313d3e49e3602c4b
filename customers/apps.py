from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # --- privacy requests (c3): the DPO's home-dashboard panel ---
        # --- privacy (c2) ---
        from customers import (
            dashboard_consent,  # noqa: F401
            dashboard_privacy,  # noqa: F401
        )
