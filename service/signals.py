"""Hooks of the service package.

``ticket_events_changed`` is sent by the ticket ingest (API, file import, webhook) once per
committed transaction (``transaction.on_commit``: once for an all-or-nothing import, once per
batch when good rows are kept) with ``ticket_ids``: the primary keys of the tickets
that got new events or whose fields (channel, priority, team, agent, tier…) changed in that
batch. A replay that changes nothing sends nothing. The receiver below recomputes the SLA results
of exactly those tickets as a Celery task (eager in the demo and the tests); it runs outside the
import's transaction, so a failing receiver cannot undo an import.

``ticket_resolved`` is sent (with ``ticket=<Ticket>``) by whatever resolves a ticket. Its
receiver queues the customer survey after the resolving transaction commits; ``manage.py
send_surveys`` (and the hourly Celery task of the same name) catches every resolved ticket whose
signal never came.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.dispatch import Signal, receiver

# providing_args: ticket_ids (an iterable of Ticket primary keys)
ticket_events_changed = Signal()
ticket_resolved = Signal()


@receiver(ticket_events_changed, dispatch_uid="service.sla.recompute_on_events")
def _recompute_sla_after_events(sender: Any, ticket_ids: Iterable[int], **kwargs: Any) -> None:
    ids = sorted({int(pk) for pk in ticket_ids})
    if not ids:
        return

    def queue() -> None:
        from service import tasks

        tasks.recompute_sla.delay(ids)

    transaction.on_commit(queue)


@receiver(ticket_resolved, dispatch_uid="service.surveys.invite_on_resolution")
def _invite_to_survey(sender: Any, ticket: Any, **kwargs: Any) -> None:
    from service.tasks import invite_to_survey

    ticket_id = ticket.pk
    transaction.on_commit(lambda: invite_to_survey.delay(ticket_id))
