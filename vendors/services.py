"""Writes for vendors, contracts, obligations and liaison. Pages, the API, the admin, Celery tasks and
the demo seed all call these.

Every function is keyword-only, runs in one transaction and writes its audit record in that
same transaction. Rules (lifecycle transitions, a term that ends after it starts, no two active
versions of a contract overlapping, critical allocations within 100% of the at-risk pool,
evidence checked by content) are enforced here, so no entry point can skip them; a broken rule
raises ``ValidationError`` or ``PermissionDenied`` before anything is written. ``actor=None`` is
the system (Celery beat, the demo seed).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from accounts.models import User
from core import audit, uploads
from core.models import AuditEvent
from vendors import risk, schedules
from vendors.models import (
    ActionItem,
    BusinessFunction,
    Contract,
    ContractAlert,
    ContractVersion,
    DataExchange,
    DataFlow,
    FeeItem,
    LiaisonEntry,
    Obligation,
    ObligationEvidence,
    ObligationInstance,
    Party,
    Raci,
    RaciEntry,
    RiskAssessment,
    RiskQuestionnaire,
    ScopeAssignment,
    ScopeItem,
    ServiceLevel,
    UpdateRequest,
    Vendor,
    VendorContact,
    VendorDocument,
    VendorService,
    VendorStatusChange,
)

logger = logging.getLogger("steward.vendors")

MAX_ALERT_DAYS = 365
MAX_PARTS = 100
HUNDRED = Decimal(100)


# --- Shared helpers -------------------------------------------------------------------------------


def _require(actor: Any, perm: str, message: str) -> None:
    """Permission check for people; ``actor=None`` is the system (Celery beat, the demo seed)."""
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


def _require_own_vendor(actor: Any, vendor_id: int | None) -> None:
    """A portal user acts only on their own vendor's records (``restrict`` already narrowed the
    lookup; this keeps a service called from elsewhere just as safe)."""
    if actor is not None and getattr(actor, "vendor_id", None) is not None and actor.vendor_id != vendor_id:
        raise PermissionDenied("You may act only on your own vendor's records.")


def _staff_only(actor: Any, message: str) -> None:
    if actor is not None and getattr(actor, "vendor_id", None) is not None:
        raise PermissionDenied(message)


def _decimal(value: Any, field: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"“{value}” is not a number."}) from None
    if not result.is_finite():
        raise ValidationError({field: "Give a finite number."})
    return result


def _today(today: date | None) -> date:
    return today or timezone.localdate()


def _save_new(instance: Any, actor: Any, *, exclude: Sequence[str] = ()) -> Any:
    instance.full_clean(exclude=list(exclude) or None)
    instance.save()
    audit.record_change(AuditEvent.Action.CREATE, instance, actor=actor)
    return instance


def _save_changed(instance: Any, before: dict[str, Any], actor: Any, *, purpose: str = "") -> Any:
    instance.full_clean()
    instance.save()
    audit.record_change(AuditEvent.Action.UPDATE, instance, before=before, actor=actor, purpose=purpose)
    return instance


def _event(action: str, instance: Any, detail: dict[str, Any], actor: Any) -> None:
    audit.record_event(
        action,
        object_type=audit.object_type_of(instance),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        detail=detail,
        actor=actor,
    )


def _mail_after_commit(messages: Mapping[str, tuple[str, list[str]]]) -> None:
    """Send e-mails (recipient -> (subject, lines)) once the transaction commits; a mail failure
    is logged, never undoes the work."""

    def send() -> None:
        for recipient, (subject, lines) in messages.items():
            try:
                send_mail(
                    subject=subject, message="\n".join(lines), from_email=None, recipient_list=[recipient]
                )
            except OSError:
                logger.exception("vendor notification failed", extra={"recipient": recipient})

    if messages:
        transaction.on_commit(send)


def _vendor_managers_emails() -> list[str]:
    return sorted(
        set(
            User.objects.filter(groups__name="vendor_manager", is_active=True)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


# --- Vendors and their lifecycle ------------------------------------------------------------------


@dataclass(frozen=True)
class ServiceSpec:
    """One service a vendor provides, as given by a page, the API or the seed."""

    category: str
    service_model: str
    description: str = ""


def _write_services(vendor: Vendor, specs: Sequence[ServiceSpec], actor: Any) -> None:
    seen = set()
    for spec in specs:
        key = (spec.category, spec.service_model)
        if key in seen:
            raise ValidationError({"services": "Each category and service model is listed once."})
        seen.add(key)
    before = [[s.category, s.service_model, s.description] for s in vendor.services.all()]
    vendor.services.all().delete()
    rows = []
    for spec in specs:
        row = VendorService(
            vendor=vendor,
            category=spec.category,
            service_model=spec.service_model,
            description=spec.description,
        )
        row.full_clean(exclude=["vendor"])
        rows.append(row)
    VendorService.objects.bulk_create(rows)
    after = [[s.category, s.service_model, s.description] for s in specs]
    if before != after:
        _event(
            AuditEvent.Action.UPDATE,
            vendor,
            {"before": {"services": before}, "after": {"services": after}},
            actor,
        )


@transaction.atomic
def vendor_create(
    *,
    actor: Any,
    code: str,
    name: str,
    status: str = Vendor.Status.PROSPECT,
    services: Sequence[ServiceSpec] = (),
) -> Vendor:
    """Register an outsourcing vendor (seed 000 §1), in any status (an existing vendor is registered
    as it stands); from then on the status moves only along ``Vendor.TRANSITIONS``."""
    _require(actor, "vendors.add_vendor", "Registering vendors needs the vendor manager role.")
    vendor = Vendor(code=code, name=name, status=status)
    vendor.full_clean()
    vendor.save()
    # The lifecycle history starts here. It is a projection of the audited change, so it is
    # not audited separately (the vendor's own audit row carries the status).
    VendorStatusChange.objects.create(vendor=vendor, from_status="", to_status=status, changed_by=actor)
    audit.record_change(AuditEvent.Action.CREATE, vendor, actor=actor)
    if services:
        _write_services(vendor, services, actor)
    return vendor


def _check_transition(vendor: Vendor, to_status: str) -> None:
    if to_status not in Vendor.Status.values:
        raise ValidationError({"status": f"“{to_status}” is not a vendor status."})
    if to_status not in vendor.allowed_statuses():
        allowed = ", ".join(str(Vendor.Status(s).label) for s in vendor.allowed_statuses()) or "none"
        raise ValidationError(
            {
                "status": f"A vendor cannot go from {vendor.get_status_display()} to "
                f"{Vendor.Status(to_status).label}; from {vendor.get_status_display()} "
                f"it can go to: {allowed}."
            }
        )


@transaction.atomic
def vendor_update(*, actor: Any, vendor: Vendor, reason: str = "", **changes: Any) -> Vendor:
    """Rename a vendor or move it along its lifecycle (``status``), with a reason kept in the history.

    The caller has fetched VENDOR through ``restrict(user, "change")``; the status may only
    follow ``Vendor.TRANSITIONS`` (prospect → onboarding → active → under review → exiting → ended).
    """
    allowed = {"name", "status"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in unknown})
    before = audit.snapshot(vendor)
    old_status = vendor.status
    new_status = changes.get("status", old_status)
    if new_status != old_status:
        _check_transition(vendor, new_status)
    for field, value in changes.items():
        setattr(vendor, field, value)
    vendor.full_clean()
    vendor.save()
    if new_status != old_status:
        VendorStatusChange.objects.create(
            vendor=vendor, from_status=old_status, to_status=new_status, reason=reason, changed_by=actor
        )
    audit.record_change(
        AuditEvent.Action.UPDATE, vendor, before=before, actor=actor, purpose=reason[:200] if reason else ""
    )
    return vendor


def vendor_change_status(*, actor: Any, vendor: Vendor, status: str, reason: str) -> Vendor:
    """Move a vendor along its lifecycle; the reason is required and kept in the history."""
    if not reason.strip():
        raise ValidationError({"reason": "Say why the vendor's status changes."})
    return vendor_update(actor=actor, vendor=vendor, status=status, reason=reason.strip())


@transaction.atomic
def vendor_flag_for_review(*, actor: Any, vendor: Vendor, reason: str) -> bool:
    """Put an active vendor under review (a scorecard standing asks for it); True if it moved.

    A vendor that is not active (onboarding, exiting…) stays where it is: a review is a step of an
    active relationship, and the lifecycle's rules hold for the system as for people.
    """
    if vendor.status != Vendor.Status.ACTIVE:
        return False
    vendor_update(actor=actor, vendor=vendor, status=Vendor.Status.UNDER_REVIEW, reason=reason)
    return True


@transaction.atomic
def vendor_services_set(*, actor: Any, vendor: Vendor, services: Sequence[ServiceSpec]) -> Vendor:
    """Replace the list of services (category × service model) the vendor provides."""
    _require(actor, "vendors.change_vendor", "Changing vendors needs the vendor manager role.")
    _write_services(vendor, services, actor)
    return vendor


# --- Risk -----------------------------------------------------------------------------------------


@transaction.atomic
def risk_questionnaire_create(
    *, actor: Any, code: str, title: str, questions: list[dict[str, Any]], tiers: list[dict[str, Any]]
) -> RiskQuestionnaire:
    """Publish a questionnaire, as the next version of CODE (earlier versions stay as they were)."""
    _require(
        actor, "vendors.add_riskquestionnaire", "Publishing questionnaires needs the vendor manager role."
    )
    risk.check_questionnaire(questions, tiers)
    latest = RiskQuestionnaire.objects.filter(code=code).aggregate(n=Max("version"))["n"] or 0
    questionnaire = RiskQuestionnaire(
        code=code, version=latest + 1, title=title, questions=questions, tiers=tiers
    )
    return _save_new(questionnaire, actor)  # type: ignore[no-any-return]


def _default_questionnaire() -> RiskQuestionnaire:
    spec = risk.DEFAULT_QUESTIONNAIRE
    found = RiskQuestionnaire.objects.filter(code=spec["code"]).order_by("-version").first()
    if found is not None:
        return found
    return risk_questionnaire_create(
        actor=None, code=spec["code"], title=spec["title"], questions=spec["questions"], tiers=spec["tiers"]
    )


@transaction.atomic
def risk_assess(
    *,
    actor: Any,
    vendor: Vendor,
    answers: Mapping[str, str],
    notes: str = "",
    questionnaire: RiskQuestionnaire | None = None,
) -> RiskAssessment:
    """Assess a vendor's risk with a questionnaire (the latest default one unless given); the
    resulting tier becomes the vendor's current tier, earlier assessments its history."""
    _require(actor, "vendors.add_riskassessment", "Assessing risk needs the vendor manager role.")
    questionnaire = questionnaire or _default_questionnaire()
    value, tier = risk.score(questionnaire.questions, questionnaire.tiers, answers)
    assessment = RiskAssessment(
        vendor=vendor,
        questionnaire=questionnaire,
        answers=dict(answers),
        score=value,
        tier=tier,
        notes=notes,
        assessed_by=actor,
    )
    return _save_new(assessment, actor)  # type: ignore[no-any-return]


