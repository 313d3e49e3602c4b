"""Scheduled work for proposals (Celery beat). Tasks only call a service."""

from __future__ import annotations

from celery import shared_task

from core import context
from proposals import services


@shared_task(name="proposals.tasks.remind_guideline_acknowledgements")
def remind_guideline_acknowledgements() -> int:
    """Weekly: remind everyone who has not acknowledged a current guideline version."""
    with context.acting_as(None, channel="task"):
        return services.guideline_reminders_send()
