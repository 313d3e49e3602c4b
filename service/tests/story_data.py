# mypy: disable-error-code="arg-type"
"""The data of the issue-4 done-when story (browser and API): a helpdesk export over March 2026 with
in-house staff and two vendors' agents, an SLA policy to judge it by, and a benchmark file.

Set-up goes through the services, as a manager would have done it before the story starts.
"""

from __future__ import annotations

from typing import Any

from core.testing.factories import UserFactory, VendorFactory
from service import services
from service.tests.ingest_helpers import as_csv, conversation, event
from service.tests.sla_helpers import office_calendar, policy

PERIOD = "2026-03"
IN_HOUSE, HARBOUR, KOWLOON = "hk-email", "harbourcall-hotline", "kowloon-chat"


def set_up() -> dict[str, Any]:
    """Vendors, teams, the agent Kelvin Ho with his login, and the SLA policy (first response 60,
    next response 120, resolution 240 business minutes on weekdays 09:00–18:00)."""
    manager = UserFactory(username="mandy", roles=["cs_manager"], first_name="Mandy", last_name="Lau")
    kelvin_login = UserFactory(username="kelvin", roles=["cs_agent"], first_name="Kelvin", last_name="Ho")
    harbour = VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")
    kowloon = VendorFactory(code="kowloon-digital", name="Kowloon Digital Marketing Co.")
    in_house = services.team_create(actor=manager, code=IN_HOUSE, name="E-mail care (in-house)")
    services.team_create(actor=manager, code=HARBOUR, name="Harbour Call hotline", vendor=harbour)
    services.team_create(actor=manager, code=KOWLOON, name="Kowloon chat", vendor=kowloon)
    kelvin = services.agent_create(
        actor=manager,
        name="Kelvin Ho",
        source="helpdesk",
        external_id="hd-101",
        team=in_house,
        user=kelvin_login,
    )
    policy(office_calendar(), "Standard", targets=(60, 120, 240))
    return {"manager": manager, "kelvin": kelvin, "harbour": harbour, "kowloon": kowloon}


def _late(ticket: str, day: str, **fields: Any) -> list[dict[str, Any]]:
    """A ticket answered 3½ business hours after it came in: its first response breaches."""
    who = fields["agent"]
    return [
        event(ticket, "e1", "created", f"{day}T09:00:00", **fields),
        event(ticket, "e2", "customer_message", f"{day}T09:00:30", **fields),
        event(ticket, "e3", "agent_reply", f"{day}T12:30:00", event_agent=who, **fields),
        event(ticket, "e4", "resolved", f"{day}T12:50:00", event_agent=who, **fields),
    ]


def export_csv() -> bytes:
    """Six tickets in March 2026, two per team; one late first reply in-house and one at Harbour Call."""

    def who(team: str, agent: str, name: str) -> dict[str, Any]:
        return {"source": "helpdesk", "team": team, "agent": agent, "agent_name": name}

    kelvin = who(IN_HOUSE, "hd-101", "Kelvin Ho")
    harbour = who(HARBOUR, "hc-301", "Raymond Chow")
    kowloon = who(KOWLOON, "kd-401", "Gigi Tang")
    rows = [
        *conversation("HD-1", "2026-03-03", **kelvin),
        *_late("HD-2", "2026-03-04", **kelvin),
        *conversation("HC-1", "2026-03-05", **harbour),
        *_late("HC-2", "2026-03-06", **harbour),
        *conversation("KD-1", "2026-03-09", **kowloon),
        *conversation("KD-2", "2026-03-10", **kowloon),
    ]
    return as_csv(rows)


BENCHMARKS_CSV = (
    b"source,source_url,period_start,period_end,industry,measure_code,statistic,time_basis,unit,definition,value,"
    b"illustrative\n"
    b"HK Contact Centre Survey 2026,,2026-01-01,2026-12-31,E-commerce,first_response_median,median,business,"
    b"minutes,Median business minutes from creation to the first public human reply,30,false\n"
    b"Asia Service Report 2026,,2026-01-01,2026-12-31,Retail,first_response_median,mean,calendar,minutes,"
    b"Mean calendar minutes to first reply,90,false\n"
)
