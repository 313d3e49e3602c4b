"""The audit trail is tamper-evident: each row's hash covers the previous row's hash, and
`manage.py verify_audit_chain` names the first broken link."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from core import audit
from core.models import AuditChainHead, AuditEvent
from core.tasks import verify_audit_chain_task
from vendors.services import vendor_create, vendor_update

pytestmark = pytest.mark.django_db


def make_events(n: int, start: int = 0) -> None:
    """N audit events of every kind: changes through services, reads, plain events."""
    for i in range(start, start + n):
        kind = i % 3
        if kind == 0:
            vendor_create(actor=None, code=f"v{i}", name=f"Vendor {i} Ltd")
        elif kind == 1:
            audit.record_access(
                AuditEvent.Action.READ,
                object_type="vendors.vendor",
                object_ids=[i],
                purpose="answer a complaint",
                fields=["name"],
            )
        else:
            audit.record_event(AuditEvent.Action.OTHER, object_type="test", detail={"n": i, "ünï": "çødé"})


def raw(sql: str, params: list[Any] | None = None) -> None:
    """Bypass the ORM's append-only guard, as someone with database access would."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])


def test_chain_verifies_after_many_events():
    make_events(150)
    vendor = vendor_create(actor=None, code="changing", name="Before")
    vendor_update(actor=None, vendor=vendor, name="After", status="onboarding")
    report = audit.verify_chain()
    assert report.ok, report
    assert report.checked == AuditEvent.objects.count() == 152
    assert report.last_hash == AuditEvent.objects.get(seq=152).hash


def test_rows_link_to_the_previous_row():
    make_events(5)
    rows = list(AuditEvent.objects.order_by("seq"))
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]
    assert rows[0].prev_hash == audit.GENESIS_HASH
    for earlier, later in zip(rows, rows[1:], strict=False):
        assert later.prev_hash == earlier.hash
    head = AuditChainHead.objects.get()
    assert (head.last_seq, head.last_hash) == (5, rows[-1].hash)


def test_an_empty_trail_verifies():
    report = audit.verify_chain()
    assert report.ok and report.checked == 0


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("object_repr", "innocent"),
        ("actor_username", "someone-else"),
        ("purpose", "a better excuse"),
        ("request_id", "0000000000"),
    ],
)
def test_editing_a_row_with_raw_sql_is_detected_at_that_row(column, value):
    make_events(12)
    raw(f"UPDATE core_auditevent SET {column} = %s WHERE seq = 7", [value])  # noqa: S608 (a fixed column name)
    report = audit.verify_chain()
    assert report.first_broken_seq == 7
    assert "edited" in report.reason
    assert report.checked == 6


def test_editing_the_recorded_changes_is_detected():
    make_events(9)
    raw("UPDATE core_auditevent SET changes = %s WHERE seq = 3", ['{"n": 999}'])
    assert audit.verify_chain().first_broken_seq == 3


def test_editing_a_row_and_recomputing_its_hash_breaks_the_next_link():
    make_events(10)
    event = AuditEvent.objects.get(seq=4)
    event.object_repr = "forged"
    forged_hash = audit._payload_hash(event)
    raw("UPDATE core_auditevent SET object_repr = %s, hash = %s WHERE seq = 4", ["forged", forged_hash])
    report = audit.verify_chain()
    assert report.first_broken_seq == 5
    assert "link" in report.reason


def test_deleting_a_row_is_detected():
    make_events(10)
    raw("DELETE FROM core_auditevent WHERE seq = 6")
    report = audit.verify_chain()
    assert report.first_broken_seq == 6
    assert "missing" in report.reason


def test_deleting_the_newest_rows_is_detected_through_the_head():
    make_events(10)
    raw("DELETE FROM core_auditevent WHERE seq >= 9")
    report = audit.verify_chain()
    assert report.first_broken_seq == 9
    assert "head" in report.reason


