"""A vendor's risk tier comes from a versioned questionnaire; each assessment keeps the questionnaire
version and the answers that set it, and earlier assessments are the tier's history."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.testing.personas import api_call, assert_outsider_blocked
from core.testing.problems import assert_problem
from vendors import risk, services
from vendors.models import RiskAssessment, RiskQuestionnaire

LOW = {q["code"]: q["options"][0]["code"] for q in risk.DEFAULT_QUESTIONNAIRE["questions"]}
HIGH = {q["code"]: q["options"][-1]["code"] for q in risk.DEFAULT_QUESTIONNAIRE["questions"]}


def test_the_score_is_the_weighted_share_of_the_worst_answers():
    questions, tiers = risk.DEFAULT_QUESTIONNAIRE["questions"], risk.DEFAULT_QUESTIONNAIRE["tiers"]
    assert risk.score(questions, tiers, LOW) == (Decimal("0.00"), "low")
    assert risk.score(questions, tiers, HIGH) == (Decimal("100.00"), "critical")
    # Personal data "contact" (2 of 4, weight 3) and everything else lowest: 6 / (4 × 13) = 11.54%.
    assert risk.score(questions, tiers, {**LOW, "personal_data": "contact"}) == (Decimal("11.54"), "low")
    # Customer-service BPO: extensive personal data, high criticality, read access, months to replace.
    cs = {
        **LOW,
        "personal_data": "extensive",
        "criticality": "high",
        "system_access": "read",
        "substitutability": "months",
    }
    assert risk.score(questions, tiers, cs) == (Decimal("61.54"), "high")


def test_assessments_keep_the_history_and_the_latest_is_the_tier(client, vendor, vendor_manager):
    first = services.risk_assess(actor=vendor_manager, vendor=vendor, answers=HIGH, notes="Before the audit.")
    second = services.risk_assess(
        actor=vendor_manager, vendor=vendor, answers=LOW, notes="After remediation."
    )
    assert first.questionnaire == second.questionnaire and first.questionnaire.version == 1
    listing = api_call(client, "get", f"/api/v1/vendors/{vendor.pk}/risk-assessments", vendor_manager).json()
    assert [a["tier"] for a in listing["items"]] == ["low", "critical"]
    assert (
        api_call(client, "get", f"/api/v1/vendors/{vendor.pk}", vendor_manager).json()["risk_tier"] == "low"
    )
    assert api_call(client, "get", "/api/v1/vendors/?risk_tier=low", vendor_manager).json()["count"] == 1


def test_a_new_questionnaire_version_leaves_old_assessments_as_they_were(vendor, vendor_manager):
    old = services.risk_assess(actor=vendor_manager, vendor=vendor, answers=LOW)
    spec = risk.DEFAULT_QUESTIONNAIRE
    questions = [
        *spec["questions"],
        {
            "code": "subcontracting",
            "text": "Does the vendor subcontract?",
            "weight": 2,
            "options": [
                {"code": "no", "label": "No", "score": 0},
                {"code": "yes", "label": "Yes", "score": 4},
            ],
        },
    ]
    v2 = services.risk_questionnaire_create(
        actor=vendor_manager, code=spec["code"], title=spec["title"], questions=questions, tiers=spec["tiers"]
    )
    assert v2.version == 2
    new = services.risk_assess(actor=vendor_manager, vendor=vendor, answers={**LOW, "subcontracting": "yes"})
    assert new.questionnaire == v2
    old.refresh_from_db()
    assert old.questionnaire.version == 1 and old.answers == LOW


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        ({k: v for k, v in LOW.items() if k != "financial"}, "Answer"),
        ({**LOW, "financial": "bankrupt"}, "not an option"),
        ({**LOW, "colour": "blue"}, "Not questions"),
    ],
)
def test_incomplete_or_unknown_answers_are_refused(vendor, vendor_manager, answers, words):
    with pytest.raises(ValidationError) as caught:
        services.risk_assess(actor=vendor_manager, vendor=vendor, answers=answers)
    assert words in caught.value.message_dict["answers"][0]
    assert not RiskAssessment.objects.exists()


def test_a_malformed_questionnaire_is_refused(client, vendor_manager):
    body = {
        "code": "bad",
        "title": "Bad",
        "questions": [{"code": "q", "text": "Q", "weight": 1, "options": []}],
        "tiers": [{"tier": "low", "below": None}],
    }
    response = api_call(client, "post", "/api/v1/vendors/risk-questionnaire", vendor_manager, body)
    assert_problem(response, 422)
    assert not RiskQuestionnaire.objects.exists()


def test_the_assessment_page_records_a_tier(client, vendor, vendor_manager):
    client.force_login(vendor_manager)
    assert client.get(f"/vendors/{vendor.pk}/risk/").status_code == 200
    response = client.post(f"/vendors/{vendor.pk}/risk/", {f"q_{k}": v for k, v in HIGH.items()}, follow=True)
    assert "critical risk" in response.content.decode()


def test_risk_is_internal(client, vendor, vendor_manager, portal_user, outsider, no_role_user):
    services.risk_assess(actor=vendor_manager, vendor=vendor, answers=HIGH, notes="Confidential finding")
    for persona in (portal_user, outsider, no_role_user):
        assert_outsider_blocked(
            client, persona, "get", f"/api/v1/vendors/{vendor.pk}/risk-assessments", secrets=("Confidential",)
        )
        assert_outsider_blocked(client, persona, "get", "/api/v1/vendors/risk-questionnaire")
        assert_outsider_blocked(
            client, persona, "post", f"/api/v1/vendors/{vendor.pk}/risk-assessments", body={"answers": LOW}
        )
    assert RiskAssessment.objects.count() == 1
