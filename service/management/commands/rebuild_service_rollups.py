"""``manage.py rebuild_service_rollups [--from YYYY-MM-DD] [--to YYYY-MM-DD]``: rebuild the KPI rollups."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from service.rollups import rollups_rebuild


class Command(BaseCommand):
    help = "Rebuild the daily and monthly service KPI rollups (after an import or an SLA recomputation)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", help="First day (YYYY-MM-DD); default: the first ticket.")
        parser.add_argument("--to", dest="end", help="Day after the last (YYYY-MM-DD); default: tomorrow.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            start = date.fromisoformat(options["start"]) if options["start"] else None
            end = date.fromisoformat(options["end"]) if options["end"] else None
        except ValueError as exc:
            raise CommandError(f"Give dates as YYYY-MM-DD: {exc}") from None
        if start and end and end <= start:
            raise CommandError("--to must be after --from.")
        result = rollups_rebuild(start=start, end=end)
        self.stdout.write(
            f"Rebuilt {result.start}–{result.end}: {result.daily_rows} daily rows, "
            f"{result.monthly_rows} monthly rows."
        )
