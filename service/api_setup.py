"""API for setting up customer-service teams and agents (issue 4 item 1; rules in ``service.teams``).

Endpoints parse, resolve ids through ``restrict`` (an id the caller may not see is an unknown id),
call ``service.services`` and render. Unknown vendors, teams and logins are 422 errors naming the
field; the writes need the customer-service manager's permissions and never a portal user's.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from core.api import InputSchema, ObjectId, actor, paginate
from service import selectors, services
from service.models import Agent, Team
from vendors.models import Vendor

router = Router(tags=["service"])

# Service rules name model fields; the API's clients know them by these names.
_API_FIELDS = {"vendor": "vendor_id", "team": "team_id", "user": "user_id"}


def _need(request: HttpRequest, perm: str, message: str) -> None:
    """Refuse before resolving any id, so an outsider learns nothing from "unknown vendor"."""
    user = request.user
    if getattr(user, "vendor_id", None) is not None or not user.has_perm(perm):
        raise PermissionDenied(message)


def _renamed(exc: ValidationError) -> ValidationError:
    if not hasattr(exc, "error_dict"):
        return exc
    return ValidationError({_API_FIELDS.get(name, name): errors for name, errors in exc.message_dict.items()})


def _vendor(request: HttpRequest, vendor_id: int | None) -> Vendor | None:
    if vendor_id is None:
        return None
    vendor = selectors.employer_choices(user=request.user).filter(pk=vendor_id).first()
    if vendor is None:
        raise ValidationError({"vendor_id": f"Unknown vendor {vendor_id}."})
    return vendor


def _team(request: HttpRequest, team_id: int | None) -> Team | None:
    if team_id is None:
        return None
    team = Team.objects.restrict(request.user, "view").filter(pk=team_id).first()
    if team is None:
        raise ValidationError({"team_id": f"Unknown team {team_id}."})
    return team


def _login(request: HttpRequest, user_id: int | None) -> Any:
    if user_id is None:
        return None
    user = selectors.agent_login_choices(user=request.user).filter(pk=user_id).first()
    if user is None:
        raise ValidationError({"user_id": f"No active customer-service agent login has the id {user_id}."})
    return user


def _call(function: Any, **kwargs: Any) -> Any:
    try:
        return function(**kwargs)
    except ValidationError as exc:
        raise _renamed(exc) from exc


# --- Teams ---------------------------------------------------------------------------------------


class TeamIn(InputSchema):
    code: str = Field(..., min_length=1, max_length=40, pattern=r"^[-a-zA-Z0-9_]+$")
    name: str = Field(..., min_length=1, max_length=120)
    vendor_id: ObjectId | None = Field(None, description="The vendor when the whole team is outsourced.")


class TeamPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    vendor_id: ObjectId | None = Field(None, description="null: in-house. Applies to agents created later.")
    active: bool | None = Field(None, description="false deactivates (refused while it has active agents).")


class TeamOut(Schema):
    id: int
    code: str
    name: str
    vendor_id: int | None
    active: bool
    active_agent_count: int
    agent_count: int


class TeamQuery(Schema):
    active: bool | None = Field(None, description="Only active (true) or deactivated (false) teams.")


def _team_out(request: HttpRequest, pk: int) -> Team:
    return selectors.team_list(user=request.user).get(pk=pk)


@router.get("/teams", response=list[TeamOut], summary="Customer-service teams you may see")
@paginate
def team_list(request: HttpRequest, filters: Query[TeamQuery]):  # type: ignore[no-untyped-def]
    teams = selectors.team_list(user=request.user)
    return teams if filters.active is None else teams.filter(active=filters.active)


@router.post(
    "/teams",
    response={201: TeamOut},
    summary="Set up a team (imports refuse rows naming a team that is not set up)",
)
def team_create(request: HttpRequest, payload: TeamIn) -> Status[Team]:
    _need(request, "service.add_team", "Setting up teams needs the customer-service manager role.")
    team = _call(
        services.team_create,
        actor=actor(request),
        code=payload.code,
        name=payload.name,
        vendor=_vendor(request, payload.vendor_id),
    )
    return Status(201, _team_out(request, team.pk))


@router.get("/teams/{team_id}", response=TeamOut, summary="One team")
def team_detail(request: HttpRequest, team_id: ObjectId) -> Team:
    selectors.team_get(user=request.user, pk=team_id)
    return _team_out(request, team_id)


@router.patch(
    "/teams/{team_id}", response=TeamOut, summary="Rename a team, change its vendor, or (de)activate it"
)
def team_update(request: HttpRequest, team_id: ObjectId, payload: TeamPatch) -> Team:
    _need(request, "service.change_team", "Changing teams needs the customer-service manager role.")
    team = selectors.team_get(user=request.user, pk=team_id, action="change")
    changes: dict[str, Any] = {}
    sent = payload.model_fields_set
    if "name" in sent and payload.name is not None:
        changes["name"] = payload.name
    if "vendor_id" in sent:
        changes["vendor"] = _vendor(request, payload.vendor_id)
    if "active" in sent and payload.active is not None:
        changes["active"] = payload.active
    _call(services.team_update, actor=actor(request), team=team, **changes)
    return _team_out(request, team_id)


# --- Agents --------------------------------------------------------------------------------------


class AgentIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    source: str = Field("steward", min_length=1, max_length=40, pattern=r"^[-a-z0-9_.]+$")
    external_id: str = Field(..., min_length=1, max_length=100, description="The agent's id in the helpdesk.")
    email: str = Field("", max_length=254)
    team_id: ObjectId | None = None
    vendor_id: ObjectId | None = Field(
        None, description="The employer; null: in-house, or the team's vendor for an outsourced team."
    )
    user_id: ObjectId | None = Field(None, description="A customer-service agent's Steward login.")


class AgentPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    email: str | None = Field(None, max_length=254)
    team_id: ObjectId | None = None
    vendor_id: ObjectId | None = None
    user_id: ObjectId | None = None
    active: bool | None = None


class AgentOut(Schema):
    id: int
    source: str
    external_id: str
    name: str
    email: str
    team_id: int | None
    vendor_id: int | None
    user_id: int | None
    active: bool

    # The work e-mail and the linked login are for the managers who set them, not for every reader.
    @staticmethod
    def resolve_email(obj: Agent, context: dict[str, Any]) -> str:
        return obj.email if _manages(context) else ""

    @staticmethod
    def resolve_user_id(obj: Agent, context: dict[str, Any]) -> int | None:
        return obj.user_id if _manages(context) else None


def _manages(context: dict[str, Any]) -> bool:
    user = context["request"].user
    return getattr(user, "vendor_id", None) is None and bool(user.has_perm("service.change_agent"))


class AgentQuery(Schema):
    team: ObjectId | None = None
    vendor: str = Field("", pattern=r"^(\d{1,18}|in-house)?$", description="A vendor id, or in-house.")
    active: bool | None = None
    q: str = Field("", max_length=100, description="Part of the name or helpdesk id.")


@router.get("/agents", response=list[AgentOut], summary="Customer-service agents you may see")
@paginate
def agent_list(request: HttpRequest, filters: Query[AgentQuery]):  # type: ignore[no-untyped-def]
    return selectors.agent_list(
        user=request.user,
        filters=selectors.AgentFilters(
            team=filters.team, vendor=filters.vendor, active=filters.active, q=filters.q.strip()
        ),
    )


@router.post("/agents", response={201: AgentOut}, summary="Set up an agent (employer, team, login)")
def agent_create(request: HttpRequest, payload: AgentIn) -> Status[Agent]:
    _need(request, "service.add_agent", "Setting up agents needs the customer-service manager role.")
    agent = _call(
        services.agent_create,
        actor=actor(request),
        name=payload.name,
        source=payload.source,
        external_id=payload.external_id,
        email=payload.email,
        team=_team(request, payload.team_id),
        vendor=_vendor(request, payload.vendor_id),
        user=_login(request, payload.user_id),
    )
    return Status(201, agent)


@router.get("/agents/{agent_id}", response=AgentOut, summary="One agent")
def agent_detail(request: HttpRequest, agent_id: ObjectId) -> Agent:
    return selectors.agent_get(user=request.user, pk=agent_id)


@router.patch(
    "/agents/{agent_id}",
    response=AgentOut,
    summary="Change an agent's name, e-mail, team, employer or login, or (de)activate them",
)
def agent_update(request: HttpRequest, agent_id: ObjectId, payload: AgentPatch) -> Agent:
    _need(request, "service.change_agent", "Changing agents needs the customer-service manager role.")
    agent = selectors.agent_get(user=request.user, pk=agent_id, action="change")
    sent = payload.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("name", "email", "active"):
        value = getattr(payload, name)
        if name in sent and value is not None:
            changes[name] = value
    if "team_id" in sent:
        changes["team"] = _team(request, payload.team_id)
    if "vendor_id" in sent:
        changes["vendor"] = _vendor(request, payload.vendor_id)
    if "user_id" in sent:
        changes["user"] = _login(request, payload.user_id)
    return _call(services.agent_update, actor=actor(request), agent=agent, **changes)  # type: ignore[no-any-return]
