"""Vendor pages: the register, a vendor's page (lifecycle, services, risk, contacts, documents,
contracts, liaison, requests), contracts and their versions, the obligation calendar, renewals,
liaison entries, and the vendor portal.

Views parse, call a selector or a service, and render; nothing here decides a rule. Every object
is fetched through ``restrict`` (another vendor's id is a 404, and the attempt is audited).
"""

from __future__ import annotations

import csv
from datetime import date, timedelta
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from core import audit
from core.models import AuditEvent
from kpis.models import KpiDefinition
from vendors import forms, selectors, services
from vendors.models import (
    ActionItem,
    ContractVersion,
    ObligationInstance,
    Party,
    ServiceCategory,
    UpdateRequest,
    Vendor,
)
from vendors.paging import Window

CALENDAR_PAGE_SIZE = 50
VENDOR_PAGE_SIZE = 50
RENEWALS_PAGE_SIZE = 50


def _actor(request: HttpRequest) -> User:
    """The signed-in user (every view here is behind login_required)."""
    return cast(User, request.user)


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _errors(form: Any, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form: on the field when the form has it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        if field in form.fields:
            form.add_error(field, errors)
        else:
            form.add_error(
                None, [e if field == "__all__" else f"{field.replace('_', ' ')}: {e}" for e in errors]
            )


def _flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- The register ---------------------------------------------------------------------------------


@login_required
def vendor_list(request: HttpRequest) -> HttpResponse:
    """The vendor register with search and filters (HTMX replaces the rows as the user types)."""
    if _actor(request).is_portal_user:
        return redirect("vendors:portal")
    _need(request, "vendors.view_vendor")
    status = request.GET.get("status", "")
    category = request.GET.get("category", "")
    vendors = selectors.vendor_list(
        user=request.user,
        search=request.GET.get("q", "")[:100],
        status=status if status in Vendor.Status.values else "",
        category=category if category in ServiceCategory.values else "",
    )
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "vendors": Window(vendors, request.GET.get("page"), VENDOR_PAGE_SIZE),
        "query": query.urlencode(),
        "statuses": Vendor.Status.choices,
        "categories": ServiceCategory.choices,
        "can_add": request.user.has_perm("vendors.add_vendor"),
    }
    template = "vendors/_vendor_rows.html" if request.htmx else "vendors/vendor_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def vendor_create(request: HttpRequest) -> HttpResponse:
    _need(request, "vendors.add_vendor")
    form = forms.VendorForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        specs = (
            [services.ServiceSpec(data["category"], data["service_model"])] if data.get("category") else []
        )
        try:
            vendor = services.vendor_create(
                actor=_actor(request),
                code=data["code"],
                name=data["name"],
                status=data["status"],
                services=specs,
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Vendor “{vendor.name}” registered.")
            return redirect("vendors:detail", pk=vendor.pk)
    return render(request, "vendors/vendor_form.html", {"form": form})


@login_required
def vendor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Everything about one vendor, each section through ``restrict``."""
    user = request.user
    vendor = selectors.vendor_get(user=user, pk=pk)
    if _actor(request).is_portal_user:
        return redirect("vendors:portal")
    documents = selectors.documents(user=user, vendor=vendor)
    context = {
        "vendor": vendor,
        "services": vendor.services.all(),
        "history": selectors.status_history(user=user, vendor=vendor)[:20],
        "assessments": selectors.risk_assessments(user=user, vendor=vendor)[:10],
        "contacts": selectors.contacts(user=user, vendor=vendor),
        "documents": documents,
        "contracts": selectors.contract_list(user=user, vendor=vendor),
        "liaison": selectors.liaison_list(user=user, vendor=vendor)[:10],
        "requests": selectors.update_requests(user=user, vendor=vendor)[:20],
        "actions": selectors.action_items(user=user, vendor=vendor, open_only=True)[:20],
        "flows": selectors.data_flows(user=user, vendor=vendor),
        "status_form": forms.StatusForm(vendor=vendor),
        "service_form": forms.ServiceForm(),
        "contact_form": forms.ContactForm(),
        "document_form": forms.DocumentForm(documents=documents),
        "request_form": forms.UpdateRequestForm(
            initial={"due_on": timezone.localdate() + timedelta(days=14)}
        ),
        "can_change": user.has_perm("vendors.change_vendor"),
        "today": timezone.localdate(),
    }
    from vendors import views_cooperation  # v1: interfaces, staff, reviews… (imports this module)

    context.update(views_cooperation.vendor_sections(request, vendor))
    # Prequalification against the partner-selection criteria (proposals, issue 6 item 1).
    from proposals.models import Prequalification

    context["prequalifications"] = (
        Prequalification.objects.restrict(request.user)
        .filter(vendor=vendor)
        .select_related("criteria_set")
        .order_by("-created_at")[:5]
    )
    return render(request, "vendors/vendor_detail.html", context)


@login_required
@require_POST
def vendor_status(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk, action="change")
    form = forms.StatusForm(request.POST, vendor=vendor)
    if not form.is_valid():
        messages.error(request, "Choose a status the vendor can move to, and say why.")
        return redirect("vendors:detail", pk=pk)
    try:
        services.vendor_change_status(actor=_actor(request), vendor=vendor, **form.cleaned_data)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, f"{vendor.name} is now {vendor.get_status_display().lower()}.")
    return redirect("vendors:detail", pk=pk)


@login_required
@require_POST
def vendor_services(request: HttpRequest, pk: int) -> HttpResponse:
    """Add a service (category × model) or remove one (``remove`` = its position)."""
    vendor = selectors.vendor_get(user=request.user, pk=pk, action="change")
    current = [
        services.ServiceSpec(s.category, s.service_model, s.description) for s in vendor.services.all()
    ]
    if "remove" in request.POST:
        try:
            del current[int(request.POST["remove"])]
        except (ValueError, IndexError):
            raise Http404 from None
    else:
        form = forms.ServiceForm(request.POST)
        if not form.is_valid():
            messages.error(request, "Choose a service category and a service model.")
            return redirect("vendors:detail", pk=pk)
        current.append(services.ServiceSpec(**form.cleaned_data))
    try:
        services.vendor_services_set(actor=_actor(request), vendor=vendor, services=current)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("vendors:detail", pk=pk)


@login_required
def risk_assess(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_riskassessment")
    questionnaire = selectors.risk_questionnaire_current(user=request.user)
    if questionnaire is None:
        raise PermissionDenied
    form = forms.RiskForm(request.POST or None, questionnaire=questionnaire)
    if request.method == "POST" and form.is_valid():
        try:
            assessment = services.risk_assess(
                actor=_actor(request),
                vendor=vendor,
                answers=form.answers(),
                notes=form.cleaned_data["notes"],
                questionnaire=questionnaire if questionnaire.pk else None,
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request,
                f"{vendor.name}: {assessment.get_tier_display().lower()} risk (score {assessment.score}).",
            )
            return redirect("vendors:detail", pk=pk)
    return render(
        request, "vendors/risk_form.html", {"vendor": vendor, "form": form, "questionnaire": questionnaire}
    )


@login_required
@require_POST
def contact_add(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_vendorcontact")
    form = forms.ContactForm(request.POST)
    if form.is_valid():
        try:
            services.contact_create(actor=_actor(request), vendor=vendor, **form.cleaned_data)
        except ValidationError as exc:
            _flash_errors(request, exc)
    else:
        messages.error(request, "The contact needs a name and a valid e-mail address.")
    return redirect("vendors:detail", pk=pk)


@login_required
@require_POST
def contact_delete(request: HttpRequest, pk: int) -> HttpResponse:
    contact = selectors.contact_get(user=request.user, pk=pk, action="delete")
    services.contact_delete(actor=_actor(request), contact=contact)
    return redirect("vendors:detail", pk=contact.vendor_id)


@login_required
@require_POST
def document_add(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_vendordocument")
    form = forms.DocumentForm(
        request.POST, request.FILES, documents=selectors.documents(user=request.user, vendor=vendor)
    )
    if not form.is_valid():
        messages.error(request, "Give the document's kind and title (dates as dates).")
        return redirect("vendors:detail", pk=pk)
    try:
        services.document_add(actor=_actor(request), vendor=vendor, **form.cleaned_data)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, f"“{form.cleaned_data['title']}” added.")
    return redirect("vendors:detail", pk=pk)


def _download(instance: Any, kind: str) -> FileResponse:
    """A stored file as an attachment, with the content type detected at upload (nosniff is global)."""
    try:
        handle = instance.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=instance.file_name, content_type=instance.content_type
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
def document_file(request: HttpRequest, pk: int) -> FileResponse:
    document = selectors.document_get(user=request.user, pk=pk)
    return _download(document, "document")


# --- Contracts ------------------------------------------------------------------------------------


@login_required
def contract_list(request: HttpRequest) -> HttpResponse:
    _need(request, "vendors.view_contract")
    contracts = selectors.contract_list(user=request.user, search=request.GET.get("q", "")[:100])
    return render(
        request, "vendors/contract_list.html", {"contracts": contracts, "today": timezone.localdate()}
    )


@login_required
def contract_export(request: HttpRequest) -> HttpResponse:
    """The contract register as CSV (what the user may see), audited as an export."""
    _need(request, "vendors.view_contract")
    contracts = list(selectors.contract_list(user=request.user))
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="contracts.csv"'
    writer = csv.writer(response)
    writer.writerow(
        ["reference", "vendor", "title", "term start", "term end", "notice by", "monthly fee (HKD)"]
    )
    for c in contracts:
        row = [c.reference, c.vendor.name, c.title, c.term_start, c.term_end, c.notice_by, c.monthly_fee]  # type: ignore[attr-defined]
        writer.writerow(["" if v is None else v for v in row])
    audit.record_access(
        AuditEvent.Action.EXPORT,
        object_type="vendors.contract",
        object_ids=[c.pk for c in contracts],
        purpose="contract register export",
        actor=request.user,
    )
    return response


@login_required
def contract_create(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_contract")
    form = forms.ContractForm(request.POST or None, initial={"owner": request.user.pk})
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(actor=_actor(request), vendor=vendor, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Contract {contract.reference} recorded as a draft.")
            return redirect("vendors:contract_detail", pk=contract.pk)
    return render(request, "vendors/contract_form.html", {"vendor": vendor, "form": form})


@login_required
def contract_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    contract = selectors.contract_get(user=user, pk=pk)
    today = timezone.localdate()
    current = selectors.current_version(user=user, contract=contract, today=today)
    year_start = date(today.year, 1, 1)
    context = {
        "contract": contract,
        "current": selectors.version_with_parts(user=user, version=current) if current else None,
        "versions": selectors.versions(user=user, contract=contract),
        "obligations": selectors.obligations(user=user, contract=contract),
        "upcoming": selectors.obligation_calendar(user=user, contract_id=contract.pk).exclude(
            status__in=[ObligationInstance.Status.MET, ObligationInstance.Status.WAIVED]
        )[:10],
        "compliance": selectors.compliance(user=user, contract=contract, start=year_start, end=today),
        "year_start": year_start,
        "alerts": selectors.alerts_open(user=user).filter(contract=contract),
        "version_form": forms.NewVersionForm(),
        "can_change": user.has_perm("vendors.change_contract"),
        "today": today,
    }
    from vendors import views_cooperation  # v1: the contract's cooperation reviews (imports this module)

    context.update(views_cooperation.contract_sections(request, contract))
    return render(request, "vendors/contract_detail.html", context)


@login_required
@require_POST
def version_create(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(user=request.user, pk=pk, action="change")
    form = forms.NewVersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the kind, the start date and what the version changes.")
        return redirect("vendors:contract_detail", pk=pk)
    data = {k: v for k, v in form.cleaned_data.items() if v not in (None, "")}
    kind = data.pop("kind")
    try:
        version = services.contract_version_create(
            actor=_actor(request), contract=contract, kind=kind, **data
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("vendors:contract_detail", pk=pk)
    messages.success(request, f"Version {version.number} drafted from the agreed terms.")
    return redirect("vendors:version_detail", pk=version.pk)


@login_required
@require_POST
def contract_scorecard(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(user=request.user, pk=pk, action="change")
    try:
        scorecard = services.contract_scorecard_setup(actor=_actor(request), contract=contract)
    except ValidationError as exc:
        _flash_errors(request, exc)
    except PermissionDenied:
        messages.error(request, "Building scorecards needs the KPI roles as well.")
    else:
        messages.success(request, f"Scorecard “{scorecard.name}” is up to date with the service levels.")
    return redirect("vendors:contract_detail", pk=pk)


def _version_context(request: HttpRequest, version: ContractVersion, **extra: Any) -> dict[str, Any]:
    user = request.user
    kpis = KpiDefinition.objects.restrict(user).filter(retired_at__isnull=True).order_by("name")
    part_forms = {name: form() for name, form in forms.PART_FORMS.items() if name != "service_levels"}
    part_forms["service_levels"] = forms.ServiceLevelForm(kpis=kpis)
    terms = {field: getattr(version, field) for field in services.TERM_FIELDS}
    return {
        "version": selectors.version_with_parts(user=user, version=version),
        "contract": version.contract,
        "terms_form": forms.TermsForm(initial=terms),
        "part_forms": part_forms,
        "editable": version.is_draft and user.has_perm("vendors.change_contractversion"),
        **extra,
    }


@login_required
def version_detail(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_get(user=request.user, pk=pk)
    return render(request, "vendors/version_detail.html", _version_context(request, version))


@login_required
@require_POST
def version_terms(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_get(user=request.user, pk=pk, action="change")
    form = forms.TermsForm(request.POST)
    if form.is_valid():
        try:
            services.contract_version_update(actor=_actor(request), version=version, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "Terms saved.")
            return redirect("vendors:version_detail", pk=pk)
    version.refresh_from_db()
    return render(request, "vendors/version_detail.html", _version_context(request, version, terms_form=form))


def _part_rows(version: ContractVersion, part: str) -> list[Any]:
    """A part's current lines as the set services take them."""
    if part == "fees":
        return [
            {"description": f.description, "basis": f.basis, "amount": f.amount, "unit": f.unit}
            for f in version.fees.all()
        ]
    if part == "scope":
        return [
            {"kind": s.kind, "description": s.description, "due_on": s.due_on, "acceptance": s.acceptance}
            for s in version.scope_items.all()
        ]
    if part == "raci":
        return [
            {"activity": r.activity, "company_role": r.company_role, "vendor_role": r.vendor_role}
            for r in version.raci.all()
        ]
    return [
        services.ServiceLevelSpec(s.kpi, s.kind, s.weight, s.allocation_pct, s.clause)
        for s in version.service_levels.select_related("kpi")
    ]


_PART_SERVICES = {
    "fees": services.fees_set,
    "scope": services.scope_set,
    "raci": services.raci_set,
}


@login_required
@require_POST
def version_part(request: HttpRequest, pk: int, part: str) -> HttpResponse:
    """Add a line to a draft's fees, scope, RACI or service levels, or remove one (``remove``: its index)."""
    if part not in forms.PART_FORMS:
        raise Http404
    version = selectors.version_get(user=request.user, pk=pk, action="change")
    rows = _part_rows(version, part)
    if "remove" in request.POST:
        try:
            del rows[int(request.POST["remove"])]
        except (ValueError, IndexError):
            raise Http404 from None
    else:
        if part == "service_levels":
            kpis = KpiDefinition.objects.restrict(request.user).filter(retired_at__isnull=True)
            form: Any = forms.ServiceLevelForm(request.POST, kpis=kpis)
        else:
            form = forms.PART_FORMS[part](request.POST)
        if not form.is_valid():
            errors = "; ".join(f"{k}: {' '.join(v)}" for k, v in form.errors.items())
            messages.error(request, f"That line is incomplete: {errors}")
            return redirect("vendors:version_detail", pk=pk)
        data = form.cleaned_data
        if part == "service_levels":
            rows.append(
                services.ServiceLevelSpec(
                    data["kpi"], data["kind"], data["weight"], data["allocation_pct"], data["clause"]
                )
            )
        else:
            rows.append(data)
    try:
        if part == "service_levels":
            services.service_levels_set(actor=_actor(request), version=version, levels=rows)
        else:
            _PART_SERVICES[part](actor=_actor(request), version=version, items=rows)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("vendors:version_detail", pk=pk)


@login_required
@require_POST
def version_activate(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_get(user=request.user, pk=pk, action="change")
    try:
        services.contract_version_activate(actor=_actor(request), version=version)
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("vendors:version_detail", pk=pk)
    messages.success(request, f"Version {version.number} is active.")
    return redirect("vendors:contract_detail", pk=version.contract_id)


@login_required
@require_POST
def version_cancel(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_get(user=request.user, pk=pk, action="change")
    try:
        services.contract_version_cancel(
            actor=_actor(request), version=version, reason=request.POST.get("reason", "")[:2000]
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("vendors:version_detail", pk=pk)
    return redirect("vendors:contract_detail", pk=version.contract_id)


@login_required
def obligation_create(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(user=request.user, pk=pk, action="change")
    _need(request, "vendors.add_obligation")
    form = forms.ObligationForm(request.POST or None, vendor=contract.vendor)
    if request.method == "POST" and form.is_valid():
        try:
            obligation = services.obligation_create(
                actor=_actor(request), contract=contract, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            count = obligation.instances.count()
            messages.success(request, f"Obligation “{obligation.title}” recorded: {count} due date(s).")
            return redirect("vendors:contract_detail", pk=pk)
    return render(request, "vendors/obligation_form.html", {"contract": contract, "form": form})


# --- Obligation calendar and evidence -------------------------------------------------------------


def _calendar_rows(request: HttpRequest) -> tuple[Any, forms.CalendarFilterForm]:
    form = forms.CalendarFilterForm(request.GET or None)
    filters: dict[str, Any] = {}
    if form.is_valid():
        filters = {k: v for k, v in form.cleaned_data.items() if v}
    rows = selectors.obligation_calendar(user=request.user, **filters)
    return rows, form


@login_required
def calendar(request: HttpRequest) -> HttpResponse:
    """The obligation calendar, paged, filtered by dates and status (HTMX swaps the table)."""
    _need(request, "vendors.view_obligationinstance")
    rows, form = _calendar_rows(request)
    # A window, not a Paginator: counting every instance would grow with the calendar (v1, bench).
    page = Window(rows, request.GET.get("page"), CALENDAR_PAGE_SIZE)
    query = request.GET.copy()
    query.pop("page", None)
    context = {"page": page, "form": form, "query": query.urlencode(), "today": timezone.localdate()}
    template = "vendors/_calendar_table.html" if request.htmx else "vendors/calendar.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@login_required
def calendar_export(request: HttpRequest) -> HttpResponse:
    """The obligation calendar (as filtered) as CSV, audited as an export."""
    _need(request, "vendors.view_obligationinstance")
    rows, _form = _calendar_rows(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="obligations.csv"'
    writer = csv.writer(response)
    writer.writerow(["due on", "status", "obligation", "contract", "vendor", "evidence"])
    exported: list[int] = []
    for row in rows.iterator(chunk_size=2000):
        obligation = row.obligation
        writer.writerow(
            [
                row.due_on,
                row.get_status_display(),
                obligation.title,
                obligation.contract.reference,
                obligation.contract.vendor.name,
                "yes" if getattr(row, "has_evidence", False) else "no",
            ]
        )
        exported.append(row.pk)
    audit.record_access(
        AuditEvent.Action.EXPORT,
        object_type="vendors.obligationinstance",
        object_ids=exported,
        purpose="obligation calendar export",
        actor=request.user,
    )
    return response


@login_required
def instance_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = request.user
    instance = selectors.instance_get(user=user, pk=pk)
    context = {
        "instance": instance,
        "obligation": instance.obligation,
        "evidence": selectors.evidence_list(user=user, instance=instance),
        "upload_form": forms.EvidenceForm(),
        "can_upload": user.has_perm("vendors.add_obligationevidence") and instance.status != "waived",
        "can_decide": user.has_perm("vendors.change_obligationinstance")
        and not _actor(request).is_portal_user,
    }
    return render(request, "vendors/instance_detail.html", context)


@login_required
@require_POST
def evidence_upload(request: HttpRequest, pk: int) -> HttpResponse:
    instance = selectors.instance_get(user=request.user, pk=pk)
    _need(request, "vendors.add_obligationevidence")
    form = forms.EvidenceForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, "Choose a file to upload.")
        return redirect("vendors:instance_detail", pk=pk)
    try:
        services.evidence_upload(
            actor=_actor(request),
            instance=instance,
            upload=form.cleaned_data["file"],
            note=form.cleaned_data["note"],
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, "Evidence uploaded.")
    return redirect("vendors:instance_detail", pk=pk)


@login_required
@require_POST
def instance_met(request: HttpRequest, pk: int) -> HttpResponse:
    instance = selectors.instance_get(user=request.user, pk=pk, action="change")
    try:
        services.obligation_instance_mark_met(
            actor=_actor(request), instance=instance, note=request.POST.get("note", "")[:2000]
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("vendors:instance_detail", pk=pk)


@login_required
@require_POST
def instance_waive(request: HttpRequest, pk: int) -> HttpResponse:
    instance = selectors.instance_get(user=request.user, pk=pk, action="change")
    try:
        services.obligation_instance_waive(
            actor=_actor(request), instance=instance, reason=request.POST.get("reason", "")[:2000]
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("vendors:instance_detail", pk=pk)


@login_required
def evidence_file(request: HttpRequest, pk: int) -> FileResponse:
    evidence = selectors.evidence_get(user=request.user, pk=pk)
    return _download(evidence, "evidence")


# --- Renewals -------------------------------------------------------------------------------------


@login_required
def renewals(request: HttpRequest) -> HttpResponse:
    """Notice deadlines and ends in the next 120 days (or ?within=N), and the open alerts."""
    _need(request, "vendors.view_contract")
    try:
        within = min(max(int(request.GET.get("within", 120)), 1), 730)
    except ValueError:
        within = 120
    context = {
        # Soonest first, a page at a time: the window reads the same rows however many contracts exist.
        "versions": Window(
            selectors.renewals(user=request.user, within_days=within),
            request.GET.get("page"),
            RENEWALS_PAGE_SIZE,
        ),
        "alerts": Window(
            selectors.alerts_open(user=request.user), request.GET.get("alerts"), RENEWALS_PAGE_SIZE
        ),
        "within": within,
        "today": timezone.localdate(),
        "can_acknowledge": request.user.has_perm("vendors.change_contractalert"),
    }
    return render(request, "vendors/renewals.html", context)


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = selectors.alert_get(user=request.user, pk=pk, action="change")
    services.alert_acknowledge(actor=_actor(request), alert=alert)
    return redirect("vendors:renewals")


# --- Liaison --------------------------------------------------------------------------------------


@login_required
def liaison_create(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_liaisonentry")
    contracts = selectors.contract_list(user=request.user, vendor=vendor)
    form = forms.LiaisonForm(request.POST or None, contracts=contracts)
    actions = forms.ActionFormSet(request.POST or None, prefix="actions")
    if request.method == "POST" and form.is_valid() and actions.is_valid():
        specs = [
            services.ActionSpec(a["description"], a["owner_party"], a["due_on"])
            for a in actions.cleaned_data
            if a.get("description")
        ]
        try:
            entry = services.liaison_entry_create(
                actor=_actor(request), vendor=vendor, actions=specs, **form.cleaned_data
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"“{entry.title}” logged with {len(specs)} action(s).")
            return redirect("vendors:liaison_detail", pk=entry.pk)
    return render(request, "vendors/liaison_form.html", {"vendor": vendor, "form": form, "actions": actions})


@login_required
def liaison_detail(request: HttpRequest, pk: int) -> HttpResponse:
    entry = selectors.liaison_get(user=request.user, pk=pk)
    form = forms.ActionForm(request.POST or None)
    if request.method == "POST":
        _need(request, "vendors.add_actionitem")
        if form.is_valid() and form.cleaned_data.get("description"):
            data = form.cleaned_data
            try:
                services.action_item_add(
                    actor=_actor(request),
                    entry=entry,
                    action=services.ActionSpec(data["description"], data["owner_party"], data["due_on"]),
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                return redirect("vendors:liaison_detail", pk=pk)
    context = {
        "entry": entry,
        "actions": selectors.action_items(user=request.user, entry=entry),
        "form": form,
        "statuses": ActionItem.Status.choices,
    }
    return render(request, "vendors/liaison_detail.html", context)


@login_required
@require_POST
def action_update(request: HttpRequest, pk: int) -> HttpResponse:
    """Move an action on; HTMX swaps just its row."""
    item = selectors.action_item_get(user=request.user, pk=pk, action="change")
    form = forms.ActionStatusForm(request.POST)
    error = ""
    if form.is_valid():
        try:
            item = services.action_item_update(actor=_actor(request), item=item, **form.cleaned_data)
        except ValidationError as exc:
            error = " ".join(exc.messages)
    else:
        error = "Choose a status."
    if request.htmx:  # type: ignore[attr-defined]
        return render(
            request,
            "vendors/_action_row.html",
            {"a": item, "error": error, "statuses": ActionItem.Status.choices},
        )
    if error:
        messages.error(request, error)
    return redirect(request.POST.get("next") or "vendors:portal")


@login_required
@require_POST
def request_create(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_updaterequest")
    form = forms.UpdateRequestForm(request.POST)
    if not form.is_valid():
        messages.error(request, "An update request has a title, details and a due date.")
        return redirect("vendors:detail", pk=pk)
    try:
        services.update_request_create(actor=_actor(request), vendor=vendor, **form.cleaned_data)
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, f"Update requested from {vendor.name}.")
    return redirect("vendors:detail", pk=pk)


@login_required
@require_POST
def request_respond(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.update_request_get(user=request.user, pk=pk, action="change")
    form = forms.ResponseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Write the update.")
        return redirect("vendors:portal")
    try:
        services.update_request_respond(
            actor=_actor(request), request=item, response=form.cleaned_data["response"]
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    else:
        messages.success(request, "Thank you: your update was sent.")
    return redirect("vendors:portal")


@login_required
@require_POST
def request_close(request: HttpRequest, pk: int) -> HttpResponse:
    item = selectors.update_request_get(user=request.user, pk=pk, action="change")
    services.update_request_close(actor=_actor(request), request=item)
    return redirect("vendors:detail", pk=item.vendor_id)


# --- Outsourcing scope ----------------------------------------------------------------------------


def _assignment_form(request: HttpRequest, data: Any = None) -> forms.AssignmentForm:
    user = request.user
    return forms.AssignmentForm(
        data,
        functions=selectors.scope_matrix(user=user),
        vendors=selectors.vendor_list(user=user).exclude(status=Vendor.Status.ENDED),
        contracts=selectors.contract_list(user=user),
    )


@login_required
def scope(request: HttpRequest) -> HttpResponse:
    """The outsourcing scope matrix: each function, who performs it, and the gaps and overlaps."""
    _need(request, "vendors.view_businessfunction")
    functions = list(selectors.scope_matrix(user=request.user))
    context = {
        "functions": functions,
        "gaps": sum(1 for f in functions if f.is_gap),
        "overlaps": sum(1 for f in functions if f.is_overlap),
        "function_form": forms.FunctionForm(),
        "assignment_form": _assignment_form(request),
        "can_change": request.user.has_perm("vendors.add_scopeassignment"),
    }
    return render(request, "vendors/scope.html", context)


@login_required
@require_POST
def scope_function_add(request: HttpRequest) -> HttpResponse:
    _need(request, "vendors.add_businessfunction")
    form = forms.FunctionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A function has an area and a name.")
        return redirect("vendors:scope")
    try:
        services.function_create(actor=_actor(request), **form.cleaned_data)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("vendors:scope")


@login_required
@require_POST
def scope_assign(request: HttpRequest) -> HttpResponse:
    _need(request, "vendors.add_scopeassignment")
    form = _assignment_form(request, request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a function and who performs it.")
        return redirect("vendors:scope")
    try:
        services.scope_assign(actor=_actor(request), **form.cleaned_data)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("vendors:scope")


@login_required
@require_POST
def scope_unassign(request: HttpRequest, pk: int) -> HttpResponse:
    assignment = selectors.assignment_get(user=request.user, pk=pk, action="delete")
    services.scope_unassign(actor=_actor(request), assignment=assignment)
    return redirect("vendors:scope")


# --- Information exchange -------------------------------------------------------------------------


@login_required
def information(request: HttpRequest) -> HttpResponse:
    """The information-exchange register across vendors (``?personal=1``: personal data only)."""
    _need(request, "vendors.view_dataflow")
    personal = True if request.GET.get("personal") == "1" else None
    flows = selectors.data_flows(user=request.user, personal_data=personal)
    return render(request, "vendors/information.html", {"flows": flows, "personal": personal})


@login_required
def data_flow_add(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_dataflow")
    contracts = selectors.contract_list(user=request.user, vendor=vendor)
    form = forms.DataFlowForm(request.POST or None, contracts=contracts)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "contract"}
        try:
            flow = services.data_flow_create(
                actor=_actor(request), vendor=vendor, contract=form.cleaned_data["contract"], **data
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"“{flow.title}” is in the register.")
            return redirect("vendors:data_flow", pk=flow.pk)
    return render(request, "vendors/data_flow_form.html", {"vendor": vendor, "form": form})


@login_required
def data_flow(request: HttpRequest, pk: int) -> HttpResponse:
    """One register line with its exchanges; the log form adds one."""
    flow = selectors.data_flow_get(user=request.user, pk=pk)
    form = forms.ExchangeForm(request.POST or None)
    if request.method == "POST":
        _need(request, "vendors.add_dataexchange")
        if form.is_valid():
            try:
                services.data_exchange_log(actor=_actor(request), flow=flow, **form.cleaned_data)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                return redirect("vendors:data_flow", pk=pk)
    page = Paginator(selectors.data_exchanges(user=request.user, flow=flow), 50).get_page(
        request.GET.get("page")
    )
    return render(request, "vendors/data_flow.html", {"flow": flow, "page": page, "form": form})


@login_required
@require_POST
def data_flow_retire(request: HttpRequest, pk: int) -> HttpResponse:
    flow = selectors.data_flow_get(user=request.user, pk=pk, action="change")
    try:
        services.data_flow_retire(
            actor=_actor(request), flow=flow, reason=request.POST.get("reason", "")[:2000]
        )
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("vendors:data_flow", pk=pk)


# --- The vendor portal ----------------------------------------------------------------------------


@login_required
def portal(request: HttpRequest) -> HttpResponse:
    """A vendor's own page: contract summary, obligations (with evidence upload), update requests
    and the actions assigned to the vendor. Everything through ``restrict``: nothing of another vendor."""
    user = _actor(request)
    if not user.is_portal_user:
        return redirect("vendors:list")
    _need(request, "vendors.view_obligationinstance")
    today = timezone.localdate()
    contracts = []
    for contract in selectors.contract_list(user=user):
        version = selectors.current_version(user=user, contract=contract, today=today)
        if version is not None and version.status not in ContractVersion.PUBLISHED:
            version = None
        contracts.append(
            {
                "contract": contract,
                "version": selectors.version_with_parts(user=user, version=version) if version else None,
            }
        )
    open_statuses = [
        ObligationInstance.Status.UPCOMING,
        ObligationInstance.Status.DUE,
        ObligationInstance.Status.MISSED,
    ]
    context = {
        "vendor": user.vendor,
        "contracts": contracts,
        "obligations": selectors.obligation_calendar(user=user, end=today + timedelta(days=60)).filter(
            status__in=open_statuses, obligation__owner_party=Party.VENDOR
        )[:50],
        "requests": selectors.update_requests(user=user).exclude(status=UpdateRequest.Status.CLOSED),
        "actions": selectors.action_items(user=user, open_only=True),
        "statuses": [
            (s, label) for s, label in ActionItem.Status.choices if s != ActionItem.Status.CANCELLED
        ],
        "response_form": forms.ResponseForm(),
        "today": today,
    }
    from vendors import views_cooperation  # v1: shared documents, ideas, staff, plans (imports this module)

    context.update(views_cooperation.portal_sections(request))
    return render(request, "vendors/portal.html", context)
