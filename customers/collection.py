"""Collecting personal data (DPP1; seed 003 §2 "implement the workflow of customer information
collection"): versioned collection statements (PICS), collection forms, the record of how each
customer's data was collected, and the HKID policy with encrypted storage.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from customers import hkid as hkid_numbers
from customers.models import (
    CollectedField,
    CollectionChannel,
    CollectionForm,
    CollectionPolicy,
    CollectionRecord,
    CollectionStatement,
    Customer,
    CustomerHkid,
)

MIN_LEGAL_BASIS = 10


def _require(actor: Any, perm: str, message: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


def current_policy() -> CollectionPolicy | None:
    return CollectionPolicy.objects.order_by("-created_at", "-id").first()


def hkid_allowed() -> bool:
    policy = current_policy()
    return policy is not None and policy.hkid_enabled


@transaction.atomic
def collection_policy_set(*, actor: Any, hkid_enabled: bool, legal_basis: str = "") -> CollectionPolicy:
    """Switch HKID collection on (only with the law or purpose that requires it) or off."""
    _require(actor, "customers.add_collectionpolicy", "The collection policy is set by the DPO.")
    legal_basis = " ".join((legal_basis or "").split())
    if hkid_enabled and len(legal_basis) < MIN_LEGAL_BASIS:
        raise ValidationError(
            {
                "legal_basis": "HKID numbers are collected only where the law requires or permits it: "
                "state the basis."
            }
        )
    if hkid_enabled:
        hkid_numbers.encrypt("A1234563")  # fails now, not at the first customer, if no key is configured
    policy = CollectionPolicy.objects.create(
        hkid_enabled=hkid_enabled, legal_basis=legal_basis, changed_by=actor
    )
    audit.record_change(AuditEvent.Action.CREATE, policy, actor=actor)
    return policy


def _clean_items(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not items:
        raise ValidationError({"items": "List the items collected."})
    cleaned: list[dict[str, Any]] = []
    seen: set[str] = set()
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise ValidationError({"items": f"Item {index + 1} is not an item."})
        field = item.get("field")
        if field not in CollectedField.values:
            raise ValidationError({"items": f"Item {index + 1}: “{field}” is not a field we collect."})
        if field in seen:
            raise ValidationError({"items": f"“{field}” is listed twice."})
        seen.add(field)
        if field == CollectedField.HKID and not hkid_allowed():
            raise ValidationError(
                {"items": "HKID numbers are not collected: the collection policy does not allow it."}
            )
        obligatory = item.get("obligatory")
        if not isinstance(obligatory, bool):
            raise ValidationError({"items": f"Say whether “{field}” is obligatory or voluntary."})
        consequence = str(item.get("consequence") or "").strip()
        if obligatory and not consequence:
            raise ValidationError(
                {"items": f"Say what happens if “{field}” is not supplied (DPP1(3)(a)(ii))."}
            )
        cleaned.append({"field": field, "obligatory": obligatory, "consequence": consequence[:300]})
    return cleaned


@transaction.atomic
def statement_create(
    *,
    actor: Any,
    title: str,
    purposes: str,
    transferee_classes: str,
    items: list[dict[str, Any]],
    access_contact: str,
    direct_marketing: str = "",
) -> CollectionStatement:
    """A new PICS version, as a draft (numbered after the highest so far)."""
    _require(actor, "customers.add_collectionstatement", "Collection statements are kept by the DPO.")
    number = (CollectionStatement.objects.aggregate(top=Max("version"))["top"] or 0) + 1
    statement = CollectionStatement(
        version=number,
        title=title.strip(),
        purposes=purposes.strip(),
        transferee_classes=transferee_classes.strip(),
        items=_clean_items(items),
        access_contact=access_contact.strip(),
        direct_marketing=(direct_marketing or "").strip(),
    )
    statement.full_clean()
    statement.save()
    audit.record_change(AuditEvent.Action.CREATE, statement, actor=actor)
    return statement


@transaction.atomic
def statement_update(*, actor: Any, statement: CollectionStatement, **fields: Any) -> CollectionStatement:
    """Change a draft. A published version is never changed: make a new version instead."""
    _require(actor, "customers.change_collectionstatement", "Collection statements are kept by the DPO.")
    statement = CollectionStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status == CollectionStatement.Status.PUBLISHED:
        raise ValidationError(
            {"status": f"Version {statement.version} is published and cannot change; add a new version."}
        )
    allowed = {"title", "purposes", "transferee_classes", "items", "access_contact", "direct_marketing"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This cannot be changed."})
    before = audit.snapshot(statement)
    for name, value in fields.items():
        setattr(statement, name, _clean_items(value) if name == "items" else str(value).strip())
    statement.full_clean()
    statement.save()
    audit.record_change(AuditEvent.Action.UPDATE, statement, before=before, actor=actor)
    return statement


@transaction.atomic
def statement_publish(*, actor: Any, statement: CollectionStatement) -> CollectionStatement:
    """Publish a draft: from now on it is shown on forms and never changes."""
    _require(actor, "customers.change_collectionstatement", "Collection statements are kept by the DPO.")
    statement = CollectionStatement.objects.select_for_update().get(pk=statement.pk)
    if statement.status == CollectionStatement.Status.PUBLISHED:
        raise ValidationError({"status": "This version is already published."})
    before = audit.snapshot(statement)
    statement.status = CollectionStatement.Status.PUBLISHED
    statement.published_at = timezone.now()
    statement.published_by = actor
    statement.save()
    audit.record_change(AuditEvent.Action.UPDATE, statement, before=before, actor=actor)
    return statement


@transaction.atomic
def statement_new_version(*, actor: Any, statement: CollectionStatement) -> CollectionStatement:
    """A new draft that starts as a copy of STATEMENT."""
    return statement_create(
        actor=actor,
        title=statement.title,
        purposes=statement.purposes,
        transferee_classes=statement.transferee_classes,
        items=statement.items,
        access_contact=statement.access_contact,
        direct_marketing=statement.direct_marketing,
    )


@transaction.atomic
def form_create(
    *, actor: Any, name: str, channel: str, statement: CollectionStatement, fields: list[dict[str, Any]]
) -> CollectionForm:
    """A collection form under a published PICS. A field the PICS calls voluntary cannot be
    obligatory on the form (the customer was told they could leave it out)."""
    _require(actor, "customers.add_collectionform", "Collection forms are kept by the DPO.")
    if statement.status != CollectionStatement.Status.PUBLISHED:
        raise ValidationError({"statement": "A form uses a published collection statement."})
    if channel not in CollectionChannel.values:
        raise ValidationError({"channel": "Unknown channel."})
    if not isinstance(fields, list) or not fields:
        raise ValidationError({"fields": "List the fields the form asks for."})
    cleaned = []
    seen: set[str] = set()
    for item in fields:
        field = item.get("field") if isinstance(item, dict) else None
        declared = statement.item(str(field)) if field else None
        if declared is None:
            raise ValidationError({"fields": f"“{field}” is not in PICS version {statement.version}."})
        if field in seen:
            raise ValidationError({"fields": f"“{field}” is listed twice."})
        seen.add(str(field))
        obligatory = item.get("obligatory")
        if not isinstance(obligatory, bool):
            raise ValidationError({"fields": f"Say whether “{field}” is obligatory or voluntary."})
        if obligatory and not declared["obligatory"]:
            raise ValidationError(
                {"fields": f"PICS version {statement.version} tells customers “{field}” is voluntary."}
            )
        if field == CollectedField.HKID and not hkid_allowed():
            raise ValidationError(
                {"fields": "HKID numbers are not collected: the collection policy does not allow it."}
            )
        cleaned.append({"field": field, "obligatory": obligatory})
    form = CollectionForm(name=name.strip(), channel=channel, statement=statement, fields=cleaned)
    form.full_clean()
    form.save()
    audit.record_change(AuditEvent.Action.CREATE, form, actor=actor)
    return form


@transaction.atomic
def collection_record(
    *,
    actor: Any,
    customer: Customer,
    form: CollectionForm,
    supplied: list[str],
    collected_at: datetime | None = None,
    hkid: str = "",
) -> CollectionRecord:
    """Record that CUSTOMER's data was collected through FORM (its PICS version and channel).

    Every obligatory field of the form must have been supplied, and nothing outside the form.
    An HKID number is taken only while the policy allows it, stored encrypted, shown masked.
    """
    _require(actor, "customers.add_collectionrecord", "Recording collection needs the DPO or CRM role.")
    if not form.active:
        raise ValidationError({"form": "This form is no longer in use."})
    on_form = {f["field"]: f["obligatory"] for f in form.fields}
    supplied_set = set(supplied)
    extra = supplied_set - set(on_form)
    if extra:
        raise ValidationError({"supplied": f"Not asked for on this form: {', '.join(sorted(extra))}."})
    missing = [f for f, obligatory in on_form.items() if obligatory and f not in supplied_set]
    if missing:
        raise ValidationError(
            {"supplied": f"Obligatory on this form but not supplied: {', '.join(missing)}."}
        )
    when = collected_at or timezone.now()
    if when > timezone.now():
        raise ValidationError({"collected_at": "This is in the future."})
    hkid = (hkid or "").strip()
    if CollectedField.HKID in supplied_set or hkid:
        policy = current_policy()
        if policy is None or not policy.hkid_enabled:
            raise ValidationError(
                {"hkid": "HKID numbers are not collected: the collection policy does not allow it."}
            )
        if CollectedField.HKID not in supplied_set or not hkid:
            raise ValidationError({"hkid": "Give the HKID number together with the field."})
        normalised = hkid_numbers.normalise(hkid)
        CustomerHkid.objects.filter(customer=customer).delete()
        stored = CustomerHkid.objects.create(
            customer=customer,
            ciphertext=hkid_numbers.encrypt(normalised),
            masked=hkid_numbers.mask(normalised),
            legal_basis=policy.legal_basis,
            recorded_by=actor,
        )
        audit.record_change(AuditEvent.Action.CREATE, stored, actor=actor)
    record = CollectionRecord(
        customer=customer,
        form=form,
        statement=form.statement,
        channel=form.channel,
        collected_at=when,
        supplied=sorted(supplied_set),
        recorded_by=actor,
    )
    record.full_clean()
    record.save()
    audit.record_change(AuditEvent.Action.CREATE, record, actor=actor)
    return record
