"""Who may be sent direct marketing (PDPO Part 6A). Every marketing export and send goes through
:func:`marketable`; nothing else decides it.

A customer is marketable on a channel for a purpose (and, when the data goes to a third party,
for that transferee) when all of these hold:

- the record is live (not merged into another, not anonymised);
- no opt-out is in force on that channel or on all channels (s35G; effective the moment it is
  recorded);
- the latest consent-ledger entry for customer × purpose × kind of data × channel × transferee is
  a grant (a withdrawal is a newer entry, so it wins at once); silence is never consent, so no
  entry means no; for a transfer the grant must have been written (s35K);
- or, with no ledger entry at all and no transferee, the customer's data was used for that
  purpose before 1 April 2013 (the s35D transitional rule), which an opt-out still overrides;
- the customer has the contact point the channel needs.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from customers.models import (
    ConsentEntry,
    Customer,
    DataKind,
    MarketingChannel,
    MarketingPurpose,
    MarketingState,
    Suppression,
    SuppressionChannel,
    Transferee,
)

# The customer field each channel reaches the customer through.
CONTACT_FIELD = {
    MarketingChannel.EMAIL: "email",
    MarketingChannel.SMS: "phone",
    MarketingChannel.PHONE: "phone",
    MarketingChannel.POST: "address_line",
}


def _channel(channel: str) -> MarketingChannel:
    try:
        return MarketingChannel(channel)
    except ValueError:
        raise ValueError(f"unknown marketing channel {channel!r}") from None


def latest_entries(
    *, purpose: MarketingPurpose, channel: str, transferee: Transferee | None, data_kind: str
) -> QuerySet[ConsentEntry]:
    """The ledger entries of one key for the customer in ``OuterRef("pk")``, newest first."""
    entries = ConsentEntry.objects.filter(
        customer_id=OuterRef("pk"), purpose=purpose, channel=channel, data_kind=data_kind
    )
    if transferee is None:
        entries = entries.filter(transferee__isnull=True)
    else:
        entries = entries.filter(transferee=transferee)
    return entries.order_by("-occurred_at", "-id")


def active_suppression(channel: str) -> QuerySet[Suppression]:
    """Opt-outs in force for the customer in ``OuterRef("pk")`` on CHANNEL (or on all channels)."""
    return Suppression.objects.filter(
        customer_id=OuterRef("pk"),
        channel__in=[channel, SuppressionChannel.ALL],
        lifted_at__isnull=True,
    )


def marketable(
    customers_qs: QuerySet[Customer],
    *,
    channel: str,
    purpose: MarketingPurpose,
    transferee: Transferee | None = None,
    data_kind: str = DataKind.CONTACT,
) -> QuerySet[Customer]:
    """CUSTOMERS_QS narrowed to those who may be sent direct marketing (see the module docstring).

    One query, whatever the number of customers: the latest ledger entry is a correlated subquery
    and the opt-out check an ``EXISTS``.
    """
    marketing_channel = _channel(channel)
    latest = latest_entries(
        purpose=purpose, channel=marketing_channel, transferee=transferee, data_kind=data_kind
    )
    consented: Any = Q(_consent_action=ConsentEntry.Action.GRANT)
    annotations: dict[str, Any] = {"_consent_action": Subquery(latest.values("action")[:1])}
    if transferee is not None:
        # Only a transfer needs to know how the consent was given (in writing, s35K).
        annotations["_consent_method"] = Subquery(latest.values("method")[:1])
        consented &= Q(_consent_method=ConsentEntry.Method.WRITTEN)
    else:
        transitional = MarketingState.objects.filter(
            customer_id=OuterRef("pk"), pre_2013_data=True, pre_2013_purposes=purpose
        )
        consented |= Q(_consent_action__isnull=True) & Exists(transitional)
    contact = CONTACT_FIELD[marketing_channel]
    return (
        customers_qs.filter(merged_into__isnull=True, anonymised_at__isnull=True)
        .exclude(**{contact: ""})
        .annotate(**annotations)
        .filter(consented)
        .exclude(Exists(active_suppression(marketing_channel)))
    )


def consent_state(*, customer: Customer) -> list[dict[str, Any]]:
    """The current state of every ledger key the customer has, latest entry first per key."""
    seen: dict[tuple[Any, ...], dict[str, Any]] = {}
    for entry in ConsentEntry.objects.filter(customer=customer).select_related("purpose", "transferee"):
        key = (entry.purpose_id, entry.data_kind, entry.channel, entry.transferee_id)
        if key not in seen:
            seen[key] = {"entry": entry, "granted": entry.action == ConsentEntry.Action.GRANT}
    return list(seen.values())


def is_suppressed(*, customer: Customer, channel: str) -> bool:
    return Suppression.objects.filter(
        customer=customer, channel__in=[channel, SuppressionChannel.ALL], lifted_at__isnull=True
    ).exists()
