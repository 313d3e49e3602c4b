"""Demo teams, agents and tickets, loaded through the real ingest path (see ``service.demo``)."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from service import importing, services
from service.models import Agent, Team, Ticket
from vendors.models import Vendor

# --- ingest (issue 4 item 1): teams, agents, ~1,500 tickets over the last three closed months ---

SOURCE = "helpdesk"
HKT = timezone.get_fixed_timezone(8 * 60)

# team code -> (name, vendor code or None, channel weights, agents (id, name))
TEAMS: dict[str, tuple[str, str | None, dict[str, int], list[tuple[str, str]]]] = {
    "hk-email": (
        "E-mail and web care (in-house)",
        None,
        {"email": 60, "web": 40},
        [
            ("hd-101", "Kelvin Ho"),
            ("hd-102", "Winnie Lau Wing Sze"),
            ("hd-103", "Eddie Chan Ka Ming"),
            ("hd-104", "Fiona Wong Hoi Yan"),
            ("hd-105", "Gary Leung Chi Keung"),
            ("hd-106", "Heidi Cheung Mei Ling"),
            ("hd-107", "Ivan Ng Chun Fai"),
        ],
    ),
    "hk-chat": (
        "Chat and WhatsApp (in-house)",
        None,
        {"chat": 50, "whatsapp": 35, "social": 15},
        [
            ("hd-201", "Jacky Lam Tsz Hin"),
            ("hd-202", "Kitty Ho Siu Man"),
            ("hd-203", "Leo Tang Ka Lok"),
            ("hd-204", "Mandy Chow Yee Ching"),
            ("hd-205", "Nelson Tsang Wai Hung"),
            ("hd-206", "Olivia Yeung Sze Wing"),
        ],
    ),
    "harbourcall-hotline": (
        "Harbour Call hotline and chat",
        "harbourcall",
        {"phone": 40, "chat": 30, "email": 30},
        [
            ("hc-301", "Raymond Chow Man Kit"),
            ("hc-302", "Sandy Kwok Hoi Ching"),
            ("hc-303", "Terence Mak Chi Wai"),
            ("hc-304", "Vivian Fung Ka Yan"),
            ("hc-305", "Wilson Lai Kin Ming"),
            ("hc-306", "Yvonne Tam Wing Yee"),
            ("hc-307", "Ada Choi Yan Ting"),
        ],
    ),
}
TEAM_SHARE = {"hk-email": 35, "hk-chat": 35, "harbourcall-hotline": 30}
# Minutes to the first public reply, as (low, high) per team: chat is quick, e-mail slow.
FIRST_REPLY = {"hk-email": (20, 600), "hk-chat": (2, 45), "harbourcall-hotline": (5, 240)}
SUBJECTS = (
    "Where is my order?",
    "Parcel arrived damaged",
    "Refund not received",
    "Change delivery address",
    "Octopus payment failed",
    "Promo code not working",
    "Return a wrong size",
    "Missing item in parcel",
    "Request an official receipt",
    "Cannot log in to my account",
    "SF Express locker pickup expired",
    "Cancel my order",
)
PRIORITIES = {"low": 20, "normal": 55, "high": 20, "urgent": 5}
# How often the helpdesk knows who the customer is: an e-mail or web ticket always carries the
# address; chat and WhatsApp only when the customer signed in; calls when the number is on file.
KNOWN_CUSTOMER = {"email": 1.0, "web": 1.0, "chat": 0.75, "whatsapp": 0.8, "social": 0.5, "phone": 0.6}
# The customer tiers a ticket's tier matches in the customers demo (tickets say "" for standard).
TIER_POOLS = {"": ("standard", "silver"), "gold": ("gold",), "vip": ("vip",)}
TIERS = {"": 60, "gold": 30, "vip": 10}


def _closed_months(today: date, count: int = 3) -> tuple[date, date]:
    """The first day of the earliest of the last COUNT closed months, and the first day of this month."""
    end = today.replace(day=1)
    start = end
    for _ in range(count):
        start = (start - timedelta(days=1)).replace(day=1)
    return start, end


def _pick(rnd: random.Random, weights: dict[str, int]) -> str:
    return rnd.choices(list(weights), weights=list(weights.values()), k=1)[0]


def _opening(rnd: random.Random, start: date, end: date) -> datetime:
    """Mostly 09:00–21:00 Hong Kong time, some in the evening and at night."""
    day = start + timedelta(days=rnd.randrange((end - start).days))
    hour = rnd.randint(9, 20) if rnd.random() < 0.82 else rnd.choice([0, 6, 7, 8, 21, 22, 23])
    local = datetime(day.year, day.month, day.day, hour, rnd.randrange(60), rnd.randrange(60), tzinfo=HKT)
    return local.astimezone(UTC)


def _ticket_rows(rnd: random.Random, number: int, start: date, end: date) -> list[dict[str, Any]]:
    """One realistic conversation as flat rows (see docs/service.md)."""
    team = _pick(rnd, TEAM_SHARE)
    _name, _vendor, channels, agents = TEAMS[team]
    agent_id, agent_name = rnd.choice(agents)
    ticket = {
        "ticket_id": f"HD-{number:06d}",
        "subject": rnd.choice(SUBJECTS),
        "channel": _pick(rnd, channels),
        "priority": _pick(rnd, PRIORITIES),
        "customer_tier": _pick(rnd, TIERS),
        "team": team,
        "agent": agent_id,
        "agent_name": agent_name,
    }
    at = _opening(rnd, start, end)
    rows: list[dict[str, Any]] = []

    def add(kind: str, when: datetime, *, by: str = "", status: str = "") -> None:
        rows.append(
            {
                **ticket,
                "event_id": f"{ticket['ticket_id']}-{len(rows) + 1}",
                "kind": kind,
                "occurred_at": when.isoformat(),
                "event_agent": by,
                "status": status,
            }
        )

    add("created", at)
    add("customer_message", at + timedelta(seconds=rnd.randint(0, 90)))
    if rnd.random() < 0.02:
        add("spam", at + timedelta(minutes=rnd.randint(1, 30)), by=agent_id)
        return rows
    if ticket["channel"] in {"chat", "whatsapp", "web"} and rnd.random() < 0.6:
        add("bot_reply", at + timedelta(minutes=1))
    at += timedelta(minutes=rnd.randint(1, 10))
    add("assigned", at, by=agent_id)
    if rnd.random() < 0.02:
        add("merged", at + timedelta(minutes=rnd.randint(1, 60)), by=agent_id)
        return rows
    if rnd.random() < 0.25:
        add("internal_note", at + timedelta(minutes=rnd.randint(1, 20)), by=agent_id)
    low, high = FIRST_REPLY[team]
    at += timedelta(minutes=rnd.randint(low, high))
    add("agent_reply", at, by=agent_id)
    if rnd.random() < 0.3:
        add("status_change", at + timedelta(minutes=1), by=agent_id, status="pending")
        at += timedelta(hours=rnd.randint(2, 40))
        add("customer_message", at)
        at += timedelta(minutes=rnd.randint(low, high))
        add("agent_reply", at, by=agent_id)
    if rnd.random() < 0.03:
        add("status_change", at + timedelta(minutes=2), by=agent_id, status="on_hold")
        return rows  # still waiting on a supplier
    at += timedelta(minutes=rnd.randint(5, 300))
    add("resolved", at, by=agent_id)
    if rnd.random() < 0.07:
        at += timedelta(hours=rnd.randint(3, 72))
        add("customer_message", at)
        add("reopened", at + timedelta(seconds=30))
        at += timedelta(minutes=rnd.randint(low, high))
        add("agent_reply", at, by=agent_id)
        add("resolved", at + timedelta(minutes=rnd.randint(5, 120)), by=agent_id)
    return rows


@transaction.atomic
def seed_tickets(*, today: date | None = None, count: int = 1500) -> bool:
    """Teams, ~20 agents and COUNT tickets over the last three closed months, through the ingest path.

    Returns False (and does nothing) when the demo tickets are already there.
    """
    if Ticket.objects.filter(source=SOURCE).exists():
        return False
    for code, (name, vendor_code, _channels, _agents) in TEAMS.items():
        if not Team.objects.filter(code=code).exists():
            vendor = Vendor.objects.filter(code=vendor_code).first() if vendor_code else None
            services.team_create(actor=None, code=code, name=name, vendor=vendor)
    start, end = _closed_months(today or timezone.localdate())
    rnd = random.Random(852)  # noqa: S311 (demo data, not security)
    rows = [row for n in range(1, count + 1) for row in _ticket_rows(rnd, n, start, end)]
    lines = [(i, importing.values_from_mapping(row)) for i, row in enumerate(rows, start=1)]
    importing.ingest(lines, actor=None, via="demo", default_source=SOURCE)
    _link_customers(random.Random(7))  # noqa: S311 (demo data, not security)
    agent_user = User.objects.filter(username="cs.agent").first()
    if agent_user is not None:
        Agent.objects.filter(source=SOURCE, external_id="hd-101", user__isnull=True).update(user=agent_user)
    return True


def _link_customers(rnd: random.Random) -> int:
    """Link the demo tickets to customers of the customers demo (``customers.demo_sales``, seeded
    before this package), so that surveys go out after resolution. A ticket's customer has the
    ticket's tier; customers with an unusable e-mail, merged or anonymised ones are left out.
    Returns how many tickets were linked (none without the customers demo)."""
    from customers.demo_sales import DEMO_SOURCE as CUSTOMERS_SOURCE
    from customers.models import Customer

    pools: dict[str, list[int]] = {}
    rows = Customer.objects.filter(
        source=CUSTOMERS_SOURCE, merged_into__isnull=True, anonymised_at__isnull=True, email__contains="@"
    ).exclude(email__contains=" ")
    for pk, tier in rows.order_by("pk").values_list("pk", "tier"):
        pools.setdefault(tier, []).append(pk)
    if not pools:
        return 0
    everyone = [pk for pks in pools.values() for pk in pks]
    by_tier = {
        tier: [c for t in wanted for c in pools.get(t, ())] or everyone for tier, wanted in TIER_POOLS.items()
    }
    links: dict[int, int] = {}
    tickets = (
        Ticket.objects.filter(source=SOURCE).order_by("pk").values_list("pk", "channel", "customer_tier")
    )
    for pk, channel, tier in tickets:
        if rnd.random() >= KNOWN_CUSTOMER.get(channel, 0.5):
            continue
        links[pk] = rnd.choice(by_tier.get(tier, everyone))
    return services.tickets_customers_link(actor=None, links=links)
