"""Processors (DPP2(3), DPP4(2)): vendors that handle customer data for us, linked to the lines of
the information-exchange register through which they receive it, bound by a contract clause, with
the location of the data (and the PCPD 2022 model clauses for a cross-border transfer) and a
security checklist answered with evidence.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from customers.models import ChecklistItem, ModelClauses, Processor, ProcessorCheck
from vendors.models import DataFlow, Vendor


def _require(actor: Any, perm: str, message: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


@transaction.atomic
def processor_create(
    *,
    actor: Any,
    vendor: Vendor,
    processing: str,
    contract_clause: str,
    location: str = "Hong Kong",
    model_clauses: str = ModelClauses.NONE,
    data_flows: list[DataFlow] | None = None,
) -> Processor:
    """Register a processor. Its register lines must be its own and carry personal data; data kept
    outside Hong Kong needs a transfer clause set."""
    _require(actor, "customers.add_processor", "The processor register is kept by the DPO.")
    flows = list(data_flows or [])
    for flow in flows:
        if flow.vendor_id != vendor.pk:
            raise ValidationError({"data_flows": f"“{flow.title}” is another vendor's exchange."})
        if not flow.personal_data:
            raise ValidationError({"data_flows": f"“{flow.title}” carries no personal data."})
    if model_clauses not in ModelClauses.values:
        raise ValidationError({"model_clauses": "Unknown clause set."})
    processor = Processor(
        vendor=vendor,
        processing=processing.strip(),
        contract_clause=contract_clause.strip(),
        location=location.strip(),
        model_clauses=model_clauses,
    )
    if processor.cross_border and model_clauses == ModelClauses.NONE:
        raise ValidationError(
            {
                "model_clauses": "Data kept outside Hong Kong: name the transfer clauses "
                "(e.g. PCPD 2022 model clauses)."
            }
        )
    processor.full_clean()
    processor.save()
    processor.data_flows.set(flows)
    audit.record_change(AuditEvent.Action.CREATE, processor, actor=actor)
    return processor


@transaction.atomic
def processor_check_answer(
    *,
    actor: Any,
    processor: Processor,
    item: str,
    answer: str,
    evidence: str = "",
    evidence_date: date | None = None,
) -> ProcessorCheck:
    """Answer one checklist item. "Yes" and "partly" need evidence and its date (not in the future)."""
    _require(actor, "customers.change_processor", "The processor checklist is kept by the DPO.")
    if item not in ChecklistItem.values:
        raise ValidationError({"item": "Unknown checklist item."})
    if answer not in ProcessorCheck.Answer.values:
        raise ValidationError({"answer": "Answer yes, partly, no or not applicable."})
    evidence = (evidence or "").strip()
    if answer in (ProcessorCheck.Answer.YES, ProcessorCheck.Answer.PARTLY):
        if not evidence:
            raise ValidationError(
                {"evidence": "Name the evidence (certificate, audit report, contract clause)."}
            )
        if evidence_date is None:
            raise ValidationError({"evidence_date": "Give the date of the evidence."})
    if evidence_date is not None and evidence_date > timezone.localdate():
        raise ValidationError({"evidence_date": "This date is in the future."})
    check = ProcessorCheck.objects.select_for_update().filter(processor=processor, item=item).first()
    before = audit.snapshot(check) if check is not None else None
    if check is None:
        check = ProcessorCheck(processor=processor, item=item)
    check.answer = answer
    check.evidence = evidence[:500]
    check.evidence_date = evidence_date
    check.answered_by = actor
    check.full_clean()
    check.save()
    action = AuditEvent.Action.UPDATE if before is not None else AuditEvent.Action.CREATE
    audit.record_change(action, check, before=before, actor=actor)
    return check


def processors(*, user: Any) -> QuerySet[Processor]:
    """The processor register with checklist progress, in a fixed number of queries."""
    return (
        Processor.objects.restrict(user)
        .select_related("vendor")
        .prefetch_related("data_flows")
        .annotate(
            answered=Count("checks", distinct=True),
            satisfied=Count("checks", filter=Q(checks__answer__in=["yes", "na"]), distinct=True),
        )
        .order_by("vendor__name", "id")
    )
