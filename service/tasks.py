"""Celery tasks of the service package. Tasks only parse their arguments and call a service."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.core.exceptions import ValidationError

from core import context

# --- ingest (issue 4 item 1) ---


@shared_task(name="service.tasks.run_import")
def run_import(job_id: int) -> str:
    """Run one queued ticket import (eagerly in the demo, on a worker when a broker is configured)."""
    from service.services import import_job_run

    with context.acting_as(None, channel="task"):
        return import_job_run(job_id=job_id).status


# --- SLA recompute (s2) ---


@shared_task(name="service.tasks.recompute_sla")
def recompute_sla(ticket_ids: list[int]) -> int:
    """Recompute the SLA results of these tickets (their events changed)."""
    from service import sla
    from service.rollups import rollups_refresh_days, ticket_days

    with context.acting_as(None, channel="task"):
        done = sla.recompute_tickets(ticket_ids)
        # The report rollups of the days these tickets are filed on, fresh without a rebuild.
        rollups_refresh_days(ticket_days(ticket_ids))
        return done


@shared_task(name="service.tasks.recompute_sla_opened_between")
def recompute_sla_opened_between(first_day: str | None, last_day: str | None) -> int:
    """Recompute every ticket opened in the range (a policy or calendar changed); None: unbounded."""
    from service import sla
    from service.rollups import rollups_rebuild

    with context.acting_as(None, channel="task"):
        done = sla.recompute_opened_between(
            date.fromisoformat(first_day) if first_day else None,
            date.fromisoformat(last_day) if last_day else None,
        )
        # Tickets opened from FIRST_DAY on may be filed (by resolution) as late as today.
        if done:
            rollups_rebuild(start=date.fromisoformat(first_day) if first_day else None)
        return done


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


# --- s4 service KPI reports ---


@shared_task
def rebuild_service_rollups(start: str | None = None, end: str | None = None) -> int:
    """Rebuild the KPI rollups for [start, end) (ISO dates), or everything.

    Queue it after an import or an SLA recomputation (``rebuild_service_rollups.delay(start, end)``).
    """
    from service.rollups import rollups_rebuild

    result = rollups_rebuild(
        start=date.fromisoformat(start) if start else None, end=date.fromisoformat(end) if end else None
    )
    return result.daily_rows


@shared_task
def send_monthly_service_report() -> int:
    """E-mail last month's customer-service KPI report to the customer-service managers."""
    from service.report_services import monthly_report_send

    return monthly_report_send()


@shared_task(name="service.tasks.refresh_service_rollups")
def refresh_service_rollups(days: list[str]) -> int:
    """Refresh the KPI rollups of these days (ISO dates) after tickets filed on them changed."""
    from service.rollups import rollups_refresh_days

    result = rollups_refresh_days([date.fromisoformat(d) for d in days])
    return 0 if result is None else result.daily_rows