# --- Contacts and documents -----------------------------------------------------------------------

CONTACT_FIELDS = ("name", "job_title", "email", "phone", "escalation_level", "is_primary")


def _one_primary(contact: VendorContact, actor: Any) -> None:
    if not contact.is_primary:
        return
    for other in VendorContact.objects.filter(vendor_id=contact.vendor_id, is_primary=True).exclude(
        pk=contact.pk
    ):
        before = audit.snapshot(other)
        other.is_primary = False
        other.save(update_fields=["is_primary", "updated_at"])
        audit.record_change(AuditEvent.Action.UPDATE, other, before=before, actor=actor)


@transaction.atomic
def contact_create(*, actor: Any, vendor: Vendor, name: str, **fields: Any) -> VendorContact:
    """Add a person at the vendor with their escalation level (one primary contact per vendor)."""
    _require(actor, "vendors.add_vendorcontact", "Adding contacts needs the vendor manager role.")
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError({field: "Unknown field." for field in unknown})
    contact = _save_new(VendorContact(vendor=vendor, name=name, **fields), actor)
    _one_primary(contact, actor)
    return contact  # type: ignore[no-any-return]


@transaction.atomic
def contact_update(*, actor: Any, contact: VendorContact, **changes: Any) -> VendorContact:
    """Change a contact's details or escalation level."""
    _require(actor, "vendors.change_vendorcontact", "Changing contacts needs the vendor manager role.")
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in unknown})
    before = audit.snapshot(contact)
    for field, value in changes.items():
        setattr(contact, field, value)
    _save_changed(contact, before, actor)
    _one_primary(contact, actor)
    return contact


@transaction.atomic
def contact_delete(*, actor: Any, contact: VendorContact) -> None:
    """Remove a contact who no longer works on our account."""
    _require(actor, "vendors.delete_vendorcontact", "Removing contacts needs the vendor manager role.")
    audit.record_change(AuditEvent.Action.DELETE, contact, actor=actor)
    contact.delete()


@transaction.atomic
def document_add(
    *,
    actor: Any,
    vendor: Vendor,
    kind: str,
    title: str,
    reference: str = "",
    issuer: str = "",
    issued_on: date | None = None,
    expires_on: date | None = None,
    upload: Any = None,
    replaces: VendorDocument | None = None,
) -> VendorDocument:
    """Register a certificate or document with its expiry date, optionally with the file (checked by
    content). REPLACES marks an earlier document (e.g. last year's certificate) as replaced, which
    stops its expiry reminders."""
    _require(actor, "vendors.add_vendordocument", "Adding documents needs the vendor manager role.")
    if replaces is not None and replaces.vendor_id != vendor.pk:
        raise ValidationError({"replaces": "The replaced document belongs to another vendor."})
    document = VendorDocument(
        vendor=vendor,
        kind=kind,
        title=title,
        reference=reference,
        issuer=issuer,
        issued_on=issued_on,
        expires_on=expires_on,
        added_by=actor,
    )
    if issued_on and expires_on and expires_on <= issued_on:
        raise ValidationError({"expires_on": "A document expires after it is issued."})
    document.full_clean(exclude=["file"])
    checked = uploads.check_upload(upload) if upload is not None else None
    with uploads.files_removed_on_failure() as keep:
        if checked is not None:
            document.file.save(checked.stored_name(), upload, save=False)
            keep(document.file)
            document.file_name = checked.original_name
            document.content_type = checked.content_type
            document.size = checked.size
        document.save()
        audit.record_change(AuditEvent.Action.CREATE, document, actor=actor)
        if replaces is not None:
            before = audit.snapshot(replaces)
            replaces.replaced_by = document
            replaces.save(update_fields=["replaced_by", "updated_at"])
            audit.record_change(AuditEvent.Action.UPDATE, replaces, before=before, actor=actor)
    return document


def document_reminder_days() -> tuple[int, ...]:
    """Days before expiry at which documents are reminded of, longest first (0: on the day)."""
    return tuple(sorted(getattr(settings, "STEWARD_DOCUMENT_REMINDER_DAYS", (60, 30, 7, 0)), reverse=True))


