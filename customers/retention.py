"""Retention (DPP2(2), s26): erase or anonymise personal data kept longer than its purpose needs.

Each data category has one rule (months, erase or anonymise). The job first runs dry: it counts
what each rule would touch and keeps a few samples (ids and dates, never personal values); a real
run is allowed only after a dry run in the last ``DRY_RUN_VALID_DAYS`` days. Every run is
recorded (``RetentionRun``) and audited. Figures stay intact: an anonymised customer keeps their
row, district and orders (amounts, channels, dates), only the person is removed; an old order
loses its link to the customer, never its amount.

Everything is set-based: one query per rule to select, one UPDATE or DELETE to apply.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from customers.models import BehaviourEvent, Customer, Order
from customers.privacy_models import (
    HANDLE_REQUESTS,
    PrivacyRequest,
    RetentionRule,
    RetentionRun,
    SelfServiceLink,
)

DRY_RUN_VALID_DAYS = 7
SAMPLES = 5
Category = RetentionRule.Category
Action = RetentionRule.Action
# What each category may do: customers and orders are only anonymised, so that sales figures stay whole.
ALLOWED_ACTIONS: dict[str, tuple[str, ...]] = {
    Category.INACTIVE_CUSTOMERS: (Action.ANONYMISE,),
    Category.ORDERS: (Action.ANONYMISE,),
    Category.EVENTS: (Action.ANONYMISE, Action.ERASE),
    Category.CLOSED_REQUESTS: (Action.ERASE,),
    Category.SELF_SERVICE_LINKS: (Action.ERASE,),
}
DEFAULT_RULES = (
    (
        Category.INACTIVE_CUSTOMERS,
        36,
        Action.ANONYMISE,
        "Customer service and marketing need three years of history.",
    ),
    (Category.ORDERS, 84, Action.ANONYMISE, "Tax and accounting records: seven years (IRO s51C)."),
    (Category.EVENTS, 13, Action.ERASE, "Preferences are computed over the last twelve months."),
    (
        Category.CLOSED_REQUESTS,
        60,
        Action.ERASE,
        "Evidence of compliance; refusals stay four years in the log book.",
    ),
    (Category.SELF_SERVICE_LINKS, 6, Action.ERASE, "A record that the customer confirmed their details."),
)
PERSONAL_BLANKS = {f: "" for f in Customer.personal_data_fields}


def _require(actor: Any) -> None:
    if actor is not None and not actor.has_perm(HANDLE_REQUESTS):
        raise PermissionDenied("Retention is managed by the data-protection officer.")


def cutoff_for(rule: RetentionRule, now: datetime) -> datetime:
    """NOW minus the rule's months (30.44 days each: a month is never shorter than the rule says)."""
    return now - timedelta(days=round(rule.months * 30.44))


def due_rows(rule: RetentionRule, now: datetime) -> QuerySet[Any]:
    """The rows RULE applies to at NOW, as one queryset."""
    cutoff = cutoff_for(rule, now)
    open_request = PrivacyRequest.objects.filter(customer=OuterRef("pk"), status__in=PrivacyRequest.OPEN)
    if rule.category == Category.INACTIVE_CUSTOMERS:
        recent_order = Order.objects.filter(customer=OuterRef("pk"), placed_at__gte=cutoff)
        recent_event = BehaviourEvent.objects.filter(customer=OuterRef("pk"), occurred_at__gte=cutoff)
        return (
            Customer.objects.filter(anonymised_at__isnull=True)
            .annotate(seen=Coalesce("first_seen_at", "created_at"))
            .filter(seen__lt=cutoff, updated_at__lt=cutoff)
            .exclude(Exists(recent_order))
            .exclude(Exists(recent_event))
            # A customer whose request is still being answered keeps their data until it is.
            .exclude(Exists(open_request))
            .order_by("pk")
        )
    if rule.category == Category.ORDERS:
        return Order.objects.filter(placed_at__lt=cutoff, customer__isnull=False).order_by("pk")
    if rule.category == Category.EVENTS:
        events = BehaviourEvent.objects.filter(occurred_at__lt=cutoff)
        if rule.action == Action.ANONYMISE:
            events = events.filter(customer__isnull=False)
        return events.order_by("pk")
    if rule.category == Category.CLOSED_REQUESTS:
        return (
            PrivacyRequest.objects.exclude(status__in=PrivacyRequest.OPEN)
            .filter(closed_at__lt=cutoff)
            # The log book entry protects a refused request for four years (s27).
            .filter(Q(log_entry__isnull=True) | Q(log_entry__keep_until__lt=now.date()))
            .order_by("pk")
        )
    if rule.category == Category.SELF_SERVICE_LINKS:
        return SelfServiceLink.objects.filter(sent_at__lt=cutoff).order_by("pk")
    raise ValueError(rule.category)


