from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "customers"
    verbose_name = "Customers"

    def ready(self) -> None:
        # --- privacy (c2) ---
        from customers import dashboard_consent  # noqa: F401
