"""The KPI dashboard shows survey feedback beside the ticket figures, under the same filters (issue 4
item 5: CSAT % and NPS among the service KPIs, with filters by channel, team, agent and vendor)."""

from __future__ import annotations

import re

import pytest

from core.testing.personas import api_call
from core.testing.problems import assert_problem
from service import surveys
from service.models import Ticket
from service.tests.conftest import invite
from service.tests.quality_factories import make_ticket

pytestmark = pytest.mark.django_db
SUMMARY = "/api/v1/service/surveys/summary"


def _answered(channel: str, csat: int) -> Ticket:
    ticket = make_ticket(channel=channel)
    _, token = invite(ticket)
    surveys.survey_answer(token=token, csat=csat, nps=10)
    return ticket


@pytest.fixture
def feedback():
    """October 2026: two chats rated 5 and 4, one e-mail rated 1, one chat invited and unanswered."""
    chat = _answered("chat", 5)
    _answered("chat", 4)
    email = _answered("email", 1)
    invite(make_ticket(channel="chat"))
    return chat, email


def _strip(html: str) -> str:
    match = re.search(r'<h2 id="feedback">.*?</dl>', html, re.S)
    assert match, "no customer-feedback section on the dashboard"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0)))


def test_the_dashboard_shows_feedback_for_the_period_and_filters(client, cs_manager, feedback):
    client.force_login(cs_manager)

    everything = _strip(client.get("/service/reports/", {"period": "2026-10"}).content.decode())
    assert "66.67 % · 3 answers" in everything  # CSAT: 5 and 4 of 5, 4, 1
    assert "75.00 % of 4 invited" in everything

    chats = _strip(client.get("/service/reports/", {"period": "2026-10", "channel": "chat"}).content.decode())
    assert "100.00 % · 2 answers" in chats
    assert "66.67 % of 3 invited" in chats


def test_the_period_box_shows_the_period_the_page_shows(client, cs_manager):
    client.force_login(cs_manager)
    html = client.get("/service/reports/").content.decode()
    heading = re.search(r"Customer-service KPIs · (\S+)</h1>", html)
    assert heading
    assert re.search(rf'name="period"[^>]*value="{re.escape(heading.group(1))}"', html)


def test_a_vendor_portal_user_sees_its_figures_but_no_survey_answers(client, feedback):
    from core.testing.factories import UserFactory, VendorFactory

    portal = UserFactory(roles=["vendor_portal"], vendor=VendorFactory())
    client.force_login(portal)
    response = client.get("/service/reports/", {"period": "2026-10"})
    assert response.status_code == 200  # the dashboard itself is open to them (their own vendor's rows)
    assert 'id="feedback"' not in response.content.decode()


def test_the_summary_api_takes_the_report_filters(client, cs_manager, feedback):
    chat, _email = feedback

    chats = api_call(client, "get", f"{SUMMARY}?month=2026-10&channel=chat", cs_manager).json()
    assert (chats["invited"], chats["responded"], chats["csat_pct"]) == (3, 2, "100.00")

    team = api_call(client, "get", f"{SUMMARY}?month=2026-10&team={chat.team_id}", cs_manager).json()
    assert (team["invited"], team["csat_pct"]) == (1, "100.00")

    in_house = api_call(client, "get", f"{SUMMARY}?month=2026-10&vendor=in-house", cs_manager).json()
    assert in_house["invited"] == 4  # the factory's agents work in-house

    bad = api_call(client, "get", f"{SUMMARY}?month=2026-10&channel=pigeon", cs_manager)
    assert_problem(bad, 422)
    assert "channel" in bad.content.decode()
