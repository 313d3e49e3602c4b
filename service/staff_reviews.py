"""Staff reviews (seed 004 §3 "review performance of individual staff members and recommend rewards
or penalties"; issue 4 item 10).

For one agent and one period a review gathers, in SQL:
- the agent's KPI scorecard for that period, if one exists (``kpis.ScorecardPeriod`` of the
  agent's subject), with each KPI's sample size and its version's minimum;
- the QA score (mean of scored reviews submitted in the period) and CSAT (ratings 4–5 ÷ all,
  tickets resolved in the period), each with its sample size and the minimum sample size
  (STEWARD_STAFF_REVIEW_MIN_QA / _MIN_CSAT). Below the minimum a figure shows "not enough
  data" and never judges the person.

The recommendation is the engine's: the scorecard period's ``kpis.StaffRecommendation`` when
there is one (its standing decides), otherwise :func:`recommend` over the figures that may
judge. A manager decides (always with a reason), which also decides the scorecard's pending
recommendation, so that the two never disagree.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from kpis.models import KpiResult, ScorecardPeriod, StaffRecommendation
from service.models import Agent, StaffReview
from service.quality_measures import (
    CSAT_AGGREGATES,
    QA_AGGREGATES,
    RATE_AGGREGATES,
    csat_reading,
    invitations_filed,
    qa_reading,
    rate_reading,
    responses_filed,
    reviews_filed,
)

Rec = StaffReview.Recommendation

# The fallback rule when the agent has no scorecard period: (figure, reward at or above,
# no action at or above, coaching at or above; below that a formal review).
THRESHOLDS: dict[str, tuple[Decimal, Decimal, Decimal]] = {
    "qa": (Decimal(90), Decimal(75), Decimal(60)),
    "csat": (Decimal(90), Decimal(80), Decimal(70)),
}
LABELS = {"qa": "QA score", "csat": "CSAT"}
SEVERITY: list[str] = [Rec.REWARD, Rec.NO_ACTION, Rec.COACHING, Rec.FORMAL_REVIEW]


def _figure(value: Decimal | None, sample: int, minimum: int, definition: str) -> dict[str, Any]:
    judged = value is not None and sample >= minimum
    return {
        "value": None if value is None else str(value),
        "sample_size": sample,
        "minimum": minimum,
        "judged": judged,
        "note": "" if judged else f"not enough data ({sample} of the {minimum} needed)",
        "definition": definition,
    }


def agent_figures(agent: Agent, start: date, end: date) -> dict[str, Any]:
    """The agent's QA score, CSAT and response rate for [start, end): three aggregate queries."""
    qa_row = reviews_filed(start, end).filter(agent=agent).aggregate(**QA_AGGREGATES)
    csat_row = (
        responses_filed(start, end).filter(invitation__ticket__agent=agent).aggregate(**CSAT_AGGREGATES)
    )
    rate_row = invitations_filed(start, end).filter(ticket__agent=agent).aggregate(**RATE_AGGREGATES)
    qa = qa_reading(qa_row)
    csat = csat_reading(csat_row)
    rate = rate_reading(rate_row)
    return {
        "qa": _figure(
            qa.value if qa else None,
            qa_row["reviews"],
            settings.STEWARD_STAFF_REVIEW_MIN_QA,
            "Mean QA review score (0 when a critical category failed), reviews submitted in the period.",
        ),
        "csat": _figure(
            csat.value if csat else None,
            csat_row["rated"],
            settings.STEWARD_STAFF_REVIEW_MIN_CSAT,
            "Ratings of 4 or 5 ÷ all ratings (1–5), × 100, tickets resolved in the period.",
        ),
        "response_rate": {
            "value": None if rate is None else str(rate.value),
            "invited": rate_row["invited"],
            "responded": rate_row["responded"],
        },
    }


def scorecard_period_for(agent: Agent, start: date, end: date) -> ScorecardPeriod | None:
    """The agent's scorecard period covering exactly [start, end), if the engine has one."""
    if agent.user_id is None:
        return None
    return (
        ScorecardPeriod.objects.filter(
            scorecard__subject__kind="agent",
            scorecard__subject__user_id=agent.user_id,
            start=start,
            end=end,
        )
        .select_related("scorecard", "standing")
        .order_by("-scorecard__status", "-computed_at", "-id")
        .first()
    )


def scorecard_figures(period: ScorecardPeriod) -> dict[str, Any]:
    results = (
        KpiResult.objects.filter(period=period, is_official=True)
        .select_related("version")
        .order_by("line__position", "id")
    )
    return {
        "period_id": period.pk,
        "scorecard": period.scorecard.name,
        "status": period.status,
        "score": None if period.score is None else str(period.score),
        "standing": period.standing.name if period.standing else "",
        "results": [
            {
                "kpi": r.version.name,
                "value": None if r.value is None else str(r.value.normalize()),
                "unit": r.version.unit,
                "sample_size": r.sample_size,
                "minimum": r.version.min_sample_size,
                "applicable": r.applicable,
                "reason": r.reason,
                "band": r.band_label,
            }
            for r in results
        ],
    }


@dataclass(frozen=True)
class Proposal:
    recommendation: str
    basis: str
    source: str