@transaction.atomic
def document_reminders_send(*, today: date | None = None) -> int:
    """Daily: remind vendor managers of certificates and documents expiring within the reminder
    lead times (default 60, 30 and 7 days, and on expiry). Each lead time reminds once per document;
    a replaced document is not reminded of. Returns the number of reminders."""
    today = _today(today)
    leads = document_reminder_days()
    if not leads:
        return 0
    due = (
        VendorDocument.objects.filter(
            replaced_by__isnull=True,
            expires_on__isnull=False,
            expires_on__lte=today + timedelta(days=leads[0]),
        )
        .select_related("vendor")
        .order_by("expires_on", "id")
    )
    lines: list[str] = []
    reminded = 0
    for document in due:
        assert document.expires_on is not None  # filtered above; narrows the type
        days_left = (document.expires_on - today).days
        bucket = min((lead for lead in leads if days_left <= lead), default=None)
        if bucket is None or (
            document.last_reminder_days is not None and document.last_reminder_days <= bucket
        ):
            continue
        document.last_reminder_days = bucket
        document.reminded_at = timezone.now()
        document.save(update_fields=["last_reminder_days", "reminded_at", "updated_at"])
        _event(
            AuditEvent.Action.OTHER,
            document,
            {"reminder": "expiry", "expires_on": document.expires_on.isoformat(), "days_left": days_left},
            None,
        )
        when = (
            "expired"
            if days_left < 0
            else "expires today"
            if days_left == 0
            else f"expires in {days_left} days"
        )
        lines.append(f"{document.vendor.name}: {document.title} {when} ({document.expires_on:%d %b %Y}).")
        reminded += 1
    if lines:
        subject = f"Steward: {len(lines)} vendor document(s) expiring"
        _mail_after_commit({email: (subject, lines) for email in _vendor_managers_emails()})
    return reminded


# --- Contracts ------------------------------------------------------------------------------------

TERM_FIELDS = (
    "start",
    "end",
    "signed_on",
    "monthly_fee",
    "total_value",
    "at_risk_pct",
    "renewal_type",
    "renewal_term_months",
    "notice_period_days",
    "data_sharing",
    "summary",
)


def _check_alert_days(days: Any) -> list[int]:
    if not isinstance(days, list | tuple) or not days or len(days) > 10:
        raise ValidationError({"alert_days": "Give one to ten lead times in days, e.g. 120, 90, 30."})
    if not all(isinstance(d, int) and not isinstance(d, bool) and 1 <= d <= MAX_ALERT_DAYS for d in days):
        raise ValidationError(
            {"alert_days": f"Each lead time is a whole number of days from 1 to {MAX_ALERT_DAYS}."}
        )
    return sorted(set(days), reverse=True)


def _apply_terms(version: ContractVersion, terms: Mapping[str, Any]) -> None:
    unknown = set(terms) - set(TERM_FIELDS)
    if unknown:
        raise ValidationError({field: "Unknown contract term." for field in unknown})
    for field, value in terms.items():
        if field in ("monthly_fee", "total_value", "at_risk_pct") and value is not None:
            value = _decimal(value, field)
        setattr(version, field, value)
    start, end = version.start, version.end
    if start is None or end is None:
        raise ValidationError({"start": "A contract has a start and an end date."})
    if end <= start:
        raise ValidationError(
            {"end": f"The contract ends ({end:%d %b %Y}) before or on the day it starts ({start:%d %b %Y})."}
        )
    if version.signed_on and version.signed_on > end:
        raise ValidationError({"signed_on": "A contract is signed before its term ends."})
    version.effective_end = end
    notice = version.notice_period_days or 0
    version.notice_by = end - timedelta(days=notice)
    if version.notice_by < start:
        raise ValidationError({"notice_period_days": "The notice period is longer than the whole term."})
    if version.renewal_type == "automatic" and not version.renewal_term_months:
        raise ValidationError(
            {"renewal_term_months": "An automatic renewal says for how many months it renews."}
        )


@transaction.atomic
def contract_create(
    *,
    actor: Any,
    vendor: Vendor,
    reference: str,
    title: str,
    our_entity: str,
    vendor_entity: str = "",
    owner: User | None = None,
    alert_days: Sequence[int] | None = None,
    **terms: Any,
) -> Contract:
    """Record a contract with a vendor and its first (draft) version: parties, term, fees in HKD,
    renewal and notice (seed 000 §2). The draft becomes binding when it is activated."""
    _require(actor, "vendors.add_contract", "Recording contracts needs the vendor manager role.")
    if vendor.status == Vendor.Status.ENDED:
        raise ValidationError({"vendor": "The relationship with this vendor has ended."})
    if owner is not None and owner.is_portal_user:
        raise ValidationError({"owner": "A contract's owner is one of our staff."})
    contract = Contract(
        vendor=vendor,
        reference=reference,
        title=title,
        our_entity=our_entity,
        vendor_entity=vendor_entity or vendor.name,
        owner=owner,
    )
    if alert_days is not None:
        contract.alert_days = _check_alert_days(list(alert_days))
    contract.full_clean(exclude=["subject", "scorecard"])
    version = ContractVersion(number=1, kind=ContractVersion.Kind.ORIGINAL, created_by=actor)
    _apply_terms(version, terms)
    version.full_clean(exclude=["contract"])
    contract.save()
    audit.record_change(AuditEvent.Action.CREATE, contract, actor=actor)
    version.contract = contract
    version.save()
    audit.record_change(AuditEvent.Action.CREATE, version, actor=actor)
    return contract


