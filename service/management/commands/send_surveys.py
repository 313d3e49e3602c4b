"""``manage.py send_surveys``: invite every resolved ticket that has no survey invitation yet."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from core import context
from service import surveys


class Command(BaseCommand):
    help = "Invite the customers of resolved tickets without a survey invitation (e-mail with a signed link)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--within-days",
            type=int,
            default=None,
            help="Only tickets resolved within this many days "
            "(default STEWARD_SURVEY_INVITE_WITHIN_DAYS; 0 = all).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        with context.acting_as(None, channel="command"):
            invited = surveys.surveys_send_due(within_days=options["within_days"])
        self.stdout.write(f"Invited {invited} customer(s) to the survey.\n")
