"""``manage.py recompute_sla``: recompute stored SLA results and minutes, all tickets or some."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import context
from service import sla_services


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"expected a date as YYYY-MM-DD, got {value!r}") from None


class Command(BaseCommand):
    help = (
        "Recompute SLA results (due times, met/breached, business and calendar minutes) of the "
        "given tickets, or of every ticket opened in a date range (Hong Kong dates; all by default)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--ticket", type=int, action="append", default=[], help="A ticket id; repeatable."
        )
        parser.add_argument("--opened-from", type=_day, default=None, help="First opening date (YYYY-MM-DD).")
        parser.add_argument("--opened-to", type=_day, default=None, help="Last opening date (YYYY-MM-DD).")

    def handle(self, *args: Any, **options: Any) -> None:
        with context.acting_as(None, channel="command"):
            try:
                count = sla_services.sla_recompute(
                    actor=None,
                    ticket_ids=options["ticket"] or None,
                    opened_from=options["opened_from"],
                    opened_to=options["opened_to"],
                )
            except ValidationError as exc:
                raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(f"Recomputed SLA results of {count} tickets.")
