"""Pages for retention (rules, dry run, run, history) and the breach register."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from core.access import get_restricted_or_404
from customers import breaches, retention
from customers import forms_privacy as forms
from customers.privacy_models import HANDLE_REQUESTS, Breach, RetentionRun
from customers.views_privacy import flash_errors, form_errors, need


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


@login_required
def retention_page(request: HttpRequest) -> HttpResponse:
    """The rules, a form to change one, the buttons for a dry run and a run, and the last runs."""
    need(request, HANDLE_REQUESTS)
    form = forms.RetentionRuleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            retention.retention_rule_save(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Retention rule saved.")
            return redirect("customers:retention")
    runs = retention.runs(user=request.user)[:20]
    context = {
        "rules": retention.rules(user=request.user),
        "form": form,
        "runs": runs,
        "latest": runs[0] if runs else None,
        "valid_days": retention.DRY_RUN_VALID_DAYS,
    }
    return render(request, "customers/retention.html", context)


@login_required
@require_POST
def retention_start(request: HttpRequest) -> HttpResponse:
    need(request, HANDLE_REQUESTS)
    dry = request.POST.get("mode") != "run"
    try:
        run = retention.retention_run(actor=_actor(request), dry_run=dry)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("customers:retention")
    messages.success(request, f"{run}: {run.total} {'would be' if dry else 'were'} erased or anonymised.")
    return redirect("customers:retention_run", pk=run.pk)


@login_required
def retention_run_detail(request: HttpRequest, pk: int) -> HttpResponse:
    run = get_restricted_or_404(RetentionRun, user=request.user, pk=pk)
    return render(request, "customers/retention_run.html", {"run": run})


@login_required
def breach_list(request: HttpRequest) -> HttpResponse:
    need(request, HANDLE_REQUESTS)
    context = {
        "breaches": breaches.breach_list(user=request.user),
        "overdue": breaches.overdue(user=request.user).count(),
        "mandatory": breaches.mandatory(),
    }
    return render(request, "customers/breach_list.html", context)


@login_required
def breach_create(request: HttpRequest) -> HttpResponse:
    need(request, HANDLE_REQUESTS)
    form = forms.BreachForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            breach = breaches.breach_create(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Breach recorded.")
            return redirect("customers:breach_detail", pk=breach.pk)
    return render(request, "customers/breach_form.html", {"form": form})


@login_required
def breach_detail(request: HttpRequest, pk: int) -> HttpResponse:
    breach = get_restricted_or_404(Breach, user=request.user, pk=pk)
    form = forms.BreachForm(request.POST or None, instance=breach)
    if request.method == "POST" and form.is_valid():
        try:
            breaches.breach_update(actor=_actor(request), breach=breach, **form.cleaned_data)
        except ValidationError as exc:
            form_errors(form, exc)
        else:
            messages.success(request, "Breach updated.")
            return redirect("customers:breach_detail", pk=pk)
    context = {
        "breach": breach,
        "form": form,
        "notify_form": forms.NotificationForm(),
        "mandatory": breaches.mandatory(),
    }
    return render(request, "customers/breach_detail.html", context)


@login_required
@require_POST
def breach_notify(request: HttpRequest, pk: int) -> HttpResponse:
    breach = get_restricted_or_404(Breach, user=request.user, action="change", pk=pk)
    form = forms.NotificationForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.errors.as_text())
    else:
        try:
            breaches.breach_record_notification(actor=_actor(request), breach=breach, **form.cleaned_data)
        except ValidationError as exc:
            flash_errors(request, exc)
        else:
            messages.success(request, "Notification recorded.")
    return redirect("customers:breach_detail", pk=pk)
