"""Vendor risk questionnaires: their shape, Steward's default one, and how answers become a tier.

Score = Σ weight × option score ÷ Σ weight × the question's highest option score × 100, so 0 is
the least risk and 100 the most; the questionnaire's bands (``tiers``) turn the score into a tier.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, cast

from django.core.exceptions import ValidationError

from vendors.models import RiskTier


def _options(*rows: tuple[str, str, int]) -> list[dict[str, Any]]:
    return [{"code": code, "label": label, "score": score} for code, label, score in rows]


# Outsourcing risk as Hong Kong regulators' outsourcing guidance and the PDPO (DPP2(3), DPP4(2))
# frame it: what data the vendor holds, how critical and replaceable the service is, where data is.
DEFAULT_QUESTIONNAIRE: dict[str, Any] = {
    "code": "outsourcing-risk",
    "version": 1,
    "title": "Outsourcing risk assessment",
    "questions": [
        {
            "code": "personal_data",
            "text": "Does the vendor collect, hold or process our customers' personal data?",
            "weight": 3,
            "options": _options(
                ("none", "No personal data", 0),
                ("contact", "Contact details only", 2),
                ("extensive", "Extensive personal data (orders, history, identity documents)", 4),
            ),
        },
        {
            "code": "criticality",
            "text": "How much would customers notice if the service stopped for a day?",
            "weight": 3,
            "options": _options(
                ("low", "Hardly at all", 0),
                ("medium", "Some delays or complaints", 2),
                ("high", "Sales or service stop", 4),
            ),
        },
        {
            "code": "system_access",
            "text": "What access does the vendor have to our systems?",
            "weight": 2,
            "options": _options(
                ("none", "None", 0),
                ("read", "Read-only or a limited account", 2),
                ("admin", "Administrative or privileged access", 4),
            ),
        },
        {
            "code": "substitutability",
            "text": "How long would it take to move the service to another vendor or in-house?",
            "weight": 2,
            "options": _options(
                ("weeks", "A few weeks", 0),
                ("months", "A few months", 2),
                ("year", "A year or more", 4),
            ),
        },
        {
            "code": "data_location",
            "text": "Where is our data stored or processed?",
            "weight": 1,
            "options": _options(
                ("hong_kong", "Hong Kong only", 0),
                ("with_clauses", "Outside Hong Kong, under PCPD model contractual clauses", 2),
                ("without_clauses", "Outside Hong Kong, without such clauses", 4),
            ),
        },
        {
            "code": "certification",
            "text": "Does the vendor hold current security certification (e.g. ISO/IEC 27001, SOC 2)?",
            "weight": 1,
            "options": _options(
                ("current", "Yes, current and covering the service", 0),
                ("partial", "Partly, or expiring", 2),
                ("none", "No", 4),
            ),
        },
        {
            "code": "financial",
            "text": "How sound is the vendor financially?",
            "weight": 1,
            "options": _options(("strong", "Strong", 0), ("adequate", "Adequate", 2), ("weak", "Weak", 4)),
        },
    ],
    "tiers": [
        {"tier": RiskTier.LOW.value, "below": 25},
        {"tier": RiskTier.MEDIUM.value, "below": 50},
        {"tier": RiskTier.HIGH.value, "below": 75},
        {"tier": RiskTier.CRITICAL.value, "below": None},
    ],
}


def check_questionnaire(questions: Any, tiers: Any) -> None:
    """Raise ValidationError unless QUESTIONS and TIERS have the shape the scoring needs."""
    if not isinstance(questions, list) or not questions:
        raise ValidationError({"questions": "A questionnaire has at least one question."})
    codes: set[str] = set()
    for question in questions:
        if not isinstance(question, Mapping) or not {"code", "text", "weight", "options"} <= set(question):
            raise ValidationError({"questions": "Each question has a code, text, weight and options."})
        if question["code"] in codes:
            raise ValidationError({"questions": f"Question code “{question['code']}” appears twice."})
        codes.add(question["code"])
        if not isinstance(question["weight"], int) or question["weight"] < 1:
            raise ValidationError({"questions": f"“{question['code']}”: the weight is a whole number ≥ 1."})
        options = question["options"]
        if not isinstance(options, list) or len(options) < 2:
            raise ValidationError({"questions": f"“{question['code']}” has at least two options."})
        scores = [option.get("score") for option in options if isinstance(option, Mapping)]
        if len(scores) != len(options) or not all(isinstance(s, int) and s >= 0 for s in scores):
            raise ValidationError(
                {"questions": f"“{question['code']}”: option scores are whole numbers ≥ 0."}
            )
        if max(cast(list[int], scores)) == 0:
            raise ValidationError({"questions": f"“{question['code']}”: at least one option scores above 0."})
    if not isinstance(tiers, list) or not tiers or tiers[-1].get("below") is not None:
        raise ValidationError({"tiers": "Tiers rise by score; the last has no upper bound (below: null)."})
    previous = Decimal(0)
    for band in tiers[:-1]:
        if band.get("tier") not in RiskTier.values:
            raise ValidationError({"tiers": f"“{band.get('tier')}” is not a risk tier."})
        below = Decimal(str(band.get("below")))
        if not previous < below <= 100:
            raise ValidationError({"tiers": "Tier bounds rise from 0 to 100."})
        previous = below
    if tiers[-1].get("tier") not in RiskTier.values:
        raise ValidationError({"tiers": f"“{tiers[-1].get('tier')}” is not a risk tier."})


def score(
    questions: list[dict[str, Any]], tiers: list[dict[str, Any]], answers: Mapping[str, str]
) -> tuple[Decimal, str]:
    """(score 0–100, tier) for ANSWERS (question code → option code); every question must be answered."""
    known = {q["code"] for q in questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise ValidationError({"answers": f"Not questions of this questionnaire: {', '.join(unknown)}."})
    total = Decimal(0)
    worst = Decimal(0)
    for question in questions:
        chosen = answers.get(question["code"])
        if chosen is None:
            raise ValidationError({"answers": f"Answer “{question['text']}”"})
        option = next((o for o in question["options"] if o["code"] == chosen), None)
        if option is None:
            raise ValidationError({"answers": f"“{chosen}” is not an option of “{question['code']}”."})
        weight = Decimal(question["weight"])
        total += weight * Decimal(option["score"])
        worst += weight * Decimal(max(o["score"] for o in question["options"]))
    value = (total / worst * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    for band in tiers:
        if band["below"] is None or value < Decimal(str(band["below"])):
            return value, str(band["tier"])
    return value, str(tiers[-1]["tier"])  # pragma: no cover (the last band is open)
