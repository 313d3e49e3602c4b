# mypy: disable-error-code="arg-type, misc, union-attr, operator, comparison-overlap, index"
"""Issue 4 item 6: the report (API and page) grouped by agent, team or vendor, in-house staff as
their own row, each row's figures drilling down to exactly the tickets behind them; whole months
read the rollups, a date range by channel reads the stored per-ticket values, with the same figures."""

from __future__ import annotations

import pytest

from core.testing.factories import UserFactory
from core.testing.personas import api_call
from service.rollups import rollups_rebuild
from service.tests.kpi_data import build

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


def volumes(body):
    return {r["label"]: r["figures"]["ticket_volume"]["value"] for r in body["rows"]}


def drilled(client, user, row, figure="ticket_volume"):
    return sorted(t["external_id"] for t in get(client, user, row["figures"][figure]["drilldown"])["items"])


@pytest.mark.parametrize(
    ("group_by", "expected", "drill_row", "drill_tickets"),
    [
        ("agent", {"Alice Chan": "5", "Bob Wong": "2"}, "Bob Wong", ["b1", "b2"]),
        (
            "team",
            {"Hong Kong Island": "5", "Outsourced": "2"},
            "Hong Kong Island",
            ["a1", "a2", "a3", "a4", "a5"],
        ),
        (
            "vendor",
            {"In-house": "5", "Harbour Call Centre Ltd": "2"},
            "In-house",
            ["a1", "a2", "a3", "a4", "a5"],
        ),
    ],
)
def test_api_groups_by_agent_team_or_vendor_and_drills_down(
    client, data, manager, group_by, expected, drill_row, drill_tickets
):
    body = get(client, manager, f"{URL}?period=2026-03&group_by={group_by}")
    assert body["group_by"] == group_by
    assert volumes(body) == expected
    row = next(r for r in body["rows"] if r["label"] == drill_row)
    assert drilled(client, manager, row) == drill_tickets


def test_in_house_is_a_row_of_its_own_with_a_null_key(client, data, manager):
    body = get(client, manager, f"{URL}?period=2026-03&group_by=vendor")
    in_house = next(r for r in body["rows"] if r["label"] == "In-house")
    assert in_house["key"] is None and "key=none" in in_house["figures"]["ticket_volume"]["drilldown"]
    vendor = next(r for r in body["rows"] if r["label"] == "Harbour Call Centre Ltd")
    assert vendor["key"] == str(data.vendor.pk)
    assert drilled(client, manager, vendor) == ["b1", "b2"]


@pytest.mark.parametrize(
    ("group_by", "labels"),
    [
        ("agent", ["Alice Chan", "Bob Wong"]),
        ("team", ["Hong Kong Island", "Outsourced"]),
        ("vendor", ["In-house", "Harbour Call Centre Ltd"]),
    ],
)
def test_page_groups_by_agent_team_or_vendor(client, data, manager, group_by, labels):
    client.force_login(manager)
    html = client.get(f"/service/reports/?period=2026-03&group_by={group_by}").content.decode()
    for label in labels:
        assert label in html
    assert f"SLA attainment by {group_by}" in html
    assert f"group_by={group_by}&amp;key=" in html  # every row's figures drill down


def test_a_date_range_by_channel_reads_the_tickets_with_the_same_figures(client, data, manager):
    month = get(client, manager, f"{URL}?period=2026-03&group_by=channel")
    days = get(client, manager, f"{URL}?period=2026-03-01..2026-03-31&group_by=channel")
    assert volumes(days) == volumes(month)
    for a, b in zip(month["rows"], days["rows"], strict=True):
        for code in ("first_response_mean", "sla_first_response_pct", "one_touch_resolution_pct"):
            assert a["figures"][code]["value"] == b["figures"][code]["value"], code
    email = get(client, manager, f"{URL}?period=2026-03-01..2026-03-31&group_by=vendor&channel=email")
    assert volumes(email) == {"In-house": "4", "Harbour Call Centre Ltd": "2"}  # a2 was a chat
