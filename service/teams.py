"""Writes for setting up customer-service teams and agents (issue 4 item 1: "team, agent and the
vendor that employs the agent").

Called by the set-up pages, the API, the demo seed and (for ``team_create``) ``service.services``.
Who may: the customer-service manager (``service.add_team`` / ``change_team`` / ``add_agent`` /
``change_agent``); never a vendor portal user, whatever their permissions say, because the set-up
decides which vendor a ticket counts for. Rules (docs/service.md, "Teams and agents"):

- a team's ``code`` is what helpdesk files name it by: unique, and fixed once set up; its name is
  unique too (case-insensitive), so that reports never show two teams under one name;
- an agent is known by the helpdesk's id (``source``, ``external_id``), unique; two agents of one
  team may not share a name (case-insensitive);
- the vendor that employs an agent defaults to the team's vendor; an outsourced team's agents
  are all that vendor's staff (an in-house team may hold a vendor's seconded staff);
- the linked Steward login (for the agent's own scorecard) is an active staff user with the
  customer-service agent role, linked to no other agent;
- deactivating keeps the record and its tickets (figures keep counting them); a team is
  deactivated only once none of its agents is active.

Changes apply to tickets imported afterwards; tickets already stored keep the team, agent and
vendor they were handled by.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts.models import User
from accounts.roles import CS_AGENT
from core import audit
from core.models import AuditEvent
from service.models import Agent, Team
from vendors.models import Vendor

TEAM_FIELDS = ("name", "vendor", "active")
AGENT_FIELDS = ("name", "email", "team", "vendor", "user", "active")
_UNSET: Any = object()


def _unchanged(before: audit.Snapshot, instance: Team | Agent) -> bool:
    """Nothing to save or audit (personal fields compared by value, not by their redaction)."""
    after = audit.snapshot(instance)
    return after == before and after._personal == before._personal


def _require(actor: Any, perm: str, message: str) -> None:
    """``actor=None`` is the system (the demo seed); a portal user never sets up teams or agents."""
    if actor is None:
        return
    if getattr(actor, "vendor_id", None) is not None or not actor.has_perm(perm):
        raise PermissionDenied(message)


def _clean_text(value: Any, field: str, label: str, limit: int, *, required: bool = True) -> str:
    text = str(value or "").strip()
    if required and not text:
        raise ValidationError({field: f"{label} is required."})
    if len(text) > limit:
        raise ValidationError({field: f"{label}: at most {limit} characters."})
    return text


def _check_team(team: Team) -> None:
    clash = Team.objects.filter(name__iexact=team.name).exclude(pk=team.pk).first()
    if clash is not None:
        raise ValidationError({"name": f"Another team is already called “{clash.name}” (code {clash.code})."})
    if team.vendor_id is not None and not Vendor.objects.filter(pk=team.vendor_id).exists():
        raise ValidationError({"vendor": "Unknown vendor."})


@transaction.atomic
def team_create(*, actor: Any, code: str, name: str, vendor: Vendor | None = None) -> Team:
    """Set up a customer-service team; VENDOR when the whole team is outsourced (its tickets count
    for that vendor). Ingest refuses rows naming a team that is not set up (docs/service.md)."""
    _require(actor, "service.add_team", "Setting up teams needs the customer-service manager role.")
    code = _clean_text(code, "code", "The code", 40)
    if Team.objects.filter(code__iexact=code).exists():
        raise ValidationError({"code": f"A team with the code “{code}” is already set up."})
    team = Team(code=code, name=_clean_text(name, "name", "The name", 120), vendor=vendor)
    team.full_clean()
    _check_team(team)
    team.save()
    audit.record_change(AuditEvent.Action.CREATE, team, actor=actor)
    return team


@transaction.atomic
def team_update(
    *,
    actor: Any,
    team: Team,
    name: str | None = None,
    vendor: Vendor | None = _UNSET,
    active: bool | None = None,
) -> Team:
    """Rename a team, change the vendor it is outsourced to, or (de)activate it. The code stays."""
    _require(actor, "service.change_team", "Changing teams needs the customer-service manager role.")
    team = Team.objects.select_for_update().get(pk=team.pk)
    before = audit.snapshot(team)
    if name is not None:
        team.name = _clean_text(name, "name", "The name", 120)
    if vendor is not _UNSET:
        team.vendor = vendor
    if active is not None:
        if not active and team.active:
            working = Agent.objects.filter(team=team, active=True).count()
            if working:
                raise ValidationError(
                    {"active": f"{working} active agent(s) are still in this team: move or deactivate them."}
                )
        team.active = active
    team.full_clean()
    _check_team(team)
    if _unchanged(before, team):
        return team
    team.save()
    audit.record_change(AuditEvent.Action.UPDATE, team, before=before, actor=actor)
    return team


def _check_agent(agent: Agent) -> None:
    """The rules every agent meets after a create or an update (module docstring)."""
    team = agent.team
    if team is not None:
        if agent.vendor_id is None and team.vendor_id is not None:
            agent.vendor_id = team.vendor_id
        if team.vendor_id is not None and agent.vendor_id != team.vendor_id:
            raise ValidationError(
                {"vendor": f"“{team.name}” is outsourced to {team.vendor}: its agents are that vendor's."}
            )
        if agent.active and not team.active and (agent._state.adding or _team_changed(agent)):
            raise ValidationError({"team": f"“{team.name}” is deactivated: choose an active team."})
        twin = (
            Agent.objects.filter(team=team, name__iexact=agent.name).exclude(pk=agent.pk).only("name").first()
        )
        if twin is not None:
            raise ValidationError(
                {"name": f"“{team.name}” already has an agent called “{twin.name}”: add an initial."}
            )
    if agent.vendor_id is not None and not Vendor.objects.filter(pk=agent.vendor_id).exists():
        raise ValidationError({"vendor": "Unknown vendor."})
    if agent.user_id is not None:
        user = User.objects.filter(pk=agent.user_id).first()
        if user is None or not user.is_active:
            raise ValidationError({"user": "Unknown or inactive user."})
        if user.vendor_id is not None or not user.has_role(CS_AGENT):
            raise ValidationError(
                {"user": f"“{user.username}” is not a customer-service agent (only agents have scorecards)."}
            )
        other = Agent.objects.filter(user_id=user.pk).exclude(pk=agent.pk).only("name").first()
        if other is not None:
            raise ValidationError({"user": f"“{user.username}” is already linked to “{other.name}”."})


def _team_changed(agent: Agent) -> bool:
    return not Agent.objects.filter(pk=agent.pk, team=agent.team).exists()


@transaction.atomic
def agent_create(
    *,
    actor: Any,
    name: str,
    external_id: str,
    source: str = "steward",
    email: str = "",
    team: Team | None = None,
    vendor: Vendor | None = None,
    user: User | None = None,
) -> Agent:
    """Set up an agent before their tickets arrive (imports create unknown agents on their own).

    VENDOR is the employer (empty for in-house staff; the team's vendor when left empty); USER the
    Steward login that sees the agent's own scorecard.
    """
    _require(actor, "service.add_agent", "Setting up agents needs the customer-service manager role.")
    source = _clean_text(source or "steward", "source", "The source", 40)
    external_id = _clean_text(external_id, "external_id", "The helpdesk id", 100)
    if Agent.objects.filter(source=source, external_id=external_id).exists():
        raise ValidationError(
            {"external_id": f"An agent with the id “{external_id}” from “{source}” is already set up."}
        )
    agent = Agent(
        source=source,
        external_id=external_id,
        name=_clean_text(name, "name", "The name", 120),
        email=_clean_text(email, "email", "The e-mail", 254, required=False),
        team=team,
        vendor=vendor,
        user=user,
    )
    _check_agent(agent)
    agent.full_clean()
    agent.save()
    audit.record_change(AuditEvent.Action.CREATE, agent, actor=actor)
    return agent


@transaction.atomic
def agent_update(*, actor: Any, agent: Agent, **changes: Any) -> Agent:
    """Change an agent's name, e-mail, team, employer, linked login, or (de)activate them.

    CHANGES holds only the fields to change (of :data:`AGENT_FIELDS`); the helpdesk id stays.
    """
    _require(actor, "service.change_agent", "Changing agents needs the customer-service manager role.")
    unknown = set(changes) - set(AGENT_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    agent = Agent.objects.select_for_update(of=("self",)).select_related("team").get(pk=agent.pk)
    before = audit.snapshot(agent)
    old_team_vendor = agent.team.vendor_id if agent.team is not None else None
    for name, value in changes.items():
        if name == "name":
            value = _clean_text(value, "name", "The name", 120)
        elif name == "email":
            value = _clean_text(value, "email", "The e-mail", 254, required=False)
        setattr(agent, name, value)
    if "team" in changes and "vendor" not in changes:
        # Moving to an outsourced team moves to its vendor; leaving one for an in-house team makes
        # the agent in-house, unless they were employed by another vendor all along (seconded).
        new_team_vendor = agent.team.vendor_id if agent.team is not None else None
        if new_team_vendor is not None or agent.vendor_id == old_team_vendor:
            agent.vendor_id = new_team_vendor
    _check_agent(agent)
    agent.full_clean()
    if _unchanged(before, agent):
        return agent
    agent.save()
    audit.record_change(AuditEvent.Action.UPDATE, agent, before=before, actor=actor)
    return agent
