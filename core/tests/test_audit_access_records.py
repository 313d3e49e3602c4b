"""Every read or export of personal data is recorded: who, which record(s), which fields, and why (DPP4)."""

from __future__ import annotations

import pytest

from core import audit, context
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_a_read_records_who_which_record_which_fields_and_the_purpose(dpo):
    with context.acting_as(dpo, channel="web", request_id="req-read-0001"):
        audit.record_access(
            AuditEvent.Action.READ,
            object_type="customers.customer",
            object_ids=[17],
            fields=["phone", "email"],
            purpose="data access request DAR-2026-004",
        )
    event = AuditEvent.objects.get()
    assert event.action == AuditEvent.Action.READ
    assert event.actor_username == "daniel"
    assert (event.object_type, event.object_id) == ("customers.customer", "17")
    assert event.purpose == "data access request DAR-2026-004"
    assert event.changes == {"fields": ["email", "phone"]}
    assert event.request_id == "req-read-0001"


def test_an_export_records_every_record_and_the_count(dpo):
    audit.record_access(
        AuditEvent.Action.EXPORT,
        object_type="customers.customer",
        object_ids=[3, 1, 2],
        fields=["email"],
        purpose="direct-marketing export, e-mail channel",
        actor=dpo,
    )
    event = AuditEvent.objects.get()
    assert event.object_id == ""
    assert event.changes == {"fields": ["email"], "object_ids": ["3", "1", "2"], "count": 3}


def test_a_large_export_keeps_the_true_count(dpo):
    audit.record_access(
        AuditEvent.Action.EXPORT,
        object_type="customers.customer",
        object_ids=range(5000),
        purpose="quarterly report",
        actor=dpo,
    )
    event = AuditEvent.objects.get()
    assert event.changes["count"] == 5000
    assert len(event.changes["object_ids"]) == 1000


@pytest.mark.parametrize("purpose", ["", "   "])
@pytest.mark.parametrize("action", [AuditEvent.Action.READ, AuditEvent.Action.EXPORT])
def test_a_read_or_export_without_a_purpose_is_refused(dpo, action, purpose):
    with pytest.raises(ValueError, match="purpose"):
        audit.record_access(
            action, object_type="customers.customer", object_ids=[1], purpose=purpose, actor=dpo
        )
    assert not AuditEvent.objects.exists()
