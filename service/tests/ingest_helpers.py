"""Shared helpers of the ingest tests: teams, agents and flat event rows."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from service.importing import FIELDS
from service.models import Team

HKT = "+08:00"


def make_teams(vendor: Any) -> tuple[Team, Team]:
    in_house = Team.objects.create(code="hk-email", name="E-mail and web (in-house)")
    outsourced = Team.objects.create(code="harbourcall-hotline", name="Harbour Call hotline", vendor=vendor)
    return in_house, outsourced


def event(ticket: str, event_id: str, kind: str, at: str, **fields: Any) -> dict[str, Any]:
    """One flat row: ticket T's event EVENT_ID of KIND at AT (Hong Kong time unless AT has a zone)."""
    when = at if ("+" in at[10:] or at.endswith("Z")) else f"{at}{HKT}"
    row = {"ticket_id": ticket, "event_id": event_id, "kind": kind, "occurred_at": when}
    row.setdefault("subject", f"Order {ticket} arrived damaged")
    row.setdefault("channel", "email")
    row.setdefault("priority", "normal")
    row.setdefault("team", "hk-email")
    row.setdefault("agent", "a-01")
    row.setdefault("agent_name", "Winnie Lau")
    row.update(fields)
    return row


def conversation(ticket: str = "T-1", day: str = "2026-10-05", **fields: Any) -> list[dict[str, Any]]:
    """A typical ticket: created, customer message, bot reply, internal note, agent reply, resolved."""
    who = fields.get("agent", "a-01")
    return [
        event(ticket, "e1", "created", f"{day}T09:00:00", **fields),
        event(ticket, "e2", "customer_message", f"{day}T09:00:30", **fields),
        event(ticket, "e3", "bot_reply", f"{day}T09:01:00", **fields),
        event(ticket, "e4", "internal_note", f"{day}T09:20:00", event_agent=who, **fields),
        event(ticket, "e5", "agent_reply", f"{day}T09:45:00", event_agent=who, **fields),
        event(ticket, "e6", "resolved", f"{day}T10:30:00", event_agent=who, **fields),
    ]


def numbered(rows: list[dict[str, Any]]) -> list[tuple[int, list[Any]]]:
    """ROWS as the readers give them: (line, values in FIELDS order), lines from 2 as in a CSV."""
    return [(i, [row.get(name) for name in FIELDS]) for i, row in enumerate(rows, start=2)]


def as_csv(rows: list[dict[str, Any]], columns: tuple[str, ...] = FIELDS) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def as_ndjson(rows: list[dict[str, Any]]) -> bytes:
    return "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")


def call(client: Any, method: str, url: str, headers: dict[str, str], body: Any = None) -> Any:
    """An API call with HEADERS made beforehand (``bearer(user)``), so that making the token is
    not counted inside a ``nothing_written`` block."""
    kwargs: dict[str, Any] = {"content_type": "application/json", **headers}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    return getattr(client, method.lower())(url, **kwargs)
