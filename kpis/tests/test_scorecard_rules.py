"""Scorecards: weights total exactly 100, each KPI once.

Credit terms need a monthly scorecard and critical allocations totalling 100%."""

from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from kpis import services
from kpis.models import Scorecard, ScorecardLine, StandingScheme
from kpis.services import LineSpec

from .conftest import make_kpi, make_measure

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def kpis(cs_manager, second_manager):
    make_measure(cs_manager, "a_pct")
    make_measure(cs_manager, "b_pct")
    return (
        make_kpi(cs_manager, second_manager, "kpi_a", "a_pct").definition,
        make_kpi(cs_manager, second_manager, "kpi_b", "b_pct").definition,
    )


def test_weights_must_total_exactly_one_hundred(cs_manager, vendor_subject, kpis):
    with pytest.raises(ValidationError, match="weights total 95; they must total exactly 100"):
        services.scorecard_create(
            actor=cs_manager,
            name="X",
            subject=vendor_subject,
            lines=[LineSpec(kpis[0], D("50")), LineSpec(kpis[1], D("45"))],
        )
    assert not Scorecard.objects.exists() and not ScorecardLine.objects.exists()


def test_a_kpi_appears_once(cs_manager, vendor_subject, kpis):
    with pytest.raises(ValidationError, match="once"):
        services.scorecard_create(
            actor=cs_manager,
            name="X",
            subject=vendor_subject,
            lines=[LineSpec(kpis[0], D("50")), LineSpec(kpis[0], D("50"))],
        )


def test_changing_lines_keeps_the_rule(cs_manager, vendor_subject, kpis):
    card = services.scorecard_create(
        actor=cs_manager,
        name="X",
        subject=vendor_subject,
        lines=[LineSpec(kpis[0], D("60")), LineSpec(kpis[1], D("40"))],
    )
    with pytest.raises(ValidationError, match="total 110"):
        services.scorecard_set_lines(
            actor=cs_manager, scorecard=card, lines=[LineSpec(kpis[0], D("60")), LineSpec(kpis[1], D("50"))]
        )
    assert sorted(card.lines.values_list("weight", flat=True)) == [D("40"), D("60")]
    services.scorecard_set_lines(actor=cs_manager, scorecard=card, lines=[LineSpec(kpis[1], D("100"))])
    assert list(card.lines.values_list("kpi__code", "weight")) == [("kpi_b", D("100"))]


def test_credit_terms_need_critical_allocations_totalling_one_hundred(cs_manager, vendor_subject, kpis):
    card = services.scorecard_create(
        actor=cs_manager,
        name="X",
        subject=vendor_subject,
        lines=[
            LineSpec(kpis[0], D("50"), critical=True, allocation_pct=D("40")),
            LineSpec(kpis[1], D("50"), critical=True, allocation_pct=D("50")),
        ],
    )
    with pytest.raises(ValidationError, match="allocations total 90%"):
        services.credit_terms_set(
            actor=cs_manager, scorecard=card, monthly_fee=D("100000"), at_risk_pct=D("10")
        )
    assert not hasattr(Scorecard.objects.get(pk=card.pk), "credit_terms")


def test_credit_terms_are_monthly(cs_manager, vendor_subject, kpis):
    card = services.scorecard_create(
        actor=cs_manager,
        name="X",
        subject=vendor_subject,
        granularity="quarter",
        lines=[LineSpec(kpis[0], D("100"), critical=True, allocation_pct=D("100"))],
    )
    with pytest.raises(ValidationError, match="settled monthly"):
        services.credit_terms_set(
            actor=cs_manager, scorecard=card, monthly_fee=D("100000"), at_risk_pct=D("10")
        )


def test_standing_schemes_with_gaps_or_overlaps_are_refused(cs_manager):
    cases: list[tuple[list[dict[str, Any]], str]] = [
        (
            [{"name": "Low", "lower": "0", "upper": "50"}, {"name": "High", "lower": "60", "upper": "100"}],
            "no standing",
        ),
        (
            [{"name": "Low", "lower": "0", "upper": "70"}, {"name": "High", "lower": "60", "upper": "100"}],
            "overlap",
        ),
        ([{"name": "Low", "lower": "0", "upper": "100", "notify_roles": ["nobody"]}], "Unknown role"),
        ([{"name": "Low", "lower": "0", "upper": "100", "colour": "red"}], "colour like"),
    ]
    for standings, message in cases:
        with pytest.raises(ValidationError, match=message):
            services.standing_scheme_create(actor=cs_manager, name="S", standings=standings)
    assert not StandingScheme.objects.exists()


def test_people_without_the_role_cannot_build_scorecards(no_role_user, portal_user, vendor_subject, kpis):
    from django.core.exceptions import PermissionDenied

    for person in (no_role_user, portal_user):
        with pytest.raises(PermissionDenied):
            services.scorecard_create(
                actor=person, name="X", subject=vendor_subject, lines=[LineSpec(kpis[0], D("100"))]
            )
