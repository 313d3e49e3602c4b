"""Ingest: replays change nothing; bad rows are refused with their line, field and reason (issue 4)."""

from __future__ import annotations

import pytest

from core.testing.problems import nothing_written
from service.importing import IngestRejected, ingest
from service.models import Agent, Ticket, TicketEvent
from service.tests.ingest_helpers import conversation, event, make_teams, numbered

pytestmark = pytest.mark.django_db


@pytest.fixture
def teams(vendor):
    return make_teams(vendor)


def _state() -> list[tuple]:
    tickets = list(Ticket.objects.order_by("id").values_list())
    events = list(TicketEvent.objects.order_by("id").values_list())
    return [*tickets, *events, *Agent.objects.order_by("id").values_list()]


def test_replaying_the_same_rows_changes_nothing(teams, django_capture_on_commit_callbacks):
    rows = numbered([*conversation("T-1"), *conversation("T-2", priority="high")])
    ingest(rows, actor=None, via="test")
    before = _state()
    with django_capture_on_commit_callbacks() as callbacks:
        result = ingest(rows, actor=None, via="test")
    assert _state() == before
    assert (result.tickets_created, result.tickets_updated, result.events_created) == (0, 0, 0)
    assert result.ticket_ids == set()
    assert callbacks == []  # nothing changed, so no recompute is asked for


def test_an_older_row_does_not_undo_newer_ticket_fields(teams):
    ingest(numbered(conversation("T-1", priority="urgent")), actor=None, via="test")
    stale = [event("T-1", "e0", "customer_message", "2026-10-05T09:00:10", priority="low")]
    ingest(numbered(stale), actor=None, via="test")
    assert Ticket.objects.get(external_id="T-1").priority == "urgent"
    fresh = [event("T-1", "e9", "customer_message", "2026-10-08T09:00:00", priority="low")]
    result = ingest(numbered(fresh), actor=None, via="test")
    assert Ticket.objects.get(external_id="T-1").priority == "low"
    assert result.tickets_updated == 1


def test_the_hook_names_the_changed_tickets_after_commit(teams, django_capture_on_commit_callbacks):
    from service.signals import ticket_events_changed

    seen: list[list[int]] = []

    def listener(sender, *, ticket_ids, **kwargs):
        seen.append(ticket_ids)

    ticket_events_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ingest(numbered(conversation("T-1")), actor=None, via="test")
    finally:
        ticket_events_changed.disconnect(listener)
    assert seen == [[Ticket.objects.get(external_id="T-1").pk]]


def test_a_many_batch_import_names_every_changed_ticket_once(teams, django_capture_on_commit_callbacks):
    """All or nothing: one hook (and so one SLA recomputation and rollup refresh) for the whole file,
    not one per batch; keeping good rows: one per committed batch."""
    from service.signals import ticket_events_changed

    seen: list[list[int]] = []

    def listener(sender, *, ticket_ids, **kwargs):
        seen.append(list(ticket_ids))

    rows = [*conversation("T-1"), *conversation("T-2"), *conversation("T-3")]
    ticket_events_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            ingest(numbered(rows), actor=None, via="test", chunk_rows=2)
        ids = sorted(Ticket.objects.values_list("pk", flat=True))
        assert len(ids) == 3
        assert seen == [ids]
        seen.clear()
        more = [*conversation("T-4"), *conversation("T-5")]
        with django_capture_on_commit_callbacks(execute=True):
            ingest(
                numbered(more), actor=None, via="test", chunk_rows=len(conversation("T-4")), keep_good=True
            )
    finally:
        ticket_events_changed.disconnect(listener)
    new_ids = sorted(Ticket.objects.filter(external_id__in=["T-4", "T-5"]).values_list("pk", flat=True))
    assert sorted(pk for batch in seen for pk in batch) == new_ids
    assert len(seen) == 2


