"""``manage.py backup``: write a consistent copy of the database under var/backups/ (docs/operations.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core.backup import BackupError, backup_database, prune_backups


class Command(BaseCommand):
    help = (
        "Back up the database: SQLite through its online backup API, PostgreSQL with pg_dump "
        "(custom format). Safe while Steward runs. Prints the backup's path."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--output", type=Path, help="Write here instead of a timestamped file.")
        parser.add_argument(
            "--keep",
            type=int,
            metavar="N",
            help="Afterwards delete all but the N newest backups in the backup folder.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        keep: int | None = options["keep"]
        if keep is not None and keep < 1:
            raise CommandError("--keep must be at least 1.")
        try:
            path = backup_database(output=options["output"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(str(path))
        if keep is not None:
            for old in prune_backups(keep=keep):
                self.stderr.write(f"deleted old backup {old}")
