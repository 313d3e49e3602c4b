"""Hooks other parts of the service package listen to.

``ticket_events_changed`` is sent once per committed ingest batch (``transaction.on_commit``)
with ``ticket_ids``: the primary keys of the tickets that got new events or whose fields
(channel, priority, team, agent, tier…) changed in that batch. A replay that changes nothing
sends nothing. Receivers (the SLA computation, ``service.sla``) recompute their per-ticket
figures for exactly those tickets::

    from django.dispatch import receiver
    from service.signals import ticket_events_changed

    @receiver(ticket_events_changed)
    def _recompute(sender, *, ticket_ids: list[int], **kwargs): ...

The signal fires after the commit, so receivers see the batch's rows and run outside its
transaction: a failing receiver cannot undo an import.
"""

from __future__ import annotations

from django.dispatch import Signal

ticket_events_changed = Signal()
