"""Writes for working with a vendor beyond the contract (issue 5 items 2, 5, 6, 7 and 8): the
interfaces between their management system and ours, the governance around them (reports, meetings,
escalation path), documents shared under version control, the ideas log, the vendor's people working
for us, and the cooperation-strategy reviews with their decisions and improvement plans.

Same rules as ``vendors.services``: keyword-only, one transaction, audited in it, every rule here so
that pages, the API, Celery beat and the demo seed cannot skip one. ``actor=None`` is the system.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone

from accounts.models import User
from core import audit, uploads
from core.models import AuditEvent
from vendors import schedules
from vendors.models import (
    AccessGrant,
    BoardingTask,
    Contract,
    ContractVersion,
    CooperationReview,
    GovernanceItem,
    GuidelineAcknowledgement,
    Idea,
    ImprovementMilestone,
    LiaisonEntry,
    SharedDocument,
    SharedDocumentVersion,
    SystemInterface,
    ThirdPartyWorker,
    TrainingRecord,
    Vendor,
    VendorImprovementPlan,
)
from vendors.services import (
    ActionSpec,
    _require,
    _require_own_vendor,
    _save_changed,
    _save_new,
    _staff_only,
    _today,
    liaison_entry_create,
    vendor_change_status,
)


def _same_vendor(contract: Contract | None, vendor: Vendor) -> None:
    if contract is not None and contract.vendor_id != vendor.pk:
        raise ValidationError({"contract": "The contract belongs to another vendor."})


def _only(fields: Mapping[str, Any], allowed: Sequence[str]) -> None:
    unknown = set(fields) - set(allowed)
    if unknown:
        raise ValidationError({name: "This field cannot be set here." for name in sorted(unknown)})


# --- Interfaces and governance (item 2) -----------------------------------------------------------

INTERFACE_FIELDS = (
    "our_system",
    "their_system",
    "direction",
    "data_exchanged",
    "channel",
    "protocol",
    "frequency",
    "our_owner",
    "their_owner",
    "status",
    "notes",
)


def _check_our_owner(owner: User | None) -> None:
    if owner is not None and owner.is_portal_user:
        raise ValidationError({"our_owner": "Our end of an interface is owned by one of our staff."})


@transaction.atomic
def interface_create(
    *, actor: Any, vendor: Vendor, contract: Contract | None = None, **fields: Any
) -> SystemInterface:
    """Record a connection between one of our systems and one of the vendor's."""
    _require(actor, "vendors.add_systeminterface", "Recording interfaces needs the vendor manager role.")
    _only(fields, INTERFACE_FIELDS)
    _same_vendor(contract, vendor)
    _check_our_owner(fields.get("our_owner"))
    return _save_new(SystemInterface(vendor=vendor, contract=contract, **fields), actor)  # type: ignore[no-any-return]


@transaction.atomic
def interface_update(*, actor: Any, interface: SystemInterface, **changes: Any) -> SystemInterface:
    """Change an interface (e.g. it goes live, or is retired), with the before/after in the audit trail."""
    _require(actor, "vendors.change_systeminterface", "Changing interfaces needs the vendor manager role.")
    _only(changes, INTERFACE_FIELDS)
    _check_our_owner(changes.get("our_owner"))
    before = audit.snapshot(interface)
    for name, value in changes.items():
        setattr(interface, name, value)
    return _save_changed(interface, before, actor)  # type: ignore[no-any-return]


GOVERNANCE_FIELDS = (
    "kind",
    "position",
    "title",
    "frequency",
    "from_party",
    "our_role",
    "vendor_role",
    "response_time",
    "notes",
)


