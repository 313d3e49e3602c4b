"""API of customer privacy: collection statements and forms, the HKID policy, the consent ledger and
opt-out list, marketing exports and sends, field-level access with reveal-on-purpose, the access log
and its alerts, and the processor register (PDPO DPP1-4, Part 6A).

Endpoints only parse, fetch through ``restrict`` and call the services in ``customers.collection``,
``customers.marketing``, ``customers.field_access``, ``customers.access_log`` and
``customers.processors``; the rules live there.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, UtcDateTime, actor, paginate
from customers import access_log, collection, field_access, files, marketing, processors
from customers.models import (
    AccessAlert,
    ChecklistItem,
    CollectedField,
    CollectionChannel,
    CollectionForm,
    CollectionPolicy,
    CollectionRecord,
    CollectionStatement,
    ConsentEntry,
    Customer,
    CustomerAccess,
    DataKind,
    MarketingChannel,
    MarketingExport,
    MarketingPurpose,
    MarketingState,
    ModelClauses,
    Processor,
    ProcessorCheck,
    Suppression,
    SuppressionChannel,
    Transferee,
    TransfereeNotice,
)
from customers.selection import customer_selection
from vendors.models import DataFlow, Vendor

router = Router(tags=["customer privacy"])

Text = Field(..., min_length=1, max_length=4000)


def _customer(request: HttpRequest, customer_id: int) -> Customer:
    return get_restricted_or_404(Customer, user=request.user, pk=customer_id)


# --- Collection (DPP1) ----------------------------------------------------------------------------


class PdpItemIn(InputSchema):
    field: CollectedField
    obligatory: bool
    consequence: str = Field("", max_length=300)


class StatementIn(InputSchema):
    title: str = Field(..., min_length=1, max_length=200)
    purposes: str = Text
    transferee_classes: str = Text
    items: list[PdpItemIn] = Field(..., min_length=1, max_length=20)
    access_contact: str = Text
    direct_marketing: str = Field("", max_length=4000)


class StatementPatch(InputSchema):
    title: str | None = Field(None, min_length=1, max_length=200)
    purposes: str | None = Field(None, min_length=1, max_length=4000)
    transferee_classes: str | None = Field(None, min_length=1, max_length=4000)
    items: list[PdpItemIn] | None = Field(None, min_length=1, max_length=20)
    access_contact: str | None = Field(None, min_length=1, max_length=4000)
    direct_marketing: str | None = Field(None, max_length=4000)


class StatementOut(Schema):
    id: int
    version: int
    title: str
    status: CollectionStatement.Status
    purposes: str
    transferee_classes: str
    items: list[dict[str, Any]]
    direct_marketing: str
    access_contact: str
    published_at: datetime | None


def _statement(request: HttpRequest, pk: int, action: str = "view") -> CollectionStatement:
    return get_restricted_or_404(CollectionStatement, user=request.user, action=action, pk=pk)


@router.get(
    "/privacy/statements", response=list[StatementOut], summary="Collection statements (PICS), newest first"
)
@paginate
def statement_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return CollectionStatement.objects.restrict(request.user).order_by("-version")


@router.post("/privacy/statements", response={201: StatementOut}, summary="Draft a new PICS version")
def statement_create(request: HttpRequest, payload: StatementIn) -> Status[CollectionStatement]:
    data = payload.dict()
    return Status(201, collection.statement_create(actor=actor(request), **data))


@router.get("/privacy/statements/{statement_id}", response=StatementOut, summary="One PICS version")
def statement_get(request: HttpRequest, statement_id: ObjectId) -> CollectionStatement:
    return _statement(request, statement_id)


@router.patch("/privacy/statements/{statement_id}", response=StatementOut, summary="Change a draft")
def statement_update(
    request: HttpRequest, statement_id: ObjectId, payload: StatementPatch
) -> CollectionStatement:
    statement = _statement(request, statement_id, "change")
    fields = payload.dict(exclude_unset=True, exclude_none=True)
    return collection.statement_update(actor=actor(request), statement=statement, **fields)


@router.post(
    "/privacy/statements/{statement_id}/publish",
    response=StatementOut,
    summary="Publish (then never changed)",
)
def statement_publish(request: HttpRequest, statement_id: ObjectId) -> CollectionStatement:
    statement = _statement(request, statement_id, "change")
    return collection.statement_publish(actor=actor(request), statement=statement)


@router.post(
    "/privacy/statements/{statement_id}/new-version",
    response={201: StatementOut},
    summary="A new draft copied from this version",
)
def statement_new_version(request: HttpRequest, statement_id: ObjectId) -> Status[CollectionStatement]:
    statement = _statement(request, statement_id)
    return Status(201, collection.statement_new_version(actor=actor(request), statement=statement))


class PdpFormFieldIn(InputSchema):
    field: CollectedField
    obligatory: bool


class PdpFormIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    channel: CollectionChannel
    statement_id: ObjectId
    fields: list[PdpFormFieldIn] = Field(..., min_length=1, max_length=20)


class PdpFormOut(Schema):
    id: int
    name: str
    channel: CollectionChannel
    statement_id: int
    fields: list[dict[str, Any]]
    active: bool


@router.get("/privacy/forms", response=list[PdpFormOut], summary="Collection forms")
@paginate
def form_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return CollectionForm.objects.restrict(request.user).order_by("name", "id")


@router.post(
    "/privacy/forms", response={201: PdpFormOut}, summary="Add a collection form under a published PICS"
)
def form_create(request: HttpRequest, payload: PdpFormIn) -> Status[CollectionForm]:
    statement = _statement(request, payload.statement_id)
    form = collection.form_create(
        actor=actor(request),
        name=payload.name,
        channel=payload.channel,
        statement=statement,
        fields=[f.dict() for f in payload.fields],
    )
    return Status(201, form)


class PdpPolicyIn(InputSchema):
    hkid_enabled: bool
    legal_basis: str = Field("", max_length=500)


class PdpPolicyOut(Schema):
    hkid_enabled: bool
    legal_basis: str
    created_at: datetime | None


@router.get("/privacy/collection-policy", response=PdpPolicyOut, summary="Whether HKID numbers are collected")
def policy_get(request: HttpRequest) -> Any:
    if not request.user.has_perm("customers.view_collectionpolicy"):
        raise PermissionDenied("The collection policy is the DPO's.")
    return collection.current_policy() or {"hkid_enabled": False, "legal_basis": "", "created_at": None}


@router.post(
    "/privacy/collection-policy", response={201: PdpPolicyOut}, summary="Switch HKID collection on or off"
)
def policy_set(request: HttpRequest, payload: PdpPolicyIn) -> Status[CollectionPolicy]:
    return Status(201, collection.collection_policy_set(actor=actor(request), **payload.dict()))


class CollectionIn(InputSchema):
    form_id: ObjectId
    supplied: list[CollectedField] = Field(..., max_length=20)
    collected_at: UtcDateTime | None = None
    hkid: str = Field("", max_length=20)


class CollectionOut(Schema):
    id: int
    customer_id: int
    form_id: int | None
    statement_id: int
    statement_version: int = Field(..., alias="statement.version")
    channel: CollectionChannel
    collected_at: datetime
    supplied: list[str]


@router.get(
    "/{int:customer_id}/collections",
    response=list[CollectionOut],
    summary="How a customer's data was collected",
)
def collection_list(request: HttpRequest, customer_id: ObjectId) -> Any:
    customer = _customer(request, customer_id)
    return (
        CollectionRecord.objects.restrict(request.user).filter(customer=customer).select_related("statement")
    )


@router.post("/{int:customer_id}/collections", response={201: CollectionOut}, summary="Record a collection")
def collection_create(
    request: HttpRequest, customer_id: ObjectId, payload: CollectionIn
) -> Status[CollectionRecord]:
    customer = _customer(request, customer_id)
    form = get_restricted_or_404(CollectionForm, user=request.user, pk=payload.form_id)
    record = collection.collection_record(
        actor=actor(request),
        customer=customer,
        form=form,
        supplied=[str(s) for s in payload.supplied],
        collected_at=payload.collected_at,
        hkid=payload.hkid,
    )
    return Status(201, record)


# --- Consent and direct marketing (Part 6A) -------------------------------------------------------


class PurposeIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=40, pattern=r"^[-a-z0-9_]+$")
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=4000)


class PurposeOut(Schema):
    id: int
    code: str
    name: str
    description: str
    active: bool


@router.get("/privacy/purposes", response=list[PurposeOut], summary="The marketing purpose register")
@paginate
def purpose_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return MarketingPurpose.objects.restrict(request.user)


@router.post("/privacy/purposes", response={201: PurposeOut}, summary="Add a marketing purpose")
def purpose_create(request: HttpRequest, payload: PurposeIn) -> Status[MarketingPurpose]:
    return Status(201, marketing.purpose_create(actor=actor(request), **payload.dict()))


class TransfereeIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    transferee_class: str = Field(..., min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    postal_address: str = Field("", max_length=1000)
    vendor_id: ObjectId | None = None


class TransfereeOut(Schema):
    id: int
    name: str
    transferee_class: str
    email: str
    postal_address: str
    vendor_id: int | None


@router.get(
    "/privacy/transferees",
    response=list[TransfereeOut],
    summary="Third parties that receive data for marketing",
)
@paginate
def transferee_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return Transferee.objects.restrict(request.user)


@router.post("/privacy/transferees", response={201: TransfereeOut}, summary="Register a third party")
def transferee_create(request: HttpRequest, payload: TransfereeIn) -> Status[Transferee]:
    data = payload.dict()
    vendor_id = data.pop("vendor_id")
    vendor = None if vendor_id is None else get_restricted_or_404(Vendor, user=request.user, pk=vendor_id)
    return Status(201, marketing.transferee_create(actor=actor(request), vendor=vendor, **data))


def _purpose(request: HttpRequest, pk: int) -> MarketingPurpose:
    return get_restricted_or_404(MarketingPurpose, user=request.user, pk=pk)


def _transferee(request: HttpRequest, pk: int | None) -> Transferee | None:
    return None if pk is None else get_restricted_or_404(Transferee, user=request.user, pk=pk)


def _data_flow(request: HttpRequest, pk: int | None) -> DataFlow | None:
    """A register line of a vendor behind a transferee the user may export to (marketing staff do
    not read the vendor register itself)."""
    if pk is None:
        return None
    flow = marketing.export_flows(user=request.user).filter(pk=pk).first()
    if flow is None:
        raise Http404
    return flow


class ConsentIn(InputSchema):
    purpose_id: ObjectId
    channel: MarketingChannel
    data_kind: DataKind = DataKind.CONTACT
    method: Literal["online_tick", "written", "verbal_recorded", "no_objection"]
    notice_text: str = Field(..., min_length=1, max_length=8000)
    source: str = Field(..., min_length=1, max_length=200)
    transferee_id: ObjectId | None = None
    for_gain: bool = False
    statement_id: ObjectId | None = None
    evidence: str = Field("", max_length=300)
    occurred_at: UtcDateTime | None = None


class WithdrawIn(InputSchema):
    purpose_id: ObjectId
    channel: MarketingChannel
    data_kind: DataKind = DataKind.CONTACT
    source: str = Field(..., min_length=1, max_length=200)
    method: ConsentEntry.Method = ConsentEntry.Method.OPT_OUT
    transferee_id: ObjectId | None = None


class ConsentOut(Schema):
    id: int
    customer_id: int
    purpose_id: int
    data_kind: DataKind
    channel: MarketingChannel
    transferee_id: int | None
    for_gain: bool
    action: ConsentEntry.Action
    method: ConsentEntry.Method
    notice_text: str
    statement_id: int | None
    occurred_at: datetime
    source: str
    evidence: str


@router.get(
    "/{int:customer_id}/consents",
    response=list[ConsentOut],
    summary="A customer's consent ledger, newest first",
)
@paginate
def consent_list(request: HttpRequest, customer_id: ObjectId):  # type: ignore[no-untyped-def]
    customer = _customer(request, customer_id)
    return (
        ConsentEntry.objects.restrict(request.user).filter(customer=customer).order_by("-occurred_at", "-id")
    )


@router.post("/{int:customer_id}/consents", response={201: ConsentOut}, summary="Record a consent")
def consent_grant(request: HttpRequest, customer_id: ObjectId, payload: ConsentIn) -> Status[ConsentEntry]:
    customer = _customer(request, customer_id)
    data = payload.dict()
    statement_id = data.pop("statement_id")
    entry = marketing.consent_grant(
        actor=actor(request),
        customer=customer,
        purpose=_purpose(request, data.pop("purpose_id")),
        transferee=_transferee(request, data.pop("transferee_id")),
        statement=None if statement_id is None else _statement(request, statement_id),
        **data,
    )
    return Status(201, entry)


@router.post("/{int:customer_id}/consents/withdraw", response={201: ConsentOut}, summary="Withdraw a consent")
def consent_withdraw(
    request: HttpRequest, customer_id: ObjectId, payload: WithdrawIn
) -> Status[ConsentEntry]:
    customer = _customer(request, customer_id)
    data = payload.dict()
    entry = marketing.consent_withdraw(
        actor=actor(request),
        customer=customer,
        purpose=_purpose(request, data.pop("purpose_id")),
        transferee=_transferee(request, data.pop("transferee_id")),
        **data,
    )
    return Status(201, entry)


class OptOutIn(InputSchema):
    channel: SuppressionChannel
    source: str = Field(..., min_length=1, max_length=200)
    note: str = Field("", max_length=500)


class SuppressionOut(Schema):
    id: int
    customer_id: int
    channel: SuppressionChannel
    occurred_at: datetime
    source: str
    note: str
    lifted_at: datetime | None


class OptOutOut(Schema):
    suppression: SuppressionOut
    created: bool
    withdrawn: int
    notices: int


@router.post(
    "/{int:customer_id}/opt-outs",
    response={201: OptOutOut, 200: OptOutOut},
    summary="Record an opt-out (s35G)",
)
def opt_out(request: HttpRequest, customer_id: ObjectId, payload: OptOutIn) -> Status[marketing.OptOut]:
    customer = _customer(request, customer_id)
    result = marketing.opt_out(actor=actor(request), customer=customer, **payload.dict())
    return Status(201 if result.created else 200, result)


class PhoneOptOutIn(InputSchema):
    channel: SuppressionChannel = SuppressionChannel.ALL
    note: str = Field("", max_length=500)


class PhoneOptOutOut(Schema):
    """Only what the agent needs to tell the caller: which channel, since when, new or not."""

    customer_id: int
    channel: SuppressionChannel
    in_force_since: datetime
    created: bool


@router.post(
    "/{int:customer_id}/call-opt-outs",
    response={201: PhoneOptOutOut, 200: PhoneOptOutOut},
    summary="Record an opt-out given on a call (s35G)",
)
def phone_opt_out(
    request: HttpRequest, customer_id: ObjectId, payload: PhoneOptOutIn
) -> Status[dict[str, Any]]:
    if not request.user.has_perm("customers.record_phone_opt_out"):
        raise PermissionDenied("Recording an opt-out from a call needs the customer-service agent role.")
    customer = _customer(request, customer_id)
    result = marketing.opt_out_on_call(actor=actor(request), customer=customer, **payload.dict())
    body = {
        "customer_id": customer.pk,
        "channel": result.suppression.channel,
        "in_force_since": result.suppression.occurred_at,
        "created": result.created,
    }
    return Status(201 if result.created else 200, body)


class SuppressionQuery(Schema):
    channel: SuppressionChannel | None = None
    active: bool | None = None


@router.get("/privacy/opt-outs", response=list[SuppressionOut], summary="The opt-out list")
@paginate
def suppression_list(request: HttpRequest, filters: Query[SuppressionQuery]):  # type: ignore[no-untyped-def]
    rows = Suppression.objects.restrict(request.user)
    if filters.channel:
        rows = rows.filter(channel=filters.channel)
    if filters.active is not None:
        rows = rows.filter(lifted_at__isnull=filters.active)
    return rows.order_by("-occurred_at", "-id")


class PdpNoticeOut(Schema):
    id: int
    suppression_id: int
    transferee_id: int
    transferee_name: str = Field(..., alias="transferee.name")
    sent_at: datetime | None
    sent_via: str


class PdpNoticeSendIn(InputSchema):
    via: TransfereeNotice.Via


def _notice(request: HttpRequest, pk: int, action: str = "view") -> TransfereeNotice:
    return get_restricted_or_404(TransfereeNotice, user=request.user, action=action, pk=pk)


@router.get(
    "/privacy/transferee-notices", response=list[PdpNoticeOut], summary="Opt-out notices to third parties"
)
@paginate
def notice_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return (
        TransfereeNotice.objects.restrict(request.user)
        .select_related("transferee")
        .order_by("sent_at", "-id")
    )


@router.post(
    "/privacy/transferee-notices/{notice_id}/send", response=PdpNoticeOut, summary="E-mail or post the notice"
)
def notice_send(request: HttpRequest, notice_id: ObjectId, payload: PdpNoticeSendIn) -> TransfereeNotice:
    notice = _notice(request, notice_id, "change")
    return marketing.notice_send(actor=actor(request), notice=notice, via=payload.via)


@router.get(
    "/privacy/transferee-notices/{notice_id}/letter.pdf",
    response={200: None},
    summary="The notice as a PDF letter",
)
def notice_letter(request: HttpRequest, notice_id: ObjectId) -> HttpResponse:
    notice = _notice(request, notice_id)
    body = marketing.notice_letter_pdf(actor=actor(request), notice=notice)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="opt-out-notice-{notice.pk}.pdf"'
    return response


class PdpListIn(InputSchema):
    channel: MarketingChannel
    purpose_id: ObjectId
    customer_ids: list[ObjectId] | None = Field(None, max_length=10_000)
    tier: Customer.Tier | None = None
    district: str = Field("", max_length=60)


class PdpExportIn(PdpListIn):
    file_format: Literal["csv", "xlsx"] = "csv"
    transferee_id: ObjectId | None = None
    data_flow_id: ObjectId | None = Field(
        None, description="The register line the list goes to the transferee's vendor under (s23(1)(c))."
    )


class PdpSendIn(PdpListIn):
    subject: str = Field("", max_length=200)
    message: str = Field(..., min_length=1, max_length=8000)
    opt_out_notice: str = Field(..., min_length=1, max_length=1000)


class PdpExportOut(Schema):
    id: int
    kind: MarketingExport.Kind
    channel: MarketingChannel
    purpose_id: int
    transferee_id: int | None
    requested: int
    included: int
    created_at: datetime


def _selection(request: HttpRequest, payload: PdpListIn) -> Any:
    return customer_selection(
        user=request.user,
        customer_ids=payload.customer_ids,
        tier=payload.tier or "",
        district=payload.district,
    )


@router.post(
    "/marketing/exports",
    response={200: None},
    summary="Export a marketing list (CSV or XLSX): consented, not opted-out customers only",
)
def marketing_export(request: HttpRequest, payload: PdpExportIn) -> HttpResponse:
    result = marketing.marketing_export(
        actor=actor(request),
        customers=_selection(request, payload),
        channel=payload.channel,
        purpose=_purpose(request, payload.purpose_id),
        transferee=_transferee(request, payload.transferee_id),
        file_format=payload.file_format,
        data_flow=_data_flow(request, payload.data_flow_id),
    )
    body = files.table_bytes(
        marketing.EXPORT_COLUMNS,
        ([row[c] for c in marketing.EXPORT_COLUMNS] for row in result.rows),
        payload.file_format,
    )
    return files.download(body, payload.file_format, f"marketing-{result.record.pk}-{payload.channel}")


@router.post(
    "/marketing/sends", response={201: PdpExportOut}, summary="Send a campaign to consented customers"
)
def marketing_send(request: HttpRequest, payload: PdpSendIn) -> Status[MarketingExport]:
    result = marketing.marketing_send(
        actor=actor(request),
        customers=_selection(request, payload),
        channel=payload.channel,
        purpose=_purpose(request, payload.purpose_id),
        subject=payload.subject,
        message=payload.message,
        opt_out_notice=payload.opt_out_notice,
    )
    return Status(201, result.record)


@router.get(
    "/marketing/exports", response=list[PdpExportOut], summary="Marketing exports and sends, newest first"
)
@paginate
def export_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return MarketingExport.objects.restrict(request.user)


class MarketingStateIn(InputSchema):
    pre_2013_data: bool
    purpose_ids: list[ObjectId] = Field([], max_length=50)


class MarketingStateOut(Schema):
    customer_id: int
    pre_2013_data: bool
    purpose_ids: list[int]
    first_notice_at: datetime | None
    first_notice_channel: str

    @staticmethod
    def resolve_purpose_ids(obj: MarketingState) -> list[int]:
        return [] if obj.pk is None else sorted(p.pk for p in obj.pre_2013_purposes.all())


@router.get(
    "/{int:customer_id}/marketing-state",
    response=MarketingStateOut,
    summary="First-use notice (s35F) and pre-2013 data (s35D)",
)
def marketing_state_get(request: HttpRequest, customer_id: ObjectId) -> MarketingState:
    customer = _customer(request, customer_id)
    state = MarketingState.objects.restrict(request.user).filter(customer=customer).first()
    if state is None:
        if not request.user.has_perm("customers.view_marketingstate"):
            raise PermissionDenied("You may not see marketing records.")
        return MarketingState(customer=customer)
    return state


@router.put(
    "/{int:customer_id}/marketing-state", response=MarketingStateOut, summary="Record pre-2013 data (s35D)"
)
def marketing_state_set(
    request: HttpRequest, customer_id: ObjectId, payload: MarketingStateIn
) -> MarketingState:
    customer = _customer(request, customer_id)
    purposes = list(MarketingPurpose.objects.restrict(request.user).filter(pk__in=payload.purpose_ids))
    if len(purposes) != len(set(payload.purpose_ids)):
        from django.core.exceptions import ValidationError

        raise ValidationError({"purpose_ids": "Unknown purpose."})
    return marketing.transitional_set(
        actor=actor(request), customer=customer, pre_2013_data=payload.pre_2013_data, purposes=purposes
    )


# --- Field-level access, reveal and the access log (DPP4) -----------------------------------------


class PdpRevealIn(InputSchema):
    purpose: str = Field(..., min_length=1, max_length=180)


@router.get(
    "/{int:customer_id}/fields", response=dict[str, Any], summary="The customer as your role may see it"
)
def customer_fields(request: HttpRequest, customer_id: ObjectId) -> dict[str, Any]:
    customer = _customer(request, customer_id)
    return field_access.customer_fields_for(request.user, customer)


@router.post(
    "/{int:customer_id}/reveal", response=dict[str, Any], summary="Full contact details, for a stated purpose"
)
def customer_reveal(request: HttpRequest, customer_id: ObjectId, payload: PdpRevealIn) -> dict[str, Any]:
    customer = _customer(request, customer_id)
    return field_access.customer_fields_for(request.user, customer, purpose=payload.purpose)


class PdpAccessQuery(Schema):
    customer_id: ObjectId | None = None
    user_id: ObjectId | None = None
    since: UtcDateTime | None = None


class PdpAccessOut(Schema):
    customer_id: int
    actor_id: int | None
    actor_username: str
    action: str
    purpose: str
    occurred_at: datetime
    audit_seq: int


def _access(request: HttpRequest, filters: PdpAccessQuery) -> Any:
    return access_log.access_log(
        user=request.user, customer_id=filters.customer_id, actor_id=filters.user_id, since=filters.since
    )


@router.get(
    "/privacy/access-log", response=list[PdpAccessOut], summary="Who read which customer, when and why"
)
@paginate
def access_list(request: HttpRequest, filters: Query[PdpAccessQuery]):  # type: ignore[no-untyped-def]
    return _access(request, filters)


ACCESS_COLUMNS = ("occurred_at_hkt", "customer_id", "user", "action", "purpose", "audit_seq")


def access_rows(rows: Any) -> Any:
    for row in rows.iterator():
        yield [
            f"{timezone.localtime(row.occurred_at):%Y-%m-%d %H:%M:%S}",
            row.customer_id,
            row.actor_username,
            row.action,
            row.purpose,
            row.audit_seq,
        ]


@router.get("/privacy/access-log.csv", response={200: None}, summary="The access log as CSV")
def access_csv(request: HttpRequest, filters: Query[PdpAccessQuery]) -> HttpResponse:
    rows = _access(request, filters)
    return files.download(files.table_bytes(ACCESS_COLUMNS, access_rows(rows), "csv"), "csv", "access-log")


class PdpAlertOut(Schema):
    id: int
    user_id: int
    username: str = Field(..., alias="user.username")
    window: AccessAlert.Window
    window_start: datetime
    reads: int
    threshold: int
    acknowledged_at: datetime | None
    note: str


class PdpAcknowledgeIn(InputSchema):
    note: str = Field(..., min_length=1, max_length=500)


@router.get(
    "/privacy/access-alerts", response=list[PdpAlertOut], summary="Unusual volumes of reads by one user"
)
@paginate
def alert_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return AccessAlert.objects.restrict(request.user).select_related("user")


@router.post(
    "/privacy/access-alerts/{alert_id}/acknowledge", response=PdpAlertOut, summary="Say what you found"
)
def alert_acknowledge(request: HttpRequest, alert_id: ObjectId, payload: PdpAcknowledgeIn) -> AccessAlert:
    alert = get_restricted_or_404(AccessAlert, user=request.user, action="change", pk=alert_id)
    return access_log.access_alert_acknowledge(actor=actor(request), alert=alert, note=payload.note)


# --- Processors (DPP2(3), DPP4(2)) ----------------------------------------------------------------


class ProcessorIn(InputSchema):
    vendor_id: ObjectId
    processing: str = Field(..., min_length=1, max_length=300)
    contract_clause: str = Field(..., min_length=1, max_length=300)
    location: str = Field("Hong Kong", min_length=1, max_length=100)
    model_clauses: ModelClauses = ModelClauses.NONE
    data_flow_ids: list[ObjectId] = Field([], max_length=50)


class PdpCheckOut(Schema):
    item: ChecklistItem
    answer: ProcessorCheck.Answer
    evidence: str
    evidence_date: date | None


class ProcessorOut(Schema):
    id: int
    vendor_id: int
    vendor_name: str = Field(..., alias="vendor.name")
    processing: str
    contract_clause: str
    location: str
    cross_border: bool
    model_clauses: ModelClauses
    data_flow_ids: list[int]
    checks: list[PdpCheckOut]
    active: bool

    @staticmethod
    def resolve_data_flow_ids(obj: Processor) -> list[int]:
        return [f.pk for f in obj.data_flows.all()]

    @staticmethod
    def resolve_checks(obj: Processor) -> list[ProcessorCheck]:
        return list(obj.checks.all())


class PdpCheckIn(InputSchema):
    item: ChecklistItem
    answer: ProcessorCheck.Answer
    evidence: str = Field("", max_length=500)
    evidence_date: date | None = None


def _processor(request: HttpRequest, pk: int, action: str = "view") -> Processor:
    return get_restricted_or_404(Processor, user=request.user, action=action, pk=pk)


@router.get("/privacy/processors", response=list[ProcessorOut], summary="The processor register")
@paginate
def processor_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return processors.processors(user=request.user).prefetch_related("checks")


@router.post("/privacy/processors", response={201: ProcessorOut}, summary="Register a processor")
def processor_create(request: HttpRequest, payload: ProcessorIn) -> Status[Processor]:
    data = payload.dict()
    vendor = get_restricted_or_404(Vendor, user=request.user, pk=data.pop("vendor_id"))
    flow_ids = data.pop("data_flow_ids")
    flows = list(DataFlow.objects.restrict(request.user).filter(pk__in=flow_ids))
    if len(flows) != len(set(flow_ids)):
        from django.core.exceptions import ValidationError

        raise ValidationError({"data_flow_ids": "Unknown information-exchange line."})
    processor = processors.processor_create(actor=actor(request), vendor=vendor, data_flows=flows, **data)
    return Status(201, _processor(request, processor.pk))


@router.get(
    "/privacy/processors/{processor_id}", response=ProcessorOut, summary="One processor and its checklist"
)
def processor_get(request: HttpRequest, processor_id: ObjectId) -> Processor:
    return _processor(request, processor_id)


@router.post(
    "/privacy/processors/{processor_id}/checks", response=ProcessorOut, summary="Answer a checklist item"
)
def processor_check(request: HttpRequest, processor_id: ObjectId, payload: PdpCheckIn) -> Processor:
    processor = _processor(request, processor_id, "change")
    processors.processor_check_answer(actor=actor(request), processor=processor, **payload.dict())
    return _processor(request, processor_id)


# Listed for the OpenAPI document's readers: which rows an access-log line refers to.
_ = CustomerAccess
