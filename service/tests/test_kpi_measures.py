# mypy: disable-error-code="arg-type, misc, union-attr, operator, comparison-overlap"
"""Service KPIs as engine measures: every formula against the hand-computed dataset in kpi_data."""

from __future__ import annotations

from decimal import Decimal

import pytest

from kpis import registry
from service.report_models import ServiceKpiRules
from service.tests.kpi_data import APRIL, MARCH, build

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def data(vendor):
    return build(vendor)


def values(code, subjects):
    readings = registry.get(code).compute(list(subjects.values()), MARCH, APRIL)
    by_id = {s.id: k for k, s in subjects.items()}
    return {by_id[i]: (r.value, r.sample_size) for i, r in readings.items()}


def test_first_response_median_p90_mean_per_agent_team_and_vendor(data):
    subjects = data.subjects()
    assert values("first_response_median", subjects) == {
        "alice": (D("25.00"), 4),
        "team": (D("25.00"), 4),
        "bob": (D("150.00"), 2),
        "vendor": (D("150.00"), 2),
    }
    assert values("first_response_p90", subjects)["alice"] == (D("37.00"), 4)
    assert values("first_response_mean", subjects)["alice"] == (D("25.00"), 4)
    assert values("first_response_calendar_median", subjects)["alice"] == (D("30.00"), 4)


def test_merged_and_spam_never_count_and_no_data_is_not_applicable(data):
    subjects = data.subjects()
    medians = values("first_response_median", subjects)
    assert "idle" not in medians  # no tickets: not applicable, never 0
    assert values("ticket_volume", subjects)["alice"] == (D(5), 5)


def test_resolution_reopen_one_touch_and_sla(data):
    subjects = data.subjects()
    assert values("resolution_median", subjects)["alice"] == (D("300.00"), 3)
    assert values("first_resolution_mean", subjects)["alice"] == (D("160.00"), 3)
    assert values("reopen_rate_pct", subjects)["alice"] == (D("33.33"), 3)
    assert values("one_touch_resolution_pct", subjects)["alice"] == (D("33.33"), 3)
    assert values("sla_first_response_pct", subjects)["alice"] == (D("66.67"), 3)
    assert values("sla_next_response_pct", subjects)["alice"] == (D("50.00"), 2)
    assert values("sla_attainment_pct", subjects)["alice"] == (D("60.00"), 5)
    assert values("next_response_mean", subjects)["alice"] == (D("60.00"), 2)
    assert "bob" not in values("sla_first_response_pct", subjects)


def test_backlog_is_unresolved_at_period_end(data):
    assert values("backlog", data.subjects())["alice"] == (D(4), 4)


def test_attribution_every_agent_who_replied(data):
    ServiceKpiRules.objects.create(pk=1, attribution=ServiceKpiRules.Attribution.TOUCHED)
    subjects = data.subjects()
    medians = values("first_response_median", subjects)
    assert medians["bob"] == (D("55.00"), 2)  # a1 (10) and b1 (100): a1, replied twice, counts once
    assert medians["alice"] == (D("10.00"), 1)  # Alice replied on a1 only
    assert medians["vendor"] == (D("150.00"), 2)  # vendors and teams still follow the ticket


def test_filing_by_resolution_date(data):
    ServiceKpiRules.objects.create(pk=1, filing=ServiceKpiRules.Filing.RESOLVED)
    subjects = data.subjects()
    assert values("ticket_volume", subjects)["alice"] == (D(2), 2)  # a1 and a3; a2 resolved in April
    assert values("resolution_mean", subjects)["alice"] == (D("210.00"), 2)


def test_drill_down_rows_are_the_tickets_behind_the_value(data, admin_user):
    subjects = data.subjects()
    rows = registry.get("first_response_median").rows(admin_user, subjects["alice"], MARCH, APRIL)
    assert [r.label.split()[0] for r in rows] == ["#a1", "#a2", "#a3", "#a4"]
    assert registry.get("backlog").rows(admin_user, subjects["idle"], MARCH, APRIL) == []


def test_vendor_ticket_discrepancy_against_the_vendors_own_report(data, admin_user, portal_user):
    from kpis.models import Measure, MeasureSubmission, Subject

    subjects = data.subjects()
    reported = Measure.objects.create(
        code="tickets_handled_reported",
        label="Tickets handled (vendor's report)",
        unit="tickets",
        source="submitted",
    )
    assert values("vendor_ticket_discrepancy_pct", subjects) == {}  # nothing reported: not applicable
    MeasureSubmission.objects.create(
        measure=reported,
        subject=Subject.objects.get(pk=subjects["vendor"].id),
        start=MARCH,
        end=APRIL,
        value=D(3),
        status=MeasureSubmission.Status.APPROVED,
        submitted_by=portal_user,
        decided_by=admin_user,
    )
    # Harbour Call says 3; Steward holds 2 of its tickets in March: |3 − 2| ÷ 2 = 50 %.
    assert values("vendor_ticket_discrepancy_pct", subjects) == {"vendor": (D("50.00"), 2)}
