"""Direct marketing under PDPO Part 6A: the consent ledger, the opt-out list, notices to third
parties, and every export or send of a marketing list. Pages, the API and the demo seed call these;
each runs in one transaction and writes its audit record in it; a broken rule raises
``ValidationError`` (or ``PermissionDenied``) before anything is written.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from core import audit, sms
from core.models import AuditEvent
from customers import access_log, disclosures
from customers.consent import CONTACT_FIELD, marketable
from customers.models import (
    CollectionStatement,
    ConsentEntry,
    Customer,
    DataKind,
    MarketingChannel,
    MarketingExport,
    MarketingExportLine,
    MarketingPurpose,
    MarketingState,
    Suppression,
    SuppressionChannel,
    Transferee,
    TransfereeNotice,
)
from customers.sqlbulk import insert_rows
from vendors.models import DataFlow

logger = logging.getLogger("steward.customers")

# How consent may be given. An opt-out request withdraws; it never grants.
GRANT_METHODS = frozenset(
    {
        ConsentEntry.Method.ONLINE_TICK,
        ConsentEntry.Method.WRITTEN,
        ConsentEntry.Method.VERBAL_RECORDED,
        ConsentEntry.Method.NO_OBJECTION,
    }
)
# An express consent can lift an earlier opt-out on its channel; a mere "no objection" cannot.
EXPRESS_METHODS = GRANT_METHODS - {ConsentEntry.Method.NO_OBJECTION}


def _require(actor: Any, perm: str, message: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


def _when(occurred_at: datetime | None, field: str = "occurred_at") -> datetime:
    now = timezone.now()
    if occurred_at is None:
        return now
    if timezone.is_naive(occurred_at):
        raise ValidationError({field: "Give the time with its time zone."})
    if occurred_at > now + timedelta(minutes=5):
        raise ValidationError({field: "This is in the future."})
    return occurred_at


def _live(customer: Customer) -> None:
    if customer.merged_into_id is not None or customer.anonymised_at is not None:
        raise ValidationError({"customer": "This customer record was merged or anonymised."})


def _text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError({field: message})
    return value


# --- Purposes and transferees ---------------------------------------------------------------------


@transaction.atomic
def purpose_create(*, actor: Any, code: str, name: str, description: str = "") -> MarketingPurpose:
    """Add a class of marketing subjects to the purpose register (DPP3, s35C)."""
    _require(actor, "customers.add_marketingpurpose", "The purpose register is kept by the DPO.")
    if MarketingPurpose.objects.filter(code=code).exists():
        raise ValidationError({"code": "A purpose with this code exists."})
    purpose = MarketingPurpose(code=code, name=name.strip(), description=description.strip())
    purpose.full_clean()
    purpose.save()
    audit.record_change(AuditEvent.Action.CREATE, purpose, actor=actor)
    return purpose


@transaction.atomic
def transferee_create(
    *,
    actor: Any,
    name: str,
    transferee_class: str,
    email: str = "",
    postal_address: str = "",
    vendor: Any = None,
) -> Transferee:
    """A third party that may receive data for its own marketing; it needs an address for notices."""
    _require(actor, "customers.add_transferee", "Transferees are registered by the DPO.")
    if not (email or "").strip() and not (postal_address or "").strip():
        raise ValidationError({"email": "Give an e-mail or postal address for opt-out notices (s35G)."})
    transferee = Transferee(
        name=name.strip(),
        transferee_class=transferee_class.strip(),
        email=(email or "").strip(),
        postal_address=(postal_address or "").strip(),
        vendor=vendor,
    )
    transferee.full_clean()
    transferee.save()
    audit.record_change(AuditEvent.Action.CREATE, transferee, actor=actor)
    return transferee


# --- The consent ledger ---------------------------------------------------------------------------


def _current(
    customer: Customer, purpose: MarketingPurpose, data_kind: str, channel: str, transferee: Transferee | None
) -> ConsentEntry | None:
    entries = ConsentEntry.objects.filter(
        customer=customer, purpose=purpose, data_kind=data_kind, channel=channel, transferee=transferee
    )
    return entries.order_by("-occurred_at", "-id").first()


@transaction.atomic
def consent_grant(
    *,
    actor: Any,
    customer: Customer,
    purpose: MarketingPurpose,
    channel: str,
    method: str,
    notice_text: str,
    source: str,
    data_kind: str = DataKind.CONTACT,
    transferee: Transferee | None = None,
    for_gain: bool = False,
    statement: CollectionStatement | None = None,
    evidence: str = "",
    occurred_at: datetime | None = None,
) -> ConsentEntry:
    """Record that the customer consented (s35C/35E; for a transfer s35J/35K).

    - silence is never consent: only a tick, writing, a recorded call or an indication of no
      objection count;
    - the notice shown is kept word for word; a PICS version, if named, must be published;
    - a transfer to a third party needs written consent, and "for gain" only applies to one;
    - a recorded call needs the recording's reference;
    - an express consent lifts an opt-out on its channel (an all-channel opt-out narrows to the
      other channels); a "no objection" never overrides an opt-out.
    """
    _require(actor, "customers.add_consententry", "Recording consent needs the DPO or CRM role.")
    _live(customer)
    if method not in GRANT_METHODS:
        raise ValidationError(
            {"method": "Consent is given by a tick, in writing, on a recorded call or by no objection."}
        )
    if channel not in MarketingChannel.values:
        raise ValidationError({"channel": "Unknown channel."})
    if data_kind not in DataKind.values:
        raise ValidationError({"data_kind": "Unknown kind of personal data."})
    if not purpose.active:
        raise ValidationError({"purpose": "This purpose is no longer in use."})
    notice_text = _text(notice_text, "notice_text", "Keep the notice the customer was shown.")
    source = _text(source, "source", "Say where the consent came from.")
    if transferee is not None and method != ConsentEntry.Method.WRITTEN:
        raise ValidationError(
            {
                "method": "Providing data to a third party for marketing needs the customer's "
                "written consent (s35K)."
            }
        )
    if for_gain and transferee is None:
        raise ValidationError({"for_gain": "Only a transfer to a third party can be for gain."})
    if method == ConsentEntry.Method.VERBAL_RECORDED and not evidence.strip():
        raise ValidationError({"evidence": "Give the reference of the call recording."})
    if statement is not None and statement.status != CollectionStatement.Status.PUBLISHED:
        raise ValidationError(
            {"statement": "Only a published collection statement was ever shown to anyone."}
        )
    when = _when(occurred_at)
    suppressions = list(
        Suppression.objects.select_for_update().filter(
            customer=customer, channel__in=[channel, SuppressionChannel.ALL], lifted_at__isnull=True
        )
    )
    if suppressions and method not in EXPRESS_METHODS:
        raise ValidationError(
            {"method": "The customer opted out of this channel; only an express consent can change that."}
        )
    entry = ConsentEntry(
        customer=customer,
        purpose=purpose,
        data_kind=data_kind,
        channel=channel,
        transferee=transferee,
        for_gain=for_gain,
        action=ConsentEntry.Action.GRANT,
        method=method,
        notice_text=notice_text,
        statement=statement,
        occurred_at=when,
        source=source[:200],
        evidence=evidence.strip()[:300],
        recorded_by=actor,
    )
    entry.full_clean()
    entry.save()
    audit.record_change(AuditEvent.Action.CREATE, entry, actor=actor)
    for suppression in suppressions:
        _lift(suppression, entry, actor)
    return entry


def _lift(suppression: Suppression, entry: ConsentEntry, actor: Any) -> None:
    before = audit.snapshot(suppression)
    suppression.lifted_at = entry.occurred_at
    suppression.lifted_by_entry = entry
    suppression.save(update_fields=["lifted_at", "lifted_by_entry", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, suppression, before=before, actor=actor)
    if suppression.channel == SuppressionChannel.ALL:
        for other in MarketingChannel.values:
            if other == entry.channel:
                continue
            narrowed = Suppression.objects.create(
                customer=suppression.customer,
                channel=other,
                occurred_at=suppression.occurred_at,
                source=suppression.source,
                note=f"Continues the all-channel opt-out {suppression.pk}, lifted for {entry.channel} only.",
                recorded_by=suppression.recorded_by,
            )
            audit.record_change(AuditEvent.Action.CREATE, narrowed, actor=actor)


@transaction.atomic
def consent_withdraw(
    *,
    actor: Any,
    customer: Customer,
    purpose: MarketingPurpose,
    channel: str,
    source: str,
    method: str = ConsentEntry.Method.OPT_OUT,
    data_kind: str = DataKind.CONTACT,
    transferee: Transferee | None = None,
    occurred_at: datetime | None = None,
) -> ConsentEntry:
    """Withdraw one consent: a new ledger entry, in force the moment it is written."""
    _require(actor, "customers.add_consententry", "Recording consent needs the DPO or CRM role.")
    source = _text(source, "source", "Say where the withdrawal came from.")
    if method not in ConsentEntry.Method.values:
        raise ValidationError({"method": "Unknown method."})
    current = _current(customer, purpose, data_kind, channel, transferee)
    if current is None or current.action != ConsentEntry.Action.GRANT:
        raise ValidationError(
            {"purpose": "There is no consent in force to withdraw for this purpose and channel."}
        )
    entry = ConsentEntry(
        customer=customer,
        purpose=purpose,
        data_kind=data_kind,
        channel=channel,
        transferee=transferee,
        for_gain=current.for_gain,
        action=ConsentEntry.Action.WITHDRAW,
        method=method,
        occurred_at=_when(occurred_at),
        source=source[:200],
        recorded_by=actor,
    )
    entry.full_clean()
    entry.save()
    audit.record_change(AuditEvent.Action.CREATE, entry, actor=actor)
    return entry


# --- The opt-out list -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OptOut:
    suppression: Suppression
    created: bool
    withdrawn: int
    notices: int


@transaction.atomic
def opt_out(
    *,
    actor: Any,
    customer: Customer,
    channel: str,
    source: str,
    note: str = "",
    occurred_at: datetime | None = None,
) -> OptOut:
    """The customer asks not to be sent direct marketing on CHANNEL (or ``all``): s35G.

    Free of charge and in force at once: the opt-out list row, a withdrawal entry for every consent
    in force on the channel(s), and a written notice to every third party the customer's data went
    to for marketing on them. Recording the same opt-out twice changes nothing.
    """
    _require(actor, "customers.add_suppression", "Recording opt-outs needs the DPO, CRM or marketing role.")
    return _opt_out(
        actor=actor, customer=customer, channel=channel, source=source, note=note, occurred_at=occurred_at
    )


@transaction.atomic
def opt_out_on_call(*, actor: Any, customer: Customer, channel: str, note: str = "") -> OptOut:
    """A customer-service agent records "stop marketing to me" said on a call (s35G), on one
    channel or all. The same opt-out as :func:`opt_out` (suppression list, consents withdrawn,
    third parties' notices queued), in force at once; the source names the agent who took it.

    The agent needs only ``record_phone_opt_out``: it gives no sight of the opt-out list, the
    consent ledger or unmasked contact details."""
    if actor is None or not (
        actor.has_perm("customers.record_phone_opt_out") or actor.has_perm("customers.add_suppression")
    ):
        raise PermissionDenied("Recording an opt-out from a call needs the customer-service agent role.")
    _live(customer)
    return _opt_out(
        actor=actor,
        customer=customer,
        channel=channel,
        source=f"Phone call taken by {actor.get_username()}",
        note=note,
        occurred_at=None,
    )


def _opt_out(
    *,
    actor: Any,
    customer: Customer,
    channel: str,
    source: str,
    note: str,
    occurred_at: datetime | None,
) -> OptOut:
    if channel not in SuppressionChannel.values:
        raise ValidationError({"channel": "Unknown channel."})
    source = _text(source, "source", "Say where the opt-out came from (call, e-mail, form).")
    covering = (
        [channel, SuppressionChannel.ALL] if channel != SuppressionChannel.ALL else [SuppressionChannel.ALL]
    )
    existing = (
        Suppression.objects.select_for_update()
        .filter(customer=customer, channel__in=covering, lifted_at__isnull=True)
        .first()
    )
    if existing is not None:
        return OptOut(existing, False, 0, 0)
    when = _when(occurred_at)
    suppression = Suppression(
        customer=customer,
        channel=channel,
        occurred_at=when,
        source=source[:200],
        note=(note or "").strip()[:500],
        recorded_by=actor,
    )
    suppression.full_clean()
    suppression.save()
    audit.record_change(AuditEvent.Action.CREATE, suppression, actor=actor)
    channels = MarketingChannel.values if channel == SuppressionChannel.ALL else [channel]
    entries = ConsentEntry.objects.filter(customer=customer, channel__in=channels).order_by(
        "-occurred_at", "-id"
    )
    latest: dict[tuple[Any, ...], ConsentEntry] = {}
    transferees: set[int] = set()
    for entry in entries:
        latest.setdefault((entry.purpose_id, entry.data_kind, entry.channel, entry.transferee_id), entry)
        if entry.transferee_id is not None and entry.action == ConsentEntry.Action.GRANT:
            transferees.add(entry.transferee_id)
    withdrawals = [
        ConsentEntry(
            customer=customer,
            purpose_id=entry.purpose_id,
            data_kind=entry.data_kind,
            channel=entry.channel,
            transferee_id=entry.transferee_id,
            for_gain=entry.for_gain,
            action=ConsentEntry.Action.WITHDRAW,
            method=ConsentEntry.Method.OPT_OUT,
            occurred_at=when,
            source=f"Opt-out {suppression.pk}: {source}"[:200],
            recorded_by=actor,
        )
        for entry in latest.values()
        if entry.action == ConsentEntry.Action.GRANT
    ]
    ConsentEntry.objects.bulk_create(withdrawals)
    notices = [TransfereeNotice(suppression=suppression, transferee_id=t) for t in sorted(transferees)]
    TransfereeNotice.objects.bulk_create(notices)
    audit.record_event(
        AuditEvent.Action.OTHER,
        object_type=audit.object_type_of(suppression),
        object_id=str(suppression.pk),
        detail={"withdrawn": len(withdrawals), "transferee_notices": len(notices), "channel": channel},
        actor=actor,
    )
    return OptOut(suppression, True, len(withdrawals), len(notices))


# --- Notices to third parties (s35G(3)) -----------------------------------------------------------


def notice_letter(notice: TransfereeNotice) -> str:
    """The words of the written notice: who, which channel, since when, and what the law asks."""
    suppression = notice.suppression
    customer = suppression.customer
    name = " ".join(p for p in (customer.given_name, customer.family_name) if p) or customer.chinese_name
    channel = suppression.get_channel_display().lower()
    return "\n".join(
        [
            f"To: {notice.transferee.name}",
            f"Date: {timezone.localdate():%d %B %Y}",
            "",
            "Notice of a data subject's opt-out from direct marketing",
            "(Personal Data (Privacy) Ordinance, Cap. 486, section 35G)",
            "",
            f"Our customer {name} (our reference {customer.source}:{customer.external_id}) asked on "
            f"{timezone.localtime(suppression.occurred_at):%d %B %Y} not to receive direct marketing "
            f"by {channel}.",
            "We provided this person's personal data to you for use in direct marketing. Please stop "
            "using it in direct marketing by this means at once and confirm in writing.",
            "",
            "Data Protection Officer",
        ]
    )


def notice_letter_pdf(*, actor: Any, notice: TransfereeNotice) -> bytes:
    """The notice as a PDF letter for posting; producing it is an export of personal data (audited)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    from kpis.exports import _pdf_font

    _require(actor, "customers.view_transfereenotice", "Opt-out notices are for the DPO.")
    styles = getSampleStyleSheet()
    body = styles["BodyText"]
    body.fontName = _pdf_font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, title="Opt-out notice")
    story: list[Any] = []
    for line in notice_letter(notice).split("\n"):
        escaped = line.replace("&", "&amp;").replace("<", "&lt;")
        story.append(Paragraph(escaped, body) if line else Spacer(1, 10))
    doc.build(story)
    with transaction.atomic():
        access_log.record_customer_reads(
            actor=actor,
            action=AuditEvent.Action.EXPORT,
            customer_ids=[notice.suppression.customer_id],
            purpose="s35G opt-out notice to a third party",
            fields=["given_name", "family_name"],
        )
    return out.getvalue()


