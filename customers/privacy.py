"""Data access and correction requests (DPP6, PDPO s18–s28): the services and the copy of the data.

The clock: a request is due 40 days after it arrives (s19(1), s23(1)). Within that time the
data user complies, or gives written reasons and finishes as soon as practicable (the
partial-compliance notice), or refuses in writing with reasons (s21, s25), and a refusal goes
into the log book kept for at least four years (s27). Identity must be verified before
anything is supplied or changed (s20(1)(a)). A fee may not be excessive, and a correction is
free (s28). A correction is passed on to every third party that received this person's data in
the 12 months before (s23(1)(c)), each notice recorded: ``customers.disclosures`` keeps which
customers each outgoing exchange of the information-exchange register carried.

Every function is keyword-only, runs in one transaction and writes its audit record there;
pages, the API and the Celery task all call these. ``actor=None`` is the system.
"""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core import audit
from core.models import AuditEvent
from customers.models import BehaviourEvent, Customer, ExchangeCustomer, Order
from customers.privacy_models import (
    ACCESS_GROUNDS,
    CORRECTION_GROUNDS,
    HANDLE_REQUESTS,
    CorrectionNotice,
    PrivacyRequest,
    RefusalGround,
    RefusalLogEntry,
    RequestStep,
)

logger = logging.getLogger("steward.customers")

DAYS_TO_COMPLY = 40  # s19(1), s23(1)
LOG_BOOK_YEARS = 4  # s27(2)(b)
RECIPIENT_WINDOW = timedelta(days=365)  # s23(1)(c): "in the 12 months immediately preceding"
# What a correction request may change; the rest of a record is not the customer's to dictate.
CORRECTABLE_FIELDS = (
    "given_name",
    "family_name",
    "chinese_name",
    "email",
    "phone",
    "address_line",
    "district",
    "country",
)
PROFILE_FIELDS = (*CORRECTABLE_FIELDS, "source", "external_id", "tier", "first_seen_at", "created_at")


def _require(
    actor: Any, message: str = "Privacy requests are handled by the data-protection officer."
) -> None:
    if actor is not None and not actor.has_perm(HANDLE_REQUESTS):
        raise PermissionDenied(message)


def _step(request: PrivacyRequest, kind: str, actor: Any, note: str = "") -> RequestStep:
    return RequestStep.objects.create(request=request, kind=kind, at=timezone.now(), by=actor, note=note)


def _lock(request: PrivacyRequest) -> PrivacyRequest:
    return PrivacyRequest.objects.select_for_update().get(pk=request.pk)


def _require_open(request: PrivacyRequest) -> None:
    if not request.is_open:
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")


def _require_verified(request: PrivacyRequest, doing: str) -> None:
    if request.identity_verified_at is None:
        raise ValidationError(
            f"The requestor's identity is not verified, so nothing may be {doing}: verify it, or refuse "
            "the request under s20(1)(a)."
        )


def profile_of(customer: Customer) -> dict[str, Any]:
    """The customer's own fields as plain JSON values."""
    data = {name: getattr(customer, name) for name in PROFILE_FIELDS}
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))  # type: ignore[no-any-return]


def _save_changed(instance: PrivacyRequest, before: dict[str, Any], actor: Any, purpose: str = "") -> None:
    instance.full_clean()
    instance.save()
    audit.record_change(AuditEvent.Action.UPDATE, instance, before=before, actor=actor, purpose=purpose)


# --- Receiving and verifying ------------------------------------------------------------------------


