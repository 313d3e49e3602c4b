"""API: partner-selection criteria, guidelines and acknowledgements, calls for proposals, the
vendor's submissions (portal), blind panel scoring and consensus, change requests, decisions per
component, the combined CRM strategy, the portfolio and the balance of interests.

Endpoints parse, fetch through ``restrict`` (another vendor's ids are a 404, audited) and call
``proposals.services``. Fixed first segments are declared before ``/{proposal_id}``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.urls import reverse
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from accounts.models import User
from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, UtcDateTime, actor, paginate
from proposals import selectors, services
from proposals.models import (
    Call,
    CallDocument,
    Clarification,
    CriteriaSet,
    Guideline,
    GuidelineVersion,
    Initiative,
    Milestone,
    Objective,
    Prequalification,
    Proposal,
    ProposalVersion,
)
from vendors.models import Vendor

router = Router(tags=["proposals"])


def _needs(request: HttpRequest, permission: str) -> User:
    """The caller, if their role grants PERMISSION (lists that are not querysets have no restrict)."""
    user = actor(request)
    if not user.has_perm(permission):
        raise PermissionDenied("Your role does not include this part of the proposals process.")
    return user


def _vendors(user: User, ids: list[int], field: str) -> list[Vendor]:
    found = list(Vendor.objects.restrict(user).filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({field: "No such vendor."})
    return found


def _person(user: User, pk: int | None, field: str) -> User | None:
    if pk is None:
        return None
    person: User | None = User.objects.filter(pk=pk, is_active=True).first()
    if person is None:
        raise ValidationError({field: "No such person."})
    return person


# --- Criteria and prequalification --------------------------------------------------------------


class CriterionIn(InputSchema):
    key: str = Field(..., min_length=1, max_length=40)
    label: str = Field(..., min_length=1, max_length=200)
    weight: int


class CriteriaSetIn(InputSchema):
    name: str = Field(..., max_length=200)
    category: str = Field(..., max_length=20)
    criteria: list[CriterionIn] = Field(..., max_length=30)


class CriteriaSetOut(Schema):
    id: int
    name: str
    category: str
    criteria: list[dict[str, Any]]
    active: bool


class PrequalificationIn(InputSchema):
    vendor_id: ObjectId
    criteria_set_id: ObjectId
    scores: dict[str, int]
    note: str = Field("", max_length=2000)


class PrequalificationOut(Schema):
    id: int
    vendor_id: int
    criteria_set_id: int
    scores: dict[str, int]
    score: Decimal
    note: str
    created_at: datetime


@router.get("/criteria-sets", response=list[CriteriaSetOut], summary="Partner-selection criteria sets")
@paginate
def criteria_set_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return CriteriaSet.objects.restrict(request.user)


@router.post("/criteria-sets", response={201: CriteriaSetOut}, summary="Create a weighted criteria set")
def criteria_set_create(request: HttpRequest, payload: CriteriaSetIn) -> Status[CriteriaSet]:
    item = services.criteria_set_create(
        actor=actor(request),
        name=payload.name,
        category=payload.category,
        criteria=[c.model_dump() for c in payload.criteria],
    )
    return Status(201, item)


@router.get("/prequalifications", response=list[PrequalificationOut], summary="Prequalification scores")
@paginate
def prequalification_list(request: HttpRequest, vendor_id: int | None = None):  # type: ignore[no-untyped-def]
    items = Prequalification.objects.restrict(request.user)
    return items.filter(vendor_id=vendor_id) if vendor_id else items


@router.post("/prequalifications", response={201: PrequalificationOut}, summary="Score a candidate vendor")
def prequalification_create(request: HttpRequest, payload: PrequalificationIn) -> Status[Prequalification]:
    user = actor(request)
    vendor = get_restricted_or_404(Vendor, user=user, pk=payload.vendor_id)
    criteria_set = get_restricted_or_404(CriteriaSet, user=user, pk=payload.criteria_set_id)
    item = services.vendor_prequalify(
        actor=user, vendor=vendor, criteria_set=criteria_set, scores=payload.scores, note=payload.note
    )
    return Status(201, item)


# --- Guidelines ---------------------------------------------------------------------------------


class GuidelineIn(InputSchema):
    title: str = Field(..., max_length=200)
    stage: str = Field(..., max_length=20)


class GuidelineVersionIn(InputSchema):
    body: str = Field(..., max_length=50_000)
    change_note: str = Field("", max_length=300)
    roles: list[str] = Field(default_factory=list, max_length=20)
    people: list[ObjectId] = Field(default_factory=list, max_length=500)
    vendor_ids: list[ObjectId] = Field(
        default_factory=list,
        max_length=200,
        description="Vendors whose portal users (third-party staff) must acknowledge the version.",
    )


class GuidelineVersionOut(Schema):
    id: int
    guideline_id: int
    number: int
    body: str
    change_note: str
    roles: list[str]
    vendor_ids: list[int]
    published_at: datetime

    @staticmethod
    def resolve_vendor_ids(obj: GuidelineVersion, context: dict[str, Any]) -> list[int]:
        # A vendor sees that the version is assigned to it, never which other vendors it went to.
        vendor_id = getattr(context["request"].user, "vendor_id", None)
        ids = sorted(obj.vendors.values_list("pk", flat=True))
        if vendor_id is not None:
            return [vendor_id] if vendor_id in ids else []
        return ids


class GuidelineOut(Schema):
    id: int
    title: str
    stage: str
    current: GuidelineVersionOut | None

    @staticmethod
    def resolve_current(obj: Guideline) -> GuidelineVersion | None:
        return services.current_version(obj)


class ThirdPartyAckOut(Schema):
    username: str
    vendor_id: int
    vendor: str
    acknowledged_at: datetime | None


class AckStatusOut(Schema):
    version: GuidelineVersionOut
    acknowledged: list[dict[str, Any]]
    outstanding: list[str]
    third_party: list[ThirdPartyAckOut] = Field(
        ..., description="The vendors' portal users it is assigned to, acknowledged or not yet."
    )


@router.get("/guidelines", response=list[GuidelineOut], summary="Guidelines with their current version")
@paginate
def guideline_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    # distinct: a portal user's access path crosses versions × vendors.
    return Guideline.objects.restrict(request.user).distinct().prefetch_related("versions")


@router.post("/guidelines", response={201: GuidelineOut}, summary="Create a guideline for a stage")
def guideline_create(request: HttpRequest, payload: GuidelineIn) -> Status[Guideline]:
    return Status(
        201, services.guideline_create(actor=actor(request), title=payload.title, stage=payload.stage)
    )


@router.get(
    "/guidelines/outstanding", response=list[GuidelineVersionOut], summary="Guidelines I must acknowledge"
)
def guideline_outstanding(request: HttpRequest) -> list[GuidelineVersion]:
    return services.outstanding_guidelines(_needs(request, "proposals.view_guideline"))


@router.post(
    "/guidelines/{guideline_id}/versions",
    response={201: GuidelineVersionOut},
    summary="Publish a new version and assign it to roles or people",
)
def guideline_publish(
    request: HttpRequest, guideline_id: ObjectId, payload: GuidelineVersionIn
) -> Status[Any]:
    user = actor(request)
    guideline = get_restricted_or_404(Guideline, user=user, pk=guideline_id)
    people = [p for p in (_person(user, pk, "people") for pk in payload.people) if p is not None]
    version = services.guideline_publish(
        actor=user,
        guideline=guideline,
        body=payload.body,
        change_note=payload.change_note,
        roles=payload.roles,
        people=people,
        vendors=_vendors(user, payload.vendor_ids, "vendor_ids"),
    )
    return Status(201, version)


@router.get(
    "/guidelines/{guideline_id}/acknowledgements",
    response=AckStatusOut,
    summary="Who has and has not acknowledged the current version",
)
def guideline_status(request: HttpRequest, guideline_id: ObjectId) -> dict[str, Any]:
    if getattr(request.user, "vendor_id", None) is not None:
        raise PermissionDenied("Who has acknowledged is for the company's staff.")
    guideline = get_restricted_or_404(Guideline, user=request.user, pk=guideline_id)
    version = services.current_version(guideline)
    if version is None:
        raise ValidationError({"guideline": "No version has been published."})
    status = selectors.acknowledgement_status(version)
    return {
        "version": version,
        "acknowledged": [{"username": p.username, "at": at} for p, at in status.acknowledged],
        "outstanding": [p.username for p in status.outstanding],
        "third_party": [
            {"username": p.username, "vendor_id": p.vendor_id, "vendor": p.vendor.name, "acknowledged_at": at}
            for p, at in status.third_party
            if p.vendor is not None
        ],
    }


@router.post(
    "/guideline-versions/{version_id}/acknowledge",
    response={201: dict[str, Any]},
    summary="Acknowledge a guideline version (it must be the current one)",
)
def guideline_acknowledge(request: HttpRequest, version_id: ObjectId) -> Status[dict[str, Any]]:
    user = actor(request)
    version = get_restricted_or_404(GuidelineVersion, user=user, pk=version_id)
    ack = services.guideline_acknowledge(actor=user, version=version)
    return Status(201, {"version_id": version.pk, "acknowledged_at": ack.acknowledged_at})


# --- Calls --------------------------------------------------------------------------------------


class CallIn(InputSchema):
    title: str = Field(..., max_length=200)
    objectives: str = Field(..., max_length=20_000)
    required_sections: list[str] = Field(..., max_length=8)
    deadline: UtcDateTime
    vendor_ids: list[ObjectId] = Field(..., max_length=50)
    allow_late: bool = False
    weights: dict[str, int] | None = None


class CallOut(Schema):
    id: int
    title: str
    objectives: str
    required_sections: list[str]
    deadline: datetime
    allow_late: bool
    status: str
    vendor_ids: list[int]

    @staticmethod
    def resolve_vendor_ids(obj: Call, context: dict[str, Any]) -> list[int]:
        user = context["request"].user
        # A vendor sees only that it is invited, not who else is.
        vendor_id = getattr(user, "vendor_id", None)
        ids = list(obj.invitations.values_list("vendor_id", flat=True))
        return [vendor_id] if vendor_id is not None else ids


class CallStatusIn(InputSchema):
    status: str = Field(..., max_length=10)


class ClarificationIn(InputSchema):
    question: str = Field(..., max_length=5000)


class AnswerIn(InputSchema):
    answer: str = Field(..., max_length=10_000)
    publish: bool = True


class ClarificationOut(Schema):
    id: int
    call_id: int
    question: str
    answer: str
    published: bool
    answered_at: datetime | None
    mine: bool

    @staticmethod
    def resolve_mine(obj: Clarification, context: dict[str, Any]) -> bool:
        return obj.vendor_id == getattr(context["request"].user, "vendor_id", None)


@router.get(
    "/calls", response=list[CallOut], summary="Calls for proposals (a vendor sees those it is invited to)"
)
@paginate
def call_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.call_list(user=request.user)


@router.post("/calls", response={201: CallOut}, summary="Create a call for CRM strategy proposals")
def call_create(request: HttpRequest, payload: CallIn) -> Status[Call]:
    user = actor(request)
    call = services.call_create(
        actor=user,
        title=payload.title,
        objectives=payload.objectives,
        required_sections=payload.required_sections,
        deadline=payload.deadline,
        vendors=_vendors(user, payload.vendor_ids, "vendor_ids"),
        allow_late=payload.allow_late,
        weights=payload.weights,
    )
    return Status(201, call)


class FromIdeaIn(InputSchema):
    idea_id: ObjectId
    deadline: UtcDateTime
    required_sections: list[str] | None = Field(None, max_length=8)


@router.post(
    "/calls/from-idea",
    response={201: CallOut},
    summary="Turn an accepted idea from the liaison log into a proposal: an open call to its vendor",
)
def call_from_idea(request: HttpRequest, payload: FromIdeaIn) -> Status[Call]:
    from vendors.models import Idea

    user = actor(request)
    idea = get_restricted_or_404(Idea, user=user, pk=payload.idea_id)
    extra = {"required_sections": payload.required_sections} if payload.required_sections else {}
    return Status(201, services.call_from_idea(actor=user, idea=idea, deadline=payload.deadline, **extra))


@router.get("/calls/{call_id}", response=CallOut, summary="One call")
def call_detail(request: HttpRequest, call_id: ObjectId) -> Call:
    return selectors.call_get(user=request.user, pk=call_id)


@router.post("/calls/{call_id}/status", response=CallOut, summary="Open, close or mark a call decided")
def call_status(request: HttpRequest, call_id: ObjectId, payload: CallStatusIn) -> Call:
    user = actor(request)
    call = get_restricted_or_404(Call, user=user, pk=call_id, action="change")
    return services.call_set_status(actor=user, call=call, status=payload.status)


class RubricWeightsIn(InputSchema):
    weights: dict[str, int] = Field(
        ..., description="Every rubric criterion → its weight (whole numbers of at least 1, summing to 100)."
    )


class RubricWeightsOut(Schema):
    call_id: int
    weights: dict[str, int]
    editable: bool


def _weights_out(call: Call) -> dict[str, Any]:
    return {
        "call_id": call.pk,
        "weights": {w.criterion: w.weight for w in call.weights.all()},
        "editable": services.rubric_editable(call),
    }


@router.get(
    "/calls/{call_id}/weights", response=RubricWeightsOut, summary="The call's evaluation rubric weights"
)
def rubric_weights(request: HttpRequest, call_id: ObjectId) -> dict[str, Any]:
    user = _needs(request, "proposals.view_call")
    if user.vendor_id is not None:
        raise PermissionDenied("The rubric is the panel's.")
    return _weights_out(selectors.call_get(user=user, pk=call_id))


@router.put(
    "/calls/{call_id}/weights",
    response=RubricWeightsOut,
    summary="Change the rubric weights (all criteria at once; only until scoring starts)",
)
def rubric_weights_set(request: HttpRequest, call_id: ObjectId, payload: RubricWeightsIn) -> dict[str, Any]:
    user = actor(request)
    call = get_restricted_or_404(Call, user=user, pk=call_id, action="change")
    services.rubric_weights_set(actor=user, call=call, weights=payload.weights)
    return _weights_out(call)


class CallDocumentOut(Schema):
    id: int
    title: str
    file_name: str
    content_type: str
    size: int
    created_at: datetime
    url: str

    @staticmethod
    def resolve_url(obj: CallDocument) -> str:
        return reverse("proposals:document_file", args=[obj.pk])


@router.get("/calls/{call_id}/documents", response=list[CallDocumentOut], summary="The call's attachments")
def call_documents(request: HttpRequest, call_id: ObjectId) -> list[CallDocument]:
    call = selectors.call_get(user=request.user, pk=call_id)
    return list(CallDocument.objects.restrict(request.user).filter(call=call).order_by("title"))


@router.post(
    "/calls/{call_id}/documents",
    response={201: CallDocumentOut},
    summary="Attach a document to a call (multipart: title, file; checked by content, 10 MB at most)",
)
def call_document_add(
    request: HttpRequest, call_id: ObjectId, title: Form[str], file: File[UploadedFile]
) -> Status[CallDocument]:
    user = actor(request)
    call = get_restricted_or_404(Call, user=user, pk=call_id, action="change")
    return Status(201, services.call_document_add(actor=user, call=call, title=title, upload=file))


@router.get(
    "/calls/{call_id}/clarifications", response=list[ClarificationOut], summary="Questions and answers"
)
def clarification_list(request: HttpRequest, call_id: ObjectId) -> list[Clarification]:
    call = selectors.call_get(user=request.user, pk=call_id)
    return list(selectors.clarifications_of(user=request.user, call=call))


@router.post(
    "/calls/{call_id}/clarifications", response={201: ClarificationOut}, summary="Ask a question (vendor)"
)
def clarification_ask(
    request: HttpRequest, call_id: ObjectId, payload: ClarificationIn
) -> Status[Clarification]:
    user = actor(request)
    call = selectors.call_get(user=user, pk=call_id)
    return Status(201, services.clarification_ask(actor=user, call=call, question=payload.question))


@router.post(
    "/clarifications/{item_id}/answer", response=ClarificationOut, summary="Answer (and publish) a question"
)
def clarification_answer(request: HttpRequest, item_id: ObjectId, payload: AnswerIn) -> Clarification:
    user = actor(request)
    item = get_restricted_or_404(Clarification, user=user, pk=item_id, action="change")
    return services.clarification_answer(
        actor=user, clarification=item, answer=payload.answer, publish=payload.publish
    )


# --- Proposals (portal) ---------------------------------------------------------------------------


class ComponentIn(InputSchema):
    key: str = Field("", max_length=40)
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=5000)
    objective: str = Field("", max_length=40)
    kpi: str = Field("", max_length=200)
    baseline: Decimal | None = None
    target: Decimal | None = None
    cost: Decimal | None = None
    expected_benefit: Decimal | None = None


class DraftIn(InputSchema):
    sections: dict[str, str] = Field(default_factory=dict)
    components: list[ComponentIn] = Field(default_factory=list, max_length=50)


class SubmitIn(InputSchema):
    responses: dict[int, str] = Field(
        default_factory=dict, description="Change request id → the vendor's answer."
    )


class ProposalVersionOut(Schema):
    id: int
    number: int
    sections: dict[str, str]
    components: list[dict[str, Any]]
    submitted_at: datetime | None
    late: bool


class ChangeRequestOut(Schema):
    id: int
    section: str
    request: str
    response: str
    asked_on_id: int
    answered_in_id: int | None


class ComponentDecisionOut(Schema):
    component_key: str
    outcome: str
    reason: str
    adapted: dict[str, Any]


class ProposalOut(Schema):
    id: int
    call_id: int
    vendor_id: int
    status: str
    versions: list[ProposalVersionOut]
    change_requests: list[ChangeRequestOut]
    decisions: list[ComponentDecisionOut]

    @staticmethod
    def resolve_versions(obj: Proposal, context: dict[str, Any]) -> list[ProposalVersion]:
        return list(selectors.versions_of(user=context["request"].user, proposal=obj))

    @staticmethod
    def resolve_change_requests(obj: Proposal) -> list[Any]:
        return list(obj.change_requests.all())

    @staticmethod
    def resolve_decisions(obj: Proposal) -> list[Any]:
        return list(obj.decisions.all())


@router.get("/calls/{call_id}/proposals", response=list[ProposalOut], summary="Proposals answering a call")
def proposal_list(request: HttpRequest, call_id: ObjectId) -> list[Proposal]:
    call = selectors.call_get(user=request.user, pk=call_id)
    return list(selectors.proposals_of(user=request.user, call=call))


@router.put("/calls/{call_id}/draft", response=ProposalVersionOut, summary="Save the vendor's draft (portal)")
def draft_save(request: HttpRequest, call_id: ObjectId, payload: DraftIn) -> ProposalVersion:
    user = actor(request)
    call = selectors.call_get(user=user, pk=call_id)
    return services.proposal_save_draft(
        actor=user,
        call=call,
        sections=payload.sections,
        components=[c.model_dump() for c in payload.components],
    )


# --- Panel, scoring, consensus ------------------------------------------------------------------------


class PanelIn(InputSchema):
    user_id: ObjectId


class DeclareIn(InputSchema):
    conflict_vendor_ids: list[ObjectId] = Field(default_factory=list, max_length=50)
    note: str = Field("", max_length=5000)


class PanelOut(Schema):
    id: int
    user_id: int
    declared_at: datetime | None


class ScoresIn(InputSchema):
    scores: dict[str, int | None]
    comments: str = Field("", max_length=10_000)
    submit: bool = False


class ScoresheetOut(Schema):
    member: str
    scores: dict[str, int]
    comments: str
    submitted_at: datetime | None

    @staticmethod
    def resolve_member(obj: Any) -> str:
        return str(obj.member.user.username)


class ConsensusIn(InputSchema):
    criterion: str = Field(..., max_length=20)
    score: int
    note: str = Field("", max_length=5000)


class ConsensusRowOut(Schema):
    criterion: str
    label: str
    weight: int
    scores: list[int]
    mean: Decimal | None
    spread: int | None
    flagged: bool
    agreed: int | None


class ConsensusOut(Schema):
    complete: bool
    expected: int
    submitted: int
    weighted_mean: Decimal | None
    weighted_agreed: Decimal | None
    rows: list[ConsensusRowOut]


@router.post(
    "/calls/{call_id}/panel", response={201: PanelOut}, summary="Add a member to the evaluation panel"
)
def panel_add(request: HttpRequest, call_id: ObjectId, payload: PanelIn) -> Status[Any]:
    user = actor(request)
    call = get_restricted_or_404(Call, user=user, pk=call_id, action="change")
    person = _person(user, payload.user_id, "user_id")
    assert person is not None  # noqa: S101 (_person raises for a missing id)
    return Status(201, services.panel_add(actor=user, call=call, user=person))


@router.post(
    "/calls/{call_id}/panel/declaration", response=PanelOut, summary="Declare my conflicts of interest"
)
def panel_declare(request: HttpRequest, call_id: ObjectId, payload: DeclareIn) -> Any:
    user = actor(request)
    call = selectors.call_get(user=user, pk=call_id)
    member = selectors.require_member(user, call)
    conflicts = list(Vendor.objects.filter(pk__in=payload.conflict_vendor_ids))
    if len(conflicts) != len(set(payload.conflict_vendor_ids)):
        raise ValidationError({"conflict_vendor_ids": "No such vendor."})
    return services.panel_declare(actor=user, member=member, conflicts=conflicts, note=payload.note)


@router.get(
    "/calls/{call_id}/compatibility", response=dict[str, Any], summary="Components against the strategy"
)
def call_compatibility(request: HttpRequest, call_id: ObjectId) -> dict[str, Any]:
    user = actor(request)
    if user.vendor_id is not None:
        raise PermissionDenied("The compatibility view is for the company's staff.")
    call = selectors.call_get(user=user, pk=call_id)
    view = selectors.compatibility(user=user, call=call)
    return {
        "rows": [
            {
                "vendor": r.vendor,
                "component": r.component,
                "objective": r.objective.code if r.objective else None,
                "duplicates": r.duplicates,
                "conflicts": r.conflicts,
            }
            for r in view.rows
        ],
        "gaps": [o.code for o in view.gaps],
    }


# --- The combined strategy ---------------------------------------------------------------------------


class ObjectiveIn(InputSchema):
    code: str = Field(..., max_length=40, pattern=r"^[-a-z0-9_]+$")
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=5000)


class InitiativeMilestoneOut(Schema):
    id: int
    title: str
    due: date
    done_on: date | None
    on_time: bool | None


class InitiativeOut(Schema):
    id: int
    objective_id: int
    title: str
    description: str
    status: str
    vendor_id: int | None
    source_proposal_id: int | None
    kpi: str
    baseline: Decimal | None
    target: Decimal | None
    actual: Decimal | None
    cost: Decimal
    expected_benefit: Decimal
    realised_benefit: Decimal
    vendor_share_pct: Decimal
    milestones: list[InitiativeMilestoneOut]

    @staticmethod
    def resolve_source_proposal_id(obj: Initiative) -> int | None:
        return obj.source_decision.proposal_id if obj.source_decision else None

    @staticmethod
    def resolve_milestones(obj: Initiative) -> list[Milestone]:
        return list(obj.milestones.all())


class ObjectiveOut(Schema):
    id: int
    code: str
    title: str
    description: str
    initiatives: list[InitiativeOut]

    @staticmethod
    def resolve_initiatives(obj: Objective) -> list[Initiative]:
        return list(obj.initiatives.all())


class InitiativeIn(InputSchema):
    objective_id: ObjectId
    title: str = Field(..., max_length=200)
    description: str = Field("", max_length=5000)
    kpi: str = Field("", max_length=200)
    baseline: Decimal | None = None
    target: Decimal | None = None
    cost: Decimal = Decimal(0)
    expected_benefit: Decimal = Decimal(0)
    owner_id: ObjectId | None = None


class InitiativePatch(InputSchema):
    status: str | None = Field(None, max_length=12)
    actual: Decimal | None = None
    realised_benefit: Decimal | None = None
    vendor_share_pct: Decimal | None = None


class InitiativeMilestoneIn(InputSchema):
    title: str = Field(..., max_length=200)
    due: date
    owner_id: ObjectId | None = None


class CompleteIn(InputSchema):
    done_on: date


@router.get("/strategy", response=list[ObjectiveOut], summary="The combined CRM strategy")
def strategy(request: HttpRequest) -> list[Objective]:
    return list(selectors.strategy(user=_needs(request, "proposals.view_objective")))


@router.post("/objectives", response={201: ObjectiveOut}, summary="Add a company objective")
def objective_create(request: HttpRequest, payload: ObjectiveIn) -> Status[Objective]:
    item = services.objective_create(
        actor=actor(request), code=payload.code, title=payload.title, description=payload.description
    )
    return Status(201, item)


@router.post(
    "/initiatives", response={201: InitiativeOut}, summary="Add one of the company's own initiatives"
)
def initiative_create(request: HttpRequest, payload: InitiativeIn) -> Status[Initiative]:
    user = actor(request)
    objective = get_restricted_or_404(Objective, user=user, pk=payload.objective_id)
    data = payload.model_dump(exclude={"objective_id", "owner_id", "title"})
    item = services.initiative_create(
        actor=user,
        objective=objective,
        title=payload.title,
        owner=_person(user, payload.owner_id, "owner_id"),
        **data,
    )
    return Status(201, item)


@router.patch(
    "/initiatives/{initiative_id}", response=InitiativeOut, summary="Update status, actual KPI, benefit"
)
def initiative_update(request: HttpRequest, initiative_id: ObjectId, payload: InitiativePatch) -> Initiative:
    user = actor(request)
    item = get_restricted_or_404(Initiative, user=user, pk=initiative_id, action="change")
    changes = payload.model_dump(exclude_unset=True)
    return services.initiative_update(actor=user, initiative=item, **changes)


@router.post(
    "/initiatives/{initiative_id}/milestones",
    response={201: InitiativeMilestoneOut},
    summary="Plan a milestone",
)
def milestone_add(
    request: HttpRequest, initiative_id: ObjectId, payload: InitiativeMilestoneIn
) -> Status[Milestone]:
    user = actor(request)
    item = get_restricted_or_404(Initiative, user=user, pk=initiative_id, action="change")
    milestone = services.milestone_add(
        actor=user,
        initiative=item,
        title=payload.title,
        due=payload.due,
        owner=_person(user, payload.owner_id, "owner_id"),
    )
    return Status(201, milestone)


@router.post(
    "/milestones/{milestone_id}/complete", response=InitiativeMilestoneOut, summary="Mark a milestone done"
)
def milestone_complete(request: HttpRequest, milestone_id: ObjectId, payload: CompleteIn) -> Milestone:
    user = actor(request)
    item = get_restricted_or_404(Milestone, user=user, pk=milestone_id, action="change")
    return services.milestone_complete(actor=user, milestone=item, done_on=payload.done_on)


@router.get("/portfolio", response=dict[str, list[dict[str, Any]]], summary="Every proposal by stage")
def portfolio(request: HttpRequest) -> dict[str, list[dict[str, Any]]]:
    _needs(request, "proposals.view_proposal")
    return {
        stage: [{"id": p.pk, "call": p.call.title, "vendor": p.vendor.name} for p in items]
        for stage, items in selectors.portfolio(user=request.user).items()
    }


@router.get(
    "/balance", response=list[dict[str, Any]], summary="Cost, benefit and the vendor's share per proposal"
)
def balance(request: HttpRequest) -> list[dict[str, Any]]:
    _needs(request, "proposals.view_initiative")
    return [
        {
            "vendor": b.vendor,
            "proposal_id": b.proposal.pk if b.proposal else None,
            "cost": b.cost,
            "expected_benefit": b.expected,
            "realised_benefit": b.realised,
            "vendor_share": b.vendor_share,
            "roi_pct": b.roi_pct,
        }
        for b in selectors.balance_of_interests(user=request.user)
    ]


# --- One proposal (declared last: /{proposal_id} must not capture the fixed routes above) -----------


class ChangeRequestIn(InputSchema):
    section: str = Field(..., max_length=20)
    request: str = Field(..., max_length=10_000)


class ComponentDecisionIn(InputSchema):
    component_key: str = Field(..., max_length=40)
    outcome: str = Field(..., max_length=10)
    reason: str = Field(..., max_length=5000)
    adapted: dict[str, Any] | None = None
    objective_id: ObjectId | None = None
    owner_id: ObjectId | None = None


class DiffQuery(Schema):
    old: int = Field(..., alias="from", ge=1)
    new: int = Field(..., alias="to", ge=1)


@router.get("/{proposal_id}", response=ProposalOut, summary="One proposal with its versions")
def proposal_detail(request: HttpRequest, proposal_id: ObjectId) -> Proposal:
    return selectors.proposal_get(user=request.user, pk=proposal_id)


@router.post("/{proposal_id}/submit", response=ProposalVersionOut, summary="Submit the draft (portal)")
def proposal_submit(request: HttpRequest, proposal_id: ObjectId, payload: SubmitIn) -> ProposalVersion:
    user = actor(request)
    proposal = selectors.proposal_get(user=user, pk=proposal_id, action="change")
    return services.proposal_submit(actor=user, proposal=proposal, responses=payload.responses)


@router.get("/{proposal_id}/diff", response=list[dict[str, Any]], summary="Side-by-side diff of two versions")
def proposal_diff(
    request: HttpRequest, proposal_id: ObjectId, query: Query[DiffQuery]
) -> list[dict[str, Any]]:
    proposal = selectors.proposal_get(user=request.user, pk=proposal_id)
    versions = {v.number: v for v in selectors.versions_of(user=request.user, proposal=proposal)}
    if query.old not in versions or query.new not in versions:
        raise ValidationError({"from": "Choose two versions of this proposal you can see."})
    return [
        {"section": d.label, "changed": d.changed, "lines": [line.__dict__ for line in d.lines]}
        for d in selectors.version_diff(versions[query.old], versions[query.new])
    ]


@router.post("/{proposal_id}/change-requests", response={201: ChangeRequestOut}, summary="Request a change")
def change_request_create(
    request: HttpRequest, proposal_id: ObjectId, payload: ChangeRequestIn
) -> Status[Any]:
    user = actor(request)
    proposal = selectors.proposal_get(user=user, pk=proposal_id)
    item = services.change_request_create(
        actor=user, proposal=proposal, section=payload.section, request=payload.request
    )
    return Status(201, item)


@router.get("/{proposal_id}/scores", response=list[ScoresheetOut], summary="Scoresheets I may see (blind)")
def scores_list(request: HttpRequest, proposal_id: ObjectId) -> list[Any]:
    proposal = selectors.proposal_get(user=request.user, pk=proposal_id)
    return selectors.visible_scoresheets(user=request.user, proposal=proposal)


@router.put("/{proposal_id}/scores", response=ScoresheetOut, summary="Save or submit my scores (panel)")
def scores_save(request: HttpRequest, proposal_id: ObjectId, payload: ScoresIn) -> Any:
    user = actor(request)
    proposal = selectors.proposal_get(user=user, pk=proposal_id)
    return services.scoresheet_save(
        actor=user, proposal=proposal, scores=payload.scores, comments=payload.comments, submit=payload.submit
    )


@router.get("/{proposal_id}/consensus", response=ConsensusOut, summary="The consensus table")
def consensus(request: HttpRequest, proposal_id: ObjectId) -> Any:
    user = actor(request)
    if user.vendor_id is not None:
        raise PermissionDenied("Scores are the evaluation panel's.")
    proposal = selectors.proposal_get(user=user, pk=proposal_id)
    table = selectors.consensus_table(proposal)
    if not table.complete and not user.has_perm("proposals.add_consensusscore"):
        raise ValidationError({"proposal": "Scores are visible once every member submitted."})
    return table


@router.post(
    "/{proposal_id}/consensus", response=ConsensusOut, summary="Record the agreed score of a criterion"
)
def consensus_record(request: HttpRequest, proposal_id: ObjectId, payload: ConsensusIn) -> Any:
    user = actor(request)
    proposal = selectors.proposal_get(user=user, pk=proposal_id)
    services.consensus_record(
        actor=user, proposal=proposal, criterion=payload.criterion, score=payload.score, note=payload.note
    )
    return selectors.consensus_table(proposal)


@router.post(
    "/{proposal_id}/decisions",
    response={201: ComponentDecisionOut},
    summary="Adopt, adapt or reject a component",
)
def decide(request: HttpRequest, proposal_id: ObjectId, payload: ComponentDecisionIn) -> Status[Any]:
    user = actor(request)
    proposal = selectors.proposal_get(user=user, pk=proposal_id)
    objective = (
        get_restricted_or_404(Objective, user=user, pk=payload.objective_id) if payload.objective_id else None
    )
    decision = services.component_decide(
        actor=user,
        proposal=proposal,
        component_key=payload.component_key,
        outcome=payload.outcome,
        reason=payload.reason,
        adapted=payload.adapted,
        objective=objective,
        owner=_person(user, payload.owner_id, "owner_id"),
    )
    return Status(201, decision)
