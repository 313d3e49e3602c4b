"""Scheduled work of the measurement engine (Celery beat): close periods, open KPI reviews.

Tasks only parse their arguments and call a service.
"""

from __future__ import annotations

from datetime import date

from celery import shared_task

from core import context
from kpis import services


def _day(today: str | None) -> date | None:
    return date.fromisoformat(today) if today else None


@shared_task(name="kpis.tasks.close_due_periods")
def close_due_periods(today: str | None = None) -> dict[str, int]:
    """Nightly: close the last complete week, month, quarter and year of every active scorecard."""
    with context.acting_as(None, channel="task"):
        return services.periods_close_due(today=_day(today))


@shared_task(name="kpis.tasks.schedule_kpi_reviews")
def schedule_kpi_reviews(today: str | None = None) -> int:
    """Daily: open a review for every KPI whose review date has come."""
    with context.acting_as(None, channel="task"):
        return services.reviews_schedule(today=_day(today))