@transaction.atomic
def privacy_request_create(
    *,
    actor: Any,
    kind: str,
    customer: Customer,
    requester_name: str,
    requester_contact: str,
    received_at: datetime,
    on_behalf: bool = False,
    requested_changes: dict[str, str] | None = None,
) -> PrivacyRequest:
    """DPP6: log a request as it arrives. The 40-day clock starts on the day of receipt, and the
    customer's data as held at that moment is kept for the copy (s19(3))."""
    _require(actor)
    errors: dict[str, str] = {}
    if kind not in PrivacyRequest.Kind.values:
        errors["kind"] = "Choose a data access request or a data correction request."
    if timezone.is_naive(received_at):
        errors["received_at"] = "Give the time with its time zone."
    elif received_at > timezone.now() + timedelta(hours=1):
        errors["received_at"] = "A request is logged when it has arrived, not before."
    if not requester_name.strip():
        errors["requester_name"] = "Say who made the request."
    if not requester_contact.strip():
        errors["requester_contact"] = "Say where the reply goes."
    changes = {k: str(v).strip() for k, v in (requested_changes or {}).items()}
    unknown = sorted(set(changes) - set(CORRECTABLE_FIELDS))
    if unknown:
        errors["requested_changes"] = f"These cannot be corrected by request: {', '.join(unknown)}."
    elif kind == PrivacyRequest.Kind.CORRECTION and not changes:
        errors["requested_changes"] = "A correction request says which data is wrong and what it should be."
    elif kind == PrivacyRequest.Kind.ACCESS and changes:
        errors["requested_changes"] = "An access request changes nothing."
    if customer.anonymised_at is not None:
        errors["customer"] = "This customer's data was anonymised; nothing is held about them any more."
    if errors:
        raise ValidationError(errors)
    received_day = timezone.localtime(received_at).date()
    request = PrivacyRequest(
        kind=kind,
        customer=customer,
        requester_name=requester_name.strip(),
        requester_contact=requester_contact.strip(),
        on_behalf=on_behalf,
        received_at=received_at,
        due_on=received_day + timedelta(days=DAYS_TO_COMPLY),
        requested_changes=changes,
        held_at_receipt=profile_of(customer),
    )
    request.full_clean()
    request.save()
    audit.record_change(AuditEvent.Action.CREATE, request, actor=actor)
    _step(request, RequestStep.Kind.RECEIVED, actor, f"Due on {request.due_on:%Y-%m-%d} (40 days).")
    return request


@transaction.atomic
def privacy_request_verify_identity(*, actor: Any, request: PrivacyRequest, method: str) -> PrivacyRequest:
    """s20(1)(a): record how the requestor proved who they are (e.g. "HKID sighted at counter")."""
    _require(actor)
    request = _lock(request)
    _require_open(request)
    if not method.strip():
        raise ValidationError({"method": "Say how the identity was verified."})
    if request.identity_verified_at is not None:
        raise ValidationError("The identity is already verified.")
    before = audit.snapshot(request)
    request.identity_method = method.strip()[:300]
    request.identity_verified_at = timezone.now()
    request.identity_verified_by = actor
    if request.status == PrivacyRequest.Status.RECEIVED:
        request.status = PrivacyRequest.Status.VERIFIED
    _save_changed(request, before, actor)
    _step(request, RequestStep.Kind.IDENTITY, actor, request.identity_method)
    return request


def fee_cap() -> Decimal:
    return Decimal(str(settings.STEWARD_DAR_FEE_CAP))


@transaction.atomic
def privacy_request_set_fee(
    *, actor: Any, request: PrivacyRequest, amount: Decimal | str, basis: str
) -> PrivacyRequest:
    """s28: a fee for supplying a copy, not excessive (at most the configured cap); never for a correction."""
    _require(actor)
    request = _lock(request)
    _require_open(request)
    try:
        fee = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        raise ValidationError({"amount": f"“{amount}” is not an amount."}) from None
    if not fee.is_finite() or fee < 0:
        raise ValidationError({"amount": "Give an amount of zero or more."})
    if request.kind == PrivacyRequest.Kind.CORRECTION and fee != 0:
        raise ValidationError({"amount": "No fee may be charged for a data correction request (s28(2))."})
    if fee > fee_cap():
        raise ValidationError(
            {"amount": f"A fee may not be excessive (s28(3)): at most HK${fee_cap()} for a copy."}
        )
    if fee > 0 and not basis.strip():
        raise ValidationError({"basis": "Say what the fee covers (the cost of the copy)."})
    before = audit.snapshot(request)
    request.fee = fee.quantize(Decimal("0.01"))
    request.fee_basis = basis.strip()[:300]
    _save_changed(request, before, actor)
    _step(request, RequestStep.Kind.FEE, actor, f"HK${request.fee} {request.fee_basis}".strip())
    return request


# --- Answering: partial notice, refusal, compliance ------------------------------------------------


