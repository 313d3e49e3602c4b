# mypy: disable-error-code="arg-type, misc, union-attr, operator, comparison-overlap"
"""Rollups and the report read from them: the same figures as the hand-computed dataset."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service import reports
from service.report_models import ServiceDailyRollup
from service.rollups import rollups_rebuild
from service.tests.kpi_data import build

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def data(vendor):
    built = build(vendor)
    rollups_rebuild()
    return built


def test_rebuild_is_idempotent_and_excludes_merged_and_spam(data):
    before = sorted(ServiceDailyRollup.objects.values_list("day", "agent_id", "tickets", "fr_sum"))
    assert sum(r[2] for r in before) == 8  # 5 of Alice in March + Feb ticket + 2 of Bob
    rollups_rebuild()
    assert sorted(ServiceDailyRollup.objects.values_list("day", "agent_id", "tickets", "fr_sum")) == before


def test_month_report_by_agent(data, admin_user):
    report = reports.report(user=admin_user, period=reports.parse_period("2026-03"), group_by="agent")
    alice = next(r for r in report.rows if r.key == data.alice.pk)
    f = alice.figures
    assert f["ticket_volume"].value == 5
    assert f["first_response_mean"].value == D("25.00")
    assert f["sla_first_response_pct"].value == D("66.67")
    assert f["sla_attainment_pct"].value == D("60.00")
    assert f["reopen_rate_pct"].value == D("33.33")
    assert f["one_touch_resolution_pct"].value == D("33.33")
    assert f["backlog"].value == 4
    assert f["first_response_median"].estimated
    assert D(20) <= f["first_response_median"].value <= D(30)  # estimated from 5-minute buckets
    assert report.total.figures["ticket_volume"].value == 7
    assert sum(n for _, n in report.histogram) == 6  # tickets with a first response


def test_filters_and_vendor_comparison(data, admin_user):
    period = reports.parse_period("2026-03")
    email = reports.report(
        user=admin_user, period=period, group_by="agent", filters=reports.parse_filters({"channel": "email"})
    )
    assert {r.key: r.figures["ticket_volume"].value for r in email.rows} == {
        data.alice.pk: 4,
        data.bob.pk: 2,
    }  # a2 came by chat
    report = reports.report(user=admin_user, period=period, group_by="team")
    assert [(r.label, r.figures["ticket_volume"].value) for r in report.vendors] == [
        ("In-house", 5),
        ("Harbour Call Centre Ltd", 2),
    ]
    in_house = reports.report(
        user=admin_user, period=period, filters=reports.parse_filters({"vendor": "in-house"})
    )
    assert in_house.total.figures["ticket_volume"].value == 5


def test_date_range_reads_the_daily_rollup(data, admin_user):
    period = reports.parse_period("2026-03-05..2026-03-05")
    assert not period.whole_months
    report = reports.report(user=admin_user, period=period, group_by="agent")
    assert report.total.figures["ticket_volume"].value == 7
    # Nothing was resolved by the end of 5 March: every counted ticket opened by then is backlog.
    assert report.total.figures["backlog"].value == 8


def test_each_monthly_cell_is_one_row_with_its_figures_and_backlog(data):
    """A month's figures and its end-of-month backlog are combined per cell (on PostgreSQL by a join
    on the cell): in-house cells (no vendor) and unassigned tickets (no agent, no team) must meet
    their own backlog, not come out as a second row of the same cell."""
    from django.db.models import Count

    from service.models import Ticket
    from service.report_models import ServiceMonthlyRollup
    from service.tests.kpi_data import at

    Ticket.objects.create(external_id="nobody", subject="Unassigned", opened_at=at(6))  # open
    rollups_rebuild()
    cells = ServiceMonthlyRollup.objects.values(
        "month", "agent_id", "team_id", "vendor_id", "channel", "priority"
    ).annotate(n=Count("pk"))
    assert cells.exists() and not cells.filter(n__gt=1).exists()
    march = ServiceMonthlyRollup.objects.filter(month__year=2026, month__month=3)
    unassigned = march.filter(agent_id=None).values_list("tickets", "backlog_end", "vendor_id")
    assert list(unassigned) == [(1, 1, None)]
    alice = march.filter(agent=data.alice)
    assert alice.filter(vendor_id=None).count() == alice.count()  # Alice is in-house
    backlog_only = alice.filter(tickets=0, backlog_end__gt=0)
    with_both = alice.filter(tickets__gt=0, backlog_end__gt=0)
    # Every in-house cell of Alice's with a backlog in March also filed tickets in March.
    assert with_both.exists() and not backlog_only.exists()
    assert sum(alice.values_list("backlog_end", flat=True)) == 4
