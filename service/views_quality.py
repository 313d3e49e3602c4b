"""Pages for service quality: survey results and the public survey page, codes of practice, QA
rubrics and reviews, staff reviews.

Views parse, call a selector or a service, and render; nothing here decides a rule. Every
object is fetched through ``restrict`` (an agent reaches only their own reviews).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts.models import User
from core.access import get_restricted_or_404
from kpis import periods as period_math
from service import forms_quality as forms
from service import qa, staff_reviews, surveys
from service import quality_selectors as selectors
from service.api_quality import DEFINITIONS
from service.models import Agent, CodeOfPractice, QaReview, StaffReview, Ticket

PAGE_SIZE = 50


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _errors(form: Any, exc: ValidationError) -> None:
    """Attach a service's ValidationError to the form: on the field when the form has it."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for name, errors in exc.message_dict.items():
        if name in form.fields:
            form.add_error(name, errors)
        else:
            form.add_error(
                None, [e if name == "__all__" else f"{name.replace('_', ' ')}: {e}" for e in errors]
            )


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


def _month(value: str) -> period_math.Period:
    try:
        year, month = (int(part) for part in value.split("-"))
        return period_math.period_containing(period_math.MONTH, date(year, month, 1))
    except ValueError:
        return period_math.period_containing(period_math.MONTH, timezone.localdate())


def _nav(request: HttpRequest, active: str) -> dict[str, Any]:
    user = request.user
    return {
        "quality_active": active,
        "quality_nav": [
            (key, label, url)
            for key, label, url, perm in (
                ("surveys", "Surveys", "service:survey_list", "service.view_surveyresponse"),
                ("codes", "Codes of practice", "service:code_list", "service.view_codeofpractice"),
                ("rubrics", "QA rubrics", "service:rubric_list", "service.view_rubric"),
                ("qa", "QA reviews", "service:qa_list", "service.view_qareview"),
                ("staff", "Staff reviews", "service:staff_list", "service.view_staffreview"),
            )
            if user.has_perm(perm)
        ],
    }


# --- Surveys --------------------------------------------------------------------------------------


@login_required
def survey_list(request: HttpRequest) -> HttpResponse:
    """A month's survey results: response rate, CSAT, NPS and CES with their definitions, and the answers."""
    _need(request, "service.view_surveyresponse")
    month = request.GET.get("month", "")[:7]
    # By default the last closed month, as on the KPI dashboard: this month's answers are still coming in.
    period = _month(month) if month else period_math.previous_period(period_math.MONTH, timezone.localdate())
    ticket = request.GET.get("ticket", "")
    ticket_id = int(ticket) if ticket.isdigit() and len(ticket) < 18 else None
    rows = selectors.invitation_list(
        user=request.user,
        start=None if ticket_id else period.start,
        end=None if ticket_id else period.end,
        ticket_id=ticket_id,
    )
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "service/survey_list.html",
        {
            **_nav(request, "surveys"),
            "month": period.start.strftime("%Y-%m"),
            "summary": selectors.survey_summary(user=request.user, start=period.start, end=period.end),
            "definitions": DEFINITIONS,
            "page": page,
            "ticket_id": ticket_id,
        },
    )


def _refused(request: HttpRequest, exc: surveys.LinkRefused) -> HttpResponse:
    return render(request, "service/survey_refused.html", {"refusal": exc}, status=exc.status)


@never_cache
def survey_answer(request: HttpRequest, token: str) -> HttpResponse:
    """The public, mobile-first survey page: no login; the signed link is the only key."""
    try:
        invitation = surveys.invitation_for_token(token)
    except surveys.LinkRefused as exc:
        return _refused(request, exc)
    form = forms.SurveyAnswerForm(request.POST or None, ces_scale=invitation.ces_scale_max)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            surveys.survey_answer(
                token=token, csat=data["csat"], nps=data["nps"], ces=data["ces"], comment=data["comment"]
            )
        except surveys.LinkRefused as exc:
            return _refused(request, exc)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            return render(request, "service/survey_thanks.html")
    status = 422 if request.method == "POST" else 200
    return render(
        request,
        "service/survey_answer.html",
        {"form": form, "invitation": invitation, "ces_scale": invitation.ces_scale_max},
        status=status,
    )