@transaction.atomic
def governance_item_create(*, actor: Any, vendor: Vendor, **fields: Any) -> GovernanceItem:
    """Add a report exchanged, a meeting with its cadence, or a step of the escalation path.

    Escalation steps are numbered 1, 2, 3…: a level is used once per vendor.
    """
    _require(actor, "vendors.add_governanceitem", "Changing governance needs the vendor manager role.")
    _only(fields, GOVERNANCE_FIELDS)
    item = GovernanceItem(vendor=vendor, **fields)
    if (
        item.kind == GovernanceItem.Kind.ESCALATION
        and GovernanceItem.objects.filter(
            vendor=vendor, kind=GovernanceItem.Kind.ESCALATION, position=item.position
        ).exists()
    ):
        raise ValidationError({"position": f"Escalation level {item.position} is already defined."})
    return _save_new(item, actor)  # type: ignore[no-any-return]


@transaction.atomic
def governance_item_delete(*, actor: Any, item: GovernanceItem) -> None:
    _require(actor, "vendors.delete_governanceitem", "Changing governance needs the vendor manager role.")
    audit.record_change(AuditEvent.Action.DELETE, item, before=audit.snapshot(item), actor=actor)
    item.delete()


# --- Shared documents under version control (item 5) ----------------------------------------------


def _store_version(
    document: SharedDocument, number: int, upload: Any, change_note: str, actor: Any
) -> SharedDocumentVersion:
    note = change_note.strip()
    if not note:
        raise ValidationError({"change_note": "Say what this version changes."})
    if len(note) > 500:
        raise ValidationError({"change_note": "A change note is at most 500 characters."})
    checked = uploads.check_upload(upload)
    version = SharedDocumentVersion(
        document=document,
        number=number,
        file_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        sha256=checked.sha256,
        change_note=note,
        uploaded_by=actor,
    )
    with uploads.files_removed_on_failure() as keep:
        version.file.save(checked.stored_name(), upload, save=False)
        keep(version.file)
        version.full_clean()
        version.save()
        audit.record_change(AuditEvent.Action.CREATE, version, actor=actor)
    return version


@transaction.atomic
def shared_document_create(
    *,
    actor: Any,
    vendor: Vendor,
    title: str,
    upload: Any,
    change_note: str = "First version.",
    description: str = "",
    shared_with_vendor: bool = False,
) -> SharedDocument:
    """Start a shared document with its first version (the file checked by its content)."""
    _require(actor, "vendors.add_shareddocument", "Sharing documents needs the vendor manager role.")
    _staff_only(actor, "We share documents with the vendor; the portal reads them.")
    if SharedDocument.objects.filter(vendor=vendor, title=title).exists():
        raise ValidationError({"title": "This vendor already has a shared document with this title."})
    document = SharedDocument(
        vendor=vendor,
        title=title,
        description=description,
        shared_with_vendor=shared_with_vendor,
        created_by=actor,
    )
    uploads.check_upload(upload)  # before anything is written
    _save_new(document, actor)
    _store_version(document, 1, upload, change_note, actor)
    return document


@transaction.atomic
def shared_document_add_version(
    *, actor: Any, document: SharedDocument, upload: Any, change_note: str
) -> SharedDocumentVersion:
    """Upload a new version; the earlier ones stay, numbered, with who uploaded them and why."""
    _require(actor, "vendors.add_shareddocumentversion", "New versions need the vendor manager role.")
    _staff_only(actor, "We keep the shared documents; the portal reads them.")
    document = SharedDocument.objects.select_for_update().get(pk=document.pk)
    latest = document.versions.aggregate(latest=Max("number"))["latest"] or 0
    return _store_version(document, latest + 1, upload, change_note, actor)


@transaction.atomic
def shared_document_set_sharing(*, actor: Any, document: SharedDocument, shared: bool) -> SharedDocument:
    """Show the document (all its versions) to the vendor's portal users, or stop showing it."""
    _require(actor, "vendors.change_shareddocument", "Sharing documents needs the vendor manager role.")
    before = audit.snapshot(document)
    document.shared_with_vendor = shared
    return _save_changed(document, before, actor)  # type: ignore[no-any-return]