def _refused(rows, **kwargs):
    with pytest.raises(IngestRejected) as caught, nothing_written(Ticket, TicketEvent, Agent):
        ingest(numbered(rows), actor=None, via="test", **kwargs)
    return {(e.line, e.field): e.message for e in caught.value.result.errors}


def test_a_reply_before_creation_is_refused(teams):
    rows = [
        *conversation("T-1"),
        event("T-1", "e0", "agent_reply", "2026-10-05T08:00:00", event_agent="a-01"),
    ]
    errors = _refused(rows)
    assert list(errors) == [(8, "occurred_at")]
    assert "before the ticket was created" in errors[(8, "occurred_at")]


def test_a_ticket_without_a_created_event_is_refused(teams):
    errors = _refused([event("T-9", "e2", "customer_message", "2026-10-05T09:00:00")])
    assert errors == {
        (2, "ticket_id"): "The ticket has no ‘created’ event, neither in this input nor stored."
    }


def test_a_time_without_a_zone_is_refused(teams):
    rows = conversation("T-1")
    rows[1]["occurred_at"] = "2026-10-05T09:00:30"
    errors = _refused(rows)
    assert errors == {(3, "occurred_at"): "The time has no time zone: add Z or an offset such as +08:00."}


def test_duplicate_ids_within_one_input_are_refused(teams):
    rows = [*conversation("T-1"), event("T-1", "e2", "customer_message", "2026-10-05T09:30:00")]
    errors = _refused(rows)
    assert list(errors) == [(8, "event_id")]
    assert "first on line 3" in errors[(8, "event_id")]


def test_an_unknown_team_is_refused_and_unknown_agents_are_created(teams):
    errors = _refused(conversation("T-1", team="no-such-team"))
    assert {field for _, field in errors} == {"team"}
    assert len(errors) == 6
    result = ingest(numbered(conversation("T-2", agent="new-agent")), actor=None, via="test")
    assert result.agents_created == 1
    assert Agent.objects.filter(external_id="new-agent", team__code="hk-email").exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "shouted"}, "kind"),
        ({"channel": "pigeon"}, "channel"),
        ({"priority": "whenever"}, "priority"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
        ({"ticket_id": ""}, "ticket_id"),
        ({"subject": "x" * 301}, "subject"),
        ({"status": "resolved"}, "status"),
        ({"subject": "bad\x00byte"}, "subject"),
    ],
)
def test_each_bad_field_is_named(teams, change, field):
    rows = conversation("T-1")
    rows[2].update(change)
    errors = _refused(rows)
    assert (4, field) in errors


def test_a_status_change_needs_its_status(teams):
    rows = [*conversation("T-1"), event("T-1", "e7", "status_change", "2026-10-05T11:00:00")]
    assert (8, "status") in _refused(rows)


def test_keep_good_rows_keeps_the_rest_and_reports_the_bad(teams):
    rows = [*conversation("T-1"), *conversation("T-2")]
    rows[7]["occurred_at"] = "2026-10-05 09:00"  # T-2's customer message, line 9: no zone
    rows[9]["team"] = "no-such-team"  # T-2's internal note, line 11
    result = ingest(numbered(rows), actor=None, via="test", keep_good=True)
    assert {(e.line, e.field) for e in result.errors} == {(9, "occurred_at"), (11, "team")}
    assert result.rows_rejected == 2
    assert TicketEvent.objects.count() == 10
    assert Ticket.objects.get(external_id="T-2").status == Ticket.Status.RESOLVED


def test_a_second_created_event_is_refused(teams):
    ingest(numbered(conversation("T-1")), actor=None, via="test")
    errors = _refused([event("T-1", "other", "created", "2026-10-06T09:00:00")])
    assert errors == {(2, "kind"): "The ticket was already created with another event id."}


def test_a_second_created_event_in_one_input_is_refused(teams):
    rows = [*conversation("T-1"), event("T-1", "again", "created", "2026-10-05T08:00:00")]
    errors = _refused(rows)
    assert errors == {(8, "kind"): "The ticket has a second ‘created’ event (first on line 2)."}