# --- Codes of practice -----------------------------------------------------------------------------


@login_required
def code_list(request: HttpRequest) -> HttpResponse:
    _need(request, "service.view_codeofpractice")
    form = forms.CodeOfPracticeForm(request.POST or None)
    if request.method == "POST":
        _need(request, "service.add_codeofpractice")
        if form.is_valid():
            try:
                cop = qa.code_of_practice_create(actor=_actor(request), **form.cleaned_data)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, f"Draft “{cop.title}” started; add its items, then publish it.")
                return redirect("service:code_detail", pk=cop.pk)
    return render(
        request,
        "service/quality_codes.html",
        {
            **_nav(request, "codes"),
            "codes": selectors.code_list(user=request.user),
            "form": form,
            "can_add": request.user.has_perm("service.add_codeofpractice"),
        },
        status=422 if request.method == "POST" else 200,
    )


@login_required
def code_detail(request: HttpRequest, pk: int) -> HttpResponse:
    cop = selectors.code_get(user=request.user, pk=pk)
    form = forms.CodeItemForm(request.POST or None)
    status = 200
    if request.method == "POST":
        _need(request, "service.add_codeitem")
        status = 422
        if form.is_valid():
            try:
                qa.code_item_add(
                    actor=_actor(request), code_of_practice=cop, spec=qa.ItemSpec(**form.cleaned_data)
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, "Item added.")
                return redirect("service:code_detail", pk=cop.pk)
    return render(
        request,
        "service/quality_code_detail.html",
        {
            **_nav(request, "codes"),
            "cop": cop,
            "items": cop.items.all(),
            "form": form,
            "can_edit": cop.status == CodeOfPractice.Status.DRAFT
            and request.user.has_perm("service.add_codeitem"),
            "can_publish": cop.status == CodeOfPractice.Status.DRAFT
            and request.user.has_perm("service.change_codeofpractice"),
            "can_version": cop.status != CodeOfPractice.Status.DRAFT
            and request.user.has_perm("service.add_codeofpractice"),
        },
        status=status,
    )


@login_required
@require_POST
def code_publish(request: HttpRequest, pk: int) -> HttpResponse:
    cop = selectors.code_get(user=request.user, pk=pk)
    try:
        qa.code_of_practice_publish(actor=_actor(request), code_of_practice=cop)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, f"Version {cop.version} published; QA reviews may cite it.")
    return redirect("service:code_detail", pk=cop.pk)


@login_required
@require_POST
def code_new_version(request: HttpRequest, pk: int) -> HttpResponse:
    cop = selectors.code_get(user=request.user, pk=pk)
    try:
        draft = qa.code_of_practice_new_version(actor=_actor(request), code_of_practice=cop)
    except ValidationError as exc:
        _flash(request, exc)
        return redirect("service:code_detail", pk=cop.pk)
    messages.success(request, f"Draft version {draft.version} started from version {cop.version}.")
    return redirect("service:code_detail", pk=draft.pk)


# --- Rubrics ---------------------------------------------------------------------------------------


@login_required
def rubric_list(request: HttpRequest) -> HttpResponse:
    _need(request, "service.view_rubric")
    form = forms.RubricForm(request.POST or None)
    formset = forms.CategoryFormSet(request.POST or None, prefix="cat")
    status = 200
    if request.method == "POST":
        _need(request, "service.add_rubric")
        status = 422
        if form.is_valid() and formset.is_valid():
            specs = [
                qa.CategorySpec(
                    name=row["name"],
                    weight=row["weight"] if row.get("weight") is not None else "",
                    scale_min=row["scale_min"] if row.get("scale_min") is not None else 0,
                    scale_max=row["scale_max"] if row.get("scale_max") is not None else 4,
                    critical=bool(row.get("critical")),
                    pass_mark=row["pass_mark"] if row.get("pass_mark") is not None else Decimal(100),
                )
                for row in formset.cleaned_data
                if row.get("name")
            ]
            try:
                rubric = qa.rubric_create(actor=_actor(request), categories=specs, **form.cleaned_data)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, f"Rubric “{rubric.name}” created.")
                return redirect("service:rubric_list")
    return render(
        request,
        "service/quality_rubrics.html",
        {
            **_nav(request, "rubrics"),
            "rubrics": selectors.rubric_list(user=request.user),
            "form": form,
            "formset": formset,
            "can_add": request.user.has_perm("service.add_rubric"),
        },
        status=status,
    )