def recommend(figures: dict[str, Any]) -> Proposal:
    """The fallback rule over the figures that may judge: the most severe level any of them reaches.

    QA: reward ≥ 90, no action ≥ 75, coaching ≥ 60, else formal review. CSAT: reward ≥ 90, no
    action ≥ 80, coaching ≥ 70, else formal review. A reward needs every judged figure to earn
    it. With no figure that may judge, nothing is recommended beyond "no action".
    """
    levels: list[tuple[str, str]] = []
    for key, (reward, fine, coaching) in THRESHOLDS.items():
        figure = figures[key]
        if not figure["judged"]:
            continue
        value = Decimal(figure["value"])
        level = (
            Rec.REWARD
            if value >= reward
            else Rec.NO_ACTION
            if value >= fine
            else Rec.COACHING
            if value >= coaching
            else Rec.FORMAL_REVIEW
        )
        levels.append((key, level))
    if not levels:
        return Proposal(
            Rec.NO_ACTION,
            "Not enough data to judge: "
            + "; ".join(f"{LABELS[k]} {figures[k]['note']}" for k in THRESHOLDS)
            + ". Nothing is recommended beyond no action.",
            "rule",
        )
    worst = max((SEVERITY.index(level) for _, level in levels))
    if worst == 0 and len(levels) < len(THRESHOLDS):
        worst = 1  # a reward needs every figure judged
    chosen = SEVERITY[worst]
    parts = [f"{LABELS[k]} {figures[k]['value']} → {Rec(level).label.lower()}" for k, level in levels]
    skipped = [f"{LABELS[k]} {figures[k]['note']}" for k in THRESHOLDS if not figures[k]["judged"]]
    basis = "Rule over QA and CSAT: " + "; ".join(parts)
    if skipped:
        basis += "; not judged: " + "; ".join(skipped)
    return Proposal(chosen, basis + f". Recommended: {Rec(chosen).label.lower()}.", "rule")


def _proposal(period: ScorecardPeriod | None, figures: dict[str, Any]) -> Proposal:
    if period is not None:
        engine = StaffRecommendation.objects.filter(period=period).first()
        if engine is not None:
            return Proposal(engine.final or engine.proposed, engine.basis, "kpis_scorecard")
    return recommend(figures)


@transaction.atomic
def staff_review_prepare(*, actor: Any, agent: Agent, start: date, end: date) -> StaffReview:
    """Gather the figures and the engine's recommendation for one agent and period (or refresh them)."""
    if actor is not None and not actor.has_perm("service.add_staffreview"):
        raise PermissionDenied("Preparing staff reviews needs the CS manager role.")
    if end <= start:
        raise ValidationError({"end": "The period ends after it starts."})
    if (end - start).days > 366:
        raise ValidationError({"end": "A staff review covers at most a year."})
    if start > timezone.localdate():
        raise ValidationError({"start": "The period has not started yet."})
    if actor is not None and agent.user_id == actor.pk:
        raise PermissionDenied("Nobody prepares their own staff review.")
    period = scorecard_period_for(agent, start, end)
    figures = agent_figures(agent, start, end)
    figures["scorecard"] = scorecard_figures(period) if period is not None else None
    proposal = _proposal(period, figures)
    review = StaffReview.objects.select_for_update().filter(agent=agent, start=start, end=end).first()
    if review is not None and review.status == StaffReview.Status.DECIDED:
        raise ValidationError("This staff review is already decided.")
    before = audit.snapshot(review) if review is not None else None
    if review is None:
        review = StaffReview(agent=agent, start=start, end=end)
    review.figures = figures
    review.scorecard_period = period
    review.recommendation = proposal.recommendation
    review.recommendation_basis = proposal.basis
    review.recommendation_source = proposal.source
    review.prepared_by = actor
    review.save()
    action = AuditEvent.Action.CREATE if before is None else AuditEvent.Action.UPDATE
    audit.record_change(action, review, before=before, actor=actor)
    return review


@transaction.atomic
def staff_review_decide(*, actor: Any, review: StaffReview, decision: str, reason: str) -> StaffReview:
    """The manager's decision, always with a reason; also decides the scorecard's pending recommendation."""
    if not actor.has_perm("service.decide_staffreview"):
        raise PermissionDenied("Deciding staff reviews needs the CS manager role.")
    review = StaffReview.objects.select_for_update(of=("self",)).select_related("agent").get(pk=review.pk)
    if review.agent.user_id == actor.pk:
        raise PermissionDenied("Nobody decides their own staff review.")
    if review.status == StaffReview.Status.DECIDED:
        raise ValidationError("This staff review is already decided.")
    errors: dict[str, str] = {}
    if decision not in Rec.values:
        errors["decision"] = f"Choose one of {', '.join(Rec.values)}."
    reason = (reason or "").strip()
    if not reason:
        errors["reason"] = "Give the reason for the decision."
    elif len(reason) > 4000:
        errors["reason"] = "Keep the reason under 4000 characters."
    if errors:
        raise ValidationError(errors)
    if review.scorecard_period_id is not None:
        pending = StaffRecommendation.objects.filter(
            period_id=review.scorecard_period_id, status=StaffRecommendation.Status.PROPOSED
        ).first()
        if pending is not None:
            from kpis.services import recommendation_decide

            recommendation_decide(actor=actor, recommendation=pending, final=decision, reason=reason)
    before = audit.snapshot(review)
    review.decision = decision
    review.decision_reason = reason
    review.decided_by = actor
    review.decided_at = timezone.now()
    review.status = StaffReview.Status.DECIDED
    review.save()
    audit.record_change(AuditEvent.Action.UPDATE, review, before=before, actor=actor)
    return review
