"""Writes of the customers package. Every way in (API, pages, files, webhooks, tasks) calls these.

Sections are added by feature (sales activity, consent, data quality…), each marked below.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from core import audit
from core.models import AuditEvent

# --- c1: sales activity (ingest), preferences and segments, sales rollups ----------------------
from customers import analytics, importing, shopify  # noqa: E402
from customers.models import ImportJob, Segment, WebhookDelivery  # noqa: E402

KINDS = ("customers", "orders", "events")
_KIND_TYPES = {
    "customers": "customers.customer",
    "orders": "customers.order",
    "events": "customers.behaviourevent",
}


def _rejected(exc: importing.ImportRejected, prefix: str = "") -> ValidationError:
    """ImportRejected as a ValidationError naming each field (``records.3.lines.0.quantity``)."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors[:200]:
        key = f"{prefix}{error.line - 1}.{error.field}" if prefix else f"line {error.line}: {error.field}"
        errors.setdefault(key, []).append(error.message)
    return ValidationError(errors)


@transaction.atomic
def sales_records_load(
    *,
    actor: Any,
    kind: str,
    records: Iterable[Any],
    source: str = "steward",
    keep_good: bool = False,
    field_prefix: str = "records.",
) -> importing.LoadResult:
    """Load customers, orders or events (item 1) through the bulk path, audited as one event.

    All or nothing unless KEEP_GOOD: a bad record raises ValidationError (each field named)
    and nothing is written. Records already present (same source id) are not created again.
    """
    if kind not in KINDS:
        raise ValidationError({"kind": f"must be one of {', '.join(KINDS)}"})
    try:
        source = importing._identifier({"source": source}, "source") or "steward"
        result = importing.load(kind, records, source=source, keep_good=keep_good)
    except importing.ImportRejected as exc:
        raise _rejected(exc, field_prefix) from None
    except importing._Bad as bad:
        raise ValidationError({bad.field: bad.message}) from None
    audit.record_event(
        AuditEvent.Action.CREATE,
        object_type=_KIND_TYPES[kind],
        object_repr=f"bulk load from {source}"[:200],
        detail={
            "source": source,
            "received": result.received,
            "created": result.created,
            "existing": result.existing,
            "refused": result.error_count,
        },
        actor=actor,
    )
    sales_rollups_queue(result)
    return result


# Import files -----------------------------------------------------------------------------------

IMPORT_EXTENSIONS = {
    "ndjson": ImportJob.Format.NDJSON,
    "jsonl": ImportJob.Format.NDJSON,
    "csv": ImportJob.Format.CSV,
}


def import_max_bytes() -> int:
    return int(settings.STEWARD_CUSTOMERS_IMPORT_MAX_BYTES)


@transaction.atomic
def import_job_create(*, actor: Any, upload: Any, kind: str, mode: str, source: str = "steward") -> ImportJob:
    """Accept an NDJSON/CSV file for loading and queue it (the task runs after commit).

    Refused at the door: unknown kind or mode, a name that is not .ndjson/.jsonl/.csv, an empty
    or oversized file, content that is not UTF-8 text.
    """
    errors: dict[str, str] = {}
    if kind not in KINDS:
        errors["kind"] = f"Choose one of {', '.join(KINDS)}."
    if mode not in ImportJob.Mode.values:
        errors["mode"] = "Choose all-or-nothing or keep the good rows."
    try:
        source = importing._identifier({"source": source}, "source") or "steward"
    except importing._Bad as bad:
        errors["source"] = f"Source {bad.message}."
    name = str(getattr(upload, "name", "") or "")[:255] if upload is not None else ""
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    limit = import_max_bytes()
    if upload is None:
        errors["file"] = "Attach an NDJSON or CSV file."
    elif extension not in IMPORT_EXTENSIONS:
        errors["file"] = f"“{name}” is not accepted: send a .ndjson, .jsonl or .csv file."
    elif upload.size > limit:
        errors["file"] = (
            f"The file is larger than the {limit // (1024 * 1024) or 1} MB allowed ({limit} bytes)."
        )
    elif upload.size == 0:
        errors["file"] = "The file is empty."
    else:
        upload.seek(0)
        head = upload.read(65536)
        upload.seek(0)
        if b"\x00" in head:
            errors["file"] = "The file is not text (it holds NUL bytes)."
        else:
            try:
                head.decode("utf-8")
            except UnicodeDecodeError as exc:
                if exc.start < len(head) - 4:  # a character cut at the end of the sample is fine
                    errors["file"] = "The file is not UTF-8 text."
    if errors:
        raise ValidationError(errors)
    job = ImportJob(
        kind=kind,
        file_format=IMPORT_EXTENSIONS[extension],
        mode=mode,
        source=source,
        original_name=name,
        size=upload.size,
        created_by=actor,
    )
    from core.uploads import files_removed_on_failure

    with files_removed_on_failure() as keep:
        job.file.save(name, upload, save=False)
        keep(job.file)
        job.save()
        audit.record_change(AuditEvent.Action.CREATE, job, actor=actor)

    from customers.tasks import run_import_job

    job_id = job.pk
    transaction.on_commit(lambda: run_import_job.delay(job_id))
    return job


