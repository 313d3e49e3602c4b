"""Scheduled work of the customers package (Celery beat). Tasks only call a service."""

from __future__ import annotations

from celery import shared_task

from core import context

# --- privacy (c2) ---


@shared_task(name="customers.tasks.check_unusual_access")
def check_unusual_access() -> int:
    """Hourly: index new reads into the access log and alert the DPO to unusual volumes (DPP4)."""
    from customers import access_log

    with context.acting_as(None, channel="task"):
        return len(access_log.unusual_access_check())
