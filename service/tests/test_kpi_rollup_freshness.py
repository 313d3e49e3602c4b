# mypy: disable-error-code="arg-type, misc, union-attr, operator, comparison-overlap, index"
"""Issue 4 item 6: the report rollups stay fresh without a manual rebuild.

After a ticket ingest (and the SLA recomputation it triggers) and after an SLA recomputation,
only the days touched are refreshed (``service.rollups.rollups_refresh_days``); no test here calls
``rollups_rebuild``.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from service import reports, tasks
from service.importing import ingest
from service.models import Agent, Ticket
from service.report_models import ServiceDailyRollup, ServiceKpiRules, ServiceMonthlyRollup
from service.rollups import rollups_refresh_days, ticket_days
from service.tests.ingest_helpers import conversation, event, make_teams, numbered

pytestmark = pytest.mark.django_db


def run_ingest(rows, capture):
    with capture(execute=True):
        return ingest(numbered(rows), actor=None, via="test")


def volume_by_agent(user, period):
    report = reports.report(user=user, period=reports.parse_period(period), group_by="agent")
    return {row.label: row.figures["ticket_volume"].value for row in report.rows}, report


def test_an_imported_ticket_shows_up_in_the_report_without_a_rebuild(
    vendor, admin_user, django_capture_on_commit_callbacks
):
    make_teams(vendor)
    assert not ServiceMonthlyRollup.objects.exists()
    run_ingest(conversation("T-1", day="2026-10-05"), django_capture_on_commit_callbacks)
    by_agent, report = volume_by_agent(admin_user, "2026-10")
    assert by_agent == {"Winnie Lau": Decimal(1)}

    run_ingest(conversation("T-2", day="2026-10-06"), django_capture_on_commit_callbacks)
    assert volume_by_agent(admin_user, "2026-10")[0] == {"Winnie Lau": Decimal(2)}
    day, _ = volume_by_agent(admin_user, "2026-10-06..2026-10-06")
    assert day == {"Winnie Lau": Decimal(1)}
    # Only the touched days were written: October 5 and 6, nothing else.
    assert sorted(ServiceDailyRollup.objects.values_list("day", flat=True)) == [
        reports.parse_period("2026-10-05..2026-10-05").start,
        reports.parse_period("2026-10-06..2026-10-06").start,
    ]


def test_a_reassigned_ticket_moves_to_its_new_agent(vendor, admin_user, django_capture_on_commit_callbacks):
    make_teams(vendor)
    run_ingest(conversation("T-1", day="2026-10-05"), django_capture_on_commit_callbacks)
    later = event(
        "T-1",
        "e7",
        "internal_note",
        "2026-10-05T11:00:00",
        agent="a-02",
        agent_name="Kelvin Ho",
        event_agent="a-02",
    )
    run_ingest([later], django_capture_on_commit_callbacks)
    assert volume_by_agent(admin_user, "2026-10")[0] == {"Kelvin Ho": Decimal(1)}


def test_a_ticket_filed_by_resolution_leaves_its_old_month(
    vendor, admin_user, django_capture_on_commit_callbacks
):
    """The ingest refreshes the days a changed ticket was filed on before the change."""
    ServiceKpiRules.objects.create(pk=1, filing=ServiceKpiRules.Filing.RESOLVED)
    make_teams(vendor)
    run_ingest(conversation("T-1", day="2026-09-28"), django_capture_on_commit_callbacks)
    assert volume_by_agent(admin_user, "2026-09")[0] == {"Winnie Lau": Decimal(1)}
    again = [
        event("T-1", "e7", "reopened", "2026-10-02T09:00:00"),
        event("T-1", "e8", "resolved", "2026-10-03T09:00:00", event_agent="a-01"),
    ]
    run_ingest(again, django_capture_on_commit_callbacks)
    september, report = volume_by_agent(admin_user, "2026-09")
    assert september == {"Winnie Lau": Decimal(0)}  # filed in October now; still open at September's end
    assert report.total.figures["backlog"].value == 1
    assert volume_by_agent(admin_user, "2026-10")[0] == {"Winnie Lau": Decimal(1)}


def test_the_sla_recompute_task_refreshes_the_tickets_days(
    vendor, admin_user, django_capture_on_commit_callbacks
):
    make_teams(vendor)
    run_ingest(conversation("T-1", day="2026-10-05"), django_capture_on_commit_callbacks)
    other = Agent.objects.create(source="steward", external_id="a-09", name="Nora Ip")
    Ticket.objects.update(agent=other)  # a change the rollups have not seen yet
    assert volume_by_agent(admin_user, "2026-10")[0] == {"Winnie Lau": Decimal(1)}
    tasks.recompute_sla(list(Ticket.objects.values_list("pk", flat=True)))
    assert volume_by_agent(admin_user, "2026-10")[0] == {"Nora Ip": Decimal(1)}


def test_backlog_follows_an_open_ticket_to_this_month(vendor, admin_user, django_capture_on_commit_callbacks):
    make_teams(vendor)
    rows = conversation("T-1", day="2026-09-28")[:-1]  # never resolved
    run_ingest(rows, django_capture_on_commit_callbacks)
    ticket = Ticket.objects.get()
    assert ticket_days([ticket.pk]) >= {reports.parse_period("2026-09-28..2026-09-28").start}
    report = reports.report(user=admin_user, period=reports.parse_period("2026-10"), group_by="agent")
    assert report.total.figures["backlog"].value == 1  # open at the end of October, filed in September


def test_refreshing_no_days_does_nothing():
    assert rollups_refresh_days([]) is None
