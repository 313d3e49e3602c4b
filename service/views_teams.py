"""Pages for setting up customer-service teams and agents (issue 4 item 1; rules in ``service.teams``).

The list is for staff who read agents (managers, auditors, agents read-only); creating, changing
and deactivating need the manager's permissions. Vendor portal users never reach these pages: the
set-up decides which vendor a ticket counts for. Views parse, call a selector or a service, render.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from service import forms, selectors, services
from service.models import Agent, Team

AGENT_PAGE_SIZE = 50


def _staff(request: HttpRequest, *perms: str) -> None:
    user = request.user
    if getattr(user, "vendor_id", None) is not None or not all(user.has_perm(p) for p in perms):
        raise PermissionDenied


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError on the form: on the field when the form has it."""
    for name, errors in exc.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@login_required
def team_list(request: HttpRequest) -> HttpResponse:
    """Teams (with their vendor and agent counts) and agents (filtered, 50 a page)."""
    _staff(request, "service.view_team", "service.view_agent")
    get = request.GET
    status = get.get("status", "active")
    vendor = get.get("vendor", "")
    filters = selectors.AgentFilters(
        team=_int(get.get("team")),
        vendor=vendor if vendor == selectors.IN_HOUSE or (vendor.isdigit() and len(vendor) < 19) else "",
        active={"active": True, "inactive": False}.get(status),
        q=get.get("q", "").strip()[:100],
    )
    page = Paginator(selectors.agent_list(user=request.user, filters=filters), AGENT_PAGE_SIZE).get_page(
        get.get("page")
    )
    query = get.copy()
    query.pop("page", None)
    teams = list(selectors.team_list(user=request.user))
    return render(
        request,
        "service/teams_list.html",
        {
            "teams": teams,
            "page": page,
            "query": query.urlencode(),
            "status": status,
            "vendors": list(selectors.employer_choices(user=request.user)),
            "in_house": selectors.IN_HOUSE,
            "can_manage": request.user.has_perm("service.change_agent"),
            "can_add_team": request.user.has_perm("service.add_team"),
            "can_add_agent": request.user.has_perm("service.add_agent"),
            "can_change_team": request.user.has_perm("service.change_team"),
        },
    )


@login_required
def team_create(request: HttpRequest) -> HttpResponse:
    _staff(request, "service.add_team")
    form = forms.TeamForm(request.POST or None, vendors=selectors.employer_choices(user=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Team “{team.name}” set up; files may now name it “{team.code}”.")
            return redirect("service:teams")
    return render(request, "service/team_form.html", {"form": form, "team": None})


@login_required
def team_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request, "service.change_team")
    team = selectors.team_get(user=request.user, pk=pk, action="change")
    form = forms.TeamForm(
        request.POST or None,
        initial={"name": team.name, "vendor": team.vendor_id},
        vendors=selectors.employer_choices(user=request.user),
        editing=True,
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.team_update(actor=_actor(request), team=team, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Team “{form.cleaned_data['name']}” saved.")
            return redirect("service:teams")
    return render(request, "service/team_form.html", {"form": form, "team": team})


@login_required
@require_POST
def team_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (``active=0``) or reactivate a team."""
    _staff(request, "service.change_team")
    team = selectors.team_get(user=request.user, pk=pk, action="change")
    active = request.POST.get("active") == "1"
    try:
        services.team_update(actor=_actor(request), team=team, active=active)
    except ValidationError as exc:
        messages.error(request, f"“{team.name}”: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Team “{team.name}” {'reactivated' if active else 'deactivated'}.")
    return redirect("service:teams")


def _agent_form(request: HttpRequest, agent: Agent | None) -> forms.AgentForm:
    user = request.user
    teams = Team.objects.restrict(user, "view").order_by("name")
    teams = teams.filter(Q(active=True) | Q(pk=agent.team_id)) if agent else teams.filter(active=True)
    logins = selectors.agent_login_choices(user=user)
    if agent is not None:
        logins = logins.filter(Q(service_agent__isnull=True) | Q(service_agent=agent))
    else:
        logins = logins.filter(service_agent__isnull=True)
    initial = (
        {
            "name": agent.name,
            "email": agent.email,
            "team": agent.team_id,
            "vendor": agent.vendor_id,
            "user": agent.user_id,
        }
        if agent
        else {"source": "steward", "team": _int(request.GET.get("team"))}
    )
    return forms.AgentForm(
        request.POST or None,
        initial=initial,
        teams=teams,
        vendors=selectors.employer_choices(user=user),
        logins=logins,
        editing=agent is not None,
    )


@login_required
def agent_create(request: HttpRequest) -> HttpResponse:
    _staff(request, "service.add_agent")
    form = _agent_form(request, None)
    if request.method == "POST" and form.is_valid():
        try:
            agent = services.agent_create(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Agent “{agent.name}” set up.")
            return redirect("service:teams")
    return render(request, "service/agent_form.html", {"form": form, "agent": None})


@login_required
def agent_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _staff(request, "service.change_agent")
    agent = selectors.agent_get(user=request.user, pk=pk, action="change")
    form = _agent_form(request, agent)
    if request.method == "POST" and form.is_valid():
        try:
            services.agent_update(actor=_actor(request), agent=agent, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Agent “{form.cleaned_data['name']}” saved.")
            return redirect("service:teams")
    return render(request, "service/agent_form.html", {"form": form, "agent": agent})


@login_required
@require_POST
def agent_active(request: HttpRequest, pk: int) -> HttpResponse:
    """Deactivate (``active=0``) or reactivate an agent; their tickets keep counting."""
    _staff(request, "service.change_agent")
    agent = selectors.agent_get(user=request.user, pk=pk, action="change")
    active = request.POST.get("active") == "1"
    try:
        services.agent_update(actor=_actor(request), agent=agent, active=active)
    except ValidationError as exc:
        messages.error(request, f"“{agent.name}”: " + " ".join(exc.messages))
    else:
        messages.success(request, f"Agent “{agent.name}” {'reactivated' if active else 'deactivated'}.")
    return redirect("service:teams")
