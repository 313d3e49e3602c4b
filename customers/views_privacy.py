"""Pages for the data-protection officer: the privacy request queue with its clock, a request's page
with its steps and actions, the copy of the data, and the refusal log book.

Views parse, fetch through ``restrict`` and call ``customers.privacy``; nothing here decides a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from core import audit
from core.access import get_restricted_or_404
from core.models import AuditEvent
from customers import forms_privacy as forms
from customers import privacy
from customers.models import Customer
from customers.privacy_models import HANDLE_REQUESTS, PrivacyRequest


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def form_errors(form: Any, exc: ValidationError) -> None:
    """A service's ValidationError on the form: on the field when the form has it."""
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


def flash_errors(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


@login_required
def request_queue(request: HttpRequest) -> HttpResponse:
    """Open requests first, by due date, with the days left on the 40-day clock."""
    need(request, HANDLE_REQUESTS)
    show = request.GET.get("show", "open")
    rows = privacy.request_list(user=request.user, open_only=show == "open")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    today = timezone.localdate()
    items = [{"r": r, "left": r.days_left(today)} for r in page]
    context = {
        "page": page,
        "items": items,
        "show": show,
        "clock": privacy.request_clock(user=request.user, today=today),
    }
    return render(request, "customers/privacy_queue.html", context)


@login_required
def request_create(request: HttpRequest) -> HttpResponse:
    need(request, HANDLE_REQUESTS)
    initial = {
        "received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "customer": request.GET.get("customer"),
    }
    form = forms.RequestForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        customer = Customer.objects.restrict(request.user).filter(pk=data["customer"]).first()
        if customer is None:
            form.add_error("customer", "No customer with this id.")
        else:
            try:
                created = privacy.privacy_request_create(
                    actor=_actor(request),
                    kind=data["kind"],
                    customer=customer,
                    requester_name=data["requester_name"],
                    requester_contact=data["requester_contact"],
                    on_behalf=data["on_behalf"],
                    received_at=data["received_at"],
                    requested_changes=form.changes(),
                )
            except ValidationError as exc:
                form_errors(form, exc)
            else:
                messages.success(request, f"{created} logged; due on {created.due_on:%d %b %Y}.")
                return redirect("customers:privacy_detail", pk=created.pk)
    return render(request, "customers/privacy_form.html", {"form": form})


def _get(request: HttpRequest, pk: int, action: str = "view") -> PrivacyRequest:
    return get_restricted_or_404(PrivacyRequest, user=request.user, action=action, pk=pk)


@login_required
def request_detail(request: HttpRequest, pk: int) -> HttpResponse:
    item = _get(request, pk)
    _record_read(request, item)
    context = {
        "item": item,
        "left": item.days_left(),
        "overdue_days": -item.days_left(),
        "steps": item.steps.select_related("by"),
        "notices": item.notices.select_related("vendor"),
        "identity_form": forms.IdentityForm(),
        "fee_form": forms.FeeForm(initial={"amount": item.fee}),
        "partial_form": forms.ReasonsForm(),
        "refuse_form": forms.RefuseForm(kind=item.kind),
        "fee_cap": privacy.fee_cap(),
        "recipients": privacy.recent_recipients(customer=item.customer)
        if item.kind == "correction" and item.customer_id
        else [],
    }
    return render(request, "customers/privacy_detail.html", context)


def _record_read(request: HttpRequest, item: PrivacyRequest) -> None:
    """The requester's name and contact are personal data: the read is audited with its purpose (DPP4)."""
    audit.record_access(
        AuditEvent.Action.READ,
        object_type="customers.privacyrequest",
        object_ids=[item.pk],
        purpose=f"handling {item}",
        fields=("requester_name", "requester_contact"),
        actor=request.user,
    )


_ACTIONS: dict[str, tuple[Any, Callable[..., Any], str]] = {
    "identity": (forms.IdentityForm, privacy.privacy_request_verify_identity, "Identity verified."),
    "fee": (forms.FeeForm, privacy.privacy_request_set_fee, "Fee recorded."),
    "partial": (
        forms.ReasonsForm,
        privacy.privacy_request_partial_notice,
        "Partial-compliance notice recorded.",
    ),
}


@login_required
@require_POST
def request_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """One step on a request: verify identity, set the fee, partial notice, refuse, complete."""
    item = _get(request, pk, "change")
    user = _actor(request)
    try:
        if action == "refuse":
            form: Any = forms.RefuseForm(request.POST, kind=item.kind)
            if not form.is_valid():
                raise ValidationError(form.errors.as_text())
            privacy.privacy_request_refuse(actor=user, request=item, **form.cleaned_data)
            messages.success(request, "Refused; the refusal is in the log book.")
        elif action == "complete":
            privacy.privacy_request_complete(actor=user, request=item)
            messages.success(request, "Request complied with.")
        elif action in _ACTIONS:
            form_class, service, done = _ACTIONS[action]
            form = form_class(request.POST)
            if not form.is_valid():
                raise ValidationError(form.errors.as_text())
            service(actor=user, request=item, **form.cleaned_data)
            messages.success(request, done)
        else:
            raise Http404
    except ValidationError as exc:
        flash_errors(request, exc)
    return redirect("customers:privacy_detail", pk=pk)


@login_required
def request_copy(request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
    item = _get(request, pk, "change")
    try:
        body, fmt = privacy.privacy_request_export(actor=_actor(request), request=item, fmt=fmt)
    except ValidationError as exc:
        flash_errors(request, exc)
        return redirect("customers:privacy_detail", pk=pk)
    response = HttpResponse(body, content_type="application/json" if fmt == "json" else "application/pdf")
    response["Content-Disposition"] = f'attachment; filename="access-request-{pk}.{fmt}"'
    return response


@login_required
def refusal_log(request: HttpRequest) -> HttpResponse:
    need(request, HANDLE_REQUESTS)
    page = Paginator(privacy.refusal_log(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "customers/privacy_refusals.html", {"page": page})
