"""API of ticket ingest (issue 4 item 1): send tickets (one or in bulk), import files, read tickets,
and the signed webhook of an external helpdesk.

Endpoints only parse, call ``service.services`` (the one ingest path, ``service.importing``) or a
selector, and render. Formats, signature and idempotence rules: docs/service.md.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status
from pydantic import AwareDatetime
from pydantic import ValidationError as PydanticValidationError

from core.api import InputSchema, ObjectId, actor, paginate, problem
from service import selectors, services
from service.models import ImportJob, Priority, SlaTarget, Ticket, TicketChannel, TicketEvent

router = Router(tags=["service"])


# --- Schemas ------------------------------------------------------------------------------------


class EventIn(InputSchema):
    event_id: str = Field(..., min_length=1, max_length=100, description="The source's own id of the event.")
    kind: TicketEvent.Kind
    occurred_at: AwareDatetime = Field(..., description="ISO 8601 with a time zone (Z or +08:00).")
    agent: str = Field("", max_length=100, description="The source's id of the agent who did it.")
    status: Ticket.Status | None = Field(None, description="The new status; only for status_change.")


class TicketIn(InputSchema):
    source: str = Field("steward", min_length=1, max_length=40, pattern=r"^[-a-z0-9_.]+$")
    ticket_id: str = Field(
        ..., min_length=1, max_length=100, description="The source's own id of the ticket."
    )
    subject: str = Field("", max_length=300)
    channel: TicketChannel = TicketChannel.EMAIL
    priority: Priority = Priority.NORMAL
    customer_tier: str = Field("", max_length=12)
    team: str = Field("", max_length=40, description="A team code set up in Steward.")
    agent: str = Field("", max_length=100, description="The assignee's id in the source (created if new).")
    agent_name: str = Field("", max_length=120)
    customer_source: str = Field(
        "", max_length=40, description="The system the customer id comes from (empty: any, if unique)."
    )
    customer_id: str = Field(
        "", max_length=100, description="The shop's own customer id; links the ticket to a known customer."
    )
    customer_email: str = Field(
        "",
        max_length=254,
        description="Used to find the customer when the id is absent or matches nobody; never stored.",
    )
    events: list[EventIn] = Field(..., min_length=1, max_length=1000)


class BulkIn(InputSchema):
    tickets: list[TicketIn] = Field(..., min_length=1, max_length=2000)
    on_error: Literal["rollback", "skip"] = Field(
        "rollback", description="rollback: any bad row writes nothing; skip: keep the good rows."
    )


class RowProblem(Schema):
    field: str
    message: str


class IngestOut(Schema):
    rows: int
    rows_rejected: int
    tickets_created: int
    tickets_updated: int
    events_created: int
    agents_created: int
    customers_linked: int
    customers_unmatched: int
    customers_ambiguous: int
    errors: list[RowProblem]


class TicketOut(Schema):
    id: int
    source: str
    external_id: str
    subject: str
    channel: TicketChannel
    priority: Priority
    status: Ticket.Status
    customer_tier: str
    team_id: int | None
    team: str | None
    agent_id: int | None
    agent: str | None
    vendor_id: int | None
    vendor: str | None
    customer_id: int | None = Field(None, description="Steward's customer record id; empty when unlinked.")
    is_merged: bool
    is_spam: bool
    opened_at: datetime
    first_response_at: datetime | None
    first_resolved_at: datetime | None
    resolved_at: datetime | None
    reopen_count: int
    agent_reply_count: int

    @staticmethod
    def resolve_team(obj: Ticket) -> str | None:
        return obj.team.code if obj.team else None

    @staticmethod
    def resolve_agent(obj: Ticket) -> str | None:
        return obj.agent.name if obj.agent else None

    @staticmethod
    def resolve_vendor(obj: Ticket) -> str | None:
        return obj.vendor.code if obj.vendor else None


class EventOut(Schema):
    id: int
    external_id: str
    kind: TicketEvent.Kind
    occurred_at: datetime
    agent_id: int | None
    status: str


class SlaOut(Schema):
    target: SlaTarget
    target_minutes: int
    due_at: datetime | None
    met: bool | None
    breached_at: datetime | None
    business_minutes: int | None


class TicketDetailOut(TicketOut):
    events: list[EventOut]
    sla: list[SlaOut]

    # Filled through the selectors (restrict) by _detail, not by following relations here.
    @staticmethod
    def resolve_events(obj: Ticket) -> list[Any]:
        return list(getattr(obj, "visible_events", []))

    @staticmethod
    def resolve_sla(obj: Ticket) -> list[Any]:
        return list(getattr(obj, "visible_sla", []))


class TicketIngestOut(IngestOut):
    ticket: TicketDetailOut


class TicketQuery(Schema):
    period: str = Field("", pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$", description="Month opened, YYYY-MM (HKT).")
    channel: TicketChannel | None = None
    priority: Priority | None = None
    status: Ticket.Status | None = None
    team: ObjectId | None = None
    agent: ObjectId | None = None
    vendor: str = Field("", pattern=r"^(\d{1,18}|in-house)?$", description="A vendor id, or in-house.")


class ImportJobOut(Schema):
    id: int
    original_name: str
    format: ImportJob.Format
    mode: ImportJob.Mode
    source: str
    status: ImportJob.Status
    percent: int
    total_rows: int
    processed_rows: int
    rows_rejected: int
    tickets_created: int
    tickets_updated: int
    events_created: int
    agents_created: int
    customers_linked: int
    customers_unmatched: int
    customers_ambiguous: int
    error_count: int
    message: str
    created_at: datetime
    finished_at: datetime | None


# --- Helpers ------------------------------------------------------------------------------------


def _detail(request: HttpRequest, ticket: Ticket) -> Ticket:
    ticket = Ticket.objects.select_related("team", "agent", "vendor").get(pk=ticket.pk)
    ticket.visible_events = list(selectors.ticket_events(user=request.user, ticket=ticket))  # type: ignore[attr-defined]
    ticket.visible_sla = list(selectors.ticket_sla_results(user=request.user, ticket=ticket))  # type: ignore[attr-defined]
    return ticket


def _ingest_out(done: services.TicketsIngested) -> dict[str, Any]:
    return {**done.result.summary(), "errors": done.errors}


# --- Tickets ------------------------------------------------------------------------------------


@router.post(
    "/tickets",
    response=TicketIngestOut,
    summary="Send one ticket with its events (all or nothing; replays change nothing)",
)
def ticket_send(request: HttpRequest, payload: TicketIn) -> dict[str, Any]:
    done = services.tickets_ingest(actor=actor(request), tickets=[payload.model_dump()])
    ticket = selectors.ticket_list(user=request.user).get(
        source=payload.source, external_id=payload.ticket_id
    )
    return {**_ingest_out(done), "ticket": _detail(request, ticket)}


@router.post(
    "/tickets/bulk",
    response=IngestOut,
    summary="Send many tickets with their events",
    description="`on_error=rollback` (default) writes nothing when any row is bad (422 naming each); "
    "`skip` keeps the good rows and lists the refused ones in `errors`.",
)
def ticket_send_bulk(request: HttpRequest, payload: BulkIn) -> dict[str, Any]:
    done = services.tickets_ingest(
        actor=actor(request),
        tickets=[t.model_dump() for t in payload.tickets],
        keep_good=payload.on_error == "skip",
    )
    return _ingest_out(done)


@router.get("/tickets", response=list[TicketOut], summary="Tickets you may see, newest first")
@paginate
def ticket_list(request: HttpRequest, filters: Query[TicketQuery]):  # type: ignore[no-untyped-def]
    return selectors.ticket_list(
        user=request.user,
        filters=selectors.TicketFilters(
            period=filters.period,
            channel=filters.channel or "",
            priority=filters.priority or "",
            status=filters.status or "",
            team=filters.team,
            agent=filters.agent,
            vendor=filters.vendor,
        ),
    )


@router.get(
    "/tickets/{ticket_id}", response=TicketDetailOut, summary="One ticket with its events and SLA results"
)
def ticket_detail(request: HttpRequest, ticket_id: ObjectId) -> Ticket:
    return _detail(request, selectors.ticket_get(user=request.user, pk=ticket_id))


# --- File imports -------------------------------------------------------------------------------


@router.post(
    "/imports",
    response={202: ImportJobOut},
    summary="Import a CSV or NDJSON file of ticket events (multipart/form-data: file, mode, source)",
    description="Runs in the background; poll GET /imports/{id}. "
    "mode: all_or_nothing (default) or keep_good.",
)
def import_create(
    request: HttpRequest,
    file: UploadedFile | None = File(None),  # type: ignore[type-arg]  # noqa: B008
    mode: ImportJob.Mode = Form(ImportJob.Mode.ALL_OR_NOTHING),  # type: ignore[type-arg]  # noqa: B008
    source: str = Form("steward", max_length=40),  # type: ignore[type-arg]
) -> Status[ImportJob]:
    job = services.import_job_create(actor=actor(request), upload=file, mode=mode, source=source)
    return Status(202, ImportJob.objects.get(pk=job.pk))


@router.get("/imports", response=list[ImportJobOut], summary="File imports, newest first")
@paginate
def import_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.import_job_list(user=request.user)


@router.get("/imports/{import_id}", response=ImportJobOut, summary="An import's status and counts")
def import_detail(request: HttpRequest, import_id: ObjectId) -> ImportJob:
    return selectors.import_job_get(user=request.user, pk=import_id)


def error_report(job: ImportJob) -> HttpResponse:
    """The refused rows of JOB as CSV: line, field, message."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["line", "field", "message"])
    for error in job.errors:
        writer.writerow([error["line"], error["field"], error["message"]])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


