"""Disclosures of customers' personal data to third parties, customer by customer.

The information-exchange register (``vendors.DataFlow`` lines and ``vendors.DataExchange``
batches) says *that* a vendor received a batch; ``customers.ExchangeCustomer`` says *whose* data
the batch carried. A correction is then passed only to the third parties that received this
customer's data in the previous 12 months (DPP6, PDPO s23(1)(c)), and the DPO can show a customer
where their data went.

Two ways in: a marketing export handed to a vendor logs its exchange and its customers itself
(:func:`exchange_log_with_customers`, called by ``customers.marketing.marketing_export``), and the
DPO records the customers of an exchange logged in the register by hand (an SFTP file, an API
feed): :func:`exchange_customers_record`, set-based (``INSERT … SELECT``), however many customers.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, F, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from customers.models import Customer, ExchangeCustomer
from customers.sqlbulk import insert_rows
from vendors.models import DataExchange, DataFlow

RECORD = "customers.add_exchangecustomer"
VIEW = "customers.view_exchangecustomer"


def _require(actor: Any, perm: str, message: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


def _check_outgoing(flow: DataFlow, field: str) -> None:
    if flow.direction != DataFlow.Direction.TO_VENDOR:
        raise ValidationError({field: "This register line is data the vendor sends to us, not a disclosure."})
    if not flow.personal_data:
        raise ValidationError({field: "This register line carries no personal data."})


def _insert_from(exchange_id: int, customers: QuerySet[Customer]) -> int:
    """One ``INSERT … SELECT`` of CUSTOMERS into the exchange's lines; already recorded ones are
    skipped (``ON CONFLICT DO NOTHING``, PostgreSQL and SQLite alike; SQLite needs a ``WHERE``
    before it to parse an upsert after a ``SELECT``). Returns the rows added."""
    select_sql, params = customers.order_by().values(cid=F("pk")).query.sql_with_params()
    quote = connection.ops.quote_name
    table = quote(ExchangeCustomer._meta.db_table)
    sql = (
        f"INSERT INTO {table} ({quote('exchange_id')}, {quote('customer_id')}) "  # noqa: S608 (names from the model)
        f"SELECT %s, picked.cid FROM ({select_sql}) picked WHERE 1 = 1 ON CONFLICT DO NOTHING"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [exchange_id, *params])
        return max(int(cursor.rowcount), 0)


@transaction.atomic
def exchange_customers_record(*, actor: Any, exchange: DataExchange, customers: QuerySet[Customer]) -> int:
    """Record which customers an outgoing personal-data exchange carried (s23(1)(c)); returns how
    many were added. Recording the same customers again adds nothing. CUSTOMERS should come
    through ``restrict`` (``customers.selection.customer_selection``)."""
    _require(actor, RECORD, "Recording whose data went to a vendor is for the DPO.")
    _check_outgoing(exchange.flow, "exchange")
    if not customers.exists():
        raise ValidationError({"customer_ids": "No customer matches; nothing was recorded."})
    added = _insert_from(exchange.pk, customers)
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type=audit.object_type_of(exchange),
        object_id=str(exchange.pk),
        object_repr=str(exchange),
        detail={"customers_recorded": added},
        actor=actor,
    )
    return added


def exchange_log_with_customers(
    *,
    actor: Any,
    flow: DataFlow,
    customer_ids: Sequence[int],
    reference: str,
    occurred_at: datetime | None = None,
) -> DataExchange:
    """Log an exchange under FLOW (an active, outgoing personal-data register line) together with
    the customers it carried. Called inside the transaction of the export that hands the data over;
    the export's own permission applies."""
    _check_outgoing(flow, "data_flow_id")
    if not flow.active:
        raise ValidationError(
            {"data_flow_id": "This exchange is no longer in the register; nothing may be sent under it."}
        )
    exchange = DataExchange.objects.create(
        flow=flow,
        occurred_at=occurred_at or timezone.now(),
        record_count=len(customer_ids),
        reference=reference[:200],
        logged_by=actor,
    )
    audit.record_change(AuditEvent.Action.CREATE, exchange, actor=actor)
    insert_rows(ExchangeCustomer, ["exchange", "customer"], ((exchange.pk, i) for i in customer_ids))
    return exchange


def outgoing_exchanges(*, user: Any) -> QuerySet[DataExchange]:
    """Outgoing personal-data exchanges, latest first, each with how many customers are recorded
    for it (a count in SQL, one query for the page)."""
    _require(user, VIEW, "Disclosures are for the DPO.")
    recorded = (
        ExchangeCustomer.objects.filter(exchange=OuterRef("pk"))
        .order_by()
        .values("exchange")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return (
        DataExchange.objects.restrict(user)
        .filter(flow__direction=DataFlow.Direction.TO_VENDOR, flow__personal_data=True)
        .select_related("flow__vendor")
        .annotate(customers_recorded=Coalesce(Subquery(recorded), 0))
        .order_by("-occurred_at", "-id")
    )


def customers_recorded(*, exchange: DataExchange) -> int:
    """How many customers are recorded for EXCHANGE."""
    return ExchangeCustomer.objects.filter(exchange=exchange).count()


def customer_disclosures(*, user: Any, customer: Customer) -> QuerySet[DataExchange]:
    """The exchanges that carried CUSTOMER's data to a vendor, latest first."""
    _require(user, VIEW, "Disclosures are for the DPO.")
    return (
        DataExchange.objects.restrict(user)
        .filter(Exists(ExchangeCustomer.objects.filter(exchange=OuterRef("pk"), customer=customer)))
        .select_related("flow__vendor")
        .order_by("-occurred_at", "-id")
    )
