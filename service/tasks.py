"""Scheduled and queued work of the service package. Tasks only parse their arguments and call a service."""

from __future__ import annotations

from celery import shared_task
from django.core.exceptions import ValidationError

from core import context


# --- surveys (s3) ---
@shared_task(name="service.tasks.invite_to_survey")
def invite_to_survey(ticket_id: int) -> bool:
    """After ``ticket_resolved``: invite the customer (False when the ticket may not be surveyed)."""
    from service import surveys
    from service.models import Ticket

    ticket = Ticket.objects.filter(pk=ticket_id).first()
    if ticket is None:
        return False
    with context.acting_as(None, channel="task"):
        try:
            surveys.survey_invite(actor=None, ticket=ticket)
        except ValidationError:
            return False  # reopened, merged, no e-mail, or already invited
    return True


@shared_task(name="service.tasks.send_survey_email")
def send_survey_email(invitation_id: int) -> bool:
    from service import surveys

    with context.acting_as(None, channel="task"):
        return surveys.survey_email_send(invitation_id=invitation_id)


@shared_task(name="service.tasks.send_surveys")
def send_surveys() -> int:
    """Hourly: invite every recently resolved ticket that has no invitation yet."""
    from service import surveys

    with context.acting_as(None, channel="task"):
        return surveys.surveys_send_due()
