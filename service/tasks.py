"""Background work of the service package (Celery). Tasks only parse their arguments and call a service."""

from __future__ import annotations

from celery import shared_task

from core import context

# --- ingest (issue 4 item 1) ---


@shared_task(name="service.tasks.run_import")
def run_import(job_id: int) -> str:
    """Run one queued ticket import (eagerly in the demo, on a worker when a broker is configured)."""
    from service.services import import_job_run

    with context.acting_as(None, channel="task"):
        return import_job_run(job_id=job_id).status
