"""Writing and verifying the audit trail.

Every service that changes data calls :func:`record_change` inside its own
``transaction.atomic`` block, so the audit row commits or rolls back with the change
(Zulip's rule). Reads and exports of personal data call :func:`record_access`.

Each row's ``hash`` is SHA-256 over its canonical JSON including the previous row's hash;
:func:`verify_chain` walks the chain and names the first row that does not fit. Appends are
serialised on the single :class:`~core.models.AuditChainHead` row (``SELECT … FOR UPDATE``
on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` write lock does the same).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models, transaction
from django.utils import timezone

from core import context
from core.models import AuditChainHead, AuditEvent

REDACTED = "[redacted]"
GENESIS_HASH = "0" * 64
# Never written to a snapshot at all (not even redacted): secrets and bookkeeping.
_SKIPPED_FIELDS = frozenset({"created_at", "updated_at", "password"})
# Reads and exports of personal data must say why (DPP3/DPP4).
_ACCESS_ACTIONS = frozenset({AuditEvent.Action.READ, AuditEvent.Action.EXPORT})


def _to_json(value: Any) -> Any:
    """Plain JSON (str, numbers, bools, lists, dicts): the stored value hashes the same after a round trip."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))  # noqa: RET504


class Snapshot(dict[str, Any]):
    """A record's field values as written to the trail, personal-data fields redacted.

    The personal values themselves stay in memory only (``_personal``), so that
    :func:`record_change` can tell that a redacted field changed without ever storing it.
    """

    _personal: dict[str, Any]


def _personal_fields(instance: models.Model) -> frozenset[str]:
    return frozenset(getattr(instance, "personal_data_fields", frozenset()))


def snapshot(instance: models.Model) -> Snapshot:
    """The instance's concrete field values, with personal-data fields redacted."""
    personal = _personal_fields(instance)
    data: dict[str, Any] = {}
    raw_personal: dict[str, Any] = {}
    for field in instance._meta.concrete_fields:
        if field.name in _SKIPPED_FIELDS:
            continue
        key = field.attname if field.is_relation else field.name
        value = field.value_from_object(instance)
        if field.name in personal or key in personal:
            raw_personal[key] = value
            data[key] = REDACTED if value not in (None, "") else None
            continue
        if isinstance(value, memoryview | bytes):
            value = REDACTED
        elif isinstance(field, models.FileField):
            value = getattr(value, "name", None) or None
        data[key] = value
    snap = Snapshot(_to_json(data))
    snap._personal = raw_personal
    return snap


def _diff(before: dict[str, Any] | None, after: dict[str, Any] | None) -> dict[str, Any]:
    if before is None or after is None:
        return {"before": before, "after": after}
    changed = {k for k in set(before) | set(after) if before.get(k) != after.get(k)}
    # A redacted field reads "[redacted]" on both sides; compare the in-memory values instead.
    old_personal: dict[str, Any] = getattr(before, "_personal", {})
    new_personal: dict[str, Any] = getattr(after, "_personal", {})
    changed |= {k for k in set(old_personal) & set(new_personal) if old_personal[k] != new_personal[k]}
    keys = sorted(changed)
    return {
        "before": {k: before.get(k) for k in keys},
        "after": {k: after.get(k) for k in keys},
    }


