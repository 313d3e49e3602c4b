"""Survey and QA measures for the measurement engine (issue 4 items 4, 5, 9; PRODUCT.md §3).

Every measure is set-based: one grouped query over the period's rows serves every subject
being scored (agents, vendors and teams alike), whatever their number. Attribution and filing:

- Survey measures are filed by the ticket's resolution date (``Ticket.resolved_at``, in Hong
  Kong days) and credited to the ticket's assignee (``Ticket.agent``; an agent subject is
  matched through ``Subject.user`` = ``Agent.user``), its vendor (``Ticket.vendor``) and its
  team (a team subject's ``reference`` is the :class:`~service.models.Team`).
- QA scores are filed by the date the review was submitted and credited to the agent, vendor
  and team copied onto the review when it was assigned.
- Merged and spam tickets are left out of every figure.

A subject without data in the period is left out of the result: "not applicable", never 0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, ExpressionWrapper, F, FloatField, Q, QuerySet, Sum, Value
from django.urls import reverse
from django.utils import timezone

from kpis.registry import DrillRow, Reading, SubjectRef, register_measure
from service.models import QaReview, SurveyInvitation, SurveyResponse, Team

CENT = Decimal("0.01")


def window(start: date, end: date) -> tuple[datetime, datetime]:
    """The period [start, end) in Hong Kong days, as aware datetimes."""
    zone = timezone.get_default_timezone()
    return (
        timezone.make_aware(datetime.combine(start, time.min), zone),
        timezone.make_aware(datetime.combine(end, time.min), zone),
    )


def pct(part: int, whole: int) -> Decimal:
    return (Decimal(part) * 100 / Decimal(whole)).quantize(CENT, ROUND_HALF_UP)


# --- Mapping subjects to the columns that identify them ------------------------------------------


@dataclass(frozen=True)
class Paths:
    """Where the agent's user, the vendor and the team are, seen from the rows being counted."""

    agent_user: str
    vendor: str
    team: str


RESPONSE_PATHS = Paths(
    "invitation__ticket__agent__user_id", "invitation__ticket__vendor_id", "invitation__ticket__team_id"
)
INVITATION_PATHS = Paths("ticket__agent__user_id", "ticket__vendor_id", "ticket__team_id")
REVIEW_PATHS = Paths("agent__user_id", "vendor_id", "team_id")


def _team_type_id() -> int:
    return ContentType.objects.get_for_model(Team).pk


def subject_groups(subjects: Sequence[SubjectRef], paths: Paths) -> dict[str, dict[int, list[int]]]:
    """For each column: its value → the subject ids it stands for."""
    groups: dict[str, dict[int, list[int]]] = {}
    team_type: int | None = None
    for subject in subjects:
        column: str | None = None
        key: int | None = None
        if subject.kind == "agent" and subject.user_id is not None:
            column, key = paths.agent_user, subject.user_id
        elif subject.kind == "vendor" and subject.vendor_id is not None:
            column, key = paths.vendor, subject.vendor_id
        elif subject.kind == "team" and subject.object_id is not None:
            team_type = team_type if team_type is not None else _team_type_id()
            if subject.content_type_id == team_type:
                column, key = paths.team, subject.object_id
        if column is not None and key is not None:
            groups.setdefault(column, {}).setdefault(key, []).append(subject.id)
    return groups


def grouped(
    rows: QuerySet[Any], subjects: Sequence[SubjectRef], paths: Paths, aggregates: Mapping[str, Any]
) -> dict[int, dict[str, Any]]:
    """AGGREGATES per subject from ONE query over the period's rows.

    The rows are grouped in SQL by (agent's user, team, vendor), a few hundred groups at most;
    each group's sums are then added to every subject it belongs to. The aggregates must be
    additive (counts and sums; means are sum ÷ count afterwards), so an agent, a team and a
    vendor are all served by the same scan of the month's rows.
    """
    groups = subject_groups(subjects, paths)
    if not groups:
        return {}
    columns = list(groups)
    totals: dict[int, dict[str, Any]] = {}
    for row in rows.order_by().values(*columns).annotate(**aggregates):
        for column in columns:
            for subject_id in groups[column].get(row[column], ()):
                total = totals.setdefault(subject_id, dict.fromkeys(aggregates, 0))
                for name in aggregates:
                    total[name] += row[name] or 0
    return totals


def subject_filter(subject: SubjectRef, paths: Paths) -> Q | None:
    """The rows of one subject (for the drill-down), or None for a kind these measures do not know."""
    groups = subject_groups([subject], paths)
    if not groups:
        return None
    column, keys = next(iter(groups.items()))
    return Q(**{f"{column}__in": list(keys)})


# --- Survey rows ---------------------------------------------------------------------------------


