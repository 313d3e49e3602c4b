"""Reads of the customers package: always through ``restrict``; personal data leaves masked.

Sections are added by feature, each marked below.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone

from core import audit
from core.access import get_restricted_or_404
from core.models import AuditEvent

# --- c1: customers, orders, timeline, segments, imports ---
from customers.field_access import can_reveal
from customers.masking import PERSONAL_FIELDS, mask_customer, sees_personal_data
from customers.models import (
    BehaviourEvent,
    CategoryAffinity,
    Customer,
    CustomerMetrics,
    ImportJob,
    Order,
    OrderLine,
    Segment,
)

TIMELINE_LIMIT = 50


@dataclass(frozen=True)
class CustomerFilter:
    search: str = ""
    district: str = ""
    tier: str = ""
    segment: str = ""
    channel: str = ""


def customer_list(*, user: Any, filters: CustomerFilter | None = None) -> QuerySet[Customer]:
    """Customers USER may see (merged-away records left out), with their metrics in the same query.

    Search matches the name (English or Chinese), the source id and, for roles that see personal
    data, e-mail and phone; masked roles cannot find a person by contact details they may not see.
    """
    f = filters or CustomerFilter()
    qs = (
        Customer.objects.restrict(user)
        .filter(merged_into__isnull=True)
        .select_related("metrics")
        .order_by("family_name", "given_name", "id")
    )
    if f.search:
        term = f.search.strip()
        condition = (
            Q(given_name__icontains=term)
            | Q(family_name__icontains=term)
            | Q(chinese_name__icontains=term)
            | Q(external_id__iexact=term)
        )
        if sees_personal_data(user):
            condition |= Q(email__icontains=term) | Q(phone__icontains=term)
        qs = qs.filter(condition)
    if f.district:
        qs = qs.filter(district=f.district)
    if f.tier:
        qs = qs.filter(tier=f.tier)
    if f.segment:
        qs = qs.filter(metrics__segment=f.segment)
    if f.channel:
        qs = qs.filter(metrics__preferred_channel=f.channel)
    return qs


def customer_rows(*, user: Any, customers: Any) -> list[dict[str, Any]]:
    """A page of customers as masked rows (no query per row: metrics come with select_related)."""
    rows = []
    for customer in customers:
        row = mask_customer(user, customer)
        row["metrics"] = getattr(customer, "metrics", None) if hasattr(customer, "metrics") else None
        rows.append(row)
    return rows


def customer_districts(*, user: Any) -> list[str]:
    return list(
        Customer.objects.restrict(user)
        .exclude(district="")
        .values_list("district", flat=True)
        .distinct()
        .order_by("district")
    )


@dataclass
class Profile:
    customer: Customer
    data: dict[str, Any]
    metrics: CustomerMetrics | None
    affinities: list[CategoryAffinity]
    timeline: list[dict[str, Any]] = field(default_factory=list)
    orders_total: int = 0


def customer_get(*, user: Any, pk: int, purpose: str) -> Customer:
    """One customer USER may see; the read of their personal data is audited with PURPOSE (DPP4)."""
    customer = get_restricted_or_404(Customer, user=user, pk=pk)
    audit.record_access(
        AuditEvent.Action.READ,
        object_type="customers.customer",
        object_ids=[customer.pk],
        purpose=purpose,
        fields=PERSONAL_FIELDS if can_reveal(user) else ("given_name", "family_name", "chinese_name"),
        actor=user,
    )
    return customer


def customer_profile(*, user: Any, pk: int, purpose: str) -> Profile:
    """The profile page's data: masked details, preferences, and a timeline of the latest orders,
    behavioural events and service tickets (each source limited, merged newest first)."""
    customer = customer_get(user=user, pk=pk, purpose=purpose)
    metrics = CustomerMetrics.objects.restrict(user).filter(customer=customer).first()
    affinities = list(
        CategoryAffinity.objects.restrict(user).filter(customer=customer).order_by("-spend")[:8]
    )
    profile = Profile(customer, mask_customer(user, customer, purpose_stated=True), metrics, affinities)
    timeline: list[dict[str, Any]] = []
    if user.has_perm("customers.view_order"):
        orders = (
            Order.objects.restrict(user)
            .filter(customer=customer)
            .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("line_number")))
            .order_by("-placed_at")[:TIMELINE_LIMIT]
        )
        for order in orders:
            timeline.append({"kind": "order", "at": order.placed_at, "order": order})
        profile.orders_total = Order.objects.restrict(user).filter(customer=customer).count()
    if user.has_perm("customers.view_behaviourevent"):
        for event in (
            BehaviourEvent.objects.restrict(user)
            .filter(customer=customer)
            .order_by("-occurred_at")[:TIMELINE_LIMIT]
        ):
            timeline.append({"kind": "event", "at": event.occurred_at, "event": event})
    if user.has_perm("service.view_ticket"):
        from service.models import Ticket

        for ticket in (
            Ticket.objects.restrict(user).filter(customer=customer).order_by("-opened_at")[:TIMELINE_LIMIT]
        ):
            timeline.append({"kind": "ticket", "at": ticket.opened_at, "ticket": ticket})
    timeline.sort(key=lambda item: item["at"], reverse=True)
    profile.timeline = timeline[:TIMELINE_LIMIT]
    return profile


@dataclass(frozen=True)
class OrderFilter:
    month: date | None = None
    channel: str = ""
    category: str = ""
    status: str = ""
    customer_id: int | None = None


def order_list(*, user: Any, filters: OrderFilter | None = None) -> QuerySet[Order]:
    """Orders USER may see, newest first: the reports' drill-down (month in Hong Kong time)."""
    f = filters or OrderFilter()
    qs = Order.objects.restrict(user).select_related("customer").annotate(line_count=Count("lines"))
    if f.month:
        from customers.reports import add_months

        zone = timezone.get_default_timezone()
        start = datetime.combine(f.month, time.min, tzinfo=zone)
        end = datetime.combine(add_months(f.month, 1), time.min, tzinfo=zone)
        qs = qs.filter(placed_at__gte=start, placed_at__lt=end)
    if f.channel:
        qs = qs.filter(channel=f.channel)
    if f.category:
        qs = qs.filter(lines__category=f.category).distinct()
    if f.status:
        qs = qs.filter(status=f.status)
    if f.customer_id:
        qs = qs.filter(customer_id=f.customer_id)
    return qs.order_by("-placed_at", "-id")


def segment_list(*, user: Any) -> QuerySet[Segment]:
    return Segment.objects.restrict(user).order_by("name")


def segment_members(*, user: Any, segment: Segment) -> QuerySet[Customer]:
    """The segment's members USER may see, with their metrics."""
    return (
        Customer.objects.restrict(user)
        .filter(segment_memberships__segment=segment)
        .select_related("metrics")
        .order_by("-metrics__lifetime_value", "id")
    )


def import_job_list(*, user: Any) -> QuerySet[ImportJob]:
    return ImportJob.objects.restrict(user).order_by("-created_at", "-id")
