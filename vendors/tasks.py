"""Scheduled work of the vendor register (Celery beat): roll obligation statuses, raise renewal and
notice alerts, remind of expiring documents. Tasks only parse their arguments and call a service."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from core import context
from vendors import cooperation, services


def _day(today: str | None) -> date | None:
    return date.fromisoformat(today) if today else None


@shared_task(name="vendors.tasks.roll_obligations")
def roll_obligations(today: str | None = None) -> dict[str, int]:
    """Daily: open obligation instances become due inside the due-soon window, missed after their date."""
    with context.acting_as(None, channel="task"):
        return services.obligation_statuses_roll(today=_day(today))


@shared_task(name="vendors.tasks.raise_contract_alerts")
def raise_contract_alerts(today: str | None = None) -> int:
    """Daily: renewal and notice alerts at each contract's lead times (default 120/90/30 days)."""
    with context.acting_as(None, channel="task"):
        return services.contract_alerts_raise(today=_day(today))


@shared_task(name="vendors.tasks.remind_expiring_documents")
def remind_expiring_documents(today: str | None = None) -> int:
    """Daily: remind vendor managers of certificates and documents about to expire."""
    with context.acting_as(None, channel="task"):
        return services.document_reminders_send(today=_day(today))


# --- v1: cooperation reviews ---


@shared_task(name="vendors.tasks.schedule_cooperation_reviews")
def schedule_cooperation_reviews(today: str | None = None) -> int:
    """Daily: each contract in force gets its quarterly business review and annual strategy review."""
    with context.acting_as(None, channel="task"):
        return cooperation.reviews_schedule_upcoming(today=_day(today))