def _records(job: ImportJob) -> Iterable[tuple[int, Any]]:
    job.file.open("rb")
    text = io.TextIOWrapper(job.file.file, encoding="utf-8-sig", errors="strict", newline="")
    if job.file_format == ImportJob.Format.NDJSON:
        return importing.read_ndjson(text)
    return importing.read_csv(job.kind, text)


def _count_rows(job: ImportJob) -> int:
    try:
        return sum(1 for _ in _records(job))
    except (UnicodeDecodeError, ValueError):
        return 0
    finally:
        job.file.close()


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued import (Celery task). Keep-good imports commit chunk by chunk, so the
    progress bar moves; all-or-nothing imports load in one transaction and show progress at the end."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.QUEUED:
        return job
    total = _count_rows(job)
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING, started_at=timezone.now(), total_rows=total
    )
    job.refresh_from_db()
    actor = job.created_by
    keep_good = job.mode == ImportJob.Mode.KEEP_GOOD
    result = importing.LoadResult()
    try:
        if keep_good:
            seen_chunks = importing._chunks(_records(job), importing.CHUNK)
            for chunk in seen_chunks:
                with transaction.atomic():
                    part = importing.load(job.kind, chunk, source=job.source, keep_good=True)
                    result.received += part.received
                    result.created += part.created
                    result.existing += part.existing
                    result.add_errors(part.errors)
                    ImportJob.objects.filter(pk=job.pk).update(processed_rows=result.received)
                    sales_rollups_queue(part)
        else:
            with transaction.atomic():
                result = importing.load(job.kind, _records(job), source=job.source, keep_good=False)
                sales_rollups_queue(result)
        status = ImportJob.Status.DONE_WITH_ERRORS if result.error_count else ImportJob.Status.DONE
        errors = [e.as_dict() for e in result.errors]
    except importing.ImportRejected as exc:
        status = ImportJob.Status.REJECTED
        errors = [e.as_dict() for e in exc.errors]
        result = importing.LoadResult(received=total, error_count=len(exc.errors))
    except UnicodeDecodeError:
        status = ImportJob.Status.REJECTED
        errors = [{"line": 0, "field": "file", "message": "The file is not UTF-8 text."}]
        result = importing.LoadResult(error_count=1)
    finally:
        job.file.close()
    with transaction.atomic():
        ImportJob.objects.filter(pk=job.pk).update(
            status=status,
            processed_rows=result.received,
            created_rows=result.created,
            existing_rows=result.existing,
            error_count=result.error_count or len(errors),
            errors=errors,
            finished_at=timezone.now(),
        )
        audit.record_event(
            AuditEvent.Action.CREATE if status != ImportJob.Status.REJECTED else AuditEvent.Action.OTHER,
            object_type=_KIND_TYPES[job.kind],
            object_repr=f"import {job.pk}: {job.original_name}"[:200],
            detail={
                "import_job": job.pk,
                "status": status,
                "received": result.received,
                "created": result.created,
                "existing": result.existing,
                "refused": result.error_count,
            },
            actor=actor,
        )
    job.refresh_from_db()
    return job


# Shopify webhook --------------------------------------------------------------------------------


class WebhookUnauthorised(Exception):
    """The signature did not verify (or no secret is configured); the attempt is audited."""


@dataclass(frozen=True)
class WebhookOutcome:
    order_external_id: str
    duplicate: bool
    created: bool


def shopify_order_receive(
    *, body: bytes, signature: str | None, webhook_id: str, topic: str
) -> WebhookOutcome:
    """A Shopify order webhook: verify the HMAC of the raw body, then load the order once.

    A bad or missing signature raises WebhookUnauthorised after writing an ACCESS_DENIED audit
    event (committed on its own: the refusal itself is what must be kept). A delivery id seen
    before is answered as a duplicate without loading again; a new delivery of an order that is
    already present updates its status and refunds only.
    """
    secret = settings.STEWARD_SHOPIFY_WEBHOOK_SECRET
    if not shopify.verify(body, signature, secret):
        with transaction.atomic():
            audit.record_event(
                AuditEvent.Action.ACCESS_DENIED,
                object_type="customers.webhookdelivery",
                object_id=webhook_id[:64],
                object_repr=f"shopify {topic}"[:200],
                detail={
                    "source": shopify.SOURCE,
                    "reason": "no secret configured" if not secret else "bad signature",
                    "webhook_id": webhook_id[:100],
                    "bytes": len(body),
                },
            )
        raise WebhookUnauthorised
    return _shopify_order_load(body=body, webhook_id=webhook_id, topic=topic)


