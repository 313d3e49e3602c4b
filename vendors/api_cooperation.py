"""API: system interfaces and governance, shared documents with versions, the ideas log, third-party
staff, cooperation reviews and improvement plans (issue 5 items 2, 5, 6, 7, 8).

Mounted at ``/api/v1/vendors`` ahead of the register's router (``steward/api.py``), so that the
register's ``/{vendor_id}`` route never captures ``/interfaces`` and friends. Endpoints parse, fetch
through a selector (another vendor's id is a 404, audited) and call ``vendors.cooperation``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from accounts.models import User
from core.api import InputSchema, ObjectId, actor, paginate
from vendors import cooperation, selectors, services
from vendors import cooperation_selectors as reads
from vendors.models import (
    AccessGrant,
    BoardingTask,
    Contract,
    CooperationReview,
    DataFlow,
    GovernanceItem,
    GuidelineAcknowledgement,
    Idea,
    ImprovementMilestone,
    Party,
    SharedDocument,
    SharedDocumentVersion,
    SystemInterface,
    ThirdPartyWorker,
    TrainingRecord,
    Vendor,
)

router = Router(tags=["vendor cooperation"])


def _need(request: HttpRequest, perm: str, message: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(message)


def _vendor(request: HttpRequest, vendor_id: int) -> Vendor:
    return selectors.vendor_get(user=request.user, pk=vendor_id)


def _contract(request: HttpRequest, contract_id: int | None) -> Contract | None:
    return None if contract_id is None else selectors.contract_get(user=request.user, pk=contract_id)


def _user(user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    found: User | None = User.objects.filter(pk=user_id, is_active=True).first()
    if found is None:
        raise ValidationError({field: "No such active user."})
    return found


class CooperationVendorFilter(Schema):
    vendor_id: ObjectId | None = None


def _filter_vendor(request: HttpRequest, filters: CooperationVendorFilter) -> Vendor | None:
    return None if filters.vendor_id is None else _vendor(request, filters.vendor_id)


# --- Interfaces and governance --------------------------------------------------------------------


class SystemInterfaceIn(InputSchema):
    vendor_id: ObjectId
    contract_id: ObjectId | None = None
    our_system: str = Field(..., min_length=1, max_length=200)
    their_system: str = Field(..., min_length=1, max_length=200)
    direction: SystemInterface.Direction
    data_exchanged: str = Field(..., min_length=1, max_length=500)
    channel: DataFlow.Channel
    protocol: str = Field("", max_length=100)
    frequency: DataFlow.Frequency
    our_owner_id: ObjectId | None = None
    their_owner: str = Field("", max_length=200)
    status: SystemInterface.Status = SystemInterface.Status.PLANNED
    notes: str = Field("", max_length=4000)


class SystemInterfacePatch(InputSchema):
    status: SystemInterface.Status | None = None
    protocol: str | None = Field(None, max_length=100)
    frequency: DataFlow.Frequency | None = None
    their_owner: str | None = Field(None, max_length=200)
    notes: str | None = Field(None, max_length=4000)


class SystemInterfaceOut(Schema):
    id: int
    vendor_id: int
    contract_id: int | None
    our_system: str
    their_system: str
    direction: SystemInterface.Direction
    data_exchanged: str
    channel: DataFlow.Channel
    protocol: str
    frequency: DataFlow.Frequency
    our_owner_id: int | None
    their_owner: str
    status: SystemInterface.Status
    notes: str
    updated_at: datetime


class SystemInterfaceQuery(CooperationVendorFilter):
    status: SystemInterface.Status | None = None


@router.get(
    "/interfaces", response=list[SystemInterfaceOut], summary="Interfaces between their systems and ours"
)
@paginate
def interface_list(request: HttpRequest, filters: Query[SystemInterfaceQuery]):  # type: ignore[no-untyped-def]
    return reads.interfaces(
        user=request.user, vendor=_filter_vendor(request, filters), status=filters.status or ""
    )


@router.post("/interfaces", response={201: SystemInterfaceOut}, summary="Record a system interface")
def interface_create(request: HttpRequest, payload: SystemInterfaceIn) -> Status[SystemInterface]:
    _need(request, "vendors.add_systeminterface", "Recording interfaces needs the vendor manager role.")
    data = payload.dict()
    vendor = _vendor(request, data.pop("vendor_id"))
    contract = _contract(request, data.pop("contract_id"))
    data["our_owner"] = _user(data.pop("our_owner_id"), "our_owner_id")
    return Status(
        201, cooperation.interface_create(actor=actor(request), vendor=vendor, contract=contract, **data)
    )


@router.get("/interfaces/{system_interface_id}", response=SystemInterfaceOut, summary="One interface")
def interface_detail(request: HttpRequest, system_interface_id: ObjectId) -> SystemInterface:
    return reads.interface_get(user=request.user, pk=system_interface_id)


@router.patch("/interfaces/{system_interface_id}", response=SystemInterfaceOut, summary="Change an interface")
def interface_update(
    request: HttpRequest, system_interface_id: ObjectId, payload: SystemInterfacePatch
) -> SystemInterface:
    interface = reads.interface_get(user=request.user, pk=system_interface_id, action="change")
    changes = {k: v for k, v in payload.dict().items() if v is not None}
    return cooperation.interface_update(actor=actor(request), interface=interface, **changes)


class GovernanceItemIn(InputSchema):
    vendor_id: ObjectId
    kind: GovernanceItem.Kind
    position: int = Field(1, ge=1, le=20)
    title: str = Field(..., min_length=1, max_length=200)
    frequency: DataFlow.Frequency = DataFlow.Frequency.AD_HOC
    from_party: Party = Party.VENDOR
    our_role: str = Field("", max_length=200)
    vendor_role: str = Field("", max_length=200)
    response_time: str = Field("", max_length=100)
    notes: str = Field("", max_length=500)


class GovernanceItemOut(Schema):
    id: int
    vendor_id: int
    kind: GovernanceItem.Kind
    position: int
    title: str
    frequency: DataFlow.Frequency
    from_party: Party
    our_role: str
    vendor_role: str
    response_time: str
    notes: str


@router.get(
    "/governance",
    response=list[GovernanceItemOut],
    summary="Reports exchanged, meetings and their cadence, the escalation path",
)
@paginate
def governance_list(request: HttpRequest, filters: Query[CooperationVendorFilter]):  # type: ignore[no-untyped-def]
    return reads.governance(user=request.user, vendor=_filter_vendor(request, filters))


@router.post(
    "/governance", response={201: GovernanceItemOut}, summary="Add a report, meeting or escalation step"
)
def governance_create(request: HttpRequest, payload: GovernanceItemIn) -> Status[GovernanceItem]:
    _need(request, "vendors.add_governanceitem", "Changing governance needs the vendor manager role.")
    data = payload.dict()
    vendor = _vendor(request, data.pop("vendor_id"))
    return Status(201, cooperation.governance_item_create(actor=actor(request), vendor=vendor, **data))


@router.delete("/governance/{governance_item_id}", response={204: None}, summary="Remove a governance line")
def governance_delete(request: HttpRequest, governance_item_id: ObjectId) -> Status[None]:
    item = reads.governance_get(user=request.user, pk=governance_item_id, action="delete")
    cooperation.governance_item_delete(actor=actor(request), item=item)
    return Status(204, None)


# --- Shared documents -----------------------------------------------------------------------------


class SharedDocumentVersionOut(Schema):
    id: int
    number: int
    file_name: str
    content_type: str
    size: int
    sha256: str
    change_note: str
    uploaded_by_id: int | None
    created_at: datetime


class SharedDocumentOut(Schema):
    id: int
    vendor_id: int
    title: str
    description: str
    shared_with_vendor: bool
    versions: list[SharedDocumentVersionOut]

    @staticmethod
    def resolve_versions(obj: SharedDocument) -> list[Any]:
        return list(obj.versions.all())


class SharedDocumentSharingIn(InputSchema):
    shared_with_vendor: bool


def _document_out(request: HttpRequest, pk: int) -> SharedDocument:
    return reads.shared_documents(user=request.user).get(pk=pk)


@router.get("/shared-documents", response=list[SharedDocumentOut], summary="Documents shared with vendors")
@paginate
def shared_document_list(request: HttpRequest, filters: Query[CooperationVendorFilter]):  # type: ignore[no-untyped-def]
    return reads.shared_documents(user=request.user, vendor=_filter_vendor(request, filters))


@router.post(
    "/shared-documents",
    response={201: SharedDocumentOut},
    summary="Start a shared document with its first version (multipart/form-data)",
    description="PDF, PNG, JPEG, XLSX, CSV or TXT, at most 10 MB; the type is checked by the content.",
)
def shared_document_create(
    request: HttpRequest,
    vendor_id: int = Form(..., ge=1),  # type: ignore[type-arg]
    title: str = Form(..., min_length=1, max_length=200),  # type: ignore[type-arg]
    description: str = Form("", max_length=500),  # type: ignore[type-arg]
    shared_with_vendor: bool = Form(False),  # type: ignore[type-arg]  # noqa: FBT003
    change_note: str = Form("First version.", max_length=500),  # type: ignore[type-arg]
    file: UploadedFile | None = File(None),  # type: ignore[type-arg]  # noqa: B008
) -> Status[SharedDocument]:
    vendor = _vendor(request, vendor_id)
    _need(request, "vendors.add_shareddocument", "Sharing documents needs the vendor manager role.")
    document = cooperation.shared_document_create(
        actor=actor(request),
        vendor=vendor,
        title=title,
        description=description,
        shared_with_vendor=shared_with_vendor,
        change_note=change_note,
        upload=file,
    )
    return Status(201, _document_out(request, document.pk))


@router.get(
    "/shared-documents/{shared_document_id}", response=SharedDocumentOut, summary="One shared document"
)
def shared_document_detail(request: HttpRequest, shared_document_id: ObjectId) -> SharedDocument:
    reads.shared_document_get(user=request.user, pk=shared_document_id)
    return _document_out(request, shared_document_id)


@router.post(
    "/shared-documents/{shared_document_id}/versions",
    response={201: SharedDocumentVersionOut},
    summary="Upload a new version (multipart/form-data: file, change_note); earlier versions stay",
)
def shared_document_add_version(
    request: HttpRequest,
    shared_document_id: ObjectId,
    change_note: str = Form("", max_length=500),  # type: ignore[type-arg]
    file: UploadedFile | None = File(None),  # type: ignore[type-arg]  # noqa: B008
) -> Status[SharedDocumentVersion]:
    document = reads.shared_document_get(user=request.user, pk=shared_document_id)
    _need(request, "vendors.add_shareddocumentversion", "New versions need the vendor manager role.")
    return Status(
        201,
        cooperation.shared_document_add_version(
            actor=actor(request), document=document, upload=file, change_note=change_note
        ),
    )


@router.post(
    "/shared-documents/{shared_document_id}/sharing",
    response=SharedDocumentOut,
    summary="Show the document to the vendor's portal users, or stop",
)
def shared_document_sharing(
    request: HttpRequest, shared_document_id: ObjectId, payload: SharedDocumentSharingIn
) -> SharedDocument:
    document = reads.shared_document_get(user=request.user, pk=shared_document_id, action="change")
    cooperation.shared_document_set_sharing(
        actor=actor(request), document=document, shared=payload.shared_with_vendor
    )
    return _document_out(request, shared_document_id)


@router.get(
    "/shared-document-versions/{shared_document_version_id}/download",
    response={200: None},
    summary="Download one version of a shared document",
)
def shared_version_download(request: HttpRequest, shared_document_version_id: ObjectId) -> FileResponse:
    version = reads.shared_version_get(user=request.user, pk=shared_document_version_id)
    try:
        handle = version.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    return FileResponse(
        handle, as_attachment=True, filename=version.file_name, content_type=version.content_type
    )


# --- Ideas ----------------------------------------------------------------------------------------


class IdeaIn(InputSchema):
    vendor_id: ObjectId
    contract_id: ObjectId | None = None
    title: str = Field(..., min_length=1, max_length=200)
    description: str = Field(..., min_length=1, max_length=8000)
    expected_benefit: str = Field("", max_length=500)


class IdeaDecisionIn(InputSchema):
    status: Idea.Status
    note: str = Field("", max_length=4000)
    proposal_reference: str = Field("", max_length=100)


class IdeaOut(Schema):
    id: int
    vendor_id: int
    contract_id: int | None
    source: Idea.Source
    title: str
    description: str
    expected_benefit: str
    status: Idea.Status
    submitted_by_id: int | None
    decided_by_id: int | None
    decided_at: datetime | None
    decision_note: str
    proposal_reference: str
    created_at: datetime


class IdeaQuery(CooperationVendorFilter):
    status: Idea.Status | None = None


@router.get("/ideas", response=list[IdeaOut], summary="The ideas log")
@paginate
def idea_list(request: HttpRequest, filters: Query[IdeaQuery]):  # type: ignore[no-untyped-def]
    return reads.ideas(
        user=request.user, vendor=_filter_vendor(request, filters), status=filters.status or ""
    )


@router.post("/ideas", response={201: IdeaOut}, summary="Log an idea (a portal user: from the vendor)")
def idea_submit(request: HttpRequest, payload: IdeaIn) -> Status[Idea]:
    _need(request, "vendors.add_idea", "Logging ideas needs the vendor manager or portal role.")
    vendor = _vendor(request, payload.vendor_id)
    return Status(
        201,
        cooperation.idea_submit(
            actor=actor(request),
            vendor=vendor,
            contract=_contract(request, payload.contract_id),
            title=payload.title,
            description=payload.description,
            expected_benefit=payload.expected_benefit,
        ),
    )


@router.get("/ideas/{idea_id}", response=IdeaOut, summary="One idea")
def idea_detail(request: HttpRequest, idea_id: ObjectId) -> Idea:
    return reads.idea_get(user=request.user, pk=idea_id)


@router.post(
    "/ideas/{idea_id}/decide",
    response=IdeaOut,
    summary="Consider, accept, decline, or turn an accepted idea into a proposal",
)
def idea_decide(request: HttpRequest, idea_id: ObjectId, payload: IdeaDecisionIn) -> Idea:
    idea = reads.idea_get(user=request.user, pk=idea_id, action="change")
    return cooperation.idea_decide(actor=actor(request), idea=idea, **payload.dict())


# --- Third-party staff ----------------------------------------------------------------------------


class ThirdPartyWorkerIn(InputSchema):
    vendor_id: ObjectId
    name: str = Field(..., min_length=1, max_length=200)
    email: str = Field("", max_length=254)
    role: str = Field(..., min_length=1, max_length=200)
    onboarded_on: date
    user_id: ObjectId | None = None


class ThirdPartyWorkerOut(Schema):
    id: int
    vendor_id: int
    name: str
    email: str
    role: str
    user_id: int | None
    onboarded_on: date
    offboarded_on: date | None
    offboarding_reason: str
    open_access: int = 0
    open_tasks: int = 0


class AccessGrantOut(Schema):
    id: int
    worker_id: int
    system: str
    access_level: str
    granted_on: date
    revoked_on: date | None


class TrainingRecordOut(Schema):
    id: int
    course: str
    completed_on: date
    expires_on: date | None


class GuidelineAcknowledgementOut(Schema):
    id: int
    document_title: str
    document_version: str
    shared_version_id: int | None
    acknowledged_on: date


class BoardingTaskOut(Schema):
    id: int
    kind: BoardingTask.Kind
    description: str
    done_at: datetime | None


class ThirdPartyWorkerDetailOut(ThirdPartyWorkerOut):
    access: list[AccessGrantOut]
    training: list[TrainingRecordOut]
    acknowledgements: list[GuidelineAcknowledgementOut]
    checklist: list[BoardingTaskOut]


class WorkerOffboardIn(InputSchema):
    offboarded_on: date
    reason: str = Field(..., min_length=1, max_length=300)


class AccessGrantIn(InputSchema):
    system: str = Field(..., min_length=1, max_length=200)
    access_level: str = Field(..., min_length=1, max_length=100)
    granted_on: date


class AccessRevokeIn(InputSchema):
    revoked_on: date


class TrainingRecordIn(InputSchema):
    course: str = Field(..., min_length=1, max_length=200)
    completed_on: date
    expires_on: date | None = None


class GuidelineAcknowledgementIn(InputSchema):
    acknowledged_on: date
    document_title: str = Field("", max_length=200)
    document_version: str = Field("", max_length=40)
    shared_version_id: ObjectId | None = None


class AccessAlertOut(Schema):
    grant_id: int = Field(..., alias="id")
    worker_id: int
    vendor_id: int
    system: str
    access_level: str
    granted_on: date
    revoked_on: date | None
    offboarded_on: date

    @staticmethod
    def resolve_vendor_id(obj: AccessGrant) -> int:
        return obj.worker.vendor_id

    @staticmethod
    def resolve_offboarded_on(obj: AccessGrant) -> date | None:
        return obj.worker.offboarded_on


class ThirdPartyWorkerQuery(CooperationVendorFilter):
    current_only: bool = False


def _worker_detail(request: HttpRequest, worker: ThirdPartyWorker) -> dict[str, Any]:
    parts = reads.worker_detail(user=request.user, worker=worker)
    row = reads.workers(user=request.user).get(pk=worker.pk)
    data = ThirdPartyWorkerOut.from_orm(row).dict()
    data.update(
        access=list(parts["grants"]),
        training=list(parts["training"]),
        acknowledgements=list(parts["acknowledgements"]),
        checklist=list(parts["tasks"]),
    )
    return data


@router.get("/workers", response=list[ThirdPartyWorkerOut], summary="The vendor's people working for us")
@paginate
def worker_list(request: HttpRequest, filters: Query[ThirdPartyWorkerQuery]):  # type: ignore[no-untyped-def]
    return reads.workers(
        user=request.user, vendor=_filter_vendor(request, filters), current_only=filters.current_only
    )


@router.post(
    "/workers", response={201: ThirdPartyWorkerDetailOut}, summary="Register one of the vendor's people"
)
def worker_create(request: HttpRequest, payload: ThirdPartyWorkerIn) -> Status[dict[str, Any]]:
    _need(request, "vendors.add_thirdpartyworker", "Registering vendor staff needs the vendor manager role.")
    vendor = _vendor(request, payload.vendor_id)
    worker = cooperation.worker_create(
        actor=actor(request),
        vendor=vendor,
        name=payload.name,
        email=payload.email,
        role=payload.role,
        onboarded_on=payload.onboarded_on,
        user=_user(payload.user_id, "user_id"),
    )
    return Status(201, _worker_detail(request, worker))


@router.get(
    "/workers/{third_party_worker_id}",
    response=ThirdPartyWorkerDetailOut,
    summary="One worker, with access and training",
)
def worker_detail(request: HttpRequest, third_party_worker_id: ObjectId) -> dict[str, Any]:
    return _worker_detail(request, reads.worker_get(user=request.user, pk=third_party_worker_id))


@router.post(
    "/workers/{third_party_worker_id}/offboard",
    response=ThirdPartyWorkerDetailOut,
    summary="Off-board a worker",
)
def worker_offboard(
    request: HttpRequest, third_party_worker_id: ObjectId, payload: WorkerOffboardIn
) -> dict[str, Any]:
    worker = reads.worker_get(user=request.user, pk=third_party_worker_id, action="change")
    cooperation.worker_offboard(
        actor=actor(request), worker=worker, offboarded_on=payload.offboarded_on, reason=payload.reason
    )
    return _worker_detail(request, worker)


@router.post(
    "/workers/{third_party_worker_id}/access", response={201: AccessGrantOut}, summary="Grant system access"
)
def worker_access_grant(
    request: HttpRequest, third_party_worker_id: ObjectId, payload: AccessGrantIn
) -> Status[AccessGrant]:
    worker = reads.worker_get(user=request.user, pk=third_party_worker_id)
    _need(request, "vendors.add_accessgrant", "Granting access needs the vendor manager role.")
    return Status(201, cooperation.access_grant(actor=actor(request), worker=worker, **payload.dict()))


@router.post(
    "/access-grants/{access_grant_id}/revoke", response=AccessGrantOut, summary="Record access revoked"
)
def access_revoke(request: HttpRequest, access_grant_id: ObjectId, payload: AccessRevokeIn) -> AccessGrant:
    grant = reads.access_grant_get(user=request.user, pk=access_grant_id, action="change")
    return cooperation.access_revoke(actor=actor(request), grant=grant, revoked_on=payload.revoked_on)


@router.get(
    "/access-alerts",
    response=list[AccessAlertOut],
    summary="Access still granted after the worker's off-boarding date",
)
@paginate
def access_alert_list(request: HttpRequest, filters: Query[CooperationVendorFilter]):  # type: ignore[no-untyped-def]
    return reads.access_alerts(user=request.user, vendor=_filter_vendor(request, filters))


@router.post(
    "/workers/{third_party_worker_id}/training",
    response={201: TrainingRecordOut},
    summary="Record training completed",
)
def worker_training(
    request: HttpRequest, third_party_worker_id: ObjectId, payload: TrainingRecordIn
) -> Status[TrainingRecord]:
    worker = reads.worker_get(user=request.user, pk=third_party_worker_id)
    _need(request, "vendors.add_trainingrecord", "Recording training needs the vendor manager role.")
    return Status(201, cooperation.training_record_add(actor=actor(request), worker=worker, **payload.dict()))


@router.post(
    "/workers/{third_party_worker_id}/acknowledgements",
    response={201: GuidelineAcknowledgementOut},
    summary="Record a guideline version acknowledged",
)
def worker_acknowledgement(
    request: HttpRequest, third_party_worker_id: ObjectId, payload: GuidelineAcknowledgementIn
) -> Status[GuidelineAcknowledgement]:
    worker = reads.worker_get(user=request.user, pk=third_party_worker_id)
    _need(
        request,
        "vendors.add_guidelineacknowledgement",
        "Recording acknowledgements needs the vendor manager role.",
    )
    shared = (
        None
        if payload.shared_version_id is None
        else reads.shared_version_get(user=request.user, pk=payload.shared_version_id)
    )
    return Status(
        201,
        cooperation.acknowledgement_record(
            actor=actor(request),
            worker=worker,
            acknowledged_on=payload.acknowledged_on,
            document_title=payload.document_title,
            document_version=payload.document_version,
            shared_version=shared,
        ),
    )


@router.post(
    "/boarding-tasks/{boarding_task_id}/done", response=BoardingTaskOut, summary="Tick a checklist line"
)
def boarding_task_done(request: HttpRequest, boarding_task_id: ObjectId) -> BoardingTask:
    task = reads.boarding_task_get(user=request.user, pk=boarding_task_id, action="change")
    return cooperation.boarding_task_done(actor=actor(request), task=task)


# --- Reviews and improvement plans ----------------------------------------------------------------


class CooperationReviewIn(InputSchema):
    contract_id: ObjectId
    kind: CooperationReview.Kind
    period_start: date
    period_end: date
    scheduled_on: date


class CooperationReviewOut(Schema):
    id: int
    vendor_id: int
    contract_id: int
    kind: CooperationReview.Kind
    period_start: date
    period_end: date
    scheduled_on: date
    status: CooperationReview.Status
    decision: str
    rationale: str
    decided_by_id: int | None
    decided_at: datetime | None
    meeting_id: int | None
    figures: dict[str, Any]


class ReviewDossierOut(Schema):
    trend: list[dict[str, Any]]
    average_score: Decimal | None
    periods_scored: int
    credits: Decimal
    earn_backs: Decimal
    bonuses: Decimal
    adjustments_pending: int
    fees: Decimal
    months_in_force: int
    net_cost: Decimal
    compliance: Decimal | None
    obligations_missed: int
    open_actions: int
    ideas_by_status: dict[str, int]
    proposals: list[dict[str, Any]]


class CooperationReviewDetailOut(CooperationReviewOut):
    dossier: ReviewDossierOut


class FollowUpActionIn(InputSchema):
    description: str = Field(..., min_length=1, max_length=500)
    owner_party: Party
    owner_id: ObjectId | None = None
    due_on: date


class ImprovementMilestoneIn(InputSchema):
    description: str = Field(..., min_length=1, max_length=300)
    due_on: date


class VendorImprovementPlanIn(InputSchema):
    title: str = Field(..., min_length=1, max_length=200)
    objective: str = Field(..., min_length=1, max_length=4000)
    due_on: date
    owner_id: ObjectId | None = None
    milestones: list[ImprovementMilestoneIn] = Field(..., max_length=30)


class CooperationDecisionIn(InputSchema):
    decision: CooperationReview.Decision
    rationale: str = Field(..., min_length=1, max_length=8000)
    minutes: str = Field("", max_length=20000)
    actions: list[FollowUpActionIn] = Field(default_factory=list, max_length=50)
    plan: VendorImprovementPlanIn | None = None


class ImprovementMilestonePatch(InputSchema):
    status: ImprovementMilestone.Status


class ImprovementMilestoneOut(Schema):
    id: int
    description: str
    due_on: date
    status: ImprovementMilestone.Status


class VendorImprovementPlanOut(Schema):
    id: int
    vendor_id: int
    review_id: int | None
    title: str
    objective: str
    due_on: date
    status: str
    milestones: list[ImprovementMilestoneOut]

    @staticmethod
    def resolve_milestones(obj: Any) -> list[Any]:
        return list(obj.milestones.all())


class CooperationReviewQuery(CooperationVendorFilter):
    status: CooperationReview.Status | None = None


def _dossier(request: HttpRequest, review: CooperationReview) -> dict[str, Any]:
    dossier = reads.review_dossier(user=request.user, review=review)
    compliance = dossier.compliance
    return {
        "trend": [{"period": label, "score": score} for label, score, _colour in dossier.trend],
        "average_score": dossier.average_score,
        "periods_scored": dossier.periods_scored,
        "credits": dossier.credits,
        "earn_backs": dossier.earn_backs,
        "bonuses": dossier.bonuses,
        "adjustments_pending": dossier.adjustments_pending,
        "fees": dossier.fees,
        "months_in_force": dossier.months_in_force,
        "net_cost": dossier.net_cost,
        "compliance": compliance.score if compliance else None,
        "obligations_missed": compliance.missed if compliance else 0,
        "open_actions": len(dossier.open_actions),
        "ideas_by_status": dossier.ideas_by_status,
        "proposals": dossier.proposals,
    }


def _review_detail(request: HttpRequest, review: CooperationReview) -> dict[str, Any]:
    data = CooperationReviewOut.from_orm(review).dict()
    data["dossier"] = _dossier(request, review)
    return data


@router.get("/reviews", response=list[CooperationReviewOut], summary="Cooperation-strategy reviews")
@paginate
def review_list(request: HttpRequest, filters: Query[CooperationReviewQuery]):  # type: ignore[no-untyped-def]
    return reads.reviews(
        user=request.user, vendor=_filter_vendor(request, filters), status=filters.status or ""
    )


@router.post(
    "/reviews", response={201: CooperationReviewOut}, summary="Schedule a review of a contract over a period"
)
def review_schedule(request: HttpRequest, payload: CooperationReviewIn) -> Status[CooperationReview]:
    _need(request, "vendors.add_cooperationreview", "Scheduling reviews needs the vendor manager role.")
    contract = selectors.contract_get(user=request.user, pk=payload.contract_id)
    data = payload.dict()
    data.pop("contract_id")
    return Status(201, cooperation.review_schedule(actor=actor(request), contract=contract, **data))


@router.get(
    "/reviews/{cooperation_review_id}",
    response=CooperationReviewDetailOut,
    summary="A review with its figures",
)
def review_detail(request: HttpRequest, cooperation_review_id: ObjectId) -> dict[str, Any]:
    return _review_detail(request, reads.review_get(user=request.user, pk=cooperation_review_id))


@router.post(
    "/reviews/{cooperation_review_id}/decide",
    response=CooperationReviewDetailOut,
    summary="Record the decision, its rationale, follow-up actions and (improvement plan) the plan",
)
def review_decide(
    request: HttpRequest, cooperation_review_id: ObjectId, payload: CooperationDecisionIn
) -> dict[str, Any]:
    review = reads.review_get(user=request.user, pk=cooperation_review_id, action="change")
    actions = [
        services.ActionSpec(
            description=a.description,
            owner_party=a.owner_party,
            owner=_user(a.owner_id, "actions"),
            due_on=a.due_on,
        )
        for a in payload.actions
    ]
    plan = None
    if payload.plan is not None:
        plan = cooperation.PlanSpec(
            title=payload.plan.title,
            objective=payload.plan.objective,
            due_on=payload.plan.due_on,
            owner=_user(payload.plan.owner_id, "plan"),
            milestones=[cooperation.MilestoneSpec(m.description, m.due_on) for m in payload.plan.milestones],
        )
    figures = reads.review_dossier(user=request.user, review=review).figures()
    decided = cooperation.review_decide(
        actor=actor(request),
        review=review,
        decision=payload.decision,
        rationale=payload.rationale,
        minutes=payload.minutes,
        figures=figures,
        actions=actions,
        plan=plan,
    )
    return _review_detail(request, decided)


@router.get(
    "/improvement-plans",
    response=list[VendorImprovementPlanOut],
    summary="Improvement plans with their milestones",
)
@paginate
def plan_list(request: HttpRequest, filters: Query[CooperationVendorFilter]):  # type: ignore[no-untyped-def]
    return reads.improvement_plans(user=request.user, vendor=_filter_vendor(request, filters))


@router.patch(
    "/milestones/{improvement_milestone_id}",
    response=ImprovementMilestoneOut,
    summary="Mark a milestone done or missed",
)
def milestone_update(
    request: HttpRequest, improvement_milestone_id: ObjectId, payload: ImprovementMilestonePatch
) -> ImprovementMilestone:
    milestone = reads.milestone_get(user=request.user, pk=improvement_milestone_id, action="change")
    return cooperation.milestone_update(actor=actor(request), milestone=milestone, status=payload.status)
