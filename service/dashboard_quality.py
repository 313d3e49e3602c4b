"""The home dashboard's service-quality panel: what awaits the user (a review to score, to answer,
a dispute or a staff review to decide), counted in one query per figure."""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from core.dashboard import Panel, register


@register
def _quality_panel(user: Any) -> list[Panel]:
    if not user.has_perm("service.view_qareview"):
        return []
    from service.models import QaReview, StaffReview

    reviews = QaReview.objects.restrict(user)
    figures: list[tuple[str, Any]] = [
        (
            "Reviews for you to score",
            reviews.filter(reviewer_id=user.pk, status=QaReview.Status.ASSIGNED).count(),
        ),
        (
            "Reviews awaiting your answer",
            reviews.filter(agent__user_id=user.pk, status=QaReview.Status.SUBMITTED).count(),
        ),
    ]
    if user.has_perm("service.resolve_qareview"):
        figures.append(
            (
                "Disputes to resolve",
                reviews.filter(status=QaReview.Status.DISPUTED).exclude(reviewer_id=user.pk).count(),
            )
        )
    if user.has_perm("service.decide_staffreview"):
        pending = StaffReview.objects.restrict(user).filter(status=StaffReview.Status.PROPOSED)
        figures.append(("Staff reviews to decide", pending.count()))
    return [
        Panel(
            "Service quality",
            "Surveys, QA reviews against the code of practice, and staff reviews with minimum samples.",
            reverse("service:qa_list"),
            figures,
        )
    ]