# --- The ideas log (item 6) -----------------------------------------------------------------------


@transaction.atomic
def idea_submit(
    *,
    actor: Any,
    vendor: Vendor,
    title: str,
    description: str,
    expected_benefit: str = "",
    contract: Contract | None = None,
) -> Idea:
    """Log an idea: from the vendor when its portal user sends it, from us when our staff do."""
    _require(actor, "vendors.add_idea", "Logging ideas needs the vendor manager or portal role.")
    _require_own_vendor(actor, vendor.pk)
    _same_vendor(contract, vendor)
    if not description.strip():
        raise ValidationError({"description": "Describe the idea."})
    portal = actor is not None and actor.is_portal_user
    idea = Idea(
        vendor=vendor,
        contract=contract,
        source=Idea.Source.VENDOR if portal else Idea.Source.COMPANY,
        title=title,
        description=description.strip(),
        expected_benefit=expected_benefit,
        submitted_by=actor,
    )
    return _save_new(idea, actor)  # type: ignore[no-any-return]


@transaction.atomic
def idea_decide(*, actor: Any, idea: Idea, status: str, note: str = "", proposal_reference: str = "") -> Idea:
    """Move an idea on: under consideration, accepted, not taken forward, or turned into a proposal.

    Turning an accepted idea into a proposal records the proposal's reference (the proposals work will
    link it to its Proposal); a decision not to take an idea forward says why.
    """
    _require(actor, "vendors.change_idea", "Deciding on ideas needs the vendor manager role.")
    _staff_only(actor, "We decide on ideas; the vendor sends them.")
    if status not in Idea.Status.values:
        raise ValidationError({"status": f"“{status}” is not an idea status."})
    allowed = Idea.TRANSITIONS.get(idea.status, ())
    if status not in allowed:
        choices = ", ".join(str(Idea.Status(s).label) for s in allowed) or "nothing (it is settled)"
        raise ValidationError(
            {"status": f"An idea that is {idea.get_status_display()} can become: {choices}."}
        )
    if status == Idea.Status.REJECTED and not note.strip():
        raise ValidationError({"note": "Say why the idea is not taken forward."})
    if status == Idea.Status.PROPOSAL and not proposal_reference.strip():
        raise ValidationError({"proposal_reference": "Name the proposal the idea became."})
    before = audit.snapshot(idea)
    idea.status = status
    if note.strip():
        idea.decision_note = note.strip()
    if status == Idea.Status.PROPOSAL:
        idea.proposal_reference = proposal_reference.strip()
    idea.decided_by = actor
    idea.decided_at = timezone.now()
    return _save_changed(idea, before, actor)  # type: ignore[no-any-return]


# --- Third-party staff (item 7) -------------------------------------------------------------------

ONBOARDING_CHECKLIST = (
    "Identity and right to work checked by the vendor",
    "Confidentiality undertaking signed",
    "PDPO and data-handling briefing completed",
    "Guidelines and scripts acknowledged",
    "System access granted as the role needs, no more",
)
OFFBOARDING_CHECKLIST = (
    "Every system access revoked",
    "Equipment and badges returned",
    "Shared mailboxes and call queues handed over",
)


def _tasks(worker: ThirdPartyWorker, kind: str, lines: Sequence[str], actor: Any) -> None:
    for position, description in enumerate(lines):
        task = BoardingTask(worker=worker, kind=kind, position=position, description=description)
        _save_new(task, actor)


def _check_worker_user(user: User | None, vendor: Vendor) -> None:
    if user is not None and user.vendor_id != vendor.pk:
        raise ValidationError({"user": "A worker's login is a portal user of the same vendor."})


