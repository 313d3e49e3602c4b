"""KPI pages: define KPIs with a live preview, change them by version, build scorecards, see a subject's
scorecard over time, explain every score, compare, approve credits, export statements.

Views parse, call a selector or a service, and render; nothing here decides a rule.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from core import audit
from core.models import AuditEvent
from kpis import charts, exports, forms, selectors, services
from kpis import periods as period_math
from kpis.models import Adjustment, KpiVersion, MeasureSubmission, ScorecardPeriod
from vendors import selectors as vendor_selectors


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
            form.add_error(None, [e if field == "__all__" else f"{field}: {e}" for e in errors])


# --- Overview -----------------------------------------------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Scorecards the user may see, with their latest score; what awaits the user's decision."""
    _need(request, "kpis.view_scorecard")
    scorecards = list(selectors.scorecard_list(user=request.user))
    by_id = {sc.pk: sc for sc in scorecards}
    latest: dict[int, ScorecardPeriod] = {}
    for period in (
        ScorecardPeriod.objects.restrict(request.user)
        .filter(scorecard__in=scorecards)
        .select_related("standing")
        .order_by("scorecard_id", "-start")
    ):
        period.scorecard = by_id[period.scorecard_id]  # already loaded: no query per row
        latest.setdefault(period.scorecard_id, period)
    rows = [{"scorecard": sc, "latest": latest.get(sc.pk)} for sc in scorecards]
    return render(
        request,
        "kpis/home.html",
        {
            "rows": rows,
            "counts": selectors.open_counts(user=request.user),
            "can_build": request.user.has_perm("kpis.add_scorecard"),
        },
    )


# --- KPI definitions ----------------------------------------------------------------------------------


@login_required
def kpi_list(request: HttpRequest) -> HttpResponse:
    _need(request, "kpis.view_kpidefinition")
    kpis = [
        {"kpi": k, "current": selectors.current_version(k), "pending": selectors.pending_version(k)}
        for k in selectors.kpi_list(user=request.user, include_retired=True)
    ]
    return render(
        request,
        "kpis/kpi_list.html",
        {
            "kpis": kpis,
            "measures": selectors.measure_list(user=request.user),
            "can_add": request.user.has_perm("kpis.add_kpidefinition"),
        },
    )


def _preview_context(request: HttpRequest, data: Any) -> dict[str, Any]:
    form = forms.KpiVersionForm(data)
    form.is_valid()  # partial data is fine: the preview uses what parses
    clean = form.cleaned_data
    bands = form.bands() if hasattr(form, "cleaned_data") else []
    preview = selectors.formula_preview(
        user=request.user,
        text=data.get("formula", ""),
        direction=clean.get("direction") or "higher",
        target=clean.get("target"),
        bands=bands,
        min_sample_size=clean.get("min_sample_size") or 0,
    )
    return {"preview": preview}


@login_required
@require_POST
def formula_preview(request: HttpRequest) -> HttpResponse:
    """HTMX: the formula checked and evaluated on last month's data as the user types."""
    _need(request, "kpis.view_kpidefinition")
    return render(request, "kpis/_preview.html", _preview_context(request, request.POST))


