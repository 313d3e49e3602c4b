"""API of disclosures: whose data each outgoing exchange of the information-exchange register
carried, and where a customer's data went (DPP6, s23(1)(c)). Rules in ``customers.disclosures``."""

from __future__ import annotations

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from ninja import Field, Router, Schema
from ninja.responses import Status

from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, actor, paginate
from customers import disclosures
from customers.models import Customer
from vendors.models import DataExchange

router = Router(tags=["customer privacy"])


class DisclosureExchangeOut(Schema):
    id: int
    flow_id: int
    flow_title: str = Field(..., alias="flow.title")
    vendor_id: int = Field(..., alias="flow.vendor_id")
    vendor_name: str = Field(..., alias="flow.vendor.name")
    occurred_at: datetime
    record_count: int
    reference: str


class OutgoingDisclosureOut(DisclosureExchangeOut):
    customers_recorded: int


class DisclosureCustomersIn(InputSchema):
    customer_ids: list[ObjectId] = Field([], max_length=10_000, description="Steward customer ids.")
    external_ids: list[str] = Field(
        [], max_length=10_000, description="The source's customer ids, as in the file or feed sent."
    )


class DisclosureCustomersOut(Schema):
    exchange_id: int
    added: int
    customers_recorded: int


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied("Disclosures are for the DPO.")


@router.get(
    "/privacy/exchanges",
    response=list[OutgoingDisclosureOut],
    summary="Outgoing personal-data exchanges and how many customers are recorded for each",
)
@paginate
def exchange_list(request: HttpRequest) -> QuerySet[DataExchange]:
    _need(request, disclosures.VIEW)
    return disclosures.outgoing_exchanges(user=request.user)


@router.post(
    "/privacy/exchanges/{int:exchange_id}/customers",
    response={200: DisclosureCustomersOut},
    summary="Record which customers an outgoing exchange carried (s23(1)(c))",
)
def exchange_customers_record(
    request: HttpRequest, exchange_id: ObjectId, payload: DisclosureCustomersIn
) -> Status[dict[str, int]]:
    _need(request, disclosures.RECORD)
    exchange = get_restricted_or_404(DataExchange, user=request.user, pk=exchange_id)
    if not payload.customer_ids and not payload.external_ids:
        raise ValidationError({"customer_ids": "Give customer_ids or external_ids."})
    customers = Customer.objects.restrict(request.user).filter(
        Q(pk__in=payload.customer_ids) | Q(external_id__in=payload.external_ids)
    )
    added = disclosures.exchange_customers_record(
        actor=actor(request), exchange=exchange, customers=customers
    )
    total = disclosures.customers_recorded(exchange=exchange)
    return Status(200, {"exchange_id": exchange.pk, "added": added, "customers_recorded": total})


@router.get(
    "/{int:customer_id}/disclosures",
    response=list[DisclosureExchangeOut],
    summary="The exchanges that carried a customer's data to a vendor",
)
@paginate
def customer_disclosures(request: HttpRequest, customer_id: ObjectId) -> QuerySet[DataExchange]:
    _need(request, disclosures.VIEW)
    customer = get_restricted_or_404(Customer, user=request.user, pk=customer_id)
    return disclosures.customer_disclosures(user=request.user, customer=customer)
