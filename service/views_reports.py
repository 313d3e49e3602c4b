"""Pages of the service KPI reports: dashboard, drill-down, exports, rules, benchmarks (issue 4 items 5–7)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone

from core.uploads import check_upload
from service import (
    benchmarks,
    measures,
    quality_selectors,
    report_charts,
    report_exports,
    report_services,
    reports,
)
from service.api_reports import REPORT_PERM
from service.models import Agent, Priority, Team, TicketChannel
from service.report_models import ServiceBenchmark, ServiceKpiRules
from vendors.models import Vendor

MAIN_FIGURES = (
    "ticket_volume",
    "first_response_median",
    "first_response_p90",
    "first_response_mean",
    "resolution_median",
    "sla_first_response_pct",
    "sla_resolution_pct",
    "sla_attainment_pct",
    "reopen_rate_pct",
    "one_touch_resolution_pct",
    "backlog",
)


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


class ReportFilterForm(forms.Form):
    period = forms.CharField(required=False, help_text=reports.PERIOD_HELP)
    group_by = forms.ChoiceField(choices=[(g, g.title()) for g in reports.GROUPS], required=False)
    channel = forms.ChoiceField(choices=[("", "All channels"), *TicketChannel.choices], required=False)
    priority = forms.ChoiceField(choices=[("", "All priorities"), *Priority.choices], required=False)
    team = forms.ChoiceField(required=False)
    agent = forms.ChoiceField(required=False)
    vendor = forms.ChoiceField(required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ChoiceField, self.fields["team"]).choices = [("", "All teams")] + [
            (str(t.pk), t.name) for t in Team.objects.restrict(user).order_by("name")
        ]
        cast(forms.ChoiceField, self.fields["agent"]).choices = [("", "All agents")] + [
            (str(a.pk), a.name) for a in Agent.objects.restrict(user).order_by("name")
        ]
        cast(forms.ChoiceField, self.fields["vendor"]).choices = [
            ("", "In-house and vendors"),
            ("in-house", "In-house only"),
        ] + [
            (str(v.pk), v.name)
            for v in Vendor.objects.restrict(user).filter(service_agents__isnull=False).distinct()
        ]


class RulesForm(forms.Form):
    attribution = forms.ChoiceField(choices=ServiceKpiRules.Attribution.choices, label="Credit")
    filing = forms.ChoiceField(choices=ServiceKpiRules.Filing.choices, label="File tickets by")


def _cell_links(report: reports.Report, row: reports.ReportRow, group_by: str) -> list[dict[str, Any]]:
    out = []
    for code in MAIN_FIGURES:
        spec = reports.FIGURE_BY_CODE[code]
        figure = row.figures[code]
        params = {"figure": code, "period": report.period.label, **report.filters.as_params()}
        if group_by:
            params.update(group_by=group_by, key="none" if row.key is None else str(row.key))
        if spec.drill_outcome:
            params["outcome"] = spec.drill_outcome
        out.append(
            {
                "figure": figure,
                "spec": spec,
                "url": reverse("service:report_drilldown") + "?" + urlencode(params),
            }
        )
    return out


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """Service KPIs for a period: figures by group with definitions, charts, in-house vs vendors."""
    _need(request, REPORT_PERM)
    # Unbound, the form shows the period the page shows (last month), not an empty box.
    initial = {"period": reports.last_month(timezone.localdate()).label, "group_by": "agent"}
    form = ReportFilterForm(request.GET or None, user=request.user, initial=initial)
    data = request.GET
    error = ""
    try:
        period = reports.parse_period(data.get("period") or reports.last_month(timezone.localdate()).label)
        group_by = reports.parse_group(data.get("group_by") or "agent")
        filters = reports.parse_filters(data)
    except ValidationError as exc:
        error = "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())
        period, group_by, filters = reports.last_month(timezone.localdate()), "agent", reports.Filters()
    report = reports.report(user=request.user, period=period, group_by=group_by, filters=filters)
    query = urlencode({"period": period.label, "group_by": group_by, **filters.as_params()})
    trend_labels = [r.label for r in report.trend]
    attainment_bars = [
        (
            r.label,
            r.figures["sla_attainment_pct"].value,
            reverse("service:report_drilldown")
            + "?"
            + urlencode(
                {
                    "figure": "sla_attainment_pct",
                    "period": period.label,
                    "group_by": group_by,
                    "key": "none" if r.key is None else str(r.key),
                    "outcome": "breached",
                    **filters.as_params(),
                }
            ),
        )
        for r in report.rows[:40]
    ]
    charts = {
        "trend_minutes": report_charts.line_chart(
            trend_labels,
            [
                (
                    "First response median (≈)",
                    [r.figures["first_response_median"].value for r in report.trend],
                ),
                ("First response mean", [r.figures["first_response_mean"].value for r in report.trend]),
            ],
            unit="min",
            title="First response by month (business minutes)",
        ),
        "trend_pct": report_charts.line_chart(
            trend_labels,
            [
                ("SLA attainment %", [r.figures["sla_attainment_pct"].value for r in report.trend]),
                ("One-touch %", [r.figures["one_touch_resolution_pct"].value for r in report.trend]),
                ("Reopen %", [r.figures["reopen_rate_pct"].value for r in report.trend]),
            ],
            unit="%",
            title="Rates by month",
        ),
        "histogram": report_charts.bar_chart(
            [(label, Decimal(n), "") for label, n in report.histogram],
            unit="tickets",
            title="Distribution of first-response business minutes",
        ),
        "attainment": report_charts.bar_chart(
            attainment_bars, unit="%", title=f"SLA attainment by {group_by}", maximum=Decimal(100)
        ),
    }
    can_change_rules = request.user.has_perm("service.change_servicekpirules")
    feedback = (
        quality_selectors.survey_summary(
            user=request.user, start=period.start, end=period.end, ticket_q=filters.q
        )
        if request.user.has_perm("service.view_surveyresponse")
        else None
    )
    return render(
        request,
        "service/reports_dashboard.html",
        {
            "feedback": feedback,
            "feedback_month": period.label if period.whole_months and len(period.label) == 7 else "",
            "form": form,
            "error": error,
            "report": report,
            "query": query,
            "main": [reports.FIGURE_BY_CODE[c] for c in MAIN_FIGURES],
            "rows": [(r, _cell_links(report, r, group_by)) for r in report.rows],
            "total": _cell_links(report, report.total, ""),
            "vendors": [(r, _cell_links(report, r, "vendor")) for r in report.vendors],
            "charts": charts,
            "figures": reports.FIGURES,
            "rules_form": RulesForm(
                initial={"attribution": report.rules.attribution, "filing": report.rules.filing}
            )
            if can_change_rules
            else None,
            "can_see_benchmarks": request.user.has_perm("service.view_servicebenchmark"),
        },
    )


@login_required
def drilldown(request: HttpRequest) -> HttpResponse:
    """The tickets behind one figure of the dashboard."""
    _need(request, REPORT_PERM)
    from service.api_reports import drilldown_from

    try:
        tickets = drilldown_from(request.user, request.GET)
    except ValidationError as exc:
        return render(
            request,
            "service/reports_drilldown.html",
            {"error": "; ".join(f"{k}: {' '.join(v)}" for k, v in exc.message_dict.items())},
            status=400,
        )
    code = request.GET.get("figure", "")
    page = Paginator(tickets, 100).get_page(request.GET.get("page"))
    return render(
        request,
        "service/reports_drilldown.html",
        {
            "figure": reports.FIGURE_BY_CODE[code],
            "page": page,
            "params": request.GET.urlencode(),
            "outcome": request.GET.get("outcome", ""),
            "period": request.GET.get("period", ""),
            "rules": measures.current_rules().statement(),
        },
    )


@login_required
def export(request: HttpRequest, fmt: str) -> HttpResponse:
    _need(request, REPORT_PERM)
    if getattr(request.user, "is_portal_user", False):
        raise PermissionDenied  # files are exported by staff; vendors read their figures on the page
    period = reports.parse_period(request.GET.get("period") or reports.last_month(timezone.localdate()).label)
    report = reports.report(
        user=request.user,
        period=period,
        group_by=reports.parse_group(request.GET.get("group_by") or "agent"),
        filters=reports.parse_filters(request.GET),
    )
    return report_exports.report_response(user=request.user, report=report, fmt=fmt)


@login_required
def rules(request: HttpRequest) -> HttpResponse:
    """Change the attribution and filing rules (POST from the dashboard)."""
    if request.method != "POST":
        return redirect("service:reports")
    form = RulesForm(request.POST)
    if form.is_valid():
        try:
            report_services.kpi_rules_set(
                actor=request.user,
                attribution=form.cleaned_data["attribution"],
                filing=form.cleaned_data["filing"],
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, "Rules saved; the report figures were rebuilt.")
    else:
        messages.error(request, "Choose a credit rule and a filing date.")
    return redirect("service:reports")


class BenchmarkForm(forms.Form):
    source = forms.CharField(max_length=200)
    source_url = forms.URLField(required=False, assume_scheme="https")
    period_start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    period_end = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    industry = forms.CharField(max_length=120)
    measure_code = forms.ChoiceField(choices=[(c, m.label) for c, m in measures.MEASURES.items()])
    statistic = forms.ChoiceField(choices=ServiceBenchmark.Statistic.choices)
    time_basis = forms.ChoiceField(choices=ServiceBenchmark.TimeBasis.choices)
    unit = forms.CharField(max_length=20, help_text="minutes, % or tickets: the measure's own unit")
    definition = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    value = forms.DecimalField(min_value=0, max_digits=14, decimal_places=4)
    illustrative = forms.BooleanField(required=False)


class BenchmarkImportForm(forms.Form):
    file = forms.FileField(help_text="CSV with the columns: " + ", ".join(benchmarks.CSV_COLUMNS))


@login_required
def benchmark_list(request: HttpRequest) -> HttpResponse:
    """Published benchmarks, Steward's placement against each, and (for managers) import."""
    _need(request, "service.view_servicebenchmark")
    can_add = request.user.has_perm("service.add_servicebenchmark")
    form = BenchmarkForm(prefix="one")
    upload = BenchmarkImportForm(prefix="csv")
    if request.method == "POST" and can_add:
        if "csv-file" in request.FILES or request.POST.get("kind") == "csv":
            upload = BenchmarkImportForm(request.POST, request.FILES, prefix="csv")
            if upload.is_valid():
                try:
                    check_upload(upload.cleaned_data["file"], field="file")
                    upload.cleaned_data["file"].seek(0)
                    saved = benchmarks.benchmarks_import(
                        actor=request.user, content=upload.cleaned_data["file"].read()
                    )
                except ValidationError as exc:
                    for message in exc.message_dict.get("file", exc.messages):
                        upload.add_error("file", message)
                else:
                    messages.success(request, f"{len(saved)} benchmark values imported.")
                    return redirect("service:benchmarks")
        else:
            form = BenchmarkForm(request.POST, prefix="one")
            if form.is_valid():
                try:
                    benchmarks.benchmark_create(actor=request.user, data=dict(form.cleaned_data))
                except ValidationError as exc:
                    for name, errors in exc.message_dict.items():
                        form.add_error(name if name in form.fields else None, errors)
                else:
                    messages.success(request, "Benchmark recorded.")
                    return redirect("service:benchmarks")
    try:
        period = reports.parse_period(
            request.GET.get("period") or reports.last_month(timezone.localdate()).label
        )
    except ValidationError:
        period = reports.last_month(timezone.localdate())
    visible = list(ServiceBenchmark.objects.restrict(request.user))
    by_measure: dict[str, list[ServiceBenchmark]] = {}
    for b in visible:
        by_measure.setdefault(b.measure_code, []).append(b)
    comparisons = []
    for code, items in sorted(by_measure.items()):
        comparisons.append(
            (
                measures.MEASURES[code],
                benchmarks.compare(measure_code=code, start=period.start, end=period.end, benchmarks=items),
            )
        )
    return render(
        request,
        "service/reports_benchmarks.html",
        {
            "period": period,
            "comparisons": comparisons,
            "form": form if can_add else None,
            "upload": upload if can_add else None,
        },
    )
