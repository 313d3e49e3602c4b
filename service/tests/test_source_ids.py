"""Tickets and events keep the helpdesk's own ids; merged and spam tickets never count."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, transaction

from service.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db
OPENED = datetime(2026, 10, 5, 2, 0, tzinfo=UTC)


def test_a_ticket_id_from_one_source_exists_once():
    Ticket.objects.create(source="zendesk", external_id="100", opened_at=OPENED)
    with pytest.raises(IntegrityError), transaction.atomic():
        Ticket.objects.create(source="zendesk", external_id="100", opened_at=OPENED)
    assert Ticket.objects.count() == 1


def test_an_event_id_is_unique_within_its_ticket():
    ticket = Ticket.objects.create(external_id="101", opened_at=OPENED)
    TicketEvent.objects.create(ticket=ticket, external_id="e1", kind="created", occurred_at=OPENED)
    with pytest.raises(IntegrityError), transaction.atomic():
        TicketEvent.objects.create(ticket=ticket, external_id="e1", kind="agent_reply", occurred_at=OPENED)


@pytest.mark.parametrize(
    ("merged", "spam", "counts"), [(False, False, True), (True, False, False), (False, True, False)]
)
def test_merged_and_spam_tickets_are_left_out_of_figures(merged, spam, counts):
    ticket = Ticket(external_id="x", opened_at=OPENED, is_merged=merged, is_spam=spam)
    assert ticket.counts is counts