@transaction.atomic
def _shopify_order_load(*, body: bytes, webhook_id: str, topic: str) -> WebhookOutcome:
    try:
        payload = json.loads(body)
    except ValueError:
        raise ValidationError({"body": "is not valid JSON"}) from None
    try:
        customer, order = shopify.order_records(payload)
    except shopify.MalformedPayload as bad:
        raise ValidationError({bad.field: bad.message}) from None
    if not order["currency"]:
        raise ValidationError({"currency": "is required"})
    webhook_id = webhook_id.strip()[:100] or f"order-{order['external_id']}-{topic}"
    seen = WebhookDelivery.objects.select_for_update().filter(source=shopify.SOURCE, delivery_id=webhook_id)
    if seen.exists():
        seen.update(deliveries=F("deliveries") + 1)
        return WebhookOutcome(order["external_id"], duplicate=True, created=False)
    try:
        if customer is not None:
            importing.load("customers", [customer], source=shopify.SOURCE)
        result = importing.load("orders", [order], source=shopify.SOURCE)
    except importing.ImportRejected as exc:
        errors: dict[str, list[str]] = {}
        for error in exc.errors:
            errors.setdefault(error.field, []).append(error.message)
        raise ValidationError(errors) from None
    delivery = WebhookDelivery.objects.create(
        source=shopify.SOURCE,
        delivery_id=webhook_id,
        topic=topic[:60],
        object_external_id=order["external_id"],
    )
    audit.record_change(AuditEvent.Action.CREATE, delivery)
    sales_rollups_queue(result)
    return WebhookOutcome(order["external_id"], duplicate=False, created=result.created == 1)


# Preferences, segments and rollups --------------------------------------------------------------

# Above this many customers in one load, a full rebuild is queued instead of a refresh (one set-based
# pass over everything is then cheaper than the per-customer work).
ROLLUP_REFRESH_MAX_CUSTOMERS = 20_000


def sales_rollups_queue(result: importing.LoadResult) -> None:
    """Queue, to run after the current transaction commits, the refresh of the sales rollups and
    customer metrics for the months and customers the loaded orders touched (item 10: the report
    shows an imported or webhook order without waiting for the nightly rebuild)."""
    if not result.months and not result.customer_ids:
        return
    from customers.tasks import rebuild_customer_metrics, refresh_sales_rollups

    if len(result.customer_ids) > ROLLUP_REFRESH_MAX_CUSTOMERS:
        transaction.on_commit(lambda: rebuild_customer_metrics.delay())
        return
    months = sorted(month.isoformat() for month in result.months)
    customer_ids = sorted(result.customer_ids)
    transaction.on_commit(lambda: refresh_sales_rollups.delay(months, customer_ids))


def customers_changed_queue(customer_ids: Iterable[int]) -> None:
    """Queue, to run after the current transaction commits, the refresh of the metrics and named
    segments of CUSTOMER_IDS, whose details or orders changed outside an order load: a merge or its
    undo, a correction (page, API, the customer's own link), retention (item 4: segments are kept up
    to date; a segment can filter on district and tier, and a merge moves orders). Once per call,
    whatever the number of customers (the same task as after an order load)."""
    ids = {int(pk) for pk in customer_ids}
    if ids:
        sales_rollups_queue(importing.LoadResult(customer_ids=ids))


@transaction.atomic
def sales_rollups_refresh(*, months: list[date], customer_ids: list[int]) -> None:
    """The queued refresh: only the months and customers touched (see analytics.rollups_refresh)."""
    analytics.rollups_refresh(months=months, customer_ids=customer_ids, now=timezone.now())


@transaction.atomic
def customer_metrics_rebuild(*, actor: Any = None) -> dict[str, int]:
    """Rebuild preferences, RFM and lifetime value, then every segment's membership, then the
    sales rollups (items 4 and 10): all set-based, in one transaction."""
    now = timezone.now()
    analytics.rollups_lock()
    scored = analytics.metrics_rebuild(now=now)
    segments = analytics.segments_refresh(now=now)
    rows = analytics.rollups_rebuild()
    audit.record_event(
        AuditEvent.Action.OTHER,
        object_type="customers.customermetrics",
        object_repr="metrics, segments and sales rollups rebuilt",
        detail={"customers": scored, "segments": segments, "rollup_rows": rows},
        actor=actor,
    )
    return {"customers": scored, "segments": segments, "rollup_rows": rows}


