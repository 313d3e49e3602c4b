"""Demo data for customer service, loaded by ``manage.py seed_demo`` (idempotent).

Each topic has its own module; the order matters: the SLA policies exist before the tickets are
imported (so their SLA results are computed as they arrive), and surveys, reviews and reports
build on the tickets.
"""

from __future__ import annotations

from service.demo_quality import seed_quality, surveyed_since
from service.demo_reports import seed_reports
from service.demo_sla import seed_sla
from service.demo_tickets import seed_tickets

__all__ = ["seed", "seed_quality", "seed_reports", "seed_sla", "seed_tickets", "surveyed_since"]


def seed() -> None:
    from service.sla import recompute_opened_between

    seed_sla()
    seed_tickets()
    # seed_demo runs in one transaction, so the SLA recompute that the ingest queues "on commit"
    # would only run after the reports below were built: compute the figures now, once.
    recompute_opened_between()
    seed_quality()
    seed_reports()
