"""``manage.py restore FILE``: replace the database's contents with a backup (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from core import audit
from core.backup import BackupError, restore_database


class Command(BaseCommand):
    help = (
        "Restore the database from a file written by `manage.py backup`. Everything written "
        "since that backup is lost. Stop the web and worker processes first."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The backup file.")
        parser.add_argument(
            "--no-input", action="store_false", dest="interactive", help="Do not ask for confirmation."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        source: Path = options["file"]
        target = connection.settings_dict["NAME"]
        if options["interactive"]:
            answer = input(
                f"This replaces everything in the database {target} with {source}.\nType 'yes' to continue: "
            )
            if answer.strip().lower() != "yes":
                raise CommandError("Restore cancelled.")
        try:
            restore_database(source)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Restored {target} from {source}."))
        report = audit.verify_chain()
        if not report.ok:
            raise CommandError(
                f"The restored audit chain is BROKEN at event #{report.first_broken_seq}: {report.reason}.",
                returncode=1,
            )
        self.stdout.write(f"Audit chain intact: {report.checked} event(s) verified.")
