"""Pages of sales activity (issue 7 items 1, 4, 10): customers and their profile, orders (the
reports' drill-down), imports with a progress bar, segments, and the sales report.

Views parse, call a selector or a service, and render. Personal data reaches a template only
through ``customers.masking.mask_customer``; opening a profile records the read with its purpose.
"""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any, cast
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from accounts.models import User
from core import audit
from core.access import get_restricted_or_404
from core.models import AuditEvent
from customers import reports, selectors, services
from customers.analytics import SEGMENT_LABELS
from customers.masking import mask_customer
from customers.models import Channel, Customer, ImportJob, Order, Segment
from customers.profile import sections_for
from customers.sales_forms import ImportForm, PurposeForm, SegmentForm
from kpis.exports import FORMATS, neutralise

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _staff_only(request: HttpRequest) -> None:
    # Customer data is never shown to vendor portal users (no vendor_path on these models either).
    if _actor(request).is_portal_user:
        raise PermissionDenied


def _month(value: str) -> date | None:
    try:
        return date.fromisoformat(f"{value[:7]}-01") if value else None
    except ValueError:
        return None


# --- Customers -----------------------------------------------------------------------------------


@login_required
def customer_list(request: HttpRequest) -> HttpResponse:
    """Customers with search and filters; contact details masked per role; one page, flat queries."""
    _staff_only(request)
    _need(request, "customers.view_customer")
    user = _actor(request)
    get = request.GET
    filters = selectors.CustomerFilter(
        search=get.get("q", "")[:100],
        district=get.get("district", "")[:60],
        tier=get.get("tier", "") if get.get("tier", "") in Customer.Tier.values else "",
        segment=get.get("segment", "") if get.get("segment", "") in SEGMENT_LABELS else "",
        channel=get.get("channel", "") if get.get("channel", "") in Channel.values else "",
    )
    page = Paginator(selectors.customer_list(user=user, filters=filters), PAGE_SIZE).get_page(get.get("page"))
    context = {
        "page": page,
        "rows": selectors.customer_rows(user=user, customers=page.object_list),
        "districts": selectors.customer_districts(user=user),
        "tiers": Customer.Tier.choices,
        "segments": [(k, v) for k, v in SEGMENT_LABELS.items() if k],
        "channels": Channel.choices,
        "query": get.urlencode() if "page" not in get else _without_page(get),
    }
    template = "customers/sales_customer_rows.html" if request.htmx else "customers/sales_customer_list.html"  # type: ignore[attr-defined]
    return render(request, template, context)


def _without_page(get: Any) -> str:
    data = get.copy()
    data.pop("page", None)
    return str(data.urlencode())


@login_required
def customer_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A customer's profile: details (masked per role), preferences, RFM, a timeline of orders,
    events and tickets, then the sections other features register (consents, requests…).

    Personal data is shown only once the reader has said why (DPP4); the read is audited with it.
    """
    _staff_only(request)
    _need(request, "customers.view_customer")
    user = _actor(request)
    form = PurposeForm(request.GET if "purpose" in request.GET else None)
    if not form.is_valid():
        # Nothing personal yet: just which record, and the question why.
        customer = get_restricted_or_404(Customer, user=user, pk=pk)
        return render(request, "customers/sales_purpose.html", {"form": form, "customer_id": customer.pk})
    profile = selectors.customer_profile(user=user, pk=pk, purpose=form.stated_purpose())
    context = {
        "profile": profile,
        "c": profile.data,
        "purpose": form.stated_purpose(),
        "segment_label": SEGMENT_LABELS.get(profile.metrics.segment, "") if profile.metrics else "",
        "sections": sections_for(user, profile.customer),
    }
    return render(request, "customers/sales_customer_detail.html", context)


@login_required
def order_list(request: HttpRequest) -> HttpResponse:
    """Orders, filtered by month (Hong Kong time), channel and category: the report's drill-down."""
    _staff_only(request)
    _need(request, "customers.view_order")
    user = _actor(request)
    get = request.GET
    filters = selectors.OrderFilter(
        month=_month(get.get("month", "")),
        channel=get.get("channel", "")[:20],
        category=get.get("category", "")[:80],
        status=get.get("status", "") if get.get("status", "") in Order.Status.values else "",
    )
    page = Paginator(selectors.order_list(user=user, filters=filters), PAGE_SIZE).get_page(get.get("page"))
    orders = list(page.object_list)
    names = {o.pk: mask_customer(user, o.customer)["display_name"] for o in orders if o.customer is not None}
    context = {
        "page": page,
        "orders": [(o, names.get(o.pk, "")) for o in orders],
        "filters": filters,
        "channels": Channel.choices,
        "statuses": Order.Status.choices,
        "query": _without_page(get),
    }
    return render(request, "customers/sales_order_list.html", context)