def test_a_head_that_does_not_match_the_last_row_is_detected():
    make_events(5)
    raw("UPDATE core_auditchainhead SET last_hash = %s WHERE id = 1", ["f" * 64])
    report = audit.verify_chain()
    assert report.first_broken_seq == 5
    assert "head" in report.reason


def test_rows_slipped_in_behind_the_head_are_detected():
    make_events(5)
    raw(
        "UPDATE core_auditchainhead SET last_seq = 3, last_hash = %s WHERE id = 1",
        [AuditEvent.objects.get(seq=3).hash],
    )
    report = audit.verify_chain()
    assert report.first_broken_seq == 4
    assert "beyond the chain head" in report.reason


def test_a_missing_head_row_is_detected():
    make_events(3)
    raw("DELETE FROM core_auditchainhead")
    report = audit.verify_chain()
    assert report.first_broken_seq == 4
    assert "head" in report.reason


def test_a_rewritten_and_rehashed_chain_is_caught_by_an_anchor():
    make_events(6)
    anchor = {3: AuditEvent.objects.get(seq=3).hash}
    # Rewrite row 3 and re-hash everything after it, head included: the chain itself verifies.
    prev = AuditEvent.objects.get(seq=2).hash
    for event in AuditEvent.objects.filter(seq__gte=3).order_by("seq"):
        if event.seq == 3:
            event.object_repr = "rewritten"
        event.prev_hash = prev
        event.hash = audit._payload_hash(event)
        raw(
            "UPDATE core_auditevent SET object_repr = %s, prev_hash = %s, hash = %s WHERE seq = %s",
            [event.object_repr, event.prev_hash, event.hash, event.seq],
        )
        prev = event.hash
    raw("UPDATE core_auditchainhead SET last_hash = %s WHERE id = 1", [prev])
    assert audit.verify_chain().ok
    report = audit.verify_chain(anchors=anchor)
    assert report.first_broken_seq == 3
    assert "anchor" in report.reason


def test_appending_after_verification_continues_the_chain():
    make_events(3)
    assert audit.verify_chain().ok
    make_events(3, start=3)
    report = audit.verify_chain()
    assert report.ok and report.checked == 6


# --- manage.py verify_audit_chain ------------------------------------------------------------


def test_command_reports_an_intact_chain_with_its_anchor(capsys):
    make_events(4)
    call_command("verify_audit_chain")
    out = capsys.readouterr().out
    assert "intact: 4 event(s)" in out
    assert f"4:{AuditEvent.objects.get(seq=4).hash}" in out


def test_command_exits_non_zero_naming_the_first_broken_row():
    make_events(8)
    raw("UPDATE core_auditevent SET object_id = %s WHERE seq = 5", ["42"])
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit_chain")
    assert excinfo.value.returncode == 1
    assert "BROKEN at event #5" in str(excinfo.value)
    assert "4 event(s) verified before it" in str(excinfo.value)


def test_command_checks_anchors_given_on_the_command_line():
    make_events(3)
    good = AuditEvent.objects.get(seq=2).hash
    call_command("verify_audit_chain", anchor=[f"2:{good}"])
    with pytest.raises(CommandError) as excinfo:
        call_command("verify_audit_chain", anchor=[f"2:{'a' * 64}"])
    assert "#2" in str(excinfo.value)
    with pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("verify_audit_chain", anchor=["2:short"])


def test_nightly_task_logs_a_broken_chain(caplog):
    make_events(4)
    assert verify_audit_chain_task()["ok"] is True
    raw("DELETE FROM core_auditevent WHERE seq = 2")
    with caplog.at_level("ERROR", logger="steward.audit"):
        result = verify_audit_chain_task()
    assert result == {"ok": False, "checked": 1, "first_broken_seq": 2}
    assert any(r.getMessage() == "audit chain broken" and r.first_broken_seq == 2 for r in caplog.records)
