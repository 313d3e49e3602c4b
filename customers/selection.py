"""Which customers a marketing list starts from: ids, or a simple filter, always through ``restrict``.
(Named segments, when they exist, narrow the same queryset.) Consent is checked afterwards by
``customers.consent.marketable``, never here."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from customers.models import Customer

MAX_IDS = 10_000


def customer_selection(
    *, user: Any, customer_ids: list[int] | None = None, tier: str = "", district: str = ""
) -> QuerySet[Customer]:
    """Customers USER may see, narrowed to CUSTOMER_IDS and/or TIER and DISTRICT (all when none given)."""
    customers = Customer.objects.restrict(user)
    if customer_ids:
        if len(customer_ids) > MAX_IDS:
            raise ValidationError({"customer_ids": f"At most {MAX_IDS} ids; use a filter for more."})
        customers = customers.filter(pk__in=customer_ids)
    if tier:
        if tier not in Customer.Tier.values:
            raise ValidationError({"tier": "Unknown tier."})
        customers = customers.filter(tier=tier)
    if district:
        customers = customers.filter(district__iexact=district.strip())
    return customers