@transaction.atomic
def notice_send(*, actor: Any, notice: TransfereeNotice, via: str) -> TransfereeNotice:
    """Send the notice by e-mail now, or record that the printed letter was posted."""
    _require(actor, "customers.change_transfereenotice", "Opt-out notices are sent by the DPO.")
    if notice.sent_at is not None:
        raise ValidationError({"via": "This notice was already sent."})
    if via not in TransfereeNotice.Via.values:
        raise ValidationError({"via": "Send by e-mail or post."})
    transferee = notice.transferee
    if via == TransfereeNotice.Via.EMAIL and not transferee.email:
        raise ValidationError({"via": "This third party has no e-mail address; post the letter."})
    if via == TransfereeNotice.Via.POST and not transferee.postal_address:
        raise ValidationError({"via": "This third party has no postal address; e-mail it."})
    before = audit.snapshot(notice)
    notice.sent_at = timezone.now()
    notice.sent_via = via
    notice.sent_by = actor
    notice.save()
    audit.record_change(AuditEvent.Action.UPDATE, notice, before=before, actor=actor)
    access_log.record_customer_reads(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        customer_ids=[notice.suppression.customer_id],
        purpose="s35G opt-out notice to a third party",
        fields=["given_name", "family_name"],
    )
    if via == TransfereeNotice.Via.EMAIL:
        letter = notice_letter(notice)
        recipient = transferee.email

        def send() -> None:
            try:
                send_mail(
                    subject="Opt-out from direct marketing (PDPO s35G)",
                    message=letter,
                    from_email=None,
                    recipient_list=[recipient],
                )
            except OSError:
                logger.exception("opt-out notice e-mail failed", extra={"notice": notice.pk})

        transaction.on_commit(send)
    return notice