@login_required
def kpi_create(request: HttpRequest) -> HttpResponse:
    _need(request, "kpis.add_kpidefinition")
    form = forms.KpiCreateForm(
        request.POST or None, initial={"target_band": "2", "effective_from": timezone.localdate()}
    )
    if request.method == "POST" and form.is_valid():
        try:
            version = services.kpi_define(
                actor=_actor(request),
                code=form.cleaned_data["code"],
                reason=form.cleaned_data["reason"],
                effective_from=form.cleaned_data.get("effective_from"),
                **form.version_fields(),
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(
                request, f"KPI “{version.name}” defined as version 1; another person must approve it."
            )
            return redirect("kpis:kpi_detail", pk=version.definition_id)
    return render(
        request,
        "kpis/kpi_form.html",
        {"form": form, "title": "Define a KPI", "measures": selectors.measure_list(user=request.user)},
    )


@login_required
def kpi_detail(request: HttpRequest, pk: int) -> HttpResponse:
    definition = selectors.kpi_get(user=request.user, pk=pk)
    versions = list(selectors.kpi_versions(user=request.user, definition=definition))
    last_month = period_math.previous_period(period_math.MONTH, timezone.localdate())
    periods = list(
        ScorecardPeriod.objects.restrict(request.user)
        .filter(scorecard__lines__kpi=definition, start=last_month.start)
        .select_related("scorecard__subject")
    )
    return render(
        request,
        "kpis/kpi_detail.html",
        {
            "kpi": definition,
            "versions": versions,
            "periods": periods,
            "decision_form": forms.VersionDecisionForm(),
            "can_change": request.user.has_perm("kpis.change_kpidefinition")
            and definition.retired_at is None,
            "can_approve": request.user.has_perm("kpis.approve_kpiversion"),
        },
    )


@login_required
def kpi_change(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a KPI: a new version with a reason, prefilled from the latest one."""
    definition = selectors.kpi_get(user=request.user, pk=pk, action="change")
    latest = services.latest_version(definition)
    first_of_month = period_math.period_containing(period_math.MONTH, timezone.localdate()).start
    initial = {**forms.KpiVersionForm.initial_from(latest), "effective_from": first_of_month}
    form = forms.KpiVersionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            version = services.kpi_version_propose(
                actor=_actor(request),
                definition=definition,
                reason=form.cleaned_data["reason"],
                effective_from=form.cleaned_data.get("effective_from"),
                **form.version_fields(),
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Version {version.number} proposed; another person must approve it.")
            return redirect("kpis:kpi_detail", pk=definition.pk)
    return render(
        request,
        "kpis/kpi_form.html",
        {
            "form": form,
            "title": f"Change {definition.name}",
            "kpi": definition,
            "latest": latest,
            "measures": selectors.measure_list(user=request.user),
        },
    )


@login_required
@require_POST
def version_decide(request: HttpRequest, pk: int) -> HttpResponse:
    version = selectors.version_get(user=request.user, pk=pk)
    form = forms.VersionDecisionForm(request.POST)
    if form.is_valid():
        try:
            if form.cleaned_data["decision"] == "approve":
                services.kpi_version_approve(
                    actor=_actor(request),
                    version=version,
                    note=form.cleaned_data["note"],
                )
                messages.success(request, f"{version} approved.")
            else:
                services.kpi_version_reject(
                    actor=_actor(request),
                    version=version,
                    note=form.cleaned_data["note"],
                )
                messages.success(request, f"{version} rejected.")
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("kpis:kpi_detail", pk=version.definition_id)


# --- Scorecards -----------------------------------------------------------------------------------------


@login_required
def scorecard_create(request: HttpRequest) -> HttpResponse:
    _need(request, "kpis.add_scorecard")
    form = forms.ScorecardForm(
        request.POST or None,
        subjects=selectors.subject_list(user=request.user),
        kpis=selectors.kpi_list(user=request.user),
        schemes=selectors.standing_scheme_list(user=request.user),
    )
    if request.method == "POST" and form.is_valid():
        try:
            scorecard = services.scorecard_create(
                actor=_actor(request),
                name=form.cleaned_data["name"],
                subject=form.cleaned_data["subject"],
                granularity=form.cleaned_data["granularity"],
                standing_scheme=form.cleaned_data.get("standing_scheme"),
                lines=[services.LineSpec(**line) for line in form.lines()],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"Scorecard “{scorecard.name}” built.")
            return redirect("kpis:scorecard_detail", pk=scorecard.pk)
    return render(request, "kpis/scorecard_form.html", {"form": form})


@login_required
def scorecard_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A subject's scorecard over time: the chart, the periods, the KPIs and the contract terms."""
    scorecard = selectors.scorecard_get(user=request.user, pk=pk)
    history = selectors.scorecard_history(user=request.user, scorecard=scorecard)
    scheme = scorecard.standing_scheme
    bands = [(s.name, s.lower, s.upper, s.colour) for s in scheme.standings.all()] if scheme else []
    chart = charts.score_chart(
        selectors.chart_points(history), bands, title=f"{scorecard.name}: score by period"
    )
    can_manage = request.user.has_perm("kpis.change_scorecardperiod")
    terms = getattr(scorecard, "credit_terms", None)
    terms_form = None
    if request.user.has_perm("kpis.change_scorecard") and scorecard.granularity == "month":
        terms_form = forms.CreditTermsForm(
            initial={f: getattr(terms, f) for f in forms.CreditTermsForm.base_fields} if terms else None
        )
    return render(
        request,
        "kpis/scorecard_detail.html",
        {
            "scorecard": scorecard,
            "lines": selectors.scorecard_lines(scorecard=scorecard),
            "history": list(reversed(history)),
            "chart": chart,
            "terms": terms,
            "terms_form": terms_form,
            "close_form": forms.CloseForm(
                initial={
                    "start": period_math.previous_period(scorecard.granularity, timezone.localdate()).start
                }
            )
            if can_manage
            else None,
        },
    )


@login_required
@require_POST
def scorecard_close(request: HttpRequest, pk: int) -> HttpResponse:
    scorecard = selectors.scorecard_get(user=request.user, pk=pk, action="change")
    form = forms.CloseForm(request.POST)
    if form.is_valid():
        try:
            period = services.period_close(
                actor=_actor(request), scorecard=scorecard, start=form.cleaned_data["start"]
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"{period.label} closed.")
            return redirect("kpis:period_detail", pk=period.pk)
    return redirect("kpis:scorecard_detail", pk=scorecard.pk)


@login_required
@require_POST
def scorecard_terms(request: HttpRequest, pk: int) -> HttpResponse:
    scorecard = selectors.scorecard_get(user=request.user, pk=pk, action="change")
    form = forms.CreditTermsForm(request.POST)
    if form.is_valid():
        try:
            services.credit_terms_set(actor=_actor(request), scorecard=scorecard, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, "Credit terms saved.")
    else:
        messages.error(request, "Check the credit terms: " + form.errors.as_text())
    return redirect("kpis:scorecard_detail", pk=scorecard.pk)


@login_required
def compare(request: HttpRequest) -> HttpResponse:
    """Subjects side by side: scores per period and the latest period's KPI results."""
    _need(request, "kpis.view_scorecard")
    try:
        ids = [int(i) for i in request.GET.getlist("ids")][:8]
    except ValueError:
        ids = []
    comparison = selectors.compare_scorecards(user=request.user, ids=ids) if ids else None
    return render(
        request,
        "kpis/compare.html",
        {
            "comparison": comparison,
            "choices": selectors.scorecard_list(user=request.user),
            "selected": ids,
        },
    )


# --- Periods and explanations ---------------------------------------------------------------------------


@login_required
def period_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A period: each KPI's value, formula, version, band and inputs; credits; recommendation; exports."""
    period = selectors.period_get(user=request.user, pk=pk)
    results = selectors.period_results(user=request.user, period=period, official=False)
    official = [r for r in results if r.is_official]
    other = [r for r in results if not r.is_official]
    adjustments = list(Adjustment.objects.restrict(request.user).filter(period=period).select_related("kpi"))
    recommendation = selectors.recommendation_list(user=request.user).filter(period=period).first()
    plan = selectors.improvement_plan_list(user=request.user).filter(period=period).first()
    kpi_ids = [r.kpi_id for r in official]
    versions = {
        v.definition_id: v
        for v in KpiVersion.objects.restrict(request.user)
        .filter(definition_id__in=kpi_ids)
        .order_by("number")
    }
    choosable = list(
        KpiVersion.objects.restrict(request.user)
        .filter(definition_id__in=kpi_ids, status=KpiVersion.Status.APPROVED)
        .select_related("definition")
        .order_by("definition__name", "number")
    )
    can_recompute = request.user.has_perm(
        "kpis.recompute_period"
        if period.status == ScorecardPeriod.Status.CLOSED
        else "kpis.change_scorecardperiod"
    )
    return render(
        request,
        "kpis/period_detail.html",
        {
            "period": period,
            "results": official,
            "other_results": other,
            "adjustments": adjustments,
            "recommendation": recommendation,
            "plan": plan,
            "latest_versions": versions,
            "choosable": choosable,
            "can_recompute": can_recompute,
            "can_decide_money": request.user.has_perm("kpis.approve_adjustment"),
            "can_decide_staff": request.user.has_perm("kpis.approve_staffrecommendation"),
            "decision_form": forms.AdjustmentDecisionForm(),
            "recommendation_form": forms.RecommendationDecisionForm(
                initial={"final": recommendation.proposed} if recommendation else None
            ),
        },
    )


@login_required
@require_POST
def period_recompute(request: HttpRequest, pk: int) -> HttpResponse:
    period = selectors.period_get(user=request.user, pk=pk, action="change")
    chosen: dict[int, KpiVersion] = {}
    for key in request.POST:
        value = request.POST.get(key, "")
        if key.startswith("version_") and value:
            try:
                version = selectors.version_get(user=request.user, pk=int(value))
            except (ValueError, Http404):
                continue
            chosen[version.definition_id] = version
    try:
        services.period_recompute(actor=_actor(request), period=period, versions=chosen)
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    else:
        messages.success(request, "Recomputed. Each result names the version it used.")
    return redirect("kpis:period_detail", pk=period.pk)


@login_required
def period_compare(request: HttpRequest, pk: int) -> HttpResponse:
    """The period under the version in force and under each KPI's latest version (drafts too): a what-if."""
    period = selectors.period_get(user=request.user, pk=pk)
    lines = selectors.scorecard_lines(scorecard=period.scorecard)
    in_force = {r.kpi_id: r.version for r in selectors.period_results(user=request.user, period=period)}
    latest: dict[int, KpiVersion] = {}
    for version in (
        KpiVersion.objects.restrict(request.user)
        .filter(definition_id__in=[line.kpi_id for line in lines])
        .exclude(status=KpiVersion.Status.REJECTED)
        .order_by("number")
    ):
        latest[version.definition_id] = version
    choices = {"Used for this period": in_force, "Latest versions": latest}
    comparison = selectors.period_compare_versions(user=request.user, period=period, choices=choices)
    return render(
        request,
        "kpis/period_compare.html",
        {"period": period, "comparison": comparison, "labels": list(choices)},
    )


@login_required
def result_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """Why this number: formula, version, band table, each input and the data rows behind it."""
    result = selectors.result_get(user=request.user, pk=pk)
    return render(
        request,
        "kpis/result_detail.html",
        {
            "result": result,
            "inputs": selectors.explain_result(user=request.user, result=result),
        },
    )


@login_required
def statement(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    period = selectors.period_get(user=request.user, pk=pk)
    return exports.statement_response(user=request.user, period=period, fmt=fmt)


# --- Credits, recommendations ---------------------------------------------------------------------------


@login_required
def adjustment_list(request: HttpRequest) -> HttpResponse:
    _need(request, "kpis.view_adjustment")
    status = request.GET.get("status", Adjustment.Status.PROPOSED)
    if status not in Adjustment.Status.values and status != "all":
        status = Adjustment.Status.PROPOSED
    adjustments = selectors.adjustment_list(user=request.user, status="" if status == "all" else status)
    return render(
        request,
        "kpis/adjustment_list.html",
        {
            "adjustments": adjustments[:200],
            "status": status,
            "statuses": Adjustment.Status.choices,
            "form": forms.AdjustmentDecisionForm(),
            "can_decide": request.user.has_perm("kpis.approve_adjustment"),
        },
    )


@login_required
@require_POST
def adjustment_decide(request: HttpRequest, pk: int) -> HttpResponse:
    adjustment = selectors.adjustment_get(user=request.user, pk=pk)
    form = forms.AdjustmentDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.adjustment_decide(actor=_actor(request), adjustment=adjustment, **form.cleaned_data)
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, f"{adjustment.get_kind_display()} decided.")
    else:
        messages.error(request, form.errors.as_text())
    return redirect(request.POST.get("next") or reverse("kpis:period_detail", args=[adjustment.period_id]))


@login_required
@require_POST
def recommendation_decide(request: HttpRequest, pk: int) -> HttpResponse:
    recommendation = selectors.recommendation_get(user=request.user, pk=pk)
    form = forms.RecommendationDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.recommendation_decide(
                actor=_actor(request),
                recommendation=recommendation,
                **form.cleaned_data,
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, "Recommendation decided.")
    return redirect("kpis:period_detail", pk=recommendation.period_id)


# --- Submitted measurements -----------------------------------------------------------------------------


@login_required
def submission_list(request: HttpRequest) -> HttpResponse:
    _need(request, "kpis.view_measuresubmission")
    form = None
    if request.user.has_perm("kpis.add_measuresubmission"):
        form = forms.SubmissionForm(
            request.POST or None,
            request.FILES or None,
            measures=selectors.submittable_measures(user=request.user),
            subjects=selectors.subject_list(user=request.user),
        )
        if request.method == "POST" and form.is_valid():
            try:
                data = form.cleaned_data
                services.submission_create(
                    actor=_actor(request),
                    measure=data["measure"],
                    subject=data["subject"],
                    start=data["start"],
                    end=data["end"],
                    value=data["value"],
                    sample_size=data.get("sample_size"),
                    note=data.get("note", ""),
                    evidence=data["evidence"],
                )
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, ValidationError):
                    _errors(form, exc)
                else:
                    form.add_error(None, str(exc))
            else:
                messages.success(request, "Measurement submitted; it counts once someone else approves it.")
                return redirect("kpis:submission_list")
    return render(
        request,
        "kpis/submission_list.html",
        {
            "submissions": selectors.submission_list(user=request.user)[:200],
            "form": form,
            "decision_form": forms.SubmissionDecisionForm(),
            "can_decide": request.user.has_perm("kpis.approve_measuresubmission"),
        },
    )


@login_required
def submission_detail(request: HttpRequest, pk: int) -> HttpResponse:
    submission = selectors.submission_get(user=request.user, pk=pk)
    return render(
        request,
        "kpis/submission_detail.html",
        {
            "submission": submission,
            "decision_form": forms.SubmissionDecisionForm(),
            "can_decide": request.user.has_perm("kpis.approve_measuresubmission")
            and submission.status == MeasureSubmission.Status.SUBMITTED,
        },
    )


@login_required
def submission_evidence(request: HttpRequest, pk: int) -> FileResponse:
    """The evidence file, through the same access rules as the submission (never a public media URL)."""
    submission = selectors.submission_get(user=request.user, pk=pk)
    if not submission.evidence:
        raise Http404
    audit.record_event(
        AuditEvent.Action.EXPORT,
        object_type="kpis.measuresubmission",
        object_id=str(submission.pk),
        detail={"evidence": submission.evidence.name},
        actor=_actor(request),
    )
    return FileResponse(
        submission.evidence.open("rb"),
        as_attachment=True,
        filename=submission.evidence.name.rsplit("/", 1)[-1],
    )


@login_required
@require_POST
def submission_decide(request: HttpRequest, pk: int) -> HttpResponse:
    submission = selectors.submission_get(user=request.user, pk=pk)
    form = forms.SubmissionDecisionForm(request.POST)
    if form.is_valid():
        try:
            services.submission_decide(
                actor=_actor(request),
                submission=submission,
                approve=form.cleaned_data["decision"] == "approve",
                reason=form.cleaned_data["reason"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
        else:
            messages.success(request, "Submission decided.")
    return redirect("kpis:submission_list")


# --- KPI reviews ------------------------------------------------------------------------------------------


@login_required
def review_list(request: HttpRequest) -> HttpResponse:
    _need(request, "kpis.view_kpireview")
    return render(
        request, "kpis/review_list.html", {"reviews": selectors.review_list(user=request.user)[:200]}
    )


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.review_get(user=request.user, pk=pk)
    figures = (
        review.figures
        if review.status == "done"
        else selectors.kpi_figures(user=request.user, definition=review.definition)
    )
    form = forms.ReviewDecisionForm(request.POST or None)
    if request.method == "POST":
        review = selectors.review_get(user=request.user, pk=pk, action="change")
        if form.is_valid():
            changes = {}
            if form.cleaned_data.get("target") is not None:
                changes["target"] = form.cleaned_data["target"]
            try:
                services.review_decide(
                    actor=_actor(request),
                    review=review,
                    decision=form.cleaned_data["decision"],
                    rationale=form.cleaned_data["rationale"],
                    figures=figures,
                    changes=changes,
                )
            except (ValidationError, PermissionDenied) as exc:
                if isinstance(exc, ValidationError):
                    _errors(form, exc)
                else:
                    form.add_error(None, str(exc))
            else:
                messages.success(request, "Review recorded.")
                return redirect("kpis:review_detail", pk=review.pk)
    current = selectors.current_version(review.definition)
    return render(
        request,
        "kpis/review_detail.html",
        {
            "review": review,
            "figures": figures,
            "form": form,
            "current": current,
            "can_decide": request.user.has_perm("kpis.change_kpireview") and review.status == "due",
        },
    )


# --- Subjects, standings, scorecard lines, improvement plans ----------------------------------------------


def _service_errors(form: Any, exc: ValidationError, *, group: str) -> None:
    """Like ``_errors``, but a message about the whole GROUP (e.g. "standings") is shown plainly."""
    if hasattr(exc, "error_dict") and group in exc.error_dict:
        form.add_error(None, exc.message_dict[group])
        rest = {k: v for k, v in exc.error_dict.items() if k != group}
        if not rest:
            return
        exc = ValidationError(rest)
    _errors(form, exc)


@login_required
def subject_list(request: HttpRequest) -> HttpResponse:
    """The subjects the user may see; KPI managers register a vendor, team or agent here."""
    _need(request, "kpis.view_subject")
    form = None
    if request.user.has_perm("kpis.add_subject"):
        form = forms.SubjectForm(
            request.POST or None,
            vendors=vendor_selectors.vendor_list(user=request.user),
            agents=selectors.agent_choices(user=request.user),
        )
    elif request.method == "POST":
        raise PermissionDenied
    if form is not None and request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        kind = data["kind"]
        try:
            subject = services.subject_create(
                actor=_actor(request),
                kind=kind,
                label=data["label"],
                vendor=data.get("vendor") if kind == "vendor" else None,
                user=data.get("user") if kind == "agent" else None,
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, f"{subject} registered.")
            return redirect("kpis:subject_list")
    return render(
        request,
        "kpis/subject_list.html",
        {"subjects": selectors.subject_list(user=request.user)[:500], "form": form},
    )


@login_required
def standing_scheme_list(request: HttpRequest) -> HttpResponse:
    _need(request, "kpis.view_standingscheme")
    return render(
        request,
        "kpis/standing_scheme_list.html",
        {"schemes": selectors.standing_scheme_list(user=request.user)},
    )


@login_required
def standing_scheme_create(request: HttpRequest) -> HttpResponse:
    """A scheme of coloured standings over 0–100; gaps and overlaps come back from the service."""
    _need(request, "kpis.add_standingscheme")
    form = forms.StandingSchemeForm(request.POST or None)
    formset = forms.StandingFormSet(request.POST or None, prefix="standings")
    if request.method == "POST" and form.is_valid() and formset.is_valid():
        rows = [f.cleaned_data for f in formset.forms if f.has_changed() and f.cleaned_data]
        try:
            scheme = services.standing_scheme_create(
                actor=_actor(request),
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                standings=rows,
            )
        except ValidationError as exc:
            _service_errors(form, exc, group="standings")
        else:
            messages.success(request, f"Standings “{scheme.name}” defined.")
            return redirect("kpis:standing_scheme_list")
    return render(request, "kpis/standing_scheme_form.html", {"form": form, "formset": formset})


@login_required
def scorecard_lines_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Change a scorecard's KPIs, weights (total 100) and credit terms per line."""
    scorecard = selectors.scorecard_get(user=request.user, pk=pk, action="change")
    kpis = selectors.kpi_list(user=request.user)
    current = selectors.scorecard_lines(scorecard=scorecard)
    formset = forms.ScorecardLineFormSet(
        request.POST or None,
        prefix="lines",
        initial=[forms.ScorecardLineForm.initial_from(line) for line in current],
        form_kwargs={"kpis": kpis},
    )
    service_errors: list[str] = []
    if request.method == "POST" and formset.is_valid():
        specs = [
            services.LineSpec(**f.spec())
            for f in formset.forms
            if (f.has_changed() or f.initial) and not f.cleaned_data.get("DELETE")
        ]
        try:
            services.scorecard_set_lines(actor=_actor(request), scorecard=scorecard, lines=specs)
        except ValidationError as exc:
            service_errors = exc.messages
        else:
            messages.success(request, "KPIs and weights saved.")
            return redirect("kpis:scorecard_detail", pk=scorecard.pk)
    return render(
        request,
        "kpis/scorecard_lines_form.html",
        {"scorecard": scorecard, "formset": formset, "service_errors": service_errors},
    )


@login_required
@require_POST
def improvement_plan_act(request: HttpRequest, pk: int) -> HttpResponse:
    """Submit (or rewrite) an improvement plan, or accept a submitted one."""
    plan = selectors.improvement_plan_get(user=request.user, pk=pk, action="change")
    try:
        if request.POST.get("action") == "accept":
            services.improvement_plan_accept(actor=_actor(request), plan=plan)
            messages.success(request, "Improvement plan accepted.")
        else:
            form = forms.ImprovementPlanForm(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.as_text())
            services.improvement_plan_submit(actor=_actor(request), plan=plan, text=form.cleaned_data["plan"])
            messages.success(request, "Improvement plan submitted; another person accepts it.")
    except (ValidationError, PermissionDenied) as exc:
        messages.error(request, " ".join(getattr(exc, "messages", [str(exc)])))
    return redirect("kpis:period_detail", pk=plan.period_id)