@transaction.atomic
def privacy_request_partial_notice(*, actor: Any, request: PrivacyRequest, reasons: str) -> PrivacyRequest:
    """s19(2): unable to comply in full within 40 days, tell the requestor in writing why, and finish
    as soon as practicable. A notice after the deadline is recorded as late."""
    _require(actor)
    request = _lock(request)
    _require_open(request)
    if not reasons.strip():
        raise ValidationError({"reasons": "Write the reasons the requestor will receive."})
    before = audit.snapshot(request)
    request.status = PrivacyRequest.Status.PARTIAL
    request.partial_notice_at = timezone.now()
    request.partial_notice_reasons = reasons.strip()
    _save_changed(request, before, actor)
    late = timezone.localdate() > request.due_on
    _step(
        request, RequestStep.Kind.PARTIAL, actor, ("LATE: " if late else "") + request.partial_notice_reasons
    )
    return request


def grounds_for(kind: str) -> list[tuple[str, str]]:
    allowed = CORRECTION_GROUNDS if kind == PrivacyRequest.Kind.CORRECTION else ACCESS_GROUNDS
    return [(g.value, g.label) for g in RefusalGround if g in allowed]


@transaction.atomic
def privacy_request_refuse(
    *, actor: Any, request: PrivacyRequest, ground: str, reasons: str
) -> PrivacyRequest:
    """s21/s25: refuse in writing with reasons; the refusal enters the log book for four years (s27)."""
    _require(actor)
    request = _lock(request)
    _require_open(request)
    if ground not in {g for g, _ in grounds_for(request.kind)}:
        raise ValidationError({"ground": "Choose a ground the Ordinance allows for this kind of request."})
    if not reasons.strip():
        raise ValidationError({"reasons": "Write the reasons the requestor will receive (s21(1))."})
    if ground == RefusalGround.IDENTITY_NOT_VERIFIED and request.identity_verified_at is not None:
        raise ValidationError({"ground": "The identity was verified; choose another ground."})
    now = timezone.now()
    before = audit.snapshot(request)
    request.status = PrivacyRequest.Status.REFUSED
    request.refusal_ground = ground
    request.refusal_reasons = reasons.strip()
    request.closed_at = now
    _save_changed(request, before, actor)
    today = timezone.localdate()
    entry = RefusalLogEntry.objects.create(
        request=request,
        logged_at=now,
        ground=ground,
        reasons=request.refusal_reasons,
        keep_until=_years_later(today, LOG_BOOK_YEARS),
    )
    audit.record_change(AuditEvent.Action.CREATE, entry, actor=actor)
    _step(
        request, RequestStep.Kind.REFUSED, actor, f"{request.get_refusal_ground_display()}: {reasons.strip()}"
    )
    return request


