"""Scheduled and queued jobs of the service package; each only calls a service."""

from __future__ import annotations

from datetime import date

from celery import shared_task

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