def _apply(rule: RetentionRule, rows: QuerySet[Any], now: datetime) -> int:
    ids = list(rows.values_list("pk", flat=True))
    if not ids:
        return 0
    from customers.services import customers_changed_queue  # services builds on this module

    if rule.category == Category.INACTIVE_CUSTOMERS:
        customers_changed_queue(ids)  # anonymised: out of segments that filter on their details
        return Customer.objects.filter(pk__in=ids).update(
            **PERSONAL_BLANKS, anonymised_at=now, updated_at=now
        )
    if rule.category == Category.ORDERS:
        orders = Order.objects.filter(pk__in=ids)
        customers_changed_queue(
            orders.exclude(customer=None).values_list("customer_id", flat=True).distinct()
        )
        return orders.update(customer=None, updated_at=now)
    if rule.category == Category.EVENTS:
        events = BehaviourEvent.objects.filter(pk__in=ids)
        if rule.action == Action.ANONYMISE:
            return events.update(customer=None, query="", updated_at=now)
        return events.delete()[0]
    if rule.category == Category.CLOSED_REQUESTS:
        requests = PrivacyRequest.objects.filter(pk__in=ids)
        from customers.privacy_models import CorrectionNotice, RefusalLogEntry

        CorrectionNotice.objects.filter(request__in=requests).delete()
        RefusalLogEntry.objects.filter(request__in=requests).delete()
        return requests.delete()[1].get(PrivacyRequest._meta.label, 0)
    return SelfServiceLink.objects.filter(pk__in=ids).delete()[0]


@dataclass(frozen=True)
class RuleReport:
    rule_id: int
    category: str
    action: str
    cutoff: str
    count: int
    samples: list[int]


@transaction.atomic
def retention_run(*, actor: Any, dry_run: bool, now: datetime | None = None) -> RetentionRun:
    """Run every active rule: dry (count and sample) or for real (only after a recent dry run)."""
    _require(actor)
    now = now or timezone.now()
    if not dry_run:
        recent = RetentionRun.objects.filter(
            dry_run=True, finished_at__gte=now - timedelta(days=DRY_RUN_VALID_DAYS)
        ).exists()
        if not recent:
            raise ValidationError(
                f"Run the retention job dry first (within the last {DRY_RUN_VALID_DAYS} days) "
                "and read its report."
            )
    run = RetentionRun.objects.create(dry_run=dry_run, started_at=now, started_by=actor)
    report = []
    total = 0
    for rule in RetentionRule.objects.filter(active=True).order_by("category"):
        rows = due_rows(rule, now)
        count = rows.count()
        samples = list(rows.values_list("pk", flat=True)[:SAMPLES])
        affected = count if dry_run else _apply(rule, rows, now)
        total += affected
        report.append(
            RuleReport(
                rule.pk,
                rule.category,
                rule.action,
                cutoff_for(rule, now).date().isoformat(),
                affected,
                samples,
            ).__dict__
        )
    run.report = report
    run.total = total
    run.finished_at = timezone.now()
    run.save(update_fields=["report", "total", "finished_at", "updated_at"])
    audit.record_event(
        AuditEvent.Action.OTHER if dry_run else AuditEvent.Action.DELETE,
        object_type="customers.retentionrun",
        object_id=str(run.pk),
        object_repr=str(run),
        detail={"dry_run": dry_run, "rules": report},
        actor=actor,
    )
    return run


@transaction.atomic
def retention_rule_save(
    *, actor: Any, category: str, months: int, action: str, basis: str, active: bool = True
) -> RetentionRule:
    """Create or change the rule of one data category."""
    _require(actor)
    errors: dict[str, str] = {}
    if category not in Category.values:
        errors["category"] = "Unknown data category."
    elif action not in ALLOWED_ACTIONS[category]:
        errors["action"] = (
            "This category is only "
            + " or ".join(Action(a).label.split(" (")[0].lower() for a in ALLOWED_ACTIONS[category])
            + "d, so that sales figures stay whole."
        )
    if not isinstance(months, int) or months < 1 or months > 1200:
        errors["months"] = "Give a period of 1 to 1200 months."
    if not basis.strip():
        errors["basis"] = "Say why data of this kind is kept that long (the purpose, DPP2(2))."
    if errors:
        raise ValidationError(errors)
    rule = RetentionRule.objects.filter(category=category).first()
    before = audit.snapshot(rule) if rule else None
    if rule is None:
        rule = RetentionRule(category=category)
    rule.months = months
    rule.action = action
    rule.basis = basis.strip()[:300]
    rule.active = active
    rule.full_clean()
    rule.save()
    audit.record_change(
        AuditEvent.Action.CREATE if before is None else AuditEvent.Action.UPDATE,
        rule,
        before=before,
        actor=actor,
    )
    return rule


def retention_defaults_install(*, actor: Any) -> int:
    """The default rules, for categories that have none yet (the demo seed, a new installation)."""
    made = 0
    for category, months, action, basis in DEFAULT_RULES:
        if not RetentionRule.objects.filter(category=category).exists():
            retention_rule_save(actor=actor, category=category, months=months, action=action, basis=basis)
            made += 1
    return made


def rules(*, user: Any) -> QuerySet[RetentionRule]:
    return RetentionRule.objects.restrict(user)


def runs(*, user: Any) -> QuerySet[RetentionRun]:
    return RetentionRun.objects.restrict(user).select_related("started_by")
