"""The audit trail is append-only: the ORM refuses to change or remove a row."""

from __future__ import annotations

import pytest

from core import audit
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def event():
    return audit.record_event(AuditEvent.Action.OTHER, object_type="test", object_id="1")


def test_queryset_update_is_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).update(object_repr="changed")
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().update(purpose="changed")


def test_queryset_delete_is_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(PermissionError):
        AuditEvent.objects.all().delete()


def test_saving_a_changed_row_is_refused(event):
    event.object_repr = "changed"
    with pytest.raises(PermissionError):
        event.save()


def test_deleting_a_row_is_refused(event):
    with pytest.raises(PermissionError):
        event.delete()


def test_bulk_writes_are_refused(event):
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_create([AuditEvent(seq=99, occurred_at=event.occurred_at)])
    event.purpose = "changed"
    with pytest.raises(PermissionError):
        AuditEvent.objects.bulk_update([event], ["purpose"])


def test_nothing_changed_after_the_refusals(event):
    for attempt in (
        lambda: AuditEvent.objects.all().update(purpose="x"),
        lambda: AuditEvent.objects.all().delete(),
        lambda: event.delete(),
    ):
        with pytest.raises(PermissionError):
            attempt()
    stored = AuditEvent.objects.get(pk=event.pk)
    assert stored.purpose == "" and stored.hash == event.hash
    assert audit.verify_chain().ok