# --- Exports and sends ----------------------------------------------------------------------------

EXPORT_COLUMNS = ("customer_id", "reference", "given_name", "family_name", "chinese_name", "contact")


@dataclass(frozen=True)
class MarketingList:
    record: MarketingExport
    rows: list[dict[str, Any]]


def _rows(customers: QuerySet[Customer], channel: str) -> list[dict[str, Any]]:
    contact = CONTACT_FIELD[MarketingChannel(channel)]
    values = customers.order_by("pk").values_list(
        "pk", "external_id", "given_name", "family_name", "chinese_name", contact
    )
    return [dict(zip(EXPORT_COLUMNS, row, strict=True)) for row in values]


def _marketing_list(
    *,
    actor: Any,
    kind: str,
    customers: QuerySet[Customer],
    channel: str,
    purpose: MarketingPurpose,
    transferee: Transferee | None,
    **fields: Any,
) -> MarketingList:
    _require(actor, "customers.add_marketingexport", "Marketing exports need the marketing or CRM role.")
    if channel not in MarketingChannel.values:
        raise ValidationError({"channel": "Unknown channel."})
    if not purpose.active:
        raise ValidationError({"purpose": "This purpose is no longer in use."})
    requested = customers.count()
    allowed = marketable(customers, channel=channel, purpose=purpose, transferee=transferee)
    rows = _rows(allowed, channel)
    record = MarketingExport.objects.create(
        kind=kind,
        channel=channel,
        purpose=purpose,
        transferee=transferee,
        requested=requested,
        included=len(rows),
        created_by=actor,
        **fields,
    )
    audit.record_change(AuditEvent.Action.CREATE, record, actor=actor)
    ids = [row["customer_id"] for row in rows]
    access_log.record_customer_reads(
        actor=actor,
        action=AuditEvent.Action.EXPORT,
        customer_ids=ids,
        purpose=f"direct marketing ({kind}): {purpose.name} by {channel}"
        + (f" to {transferee.name}" if transferee else ""),
        fields=["given_name", "family_name", "chinese_name", CONTACT_FIELD[MarketingChannel(channel)]],
    )
    return MarketingList(record, rows)