def _payload_hash(event: AuditEvent) -> str:
    payload = {
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_username": event.actor_username,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "purpose": event.purpose,
        "request_id": event.request_id,
        "channel": event.channel,
        "ip_address": event.ip_address,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_IP_FIELD = AuditEvent._meta.get_field("ip_address")


# The head is read and moved with two plain statements rather than the ORM: every audited
# write pays for them, and the ORM's query building costs ten times the query itself
# (bench/bench_audit.py). The table name comes from the model, never from input.
_HEAD_TABLE = AuditChainHead._meta.db_table


def _lock_head() -> tuple[int, str]:
    """The chain head's (last seq, last hash), locked until the transaction ends.

    PostgreSQL: ``SELECT … FOR UPDATE`` makes concurrent appends wait their turn. SQLite has
    no row locks; its write transactions (``BEGIN IMMEDIATE``, see settings) are serial anyway.
    The head row is created by migration core.0002; the fallback only covers a test database
    that a transactional test case has flushed.
    """
    table = connection.ops.quote_name(_HEAD_TABLE)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT last_seq, last_hash FROM {table} WHERE id = 1{lock}")  # noqa: S608
        row = cursor.fetchone()
    if row is None:
        created, _ = AuditChainHead.objects.select_for_update().get_or_create(id=1)
        return created.last_seq, created.last_hash
    return int(row[0]), str(row[1])


def _move_head(seq: int, digest: str) -> None:
    table = connection.ops.quote_name(_HEAD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET last_seq = %s, last_hash = %s WHERE id = 1", [seq, digest])  # noqa: S608


def _append(
    *,
    action: str,
    object_type: str,
    object_id: str = "",
    object_repr: str = "",
    changes: dict[str, Any] | None = None,
    purpose: str = "",
    actor: Any = None,
) -> AuditEvent:
    """Add one row at the end of the chain, inside the caller's transaction.

    ``savepoint=False``: a failed append must fail the caller's whole transaction, never be
    rolled back alone while the change it records commits.
    """
    ctx = context.current()
    user = actor if actor is not None else ctx.user
    with transaction.atomic(savepoint=False):
        last_seq, last_hash = _lock_head()
        event = AuditEvent(
            seq=last_seq + 1,
            occurred_at=timezone.now(),
            actor_id=user.pk if user is not None and getattr(user, "pk", None) else None,
            actor_username=(getattr(user, "username", "") or "")[:150] if user is not None else "",
            action=action,
            object_type=object_type[:100],
            object_id=str(object_id)[:64],
            object_repr=object_repr[:200],
            changes=_to_json(changes or {}),
            purpose=purpose[:200],
            request_id=ctx.request_id[:64],
            channel=ctx.channel[:16],
            # Stored as the database will return it, so that the hash survives the round trip.
            ip_address=_IP_FIELD.get_prep_value(ctx.ip_address) if ctx.ip_address else None,
            prev_hash=last_hash,
        )
        event.hash = _payload_hash(event)
        event.save(force_insert=True)
        _move_head(event.seq, event.hash)
    return event


def object_type_of(instance_or_model: models.Model | type[models.Model]) -> str:
    return instance_or_model._meta.label_lower


def safe_repr(instance: models.Model) -> str:
    """``str(instance)``, unless the model holds personal data: its ``__str__`` may be a name."""
    if _personal_fields(instance):
        return f"{instance._meta.verbose_name} {instance.pk}"
    return str(instance)


def record_change(
    action: str,
    instance: models.Model,
    *,
    before: dict[str, Any] | None = None,
    actor: Any = None,
    purpose: str = "",
) -> AuditEvent:
    """Record a create, update or delete of INSTANCE. Pass ``before=snapshot(obj)`` taken before an update.

    Call it inside the service's ``transaction.atomic`` block, after the change is saved
    (for a delete: before the row is deleted, so that the snapshot is complete).
    """
    after = None if action == AuditEvent.Action.DELETE else snapshot(instance)
    if action == AuditEvent.Action.DELETE and before is None:
        before = snapshot(instance)
    return _append(
        action=action,
        object_type=object_type_of(instance),
        object_id=str(instance.pk),
        object_repr=safe_repr(instance),
        changes=_diff(before, after),
        purpose=purpose,
        actor=actor,
    )


def record_access(
    action: str,
    *,
    object_type: str,
    object_ids: Iterable[Any] = (),
    purpose: str,
    fields: Iterable[str] = (),
    count: int | None = None,
    actor: Any = None,
    object_repr: str = "",
) -> AuditEvent:
    """Record a read or export of personal data (DPP4), or a denied attempt, with its purpose.

    Only the record ids and field names are kept, never the values that were read.
    """
    if action in _ACCESS_ACTIONS and not purpose.strip():
        raise ValueError("a read or export of personal data must state its purpose")
    ids = [str(i) for i in object_ids]
    detail: dict[str, Any] = {"fields": sorted(fields)}
    if len(ids) != 1:
        detail["object_ids"] = ids[:1000]
        detail["count"] = count if count is not None else len(ids)
    return _append(
        action=action,
        object_type=object_type,
        object_id=ids[0] if len(ids) == 1 else "",
        object_repr=object_repr,
        changes=detail,
        purpose=purpose,
        actor=actor,
    )


def record_event(
    action: str,
    *,
    object_type: str,
    object_id: str = "",
    object_repr: str = "",
    detail: dict[str, Any] | None = None,
    actor: Any = None,
) -> AuditEvent:
    """Record an event that is not a model change (login, logout, token use)."""
    return _append(
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=object_repr,
        changes=detail or {},
        actor=actor,
    )


@dataclass(frozen=True)
class ChainReport:
    """The outcome of :func:`verify_chain`: how many rows fit, and the first that does not."""

    checked: int
    first_broken_seq: int | None
    reason: str = ""
    last_hash: str = GENESIS_HASH  # hash of the last row that verified: keep it elsewhere as an anchor

    @property
    def ok(self) -> bool:
        return self.first_broken_seq is None


def _in_order(up_to: int | None, batch_size: int = 2000) -> Iterator[AuditEvent]:
    last = 0
    rows = AuditEvent.objects.order_by("seq")
    if up_to is not None:
        rows = rows.filter(seq__lte=up_to)
    while True:
        batch = list(rows.filter(seq__gt=last)[:batch_size])
        if not batch:
            return
        yield from batch
        last = batch[-1].seq


def verify_chain(*, anchors: dict[int, str] | None = None) -> ChainReport:
    """Walk the chain from the start; report the first row whose hash, link or sequence is wrong.

    Rows are numbered 1, 2, 3… with no gap; each must hash to its ``hash`` and link to the
    row before; the head row must point at the last one. ANCHORS (seq → hash, recorded
    earlier outside the database, e.g. from the nightly log) also catch a chain that was
    rewritten from some row onwards and re-hashed. Rows appended while the walk runs are
    left for the next run: the walk stops at the head as it was when it started.
    """
    anchors = anchors or {}
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0

    def broken(seq: int, reason: str) -> ChainReport:
        return ChainReport(checked, seq, reason, expected_prev)

    head = AuditChainHead.objects.filter(id=1).first()
    head_seq = head.last_seq if head is not None else None
    for event in _in_order(head_seq):
        if event.seq != expected_seq:
            return broken(expected_seq, f"row #{expected_seq} is missing (the next row is #{event.seq})")
        if event.prev_hash != expected_prev:
            return broken(event.seq, "its link to the previous row does not match")
        if _payload_hash(event) != event.hash:
            return broken(event.seq, "its contents do not match its hash (the row was edited)")
        if event.seq in anchors and anchors[event.seq] != event.hash:
            return broken(
                event.seq, "its hash differs from the anchor recorded for it (the chain was rewritten)"
            )
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    if head is None or head_seq is None:
        if checked:
            return broken(checked + 1, "the chain head row is missing")
        return ChainReport(0, None, "", expected_prev)
    if checked != head_seq:
        return broken(
            checked + 1,
            f"the chain head says the last row is #{head_seq} but the chain ends at #{checked} "
            "(rows were deleted from the end)",
        )
    if head.last_hash != expected_prev:
        return broken(max(checked, 1), "the chain head's hash does not match the last row")
    beyond = (
        AuditEvent.objects.filter(seq__gt=head_seq).order_by("-seq").values_list("seq", flat=True).first()
    )
    if beyond is not None:
        # Either appended while we walked (the head has moved on since) or slipped in behind its back.
        now = AuditChainHead.objects.filter(id=1).values_list("last_seq", flat=True).first() or 0
        if now < beyond:
            return broken(head_seq + 1, f"row #{beyond} lies beyond the chain head (#{now})")
    missing_anchors = sorted(seq for seq in anchors if seq > checked)
    if missing_anchors:
        return broken(checked + 1, f"row #{missing_anchors[0]} was anchored but the chain ends at #{checked}")
    return ChainReport(checked, None, "", expected_prev)
