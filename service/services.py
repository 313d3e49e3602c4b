"""Writes of the service package. Every page, API endpoint, task and the webhook call these.

Topic sections are marked ``# --- <topic> ---``; large logic lives in topic modules
(``service.importing`` for ingest).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit, uploads
from core.models import AuditEvent
from service import importing
from service.importing import IngestRejected, IngestResult, RowError
from service.models import ImportJob, Ticket

logger = logging.getLogger("steward.service")

# --- ingest (issue 4 item 1) ---

IMPORT_EXTENSIONS = {
    "csv": ImportJob.Format.CSV,
    "ndjson": ImportJob.Format.NDJSON,
    "jsonl": ImportJob.Format.NDJSON,
}
SOURCE_PATTERN = re.compile(r"^[-a-z0-9_.]{1,40}$")
SIGNATURE_HEADER = "X-Steward-Signature"


def _require(actor: Any, perm: str, message: str) -> None:
    if actor is None or not actor.has_perm(perm):
        raise PermissionDenied(message)


@dataclass(frozen=True)
class TicketsIngested:
    """The result of an API ingest, with each refused row's error named by its JSON path."""

    result: IngestResult
    errors: list[dict[str, str]]


def tickets_ingest(
    *, actor: Any, tickets: Sequence[dict[str, Any]], keep_good: bool = False, via: str = "api"
) -> TicketsIngested:
    """Ingest API tickets (each with its ``events``) through the shared path.

    All or nothing (the default) raises ValidationError naming each refused row by its JSON
    path (``tickets.0.events.2.occurred_at``) and writes nothing; KEEP_GOOD keeps the good rows
    and returns the refused ones.
    """
    if actor is not None:
        _require(actor, "service.add_ticket", "Sending tickets needs the customer-service manager role.")
    rows, locate = importing.rows_from_tickets(tickets)
    try:
        result = importing.ingest(rows, actor=actor, via=via, keep_good=keep_good)
    except IngestRejected as exc:
        problems: dict[str, list[str]] = {}
        for error in exc.result.errors:
            problems.setdefault(locate(error), []).append(error.message)
        raise ValidationError(problems) from exc
    return TicketsIngested(result, [{"field": locate(e), "message": e.message} for e in result.errors])


class _NamedAs:
    """An upload seen under another name, so that core.uploads checks NDJSON as the text it is."""

    def __init__(self, upload: Any, name: str) -> None:
        self._upload = upload
        self.name = name

    def __getattr__(self, attribute: str) -> Any:
        return getattr(self._upload, attribute)


def _count_lines(upload: Any) -> int:
    upload.seek(0)
    count: int = sum(chunk.count(b"\n") for chunk in upload.chunks())
    upload.seek(0)
    return count


@transaction.atomic
def import_job_create(
    *,
    actor: Any,
    upload: Any,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    source: str = importing.DEFAULT_SOURCE,
) -> ImportJob:
    """Accept a CSV or NDJSON file of ticket events and queue its import (issue 4 item 1).

    The file is checked like every upload (core.uploads: size within STEWARD_UPLOAD_MAX_BYTES,
    UTF-8 text without NUL, not empty) and must be named .csv, .ndjson or .jsonl. The import
    runs after the commit as a Celery task (eagerly when no broker is configured).
    """
    _require(actor, "service.add_importjob", "Importing tickets needs the customer-service manager role.")
    if upload is None:
        raise ValidationError({"file": "Attach a CSV or NDJSON file."})
    name = str(getattr(upload, "name", "") or "")[:255]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in IMPORT_EXTENSIONS:
        raise ValidationError(
            {"file": f"“{name or 'the file'}” is not accepted: send a .csv or .ndjson file."}
        )
    file_format = IMPORT_EXTENSIONS[extension]
    uploads.check_upload(upload if extension == "csv" else _NamedAs(upload, f"{name}.txt"), field="file")
    if mode not in ImportJob.Mode.values:
        raise ValidationError({"mode": "Choose all or nothing, or keep good rows."})
    source = (source or importing.DEFAULT_SOURCE).strip()
    if not SOURCE_PATTERN.match(source):
        raise ValidationError(
            {"source": "A source is 1–40 lower-case letters, digits, dots, dashes or underscores."}
        )
    lines = _count_lines(upload)
    job = ImportJob(
        original_name=name,
        format=file_format,
        mode=mode,
        source=source,
        total_rows=max(lines - (1 if file_format == ImportJob.Format.CSV else 0), 0),
        created_by=actor,
    )
    with uploads.files_removed_on_failure() as keep:
        job.file.save(f"{timezone.now():%Y%m%d%H%M%S}-{extension}.{extension}", upload, save=False)
        keep(job.file)
        job.save()
        audit.record_change(AuditEvent.Action.CREATE, job, actor=actor)
    from service.tasks import run_import

    transaction.on_commit(lambda: run_import.delay(job.pk))
    return job


