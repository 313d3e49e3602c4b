"""Signals of the service package.

``ticket_resolved`` is sent (with ``ticket=<Ticket>``) by whatever resolves a ticket: the
ticket services, the importer, the webhook. The receiver below queues the customer survey
after the resolving transaction commits; ``manage.py send_surveys`` (and the hourly Celery
task of the same name) catches every resolved ticket whose signal never came.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.dispatch import Signal, receiver

ticket_resolved = Signal()


# --- surveys (s3) ---
@receiver(ticket_resolved, dispatch_uid="service.surveys.invite_on_resolution")
def _invite_to_survey(sender: Any, ticket: Any, **kwargs: Any) -> None:
    from service.tasks import invite_to_survey

    ticket_id = ticket.pk
    transaction.on_commit(lambda: invite_to_survey.delay(ticket_id))