# --- Imports -------------------------------------------------------------------------------------


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    """Upload an NDJSON/CSV file of customers, orders or events; earlier imports below."""
    _staff_only(request)
    _need(request, "customers.view_importjob")
    user = _actor(request)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        _need(request, "customers.add_importjob")
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = services.import_job_create(
                    actor=user,
                    upload=data["file"],
                    kind=data["kind"],
                    mode=data["mode"],
                    source=data["source"],
                )
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                return redirect("customers:import_detail", pk=job.pk)
    jobs = selectors.import_job_list(user=user)[:20]
    return render(request, "customers/sales_import_list.html", {"form": form, "jobs": jobs})


@login_required
def import_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An import's progress (the bar polls itself with HTMX until the job is finished) and result."""
    _staff_only(request)
    job = get_restricted_or_404(ImportJob, user=_actor(request), pk=pk)
    context = {"job": job, "errors": job.errors[:100]}
    if request.htmx:  # type: ignore[attr-defined]
        return render(request, "customers/sales_import_progress.html", context)
    return render(request, "customers/sales_import_detail.html", context)


@login_required
def import_errors(request: HttpRequest, pk: int) -> HttpResponse:
    """The error report (line, field, message) as CSV."""
    _staff_only(request)
    job = get_restricted_or_404(ImportJob, user=_actor(request), pk=pk)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["line", "field", "message"])
    for error in job.errors:
        writer.writerow([error.get("line"), neutralise(error.get("field")), neutralise(error.get("message"))])
    response = HttpResponse(("\ufeff" + buffer.getvalue()).encode("utf-8"), content_type=FORMATS["csv"])
    response["Content-Disposition"] = f'attachment; filename="import-{job.pk}-errors.csv"'
    return response


# --- Segments ------------------------------------------------------------------------------------


@login_required
def segment_list(request: HttpRequest) -> HttpResponse:
    """Named segments with their member counts, a form to add one, and the rebuild button."""
    _staff_only(request)
    _need(request, "customers.view_segment")
    user = _actor(request)
    form = SegmentForm(request.POST or None)
    if request.method == "POST":
        _need(request, "customers.add_segment")
        if form.is_valid():
            try:
                segment = services.segment_create(
                    actor=user,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    filters=form.filters(),
                )
            except ValidationError as exc:
                _segment_errors(form, exc)
            else:
                messages.success(request, f"Segment “{segment.name}” has {segment.member_count} members.")
                return redirect("customers:segment_detail", pk=segment.pk)
    context = {"form": form, "segments": selectors.segment_list(user=user), "labels": SEGMENT_LABELS}
    return render(request, "customers/sales_segment_list.html", context)


def _segment_errors(form: SegmentForm, exc: ValidationError) -> None:
    """The service's errors on the form: ``filters.<name>`` on that field, the rest on the form."""
    for field, errors in exc.message_dict.items():
        name = field.removeprefix("filters.")
        form.add_error(name if name in form.fields else None, errors)


