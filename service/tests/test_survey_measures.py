"""CSAT %, NPS, CES and response rate: PRODUCT.md §3 formulas, set-based per agent, vendor and team.

Figures are filed by the ticket's resolution date in Hong Kong and exclude merged and spam tickets.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.contrib.contenttypes.models import ContentType

from kpis.engine import subject_ref
from kpis.models import Subject
from service import surveys
from service.models import Team, Ticket
from service.quality_selectors import survey_summary
from service.tests.conftest import invite
from service.tests.quality_factories import make_ticket, measure

pytestmark = pytest.mark.django_db
OCT = (date(2026, 10, 1), date(2026, 11, 1))


def answer(ticket, **answers):
    _, token = invite(ticket)
    if answers:
        surveys.survey_answer(token=token, **answers)


@pytest.fixture
def subjects(agent, vendor_agent, team, vendor):
    agent_subject = Subject.objects.create(kind="agent", label=agent.name, user=agent.user)
    vendor_subject = Subject.objects.create(kind="vendor", label=vendor.name, vendor=vendor)
    team_subject = Subject.objects.create(
        kind="team", label=team.name, content_type=ContentType.objects.get_for_model(Team), object_id=team.pk
    )
    return agent_subject, vendor_subject, team_subject


@pytest.fixture
def october(agent, vendor_agent):
    """Agent: CSAT 5, 4, 3, 2 and NPS 10, 9, 7, 3 and one unanswered invitation; vendor agent: CSAT 5, 5."""
    for csat, nps, ces in ((5, 10, 1), (4, 9, 2), (3, 7, None), (2, 3, 6)):
        answer(make_ticket(agent=agent), csat=csat, nps=nps, ces=ces)
    answer(make_ticket(agent=agent))  # invited, never answered
    # Answered, then merged into another ticket or marked as spam: never counts.
    for flag in ("is_merged", "is_spam"):
        ticket = make_ticket(agent=agent)
        answer(ticket, csat=1, nps=0)
        Ticket.objects.filter(pk=ticket.pk).update(**{flag: True})
    # 31 Oct 17:00 UTC is 1 Nov 01:00 in Hong Kong: filed in November.
    answer(make_ticket(agent=agent, resolved_at=datetime(2026, 10, 31, 17, 0, tzinfo=UTC)), csat=1, nps=0)
    for _ in range(2):
        answer(make_ticket(agent=vendor_agent), csat=5, nps=10)


def rows_of(code):
    rows = measure(code).rows
    assert rows is not None
    return rows


def compute(code, subjects):
    return measure(code).compute([subject_ref(s) for s in subjects], *OCT)


def test_csat_is_ratings_of_4_or_5_over_all_ratings(subjects, october):
    agent_subject, vendor_subject, team_subject = subjects
    readings = compute("survey_csat_pct", subjects)
    assert readings[agent_subject.pk].value == Decimal("50.00")  # 2 of 4
    assert readings[agent_subject.pk].sample_size == 4
    assert readings[vendor_subject.pk].value == Decimal("100.00")
    assert readings[team_subject.pk].value == Decimal("50.00")  # the vendor agent works in another team


def test_nps_is_promoters_minus_detractors(subjects, october):
    readings = compute("nps", subjects)
    assert readings[subjects[0].pk].value == Decimal("25.00")  # 50% promoters − 25% detractors
    assert readings[subjects[1].pk].value == Decimal("100.00")


def test_ces_mean_keeps_its_scale_and_rescales_others(subjects, october, settings):
    readings = compute("ces_mean", subjects)
    assert readings[subjects[0].pk].value == Decimal("3.00")  # (1 + 2 + 6) ÷ 3 on the 1–7 scale
    assert readings[subjects[0].pk].sample_size == 3
    settings.STEWARD_SURVEY_CES_SCALE = 4  # answers given on 1–7 are rescaled to 1–4
    assert compute("ces_mean", subjects)[subjects[0].pk].value == Decimal("2.00")  # (1 + 1.5 + 3.5) ÷ 3


def test_response_rate_is_answered_over_invited(subjects, october):
    readings = compute("survey_response_rate", subjects)
    assert readings[subjects[0].pk].value == Decimal("80.00")  # 4 of 5
    assert readings[subjects[0].pk].sample_size == 5


def test_a_subject_without_answers_is_not_applicable(subjects, october, other_agent):
    lonely = Subject.objects.create(kind="agent", label="Karen", user=other_agent.user)
    assert lonely.pk not in compute("survey_csat_pct", [*subjects, lonely])


def test_one_query_serves_every_subject(subjects, october, django_assert_max_num_queries):
    refs = [subject_ref(s) for s in subjects]
    measure("nps").compute(refs, *OCT)  # the team content type is cached from here on
    with django_assert_max_num_queries(1):
        measure("nps").compute(refs, *OCT)


def test_the_summary_page_figures_match(subjects, october, cs_manager):
    summary = survey_summary(user=cs_manager, start=OCT[0], end=OCT[1])
    assert (summary.invited, summary.responded) == (7, 6)
    assert summary.csat_pct == Decimal("66.67")  # 4 of 6
    assert summary.nps == Decimal("50.00")  # 66.67 − 16.67


def test_the_drill_down_lists_the_answers_behind_the_figure(subjects, october, cs_manager, agent_user):
    rows = rows_of("survey_csat_pct")(cs_manager, subject_ref(subjects[0]), *OCT)
    assert len(rows) == 4
    assert all(row.url.startswith("/service/quality/surveys/?ticket=") for row in rows)
    assert rows_of("survey_csat_pct")(agent_user, subject_ref(subjects[0]), *OCT) == []
