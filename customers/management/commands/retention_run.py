"""Run the retention job: ``manage.py retention_run --dry-run`` first, then without it."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import context
from customers import retention


class Command(BaseCommand):
    help = "Erase or anonymise customer data past its retention period (DPP2(2)); dry run first."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Count and sample only; change nothing.")
        parser.add_argument("--install-defaults", action="store_true", help="Add the default rules first.")

    def handle(self, *args: Any, **options: Any) -> None:
        with context.acting_as(None, channel="command"):
            if options["install_defaults"]:
                retention.retention_defaults_install(actor=None)
            try:
                run = retention.retention_run(actor=None, dry_run=options["dry_run"])
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
        for row in run.report:
            self.stdout.write(
                f"{row['category']:<20} {row['action']:<10} before {row['cutoff']}  {row['count']:>8}"
            )
        self.stdout.write(
            f"{run}: {run.total} rows {'would be' if run.dry_run else 'were'} erased or anonymised."
        )
