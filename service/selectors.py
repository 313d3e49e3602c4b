"""Reads of the service package. Every selector takes the acting user and goes through ``restrict``.

Topic sections are marked ``# --- <topic> ---``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from accounts.roles import CS_AGENT
from core.access import get_restricted_or_404
from service.models import Agent, ImportJob, Team, Ticket, TicketEvent, TicketSla
from vendors.models import Vendor

# --- ingest (issue 4 item 1): tickets, their events, import jobs ---

IN_HOUSE = "in-house"
_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class TicketFilters:
    """The filters of the ticket list (page and API). Empty means "any".

    ``period`` is a calendar month ``YYYY-MM`` of the opening time in Hong Kong; ``vendor``
    is a vendor id, or ``in-house`` for tickets handled by Steward's own staff.
    """

    period: str = ""
    channel: str = ""
    priority: str = ""
    status: str = ""
    team: int | None = None
    agent: int | None = None
    vendor: str = ""


def month_bounds(period: str) -> tuple[datetime, datetime] | None:
    """The first instant of the month PERIOD (``YYYY-MM``, Hong Kong time) and of the next one."""
    match = _MONTH.match(period or "")
    if match is None:
        return None
    year, month = int(match.group(1)), int(match.group(2))
    zone = timezone.get_default_timezone()
    start = datetime.combine(datetime(year, month, 1).date(), time(), tzinfo=zone)  # noqa: DTZ001 (date only)
    following = (year + 1, 1) if month == 12 else (year, month + 1)
    end = datetime.combine(datetime(*following, 1).date(), time(), tzinfo=zone)  # noqa: DTZ001 (date only)
    return start, end


def ticket_list(*, user: Any, filters: TicketFilters | None = None) -> QuerySet[Ticket]:
    """Tickets USER may see, newest first, with team, agent and vendor joined (one query a page)."""
    f = filters or TicketFilters()
    tickets = Ticket.objects.restrict(user, "view").select_related("team", "agent", "vendor")
    bounds = month_bounds(f.period)
    if bounds is not None:
        tickets = tickets.filter(opened_at__gte=bounds[0], opened_at__lt=bounds[1])
    for name in ("channel", "priority", "status"):
        value = getattr(f, name)
        if value:
            tickets = tickets.filter(**{name: value})
    if f.team is not None:
        tickets = tickets.filter(team_id=f.team)
    if f.agent is not None:
        tickets = tickets.filter(agent_id=f.agent)
    if f.vendor == IN_HOUSE:
        tickets = tickets.filter(vendor__isnull=True)
    elif f.vendor.isdigit():
        tickets = tickets.filter(vendor_id=int(f.vendor))
    return tickets.order_by("-opened_at", "-id")


def ticket_get(*, user: Any, pk: int) -> Ticket:
    return get_restricted_or_404(Ticket, user=user, pk=pk)


def ticket_events(*, user: Any, ticket: Ticket) -> QuerySet[TicketEvent]:
    """The ticket's events in time order (the order of the source's clock, not of arrival)."""
    return (
        TicketEvent.objects.restrict(user, "view")
        .filter(ticket=ticket)
        .select_related("agent")
        .order_by("occurred_at", "id")
    )


def ticket_sla_results(*, user: Any, ticket: Ticket) -> QuerySet[TicketSla]:
    """The ticket's SLA results per target, when the SLA computation has filled them."""
    return TicketSla.objects.restrict(user, "view").filter(ticket=ticket).order_by("target")


def team_choices(*, user: Any) -> QuerySet[Team]:
    return Team.objects.restrict(user, "view").order_by("name")


def agent_choices(*, user: Any) -> QuerySet[Agent]:
    return Agent.objects.restrict(user, "view").order_by("name").only("id", "name")


def vendor_choices(*, user: Any) -> QuerySet[Vendor]:
    """Vendors that have a customer-service team (the ones tickets can be attributed to)."""
    return (
        Vendor.objects.restrict(user, "view").filter(service_teams__isnull=False).distinct().order_by("name")
    )


def import_job_list(*, user: Any) -> QuerySet[ImportJob]:
    return ImportJob.objects.restrict(user, "view").select_related("created_by")


def import_job_get(*, user: Any, pk: int) -> ImportJob:
    return get_restricted_or_404(ImportJob, user=user, pk=pk)


# --- teams and agents (issue 4 item 1): the set-up page and API ---


@dataclass(frozen=True)
class AgentFilters:
    """The filters of the agent list. ``vendor``: a vendor id or ``in-house``; ``active``: None is both."""

    team: int | None = None
    vendor: str = ""
    active: bool | None = None
    q: str = ""


def team_list(*, user: Any) -> QuerySet[Team]:
    """Teams USER may see, active first, with their vendor and how many (active) agents they hold."""
    return (
        Team.objects.restrict(user, "view")
        .select_related("vendor")
        .annotate(
            agent_count=Count("agents", distinct=True),
            active_agent_count=Count("agents", filter=Q(agents__active=True), distinct=True),
        )
        .order_by("-active", "name", "id")
    )


def team_get(*, user: Any, pk: int, action: str = "view") -> Team:
    return get_restricted_or_404(Team, user=user, action=action, pk=pk)


def agent_list(*, user: Any, filters: AgentFilters | None = None) -> QuerySet[Agent]:
    """Agents USER may see, active first then by name, with team, employer and login joined."""
    f = filters or AgentFilters()
    agents = Agent.objects.restrict(user, "view").select_related("team", "vendor", "user")
    if f.team is not None:
        agents = agents.filter(team_id=f.team)
    if f.vendor == IN_HOUSE:
        agents = agents.filter(vendor__isnull=True)
    elif f.vendor.isdigit():
        agents = agents.filter(vendor_id=int(f.vendor))
    if f.active is not None:
        agents = agents.filter(active=f.active)
    if f.q:
        agents = agents.filter(Q(name__icontains=f.q) | Q(external_id__icontains=f.q))
    return agents.order_by("-active", "name", "id")


def agent_get(*, user: Any, pk: int, action: str = "view") -> Agent:
    return get_restricted_or_404(Agent, user=user, action=action, pk=pk)


def employer_choices(*, user: Any) -> QuerySet[Vendor]:
    """Vendors an agent or a team can be outsourced to: every vendor USER may see."""
    return Vendor.objects.restrict(user, "view").order_by("name")


def agent_login_choices(*, user: Any) -> QuerySet[User]:
    """Logins an agent can be linked to: active staff users holding the customer-service agent role.

    Not through ``restrict(User)``: the CS manager may not browse the user directory, only pick
    among the agents' own logins (username and name shown), which is what the link needs.
    """
    logins: QuerySet[User] = User.objects.filter(is_active=True, vendor__isnull=True, groups__name=CS_AGENT)
    if not user.has_perm("service.change_agent") or getattr(user, "vendor_id", None) is not None:
        return logins.none()
    return logins.order_by("username")