def export_flows(*, user: Any) -> QuerySet[DataFlow]:
    """The register lines a marketing list may be handed over under: active, outgoing lines with
    personal data of the vendors behind the transferees USER may export to."""
    vendors = Transferee.objects.restrict(user).exclude(vendor=None).values("vendor")
    return DataFlow.objects.filter(
        vendor__in=vendors,
        direction=DataFlow.Direction.TO_VENDOR,
        personal_data=True,
        active=True,
    ).select_related("vendor")


@transaction.atomic
def marketing_export(
    *,
    actor: Any,
    customers: QuerySet[Customer],
    channel: str,
    purpose: MarketingPurpose,
    file_format: str,
    transferee: Transferee | None = None,
    data_flow: DataFlow | None = None,
) -> MarketingList:
    """A marketing list as a file: only marketable customers (consent, opt-outs, transfers checked
    by :func:`customers.consent.marketable`), with the contact point of that channel only. The
    customers on it are recorded in the audit trail with the export's purpose.

    A list handed to a transferee's vendor names the register line it goes under (DATA_FLOW): the
    exchange is logged in the information-exchange register with the customers it carried, so a
    later correction reaches that vendor for those customers only (s23(1)(c))."""
    if file_format not in ("csv", "xlsx"):
        raise ValidationError({"file_format": "Export as csv or xlsx."})
    if data_flow is not None and (transferee is None or transferee.vendor_id != data_flow.vendor_id):
        raise ValidationError(
            {"data_flow_id": "Choose a register line of the vendor behind the chosen transferee."}
        )
    result = _marketing_list(
        actor=actor,
        kind=MarketingExport.Kind.EXPORT,
        customers=customers,
        channel=channel,
        purpose=purpose,
        transferee=transferee,
        file_format=file_format,
    )
    # Which customers were on the file is in the audit trail (their ids, with the purpose) and so in
    # the access log; export lines would only repeat it.
    if data_flow is not None:
        disclosures.exchange_log_with_customers(
            actor=actor,
            flow=data_flow,
            customer_ids=[row["customer_id"] for row in result.rows],
            reference=f"Marketing export {result.record.pk} ({file_format})",
        )
    return result


