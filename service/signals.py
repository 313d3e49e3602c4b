"""Signals of the service package.

``ticket_events_changed`` (providing ``ticket_ids``): sent by the ticket ingest (API, file
import, webhook) after it has written events, with the ids of every ticket it touched. The SLA
results of those tickets are recomputed once the sender's transaction commits, as a Celery task
(eager in the demo and the tests).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal, receiver

# providing_args: ticket_ids (an iterable of Ticket primary keys)
ticket_events_changed = Signal()


@receiver(ticket_events_changed, dispatch_uid="service.sla.recompute_on_events")
def _recompute_sla_after_events(sender: Any, ticket_ids: Iterable[int], **kwargs: Any) -> None:
    ids = sorted({int(pk) for pk in ticket_ids})
    if not ids:
        return

    def queue() -> None:
        from service import tasks

        tasks.recompute_sla.delay(ids)

    transaction.on_commit(queue)