@login_required
def segment_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A segment's members (masked), when they were last refreshed, and for those who may change
    segments: its filters to edit (the members are recomputed at once) and a refresh button."""
    _staff_only(request)
    user = _actor(request)
    segment = get_restricted_or_404(Segment, user=user, pk=pk)
    initial = {"name": segment.name, "description": segment.description, **segment.filters}
    form = SegmentForm(
        request.POST if request.method == "POST" and "name" in request.POST else None, initial=initial
    )
    if request.method == "POST":
        _need(request, "customers.change_segment")
        if "refresh" in request.POST:
            segment = services.segment_refresh(actor=user, segment=segment)
            messages.success(request, f"Segment “{segment.name}” refreshed: {segment.member_count} members.")
            return redirect("customers:segment_detail", pk=segment.pk)
        if form.is_valid():
            try:
                segment = services.segment_update(
                    actor=user,
                    segment=segment,
                    name=form.cleaned_data["name"],
                    description=form.cleaned_data["description"],
                    filters=form.filters(),
                )
            except ValidationError as exc:
                _segment_errors(form, exc)
            else:
                messages.success(
                    request, f"Segment “{segment.name}” changed: {segment.member_count} members."
                )
                return redirect("customers:segment_detail", pk=segment.pk)
        segment.refresh_from_db()
    page = Paginator(selectors.segment_members(user=user, segment=segment), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    context = {
        "segment": segment,
        "page": page,
        "rows": selectors.customer_rows(user=user, customers=page.object_list),
        "labels": SEGMENT_LABELS,
        "form": form,
    }
    return render(request, "customers/sales_segment_detail.html", context)


@login_required
def segment_export(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    """A segment's members as CSV or XLSX for staff analysis: masked per role, audited.

    Not a marketing list: exports for direct marketing check consent and the suppression list
    (issue 7 item 3) and are built there.
    """
    _staff_only(request)
    if fmt not in {"csv", "xlsx"}:
        raise Http404
    user = _actor(request)
    segment = get_restricted_or_404(Segment, user=user, pk=pk)
    customers = selectors.segment_members(user=user, segment=segment)
    rows: list[list[Any]] = [
        [
            "Customer id",
            "Name",
            "Chinese name",
            "E-mail",
            "Phone",
            "District",
            "Tier",
            "Segment",
            "Lifetime value",
        ]
    ]
    ids = []
    for customer in customers.iterator(chunk_size=2000):
        data = mask_customer(user, customer)
        metrics = getattr(customer, "metrics", None) if hasattr(customer, "metrics") else None
        ids.append(customer.pk)
        rows.append(
            [
                customer.external_id,
                data["display_name"],
                data["chinese_name"],
                data["email"],
                data["phone"],
                data["district"],
                data["tier"],
                SEGMENT_LABELS.get(metrics.segment, "") if metrics else "",
                metrics.lifetime_value if metrics else "",
            ]
        )
    body = reports.export_bytes(f"Segment {segment.name}", [(segment.name[:31] or "Segment", rows)], fmt)
    audit.record_access(
        AuditEvent.Action.EXPORT,
        object_type="customers.customer",
        object_ids=ids,
        purpose=f"segment analysis export: {segment.name}"[:200],
        fields=["given_name", "family_name", "chinese_name", "email", "phone", "district"],
        actor=user,
        object_repr=f"segment {segment.pk}",
    )
    response = HttpResponse(body, content_type=FORMATS[fmt])
    response["Content-Disposition"] = f'attachment; filename="segment-{segment.pk}.{fmt}"'
    return response


@login_required
@require_POST
def metrics_rebuild(request: HttpRequest) -> HttpResponse:
    _staff_only(request)
    _need(request, "customers.change_customermetrics")
    result = services.customer_metrics_rebuild(actor=_actor(request))
    messages.success(
        request,
        f"Rebuilt: {result['customers']} customers scored, {result['segments']} segments refreshed, "
        f"{result['rollup_rows']} report rows.",
    )
    return redirect(request.POST.get("next") or "customers:segments")


# --- The sales report ----------------------------------------------------------------------------


def _report_filter(request: HttpRequest) -> reports.ReportFilter:
    get = request.GET
    return reports.ReportFilter(
        start=_month(get.get("start", "")),
        end=_month(get.get("end", "")),
        channel=get.get("channel", "") if get.get("channel", "") in Channel.values else "",
        category=get.get("category", "")[:80],
    )


@login_required
def sales_report(request: HttpRequest) -> HttpResponse:
    """Revenue and orders by month, channel and category; new vs returning; cohorts; segment
    movements; top customers (masked). Every number is read from the rollups."""
    _staff_only(request)
    user = _actor(request)
    filters = _report_filter(request)
    report = reports.sales_report(user=user, filters=filters)
    base = {"channel": filters.channel, "category": filters.category}
    orders_url = reverse("customers:orders")
    points = []
    for row in report.monthly:
        query = urlencode({k: v for k, v in {**base, "month": f"{row['month']:%Y-%m}"}.items() if v})
        points.append((f"{row['month']:%b %y}", row["net"], f"{orders_url}?{query}"))
    categories = [r["category"] for r in report.by_category]
    context = {
        "report": report,
        "chart": reports.revenue_chart(points),
        "channels": Channel.choices,
        "categories": sorted(c for c in categories if c),
        "export_query": request.GET.urlencode(),
        "can_rebuild": user.has_perm("customers.change_customermetrics"),
    }
    return render(request, "customers/sales_report.html", context)


@login_required
def sales_report_export(request: HttpRequest, fmt: str) -> HttpResponse:
    _staff_only(request)
    if fmt not in FORMATS:
        raise Http404
    body, content_type, name = reports.report_export(
        user=_actor(request), filters=_report_filter(request), fmt=fmt
    )
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