def responses_filed(start: date, end: date) -> QuerySet[SurveyResponse]:
    """Responses to tickets resolved in the period, merged and spam left out."""
    low, high = window(start, end)
    return SurveyResponse.objects.filter(
        invitation__ticket__resolved_at__gte=low,
        invitation__ticket__resolved_at__lt=high,
        invitation__ticket__is_merged=False,
        invitation__ticket__is_spam=False,
    )


def invitations_filed(start: date, end: date) -> QuerySet[SurveyInvitation]:
    low, high = window(start, end)
    return SurveyInvitation.objects.filter(
        ticket__resolved_at__gte=low,
        ticket__resolved_at__lt=high,
        ticket__is_merged=False,
        ticket__is_spam=False,
    )


CSAT_AGGREGATES = {"good": Count("id", filter=Q(csat__gte=4)), "rated": Count("csat")}
NPS_AGGREGATES = {
    "promoters": Count("id", filter=Q(nps__gte=9)),
    "detractors": Count("id", filter=Q(nps__lte=6)),
    "rated": Count("nps"),
}
RATE_AGGREGATES = {"invited": Count("id"), "responded": Count("id", filter=Q(responded_at__isnull=False))}
QA_AGGREGATES = {"total": Sum("score"), "reviews": Count("id")}


def ces_aggregates() -> dict[str, Any]:
    """Mean effort on the configured scale; answers given on another scale are rescaled linearly."""
    scale = settings.STEWARD_SURVEY_CES_SCALE
    rescaled = ExpressionWrapper(
        Value(1.0) + (F("ces") - 1) * Value(float(scale - 1)) / (F("ces_scale_max") - 1),
        output_field=FloatField(),
    )
    return {"total": Sum(rescaled, filter=Q(ces__isnull=False)), "rated": Count("ces")}


def csat_reading(row: Mapping[str, Any]) -> Reading | None:
    if not row["rated"]:
        return None
    return Reading(pct(row["good"], row["rated"]), row["rated"])


def nps_reading(row: Mapping[str, Any]) -> Reading | None:
    if not row["rated"]:
        return None
    value = pct(row["promoters"], row["rated"]) - pct(row["detractors"], row["rated"])
    return Reading(value, row["rated"])


def ces_reading(row: Mapping[str, Any]) -> Reading | None:
    if not row["rated"] or row["total"] is None:
        return None
    mean = Decimal(str(row["total"])) / Decimal(row["rated"])
    return Reading(mean.quantize(CENT, ROUND_HALF_UP), row["rated"])


def rate_reading(row: Mapping[str, Any]) -> Reading | None:
    if not row["invited"]:
        return None
    return Reading(pct(row["responded"], row["invited"]), row["invited"], {"responded": row["responded"]})


def qa_reading(row: Mapping[str, Any]) -> Reading | None:
    if not row["reviews"] or row["total"] is None:
        return None
    mean = Decimal(str(row["total"])) / Decimal(row["reviews"])
    return Reading(mean.quantize(CENT, ROUND_HALF_UP), row["reviews"])


def _readings(rows: dict[int, dict[str, Any]], make: Any) -> dict[int, Reading]:
    result: dict[int, Reading] = {}
    for subject_id, row in rows.items():
        reading = make(row)
        if reading is not None:
            result[subject_id] = reading
    return result


def survey_csat_pct(subjects: Sequence[SubjectRef], start: date, end: date) -> Mapping[int, Reading]:
    return _readings(
        grouped(responses_filed(start, end), subjects, RESPONSE_PATHS, CSAT_AGGREGATES), csat_reading
    )


def survey_nps(subjects: Sequence[SubjectRef], start: date, end: date) -> Mapping[int, Reading]:
    return _readings(
        grouped(responses_filed(start, end), subjects, RESPONSE_PATHS, NPS_AGGREGATES), nps_reading
    )


def survey_ces_mean(subjects: Sequence[SubjectRef], start: date, end: date) -> Mapping[int, Reading]:
    return _readings(
        grouped(responses_filed(start, end), subjects, RESPONSE_PATHS, ces_aggregates()), ces_reading
    )


def survey_response_rate(subjects: Sequence[SubjectRef], start: date, end: date) -> Mapping[int, Reading]:
    return _readings(
        grouped(invitations_filed(start, end), subjects, INVITATION_PATHS, RATE_AGGREGATES), rate_reading
    )


def reviews_filed(start: date, end: date) -> QuerySet[QaReview]:
    """Scored QA reviews submitted in the period (a dispute resolved by amendment counts its new score)."""
    low, high = window(start, end)
    return QaReview.objects.filter(
        status__in=QaReview.SCORED,
        submitted_at__gte=low,
        submitted_at__lt=high,
        ticket__is_merged=False,
        ticket__is_spam=False,
    )


