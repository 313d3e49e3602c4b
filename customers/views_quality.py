"""Pages: the data-quality review queue, sending a self-service link, and the customer's own
mobile-friendly page behind that link (no sign-in: the signed token is the key)."""

from __future__ import annotations

from typing import cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.models import User
from core.access import get_restricted_or_404
from customers import quality
from customers.models import Customer
from customers.privacy_models import REVIEW_QUALITY, QualityIssue
from customers.views_privacy import flash_errors, need


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


@login_required
def quality_page(request: HttpRequest) -> HttpResponse:
    """Overall scores, open issues per rule, and the review queue (filter by rule, mine)."""
    need(request, REVIEW_QUALITY)
    rule = request.GET.get("rule", "")
    rule = rule if rule in QualityIssue.Rule.values else ""
    mine = request.GET.get("mine") == "1"
    page = Paginator(quality.issue_queue(user=request.user, rule=rule, mine=mine), 50).get_page(
        request.GET.get("page")
    )
    reviewers = User.objects.filter(
        is_active=True, groups__permissions__codename="review_qualityissue"
    ).distinct()
    context = {
        "overall": quality.overall(user=request.user),
        "page": page,
        "rule": rule,
        "mine": mine,
        "rules": QualityIssue.Rule.choices,
        "reviewers": reviewers,
    }
    return render(request, "customers/quality.html", context)


@login_required
@require_POST
def quality_run(request: HttpRequest) -> HttpResponse:
    need(request, REVIEW_QUALITY)
    result = quality.quality_check(actor=_actor(request))
    messages.success(
        request,
        f"Checked {result['checked']} customers: {result['opened']} new issues, "
        f"{result['resolved']} resolved.",
    )
    return redirect("customers:quality")


@login_required
@require_POST
def issue_update(request: HttpRequest, pk: int) -> HttpResponse:
    issue = get_restricted_or_404(QualityIssue, user=request.user, action="change", pk=pk)
    try:
        if "assignee" in request.POST:
            assignee = User.objects.filter(pk=request.POST.get("assignee") or 0).first()
            quality.quality_issue_assign(actor=_actor(request), issue=issue, assignee=assignee)
        else:
            quality.quality_issue_close(
                actor=_actor(request),
                issue=issue,
                dismiss=request.POST.get("outcome") == "dismiss",
                note=request.POST.get("note", "")[:300],
            )
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect(request.POST.get("next") or "customers:quality")


@login_required
@require_POST
def link_send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a customer the self-service link (from the queue)."""
    need(request, REVIEW_QUALITY)
    customer = get_restricted_or_404(Customer, user=request.user, pk=pk)
    try:
        link, _url = quality.self_service_link_send(
            actor=_actor(request), customer=customer, channel=request.POST.get("channel", "email")
        )
    except ValidationError as exc:
        flash_errors(request, exc)
    else:
        messages.success(
            request, f"Link sent by {link.get_channel_display()}; it expires {link.expires_at:%d %b %Y}."
        )
    return redirect("customers:quality")


class SelfServiceForm(forms.Form):
    given_name = forms.CharField(max_length=100, required=False, label="Given name")
    family_name = forms.CharField(max_length=100, required=False, label="Family name")
    chinese_name = forms.CharField(max_length=50, required=False, label="Chinese name")
    email = forms.CharField(max_length=254, required=False, label="E-mail")
    phone = forms.CharField(max_length=40, required=False, label="Phone")
    address_line = forms.CharField(max_length=300, required=False, label="Address")
    district = forms.CharField(max_length=60, required=False, label="District")


def self_service(request: HttpRequest, token: str) -> HttpResponse:
    """The customer's page: confirm or correct their details. A forged, expired or used link gets
    a clear page saying so, with status 410 (expired, used) or 400 (forged)."""
    try:
        link = quality.self_service_link_open(token)
    except quality.LinkError as exc:
        status = 400 if "not valid" in str(exc) else 410
        return render(request, "customers/self_service_error.html", {"message": str(exc)}, status=status)
    customer = link.customer
    initial = {f: getattr(customer, f) for f in quality.SELF_SERVICE_FIELDS}
    form = SelfServiceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        changes = {f: v for f, v in form.cleaned_data.items() if v != initial[f]}
        try:
            done = quality.self_service_submit(token=token, changes=changes)
        except quality.LinkError as exc:
            return render(request, "customers/self_service_error.html", {"message": str(exc)}, status=410)
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            return render(request, "customers/self_service_done.html", {"outcome": done.outcome})
    return render(request, "customers/self_service.html", {"form": form, "link": link})