@transaction.atomic
def worker_create(
    *,
    actor: Any,
    vendor: Vendor,
    name: str,
    role: str,
    onboarded_on: date,
    email: str = "",
    user: User | None = None,
) -> ThirdPartyWorker:
    """Register one of the vendor's people working for us, with the on-boarding checklist."""
    _require(actor, "vendors.add_thirdpartyworker", "Registering vendor staff needs the vendor manager role.")
    _staff_only(actor, "We register the vendor's people working for us.")
    _check_worker_user(user, vendor)
    if user is not None and ThirdPartyWorker.objects.filter(user=user).exists():
        raise ValidationError({"user": "This login already belongs to a registered worker."})
    worker = ThirdPartyWorker(
        vendor=vendor, name=name, role=role, onboarded_on=onboarded_on, email=email, user=user
    )
    _save_new(worker, actor)
    _tasks(worker, BoardingTask.Kind.ONBOARDING, ONBOARDING_CHECKLIST, actor)
    return worker


@transaction.atomic
def worker_offboard(
    *, actor: Any, worker: ThirdPartyWorker, offboarded_on: date, reason: str
) -> ThirdPartyWorker:
    """Record the last day a worker works for us, with the off-boarding checklist: one line per system
    access still open, so that nothing is forgotten (open access after that date raises an alert)."""
    _require(actor, "vendors.change_thirdpartyworker", "Off-boarding needs the vendor manager role.")
    _staff_only(actor, "We off-board the vendor's people.")
    if worker.offboarded_on is not None:
        raise ValidationError({"offboarded_on": "This worker is already off-boarded."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why the worker leaves our service."})
    before = audit.snapshot(worker)
    worker.offboarded_on = offboarded_on
    worker.offboarding_reason = reason.strip()[:300]
    _save_changed(worker, before, actor)
    open_access = [
        f"Revoke {grant.system} ({grant.access_level})"
        for grant in worker.access_grants.filter(revoked_on__isnull=True).order_by("system")
    ]
    _tasks(worker, BoardingTask.Kind.OFFBOARDING, [*OFFBOARDING_CHECKLIST, *open_access], actor)
    return worker


@transaction.atomic
def access_grant(
    *, actor: Any, worker: ThirdPartyWorker, system: str, access_level: str, granted_on: date
) -> AccessGrant:
    """Grant a worker access to one of our systems (never after their off-boarding date)."""
    _require(actor, "vendors.add_accessgrant", "Granting access needs the vendor manager role.")
    _staff_only(actor, "We grant access to our systems.")
    if granted_on < worker.onboarded_on:
        raise ValidationError({"granted_on": "Access starts on or after the worker's on-boarding."})
    if worker.offboarded_on is not None and granted_on >= worker.offboarded_on:
        raise ValidationError({"granted_on": "The worker is off-boarded by then."})
    if AccessGrant.objects.filter(worker=worker, system=system, revoked_on__isnull=True).exists():
        raise ValidationError({"system": f"The worker already has open access to {system}."})
    grant = AccessGrant(
        worker=worker, system=system, access_level=access_level, granted_on=granted_on, granted_by=actor
    )
    return _save_new(grant, actor)  # type: ignore[no-any-return]


@transaction.atomic
def access_revoke(*, actor: Any, grant: AccessGrant, revoked_on: date) -> AccessGrant:
    """Record that access was revoked; the grant stays as history."""
    _require(actor, "vendors.change_accessgrant", "Revoking access needs the vendor manager role.")
    _staff_only(actor, "We revoke access to our systems.")
    if grant.revoked_on is not None:
        raise ValidationError({"revoked_on": "This access is already revoked."})
    if revoked_on < grant.granted_on:
        raise ValidationError({"revoked_on": "Access is revoked on or after it was granted."})
    before = audit.snapshot(grant)
    grant.revoked_on = revoked_on
    grant.revoked_by = actor
    return _save_changed(grant, before, actor)  # type: ignore[no-any-return]


@transaction.atomic
def training_record_add(
    *, actor: Any, worker: ThirdPartyWorker, course: str, completed_on: date, expires_on: date | None = None
) -> TrainingRecord:
    _require(actor, "vendors.add_trainingrecord", "Recording training needs the vendor manager role.")
    _staff_only(actor, "We record the training of the vendor's people.")
    if completed_on > timezone.localdate():
        raise ValidationError({"completed_on": "Record training once it is completed."})
    record = TrainingRecord(worker=worker, course=course, completed_on=completed_on, expires_on=expires_on)
    return _save_new(record, actor)  # type: ignore[no-any-return]


@transaction.atomic
def acknowledgement_record(
    *,
    actor: Any,
    worker: ThirdPartyWorker,
    acknowledged_on: date,
    document_title: str = "",
    document_version: str = "",
    shared_version: SharedDocumentVersion | None = None,
) -> GuidelineAcknowledgement:
    """Record that a worker read a named version of a guideline: either a version of a document
    shared with their vendor, or a document named by title and version."""
    _require(
        actor,
        "vendors.add_guidelineacknowledgement",
        "Recording acknowledgements needs the vendor manager role.",
    )
    _staff_only(actor, "We record acknowledgements.")
    if shared_version is not None:
        if shared_version.document.vendor_id != worker.vendor_id:
            raise ValidationError({"shared_version": "The document belongs to another vendor."})
        document_title = shared_version.document.title
        document_version = str(shared_version.number)
    if not document_title.strip() or not document_version.strip():
        raise ValidationError({"document_title": "Name the document and its version."})
    if GuidelineAcknowledgement.objects.filter(
        worker=worker, document_title=document_title, document_version=document_version
    ).exists():
        raise ValidationError({"document_version": "This version is already acknowledged by the worker."})
    record = GuidelineAcknowledgement(
        worker=worker,
        document_title=document_title.strip(),
        document_version=document_version.strip(),
        shared_version=shared_version,
        acknowledged_on=acknowledged_on,
    )
    return _save_new(record, actor)  # type: ignore[no-any-return]


@transaction.atomic
def boarding_task_done(*, actor: Any, task: BoardingTask) -> BoardingTask:
    """Tick a line of an on- or off-boarding checklist."""
    _require(actor, "vendors.change_boardingtask", "Checklists are kept by the vendor manager.")
    _staff_only(actor, "We keep the checklists.")
    if task.done_at is not None:
        return task
    before = audit.snapshot(task)
    task.done_at = timezone.now()
    task.done_by = actor
    return _save_changed(task, before, actor)  # type: ignore[no-any-return]


# --- Cooperation-strategy reviews and improvement plans (item 8) ----------------------------------

REVIEW_DELAY_DAYS = 14  # a quarterly review meets two weeks after the quarter ends, once figures close
ANNUAL_DELAY_DAYS = 31


def quarter_of(day: date) -> tuple[date, date]:
    start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return start, schedules.add_months(start, 3) - timedelta(days=1)


def year_of(day: date) -> tuple[date, date]:
    return date(day.year, 1, 1), date(day.year, 12, 31)


@transaction.atomic
def review_schedule(
    *,
    actor: Any,
    contract: Contract,
    kind: str,
    period_start: date,
    period_end: date,
    scheduled_on: date,
) -> CooperationReview:
    """Put a review of a contract over a period in the diary (one per contract, kind and period)."""
    _require(actor, "vendors.add_cooperationreview", "Scheduling reviews needs the vendor manager role.")
    _staff_only(actor, "Cooperation reviews are ours.")
    if period_end < period_start:
        raise ValidationError({"period_end": "A review period ends on or after it starts."})
    if scheduled_on < period_start:
        raise ValidationError({"scheduled_on": "A review meets once its period has begun."})
    if CooperationReview.objects.filter(contract=contract, kind=kind, period_start=period_start).exists():
        raise ValidationError({"period_start": "This contract already has that review for this period."})
    review = CooperationReview(
        vendor_id=contract.vendor_id,
        contract=contract,
        kind=kind,
        period_start=period_start,
        period_end=period_end,
        scheduled_on=scheduled_on,
    )
    return _save_new(review, actor)  # type: ignore[no-any-return]


@transaction.atomic
def reviews_schedule_upcoming(*, today: date | None = None) -> int:
    """Celery beat, daily: every contract in force this quarter gets its quarterly business review
    (two weeks after the quarter ends) and every contract in force this year its annual strategy
    review (a month after the year ends), unless they exist already. Returns how many were created.

    Set-based: one query finds the contracts and one the reviews already there, whatever their number.
    """
    day = _today(today)
    created = 0
    live_vendors = (Vendor.Status.ONBOARDING, Vendor.Status.ACTIVE, Vendor.Status.UNDER_REVIEW)
    for kind, (start, end), delay in (
        (CooperationReview.Kind.QUARTERLY, quarter_of(day), REVIEW_DELAY_DAYS),
        (CooperationReview.Kind.ANNUAL, year_of(day), ANNUAL_DELAY_DAYS),
    ):
        in_force = (
            ContractVersion.objects.filter(
                status__in=ContractVersion.PUBLISHED, start__lte=end, effective_end__gte=start
            )
            .filter(contract__vendor__status__in=live_vendors)
            .values_list("contract_id", "contract__vendor_id")
            .distinct()
        )
        existing = set(
            CooperationReview.objects.filter(kind=kind, period_start=start).values_list(
                "contract_id", flat=True
            )
        )
        new = [
            CooperationReview(
                vendor_id=vendor_id,
                contract_id=contract_id,
                kind=kind,
                period_start=start,
                period_end=end,
                scheduled_on=end + timedelta(days=delay),
            )
            for contract_id, vendor_id in sorted(set(in_force))
            if contract_id not in existing
        ]
        for review in CooperationReview.objects.bulk_create(new):
            audit.record_change(AuditEvent.Action.CREATE, review, actor=None)
        created += len(new)
    return created


@dataclass(frozen=True)
class MilestoneSpec:
    description: str
    due_on: date


@dataclass(frozen=True)
class PlanSpec:
    """An improvement plan as a page, the API or the seed gives it."""

    title: str
    objective: str
    due_on: date
    milestones: Sequence[MilestoneSpec] = field(default_factory=tuple)
    owner: User | None = None


def _create_plan(
    vendor: Vendor, review: CooperationReview | None, spec: PlanSpec, actor: Any, today: date
) -> VendorImprovementPlan:
    if not spec.milestones:
        raise ValidationError({"plan": "An improvement plan has at least one milestone."})
    if len(spec.milestones) > 30:
        raise ValidationError({"plan": "At most 30 milestones."})
    if spec.due_on < today:
        raise ValidationError({"plan": "The plan is due today or later."})
    if spec.owner is not None and spec.owner.is_portal_user:
        raise ValidationError({"plan": "The plan's owner on our side is one of our staff."})
    plan = VendorImprovementPlan(
        vendor=vendor,
        review=review,
        title=spec.title,
        objective=spec.objective,
        due_on=spec.due_on,
        owner=spec.owner,
    )
    _save_new(plan, actor)
    for position, milestone in enumerate(spec.milestones):
        if milestone.due_on > spec.due_on:
            raise ValidationError({"plan": f"Milestone {position + 1} falls after the plan's due date."})
        _save_new(
            ImprovementMilestone(
                plan=plan, position=position, description=milestone.description, due_on=milestone.due_on
            ),
            actor,
        )
    return plan


@transaction.atomic
def review_decide(
    *,
    actor: Any,
    review: CooperationReview,
    decision: str,
    rationale: str,
    figures: Mapping[str, Any],
    actions: Sequence[ActionSpec] = (),
    plan: PlanSpec | None = None,
    minutes: str = "",
    today: date | None = None,
) -> CooperationReview:
    """Close a review with its decision (continue, expand, renegotiate, improvement plan, exit).

    The meeting goes into the liaison log with the follow-up actions; "improvement plan" needs the plan
    with its milestones; "exit" moves the vendor's lifecycle to exiting through the lifecycle service
    (so its rules and history apply). FIGURES, what the reviewers saw, are kept with the decision.
    """
    _require(actor, "vendors.change_cooperationreview", "Deciding reviews needs the vendor manager role.")
    _staff_only(actor, "Cooperation reviews are ours.")
    if actor is None:
        raise PermissionDenied("A review is decided by a person.")
    review = CooperationReview.objects.select_for_update().get(pk=review.pk)
    if review.status != CooperationReview.Status.SCHEDULED:
        raise ValidationError({"decision": "This review is already closed."})
    if decision not in CooperationReview.Decision.values:
        raise ValidationError({"decision": f"“{decision}” is not a review decision."})
    if not rationale.strip():
        raise ValidationError({"rationale": "Give the rationale for the decision."})
    is_plan = decision == CooperationReview.Decision.IMPROVEMENT_PLAN
    if is_plan and plan is None:
        raise ValidationError(
            {"plan": "An improvement-plan decision comes with the plan and its milestones."}
        )
    if not is_plan and plan is not None:
        raise ValidationError({"plan": "Only an improvement-plan decision carries a plan."})
    vendor = Vendor.objects.get(pk=review.vendor_id)
    label = CooperationReview.Decision(decision).label
    meeting: LiaisonEntry = liaison_entry_create(
        actor=actor,
        vendor=vendor,
        contract=review.contract,
        kind=LiaisonEntry.Kind.MEETING,
        occurred_at=timezone.now(),
        title=f"{review.get_kind_display()}, {review.period_start:%d %b %Y} – {review.period_end:%d %b %Y}",
        minutes=minutes,
        decisions=f"{label}: {rationale.strip()}",
        actions=actions,
    )
    before = audit.snapshot(review)
    review.status = CooperationReview.Status.COMPLETED
    review.decision = decision
    review.rationale = rationale.strip()
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.meeting = meeting
    review.figures = dict(figures)
    _save_changed(review, before, actor)
    if plan is not None:
        _create_plan(vendor, review, plan, actor, _today(today))
    if decision == CooperationReview.Decision.EXIT:
        vendor_change_status(
            actor=actor,
            vendor=vendor,
            status=Vendor.Status.EXITING,
            reason=f"Cooperation review: {rationale.strip()}",
        )
    return review


@transaction.atomic
def milestone_update(*, actor: Any, milestone: ImprovementMilestone, status: str) -> ImprovementMilestone:
    """Mark a milestone done or missed; when every milestone is settled the plan is completed (all
    done) or not achieved (any missed)."""
    _require(actor, "vendors.change_improvementmilestone", "Plans are kept by the vendor manager.")
    _staff_only(actor, "We judge the milestones.")
    if status not in ImprovementMilestone.Status.values:
        raise ValidationError({"status": f"“{status}” is not a milestone status."})
    before = audit.snapshot(milestone)
    milestone.status = status
    milestone.done_at = timezone.now() if status == ImprovementMilestone.Status.DONE else None
    _save_changed(milestone, before, actor)
    plan = VendorImprovementPlan.objects.select_for_update().get(pk=milestone.plan_id)
    remaining = plan.milestones.filter(status=ImprovementMilestone.Status.OPEN)
    if not remaining.exists() and plan.status == VendorImprovementPlan.Status.OPEN:
        plan_before = audit.snapshot(plan)
        missed = plan.milestones.filter(~Q(status=ImprovementMilestone.Status.DONE)).exists()
        plan.status = (
            VendorImprovementPlan.Status.FAILED if missed else VendorImprovementPlan.Status.COMPLETED
        )
        _save_changed(plan, plan_before, actor)
    return milestone