def _years_later(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


@transaction.atomic
def privacy_request_complete(*, actor: Any, request: PrivacyRequest) -> PrivacyRequest:
    """Comply. An access request is complete once a copy has been produced; a correction request
    applies the correction and passes it to the recent recipients in the same transaction."""
    _require(actor)
    request = _lock(request)
    _require_open(request)
    _require_verified(request, "supplied or changed")
    if request.kind == PrivacyRequest.Kind.ACCESS:
        if not request.steps.filter(kind=RequestStep.Kind.EXPORTED).exists():
            raise ValidationError(
                "Produce the copy of the data (JSON or PDF) before marking the request done."
            )
    else:
        changed = customer_correct(
            actor=actor,
            customer=request.customer,
            changes=request.requested_changes,
            purpose=f"data correction request #{request.pk}",
        )
        _step(request, RequestStep.Kind.CORRECTED, actor, ", ".join(changed) or "nothing differed")
        if changed:
            correction_notify_recipients(actor=actor, request=request, fields=changed)
    before = audit.snapshot(request)
    request.status = PrivacyRequest.Status.COMPLETED
    request.closed_at = timezone.now()
    _save_changed(request, before, actor)
    late = timezone.localdate() > request.due_on
    _step(request, RequestStep.Kind.COMPLETED, actor, "after the 40 days" if late else "within the 40 days")
    return request


@transaction.atomic
def customer_correct(*, actor: Any, customer: Customer, changes: dict[str, str], purpose: str) -> list[str]:
    """Apply corrections to a customer's details; returns the names of the fields that changed.
    Values are kept as given (an invalid e-mail is flagged by the quality rules, not refused here)."""
    unknown = set(changes) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise ValidationError({f: "This field cannot be corrected." for f in unknown})
    customer = Customer.objects.select_for_update().get(pk=customer.pk)
    before = audit.snapshot(customer)
    changed = []
    for field, value in changes.items():
        if getattr(customer, field) != value:
            setattr(customer, field, value)
            changed.append(field)
    if changed:
        customer.full_clean(exclude=["merged_into"])
        customer.save()
        audit.record_change(AuditEvent.Action.UPDATE, customer, before=before, actor=actor, purpose=purpose)
        from customers.services import customers_changed_queue  # services builds on this module

        customers_changed_queue([customer.pk])
    return sorted(changed)


@dataclass(frozen=True)
class Recipient:
    """A vendor that received the customer's personal data under a register line in the last 12
    months. ``confirmed`` is False when the batch's contents were not recorded (see below)."""

    flow_id: int
    vendor_id: int
    vendor_name: str
    flow_title: str
    last_received_at: datetime
    confirmed: bool = True


def recent_recipients(*, customer: Customer, at: datetime | None = None) -> list[Recipient]:
    """Third parties that received CUSTOMER's personal data in the 12 months before AT, from the
    information-exchange register (vendors.DataFlow / DataExchange) and the customers each exchange
    carried (customers.ExchangeCustomer, customers.disclosures). Records merged into CUSTOMER count
    as the customer. A batch whose contents were never recorded may have carried anyone: its
    recipient is told too (the safe side), marked unconfirmed. One query."""
    from vendors.models import DataExchange, DataFlow

    at = at or timezone.now()
    people = Customer.objects.filter(Q(pk=customer.pk) | Q(merged_into=customer)).values("pk")
    carried = Exists(ExchangeCustomer.objects.filter(exchange=OuterRef("pk"), customer__in=people))
    listed = Exists(ExchangeCustomer.objects.filter(exchange=OuterRef("pk")))
    rows = (
        DataExchange.objects.filter(
            flow__direction=DataFlow.Direction.TO_VENDOR,
            flow__personal_data=True,
            occurred_at__gte=at - RECIPIENT_WINDOW,
            occurred_at__lte=at,
        )
        .filter(carried | ~listed)
        .values("flow_id", "flow__vendor_id", "flow__vendor__name", "flow__title")
        .annotate(last=Max("occurred_at"), last_carried=Max("occurred_at", filter=carried))
        .order_by("flow__vendor__name", "flow__title", "flow_id")
    )
    return [
        Recipient(
            r["flow_id"],
            r["flow__vendor_id"],
            r["flow__vendor__name"],
            r["flow__title"],
            r["last_carried"] or r["last"],
            r["last_carried"] is not None,
        )
        for r in rows
    ]


def _vendor_contact_email(vendor_id: int) -> str:
    from vendors.models import VendorContact

    contact = (
        VendorContact.objects.filter(vendor_id=vendor_id)
        .exclude(email="")
        .order_by("-is_primary", "escalation_level", "id")
        .first()
    )
    return contact.email if contact else ""


@transaction.atomic
def correction_notify_recipients(
    *, actor: Any, request: PrivacyRequest, fields: list[str]
) -> list[CorrectionNotice]:
    """s23(1)(c): send the correction to each third party that received the data in the previous 12
    months, and keep a record of each notice. The e-mail names the customer's reference and the
    corrected fields; the vendor fetches the new values through its usual channel."""
    notices = []
    messages: list[tuple[str, str]] = []
    now = timezone.now()
    # s23(1)(c): disclosed in the 12 months immediately preceding the day the correction is made.
    for recipient in recent_recipients(customer=request.customer, at=now):
        email = _vendor_contact_email(recipient.vendor_id)
        notice = CorrectionNotice.objects.create(
            request=request,
            vendor_id=recipient.vendor_id,
            flow_id=recipient.flow_id,
            last_received_at=recipient.last_received_at,
            fields=fields,
            sent_at=now,
            sent_to=email,
        )
        audit.record_change(AuditEvent.Action.CREATE, notice, actor=actor)
        _step(
            request,
            RequestStep.Kind.NOTIFIED,
            actor,
            f"{recipient.vendor_name} ({recipient.flow_title}), last received "
            f"{timezone.localtime(recipient.last_received_at):%Y-%m-%d}"
            + ("" if recipient.confirmed else " (a batch whose customers were not recorded)")
            + (f", sent to {email}" if email else ""),
        )
        if email:
            messages.append((email, recipient.vendor_name))
        notices.append(notice)

    reference = f"{request.customer.source}:{request.customer.external_id}"

    def send() -> None:
        for email, name in messages:
            try:
                send_mail(
                    subject=f"Correction of personal data (customer {reference})",
                    message=(
                        f"Dear {name},\n\nUnder s23(1)(c) of the Personal Data (Privacy) Ordinance "
                        "we tell you "
                        f"that the following data of customer {reference}, which you received from us in the "
                        f"last 12 months, has been corrected: {', '.join(fields)}.\nPlease update your copy "
                        "from the next exchange and confirm.\n"
                    ),
                    from_email=None,
                    recipient_list=[email],
                )
            except OSError:
                logger.exception("correction notice failed", extra={"vendor": name})

    if messages:
        transaction.on_commit(send)
    return notices


# --- The copy of the data (s19) ---------------------------------------------------------------------

REDACTED_OTHER = "[redacted: another person's data]"
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_PHONE_RE = re.compile(r"\+?\d[\d\s-]{6,}\d")


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def redact_others(text: str, customer: Customer) -> str:
    """s20(1)(b): e-mail addresses and phone numbers in free text that are not the customer's own
    are another individual's data and are blanked out of the copy."""
    own_email = (customer.email or "").lower()
    own_phone = _digits(customer.phone or "")[-8:]

    def email(match: re.Match[str]) -> str:
        return match.group(0) if own_email and match.group(0).lower() == own_email else REDACTED_OTHER

    def phone(match: re.Match[str]) -> str:
        digits = _digits(match.group(0))
        return match.group(0) if own_phone and digits.endswith(own_phone) else REDACTED_OTHER

    return _PHONE_RE.sub(phone, _EMAIL_RE.sub(email, text or ""))


def access_copy(request: PrivacyRequest) -> dict[str, Any]:
    """Everything held about the customer when the request arrived (s19(3)), with later corrections
    noted and other people's data redacted. Orders, lines, events and tickets after receipt are not
    part of it; they were not held then."""
    customer = request.customer
    held = request.held_at_receipt
    now = profile_of(customer)
    corrections = [
        {"field": f, "as_held": held.get(f), "now": now.get(f)}
        for f in CORRECTABLE_FIELDS
        if held.get(f) != now.get(f)
    ]
    cutoff = request.received_at
    customer_ids = [customer.pk, *Customer.objects.filter(merged_into=customer).values_list("pk", flat=True)]
    orders = (
        Order.objects.filter(customer_id__in=customer_ids, placed_at__lte=cutoff)
        .prefetch_related("lines")
        .order_by("placed_at", "id")
    )
    events = BehaviourEvent.objects.filter(customer_id__in=customer_ids, occurred_at__lte=cutoff).order_by(
        "occurred_at", "id"
    )
    copy: dict[str, Any] = {
        "data_user": settings.STEWARD_DATA_USER_NAME,
        "request": {
            "reference": request.pk,
            "kind": request.get_kind_display(),
            "received_at": request.received_at,
            "due_on": request.due_on,
        },
        "note": (
            "This copy shows the personal data held when the request was received (PDPO s19(3)). "
            "Corrections made since are listed separately. Other individuals' data is redacted (s20(1)(b))."
        ),
        "profile": held,
        "corrections_since_receipt": corrections,
        "orders": [
            {
                "reference": o.external_id,
                "source": o.source,
                "channel": o.get_channel_display(),
                "status": o.get_status_display(),
                "placed_at": o.placed_at,
                "total_hkd": o.total,
                "refunded_hkd": o.refunded_amount,
                "lines": [
                    {
                        "product": ln.product,
                        "category": ln.category,
                        "quantity": ln.quantity,
                        "amount_hkd": ln.amount,
                    }
                    for ln in o.lines.all()
                ],
            }
            for o in orders
        ],
        "behaviour_events": [
            {
                "kind": e.get_kind_display(),
                "occurred_at": e.occurred_at,
                "channel": e.get_channel_display(),
                "sku": e.sku,
                "category": e.category,
                "search": redact_others(e.query, customer),
            }
            for e in events
        ],
        "service_tickets": _tickets(customer_ids, cutoff, customer),
        "privacy_requests": [
            {
                "reference": r.pk,
                "kind": r.get_kind_display(),
                "received_at": r.received_at,
                "status": r.get_status_display(),
            }
            for r in PrivacyRequest.objects.filter(customer=customer, received_at__lte=cutoff).order_by(
                "received_at"
            )
        ],
    }
    return json.loads(json.dumps(copy, cls=DjangoJSONEncoder))  # type: ignore[no-any-return]


def _tickets(customer_ids: list[int], cutoff: datetime, customer: Customer) -> list[dict[str, Any]]:
    from service.models import Ticket

    tickets = Ticket.objects.filter(customer_id__in=customer_ids, opened_at__lte=cutoff).order_by(
        "opened_at", "id"
    )
    return [
        {
            "reference": t.external_id,
            "subject": redact_others(t.subject, customer),
            "channel": t.get_channel_display(),
            "status": t.get_status_display(),
            "opened_at": t.opened_at,
            "resolved_at": t.resolved_at,
            # The agent is another individual: the copy says a staff member handled it, not who.
            "handled_by": "[a customer-service agent]" if t.agent_id else "",
        }
        for t in tickets
    ]


@transaction.atomic
def privacy_request_export(*, actor: Any, request: PrivacyRequest, fmt: str) -> tuple[bytes, str]:
    """Produce the copy (JSON or PDF), record the step and the export of personal data."""
    _require(actor)
    if fmt not in ("json", "pdf"):
        raise ValidationError({"format": "Choose json or pdf."})
    request = PrivacyRequest.objects.select_related("customer").get(pk=request.pk)
    if request.status == PrivacyRequest.Status.REFUSED:
        raise ValidationError("This request was refused; no copy is supplied.")
    _require_verified(request, "supplied")
    copy = access_copy(request)
    body = json.dumps(copy, ensure_ascii=False, indent=2).encode() if fmt == "json" else _pdf(copy)
    _step(request, RequestStep.Kind.EXPORTED, actor, fmt.upper())
    audit.record_access(
        AuditEvent.Action.EXPORT,
        object_type="customers.customer",
        object_ids=[request.customer_id],
        purpose=f"copy of the data for access request #{request.pk}",
        fields=CORRECTABLE_FIELDS,
        actor=actor,
    )
    return body, fmt


def _pdf(copy: dict[str, Any]) -> bytes:
    """The copy as a PDF, with the CJK font the period statements use (kpis.exports)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from kpis.exports import _pdf_font

    styles = getSampleStyleSheet()
    font = _pdf_font()
    for name in ("BodyText", "Title", "Heading2", "Italic"):
        styles[name].fontName = font
    cell = styles["BodyText"]
    cell.fontSize = 8
    cell.leading = 10

    def p(value: Any) -> Paragraph:
        text = "" if value is None else str(value)
        return Paragraph(text.replace("&", "&amp;").replace("<", "&lt;"), cell)

    def table(rows: list[list[Any]], header: bool = True) -> Table:
        t = Table([[p(c) for c in row] for row in rows], repeatRows=1 if header else 0)
        style: list[Any] = [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")))
        t.setStyle(TableStyle(style))
        return t

    req = copy["request"]
    story: list[Any] = [
        Paragraph(f"Copy of personal data — {copy['data_user']}", styles["Title"]),
        table(
            [
                ["Request", f"#{req['reference']} {req['kind']}"],
                ["Received", req["received_at"]],
                ["Due", req["due_on"]],
            ],
            header=False,
        ),
        Spacer(1, 6),
        Paragraph(copy["note"], styles["Italic"]),
        Paragraph("Your details as held when the request arrived", styles["Heading2"]),
        table([[k, v] for k, v in copy["profile"].items()], header=False),
    ]
    if copy["corrections_since_receipt"]:
        story += [
            Paragraph("Corrected since the request arrived", styles["Heading2"]),
            table(
                [["Field", "As held", "Now"]]
                + [[c["field"], c["as_held"], c["now"]] for c in copy["corrections_since_receipt"]]
            ),
        ]
    story += [
        Paragraph("Orders", styles["Heading2"]),
        table(
            [["Order", "Placed", "Channel", "Status", "Total (HKD)", "Products"]]
            + [
                [
                    o["reference"],
                    o["placed_at"],
                    o["channel"],
                    o["status"],
                    o["total_hkd"],
                    "; ".join(f"{ln['product']} × {ln['quantity']}" for ln in o["lines"]),
                ]
                for o in copy["orders"]
            ]
        ),
        Paragraph("Browsing and searches", styles["Heading2"]),
        table(
            [["When", "What", "Channel", "Category", "Search"]]
            + [
                [e["occurred_at"], e["kind"], e["channel"], e["category"], e["search"]]
                for e in copy["behaviour_events"]
            ]
        ),
        Paragraph("Customer-service contacts", styles["Heading2"]),
        table(
            [["Ticket", "Opened", "Subject", "Status", "Handled by"]]
            + [
                [t["reference"], t["opened_at"], t["subject"], t["status"], t["handled_by"]]
                for t in copy["service_tickets"]
            ]
        ),
        Spacer(1, 12),
        Paragraph(f"Generated {timezone.localtime():%Y-%m-%d %H:%M} HKT.", styles["Italic"]),
    ]
    out = io.BytesIO()
    SimpleDocTemplate(out, pagesize=A4, title="Copy of personal data").build(story)
    return out.getvalue()


# --- The clock: reminders ---------------------------------------------------------------------------


def _dpo_emails() -> list[str]:
    return sorted(
        set(
            User.objects.filter(is_active=True)
            .filter(Q(groups__permissions__codename="handle_privacyrequest") | Q(is_superuser=True))
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


@transaction.atomic
def privacy_reminders_send(*, today: date | None = None) -> int:
    """Daily (Celery beat): remind the DPO of each open request as it comes within each of the
    configured days of its deadline (STEWARD_DAR_REMINDER_DAYS), and once more when it is overdue."""
    today = today or timezone.localdate()
    thresholds = sorted({*settings.STEWARD_DAR_REMINDER_DAYS, 0}, reverse=True)
    horizon = today + timedelta(days=max(thresholds))
    lines: list[str] = []
    sent = 0
    for request in (
        PrivacyRequest.objects.select_for_update()
        .filter(status__in=PrivacyRequest.OPEN, due_on__lte=horizon)
        .order_by("due_on", "id")
    ):
        left = request.days_left(today)
        due = [d for d in thresholds if left <= d]
        threshold = min(due)
        if request.last_reminder_days is not None and request.last_reminder_days <= threshold:
            continue
        request.last_reminder_days = threshold
        request.save(update_fields=["last_reminder_days", "updated_at"])
        when = f"overdue by {-left} days" if left < 0 else f"due in {left} days ({request.due_on:%Y-%m-%d})"
        _step(request, RequestStep.Kind.REMINDER, None, when)
        lines.append(f"- {request}: {when}")
        sent += 1
    if lines:
        audit.record_event(
            AuditEvent.Action.OTHER,
            object_type="customers.privacyrequest",
            detail={"reminders": sent, "on": today.isoformat()},
        )
        recipients = _dpo_emails()

        def send() -> None:
            if not recipients:
                return
            try:
                send_mail(
                    subject=f"{sent} privacy request(s) near their 40-day deadline",
                    message="\n".join(["Data access and correction requests needing an answer:", *lines]),
                    from_email=None,
                    recipient_list=recipients,
                )
            except OSError:
                logger.exception("privacy reminder failed")

        transaction.on_commit(send)
    return sent


# --- Selectors ----------------------------------------------------------------------------------------


def request_list(*, user: Any, status: str = "", open_only: bool = False) -> QuerySet[PrivacyRequest]:
    rows = PrivacyRequest.objects.restrict(user).select_related("customer")
    if status:
        rows = rows.filter(status=status)
    if open_only:
        rows = rows.filter(status__in=PrivacyRequest.OPEN)
    return rows.order_by("due_on", "id")


def request_clock(*, user: Any, today: date | None = None) -> dict[str, int]:
    """Open requests, due within 7 days, overdue: one aggregate query (the dashboard panel)."""
    today = today or timezone.localdate()
    return (
        PrivacyRequest.objects.restrict(user)
        .filter(status__in=PrivacyRequest.OPEN)
        .aggregate(
            open=Count("id"),
            due_soon=Count("id", filter=Q(due_on__gte=today, due_on__lte=today + timedelta(days=7))),
            overdue=Count("id", filter=Q(due_on__lt=today)),
        )
    )


def refusal_log(*, user: Any) -> QuerySet[RefusalLogEntry]:
    return RefusalLogEntry.objects.restrict(user).select_related("request")
