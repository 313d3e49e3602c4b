"""Scheduled and queued work of the customers package (Celery). Tasks parse and call a service."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.conf import settings

from core import context

# --- privacy requests, retention, data quality (c3) ---


@shared_task(name="customers.tasks.privacy_reminders")
def privacy_reminders(today: str | None = None) -> int:
    """Daily: remind the DPO of requests near (or past) their 40-day deadline."""
    from customers import privacy

    with context.acting_as(None, channel="task"):
        return privacy.privacy_reminders_send(today=date.fromisoformat(today) if today else None)


@shared_task(name="customers.tasks.retention_run")
def retention_run() -> dict[str, int]:
    """Daily: a dry run of the retention job, so the DPO always has a fresh report; the real run
    follows only where STEWARD_RETENTION_AUTO_APPLY is on (otherwise the DPO starts it)."""
    from customers import retention

    with context.acting_as(None, channel="task"):
        dry = retention.retention_run(actor=None, dry_run=True)
        result = {"dry_run": dry.pk, "would_affect": dry.total}
        if getattr(settings, "STEWARD_RETENTION_AUTO_APPLY", False):
            result["affected"] = retention.retention_run(actor=None, dry_run=False).total
        return result


@shared_task(name="customers.tasks.quality_run")
def quality_run() -> dict[str, int]:
    """Daily: re-check every customer against the data-quality rules and recompute the scores."""
    from customers import quality

    with context.acting_as(None, channel="task"):
        return quality.quality_check_all(actor=None)


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


@shared_task(name="customers.tasks.refresh_sales_rollups")
def refresh_sales_rollups(months: list[str], customer_ids: list[int]) -> int:
    """After an order import or webhook (queued on commit): refresh the rollups of the months and
    customers it touched; returns the number of customers refreshed."""
    from customers import services

    with context.acting_as(None, channel="task"):
        services.sales_rollups_refresh(
            months=[date.fromisoformat(month) for month in months],
            customer_ids=[int(customer_id) for customer_id in customer_ids],
        )
    return len(customer_ids)


@shared_task(name="customers.tasks.send_monthly_sales_report")
def send_monthly_sales_report(today: str | None = None) -> int:
    """Daily: on the first day of a month, e-mail last month's sales report to marketing and CRM users."""
    from customers import reports

    with context.acting_as(None, channel="task"):
        return reports.monthly_report_send(today=date.fromisoformat(today) if today else None)


# --- access log (c2) ---


@shared_task(name="customers.tasks.check_unusual_access")
def check_unusual_access() -> int:
    """Hourly: index new reads into the access log and alert the DPO to unusual volumes (DPP4)."""
    from customers import access_log

    with context.acting_as(None, channel="task"):
        return len(access_log.unusual_access_check())