def _clean_filters(filters: dict[str, Any]) -> dict[str, Any]:
    from datetime import date

    from customers.models import Channel, Customer

    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for key, value in filters.items():
        if key not in analytics.FILTER_KEYS:
            errors[f"filters.{key}"] = "is not a known filter"
            continue
        if value in (None, ""):
            continue
        if key[:2] in {"r_", "f_", "m_"}:
            if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdigit():
                errors[f"filters.{key}"] = "must be a score from 1 to 5"
                continue
            number = int(value)
            if not 1 <= number <= 5:  # noqa: PLR2004
                errors[f"filters.{key}"] = "must be a score from 1 to 5"
                continue
            clean[key] = number
        elif key.startswith("last_order_"):
            try:
                clean[key] = date.fromisoformat(str(value)).isoformat()
            except ValueError:
                errors[f"filters.{key}"] = "must be a date (YYYY-MM-DD)"
        elif key == "channel" and value not in Channel.values:
            errors[f"filters.{key}"] = f"must be one of {', '.join(Channel.values)}"
        elif key == "tier" and value not in Customer.Tier.values:
            errors[f"filters.{key}"] = f"must be one of {', '.join(Customer.Tier.values)}"
        elif key == "segment" and value not in analytics.SEGMENT_LABELS:
            errors[f"filters.{key}"] = "is not an RFM segment"
        else:
            clean[key] = str(value)[:80]
    for letter in "rfm":
        low, high = clean.get(f"{letter}_min"), clean.get(f"{letter}_max")
        if low is not None and high is not None and low > high:
            errors[f"filters.{letter}_min"] = "is above the maximum"
    if errors:
        raise ValidationError(errors)
    return clean


@transaction.atomic
def segment_create(*, actor: Any, name: str, description: str = "", filters: dict[str, Any]) -> Segment:
    """A named segment from filters (item 4); its members are computed at once."""
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the segment a name."})
    if Segment.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A segment called “{name}” exists already."})
    segment = Segment.objects.create(
        name=name[:100], description=description, filters=_clean_filters(filters), created_by=actor
    )
    analytics.segment_refresh(segment, now=timezone.now())
    segment.refresh_from_db()
    audit.record_change(AuditEvent.Action.CREATE, segment, actor=actor)
    return segment


@transaction.atomic
def segment_update(
    *,
    actor: Any,
    segment: Segment,
    name: str | None = None,
    description: str | None = None,
    filters: dict[str, Any] | None = None,
) -> Segment:
    """Rename, describe or re-filter a segment (item 4). New filters are checked first (a bad one
    raises ValidationError and nothing changes); then the whole membership is recomputed at once,
    so the segment never lists members of its old definition."""
    before = audit.snapshot(segment)
    errors: dict[str, str] = {}
    clean = _clean_filters(filters) if filters is not None else segment.filters
    if name is not None:
        name = name.strip()
        if not name:
            errors["name"] = "Give the segment a name."
        elif Segment.objects.filter(name__iexact=name).exclude(pk=segment.pk).exists():
            errors["name"] = f"A segment called “{name}” exists already."
    if errors:
        raise ValidationError(errors)
    if name is not None:
        segment.name = name[:100]
    if description is not None:
        segment.description = description
    segment.filters = clean
    segment.save(update_fields=["name", "description", "filters", "updated_at"])
    analytics.segment_refresh(segment, now=timezone.now())
    segment.refresh_from_db()
    audit.record_change(AuditEvent.Action.UPDATE, segment, actor=actor, before=before)
    return segment


@transaction.atomic
def segment_refresh(*, actor: Any, segment: Segment) -> Segment:
    """Recompute one segment's members now from its filters and the current metrics (item 4)."""
    analytics.rollups_lock()
    analytics.segment_refresh(segment, now=timezone.now())
    segment.refresh_from_db()
    audit.record_event(
        AuditEvent.Action.OTHER,
        object_type="customers.segment",
        object_id=str(segment.pk),
        object_repr=f"segment {segment.name} refreshed"[:200],
        detail={"members": segment.member_count},
        actor=actor,
    )
    return segment


@transaction.atomic
def segment_delete(*, actor: Any, segment: Segment) -> None:
    audit.record_change(AuditEvent.Action.DELETE, segment, actor=actor)
    segment.delete()
