"""Scheduled and queued work of the customers package (Celery). Tasks parse and call a service."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from core import context

# --- c1: imports, metrics rebuild, monthly sales report ---


@shared_task(name="customers.tasks.run_import_job")
def run_import_job(job_id: int) -> str:
    """Load one uploaded NDJSON/CSV file (queued by import_job_create after commit)."""
    from customers import services

    with context.acting_as(None, channel="task"):
        return services.import_job_run(job_id=job_id).status


@shared_task(name="customers.tasks.rebuild_customer_metrics")
def rebuild_customer_metrics() -> dict[str, int]:
    """Nightly: preferences, RFM, segment membership and sales rollups, set-based."""
    from customers import services

    with context.acting_as(None, channel="task"):
        return services.customer_metrics_rebuild()


@shared_task(name="customers.tasks.send_monthly_sales_report")
def send_monthly_sales_report(today: str | None = None) -> int:
    """Daily: on the first day of a month, e-mail last month's sales report to marketing and CRM users."""
    from customers import reports

    with context.acting_as(None, channel="task"):
        return reports.monthly_report_send(today=date.fromisoformat(today) if today else None)
