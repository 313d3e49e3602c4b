"""``manage.py rebuild_customer_metrics``: preferences, RFM, segment membership and the monthly
sales rollups, set-based (the same service as the nightly task and the Segments page button)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from core import context
from customers import services


class Command(BaseCommand):
    help = "Rebuild customer preferences, RFM scores, segment membership and the sales report rollups."

    def handle(self, *args: Any, **options: Any) -> None:
        with context.acting_as(None, channel="command"):
            result = services.customer_metrics_rebuild()
        self.stdout.write(
            f"{result['customers']} customers scored, {result['segments']} segments refreshed, "
            f"{result['rollup_rows']} report rows.\n"
        )
