"""API of sales activity (issue 7 items 1, 4, 10): customers, orders and events in (single and bulk),
import files, the Shopify order webhook, customers and orders out (masked), segments, the sales report.

Endpoints parse, call a service or selector, and render. Record bodies are checked by
``customers.importing`` (one set of rules for every way in), so the schemas here only give the
shape; a refused record is a 422 naming ``records.<n>.<field>``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, actor, paginate, problem
from customers import reports, selectors, services
from customers.masking import mask_customer
from customers.models import Channel, Customer, ImportJob, Order, Segment

router = Router(tags=["customers: sales activity"])

Id = Field(..., min_length=1, max_length=100)


def _need(request: HttpRequest, *perms: str) -> None:
    user = actor(request)
    if not all(user.has_perm(p) for p in perms):
        raise PermissionDenied


# --- Schemas ---------------------------------------------------------------------------------------


class SalesCustomerIn(InputSchema):
    external_id: str = Id
    given_name: str = ""
    family_name: str = ""
    chinese_name: str = ""
    email: str = Field("", description="Kept as given; an invalid address is flagged, not refused.")
    phone: str = Field("", description="E.164 preferred (+852…); kept as given and flagged if invalid.")
    address_line: str = ""
    district: str = ""
    country: str = "HK"
    tier: Customer.Tier = Customer.Tier.STANDARD
    first_seen_at: datetime | None = Field(None, description="ISO 8601 with a time zone.")


class SalesLineIn(InputSchema):
    sku: str = ""
    product: str
    category: str = ""
    quantity: int = Field(..., description="At least 1; returns are refunds.")
    unit_price: Decimal
    amount: Decimal | None = Field(None, description="quantity × unit_price when left out.")


class SalesOrderIn(InputSchema):
    external_id: str = Id
    customer_id: str = Field("", description="The customer's id in the same source.")
    channel: Channel = Channel.WEB
    status: Order.Status = Order.Status.PLACED
    placed_at: datetime = Field(..., description="ISO 8601 with a time zone; one without is refused.")
    currency: str = Field("HKD", description="HKD only.")
    total: Decimal | None = Field(None, description="Sum of the lines when left out.")
    refunded_amount: Decimal = Decimal(0)
    lines: list[SalesLineIn]


class SalesEventIn(InputSchema):
    external_id: str = Id
    customer_id: str = ""
    kind: Literal["view", "cart", "search"]
    occurred_at: datetime
    channel: Channel = Channel.WEB
    sku: str = ""
    category: str = ""
    query: str = ""


class SalesCustomerBatch(InputSchema):
    source: str = Field("steward", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._:\-/#@]+$")
    keep_good: bool = Field(
        False, description="False: all or nothing. True: load good records, report bad ones."
    )
    records: list[SalesCustomerIn] = Field(..., max_length=10_000)


class SalesOrderBatch(InputSchema):
    source: str = Field("steward", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._:\-/#@]+$")
    keep_good: bool = False
    records: list[SalesOrderIn] = Field(..., max_length=10_000)


class SalesEventBatch(InputSchema):
    source: str = Field("steward", min_length=1, max_length=40, pattern=r"^[A-Za-z0-9._:\-/#@]+$")
    keep_good: bool = False
    records: list[SalesEventIn] = Field(..., max_length=10_000)


class SalesRowErrorOut(Schema):
    line: int
    field: str
    message: str


class SalesLoadOut(Schema):
    received: int
    created: int
    existing: int = Field(..., description="Already present (same source id): not created again.")
    refused: int
    errors: list[SalesRowErrorOut]


class SalesMetricsOut(Schema):
    orders_count: int
    lifetime_value: Decimal
    average_basket: Decimal
    last_order_at: datetime
    preferred_channel: str
    top_category: str
    recency_score: int
    frequency_score: int
    monetary_score: int
    segment: str


class SalesCustomerOut(Schema):
    id: int
    source: str
    external_id: str
    display_name: str
    given_name: str
    family_name: str
    chinese_name: str
    email: str
    phone: str
    district: str
    country: str
    tier: str
    masked: bool
    metrics: SalesMetricsOut | None = None


class SalesLineOut(Schema):
    line_number: int
    sku: str
    product: str
    category: str
    quantity: int
    unit_price: Decimal
    amount: Decimal


class SalesOrderOut(Schema):
    id: int
    source: str
    external_id: str
    customer_id: int | None
    channel: str
    status: str
    placed_at: datetime
    total: Decimal
    refunded_amount: Decimal


class SalesImportJobOut(Schema):
    id: int
    kind: str
    file_format: str
    mode: str
    status: str
    original_name: str
    total_rows: int
    processed_rows: int
    created_rows: int
    existing_rows: int
    error_count: int
    percent: int


class SalesSegmentFilters(InputSchema):
    r_min: int | None = Field(None, ge=1, le=5)
    r_max: int | None = Field(None, ge=1, le=5)
    f_min: int | None = Field(None, ge=1, le=5)
    f_max: int | None = Field(None, ge=1, le=5)
    m_min: int | None = Field(None, ge=1, le=5)
    m_max: int | None = Field(None, ge=1, le=5)
    category: str = ""
    channel: str = ""
    district: str = ""
    tier: str = ""
    segment: str = ""
    last_order_after: date | None = None
    last_order_before: date | None = None


class SalesSegmentIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    filters: SalesSegmentFilters


class SalesSegmentChange(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=100)
    description: str | None = Field(None, max_length=2000)
    filters: SalesSegmentFilters | None = Field(
        None, description="The new filters, in full; the membership is recomputed at once."
    )


class SalesSegmentOut(Schema):
    id: int
    name: str
    description: str
    filters: dict[str, Any]
    member_count: int
    refreshed_at: datetime | None


class SalesRebuildOut(Schema):
    customers: int
    segments: int
    rollup_rows: int


class SalesWebhookOut(Schema):
    order_id: str
    duplicate: bool
    created: bool


class SalesCustomerQuery(Schema):
    q: str = Field("", max_length=100)
    district: str = Field("", max_length=60)
    tier: str = Field("", max_length=12)
    segment: str = Field("", max_length=30)


class SalesOrderQuery(Schema):
    month: date | None = Field(None, description="Any day of the month (Hong Kong time).")
    channel: str = Field("", max_length=20)
    category: str = Field("", max_length=80)
    customer: int | None = Field(None, ge=1, le=2**63 - 1)


class SalesReportQuery(Schema):
    start: date | None = Field(None, description="First month (any day of it).")
    end: date | None = Field(None, description="Last month (any day of it).")
    channel: str = Field("", max_length=20)
    category: str = Field("", max_length=80)

    def as_filter(self) -> reports.ReportFilter:
        return reports.ReportFilter(
            start=self.start, end=self.end, channel=self.channel, category=self.category
        )


class SalesExportQuery(SalesReportQuery):
    format: Literal["csv", "xlsx", "pdf"] = "csv"


class SalesPurposeQuery(Schema):
    purpose: str = Field(..., min_length=3, max_length=200, description="Why you read this customer (DPP4).")


def _load_out(result: Any) -> dict[str, Any]:
    return {
        "received": result.received,
        "created": result.created,
        "existing": result.existing,
        "refused": result.error_count,
        "errors": [e.as_dict() for e in result.errors[:1000]],
    }


def _records(items: list[Any]) -> list[dict[str, Any]]:
    return [item.model_dump(exclude_unset=True, mode="python") for item in items]


# --- Ingest --------------------------------------------------------------------------------------


@router.post("/bulk", response={200: SalesLoadOut}, summary="Load customers in bulk")
def customers_bulk(request: HttpRequest, payload: SalesCustomerBatch) -> Any:
    _need(request, "customers.add_customer")
    result = services.sales_records_load(
        actor=actor(request),
        kind="customers",
        records=_records(payload.records),
        source=payload.source,
        keep_good=payload.keep_good,
    )
    return _load_out(result)


@router.post("/", response={201: SalesLoadOut, 200: SalesLoadOut}, summary="Record one customer")
def customer_create(request: HttpRequest, payload: SalesCustomerIn, source: str = "steward") -> Any:
    _need(request, "customers.add_customer")
    result = services.sales_records_load(
        actor=actor(request), kind="customers", records=_records([payload]), source=source, field_prefix=""
    )
    return Status(201 if result.created else 200, _load_out(result))


@router.post("/orders/bulk", response={200: SalesLoadOut}, summary="Load orders with their lines in bulk")
def orders_bulk(request: HttpRequest, payload: SalesOrderBatch) -> Any:
    _need(request, "customers.add_order")
    result = services.sales_records_load(
        actor=actor(request),
        kind="orders",
        records=_records(payload.records),
        source=payload.source,
        keep_good=payload.keep_good,
    )
    return _load_out(result)


@router.post("/orders", response={201: SalesLoadOut, 200: SalesLoadOut}, summary="Record one order")
def order_create(request: HttpRequest, payload: SalesOrderIn, source: str = "steward") -> Any:
    _need(request, "customers.add_order")
    result = services.sales_records_load(
        actor=actor(request), kind="orders", records=_records([payload]), source=source, field_prefix=""
    )
    return Status(201 if result.created else 200, _load_out(result))


@router.post("/events/bulk", response={200: SalesLoadOut}, summary="Load behavioural events in bulk")
def events_bulk(request: HttpRequest, payload: SalesEventBatch) -> Any:
    _need(request, "customers.add_behaviourevent")
    result = services.sales_records_load(
        actor=actor(request),
        kind="events",
        records=_records(payload.records),
        source=payload.source,
        keep_good=payload.keep_good,
    )
    return _load_out(result)


@router.post("/imports", response={202: SalesImportJobOut}, summary="Upload an NDJSON or CSV file to load")
def import_upload(
    request: HttpRequest,
    kind: Form[Literal["customers", "orders", "events"]],
    file: File[UploadedFile],
    mode: Form[Literal["all_or_nothing", "keep_good"]] = "all_or_nothing",
    source: Form[str] = "steward",
) -> Any:
    _need(request, "customers.add_importjob")
    job = services.import_job_create(actor=actor(request), upload=file, kind=kind, mode=mode, source=source)
    job.refresh_from_db()
    return Status(202, job)


@router.get("/imports/{job_id}", response=SalesImportJobOut, summary="An import's progress")
def import_get(request: HttpRequest, job_id: ObjectId) -> Any:
    return get_restricted_or_404(ImportJob, user=actor(request), pk=job_id)


@router.get("/imports/{job_id}/errors", response=list[SalesRowErrorOut], summary="An import's error report")
def import_errors(request: HttpRequest, job_id: ObjectId) -> Any:
    return get_restricted_or_404(ImportJob, user=actor(request), pk=job_id).errors


@router.post(
    "/webhooks/shopify/orders",
    auth=None,
    response={200: SalesWebhookOut},
    summary="Shopify order webhook (orders/create, orders/updated)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"type": "object", "description": "Shopify's order"}}},
        }
    },
    description="Authenticated by X-Shopify-Hmac-Sha256: the base64 HMAC-SHA256 of the raw body with the "
    "shared secret. A delivery (X-Shopify-Webhook-Id) or order id seen before creates nothing new.",
)
def shopify_orders(request: HttpRequest) -> Any:
    try:
        outcome = services.shopify_order_receive(
            body=request.body,
            signature=request.headers.get("X-Shopify-Hmac-Sha256"),
            webhook_id=request.headers.get("X-Shopify-Webhook-Id", ""),
            topic=request.headers.get("X-Shopify-Topic", "orders/create"),
        )
    except services.WebhookUnauthorised:
        return problem(
            request,
            401,
            "The X-Shopify-Hmac-Sha256 signature does not match the body.",
            kind="bad-signature",
        )
    return {"order_id": outcome.order_external_id, "duplicate": outcome.duplicate, "created": outcome.created}


# --- Customers and orders out ------------------------------------------------------------------


def _customer_out(user: Any, customer: Customer, *, purpose_stated: bool = False) -> dict[str, Any]:
    data = mask_customer(user, customer, purpose_stated=purpose_stated)
    data["metrics"] = getattr(customer, "metrics", None) if hasattr(customer, "metrics") else None
    return data


@router.get(
    "/", response=list[SalesCustomerOut], summary="Customers you may see (contact details masked per role)"
)
@paginate
def customer_list(request: HttpRequest, filters: Query[SalesCustomerQuery]) -> Any:
    user = actor(request)
    customers = selectors.customer_list(
        user=user,
        filters=selectors.CustomerFilter(
            search=filters.q, district=filters.district, tier=filters.tier, segment=filters.segment
        ),
    )
    return _MaskedPage(user, customers)


class _MaskedPage:
    """A queryset whose slices come out masked: pagination slices, then each row is masked."""

    def __init__(self, user: Any, queryset: Any) -> None:
        self.user = user
        self.queryset = queryset

    def count(self) -> int:
        return int(self.queryset.count())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, item: slice) -> list[dict[str, Any]]:
        return [_customer_out(self.user, c) for c in self.queryset[item]]


@router.get("/orders", response=list[SalesOrderOut], summary="Orders you may see (drill-down filters)")
@paginate
def order_list(request: HttpRequest, filters: Query[SalesOrderQuery]) -> Any:
    _need(request, "customers.view_order")
    month = filters.month.replace(day=1) if filters.month else None
    return selectors.order_list(
        user=actor(request),
        filters=selectors.OrderFilter(
            month=month, channel=filters.channel, category=filters.category, customer_id=filters.customer
        ),
    )


@router.get("/orders/{order_id}/lines", response=list[SalesLineOut], summary="An order's lines")
def order_lines(request: HttpRequest, order_id: ObjectId) -> Any:
    order = get_restricted_or_404(Order, user=actor(request), pk=order_id)
    return order.lines.order_by("line_number")


# --- Segments, metrics, report ---------------------------------------------------------------------


@router.get("/segments", response=list[SalesSegmentOut], summary="Named segments")
@paginate
def segment_list(request: HttpRequest) -> Any:
    return selectors.segment_list(user=actor(request))


@router.post("/segments", response={201: SalesSegmentOut}, summary="Create a segment from filters")
def segment_create(request: HttpRequest, payload: SalesSegmentIn) -> Any:
    _need(request, "customers.add_segment")
    filters = payload.filters.model_dump(exclude_none=True, mode="json")
    segment = services.segment_create(
        actor=actor(request), name=payload.name, description=payload.description, filters=filters
    )
    return Status(201, segment)


@router.patch(
    "/segments/{segment_id}", response=SalesSegmentOut, summary="Change a segment's name or filters"
)
def segment_update(request: HttpRequest, segment_id: ObjectId, payload: SalesSegmentChange) -> Any:
    user = actor(request)
    segment = get_restricted_or_404(Segment, user=user, pk=segment_id)
    _need(request, "customers.change_segment")
    filters = payload.filters.model_dump(exclude_none=True, mode="json") if payload.filters else None
    return services.segment_update(
        actor=user, segment=segment, name=payload.name, description=payload.description, filters=filters
    )


@router.post(
    "/segments/{segment_id}/refresh", response=SalesSegmentOut, summary="Recompute a segment's members now"
)
def segment_refresh(request: HttpRequest, segment_id: ObjectId) -> Any:
    user = actor(request)
    segment = get_restricted_or_404(Segment, user=user, pk=segment_id)
    _need(request, "customers.change_segment")
    return services.segment_refresh(actor=user, segment=segment)


@router.get(
    "/segments/{segment_id}/members", response=list[SalesCustomerOut], summary="A segment's members (masked)"
)
@paginate
def segment_members(request: HttpRequest, segment_id: ObjectId) -> Any:
    user = actor(request)
    segment = get_restricted_or_404(Segment, user=user, pk=segment_id)
    return _MaskedPage(user, selectors.segment_members(user=user, segment=segment))


@router.post(
    "/metrics/rebuild", response=SalesRebuildOut, summary="Rebuild preferences, RFM, segments and rollups"
)
def metrics_rebuild(request: HttpRequest) -> Any:
    _need(request, "customers.change_customermetrics")
    return services.customer_metrics_rebuild(actor=actor(request))


class SalesReportMonth(Schema):
    month: date
    orders: int
    revenue: Decimal
    refunds: Decimal
    net: Decimal
    customers: int
    new: int
    returning: int


class SalesReportGroup(Schema):
    orders: int
    revenue: Decimal
    refunds: Decimal
    net: Decimal
    channel: str | None = None
    category: str | None = None


class SalesReportOut(Schema):
    start: date
    end: date
    monthly: list[SalesReportMonth]
    by_channel: list[SalesReportGroup]
    by_category: list[SalesReportGroup]
    cohorts: list[dict[str, Any]]
    movements: list[dict[str, Any]]
    top_customers: list[dict[str, Any]]


@router.get("/reports/sales", response=SalesReportOut, summary="Sales report (from the monthly rollups)")
def sales_report(request: HttpRequest, filters: Query[SalesReportQuery]) -> Any:
    return reports.sales_report(user=actor(request), filters=filters.as_filter())


@router.get("/reports/sales/export", summary="Sales report as CSV, XLSX or PDF", response={200: None})
def sales_report_export(request: HttpRequest, filters: Query[SalesExportQuery]) -> HttpResponse:
    fmt = filters.format
    body, content_type, name = reports.report_export(
        user=actor(request), filters=filters.as_filter(), fmt=fmt
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@router.get(
    "/{customer_id}", response=SalesCustomerOut, summary="One customer (the read is audited with its purpose)"
)
def customer_get(request: HttpRequest, customer_id: ObjectId, why: Query[SalesPurposeQuery]) -> Any:
    user = actor(request)
    customer = selectors.customer_get(user=user, pk=customer_id, purpose=why.purpose)
    return _customer_out(user, customer, purpose_stated=True)