@router.get(
    "/imports/{import_id}/errors",
    response={200: None},
    summary="The error report of an import (CSV: line, field, message)",
)
def import_errors(request: HttpRequest, import_id: ObjectId) -> HttpResponse:
    return error_report(selectors.import_job_get(user=request.user, pk=import_id))


# --- The helpdesk webhook -----------------------------------------------------------------------


@router.post(
    "/webhooks/helpdesk",
    auth=None,
    response=IngestOut,
    summary="Receive one ticket with its events from an external helpdesk (HMAC-signed)",
    description=f"Body: the same JSON as POST /tickets. Header `{services.SIGNATURE_HEADER}: sha256=<hex>`, "
    "the HMAC-SHA256 of the raw body with the shared secret (STEWARD_HELPDESK_WEBHOOK_SECRET).",
    openapi_extra={
        "x-steward-signed": f"HMAC-SHA256 of the raw body in {services.SIGNATURE_HEADER} (docs/service.md)",
        "requestBody": {
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TicketIn"}}},
            "required": True,
        },
    },
)
def helpdesk_webhook(request: HttpRequest) -> Any:
    body = request.body
    try:
        services.webhook_verify(
            body=body,
            signature=request.headers.get(services.SIGNATURE_HEADER, ""),
        )
    except services.WebhookRejected as exc:
        return problem(request, 401, str(exc), kind="bad-signature" if exc.configured else "not-configured")
    try:
        payload = TicketIn.model_validate_json(body)
    except PydanticValidationError as exc:
        errors = [
            {"field": ".".join(str(p) for p in err["loc"]) or "body", "message": err["msg"]}
            for err in exc.errors()
        ]
        return problem(
            request, 422, "The payload does not fit the ticket format.", kind="validation", errors=errors
        )
    try:
        done = services.tickets_ingest(actor=None, tickets=[payload.model_dump()], via="webhook")
    except ValidationError as exc:
        # The body is one ticket, so its errors are named from the ticket: events.1.occurred_at.
        errors = [
            {"field": field.removeprefix("tickets.0."), "message": message}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
        return problem(request, 422, "The request breaks a rule.", kind="rule", errors=errors)
    return _ingest_out(done)