def qa_score(subjects: Sequence[SubjectRef], start: date, end: date) -> Mapping[int, Reading]:
    return _readings(grouped(reviews_filed(start, end), subjects, REVIEW_PATHS, QA_AGGREGATES), qa_reading)


# --- Drill-down ----------------------------------------------------------------------------------


def survey_rows(user: Any, subject: SubjectRef, start: date, end: date) -> Sequence[DrillRow]:
    """The survey responses behind a survey figure, as the user may see them."""
    condition = subject_filter(subject, RESPONSE_PATHS)
    if condition is None:
        return []
    visible = SurveyResponse.objects.restrict(user).values("pk")
    responses = (
        responses_filed(start, end)
        .filter(condition, pk__in=visible)
        .select_related("invitation__ticket__agent")
        .order_by("invitation__ticket__resolved_at", "id")[:500]
    )
    url = reverse("service:survey_list")
    return [
        DrillRow(
            label=f"Ticket #{r.invitation.ticket.external_id}",
            url=f"{url}?ticket={r.invitation.ticket_id}",
            cells=(
                ("Resolved", r.invitation.ticket.resolved_at),
                ("Agent", r.invitation.ticket.agent.name if r.invitation.ticket.agent else "—"),
                ("CSAT (1–5)", r.csat if r.csat is not None else "—"),
                ("NPS (0–10)", r.nps if r.nps is not None else "—"),
                ("CES", f"{r.ces} of {r.ces_scale_max}" if r.ces is not None else "—"),
            ),
        )
        for r in responses
    ]


def invitation_rows(user: Any, subject: SubjectRef, start: date, end: date) -> Sequence[DrillRow]:
    condition = subject_filter(subject, INVITATION_PATHS)
    if condition is None:
        return []
    visible = SurveyInvitation.objects.restrict(user).values("pk")
    invitations = (
        invitations_filed(start, end)
        .filter(condition, pk__in=visible)
        .select_related("ticket")
        .order_by("ticket__resolved_at", "id")[:500]
    )
    url = reverse("service:survey_list")
    return [
        DrillRow(
            label=f"Ticket #{i.ticket.external_id}",
            url=f"{url}?ticket={i.ticket_id}",
            cells=(("Resolved", i.ticket.resolved_at), ("Answered", "yes" if i.responded_at else "no")),
        )
        for i in invitations
    ]


def review_rows(user: Any, subject: SubjectRef, start: date, end: date) -> Sequence[DrillRow]:
    condition = subject_filter(subject, REVIEW_PATHS)
    if condition is None:
        return []
    reviews = (
        reviews_filed(start, end)
        .filter(condition, pk__in=QaReview.objects.restrict(user).values("pk"))
        .select_related("ticket", "agent")
        .order_by("submitted_at", "id")[:500]
    )
    return [
        DrillRow(
            label=f"QA review of ticket #{r.ticket.external_id}",
            url=reverse("service:qa_detail", args=[r.pk]),
            cells=(
                ("Agent", r.agent.name),
                ("Submitted", r.submitted_at),
                ("Score", r.score),
                ("Critical failed", "yes" if r.critical_failed else "no"),
                ("Status", r.get_status_display()),
            ),
        )
        for r in reviews
    ]


FILING = (
    "Filed by the ticket's resolution date (Hong Kong days) and credited to its assignee, vendor "
    "and team; merged and spam tickets excluded."
)

register_measure(
    "survey_csat_pct",
    "CSAT (survey)",
    "%",
    survey_csat_pct,
    rows=survey_rows,
    source="survey",
    description="Ratings of 4 or 5 ÷ all ratings on the 1–5 CSAT question, × 100. " + FILING,
)
register_measure(
    "nps",
    "Net Promoter Score",
    "points",
    survey_nps,
    rows=survey_rows,
    source="survey",
    description="% of answers 9–10 minus % of answers 0–6 on the 0–10 recommendation question (−100 to 100). "
    + FILING,
)
register_measure(
    "ces_mean",
    "Customer effort, mean",
    "score",
    survey_ces_mean,
    rows=survey_rows,
    source="survey",
    description="Mean answer to the effort question on the configured 1–N scale (lower is easier); answers "
    "given on another scale are rescaled linearly. " + FILING,
)
register_measure(
    "survey_response_rate",
    "Survey response rate",
    "%",
    survey_response_rate,
    rows=invitation_rows,
    source="survey",
    description="Survey invitations answered ÷ invitations sent, × 100; sample size = invitations. " + FILING,
)
register_measure(
    "qa_score",
    "QA review score, mean",
    "%",
    qa_score,
    rows=review_rows,
    description="Mean score of the QA reviews submitted in the period: category score = (selected − min) ÷ "
    "(max − min) × 100, review score = Σ weight × score ÷ Σ weight, and 0 when a critical category "
    "fails. Filed by submission date; credited to the conversation's agent, vendor and team.",
)