# --- QA reviews ------------------------------------------------------------------------------------


def _assign_form(request: HttpRequest) -> forms.AssignForm:
    form = forms.AssignForm(request.POST or None)
    form.fields["reviewer"].choices = [  # type: ignore[attr-defined]
        (u.pk, u.get_full_name() or u.username) for u in selectors.reviewers(user=request.user)
    ]
    form.fields["rubric"].choices = [  # type: ignore[attr-defined]
        (r.pk, r.name) for r in selectors.rubric_list(user=request.user).filter(active=True)
    ]
    return form


@login_required
def qa_list(request: HttpRequest) -> HttpResponse:
    """Reviews the user may see (an agent: their own; a reviewer: also those assigned), and assignment."""
    _need(request, "service.view_qareview")
    can_assign = request.user.has_perm("service.add_qareview")
    form = _assign_form(request) if can_assign else None
    status = 200
    if request.method == "POST":
        _need(request, "service.add_qareview")
        assert form is not None
        status = 422
        if form.is_valid():
            data = form.cleaned_data
            ticket = (
                Ticket.objects.restrict(request.user)
                .filter(pk=data["ticket"])
                .select_related("agent")
                .first()
            )
            rubric = selectors.rubric_list(user=request.user).filter(pk=data["rubric"]).first()
            reviewer = User.objects.filter(pk=data["reviewer"]).first()
            if ticket is None:
                form.add_error("ticket", "No such ticket.")
            elif rubric is not None and reviewer is not None:
                try:
                    review = qa.qa_assign(
                        actor=_actor(request),
                        ticket=ticket,
                        reviewer=reviewer,
                        rubric=rubric,
                        due_on=data["due_on"],
                    )
                except ValidationError as exc:
                    _errors(form, exc)
                else:
                    messages.success(request, "Conversation assigned for review.")
                    return redirect("service:qa_detail", pk=review.pk)
    wanted = request.GET.get("status", "")
    rows = selectors.review_list(user=request.user, status=wanted if wanted in QaReview.Status.values else "")
    return render(
        request,
        "service/quality_qa_list.html",
        {
            **_nav(request, "qa"),
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "statuses": QaReview.Status.choices,
            "status": wanted,
            "form": form,
        },
        status=status,
    )


def _selections(request: HttpRequest, review: QaReview) -> dict[int, qa.Selection]:
    return {
        c.pk: qa.Selection(request.POST.get(f"score-{c.pk}", ""), request.POST.get(f"note-{c.pk}", "")[:4000])
        for c in review.rubric.categories.all()
    }


