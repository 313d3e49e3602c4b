# mypy: disable-error-code="arg-type, misc, union-attr, operator, comparison-overlap, index"
"""The report API and pages: figures, drill-down, query counts, exports, isolation, bad input."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.testing.factories import UserFactory
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from service.models import Agent, Ticket
from service.report_models import ServiceKpiRules
from service.rollups import rollups_rebuild
from service.tests.kpi_data import build, ticket

pytestmark = pytest.mark.django_db
URL = "/api/v1/service/reports/kpis"


@pytest.fixture
def data(vendor):
    built = build(vendor)
    rollups_rebuild()
    return built


@pytest.fixture
def manager():
    return UserFactory(username="carmen", roles=["cs_manager"])


def get(client, user, url):
    response = api_call(client, "GET", url, user)
    assert response.status_code == 200, response.content
    return response.json()


def test_report_by_agent_with_definitions_and_drilldown_links(client, data, manager):
    body = get(client, manager, URL + "?period=2026-03&group_by=agent")
    alice = next(r for r in body["rows"] if r["label"] == "Alice Chan")
    assert alice["figures"]["ticket_volume"]["value"] == "5"
    assert alice["figures"]["sla_first_response_pct"]["value"] == "66.67"
    assert alice["figures"]["backlog"]["value"] == "4"
    assert body["total"]["figures"]["backlog"]["value"] == "6"  # and Bob's two open tickets
    assert "assigned when the ticket was resolved" in body["rules"]
    assert {d["code"] for d in body["definitions"]} >= {"one_touch_resolution_pct", "first_response_median"}
    one_touch = next(d for d in body["definitions"] if d["code"] == "one_touch_resolution_pct")
    assert "exactly one public agent reply" in one_touch["definition"]
    # Drill into Alice's breached first-response SLA: exactly a3.
    link = alice["figures"]["sla_first_response_pct"]["drilldown"]
    assert parse_qs(urlparse(link).query)["outcome"] == ["breached"]
    tickets = get(client, manager, link)["items"]
    assert [t["external_id"] for t in tickets] == ["a3"]
    volume = get(client, manager, alice["figures"]["ticket_volume"]["drilldown"])
    assert volume["count"] == 5 and "merged" not in {t["external_id"] for t in volume["items"]}


def test_in_house_versus_vendor(client, data, manager):
    body = get(client, manager, URL + "?period=2026-03&group_by=team")
    assert [(v["label"], v["figures"]["ticket_volume"]["value"]) for v in body["vendors"]] == [
        ("In-house", "5"),
        ("Harbour Call Centre Ltd", "2"),
    ]


def test_query_count_does_not_grow_with_agents(client, data, manager, vendor):
    def count():
        with CaptureQueriesContext(connection) as queries:
            get(client, manager, URL + "?period=2026-03&group_by=agent")
        return len(queries)

    before = count()
    for i in range(15):
        agent = Agent.objects.create(external_id=f"extra{i}", name=f"Extra {i}", team=data.island)
        ticket(agent, f"x{i}", first_response_business_minutes=i)
    rollups_rebuild()
    assert count() == before


def test_bad_period_group_and_filters_are_problems(client, data, manager):
    for query, field in (
        ("period=March", "period"),
        ("group_by=customer", "group_by"),
        ("channel=fax", "channel"),
        ("agent=abc", "agent"),
    ):
        response = api_call(client, "GET", f"{URL}?{query}", manager)
        body = assert_problem(response, 422, kind="rule")
        assert field in {e["field"] for e in body["errors"]}
    assert_problem(
        api_call(client, "GET", "/api/v1/service/reports/drilldown?figure=nope&period=2026-03", manager), 422
    )


def test_portal_user_sees_only_their_vendor(client, data, portal_user, outsider, no_role_user):
    body = get(client, portal_user, URL + "?period=2026-03&group_by=agent")
    assert [r["label"] for r in body["rows"]] == ["Bob Wong"]
    assert body["total"]["figures"]["ticket_volume"]["value"] == "2"
    assert [v["label"] for v in body["vendors"]] == ["Harbour Call Centre Ltd"]
    alice_drill = (
        "/api/v1/service/reports/drilldown?figure=ticket_volume&period=2026-03"
        f"&group_by=agent&key={data.alice.pk}"
    )
    assert get(client, portal_user, alice_drill)["count"] == 0
    other = get(client, outsider, URL + "?period=2026-03&group_by=agent")
    assert other["rows"] == [] and other["total"]["figures"]["ticket_volume"]["value"] == "0"
    assert_outsider_blocked(client, no_role_user, "GET", URL + "?period=2026-03", secrets=("Alice Chan",))
    assert_outsider_blocked(client, outsider, "GET", alice_drill, secrets=("a1",))
    page = client.get("/service/reports/?period=2026-03")
    assert page.status_code == 302  # not signed in


def test_exports_neutralise_formula_injection(client, data, manager):
    Agent.objects.filter(pk=data.alice.pk).update(name='=HYPERLINK("http://evil")')
    rollups_rebuild()
    response = api_call(
        client, "GET", "/api/v1/service/reports/kpis/export?period=2026-03&format=csv", manager
    )
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    names = [r[0] for r in rows if r]
    assert '\'=HYPERLINK("http://evil")' in names and '=HYPERLINK("http://evil")' not in names
    for fmt, magic in (("xlsx", b"PK"), ("pdf", b"%PDF")):
        response = api_call(
            client, "GET", f"/api/v1/service/reports/kpis/export?period=2026-03&format={fmt}", manager
        )
        assert response.status_code == 200 and response.content.startswith(magic)
    from openpyxl import load_workbook

    book = load_workbook(
        io.BytesIO(
            api_call(
                client, "GET", "/api/v1/service/reports/kpis/export?period=2026-03&format=xlsx", manager
            ).content
        )
    )
    assert book["Figures"]["A2"].value.startswith("'=")


def test_rules_change_rebuilds_and_is_refused_to_others(
    client, data, manager, auditor, django_capture_on_commit_callbacks
):
    url = "/api/v1/service/kpi-rules"
    auditor_auth, manager_auth = bearer(auditor), bearer(manager)
    with nothing_written(ServiceKpiRules):
        body = json.dumps({"attribution": "touched", "filing": "created"})
        assert_problem(client.put(url, body, content_type="application/json", **auditor_auth), 403)
        body = json.dumps({"attribution": "everyone", "filing": "created"})
        assert_problem(client.put(url, body, content_type="application/json", **manager_auth), 422)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_call(client, "PUT", url, manager, {"attribution": "assignee", "filing": "resolved"})
    assert response.status_code == 200 and "last resolved" in response.json()["statement"]
    body = get(client, manager, URL + "?period=2026-03&group_by=agent")
    alice = next(r for r in body["rows"] if r["label"] == "Alice Chan")
    assert alice["figures"]["ticket_volume"]["value"] == "2"  # a1 and a3 resolved in March


def test_dashboard_page_shows_figures_definitions_and_charts(client, data, manager):
    client.force_login(manager)
    response = client.get("/service/reports/?period=2026-03&group_by=team")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Hong Kong Island" in html and "In-house" in html and "<svg" in html
    assert "exactly one public agent reply" in html
    drill = client.get(
        f"/service/reports/drilldown/?figure=sla_first_response_pct&period=2026-03&group_by=team&key={data.island.pk}&outcome=breached"
    )
    assert (
        drill.status_code == 200 and "#a3" in drill.content.decode() and "#a1 " not in drill.content.decode()
    )
    bad = client.get("/service/reports/drilldown/?figure=nope&period=2026-03")
    assert bad.status_code == 400
    for fmt in ("csv", "xlsx", "pdf"):
        assert client.get(f"/service/reports/export/{fmt}/?period=2026-03").status_code == 200


def test_dashboard_query_count_is_flat(client, data, manager):
    client.force_login(manager)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/service/reports/?period=2026-03&group_by=agent").status_code == 200
        return len(queries)

    before = count()
    for i in range(10):
        agent = Agent.objects.create(external_id=f"more{i}", name=f"More {i}", team=data.island)
        ticket(agent, f"m{i}", first_response_business_minutes=i)
    rollups_rebuild()
    assert count() == before


def test_monthly_report_is_emailed_to_managers(data, manager, mailoutbox):
    from datetime import date

    from service.report_services import monthly_report_send

    assert monthly_report_send(today=date(2026, 4, 3)) == 1
    message = mailoutbox[0]
    assert message.to == [manager.email] and "2026-03" in message.subject
    assert "Volume: 7" in message.body
    assert {a[0] for a in message.attachments} == {"service-kpis-2026-03.pdf", "service-kpis-2026-03.csv"}


def test_rebuild_command(data, capsys):
    from django.core.management import call_command

    Ticket.objects.filter(external_id="b2").update(is_spam=True)
    call_command("rebuild_service_rollups", "--from", "2026-03-01", "--to", "2026-04-01")
    assert "daily rows" in capsys.readouterr().out


def test_portal_users_do_not_export_files(client, data, portal_user):
    response = api_call(
        client, "GET", "/api/v1/service/reports/kpis/export?period=2026-03&format=csv", portal_user
    )
    assert_problem(response, 403)
    client.force_login(portal_user)
    assert client.get("/service/reports/export/csv/?period=2026-03").status_code == 403
    assert "Bob Wong" in client.get("/service/reports/?period=2026-03").content.decode()
