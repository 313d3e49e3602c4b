"""The data breach register, in the four parts of the PCPD's notification form.

Notification is voluntary today (PCPD guidance, June 2023). With
``STEWARD_BREACH_NOTIFICATION_MANDATORY`` on, each breach gets a deadline
(``notify_by`` = discovered + ``STEWARD_BREACH_NOTIFY_DAYS``), switching the setting on later
sets deadlines on open breaches (``breach_deadlines_apply``), and the register lists what is overdue:
the reform needs no change to the records.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from customers.privacy_models import HANDLE_REQUESTS, Breach

BREACH_FIELDS = (
    "data_user",
    "data_user_address",
    "contact_name",
    "contact_title",
    "contact_phone",
    "contact_email",
    "title",
    "occurred_at",
    "discovered_at",
    "description",
    "data_kinds",
    "affected_count",
    "cause",
    "vendor",
    "harm_assessment",
    "containment",
    "remedial_action",
)


def mandatory() -> bool:
    return bool(settings.STEWARD_BREACH_NOTIFICATION_MANDATORY)


def _require(actor: Any) -> None:
    if actor is not None and not actor.has_perm(HANDLE_REQUESTS):
        raise PermissionDenied("The breach register is kept by the data-protection officer.")


def _check(breach: Breach) -> None:
    errors: dict[str, str] = {}
    now = timezone.now()
    for name in ("occurred_at", "discovered_at", "pcpd_notified_at", "subjects_notified_at"):
        value = getattr(breach, name)
        if value is not None and timezone.is_naive(value):
            errors[name] = "Give the time with its time zone."
        elif value is not None and value > now + timedelta(hours=1):
            errors[name] = "This cannot be in the future."
    if (
        not errors
        and breach.occurred_at
        and breach.discovered_at
        and breach.occurred_at > breach.discovered_at
    ):
        errors["occurred_at"] = "A breach is discovered after it occurs."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def breach_create(*, actor: Any, **fields: Any) -> Breach:
    """Record a breach (parts 1–3, and part 4 as far as known)."""
    _require(actor)
    unknown = set(fields) - set(BREACH_FIELDS)
    if unknown:
        raise ValidationError({f: "Unknown field." for f in unknown})
    breach = Breach(**fields)
    _check(breach)
    if mandatory() and breach.discovered_at:
        breach.notify_by = breach.discovered_at + timedelta(days=settings.STEWARD_BREACH_NOTIFY_DAYS)
    breach.full_clean()
    breach.save()
    audit.record_change(AuditEvent.Action.CREATE, breach, actor=actor)
    return breach


@transaction.atomic
def breach_update(*, actor: Any, breach: Breach, **fields: Any) -> Breach:
    """Complete the assessment and remedial action, or correct the incident's details."""
    _require(actor)
    unknown = set(fields) - set(BREACH_FIELDS)
    if unknown:
        raise ValidationError({f: "Unknown field." for f in unknown})
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    before = audit.snapshot(breach)
    for name, value in fields.items():
        setattr(breach, name, value)
    _check(breach)
    breach.full_clean()
    breach.save()
    audit.record_change(AuditEvent.Action.UPDATE, breach, before=before, actor=actor)
    return breach


@transaction.atomic
def breach_record_notification(
    *,
    actor: Any,
    breach: Breach,
    pcpd_notified_at: datetime | None = None,
    pcpd_reference: str = "",
    subjects_notified_at: datetime | None = None,
) -> Breach:
    """Record that the PCPD and/or the data subjects were told, and when."""
    _require(actor)
    if pcpd_notified_at is None and subjects_notified_at is None:
        raise ValidationError("Give the time the PCPD or the data subjects were notified.")
    breach = Breach.objects.select_for_update().get(pk=breach.pk)
    before = audit.snapshot(breach)
    if pcpd_notified_at is not None:
        breach.pcpd_notified = True
        breach.pcpd_notified_at = pcpd_notified_at
        breach.pcpd_reference = pcpd_reference.strip()[:100]
    if subjects_notified_at is not None:
        breach.subjects_notified = True
        breach.subjects_notified_at = subjects_notified_at
    _check(breach)
    for name, when in (
        ("pcpd_notified_at", pcpd_notified_at),
        ("subjects_notified_at", subjects_notified_at),
    ):
        if when is not None and when < breach.discovered_at - timedelta(days=1):
            raise ValidationError({name: "Notification comes after the breach was discovered."})
    breach.full_clean()
    breach.save()
    audit.record_change(AuditEvent.Action.UPDATE, breach, before=before, actor=actor)
    return breach


@transaction.atomic
def breach_deadlines_apply(*, actor: Any) -> int:
    """When notification becomes mandatory: give every breach not yet notified its deadline."""
    _require(actor)
    if not mandatory():
        return 0
    changed = 0
    for breach in Breach.objects.select_for_update().filter(notify_by__isnull=True, pcpd_notified=False):
        before = audit.snapshot(breach)
        breach.notify_by = breach.discovered_at + timedelta(days=settings.STEWARD_BREACH_NOTIFY_DAYS)
        breach.save(update_fields=["notify_by", "updated_at"])
        audit.record_change(AuditEvent.Action.UPDATE, breach, before=before, actor=actor)
        changed += 1
    return changed


def breach_list(*, user: Any) -> QuerySet[Breach]:
    return Breach.objects.restrict(user).select_related("vendor")


def overdue(*, user: Any, now: datetime | None = None) -> QuerySet[Breach]:
    now = now or timezone.now()
    return breach_list(user=user).filter(Q(notify_by__lt=now) & Q(pcpd_notified=False))