@login_required
def qa_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One review: the reviewer scores it, the agent acknowledges or disputes, a manager resolves."""
    review = selectors.review_get(user=request.user, pk=pk)
    user = _actor(request)
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "submit":
                cited = [int(v) for v in request.POST.getlist("cited") if v.isdigit() and len(v) < 18]
                qa.qa_review_submit(
                    actor=user,
                    review=review,
                    selections=_selections(request, review),
                    summary=request.POST.get("summary", "")[:4000],
                    cited_item_ids=cited,
                )
                messages.success(request, "Review submitted; the agent is asked to acknowledge it.")
            elif action == "acknowledge":
                qa.qa_review_acknowledge(actor=user, review=review)
                messages.success(request, "Review acknowledged.")
            elif action == "dispute":
                qa.qa_review_dispute(actor=user, review=review, reason=request.POST.get("reason", "")[:4001])
                messages.success(request, "Dispute recorded; a manager will resolve it.")
            elif action == "resolve":
                outcome = request.POST.get("outcome", "")
                qa.qa_dispute_resolve(
                    actor=user,
                    review=review,
                    outcome=outcome,
                    note=request.POST.get("note", "")[:4001],
                    selections=_selections(request, review) if outcome == QaReview.Outcome.AMENDED else None,
                )
                messages.success(request, "Dispute resolved.")
            else:
                raise ValidationError("Unknown action.")
        except ValidationError as exc:
            errors = exc.messages
            status = 422
        else:
            return redirect("service:qa_detail", pk=review.pk)
        review = selectors.review_get(user=request.user, pk=pk)
    scores = {s.category_id: s for s in review.scores.all()}
    categories = [
        (c, scores.get(c.pk), request.POST.get(f"score-{c.pk}", "")) for c in review.rubric.categories.all()
    ]
    is_agent = review.agent.user_id == user.pk
    return render(
        request,
        "service/quality_qa_detail.html",
        {
            **_nav(request, "qa"),
            "review": review,
            "categories": categories,
            "errors": errors,
            "citable": selectors.citable_items(user=request.user),
            "can_submit": review.status == QaReview.Status.ASSIGNED and review.reviewer_id == user.pk,
            "can_answer": review.status == QaReview.Status.SUBMITTED and is_agent,
            "can_resolve": review.status == QaReview.Status.DISPUTED
            and user.has_perm("service.resolve_qareview")
            and review.reviewer_id != user.pk
            and not is_agent,
            "outcomes": QaReview.Outcome.choices,
        },
        status=status,
    )


# --- Staff reviews ----------------------------------------------------------------------------------


@login_required
def staff_list(request: HttpRequest) -> HttpResponse:
    _need(request, "service.view_staffreview")
    can_prepare = request.user.has_perm("service.add_staffreview")
    form = forms.StaffReviewForm(request.POST or None) if can_prepare else None
    if form is not None:
        form.fields["agent"].choices = [  # type: ignore[attr-defined]
            (a.pk, a.name) for a in selectors.agents_for_review(user=request.user)
        ]
    status = 200
    if request.method == "POST":
        _need(request, "service.add_staffreview")
        assert form is not None
        status = 422
        if form.is_valid():
            agent = get_restricted_or_404(Agent, user=request.user, pk=form.cleaned_data["agent"])
            period = _month(form.cleaned_data["month"])
            try:
                review = staff_reviews.staff_review_prepare(
                    actor=_actor(request), agent=agent, start=period.start, end=period.end
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                return redirect("service:staff_detail", pk=review.pk)
    rows = selectors.staff_review_list(user=request.user)
    return render(
        request,
        "service/quality_staff_list.html",
        {
            **_nav(request, "staff"),
            "page": Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page")),
            "form": form,
        },
        status=status,
    )


@login_required
def staff_detail(request: HttpRequest, pk: int) -> HttpResponse:
    review = selectors.staff_review_get(user=request.user, pk=pk)
    user = _actor(request)
    can_decide = (
        review.status == StaffReview.Status.PROPOSED
        and user.has_perm("service.decide_staffreview")
        and review.agent.user_id != user.pk
    )
    form = forms.DecisionForm(request.POST or None, initial={"decision": review.recommendation})
    status = 200
    if request.method == "POST":
        status = 422
        if request.POST.get("action") == "refresh":
            try:
                staff_reviews.staff_review_prepare(
                    actor=user, agent=review.agent, start=review.start, end=review.end
                )
            except ValidationError as exc:
                _flash(request, exc)
            else:
                messages.success(request, "Figures refreshed.")
            return redirect("service:staff_detail", pk=review.pk)
        if form.is_valid():
            try:
                staff_reviews.staff_review_decide(
                    actor=user,
                    review=review,
                    decision=form.cleaned_data["decision"],
                    reason=form.cleaned_data["reason"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, "Decision recorded.")
                return redirect("service:staff_detail", pk=review.pk)
    return render(
        request,
        "service/quality_staff_detail.html",
        {
            **_nav(request, "staff"),
            "review": review,
            "figures": review.figures,
            "form": form,
            "can_decide": can_decide,
            "can_refresh": review.status == StaffReview.Status.PROPOSED
            and user.has_perm("service.add_staffreview"),
        },
        status=status,
    )
