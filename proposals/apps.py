from django.apps import AppConfig


class ProposalsConfig(AppConfig):
    name = "proposals"
    verbose_name = "CRM strategy proposals"

    def ready(self) -> None:
        import proposals.measures  # noqa: F401
