"""QA score (PRODUCT.md §3): category = (selected − min) ÷ (max − min) × 100; review = Σ w × s ÷ Σ w;
a failed critical category zeroes the review. Bad rubrics and scores are refused, nothing written."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from core.testing.personas import bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from kpis.engine import subject_ref
from kpis.models import Subject
from service import qa
from service.models import QaCategoryScore, QaReview, Rubric, RubricCategory
from service.tests.conftest import call, category
from service.tests.quality_factories import make_ticket, measure

pytestmark = pytest.mark.django_db


def picks(rubric, courtesy, accuracy, verification):
    c = {c.name: c.pk for c in rubric.categories.all()}
    return {
        c["Courtesy"]: qa.Selection(courtesy),
        c["Accuracy"]: qa.Selection(accuracy),
        c["Verification"]: qa.Selection(verification),
    }


@pytest.mark.parametrize(
    ("courtesy", "accuracy", "verification", "score", "critical_failed"),
    [
        (3, 4, 1, "87.50", False),  # (20 × 75 + 30 × 75 + 50 × 100) ÷ 100
        (3, 3, 1, "80.00", False),  # accuracy exactly at its pass mark (50) passes
        (0, 5, 1, "80.00", False),  # a failed non-critical category only lowers the score
        (4, 2, 1, "0.00", True),  # accuracy 25 < pass mark 50: critical, zeroes the review
        (4, 5, 0, "0.00", True),  # verification failed
    ],
)
def test_review_score_formula(rubric, courtesy, accuracy, verification, score, critical_failed):
    result = qa.score_review(list(rubric.categories.all()), picks(rubric, courtesy, accuracy, verification))
    assert result.score == Decimal(score)
    assert result.critical_failed is critical_failed


def test_category_score_is_relative_to_its_own_scale(rubric):
    accuracy = rubric.categories.get(name="Accuracy")  # 1–5
    assert [qa.category_score(accuracy, n) for n in (1, 2, 3, 5)] == [
        Decimal(v) for v in ("0", "25", "50", "100")
    ]


@pytest.mark.parametrize(
    ("courtesy", "accuracy", "verification", "field"),
    [(5, 3, 1, "Courtesy"), (3, 0, 1, "Accuracy"), (3, 3, 2, "Verification"), (3, None, 1, "Accuracy")],
)
def test_out_of_range_or_missing_scores_are_refused(rubric, courtesy, accuracy, verification, field):
    with pytest.raises(ValidationError) as error:
        qa.score_review(list(rubric.categories.all()), picks(rubric, courtesy, accuracy, verification))
    category = rubric.categories.get(name=field)
    assert f"scores.{category.pk}" in error.value.message_dict


@pytest.mark.parametrize(
    ("spec", "field"),
    [
        (category("Courtesy", "0"), "categories.0.weight"),
        (category("Courtesy", "-5"), "categories.0.weight"),
        (category("Courtesy", "10", low=4, high=4), "categories.0.scale_max"),
        (category("Courtesy", "10", low=5, high=1), "categories.0.scale_max"),
        (category("Courtesy", "10", critical=True, pass_mark=Decimal(101)), "categories.0.pass_mark"),
        (category("", "10"), "categories.0.name"),
    ],
)
def test_bad_rubrics_are_refused_and_nothing_is_written(cs_manager, spec, field):
    with nothing_written(Rubric, RubricCategory), pytest.raises(ValidationError) as error:
        qa.rubric_create(actor=cs_manager, name="Broken", categories=[spec])
    assert field in error.value.message_dict


def test_a_rubric_needs_a_category(cs_manager):
    with nothing_written(Rubric), pytest.raises(ValidationError):
        qa.rubric_create(actor=cs_manager, name="Empty", categories=[])


def test_the_api_refuses_a_zero_weight_with_a_problem(client, cs_manager):
    headers = bearer(cs_manager)
    body: Any = {
        "name": "API rubric",
        "categories": [
            {"name": "Courtesy", "weight": "25"},
            {"name": "Accuracy", "weight": "0", "critical": True, "pass_mark": "50"},
        ],
    }
    with nothing_written(Rubric, RubricCategory):
        response = call(client, "post", "/api/v1/service/rubrics", headers, body)
    assert "categories.1.weight" in error_fields(assert_problem(response, 422, kind="rule"))
    body["categories"][1]["weight"] = "75"
    created = call(client, "post", "/api/v1/service/rubrics", headers, body)
    assert created.status_code == 201, created.content
    assert [c["weight"] for c in created.json()["categories"]] == ["25.00", "75.00"]


def test_qa_score_measure_is_the_mean_review_score_per_agent(cs_manager, rubric, agent, vendor_agent, vendor):
    submitted = []
    for ticket_agent, selections in ((agent, (3, 4, 1)), (agent, (4, 2, 1)), (vendor_agent, (4, 5, 1))):
        review = qa.qa_assign(
            actor=cs_manager, ticket=make_ticket(agent=ticket_agent), reviewer=cs_manager, rubric=rubric
        )
        qa.qa_review_submit(actor=cs_manager, review=review, selections=picks(rubric, *selections))
        submitted.append(review.pk)
    QaReview.objects.filter(pk__in=submitted).update(submitted_at=datetime(2026, 10, 20, 3, 0, tzinfo=UTC))
    agent_subject = Subject.objects.create(kind="agent", label=agent.name, user=agent.user)
    vendor_subject = Subject.objects.create(kind="vendor", label=vendor.name, vendor=vendor)
    readings = measure("qa_score").compute(
        [subject_ref(agent_subject), subject_ref(vendor_subject)], date(2026, 10, 1), date(2026, 11, 1)
    )
    assert readings[agent_subject.pk].value == Decimal("43.75")  # (87.50 + 0) ÷ 2
    assert readings[agent_subject.pk].sample_size == 2
    assert readings[vendor_subject.pk].value == Decimal("100.00")
    assert QaCategoryScore.objects.filter(failed=True).count() == 1
    november = measure("qa_score").compute([subject_ref(agent_subject)], date(2026, 11, 1), date(2026, 12, 1))
    assert november == {}