def import_job_run(*, job_id: int) -> ImportJob:
    """Run a queued import: read the file, ingest it in batches, record counts and refused rows.

    Not one transaction: *keep good rows* commits batch by batch (the progress bar moves with
    them); *all or nothing* writes everything in one transaction inside ``importing.ingest``.
    """
    job = ImportJob.objects.get(pk=job_id)
    if job.status != ImportJob.Status.QUEUED:
        return job
    job.status = ImportJob.Status.RUNNING
    job.started_at = timezone.now()
    job.save(update_fields=["status", "started_at", "updated_at"])

    def progress(result: IngestResult) -> None:
        ImportJob.objects.filter(pk=job.pk).update(
            processed_rows=result.rows, rows_rejected=result.rows_rejected
        )

    reader = importing.read_csv if job.format == ImportJob.Format.CSV else importing.read_ndjson
    result = IngestResult()
    errors: list[RowError] = []
    try:
        with job.file.open("rb") as stream:
            result = importing.ingest(
                reader(stream),
                actor=job.created_by,
                via=f"file import {job.pk}",
                keep_good=job.mode == ImportJob.Mode.KEEP_GOOD,
                default_source=job.source,
                on_progress=progress,
            )
        errors = result.errors
        job.status = ImportJob.Status.DONE
        job.message = "Imported." if not errors else f"Imported; {result.rows_rejected} row(s) left out."
    except IngestRejected as exc:
        errors = exc.result.errors
        job.status = ImportJob.Status.REJECTED
        job.message = f"{exc.result.rows_rejected} row(s) refused: nothing was written (all or nothing)."
        result = IngestResult(rows=exc.result.rows, rows_rejected=exc.result.rows_rejected)
    except importing.FileRejected as exc:
        errors = exc.errors
        job.status = ImportJob.Status.REJECTED
        job.message = "The file cannot be read: nothing was written."
    except PermissionDenied as exc:
        job.status = ImportJob.Status.REJECTED
        job.message = str(exc)
    except Exception:
        logger.exception("ticket import %s failed", job.pk)
        job.status = ImportJob.Status.FAILED
        job.message = "The import failed on our side: nothing was written. Quote the import number."
        result = IngestResult()
    before = audit.snapshot(job)
    for name, value in result.summary().items():
        setattr(job, name if name != "rows" else "processed_rows", value)
    job.error_count = len(errors)
    job.errors = [
        {"line": e.line, "field": e.field, "message": e.message}
        for e in errors[: importing.MAX_STORED_ERRORS]
    ]
    job.finished_at = timezone.now()
    with transaction.atomic():
        job.save()
        audit.record_change(AuditEvent.Action.UPDATE, job, before=before, actor=job.created_by)
    return job


class WebhookRejected(Exception):
    """The webhook's signature is missing or wrong, or no secret is configured."""

    def __init__(self, message: str, *, configured: bool = True) -> None:
        super().__init__(message)
        self.configured = configured


def webhook_signature(body: bytes, secret: str) -> str:
    """The value of the X-Steward-Signature header for BODY: ``sha256=`` + hex HMAC-SHA256."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_verify(*, body: bytes, signature: str, ip_address: str = "") -> None:
    """Accept BODY only with a valid signature of the shared secret; audit every refusal."""
    secret = getattr(settings, "STEWARD_HELPDESK_WEBHOOK_SECRET", "")
    if secret and hmac.compare_digest(
        webhook_signature(body, secret).encode(), (signature or "").strip().encode()
    ):
        return
    reason = "not configured" if not secret else "missing signature" if not signature else "bad signature"
    with transaction.atomic():
        audit.record_event(
            AuditEvent.Action.ACCESS_DENIED,
            object_type="service.webhook",
            object_repr="Helpdesk webhook",
            detail={"reason": reason, "bytes": len(body)},
        )
    if not secret:
        # Nobody can sign without a secret: the same 401 as a bad signature, with the reason.
        raise WebhookRejected(
            "The helpdesk webhook is not configured: no signature can be valid.", configured=False
        )
    raise WebhookRejected(f"The {SIGNATURE_HEADER} header is missing or does not match the body.")


# --- ticket customers (issue 4 item 4: who the survey goes to) ---

LINK_BATCH = 500


@transaction.atomic
def tickets_customers_link(*, actor: Any, links: Mapping[int, int]) -> int:
    """Record the customer (``customers.Customer`` id) of each ticket in LINKS (ticket id -> customer id).

    The customer's e-mail is where the satisfaction survey goes after resolution, so a ticket
    without one is never surveyed. Tickets or customers that do not exist are refused as a whole
    (nothing written). One audit event per call, with the ticket ids, as for an ingest batch.
    Returns how many tickets changed.
    """
    from customers.models import Customer

    _require_actor(
        actor, "service.change_ticket", "Linking customers needs the customer-service manager role."
    )
    tickets = {t.pk: t for t in Ticket.objects.select_for_update().filter(pk__in=list(links))}
    missing = sorted(set(links) - set(tickets))
    known = set(Customer.objects.filter(pk__in=set(links.values())).values_list("pk", flat=True))
    unknown = sorted({c for c in links.values() if c not in known})
    if missing or unknown:
        problems = {}
        if missing:
            problems["ticket_id"] = f"Unknown ticket(s): {', '.join(map(str, missing[:10]))}."
        if unknown:
            problems["customer_id"] = f"Unknown customer(s): {', '.join(map(str, unknown[:10]))}."
        raise ValidationError(problems)
    changed = [t for pk, t in tickets.items() if t.customer_id != links[pk]]
    for ticket in changed:
        ticket.customer_id = links[ticket.pk]
        ticket.updated_at = timezone.now()
    Ticket.objects.bulk_update(changed, ["customer", "updated_at"], batch_size=LINK_BATCH)
    if changed:
        audit.record_event(
            AuditEvent.Action.UPDATE,
            object_type="service.ticket",
            object_repr="Ticket customers linked",
            detail={"tickets": len(changed), "ticket_ids": sorted(t.pk for t in changed)[:1000]},
            actor=actor,
        )
    return len(changed)


def _require_actor(actor: Any, perm: str, message: str) -> None:
    """``actor=None`` is the system (the demo seed, a scheduled job)."""
    if actor is not None:
        _require(actor, perm, message)


# --- teams and agents (issue 4 item 1): the writes live in service.teams ---
from service.teams import agent_create as agent_create  # noqa: E402
from service.teams import agent_update as agent_update  # noqa: E402
from service.teams import team_create as team_create  # noqa: E402
from service.teams import team_update as team_update  # noqa: E402