@transaction.atomic
def marketing_send(
    *,
    actor: Any,
    customers: QuerySet[Customer],
    channel: str,
    purpose: MarketingPurpose,
    subject: str,
    message: str,
    opt_out_notice: str,
) -> MarketingList:
    """Send a campaign to the marketable customers. Every message carries the opt-out notice; a
    customer's first message records that it did (s35F). E-mails, and SMS when an SMS backend is
    configured (``STEWARD_SMS_BACKEND``), go out after the transaction commits; other channels'
    lists are handed to the provider from the send's page."""
    message = _text(message, "message", "Write the message.")
    opt_out_notice = _text(
        opt_out_notice, "opt_out_notice", "Every marketing message tells the customer how to opt out (s35F)."
    )
    result = _marketing_list(
        actor=actor,
        kind=MarketingExport.Kind.SEND,
        customers=customers,
        channel=channel,
        purpose=purpose,
        transferee=None,
        subject=subject.strip()[:200],
        message=message,
        opt_out_notice=opt_out_notice,
    )
    ids = [row["customer_id"] for row in result.rows]
    noticed = set(
        MarketingState.objects.filter(customer_id__in=ids, first_notice_at__isnull=False).values_list(
            "customer_id", flat=True
        )
    )
    first = [i for i in ids if i not in noticed]
    now = timezone.now()
    MarketingState.objects.bulk_create(
        [MarketingState(customer_id=i) for i in first], ignore_conflicts=True, batch_size=2000
    )
    MarketingState.objects.filter(customer_id__in=first).update(
        first_notice_at=now, first_notice_channel=channel, updated_at=now
    )
    first_set = set(first)
    insert_rows(
        MarketingExportLine,
        ["export", "customer", "first_use"],
        ((result.record.pk, i, i in first_set) for i in ids),
    )
    if channel == MarketingChannel.EMAIL and result.rows:
        body = f"{message}\n\n{opt_out_notice}"
        mails: Sequence[tuple[str, str, None, list[str]]] = [
            (subject or purpose.name, body, None, [row["contact"]]) for row in result.rows
        ]

        def send() -> None:
            try:
                send_mass_mail(mails, fail_silently=False)
            except OSError:
                logger.exception("marketing e-mail failed", extra={"send": result.record.pk})

        transaction.on_commit(send)
    elif channel == MarketingChannel.SMS and result.rows and sms.sms_configured():
        # Only through the configured SMS backend (core.sms); without one the list is handed to the
        # provider from the send's page, as for phone and post.
        texts = [(row["contact"], f"{message}\n{opt_out_notice}") for row in result.rows if row["contact"]]

        def send_texts() -> None:
            try:
                sms.send_mass_sms(texts)
            except (OSError, ImproperlyConfigured):
                logger.exception("marketing SMS failed", extra={"send": result.record.pk})

        transaction.on_commit(send_texts)
    return result


