"""The customer access log and the unusual-reads alert (DPP4; seed 003 §3 "set the authorization
right to assess customer information").

Reads and exports of customer records are written to the audit trail (``core.audit.record_access``
with object type ``customers.customer`` and the purpose). The access log is an index over those
audit rows, one row per customer per read, so that "who read this customer and why" and "what did
this user read" are plain, indexed queries, and reads recorded by any package show up. It is
brought up to date before every report and by the hourly alert task.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, QuerySet
from django.utils import timezone

from accounts.models import User
from core import audit
from core.models import AuditChainHead, AuditEvent
from customers.models import AccessAlert, AccessLogCursor, CustomerAccess
from customers.sqlbulk import insert_rows

logger = logging.getLogger("steward.customers")

OBJECT_TYPE = "customers.customer"
_CHUNK = 1000  # record_access keeps at most 1000 ids per audit row
_ACCESS_ACTIONS = (AuditEvent.Action.READ, AuditEvent.Action.EXPORT)
_LOG_FIELDS = ("audit_seq", "customer_id", "actor_id", "actor_username", "action", "purpose", "occurred_at")


def record_customer_reads(
    *, actor: Any, action: str, customer_ids: Iterable[int], purpose: str, fields: Iterable[str]
) -> int:
    """Audit a read or export of customer records with its purpose, in chunks the trail keeps whole.

    Returns the number of audit rows written. Call it inside the transaction of the work it records.
    """
    ids = list(customer_ids)
    fields = sorted(set(fields))
    rows = 0
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start : start + _CHUNK]
        audit.record_access(
            action, object_type=OBJECT_TYPE, object_ids=chunk, purpose=purpose, fields=fields, actor=actor
        )
        rows += 1
    return rows


@transaction.atomic
def index_audit_trail(*, batch_size: int = 5000) -> int:
    """Add the customer reads recorded since the last run to the access log; returns rows added.

    Audit rows get their sequence number under the chain-head lock and move the head in the same
    transaction, so every row up to the committed head is committed and visible: reading up to the
    head and moving the cursor there skips nothing (rows of other kinds are passed over in SQL).
    """
    cursor, _ = AccessLogCursor.objects.select_for_update().get_or_create(id=1)
    head = AuditChainHead.objects.filter(id=1).values_list("last_seq", flat=True).first() or 0
    if head <= cursor.last_seq:
        return 0
    last = cursor.last_seq
    added = 0
    while True:
        events = list(
            AuditEvent.objects.filter(
                seq__gt=last, seq__lte=head, object_type=OBJECT_TYPE, action__in=_ACCESS_ACTIONS
            )
            .order_by("seq")
            .values(
                "seq",
                "object_id",
                "changes",
                "actor_id",
                "actor_username",
                "action",
                "purpose",
                "occurred_at",
            )[:batch_size]
        )
        if not events:
            break
        rows = []
        for event in events:
            changes = event["changes"] or {}
            ids = [event["object_id"]] if event["object_id"] else changes.get("object_ids", [])
            rows += [
                (
                    event["seq"],
                    int(customer_id),
                    event["actor_id"],
                    event["actor_username"],
                    event["action"],
                    event["purpose"],
                    event["occurred_at"],
                )
                for customer_id in ids
                if str(customer_id).isdigit()
            ]
        insert_rows(CustomerAccess, _LOG_FIELDS, rows)
        added += len(rows)
        last = events[-1]["seq"]
    cursor.last_seq = head
    cursor.save(update_fields=["last_seq"])
    return added


def _require_log(user: Any) -> None:
    if not user.has_perm("customers.view_customeraccess"):
        raise PermissionDenied("The access log is for the data-protection officer and auditors.")


def access_log(
    *, user: Any, customer_id: int | None = None, actor_id: int | None = None, since: datetime | None = None
) -> QuerySet[CustomerAccess]:
    """Who read which customer, when and why: newest first, for one customer and/or one user."""
    _require_log(user)
    index_audit_trail()
    rows = CustomerAccess.objects.all()
    if customer_id is not None:
        rows = rows.filter(customer_id=customer_id)
    if actor_id is not None:
        rows = rows.filter(actor_id=actor_id)
    if since is not None:
        rows = rows.filter(occurred_at__gte=since)
    return rows.order_by("-occurred_at", "-id")


def reads_by_user(*, user: Any, since: datetime) -> list[dict[str, Any]]:
    """Records read per user since SINCE, most first (aggregated in the database)."""
    _require_log(user)
    index_audit_trail()
    return list(
        CustomerAccess.objects.filter(occurred_at__gte=since)
        .values("actor_id", "actor_username")
        .annotate(reads=Count("id"))
        .order_by("-reads", "actor_username")
    )


def _windows(now: datetime) -> list[tuple[str, datetime, datetime, int]]:
    """The last complete hour, and the Hong Kong day it falls in (counted up to now)."""
    hour_end = now.replace(minute=0, second=0, microsecond=0)
    hour_start = hour_end - timedelta(hours=1)
    local = timezone.localtime(hour_start)
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return [
        (AccessAlert.Window.HOUR, hour_start, hour_end, settings.STEWARD_ACCESS_ALERT_PER_HOUR),
        (AccessAlert.Window.DAY, day_start, now, settings.STEWARD_ACCESS_ALERT_PER_DAY),
    ]


def _dpo_emails() -> list[str]:
    return sorted(
        set(
            User.objects.filter(groups__name="data_protection_officer", is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


@transaction.atomic
def unusual_access_check(*, now: datetime | None = None) -> list[AccessAlert]:
    """Raise an alert for every user whose reads in the last hour or today exceed the threshold,
    once per user and window, and e-mail the data-protection officers. Returns the new alerts."""
    now = now or timezone.now()
    index_audit_trail()
    raised: list[AccessAlert] = []
    for window, start, end, threshold in _windows(now):
        heavy = (
            CustomerAccess.objects.filter(occurred_at__gte=start, occurred_at__lt=end, actor_id__isnull=False)
            .values("actor_id")
            .annotate(reads=Count("id"))
            .filter(reads__gt=threshold)
        )
        for row in heavy:
            alert, created = AccessAlert.objects.get_or_create(
                user_id=row["actor_id"],
                window=window,
                window_start=start,
                defaults={"reads": row["reads"], "threshold": threshold},
            )
            if created:
                audit.record_change(AuditEvent.Action.CREATE, alert, actor=None)
                raised.append(alert)
    recipients = _dpo_emails()
    if raised and recipients:
        lines = [
            f"{a.user.username}: {a.reads} customer records read in the {a.window} from "
            f"{timezone.localtime(a.window_start):%Y-%m-%d %H:%M} HKT (threshold {a.threshold})"
            for a in raised
        ]

        def send() -> None:
            try:
                send_mail(
                    subject=f"Steward: unusual reads of customer data ({len(raised)})",
                    message="\n".join([*lines, "", "Review them on the access alerts page."]),
                    from_email=None,
                    recipient_list=recipients,
                )
            except OSError:
                logger.exception("access alert e-mail failed")

        transaction.on_commit(send)
    return raised


@transaction.atomic
def access_alert_acknowledge(*, actor: Any, alert: AccessAlert, note: str) -> AccessAlert:
    """The DPO looked into an alert and says what they found."""
    from django.core.exceptions import ValidationError

    if not actor.has_perm("customers.change_accessalert"):
        raise PermissionDenied("Acknowledging access alerts is for the data-protection officer.")
    note = note.strip()
    if not note:
        raise ValidationError({"note": "Say what you found."})
    if alert.acknowledged_at is not None:
        raise ValidationError({"note": "This alert is already acknowledged."})
    before = audit.snapshot(alert)
    alert.acknowledged_at = timezone.now()
    alert.acknowledged_by = actor
    alert.note = note[:500]
    alert.save()
    audit.record_change(AuditEvent.Action.UPDATE, alert, before=before, actor=actor)
    return alert
