"""``manage.py verify_audit_chain``: walk the audit trail's hash chain; exit 1 at the first broken link."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from core import audit


def _anchor(value: str) -> tuple[int, str]:
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise CommandError(f"--anchor expects SEQ:HASH (a 64-character hash), got {value!r}")
    return int(seq), digest.lower()


class Command(BaseCommand):
    help = (
        "Verify the audit trail's hash chain from the first event. Prints the last verified "
        "event and its hash (keep it outside the database as an anchor); exits with status 1 "
        "and names the first broken event when the chain does not verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="An event's hash recorded earlier (from this command's output); may be repeated.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        anchors = dict(_anchor(value) for value in options["anchor"])
        report = audit.verify_chain(anchors=anchors)
        if not report.ok:
            raise CommandError(
                f"Audit chain BROKEN at event #{report.first_broken_seq}: {report.reason}. "
                f"{report.checked} event(s) verified before it.",
                returncode=1,
            )
        if report.checked == 0:
            self.stdout.write("Audit chain intact: no events yet.")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Audit chain intact: {report.checked} event(s) verified. "
                f"Anchor: {report.checked}:{report.last_hash}"
            )
        )
