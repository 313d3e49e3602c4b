"""Reads for surveys, codes of practice, QA and staff reviews, always through ``restrict``.

An agent gets only rows about themselves (``agent_scope``); managers and auditors get all;
portal users get nothing (their role grants none of these models). List querysets fetch what
their pages show in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from core.access import get_restricted_or_404
from service.models import (
    Agent,
    CodeItem,
    CodeOfPractice,
    QaCategoryScore,
    QaReview,
    Rubric,
    RubricCategory,
    StaffReview,
    SurveyInvitation,
    SurveyResponse,
)
from service.quality_measures import (
    CSAT_AGGREGATES,
    NPS_AGGREGATES,
    RATE_AGGREGATES,
    ces_aggregates,
    ces_reading,
    csat_reading,
    invitations_filed,
    nps_reading,
    rate_reading,
    responses_filed,
)

# --- Surveys --------------------------------------------------------------------------------------


def invitation_list(
    *, user: Any, start: date | None = None, end: date | None = None, ticket_id: int | None = None
) -> QuerySet[SurveyInvitation]:
    """Invitations (with their response) the user may see, by resolution date of the ticket."""
    rows = invitations_filed(start, end) if start and end else SurveyInvitation.objects.all()
    rows = rows.filter(pk__in=SurveyInvitation.objects.restrict(user).values("pk"))
    if ticket_id is not None:
        rows = rows.filter(ticket_id=ticket_id)
    return rows.select_related("ticket__agent", "ticket__vendor", "response").order_by(
        "-ticket__resolved_at", "-id"
    )


def invitation_get(*, user: Any, pk: int) -> SurveyInvitation:
    return get_restricted_or_404(SurveyInvitation, user=user, pk=pk)


def response_list(
    *, user: Any, start: date | None = None, end: date | None = None
) -> QuerySet[SurveyResponse]:
    rows = responses_filed(start, end) if start and end else SurveyResponse.objects.all()
    return (
        rows.filter(pk__in=SurveyResponse.objects.restrict(user).values("pk"))
        .select_related("invitation__ticket__agent")
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class SurveySummary:
    invited: int
    responded: int
    response_rate: Decimal | None
    csat_pct: Decimal | None
    csat_n: int
    nps: Decimal | None
    nps_n: int
    ces_mean: Decimal | None
    ces_n: int


def survey_summary(
    *, user: Any, start: date, end: date, ticket_q: Callable[[str], Q] | None = None
) -> SurveySummary:
    """Response rate, CSAT %, NPS and CES over tickets resolved in [start, end): three aggregate queries.

    TICKET_Q, given a path prefix to the ticket, returns the condition on it (the KPI report's
    channel, priority, team, agent and vendor filters), so the survey figures answer the same
    question as the ticket figures beside them.
    """
    invitations = invitations_filed(start, end).filter(
        pk__in=SurveyInvitation.objects.restrict(user).values("pk")
    )
    responses = responses_filed(start, end).filter(pk__in=SurveyResponse.objects.restrict(user).values("pk"))
    if ticket_q is not None:
        invitations = invitations.filter(ticket_q("ticket__"))
        responses = responses.filter(ticket_q("invitation__ticket__"))
    rate_row = invitations.aggregate(**RATE_AGGREGATES)
    answers = responses.aggregate(
        csat_good=CSAT_AGGREGATES["good"],
        csat_rated=CSAT_AGGREGATES["rated"],
        **NPS_AGGREGATES,
    )
    ces_row = responses.aggregate(**ces_aggregates())
    rate = rate_reading(rate_row)
    csat = csat_reading({"good": answers["csat_good"], "rated": answers["csat_rated"]})
    nps = nps_reading(answers)
    ces = ces_reading(ces_row)
    return SurveySummary(
        invited=rate_row["invited"],
        responded=rate_row["responded"],
        response_rate=rate.value if rate else None,
        csat_pct=csat.value if csat else None,
        csat_n=answers["csat_rated"],
        nps=nps.value if nps else None,
        nps_n=answers["rated"],
        ces_mean=ces.value if ces else None,
        ces_n=ces_row["rated"],
    )


# --- Codes of practice and rubrics -------------------------------------------------------------------


def code_list(*, user: Any) -> QuerySet[CodeOfPractice]:
    return CodeOfPractice.objects.restrict(user).prefetch_related(
        Prefetch("items", queryset=CodeItem.objects.restrict(user))
    )


def code_get(*, user: Any, pk: int) -> CodeOfPractice:
    return get_restricted_or_404(CodeOfPractice, user=user, pk=pk)


def citable_items(*, user: Any) -> QuerySet[CodeItem]:
    """Items of published codes of practice: what a QA review may cite."""
    return (
        CodeItem.objects.restrict(user)
        .filter(code_of_practice__status=CodeOfPractice.Status.PUBLISHED)
        .select_related("code_of_practice")
        .order_by("code_of_practice__code", "position", "code")
    )


def rubric_list(*, user: Any) -> QuerySet[Rubric]:
    return Rubric.objects.restrict(user).prefetch_related(
        Prefetch(
            "categories",
            queryset=RubricCategory.objects.restrict(user).prefetch_related("code_items"),
        )
    )


def rubric_get(*, user: Any, pk: int) -> Rubric:
    return get_restricted_or_404(Rubric, user=user, pk=pk)


# --- QA reviews -------------------------------------------------------------------------------------


def review_list(
    *, user: Any, status: str = "", agent_id: int | None = None, reviewer_id: int | None = None
) -> QuerySet[QaReview]:
    rows = QaReview.objects.restrict(user).select_related("ticket", "agent", "rubric", "reviewer")
    if status:
        rows = rows.filter(status=status)
    if agent_id is not None:
        rows = rows.filter(agent_id=agent_id)
    if reviewer_id is not None:
        rows = rows.filter(reviewer_id=reviewer_id)
    return rows.order_by("-created_at", "-id")


def review_get(*, user: Any, pk: int) -> QaReview:
    review = get_restricted_or_404(QaReview, user=user, pk=pk)
    return (
        QaReview.objects.select_related("ticket", "agent", "rubric", "reviewer", "resolved_by", "assigned_by")
        .prefetch_related(Prefetch("scores", queryset=QaCategoryScore.objects.select_related("category")))
        .prefetch_related(
            Prefetch("cited_items", queryset=CodeItem.objects.select_related("code_of_practice"))
        )
        .prefetch_related(
            Prefetch("rubric__categories", queryset=RubricCategory.objects.prefetch_related("code_items"))
        )
        .get(pk=review.pk)
    )


def reviewers(*, user: Any) -> list[Any]:
    """People who may be assigned QA reviews: active users holding ``service.change_qareview``."""
    from accounts.models import User

    perm = Q(
        groups__permissions__codename="change_qareview",
        groups__permissions__content_type__app_label="service",
    )
    candidates = User.objects.filter(Q(is_active=True) & (perm | Q(is_superuser=True)), vendor__isnull=True)
    return list(candidates.distinct().order_by("username"))


# --- Staff reviews ----------------------------------------------------------------------------------


def staff_review_list(*, user: Any, agent_id: int | None = None) -> QuerySet[StaffReview]:
    rows = StaffReview.objects.restrict(user).select_related("agent", "decided_by")
    if agent_id is not None:
        rows = rows.filter(agent_id=agent_id)
    return rows.order_by("-start", "agent__name")


def staff_review_get(*, user: Any, pk: int) -> StaffReview:
    return get_restricted_or_404(StaffReview, user=user, pk=pk)


def agents_for_review(*, user: Any) -> QuerySet[Agent]:
    return Agent.objects.restrict(user).filter(active=True).order_by("name")