@transaction.atomic
def contract_update(*, actor: Any, contract: Contract, **changes: Any) -> Contract:
    """Change a contract's title, parties' names, owner or alert lead times (terms change by version)."""
    _require(actor, "vendors.change_contract", "Changing contracts needs the vendor manager role.")
    allowed = {"title", "our_entity", "vendor_entity", "owner", "alert_days"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({field: "This field changes through a new version." for field in unknown})
    if "alert_days" in changes:
        changes["alert_days"] = _check_alert_days(changes["alert_days"])
    owner = changes.get("owner")
    if owner is not None and owner.is_portal_user:
        raise ValidationError({"owner": "A contract's owner is one of our staff."})
    before = audit.snapshot(contract)
    for field, value in changes.items():
        setattr(contract, field, value)
    return _save_changed(contract, before, actor)  # type: ignore[no-any-return]


def _copy_parts(source: ContractVersion, target: ContractVersion) -> None:
    """A new version starts from the terms it amends or renews."""
    for model, related in (
        (FeeItem, "fees"),
        (ScopeItem, "scope_items"),
        (RaciEntry, "raci"),
        (ServiceLevel, "service_levels"),
    ):
        rows = []
        for part in getattr(source, related).all():
            part.pk = None
            part.id = None
            part._state.adding = True
            part.version = target
            rows.append(part)
        model._default_manager.bulk_create(rows)


@transaction.atomic
def contract_version_create(*, actor: Any, contract: Contract, kind: str, **terms: Any) -> ContractVersion:
    """Draft an amendment or a renewal: it starts as a copy of the latest agreed version (fees,
    scope, RACI, service levels) with the terms given here. One draft at a time."""
    _require(actor, "vendors.change_contract", "Amending contracts needs the vendor manager role.")
    if kind not in (ContractVersion.Kind.AMENDMENT, ContractVersion.Kind.RENEWAL):
        raise ValidationError({"kind": "A new version is an amendment or a renewal."})
    contract = Contract.objects.select_for_update().get(pk=contract.pk)
    draft = contract.versions.filter(status=ContractVersion.Status.DRAFT).first()
    if draft is not None:
        raise ValidationError(
            {
                "kind": f"Version {draft.number} is still a draft: "
                "activate or cancel it before starting another."
            }
        )
    base = (
        contract.versions.filter(status__in=ContractVersion.PUBLISHED).order_by("-number").first()
        or contract.versions.order_by("-number").first()
    )
    number = (contract.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = ContractVersion(contract=contract, number=number, kind=kind, created_by=actor)
    if base is not None:
        for field in TERM_FIELDS:
            if field not in ("summary", "signed_on"):
                setattr(version, field, getattr(base, field))
    _apply_terms(version, terms)
    version.full_clean()
    version.save()
    if base is not None:
        _copy_parts(base, version)
    audit.record_change(AuditEvent.Action.CREATE, version, actor=actor)
    return version


def _require_draft(version: ContractVersion) -> None:
    if not version.is_draft:
        raise ValidationError(
            {
                "version": f"Version {version.number} is {version.get_status_display().lower()}: "
                "agreed terms change only through an amendment."
            }
        )


@transaction.atomic
def contract_version_update(*, actor: Any, version: ContractVersion, **terms: Any) -> ContractVersion:
    """Change a draft version's terms (term, fees, renewal and notice, data sharing)."""
    _require(actor, "vendors.change_contractversion", "Changing contracts needs the vendor manager role.")
    _require_draft(version)
    before = audit.snapshot(version)
    _apply_terms(version, terms)
    return _save_changed(version, before, actor)  # type: ignore[no-any-return]


def _parts_event(
    version: ContractVersion, name: str, before: list[Any], after: list[Any], actor: Any
) -> None:
    _event(AuditEvent.Action.UPDATE, version, {"before": {name: before}, "after": {name: after}}, actor)


def _check_count(items: Sequence[Any], name: str) -> None:
    if len(items) > MAX_PARTS:
        raise ValidationError({name: f"At most {MAX_PARTS} lines."})


@transaction.atomic
def fees_set(*, actor: Any, version: ContractVersion, items: Sequence[Mapping[str, Any]]) -> list[FeeItem]:
    """Replace a draft version's fee schedule (amounts in HKD)."""
    _require(actor, "vendors.change_contractversion", "Changing contracts needs the vendor manager role.")
    _require_draft(version)
    _check_count(items, "fees")
    rows = []
    for position, item in enumerate(items):
        row = FeeItem(
            version=version,
            position=position,
            description=item.get("description", ""),
            basis=item.get("basis", ""),
            amount=_decimal(item.get("amount"), "fees"),
            unit=item.get("unit", ""),
        )
        try:
            row.full_clean(exclude=["version"])
        except ValidationError as exc:
            raise ValidationError({"fees": f"Line {position + 1}: {'; '.join(exc.messages)}"}) from None
        rows.append(row)
    before = [[f.description, f.basis, str(f.amount), f.unit] for f in version.fees.all()]
    version.fees.all().delete()
    FeeItem.objects.bulk_create(rows)
    _parts_event(
        version, "fees", before, [[r.description, r.basis, str(r.amount), r.unit] for r in rows], actor
    )
    return rows


@transaction.atomic
def scope_set(*, actor: Any, version: ContractVersion, items: Sequence[Mapping[str, Any]]) -> list[ScopeItem]:
    """Replace a draft version's scope items, exclusions and deliverables."""
    _require(actor, "vendors.change_contractversion", "Changing contracts needs the vendor manager role.")
    _require_draft(version)
    _check_count(items, "scope")
    rows = []
    for position, item in enumerate(items):
        row = ScopeItem(
            version=version,
            position=position,
            kind=item.get("kind", ""),
            description=item.get("description", ""),
            due_on=item.get("due_on"),
            acceptance=item.get("acceptance", ""),
        )
        try:
            row.full_clean(exclude=["version"])
        except ValidationError as exc:
            raise ValidationError({"scope": f"Line {position + 1}: {'; '.join(exc.messages)}"}) from None
        if row.due_on and row.kind != ScopeItem.Kind.DELIVERABLE:
            raise ValidationError({"scope": f"Line {position + 1}: only deliverables have a due date."})
        rows.append(row)
    before = [[s.kind, s.description] for s in version.scope_items.all()]
    version.scope_items.all().delete()
    ScopeItem.objects.bulk_create(rows)
    _parts_event(version, "scope", before, [[r.kind, r.description] for r in rows], actor)
    return rows


@transaction.atomic
def raci_set(*, actor: Any, version: ContractVersion, items: Sequence[Mapping[str, Any]]) -> list[RaciEntry]:
    """Replace a draft version's RACI: per activity, our role and the vendor's, exactly one accountable."""
    _require(actor, "vendors.change_contractversion", "Changing contracts needs the vendor manager role.")
    _require_draft(version)
    _check_count(items, "raci")
    rows = []
    seen: set[str] = set()
    for position, item in enumerate(items):
        activity = str(item.get("activity", "")).strip()
        company, vendor = item.get("company_role", ""), item.get("vendor_role", "")
        if activity.lower() in seen:
            raise ValidationError({"raci": f"“{activity}” appears twice."})
        seen.add(activity.lower())
        if company not in Raci.values or vendor not in Raci.values:
            raise ValidationError({"raci": f"“{activity}”: roles are R, A, C, I or - (none)."})
        if (company == Raci.ACCOUNTABLE) == (vendor == Raci.ACCOUNTABLE):
            raise ValidationError({"raci": f"“{activity}”: exactly one party is accountable (A)."})
        row = RaciEntry(
            version=version, position=position, activity=activity, company_role=company, vendor_role=vendor
        )
        try:
            row.full_clean(exclude=["version"], validate_constraints=False)
        except ValidationError as exc:
            raise ValidationError({"raci": f"“{activity}”: {'; '.join(exc.messages)}"}) from None
        rows.append(row)
    before = [[r.activity, r.company_role, r.vendor_role] for r in version.raci.all()]
    version.raci.all().delete()
    RaciEntry.objects.bulk_create(rows)
    _parts_event(version, "raci", before, [[r.activity, r.company_role, r.vendor_role] for r in rows], actor)
    return rows


@dataclass(frozen=True)
class ServiceLevelSpec:
    """One service level as given by a page, the API or the seed."""

    kpi: Any  # kpis.KpiDefinition
    kind: str
    weight: Decimal
    allocation_pct: Decimal = Decimal(0)
    clause: str = ""


def check_service_levels(levels: Sequence[ServiceLevelSpec]) -> None:
    """The rules for a version's service levels; raises ValidationError under ``service_levels``."""
    _check_count(levels, "service_levels")
    kpi_ids = [level.kpi.pk for level in levels]
    if len(set(kpi_ids)) != len(kpi_ids):
        raise ValidationError({"service_levels": "Each KPI appears once among the service levels."})
    for level in levels:
        if level.kind not in ServiceLevel.Kind.values:
            raise ValidationError({"service_levels": f"“{level.kind}” is neither critical nor key."})
        if getattr(level.kpi, "retired_at", None) is not None:
            raise ValidationError({"service_levels": f"“{level.kpi}” is a retired KPI."})
        allocation = _decimal(level.allocation_pct, "service_levels")
        if not Decimal(0) <= allocation <= HUNDRED:
            raise ValidationError({"service_levels": f"“{level.kpi}”: an allocation is between 0 and 100%."})
        if level.kind == ServiceLevel.Kind.KEY and allocation:
            raise ValidationError(
                {
                    "service_levels": f"“{level.kpi}” is a key measurement: it carries no credit, "
                    "so its allocation is 0%."
                }
            )
        if not Decimal(0) < _decimal(level.weight, "service_levels") <= HUNDRED:
            raise ValidationError(
                {"service_levels": f"“{level.kpi}”: a weight is more than 0 and at most 100."}
            )
    pooled = sum((Decimal(level.allocation_pct) for level in levels), Decimal(0))
    if pooled > HUNDRED:
        raise ValidationError(
            {
                "service_levels": f"The critical service levels' allocations total {pooled.normalize():f}% "
                "of the at-risk pool; together they may take at most 100%."
            }
        )
    if levels:
        weights = sum((Decimal(level.weight) for level in levels), Decimal(0))
        if weights != HUNDRED:
            raise ValidationError(
                {
                    "service_levels": f"The scorecard weights total {weights.normalize():f}; "
                    "they must total exactly 100."
                }
            )


@transaction.atomic
def service_levels_set(
    *, actor: Any, version: ContractVersion, levels: Sequence[ServiceLevelSpec]
) -> list[ServiceLevel]:
    """Replace a draft version's service levels, each linked to a KPI, critical or key measurement."""
    _require(actor, "vendors.change_contractversion", "Changing contracts needs the vendor manager role.")
    _require_draft(version)
    check_service_levels(levels)
    rows = [
        ServiceLevel(
            version=version,
            position=position,
            kpi=level.kpi,
            kind=level.kind,
            allocation_pct=Decimal(level.allocation_pct),
            weight=Decimal(level.weight),
            clause=level.clause,
        )
        for position, level in enumerate(levels)
    ]
    for row in rows:
        row.full_clean(exclude=["version", "kpi"], validate_constraints=False)
    before = [[s.kpi_id, s.kind, str(s.allocation_pct), str(s.weight)] for s in version.service_levels.all()]
    version.service_levels.all().delete()
    ServiceLevel.objects.bulk_create(rows)
    after = [[r.kpi.pk, r.kind, str(r.allocation_pct), str(r.weight)] for r in rows]
    _parts_event(version, "service_levels", before, after, actor)
    return rows


def _describe(version: ContractVersion) -> str:
    return f"version {version.number} ({version.start:%d %b %Y} – {version.effective_end:%d %b %Y})"


@transaction.atomic
def contract_version_activate(
    *, actor: Any, version: ContractVersion, today: date | None = None
) -> ContractVersion:
    """Make a draft binding. Active versions of a contract never overlap: an amendment that starts
    inside the active version's term supersedes it from its start; anything else that overlaps an
    active version is refused. Obligations then get their dates up to the new end of the term."""
    _require(actor, "vendors.change_contractversion", "Activating contracts needs the vendor manager role.")
    # Serialise activations of one contract, so that two at once cannot both pass the overlap check.
    Contract.objects.select_for_update().filter(pk=version.contract_id).first()
    version.refresh_from_db()
    _require_draft(version)
    check_service_levels(
        [
            ServiceLevelSpec(s.kpi, s.kind, s.weight, s.allocation_pct, s.clause)
            for s in version.service_levels.select_related("kpi")
        ]
    )
    overlapping = list(
        ContractVersion.objects.filter(
            contract_id=version.contract_id,
            status=ContractVersion.Status.ACTIVE,
            start__lte=version.end,
            effective_end__gte=version.start,
        ).exclude(pk=version.pk)
    )
    superseded: list[ContractVersion] = []
    for other in overlapping:
        if version.kind == ContractVersion.Kind.AMENDMENT and other.start < version.start:
            superseded.append(other)
            continue
        raise ValidationError(
            {
                "start": f"This {_describe(version)} overlaps the active {_describe(other)}. Two active "
                "versions of a contract cannot overlap: start it after the other ends, or make it an "
                "amendment that starts after the other version starts."
            }
        )
    for other in superseded:
        before = audit.snapshot(other)
        other.effective_end = version.start - timedelta(days=1)
        other.status = ContractVersion.Status.SUPERSEDED
        other.save(update_fields=["effective_end", "status", "updated_at"])
        audit.record_change(
            AuditEvent.Action.UPDATE,
            other,
            before=before,
            actor=actor,
            purpose=f"superseded by v{version.number}",
        )
    before = audit.snapshot(version)
    version.status = ContractVersion.Status.ACTIVE
    version.activated_by = actor
    version.activated_at = timezone.now()
    version.save(update_fields=["status", "activated_by", "activated_at", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, version, before=before, actor=actor, purpose="activated")
    for obligation in Obligation.objects.filter(contract_id=version.contract_id, active=True):
        obligation_instances_generate(obligation=obligation, today=today)
    return version


@transaction.atomic
def contract_version_cancel(*, actor: Any, version: ContractVersion, reason: str) -> ContractVersion:
    """Abandon a draft version (kept, marked cancelled, with the reason)."""
    _require(actor, "vendors.change_contractversion", "Changing contracts needs the vendor manager role.")
    _require_draft(version)
    if not reason.strip():
        raise ValidationError({"reason": "Say why the draft is abandoned."})
    before = audit.snapshot(version)
    version.status = ContractVersion.Status.CANCELLED
    version.save(update_fields=["status", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, version, before=before, actor=actor, purpose=reason[:200])
    return version


def term_end(contract: Contract) -> date | None:
    """The last day any active version of CONTRACT is in force, or None before activation."""
    value = ContractVersion.objects.filter(
        contract_id=contract.pk, status=ContractVersion.Status.ACTIVE
    ).aggregate(end=Max("effective_end"))["end"]
    return value  # type: ignore[no-any-return]


def version_in_force(contract: Contract, day: date) -> ContractVersion | None:
    """The active (or superseded) version whose effective term covers DAY."""
    return (
        ContractVersion.objects.filter(
            contract_id=contract.pk,
            status__in=ContractVersion.PUBLISHED,
            start__lte=day,
            effective_end__gte=day,
        )
        .order_by("-number")
        .first()
    )


@transaction.atomic
def contract_scorecard_setup(
    *, actor: Any, contract: Contract, standing_scheme: Any = None, today: date | None = None
) -> Any:
    """Give the contract its monthly scorecard in the measurement engine, built from the service
    levels of the version in force: a ``kpis.Subject`` of kind ``vendor_contract`` pointing at the
    contract, a scorecard with one line per service level (weight, critical, allocation), and the
    credit terms (monthly fee and at-risk % of the version) when it has critical service levels.
    Run again after an amendment to bring the scorecard up to date. Returns the scorecard."""
    from kpis import services as kpis_services
    from kpis.models import Subject

    _require(actor, "vendors.change_contract", "Setting up scorecards needs the vendor manager role.")
    today = _today(today)
    version = version_in_force(contract, today) or (
        contract.versions.filter(status=ContractVersion.Status.ACTIVE).order_by("start").first()
    )
    if version is None:
        raise ValidationError(
            {"contract": "Activate a version of the contract before building its scorecard."}
        )
    levels = list(version.service_levels.select_related("kpi"))
    if not levels:
        raise ValidationError({"service_levels": "The contract has no service levels to score."})
    lines = [
        kpis_services.LineSpec(
            kpi=level.kpi,
            weight=level.weight,
            critical=level.kind == ServiceLevel.Kind.CRITICAL,
            allocation_pct=level.allocation_pct,
        )
        for level in levels
    ]
    before = audit.snapshot(contract)
    subject = contract.subject
    if subject is None:
        subject = kpis_services.subject_create(
            actor=actor,
            kind=Subject.Kind.VENDOR_CONTRACT,
            label=f"{contract.reference} {contract.title}"[:200],
            vendor=contract.vendor,
            reference=contract,
        )
        contract.subject = subject
    scorecard = contract.scorecard
    if scorecard is None:
        scorecard = kpis_services.scorecard_create(
            actor=actor,
            name=f"{contract.vendor.name}: {contract.title}"[:200],
            subject=subject,
            lines=lines,
            standing_scheme=standing_scheme,
        )
        contract.scorecard = scorecard
    else:
        kpis_services.scorecard_set_lines(actor=actor, scorecard=scorecard, lines=lines)
    if any(line.critical for line in lines):
        kpis_services.credit_terms_set(
            actor=actor, scorecard=scorecard, monthly_fee=version.monthly_fee, at_risk_pct=version.at_risk_pct
        )
    contract.save(update_fields=["subject", "scorecard", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, contract, before=before, actor=actor, purpose="scorecard")
    return scorecard


# --- Obligations ----------------------------------------------------------------------------------


def _check_owner(party: str, owner: User | None, vendor_id: int) -> None:
    if owner is None:
        return
    if party == Party.VENDOR and owner.vendor_id != vendor_id:
        raise ValidationError(
            {"owner": "The vendor's obligations are owned by one of the vendor's portal users."}
        )
    if party == Party.COMPANY and owner.is_portal_user:
        raise ValidationError({"owner": "Our obligations are owned by one of our staff."})


@transaction.atomic
def obligation_create(
    *,
    actor: Any,
    contract: Contract,
    title: str,
    first_due_on: date,
    recurrence: str = Obligation.Recurrence.ONCE,
    until: date | None = None,
    owner_party: str = Party.VENDOR,
    owner: User | None = None,
    description: str = "",
    clause: str = "",
    evidence_required: bool = True,
    evidence_description: str = "",
    today: date | None = None,
) -> Obligation:
    """Record a contract obligation, one-off or recurring, with its owner and the evidence it needs,
    and generate its dated instances up to the end of the contract's term."""
    _require(actor, "vendors.add_obligation", "Recording obligations needs the vendor manager role.")
    _check_owner(owner_party, owner, contract.vendor_id)
    if until is not None and until < first_due_on:
        raise ValidationError({"until": "The last date is on or after the first due date."})
    if recurrence == Obligation.Recurrence.ONCE and until is not None:
        raise ValidationError({"until": "A one-off obligation has no last date of its own."})
    end = term_end(contract)
    if end is not None and first_due_on > end:
        raise ValidationError(
            {"first_due_on": f"The first due date is after the term ends ({end:%d %b %Y})."}
        )
    obligation = Obligation(
        contract=contract,
        title=title,
        description=description,
        clause=clause,
        owner_party=owner_party,
        owner=owner,
        recurrence=recurrence,
        first_due_on=first_due_on,
        until=until,
        evidence_required=evidence_required,
        evidence_description=evidence_description,
    )
    _save_new(obligation, actor)
    obligation_instances_generate(obligation=obligation, today=today)
    return obligation


def obligation_instances_generate(*, obligation: Obligation, today: date | None = None) -> int:
    """Add the dated instances an obligation is missing, up to the end of its contract's term (or
    its own last date). Idempotent; returns how many were added. Called inside its callers'
    transactions (creation, activation of a version)."""
    end = term_end(obligation.contract)
    if end is None or not obligation.active:
        return 0
    until = min(obligation.until, end) if obligation.until else end
    today = _today(today)
    wanted = schedules.due_dates(obligation.first_due_on, obligation.recurrence, until)
    have = set(obligation.instances.values_list("due_on", flat=True))
    rows = [
        ObligationInstance(obligation=obligation, due_on=day, status=schedules.open_status(day, today))
        for day in wanted
        if day not in have
    ]
    ObligationInstance.objects.bulk_create(rows)
    if rows:
        _event(
            AuditEvent.Action.CREATE,
            obligation,
            {"instances": len(rows), "from": rows[0].due_on.isoformat(), "to": rows[-1].due_on.isoformat()},
            None,
        )
    return len(rows)


@transaction.atomic
def obligation_withdraw(
    *, actor: Any, obligation: Obligation, reason: str, today: date | None = None
) -> Obligation:
    """Stop an obligation (e.g. an amendment removed it): its open instances from today are waived
    with the reason; past ones stay as they were."""
    _require(actor, "vendors.change_obligation", "Changing obligations needs the vendor manager role.")
    if not reason.strip():
        raise ValidationError({"reason": "Say why the obligation is withdrawn."})
    today = _today(today)
    before = audit.snapshot(obligation)
    obligation.active = False
    obligation.save(update_fields=["active", "updated_at"])
    audit.record_change(
        AuditEvent.Action.UPDATE, obligation, before=before, actor=actor, purpose=reason[:200]
    )
    waived = obligation.instances.filter(
        status__in=[ObligationInstance.Status.UPCOMING, ObligationInstance.Status.DUE], due_on__gte=today
    ).update(
        status=ObligationInstance.Status.WAIVED,
        reason=f"Obligation withdrawn: {reason.strip()}",
        decided_by=actor,
        decided_at=timezone.now(),
        updated_at=timezone.now(),
    )
    if waived:
        _event(AuditEvent.Action.UPDATE, obligation, {"instances_waived": waived}, actor)
    return obligation


@transaction.atomic
def obligation_statuses_roll(*, today: date | None = None) -> dict[str, int]:
    """Daily, set-based: open instances become due inside the due-soon window and missed once their
    due date has passed. Returns the number moved to each status."""
    today = _today(today)
    moved: dict[str, int] = {}
    steps = (
        (
            ObligationInstance.Status.MISSED,
            Q(
                status__in=[ObligationInstance.Status.UPCOMING, ObligationInstance.Status.DUE],
                due_on__lt=today,
            ),
        ),
        (
            ObligationInstance.Status.DUE,
            Q(
                status=ObligationInstance.Status.UPCOMING,
                due_on__lte=today + timedelta(days=schedules.DUE_SOON_DAYS),
            ),
        ),
    )
    for status, condition in steps:
        rows = ObligationInstance.objects.filter(condition)
        ids = list(rows.values_list("pk", flat=True)[:1000])
        count = rows.update(status=status, updated_at=timezone.now())
        moved[str(status)] = count
        if count:
            audit.record_event(
                AuditEvent.Action.UPDATE,
                object_type=audit.object_type_of(ObligationInstance),
                detail={"status": str(status), "count": count, "object_ids": ids, "as_of": today.isoformat()},
            )
    return moved


def _lock_instance(instance: ObligationInstance) -> ObligationInstance:
    return (
        ObligationInstance.objects.select_for_update()
        .select_related("obligation__contract")
        .get(pk=instance.pk)
    )


@transaction.atomic
def obligation_instance_mark_met(
    *, actor: Any, instance: ObligationInstance, note: str = ""
) -> ObligationInstance:
    """Record that an obligation instance was met. If the obligation needs evidence, there must be
    some. A missed instance can still be met when its evidence arrived by the due date, or, when it
    came later (e.g. e-mailed on time, uploaded late), with evidence and a note saying so."""
    _require(
        actor, "vendors.change_obligationinstance", "Confirming obligations needs the vendor manager role."
    )
    _staff_only(actor, "The vendor submits evidence; we confirm the obligation was met.")
    instance = _lock_instance(instance)
    evidence = instance.evidence.order_by("created_at")
    if instance.status in (ObligationInstance.Status.MET, ObligationInstance.Status.WAIVED):
        raise ValidationError(
            {"status": f"This obligation is already {instance.get_status_display().lower()}."}
        )
    if instance.obligation.evidence_required and not evidence.exists():
        raise ValidationError(
            {"evidence": "This obligation needs evidence: upload it before marking it met."}
        )
    if instance.status == ObligationInstance.Status.MISSED:
        first = evidence.first()
        on_time = first is not None and timezone.localdate(first.created_at) <= instance.due_on
        if not on_time and (first is None or not note.strip()):
            raise ValidationError(
                {
                    "status": "This obligation was missed: no evidence arrived by the due date. Upload the "
                    "evidence and say in a note why it counts as met, or waive it with a reason."
                }
            )
    before = audit.snapshot(instance)
    instance.status = ObligationInstance.Status.MET
    instance.decided_by = actor
    instance.decided_at = timezone.now()
    instance.reason = note
    return _save_changed(instance, before, actor)  # type: ignore[no-any-return]


@transaction.atomic
def obligation_instance_waive(*, actor: Any, instance: ObligationInstance, reason: str) -> ObligationInstance:
    """Waive an obligation instance; the reason is required and kept."""
    _require(actor, "vendors.change_obligationinstance", "Waiving obligations needs the vendor manager role.")
    _staff_only(actor, "Only we can waive an obligation.")
    instance = _lock_instance(instance)
    if not reason.strip():
        raise ValidationError({"reason": "A waiver gives its reason."})
    if instance.status in (ObligationInstance.Status.MET, ObligationInstance.Status.WAIVED):
        raise ValidationError(
            {"status": f"This obligation is already {instance.get_status_display().lower()}."}
        )
    before = audit.snapshot(instance)
    instance.status = ObligationInstance.Status.WAIVED
    instance.reason = reason.strip()
    instance.decided_by = actor
    instance.decided_at = timezone.now()
    return _save_changed(instance, before, actor)  # type: ignore[no-any-return]


@transaction.atomic
def evidence_upload(
    *, actor: Any, instance: ObligationInstance, upload: Any, note: str = ""
) -> ObligationEvidence:
    """Attach evidence to an obligation instance (the vendor through the portal, or our staff).

    The file's type is checked by its content and its size against the limit before anything is
    stored; on any failure nothing is written, the file included.
    """
    _require(
        actor, "vendors.add_obligationevidence", "Uploading evidence needs the vendor manager or portal role."
    )
    instance = _lock_instance(instance)
    _require_own_vendor(actor, instance.obligation.contract.vendor_id)
    if instance.status == ObligationInstance.Status.WAIVED:
        raise ValidationError({"file": "This obligation was waived: it needs no evidence."})
    if len(note) > 500:
        raise ValidationError({"note": "A note is at most 500 characters."})
    checked = uploads.check_upload(upload)
    evidence = ObligationEvidence(
        instance=instance,
        file_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        note=note,
        uploaded_by=actor,
    )
    with uploads.files_removed_on_failure() as keep:
        evidence.file.save(checked.stored_name(), upload, save=False)
        keep(evidence.file)
        evidence.full_clean()
        evidence.save()
        audit.record_change(AuditEvent.Action.CREATE, evidence, actor=actor)
    return evidence


# --- Renewal and notice alerts --------------------------------------------------------------------


@transaction.atomic
def contract_alerts_raise(*, today: date | None = None) -> int:
    """Daily: raise renewal and notice alerts at each contract's lead times (default 120, 90 and
    30 days before the notice deadline and before the end of the term) and e-mail the owner (or the
    vendor managers when a contract has no owner). Each lead time alerts once per version; a term
    already followed by an active renewal raises nothing. Returns how many alerts were raised."""
    today = _today(today)
    renewed = ContractVersion.objects.filter(
        contract_id=OuterRef("contract_id"),
        status=ContractVersion.Status.ACTIVE,
        start__gt=OuterRef("effective_end"),
    )
    versions = list(
        ContractVersion.objects.filter(
            status=ContractVersion.Status.ACTIVE,
            effective_end__gte=today,
            notice_by__lte=today + timedelta(days=MAX_ALERT_DAYS),
        )
        .exclude(Exists(renewed))
        .select_related("contract__vendor", "contract__owner")
    )
    existing: dict[tuple[int, str], int] = {}
    for version_id, kind, lead in ContractAlert.objects.filter(version__in=versions).values_list(
        "version_id", "kind", "lead_days"
    ):
        key = (version_id, kind)
        existing[key] = min(lead, existing.get(key, lead))
    raised: list[ContractAlert] = []
    for version in versions:
        contract = version.contract
        for kind, due in (
            (ContractAlert.Kind.NOTICE, version.notice_by),
            (ContractAlert.Kind.EXPIRY, version.end),
        ):
            if kind == ContractAlert.Kind.NOTICE and not version.notice_period_days:
                continue
            if due < today:
                continue
            reached = [lead for lead in contract.alert_days if due - timedelta(days=lead) <= today]
            if not reached:
                continue
            lead = min(reached)
            already = existing.get((version.pk, str(kind)))
            if already is not None and already <= lead:
                continue
            owner_email = contract.owner.email if contract.owner and contract.owner.email else ""
            raised.append(
                ContractAlert(
                    contract=contract,
                    version=version,
                    kind=kind,
                    due_on=due,
                    lead_days=lead,
                    raised_on=today,
                    sent_to=owner_email or "vendor managers",
                )
            )
    mails: dict[str, list[str]] = defaultdict(list)
    managers = _vendor_managers_emails() if raised else []
    for alert in raised:
        alert.full_clean(validate_unique=False)
        alert.save()
        audit.record_change(AuditEvent.Action.CREATE, alert, actor=None)
        contract = alert.contract
        line = (
            f"{contract.vendor.name} · {contract.reference} {contract.title}: "
            f"{alert.get_kind_display().lower()} {alert.due_on:%d %b %Y} "
            f"({(alert.due_on - today).days} days)."
        )
        for email in [alert.sent_to] if "@" in alert.sent_to else managers:
            mails[email].append(line)
    _mail_after_commit(
        {
            email: (f"Steward: {len(lines)} contract deadline(s) approaching", lines)
            for email, lines in mails.items()
        }
    )
    return len(raised)


@transaction.atomic
def alert_acknowledge(*, actor: Any, alert: ContractAlert) -> ContractAlert:
    """Mark an alert as seen and handled (it leaves the dashboard)."""
    _require(actor, "vendors.change_contractalert", "Acknowledging alerts needs the vendor manager role.")
    if alert.acknowledged_at is not None:
        return alert
    before = audit.snapshot(alert)
    alert.acknowledged_by = actor
    alert.acknowledged_at = timezone.now()
    return _save_changed(alert, before, actor)  # type: ignore[no-any-return]


# --- Outsourcing scope ----------------------------------------------------------------------------


@transaction.atomic
def function_create(*, actor: Any, area: str, name: str, description: str = "") -> BusinessFunction:
    """Add one of our functions or processes to the scope matrix."""
    _require(
        actor, "vendors.add_businessfunction", "Changing the outsourcing scope needs the vendor manager role."
    )
    area, name = area.strip(), name.strip()
    if BusinessFunction.objects.filter(area__iexact=area, name__iexact=name).exists():
        raise ValidationError({"name": f"“{name}” is already a function of {area}."})
    return _save_new(BusinessFunction(area=area, name=name, description=description), actor)  # type: ignore[no-any-return]


@transaction.atomic
def scope_assign(
    *,
    actor: Any,
    function: BusinessFunction,
    mode: str,
    vendor: Vendor | None = None,
    contract: Contract | None = None,
    notes: str = "",
) -> ScopeAssignment:
    """Say who performs a function: in-house (no vendor), outsourced or shared (a vendor, and the
    contract that covers it). Each party appears once per function."""
    _require(
        actor, "vendors.add_scopeassignment", "Changing the outsourcing scope needs the vendor manager role."
    )
    if mode not in ScopeAssignment.Mode.values:
        raise ValidationError({"mode": f"“{mode}” is not in-house, outsourced or shared."})
    in_house = mode == ScopeAssignment.Mode.IN_HOUSE
    if in_house and (vendor is not None or contract is not None):
        raise ValidationError({"vendor": "An in-house function names no vendor or contract."})
    if not in_house and vendor is None:
        raise ValidationError({"vendor": "Name the vendor that performs or shares the function."})
    if contract is not None and vendor is not None and contract.vendor_id != vendor.pk:
        raise ValidationError({"contract": "The contract belongs to another vendor."})
    if vendor is not None and vendor.status == Vendor.Status.ENDED:
        raise ValidationError({"vendor": "The relationship with this vendor has ended."})
    taken = ScopeAssignment.objects.filter(function=function, vendor=vendor)
    if taken.exists():
        who = vendor.name if vendor is not None else "we"
        raise ValidationError(
            {"vendor": f"{who} already appear(s) on “{function.name}”; change that line instead."}
        )
    assignment = ScopeAssignment(function=function, mode=mode, vendor=vendor, contract=contract, notes=notes)
    return _save_new(assignment, actor)  # type: ignore[no-any-return]


@transaction.atomic
def scope_unassign(*, actor: Any, assignment: ScopeAssignment) -> None:
    """Remove a line of the scope matrix (e.g. a vendor no longer performs the function)."""
    _require(
        actor,
        "vendors.delete_scopeassignment",
        "Changing the outsourcing scope needs the vendor manager role.",
    )
    audit.record_change(AuditEvent.Action.DELETE, assignment, actor=actor)
    assignment.delete()


# --- Information exchange -------------------------------------------------------------------------

FLOW_FIELDS = (
    "direction",
    "title",
    "data_categories",
    "personal_data",
    "frequency",
    "channel",
    "legal_basis",
    "retention",
    "location",
    "transfer_clauses",
)


@transaction.atomic
def data_flow_create(
    *, actor: Any, vendor: Vendor, contract: Contract | None = None, **fields: Any
) -> DataFlow:
    """Register what a vendor receives or sends. Personal data needs its legal basis and retention,
    and personal data kept outside Hong Kong names the transfer clauses that protect it."""
    _require(
        actor,
        "vendors.add_dataflow",
        "Changing the information-exchange register needs the vendor manager role.",
    )
    unknown = set(fields) - set(FLOW_FIELDS)
    if unknown:
        raise ValidationError({field: "Unknown field." for field in unknown})
    if contract is not None and contract.vendor_id != vendor.pk:
        raise ValidationError({"contract": "The contract belongs to another vendor."})
    flow = DataFlow(vendor=vendor, contract=contract, **fields)
    location = (flow.location or "").strip().lower()
    if flow.personal_data and location not in ("hong kong", "hk") and not flow.transfer_clauses.strip():
        raise ValidationError(
            {
                "transfer_clauses": "Personal data held outside Hong Kong names the clauses that protect it "
                "(e.g. the PCPD's 2022 model contractual clauses)."
            }
        )
    return _save_new(flow, actor)  # type: ignore[no-any-return]


@transaction.atomic
def data_flow_retire(*, actor: Any, flow: DataFlow, reason: str) -> DataFlow:
    """Stop a register line (no more exchanges are logged under it); its history stays."""
    _require(
        actor,
        "vendors.change_dataflow",
        "Changing the information-exchange register needs the vendor manager role.",
    )
    if not reason.strip():
        raise ValidationError({"reason": "Say why the exchange stops."})
    before = audit.snapshot(flow)
    flow.active = False
    return _save_changed(flow, before, actor, purpose=reason.strip()[:200])  # type: ignore[no-any-return]


@transaction.atomic
def data_exchange_log(
    *,
    actor: Any,
    flow: DataFlow,
    occurred_at: datetime,
    record_count: int,
    reference: str = "",
    note: str = "",
) -> DataExchange:
    """Log one exchange under an active register line: when, how many records, which file or batch."""
    _require(actor, "vendors.add_dataexchange", "Logging exchanges needs the vendor manager role.")
    if not flow.active:
        raise ValidationError(
            {"flow": "This exchange is no longer in the register; nothing may be sent under it."}
        )
    if timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": "Give the time with its time zone."})
    if occurred_at > timezone.now() + timedelta(hours=1):
        raise ValidationError({"occurred_at": "Log an exchange when it has happened."})
    exchange = DataExchange(
        flow=flow,
        occurred_at=occurred_at,
        record_count=record_count,
        reference=reference,
        note=note,
        logged_by=actor,
    )
    return _save_new(exchange, actor)  # type: ignore[no-any-return]


# --- Liaison --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    """An action item as given by a page, the API or the seed."""

    description: str
    owner_party: str
    due_on: date
    owner: User | None = None


def _new_action(vendor: Vendor, entry: LiaisonEntry | None, spec: ActionSpec, actor: Any) -> ActionItem:
    _check_owner(spec.owner_party, spec.owner, vendor.pk)
    item = ActionItem(
        vendor=vendor,
        entry=entry,
        description=spec.description,
        owner_party=spec.owner_party,
        owner=spec.owner,
        due_on=spec.due_on,
    )
    return _save_new(item, actor)  # type: ignore[no-any-return]


@transaction.atomic
def liaison_entry_create(
    *,
    actor: Any,
    vendor: Vendor,
    kind: str,
    occurred_at: datetime,
    title: str,
    contract: Contract | None = None,
    participants: str = "",
    minutes: str = "",
    decisions: str = "",
    actions: Sequence[ActionSpec] = (),
) -> LiaisonEntry:
    """Log a meeting, call or message with a vendor, with minutes, decisions and action items."""
    _require(actor, "vendors.add_liaisonentry", "Logging liaison needs the vendor manager role.")
    if contract is not None and contract.vendor_id != vendor.pk:
        raise ValidationError({"contract": "The contract belongs to another vendor."})
    if timezone.is_naive(occurred_at):
        raise ValidationError({"occurred_at": "Give the time with its time zone."})
    if len(actions) > 50:
        raise ValidationError({"actions": "At most 50 actions per entry."})
    entry = LiaisonEntry(
        vendor=vendor,
        contract=contract,
        kind=kind,
        occurred_at=occurred_at,
        title=title,
        participants=participants,
        minutes=minutes,
        decisions=decisions,
        recorded_by=actor,
    )
    _save_new(entry, actor)
    for index, spec in enumerate(actions):
        try:
            _new_action(vendor, entry, spec, actor)
        except ValidationError as exc:
            raise ValidationError({"actions": f"Action {index + 1}: {'; '.join(exc.messages)}"}) from None
    return entry


@transaction.atomic
def action_item_add(*, actor: Any, entry: LiaisonEntry, action: ActionSpec) -> ActionItem:
    """Add an action item to a liaison entry."""
    _require(actor, "vendors.add_actionitem", "Adding actions needs the vendor manager role.")
    return _new_action(entry.vendor, entry, action, actor)


@transaction.atomic
def action_item_update(
    *, actor: Any, item: ActionItem, status: str, progress_note: str | None = None
) -> ActionItem:
    """Move an action item on (open, in progress, done; we may also cancel one), with a progress note.
    A vendor's portal user updates only the actions assigned to their vendor."""
    _require(actor, "vendors.change_actionitem", "Updating actions needs the vendor manager or portal role.")
    _require_own_vendor(actor, item.vendor_id)
    if actor is not None and actor.is_portal_user:
        if item.owner_party != Party.VENDOR:
            raise PermissionDenied("This action is ours, not the vendor's.")
        if status == ActionItem.Status.CANCELLED:
            raise ValidationError({"status": "Only we can cancel an action."})
    if status not in ActionItem.Status.values:
        raise ValidationError({"status": f"“{status}” is not an action status."})
    before = audit.snapshot(item)
    item.status = status
    if progress_note is not None:
        item.progress_note = progress_note
    item.completed_at = timezone.now() if status == ActionItem.Status.DONE else None
    return _save_changed(item, before, actor)  # type: ignore[no-any-return]


@transaction.atomic
def update_request_create(
    *,
    actor: Any,
    vendor: Vendor,
    title: str,
    details: str,
    due_on: date,
    contract: Contract | None = None,
    today: date | None = None,
) -> UpdateRequest:
    """Ask a vendor for its latest progress or figures by a due date; its portal users see the
    request and are told by e-mail."""
    _require(actor, "vendors.add_updaterequest", "Sending update requests needs the vendor manager role.")
    if contract is not None and contract.vendor_id != vendor.pk:
        raise ValidationError({"contract": "The contract belongs to another vendor."})
    if due_on < _today(today):
        raise ValidationError({"due_on": "The due date is today or later."})
    request = UpdateRequest(
        vendor=vendor, contract=contract, title=title, details=details, due_on=due_on, requested_by=actor
    )
    _save_new(request, actor)
    recipients = (
        User.objects.filter(vendor=vendor, is_active=True).exclude(email="").values_list("email", flat=True)
    )
    line = f"{title} (due {due_on:%d %b %Y}). Answer it in the Steward vendor portal."
    _mail_after_commit({email: ("Steward: an update is requested", [line]) for email in recipients})
    return request


@transaction.atomic
def update_request_respond(*, actor: Any, request: UpdateRequest, response: str) -> UpdateRequest:
    """The vendor's answer to an update request (it can be revised until we close the request)."""
    _require(actor, "vendors.change_updaterequest", "Answering requests needs the vendor portal role.")
    _require_own_vendor(actor, request.vendor_id)
    if request.status == UpdateRequest.Status.CLOSED:
        raise ValidationError({"response": "This request is closed."})
    if not response.strip():
        raise ValidationError({"response": "Write the update."})
    before = audit.snapshot(request)
    request.response = response.strip()
    request.status = UpdateRequest.Status.ANSWERED
    request.responded_by = actor
    request.responded_at = timezone.now()
    return _save_changed(request, before, actor)  # type: ignore[no-any-return]


@transaction.atomic
def update_request_close(*, actor: Any, request: UpdateRequest) -> UpdateRequest:
    """We close a request once its answer is enough (or no longer needed)."""
    _require(actor, "vendors.change_updaterequest", "Closing requests needs the vendor manager role.")
    _staff_only(actor, "We close requests; the vendor answers them.")
    if request.status == UpdateRequest.Status.CLOSED:
        return request
    before = audit.snapshot(request)
    request.status = UpdateRequest.Status.CLOSED
    return _save_changed(request, before, actor)  # type: ignore[no-any-return]
