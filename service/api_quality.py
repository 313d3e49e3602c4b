"""API for service quality: survey invitations and results, codes of practice, QA rubrics and
reviews, staff reviews. Customers answer surveys on the public page (no API token needed).

Endpoints only parse, fetch through a selector (``restrict``) and call a service; the rules
live in ``service.surveys``, ``service.qa`` and ``service.staff_reviews``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from accounts.models import User
from core.access import get_restricted_or_404
from core.api import InputSchema, ObjectId, actor, paginate
from kpis import periods as period_math
from service import qa, reports, staff_reviews, surveys
from service import quality_selectors as selectors
from service.models import (
    Agent,
    CodeItem,
    CodeOfPractice,
    QaReview,
    StaffReview,
    SurveyInvitation,
    Ticket,
)

router = Router(tags=["service quality"])

Month = Field(..., pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="A month, YYYY-MM.")


def _need(request: HttpRequest, perm: str, message: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied(message)


def _month(value: str) -> period_math.Period:
    year, month = value.split("-")
    try:
        first = date(int(year), int(month), 1)
    except ValueError:
        raise ValidationError({"month": f"{value!r} is not a month (YYYY-MM)."}) from None
    return period_math.period_containing(period_math.MONTH, first)


# --- Surveys --------------------------------------------------------------------------------------


class SurveyResponseOut(Schema):
    csat: int | None
    nps: int | None
    ces: int | None
    ces_scale_max: int | None
    csat_scale_max: int
    nps_scale_max: int
    created_at: datetime


class InvitationOut(Schema):
    id: int
    ticket_id: int
    ticket_external_id: str
    agent_id: int | None
    vendor_id: int | None
    resolved_at: datetime | None
    expires_at: datetime
    sent_at: datetime | None
    responded_at: datetime | None
    ces_scale_max: int
    response: SurveyResponseOut | None

    @staticmethod
    def resolve_ticket_external_id(obj: SurveyInvitation) -> str:
        return obj.ticket.external_id

    @staticmethod
    def resolve_agent_id(obj: SurveyInvitation) -> int | None:
        return obj.ticket.agent_id

    @staticmethod
    def resolve_vendor_id(obj: SurveyInvitation) -> int | None:
        return obj.ticket.vendor_id

    @staticmethod
    def resolve_resolved_at(obj: SurveyInvitation) -> datetime | None:
        return obj.ticket.resolved_at

    @staticmethod
    def resolve_response(obj: SurveyInvitation) -> Any:
        return getattr(obj, "response", None)


class InvitationIn(InputSchema):
    ticket_id: ObjectId


class SurveyFilter(Schema):
    month: str | None = Field(
        None, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="Resolution month, YYYY-MM."
    )
    ticket_id: ObjectId | None = None


class SummaryQuery(Schema):
    month: str = Month
    # The KPI report's filters, so survey figures can sit beside the ticket figures they explain.
    channel: str = ""
    priority: str = ""
    team: str = ""
    agent: str = ""
    vendor: str = Field("", description="A vendor id, or 'in-house' for tickets no vendor handled")


class SurveySummaryOut(Schema):
    month: str
    invited: int
    responded: int
    response_rate: Decimal | None
    csat_pct: Decimal | None
    csat_sample: int
    nps: Decimal | None
    nps_sample: int
    ces_mean: Decimal | None
    ces_sample: int
    definitions: dict[str, str]


DEFINITIONS = {
    "csat_pct": "Ratings of 4 or 5 ÷ all ratings on the 1–5 CSAT question, × 100.",
    "nps": "% of answers 9–10 minus % of answers 0–6 on the 0–10 question.",
    "ces_mean": "Mean answer on the 1–N effort scale (scale stored with each answer; lower is easier).",
    "response_rate": "Invitations answered ÷ invitations sent, × 100.",
    "filing": "By the ticket's resolution date in Hong Kong; merged and spam tickets excluded.",
}


@router.get("/surveys/invitations", response=list[InvitationOut], summary="Survey invitations and answers")
@paginate
def invitation_list(request: HttpRequest, filters: Query[SurveyFilter]):  # type: ignore[no-untyped-def]
    period = _month(filters.month) if filters.month else None
    return selectors.invitation_list(
        user=request.user,
        start=period.start if period else None,
        end=period.end if period else None,
        ticket_id=filters.ticket_id,
    )


@router.post(
    "/surveys/invitations", response={201: InvitationOut}, summary="Invite a resolved ticket's customer"
)
def invitation_create(request: HttpRequest, payload: InvitationIn) -> Status[SurveyInvitation]:
    _need(request, "service.add_surveyinvitation", "Sending surveys needs the CS manager role.")
    ticket = get_restricted_or_404(Ticket, user=request.user, pk=payload.ticket_id)
    invitation = surveys.survey_invite(actor=actor(request), ticket=ticket)
    return Status(201, selectors.invitation_get(user=request.user, pk=invitation.pk))


@router.get("/surveys/invitations/{invitation_id}", response=InvitationOut, summary="One survey invitation")
def invitation_detail(request: HttpRequest, invitation_id: ObjectId) -> SurveyInvitation:
    selectors.invitation_get(user=request.user, pk=invitation_id)
    return selectors.invitation_list(user=request.user).get(pk=invitation_id)


@router.get(
    "/surveys/summary", response=SurveySummaryOut, summary="Response rate, CSAT, NPS, CES for a month"
)
def survey_summary(request: HttpRequest, filters: Query[SummaryQuery]) -> dict[str, Any]:
    _need(request, "service.view_surveyresponse", "Survey results need the CS manager role.")
    month = filters.month
    period = _month(month)
    ticket_filters = reports.parse_filters(filters.dict())  # a bad filter: 422 naming the field
    summary = selectors.survey_summary(
        user=request.user, start=period.start, end=period.end, ticket_q=ticket_filters.q
    )
    return {
        "month": month,
        "invited": summary.invited,
        "responded": summary.responded,
        "response_rate": summary.response_rate,
        "csat_pct": summary.csat_pct,
        "csat_sample": summary.csat_n,
        "nps": summary.nps,
        "nps_sample": summary.nps_n,
        "ces_mean": summary.ces_mean,
        "ces_sample": summary.ces_n,
        "definitions": DEFINITIONS,
    }


# --- Codes of practice -----------------------------------------------------------------------------


class CodeItemIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=20)
    title: str = Field(..., min_length=1, max_length=200)
    text: str = Field(..., min_length=1, max_length=4000)
    category: CodeItem.Category


class CodeItemOut(Schema):
    id: int
    code: str
    title: str
    text: str
    category: CodeItem.Category


class CodeOfPracticeIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    title: str = Field(..., min_length=1, max_length=200)
    summary: str = Field("", max_length=4000)
    items: list[CodeItemIn] = Field(default_factory=list, max_length=100)


class CodeOfPracticeOut(Schema):
    id: int
    code: str
    version: int
    title: str
    summary: str
    status: CodeOfPractice.Status
    effective_from: date | None
    published_at: datetime | None
    items: list[CodeItemOut]

    @staticmethod
    def resolve_items(obj: CodeOfPractice) -> list[Any]:
        return list(obj.items.all())


class PublishIn(InputSchema):
    effective_from: date | None = None


def _spec(item: CodeItemIn) -> qa.ItemSpec:
    return qa.ItemSpec(item.code, item.title, item.text, item.category)


@router.get("/codes", response=list[CodeOfPracticeOut], summary="Codes of practice, every version")
@paginate
def code_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.code_list(user=request.user)


@router.post("/codes", response={201: CodeOfPracticeOut}, summary="Start a code of practice (draft v1)")
def code_create(request: HttpRequest, payload: CodeOfPracticeIn) -> Status[CodeOfPractice]:
    cop = qa.code_of_practice_create(
        actor=actor(request),
        code=payload.code,
        title=payload.title,
        summary=payload.summary,
        items=[_spec(i) for i in payload.items],
    )
    return Status(201, cop)


@router.get("/codes/{code_id}", response=CodeOfPracticeOut, summary="One version of a code of practice")
def code_detail(request: HttpRequest, code_id: ObjectId) -> CodeOfPractice:
    return selectors.code_get(user=request.user, pk=code_id)


@router.post("/codes/{code_id}/items", response={201: CodeItemOut}, summary="Add an item to a draft")
def code_item_add(request: HttpRequest, code_id: ObjectId, payload: CodeItemIn) -> Status[CodeItem]:
    cop = selectors.code_get(user=request.user, pk=code_id)
    return Status(201, qa.code_item_add(actor=actor(request), code_of_practice=cop, spec=_spec(payload)))


@router.post("/codes/{code_id}/publish", response=CodeOfPracticeOut, summary="Publish a draft version")
def code_publish(request: HttpRequest, code_id: ObjectId, payload: PublishIn) -> CodeOfPractice:
    cop = selectors.code_get(user=request.user, pk=code_id)
    return qa.code_of_practice_publish(
        actor=actor(request), code_of_practice=cop, effective_from=payload.effective_from
    )


@router.post("/codes/{code_id}/versions", response={201: CodeOfPracticeOut}, summary="Propose a new version")
def code_new_version(request: HttpRequest, code_id: ObjectId) -> Status[CodeOfPractice]:
    cop = selectors.code_get(user=request.user, pk=code_id)
    return Status(201, qa.code_of_practice_new_version(actor=actor(request), code_of_practice=cop))


# --- Rubrics ---------------------------------------------------------------------------------------


class CategoryIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    weight: Decimal = Field(..., max_digits=6, decimal_places=2, description="Greater than 0.")
    scale_min: int = Field(0, ge=-1000, le=1000)
    scale_max: int = Field(4, ge=-1000, le=1000)
    critical: bool = False
    pass_mark: Decimal = Field(Decimal(100), max_digits=5, decimal_places=2, description="0–100.")
    guidance: str = Field("", max_length=4000)
    code_item_ids: list[ObjectId] = Field(default_factory=list, max_length=50)


class RubricIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=200)
    description: str = Field("", max_length=4000)
    categories: list[CategoryIn] = Field(..., max_length=20)


class CategoryOut(Schema):
    id: int
    name: str
    guidance: str
    scale_min: int
    scale_max: int
    weight: Decimal
    critical: bool
    pass_mark: Decimal
    code_item_ids: list[int]

    @staticmethod
    def resolve_code_item_ids(obj: Any) -> list[int]:
        return [item.pk for item in obj.code_items.all()]


class RubricOut(Schema):
    id: int
    name: str
    description: str
    active: bool
    categories: list[CategoryOut]

    @staticmethod
    def resolve_categories(obj: Any) -> list[Any]:
        return list(obj.categories.all())


class RubricPatch(InputSchema):
    active: bool


@router.get("/rubrics", response=list[RubricOut], summary="QA rubrics")
@paginate
def rubric_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.rubric_list(user=request.user)


@router.post("/rubrics", response={201: RubricOut}, summary="Create a QA rubric with its categories")
def rubric_create(request: HttpRequest, payload: RubricIn) -> Status[Any]:
    rubric = qa.rubric_create(
        actor=actor(request),
        name=payload.name,
        description=payload.description,
        categories=[
            qa.CategorySpec(
                name=c.name,
                weight=c.weight,
                scale_min=c.scale_min,
                scale_max=c.scale_max,
                critical=c.critical,
                pass_mark=c.pass_mark,
                guidance=c.guidance,
                code_item_ids=c.code_item_ids,
            )
            for c in payload.categories
        ],
    )
    return Status(201, selectors.rubric_list(user=request.user).get(pk=rubric.pk))


@router.get("/rubrics/{rubric_id}", response=RubricOut, summary="One QA rubric")
def rubric_detail(request: HttpRequest, rubric_id: ObjectId) -> Any:
    selectors.rubric_get(user=request.user, pk=rubric_id)
    return selectors.rubric_list(user=request.user).get(pk=rubric_id)


@router.patch("/rubrics/{rubric_id}", response=RubricOut, summary="Retire or reactivate a rubric")
def rubric_patch(request: HttpRequest, rubric_id: ObjectId, payload: RubricPatch) -> Any:
    rubric = selectors.rubric_get(user=request.user, pk=rubric_id)
    qa.rubric_set_active(actor=actor(request), rubric=rubric, active=payload.active)
    return selectors.rubric_list(user=request.user).get(pk=rubric_id)


# --- QA reviews ------------------------------------------------------------------------------------


class CategoryScoreOut(Schema):
    category_id: int
    category: str
    selected: int
    score: Decimal
    failed: bool
    note: str

    @staticmethod
    def resolve_category(obj: Any) -> str:
        return str(obj.category.name)


class QaReviewOut(Schema):
    id: int
    ticket_id: int
    agent_id: int
    vendor_id: int | None
    team_id: int | None
    rubric_id: int
    reviewer_id: int
    status: QaReview.Status
    due_on: date | None
    score: Decimal | None
    critical_failed: bool
    summary: str
    submitted_at: datetime | None
    cited_item_ids: list[int]
    scores: list[CategoryScoreOut]
    acknowledged_at: datetime | None
    dispute_reason: str
    disputed_at: datetime | None
    outcome: str
    original_score: Decimal | None
    resolution_note: str
    resolved_at: datetime | None

    @staticmethod
    def resolve_cited_item_ids(obj: QaReview) -> list[int]:
        return [item.pk for item in obj.cited_items.all()]

    @staticmethod
    def resolve_scores(obj: QaReview) -> list[Any]:
        return list(obj.scores.all())


class QaAssignIn(InputSchema):
    ticket_id: ObjectId
    reviewer_id: ObjectId
    rubric_id: ObjectId
    due_on: date | None = None


class ScoreIn(InputSchema):
    category_id: ObjectId
    selected: int = Field(..., ge=-1000, le=1000)
    note: str = Field("", max_length=4000)


class QaSubmitIn(InputSchema):
    scores: list[ScoreIn] = Field(..., max_length=20)
    summary: str = Field("", max_length=4000)
    cited_item_ids: list[ObjectId] = Field(default_factory=list, max_length=50)


class DisputeIn(InputSchema):
    reason: str = Field(..., min_length=1, max_length=4000)


class ResolveIn(InputSchema):
    outcome: QaReview.Outcome
    note: str = Field(..., min_length=1, max_length=4000)
    scores: list[ScoreIn] = Field(default_factory=list, max_length=20)


class QaFilter(Schema):
    status: QaReview.Status | None = None
    agent_id: ObjectId | None = None
    reviewer_id: ObjectId | None = None


def _selections(scores: list[ScoreIn]) -> dict[int, qa.Selection]:
    selections: dict[int, qa.Selection] = {}
    for s in scores:
        if s.category_id in selections:
            raise ValidationError({"scores": f"Category {s.category_id} is scored twice."})
        selections[s.category_id] = qa.Selection(s.selected, s.note)
    return selections


def _review(request: HttpRequest, review_id: int) -> QaReview:
    return selectors.review_get(user=request.user, pk=review_id)


@router.get("/qa-reviews", response=list[QaReviewOut], summary="QA reviews (an agent sees only their own)")
@paginate
def review_list(request: HttpRequest, filters: Query[QaFilter]):  # type: ignore[no-untyped-def]
    return selectors.review_list(
        user=request.user,
        status=filters.status or "",
        agent_id=filters.agent_id,
        reviewer_id=filters.reviewer_id,
    ).prefetch_related("cited_items", "scores__category")


@router.post("/qa-reviews", response={201: QaReviewOut}, summary="Assign a conversation to a reviewer")
def review_assign(request: HttpRequest, payload: QaAssignIn) -> Status[QaReview]:
    _need(request, "service.add_qareview", "Assigning QA reviews needs the CS manager role.")
    ticket = get_restricted_or_404(Ticket, user=request.user, pk=payload.ticket_id)
    rubric = selectors.rubric_get(user=request.user, pk=payload.rubric_id)
    reviewer = User.objects.filter(pk=payload.reviewer_id, vendor__isnull=True).first()
    if reviewer is None:
        raise ValidationError({"reviewer_id": "No such reviewer."})
    review = qa.qa_assign(
        actor=actor(request), ticket=ticket, reviewer=reviewer, rubric=rubric, due_on=payload.due_on
    )
    return Status(201, _review(request, review.pk))


@router.get("/qa-reviews/{review_id}", response=QaReviewOut, summary="One QA review")
def review_detail(request: HttpRequest, review_id: ObjectId) -> QaReview:
    return _review(request, review_id)


@router.post("/qa-reviews/{review_id}/submit", response=QaReviewOut, summary="Score a review (the reviewer)")
def review_submit(request: HttpRequest, review_id: ObjectId, payload: QaSubmitIn) -> QaReview:
    review = _review(request, review_id)
    qa.qa_review_submit(
        actor=actor(request),
        review=review,
        selections=_selections(payload.scores),
        summary=payload.summary,
        cited_item_ids=payload.cited_item_ids,
    )
    return _review(request, review_id)


@router.post("/qa-reviews/{review_id}/acknowledge", response=QaReviewOut, summary="Acknowledge (the agent)")
def review_acknowledge(request: HttpRequest, review_id: ObjectId) -> QaReview:
    qa.qa_review_acknowledge(actor=actor(request), review=_review(request, review_id))
    return _review(request, review_id)


@router.post(
    "/qa-reviews/{review_id}/dispute", response=QaReviewOut, summary="Dispute with a reason (the agent)"
)
def review_dispute(request: HttpRequest, review_id: ObjectId, payload: DisputeIn) -> QaReview:
    qa.qa_review_dispute(actor=actor(request), review=_review(request, review_id), reason=payload.reason)
    return _review(request, review_id)


@router.post(
    "/qa-reviews/{review_id}/resolve", response=QaReviewOut, summary="Uphold or amend a disputed review"
)
def review_resolve(request: HttpRequest, review_id: ObjectId, payload: ResolveIn) -> QaReview:
    qa.qa_dispute_resolve(
        actor=actor(request),
        review=_review(request, review_id),
        outcome=payload.outcome,
        note=payload.note,
        selections=_selections(payload.scores) if payload.scores else None,
    )
    return _review(request, review_id)


# --- Staff reviews ----------------------------------------------------------------------------------


class StaffReviewOut(Schema):
    id: int
    agent_id: int
    agent: str
    start: date
    end: date
    figures: dict[str, Any]
    scorecard_period_id: int | None
    recommendation: StaffReview.Recommendation
    recommendation_basis: str
    recommendation_source: str
    status: StaffReview.Status
    decision: str
    decision_reason: str
    decided_by_id: int | None
    decided_at: datetime | None

    @staticmethod
    def resolve_agent(obj: StaffReview) -> str:
        return obj.agent.name


class StaffReviewIn(InputSchema):
    agent_id: ObjectId
    month: str = Month


class DecisionIn(InputSchema):
    decision: StaffReview.Recommendation
    reason: str = Field(..., min_length=1, max_length=4000)


@router.get(
    "/staff-reviews", response=list[StaffReviewOut], summary="Staff reviews (an agent: their own, decided)"
)
@paginate
def staff_review_list(request: HttpRequest, agent_id: ObjectId | None = None):  # type: ignore[no-untyped-def]
    return selectors.staff_review_list(user=request.user, agent_id=agent_id)


@router.post(
    "/staff-reviews", response={201: StaffReviewOut}, summary="Prepare (or refresh) a month's review"
)
def staff_review_prepare(request: HttpRequest, payload: StaffReviewIn) -> Status[StaffReview]:
    _need(request, "service.add_staffreview", "Preparing staff reviews needs the CS manager role.")
    agent = get_restricted_or_404(Agent, user=request.user, pk=payload.agent_id)
    period = _month(payload.month)
    review = staff_reviews.staff_review_prepare(
        actor=actor(request), agent=agent, start=period.start, end=period.end
    )
    return Status(201, review)


@router.get("/staff-reviews/{review_id}", response=StaffReviewOut, summary="One staff review")
def staff_review_detail(request: HttpRequest, review_id: ObjectId) -> StaffReview:
    return selectors.staff_review_get(user=request.user, pk=review_id)


@router.post("/staff-reviews/{review_id}/decide", response=StaffReviewOut, summary="The manager's decision")
def staff_review_decide(request: HttpRequest, review_id: ObjectId, payload: DecisionIn) -> StaffReview:
    review = selectors.staff_review_get(user=request.user, pk=review_id)
    return staff_reviews.staff_review_decide(
        actor=actor(request), review=review, decision=payload.decision, reason=payload.reason
    )