# --- Transitional data (s35D) ---------------------------------------------------------------------


@transaction.atomic
def transitional_set(
    *, actor: Any, customer: Customer, pre_2013_data: bool, purposes: Sequence[MarketingPurpose]
) -> MarketingState:
    """Record that the customer's data was used for direct marketing before 1 April 2013 for these
    purposes (s35D): then it may still be used for them without a new consent, until the customer
    opts out. Only the DPO records it, from the records of that time."""
    _require(actor, "customers.change_marketingstate", "The s35D transitional record is kept by the DPO.")
    if pre_2013_data and not purposes:
        raise ValidationError({"purposes": "Name the purposes the data was used for before April 2013."})
    if not pre_2013_data and purposes:
        raise ValidationError({"purposes": "Purposes only apply to data used before April 2013."})
    state, created = MarketingState.objects.select_for_update().get_or_create(customer=customer)
    before = None if created else audit.snapshot(state)
    old_purposes = sorted(state.pre_2013_purposes.values_list("pk", flat=True))
    state.pre_2013_data = pre_2013_data
    state.save()
    state.pre_2013_purposes.set(purposes)
    new_purposes = sorted(p.pk for p in purposes)
    audit.record_change(
        AuditEvent.Action.CREATE if created else AuditEvent.Action.UPDATE, state, before=before, actor=actor
    )
    if old_purposes != new_purposes:
        audit.record_event(
            AuditEvent.Action.UPDATE,
            object_type=audit.object_type_of(state),
            object_id=str(state.pk),
            detail={
                "before": {"pre_2013_purposes": old_purposes},
                "after": {"pre_2013_purposes": new_purposes},
            },
            actor=actor,
        )
    return state
