"""Pages: business calendars (timeframes, Hong Kong holidays, custom and worked days, holiday files),
SLA policies in matching order, and the per-ticket SLA fragment that the ticket page loads with HTMX.

Views parse, call a selector or a service in ``service.sla_services``, and render.
"""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from service import forms_sla as forms
from service import sla_selectors as selectors
from service import sla_services as services
from service.models import CalendarHoliday, Team


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError on the form: on the field when the form has it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if field in form.fields:
            form.add_error(field, errors)
        else:
            form.add_error(None, [e if field == "__all__" else f"{field}: {e}" for e in errors])


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


# --- Calendars ----------------------------------------------------------------------------------------


@login_required
def calendar_list(request: HttpRequest) -> HttpResponse:
    _need(request, "service.view_businesscalendar")
    return render(
        request, "service/sla_calendar_list.html", {"calendars": selectors.calendar_list(user=request.user)}
    )


@login_required
def calendar_create(request: HttpRequest) -> HttpResponse:
    _need(request, "service.add_businesscalendar")
    form = forms.CalendarForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            calendar = services.calendar_create(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Calendar “{calendar.name}” defined.")
            return redirect("service:sla_calendar", pk=calendar.pk)
    return render(request, "service/sla_calendar_form.html", {"form": form, "calendar": None})


@login_required
def calendar_edit(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = selectors.calendar_get(user=request.user, pk=pk, action="change")
    initial = {
        "name": calendar.name,
        "description": calendar.description,
        "time_zone": calendar.time_zone,
        "hk_public_holidays": calendar.hk_public_holidays,
        "effective_from": calendar.effective_from,
        "effective_to": calendar.effective_to,
        "timeframes": forms.timeframes_text(calendar),
    }
    form = forms.CalendarForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        frames = data.pop("timeframes")
        try:
            services.calendar_update(actor=_actor(request), calendar=calendar, timeframes=frames, **data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "Calendar saved; SLA results of its tickets are being recomputed.")
            return redirect("service:sla_calendar", pk=calendar.pk)
    return render(request, "service/sla_calendar_form.html", {"form": form, "calendar": calendar})


@login_required
def calendar_detail(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = selectors.calendar_get(user=request.user, pk=pk)
    try:
        year = int(request.GET.get("year", ""))
    except ValueError:
        year = timezone.localdate().year
    year = min(max(year, 2000), 2100)
    return render(
        request,
        "service/sla_calendar_detail.html",
        {
            "calendar": calendar,
            "year": year,
            "years": [year - 1, year + 1],
            "public": selectors.public_holidays(calendar=calendar, year=year)
            if calendar.hk_public_holidays
            else [],
            "custom": calendar.holidays.filter(kind=CalendarHoliday.Kind.CLOSED),
            "worked": calendar.holidays.filter(kind=CalendarHoliday.Kind.WORKED),
            "policies": calendar.policies.order_by("position"),
            "holiday_form": forms.HolidayForm(),
            "file_form": forms.HolidayFileForm(),
            "can_change": request.user.has_perm(services.MANAGE_CALENDARS),
        },
    )


@login_required
@require_POST
def holiday_add(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = selectors.calendar_get(user=request.user, pk=pk, action="change")
    form = forms.HolidayForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give a date and a name: " + " ".join(str(e) for e in form.errors.values()))
    else:
        try:
            services.holiday_set(actor=_actor(request), calendar=calendar, **form.cleaned_data)
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, f"{form.cleaned_data['day']:%d %b %Y} added.")
    return redirect("service:sla_calendar", pk=calendar.pk)


@login_required
@require_POST
def public_holiday_toggle(request: HttpRequest, pk: int, day: str) -> HttpResponse:
    """Work a Hong Kong public holiday (remove it from this calendar), or close it again."""
    calendar = selectors.calendar_get(user=request.user, pk=pk, action="change")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        messages.error(request, f"“{day}” is not a date.")
        return redirect("service:sla_calendar", pk=calendar.pk)
    worked = calendar.holidays.filter(day=when, kind=CalendarHoliday.Kind.WORKED).first()
    if worked is not None:
        services.holiday_remove(actor=_actor(request), holiday=worked)
        messages.success(request, f"{when:%d %b %Y} is a holiday again.")
    else:
        name = request.POST.get("name", "")[:100] or "Public holiday"
        services.holiday_set(
            actor=_actor(request),
            calendar=calendar,
            day=when,
            name=f"Worked: {name}",
            kind=CalendarHoliday.Kind.WORKED,
        )
        messages.success(request, f"{when:%d %b %Y} is now a working day on this calendar.")
    return redirect(f"{reverse('service:sla_calendar', args=[calendar.pk])}?year={when.year}")


@login_required
@require_POST
def holiday_remove(request: HttpRequest, pk: int, holiday_pk: int) -> HttpResponse:
    calendar = selectors.calendar_get(user=request.user, pk=pk, action="change")
    holiday = selectors.holiday_get(user=request.user, calendar=calendar, pk=holiday_pk)
    services.holiday_remove(actor=_actor(request), holiday=holiday)
    messages.success(request, f"{holiday.day:%d %b %Y} removed.")
    return redirect("service:sla_calendar", pk=calendar.pk)


@login_required
@require_POST
def holiday_import(request: HttpRequest, pk: int) -> HttpResponse:
    calendar = selectors.calendar_get(user=request.user, pk=pk, action="change")
    form = forms.HolidayFileForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a CSV file to import.")
        return redirect("service:sla_calendar", pk=calendar.pk)
    upload = form.cleaned_data["file"]
    try:
        count = services.holidays_import(
            actor=_actor(request), calendar=calendar, content=upload.read(), filename=upload.name
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, f"{count} dates imported from {upload.name}.")
    return redirect("service:sla_calendar", pk=calendar.pk)


# --- Policies -----------------------------------------------------------------------------------------


@login_required
def policy_list(request: HttpRequest) -> HttpResponse:
    """SLA policies in matching order, with the definitions that their results follow."""
    _need(request, "service.view_slapolicy")
    return render(
        request,
        "service/sla_policy_list.html",
        {
            "policies": list(selectors.policy_list(user=request.user)),
            "can_change": request.user.has_perm(services.MANAGE_POLICIES),
            "can_recompute": request.user.has_perm(services.RECOMPUTE),
        },
    )


def _policy_form(request: HttpRequest, initial: dict[str, Any] | None = None) -> forms.PolicyForm:
    return forms.PolicyForm(
        request.POST or None,
        initial=initial,
        calendars=selectors.calendar_list(user=request.user),
        teams=Team.objects.restrict(request.user, "view").order_by("name"),
    )


@login_required
def policy_create(request: HttpRequest) -> HttpResponse:
    _need(request, "service.add_slapolicy")
    form = _policy_form(request)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        teams = list(data.pop("teams"))
        try:
            policy = services.policy_create(actor=_actor(request), teams=teams, **data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Policy “{policy.name}” defined; it is matched last.")
            return redirect("service:sla_policies")
    return render(request, "service/sla_policy_form.html", {"form": form, "policy": None})


@login_required
def policy_edit(request: HttpRequest, pk: int) -> HttpResponse:
    policy = selectors.policy_get(user=request.user, pk=pk, action="change")
    initial = {
        "name": policy.name,
        "description": policy.description,
        "active": policy.active,
        "priorities": policy.priorities,
        "channels": policy.channels,
        "customer_tiers": ", ".join(policy.customer_tiers),
        "teams": list(policy.teams.all()),
        "calendar": policy.calendar,
        "first_response_minutes": policy.first_response_minutes,
        "next_response_minutes": policy.next_response_minutes,
        "resolution_minutes": policy.resolution_minutes,
        "effective_from": policy.effective_from,
        "effective_to": policy.effective_to,
    }
    form = _policy_form(request, initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        teams = list(data.pop("teams"))
        try:
            services.policy_update(actor=_actor(request), policy=policy, teams=teams, **data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Policy “{policy.name}” saved; its tickets are being recomputed.")
            return redirect("service:sla_policies")
    return render(request, "service/sla_policy_form.html", {"form": form, "policy": policy})


@login_required
@require_POST
def policy_move(request: HttpRequest, pk: int) -> HttpResponse:
    """Move a policy one place up or down in the matching order."""
    policy = selectors.policy_get(user=request.user, pk=pk, action="change")
    order = list(selectors.policy_list(user=request.user).values_list("pk", flat=True))
    i = order.index(policy.pk)
    j = i - 1 if request.POST.get("direction") == "up" else i + 1
    if 0 <= j < len(order):
        order[i], order[j] = order[j], order[i]
        services.policies_reorder(actor=_actor(request), order=order)
    return redirect("service:sla_policies")


@login_required
@require_POST
def recompute(request: HttpRequest) -> HttpResponse:
    count = services.sla_recompute(actor=_actor(request))
    messages.success(request, f"SLA results of {count} tickets recomputed.")
    return redirect("service:sla_policies")


# --- The ticket fragment ------------------------------------------------------------------------------


@login_required
def ticket_sla(request: HttpRequest, pk: int) -> HttpResponse:
    """Per-target due time, met/breached and breach time of one ticket: an HTMX fragment for the
    ticket page (``service/sla_results.html``), or a page of its own when opened directly."""
    view = selectors.ticket_sla(user=request.user, pk=pk)
    template = (
        "service/sla_results.html" if getattr(request, "htmx", False) else "service/sla_results_page.html"
    )
    return render(request, template, {"sla": view, "ticket": view.ticket})
