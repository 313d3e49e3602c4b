"""Pages of the service package. Views parse, call a selector or a service, and render.

Topic sections are marked ``# --- <topic> ---``.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import User
from service import forms, selectors, services
from service.api_ingest import error_report
from service.models import Priority, Ticket, TicketChannel

TICKET_PAGE_SIZE = 50

# --- ingest (issue 4 item 1): ticket list and detail, file imports ---


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


def _filters(request: HttpRequest) -> selectors.TicketFilters:
    get = request.GET
    return selectors.TicketFilters(
        period=get.get("period", "") if selectors.month_bounds(get.get("period", "")) else "",
        channel=get.get("channel", "") if get.get("channel") in TicketChannel.values else "",
        priority=get.get("priority", "") if get.get("priority") in Priority.values else "",
        status=get.get("status", "") if get.get("status") in Ticket.Status.values else "",
        team=_int(get.get("team")),
        agent=_int(get.get("agent")),
        vendor=v
        if (v := get.get("vendor", "")) == selectors.IN_HOUSE or (v.isdigit() and len(v) < 19)
        else "",
    )


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Service home: the tickets the user may see, filtered, 50 a page (HTMX swaps the table)."""
    _need(request, "service.view_ticket")
    user = request.user
    page = Paginator(selectors.ticket_list(user=user, filters=_filters(request)), TICKET_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    query = request.GET.copy()
    query.pop("page", None)
    context: dict[str, Any] = {
        "page": page,
        "query": query.urlencode(),
        "channels": TicketChannel.choices,
        "priorities": Priority.choices,
        "statuses": Ticket.Status.choices,
        "teams": list(selectors.team_choices(user=user)),
        "agents": list(selectors.agent_choices(user=user)),
        "vendors": list(selectors.vendor_choices(user=user)),
        "in_house": selectors.IN_HOUSE,
        "can_import": user.has_perm("service.add_importjob"),
    }
    template = "service/tickets_table.html" if request.htmx else "service/tickets_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def ticket_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One ticket: its fields, the stored figures, the events in time order, and its SLA results."""
    ticket = selectors.ticket_get(user=request.user, pk=pk)
    context = {
        "ticket": Ticket.objects.select_related("team", "agent", "vendor").get(pk=ticket.pk),
        "events": selectors.ticket_events(user=request.user, ticket=ticket),
        "sla_results": list(selectors.ticket_sla_results(user=request.user, ticket=ticket)),
    }
    return render(request, "service/tickets_detail.html", context)


@login_required
def imports(request: HttpRequest) -> HttpResponse:
    """Upload a CSV or NDJSON file of ticket events; the list of earlier imports."""
    _need(request, "service.view_importjob")
    form = forms.ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        _need(request, "service.add_importjob")
        if form.is_valid():
            try:
                job = services.import_job_create(
                    actor=cast(User, request.user),
                    upload=form.cleaned_data["file"],
                    mode=form.cleaned_data["mode"],
                    source=form.cleaned_data["source"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, f"“{job.original_name}” is being imported.")
                return redirect("service:import", pk=job.pk)
    jobs = selectors.import_job_list(user=request.user)[:20]
    return render(
        request,
        "service/imports_list.html",
        {"form": form, "jobs": jobs, "can_import": request.user.has_perm("service.add_importjob")},
    )


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An import's progress bar (HTMX polls it until the import ends), counts and refused rows."""
    job = selectors.import_job_get(user=request.user, pk=pk)
    template = "service/imports_progress.html" if request.htmx else "service/imports_detail.html"  # type: ignore[attr-defined]
    return render(request, template, {"job": job, "errors": job.errors[:50]})


@login_required
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The error report: one CSV line per refused row (line, field, message)."""
    return error_report(selectors.import_job_get(user=request.user, pk=pk))
