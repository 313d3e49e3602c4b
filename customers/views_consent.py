"""Privacy pages: collection statements and forms, the HKID policy, a customer's privacy page
(fields as the role may see them, reveal on purpose, collection records, consents, opt-outs, who read
it), the marketing export and send page, the opt-out list and notices to third parties, the access
log and its alerts, and the processor register.

Views parse, call a selector or a service, and render; nothing here decides a rule.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from core.access import get_restricted_or_404
from customers import access_log, collection, disclosures, field_access, files, marketing, processors
from customers import forms_consent as forms
from customers.api_consent import ACCESS_COLUMNS, access_rows
from customers.consent import consent_state
from customers.models import (
    AccessAlert,
    ChecklistItem,
    CollectedField,
    CollectionForm,
    CollectionRecord,
    CollectionStatement,
    ConsentEntry,
    Customer,
    MarketingExport,
    MarketingPurpose,
    MarketingState,
    Processor,
    Suppression,
    Transferee,
    TransfereeNotice,
)
from customers.selection import customer_selection


def _actor(request: HttpRequest) -> User:
    return cast(User, request.user)


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


def _errors(form: Any, exc: ValidationError) -> None:
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for message in exc.messages:
        messages.error(request, message)


# --- Collection statements, forms and the HKID policy ---------------------------------------------


@login_required
def privacy_home(request: HttpRequest) -> HttpResponse:
    """The DPO's overview: PICS versions, collection forms, the HKID policy, purposes, transferees."""
    _need(request, "customers.view_collectionstatement")
    policy = collection.current_policy()
    context = {
        "statements": CollectionStatement.objects.restrict(request.user).order_by("-version"),
        "forms": CollectionForm.objects.restrict(request.user).select_related("statement"),
        "policy": policy,
        "policy_form": forms.PolicyForm(initial={"legal_basis": policy.legal_basis if policy else ""}),
        "purposes": MarketingPurpose.objects.restrict(request.user),
        "purpose_form": forms.PurposeForm(),
        "transferees": Transferee.objects.restrict(request.user),
    }
    return render(request, "customers/privacy_home.html", context)


@login_required
@require_POST
def policy_set(request: HttpRequest) -> HttpResponse:
    form = forms.PolicyForm(request.POST)
    if form.is_valid():
        try:
            collection.collection_policy_set(actor=_actor(request), **form.cleaned_data)
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, "The collection policy is changed.")
    return redirect("customers:privacy")


@login_required
@require_POST
def purpose_add(request: HttpRequest) -> HttpResponse:
    form = forms.PurposeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A purpose needs a code (letters, digits, dashes) and a name.")
        return redirect("customers:privacy")
    try:
        marketing.purpose_create(actor=_actor(request), **form.cleaned_data)
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("customers:privacy")


@login_required
def statement_edit(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """Draft a new PICS version (``?from=<id>`` starts from a copy) or change a draft."""
    statement = None
    initial: dict[str, Any] = {}
    if pk is not None:
        statement = get_restricted_or_404(CollectionStatement, user=request.user, action="change", pk=pk)
        if statement.status == CollectionStatement.Status.PUBLISHED:
            messages.error(request, "A published version never changes; start a new version from it.")
            return redirect("customers:statement", pk=pk)
        initial = forms.StatementForm.initial_for(statement)
    else:
        _need(request, "customers.add_collectionstatement")
        source = request.GET.get("from", "")
        if source.isdigit():
            initial = forms.StatementForm.initial_for(
                get_restricted_or_404(CollectionStatement, user=request.user, pk=int(source))
            )
    form = forms.StatementForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            if statement is None:
                statement = collection.statement_create(actor=_actor(request), **form.service_kwargs())
            else:
                collection.statement_update(
                    actor=_actor(request), statement=statement, **form.service_kwargs()
                )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            return redirect("customers:statement", pk=statement.pk)
    return render(request, "customers/privacy_statement_form.html", {"form": form, "statement": statement})


@login_required
def statement_detail(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_restricted_or_404(CollectionStatement, user=request.user, pk=pk)
    labels = dict(CollectedField.choices)
    items = [{**i, "label": labels.get(i["field"], i["field"])} for i in statement.items]
    return render(request, "customers/privacy_statement.html", {"statement": statement, "items": items})


@login_required
@require_POST
def statement_publish(request: HttpRequest, pk: int) -> HttpResponse:
    statement = get_restricted_or_404(CollectionStatement, user=request.user, action="change", pk=pk)
    try:
        collection.statement_publish(actor=_actor(request), statement=statement)
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("customers:statement", pk=pk)


@login_required
def form_add(request: HttpRequest, pk: int) -> HttpResponse:
    """A collection form under published PICS version PK."""
    statement = get_restricted_or_404(CollectionStatement, user=request.user, pk=pk)
    _need(request, "customers.add_collectionform")
    form = forms.CollectionFormForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            collection.form_create(
                actor=_actor(request),
                name=form.cleaned_data["name"],
                channel=form.cleaned_data["channel"],
                statement=statement,
                fields=form.chosen(),
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "The form is registered.")
            return redirect("customers:privacy")
    return render(request, "customers/privacy_form_form.html", {"form": form, "statement": statement})


# --- A customer's privacy page --------------------------------------------------------------------


def _customer(request: HttpRequest, pk: int) -> Customer:
    return get_restricted_or_404(Customer, user=request.user, pk=pk)


def _fields_context(
    request: HttpRequest, customer: Customer, shown: dict[str, Any], revealed: bool
) -> dict[str, Any]:
    levels = field_access.levels_for(request.user)
    rows = [
        {"label": label, "value": shown[field], "level": levels[field].name.lower()}
        for field, label in field_access.FIELDS.items()
        if field in shown
    ]
    return {
        "customer": customer,
        "rows": rows,
        "revealed": revealed,
        "can_reveal": field_access.can_reveal(request.user) and not revealed,
        "reveal_form": forms.RevealForm(),
    }


@login_required
def customer_privacy(request: HttpRequest, pk: int) -> HttpResponse:
    """Which PICS and consents apply to a customer, their opt-outs, and who read their details."""
    customer = _customer(request, pk)
    shown = field_access.customer_fields_for(request.user, customer)
    user = request.user
    context = _fields_context(request, customer, shown, revealed=False)
    if user.has_perm("customers.view_consententry"):
        context |= {
            "consents": consent_state(customer=customer),
            "ledger": ConsentEntry.objects.restrict(user)
            .filter(customer=customer)
            .select_related("purpose", "transferee", "statement")[:100],
            "suppressions": Suppression.objects.restrict(user).filter(customer=customer),
            "consent_form": forms.ConsentForm(user=user, prefix="consent"),
            "marketing_state": MarketingState.objects.filter(customer=customer).first(),
            "opt_out_form": forms.OptOutForm(prefix="optout"),
        }
    # Staff with the opt-out list use its fuller form below; agents get the call form only.
    if user.has_perm("customers.record_phone_opt_out") and not user.has_perm("customers.add_suppression"):
        context["phone_opt_out_form"] = forms.PhoneOptOutForm(prefix="call")
    if user.has_perm("customers.change_marketingstate"):
        state = context.get("marketing_state")
        context["transitional_form"] = forms.TransitionalForm(
            user=user,
            prefix="s35d",
            initial={
                "pre_2013_data": bool(state and state.pre_2013_data),
                "purposes": list(state.pre_2013_purposes.all()) if state else [],
            },
        )
    if user.has_perm("customers.view_collectionrecord"):
        context |= {
            "collections": CollectionRecord.objects.restrict(user)
            .filter(customer=customer)
            .select_related("statement", "form"),
            "collection_form": forms.CollectionRecordForm(user=user),
        }
    if user.has_perm(disclosures.VIEW):
        context["disclosures"] = disclosures.customer_disclosures(user=user, customer=customer)[:20]
    if user.has_perm("customers.view_customeraccess"):
        context["accesses"] = access_log.access_log(user=user, customer_id=customer.pk)[:20]
    return render(request, "customers/privacy_customer.html", context)


@login_required
@require_POST
def customer_reveal(request: HttpRequest, pk: int) -> HttpResponse:
    """Reveal full details after a purpose is stated (an HTMX swap of the details panel)."""
    customer = _customer(request, pk)
    form = forms.RevealForm(request.POST)
    form.is_valid()
    try:
        shown = field_access.customer_fields_for(request.user, customer, purpose=form.stated_purpose())
    except ValidationError as exc:
        shown = field_access.customer_fields_for(request.user, customer)
        context = _fields_context(request, customer, shown, revealed=False)
        context["reveal_form"] = form
        _errors(form, exc)
        return render(
            request,
            "customers/_privacy_fields.html",
            context,
            status=422 if not getattr(request, "htmx", False) else 200,
        )
    context = _fields_context(request, customer, shown, revealed=True)
    template = (
        "customers/_privacy_fields.html"
        if getattr(request, "htmx", False)
        else "customers/privacy_revealed.html"
    )
    return render(request, template, context)


@login_required
@require_POST
def customer_consent(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = forms.ConsentForm(request.POST, user=request.user, prefix="consent")
    if not form.is_valid():
        for field, errors in form.errors.items():
            messages.error(request, f"{field}: {' '.join(str(e) for e in errors)}")
        return redirect("customers:customer_privacy", pk=pk)
    try:
        marketing.consent_grant(actor=_actor(request), customer=customer, **form.cleaned_data)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, "Consent recorded.")
    return redirect("customers:customer_privacy", pk=pk)


@login_required
@require_POST
def customer_withdraw(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    entry = get_restricted_or_404(ConsentEntry, user=request.user, pk=entry_pk, customer=customer)
    try:
        marketing.consent_withdraw(
            actor=_actor(request),
            customer=customer,
            purpose=entry.purpose,
            channel=entry.channel,
            data_kind=entry.data_kind,
            transferee=entry.transferee,
            source=request.POST.get("source", "")[:200],
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, "Consent withdrawn; it no longer applies from now.")
    return redirect("customers:customer_privacy", pk=pk)


@login_required
@require_POST
def customer_phone_opt_out(request: HttpRequest, pk: int) -> HttpResponse:
    """An agent on a call records the customer's opt-out (s35G); in force at once."""
    _need(request, "customers.record_phone_opt_out")
    customer = _customer(request, pk)
    form = forms.PhoneOptOutForm(request.POST, prefix="call")
    if not form.is_valid():
        messages.error(request, "Choose the channel the customer no longer wants marketing on.")
        return redirect("customers:customer_privacy", pk=pk)
    try:
        result = marketing.opt_out_on_call(actor=_actor(request), customer=customer, **form.cleaned_data)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        channel = result.suppression.get_channel_display()
        messages.success(
            request,
            f"Opt-out recorded ({channel}): no more direct marketing from now on."
            if result.created
            else f"This customer had already opted out ({channel}); nothing changed.",
        )
    return redirect("customers:customer_privacy", pk=pk)


@login_required
@require_POST
def customer_opt_out(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = forms.OptOutForm(request.POST, prefix="optout")
    if not form.is_valid():
        messages.error(request, "Choose a channel and say where the opt-out came from.")
        return redirect("customers:customer_privacy", pk=pk)
    try:
        result = marketing.opt_out(actor=_actor(request), customer=customer, **form.cleaned_data)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(
            request,
            f"Opt-out recorded ({result.withdrawn} consents withdrawn, "
            f"{result.notices} notices to third parties due)."
            if result.created
            else "This customer had already opted out of that channel.",
        )
    return redirect("customers:customer_privacy", pk=pk)


@login_required
@require_POST
def customer_transitional(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = forms.TransitionalForm(request.POST, user=request.user, prefix="s35d")
    if form.is_valid():
        try:
            marketing.transitional_set(
                actor=_actor(request),
                customer=customer,
                pre_2013_data=form.cleaned_data["pre_2013_data"],
                purposes=list(form.cleaned_data["purposes"]),
            )
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, "The s35D record is saved.")
    return redirect("customers:customer_privacy", pk=pk)


@login_required
@require_POST
def customer_collection(request: HttpRequest, pk: int) -> HttpResponse:
    customer = _customer(request, pk)
    form = forms.CollectionRecordForm(request.POST, user=request.user)
    if not form.is_valid():
        messages.error(request, "Choose the form used.")
        return redirect("customers:customer_privacy", pk=pk)
    try:
        collection.collection_record(
            actor=_actor(request),
            customer=customer,
            form=form.cleaned_data["form"],
            supplied=form.cleaned_data["supplied"],
            hkid=form.cleaned_data["hkid"],
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, "Collection recorded.")
    return redirect("customers:customer_privacy", pk=pk)


# --- Marketing exports and sends ------------------------------------------------------------------


def _selection(request: HttpRequest, form: forms.MarketingListForm) -> QuerySet[Customer]:
    return customer_selection(
        user=request.user,
        customer_ids=form.cleaned_data["customer_ids"],
        tier=form.cleaned_data["tier"],
        district=form.cleaned_data["district"],
    )


@login_required
def marketing_page(request: HttpRequest) -> HttpResponse:
    """Export a marketing list or send a campaign; only consented, not opted-out customers are on it."""
    _need(request, "customers.add_marketingexport")
    user = request.user
    export_form = forms.ExportForm(
        request.POST if request.POST.get("do") == "export" else None, user=user, prefix="x"
    )
    send_form = forms.SendForm(
        request.POST if request.POST.get("do") == "send" else None, user=user, prefix="s"
    )
    if request.method == "POST" and export_form.is_bound and export_form.is_valid():
        data = export_form.cleaned_data
        try:
            result = marketing.marketing_export(
                actor=_actor(request),
                customers=_selection(request, export_form),
                channel=data["channel"],
                purpose=data["purpose"],
                transferee=data["transferee"],
                file_format=data["file_format"],
                data_flow=data["data_flow"],
            )
        except ValidationError as exc:
            _errors(export_form, exc)
        else:
            body = files.table_bytes(
                marketing.EXPORT_COLUMNS,
                ([row[c] for c in marketing.EXPORT_COLUMNS] for row in result.rows),
                data["file_format"],
            )
            return files.download(
                body, data["file_format"], f"marketing-{result.record.pk}-{data['channel']}"
            )
    if request.method == "POST" and send_form.is_bound and send_form.is_valid():
        data = send_form.cleaned_data
        try:
            result = marketing.marketing_send(
                actor=_actor(request),
                customers=_selection(request, send_form),
                channel=data["channel"],
                purpose=data["purpose"],
                subject=data["subject"],
                message=data["message"],
                opt_out_notice=data["opt_out_notice"],
            )
        except ValidationError as exc:
            _errors(send_form, exc)
        else:
            messages.success(
                request, f"Sent to {result.record.included} of {result.record.requested} customers selected."
            )
            return redirect("customers:marketing")
    recent = MarketingExport.objects.restrict(user).select_related("purpose", "transferee", "created_by")[:20]
    return render(
        request,
        "customers/privacy_marketing.html",
        {"export_form": export_form, "send_form": send_form, "recent": recent},
    )


# --- Opt-out list and notices to third parties ----------------------------------------------------


@login_required
def opt_outs(request: HttpRequest) -> HttpResponse:
    _need(request, "customers.view_suppression")
    rows = (
        Suppression.objects.restrict(request.user).select_related("customer").order_by("-occurred_at", "-id")
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    notices = TransfereeNotice.objects.restrict(request.user).select_related("transferee", "suppression")
    return render(
        request,
        "customers/privacy_opt_outs.html",
        {"page": page, "notices": notices.order_by("sent_at", "-id")[:100]},
    )


@login_required
@require_POST
def notice_send(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_restricted_or_404(TransfereeNotice, user=request.user, action="change", pk=pk)
    try:
        marketing.notice_send(actor=_actor(request), notice=notice, via=request.POST.get("via", ""))
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, f"Notice to {notice.transferee.name} recorded as sent.")
    return redirect("customers:opt_outs")


@login_required
def notice_letter(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_restricted_or_404(TransfereeNotice, user=request.user, pk=pk)
    body = marketing.notice_letter_pdf(actor=_actor(request), notice=notice)
    response = HttpResponse(body, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="opt-out-notice-{notice.pk}.pdf"'
    return response


# --- Access log and alerts ------------------------------------------------------------------------


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 19 else None


@login_required
def access_report(request: HttpRequest) -> HttpResponse:
    """Who read which customer and why: per customer (``?customer=``), per user (``?user=``), or all."""
    customer_id, user_id = _int(request.GET.get("customer")), _int(request.GET.get("user"))
    rows = access_log.access_log(user=request.user, customer_id=customer_id, actor_id=user_id)
    if request.GET.get("format") == "csv":
        return files.download(
            files.table_bytes(ACCESS_COLUMNS, access_rows(rows), "csv"), "csv", "access-log"
        )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    by_user = access_log.reads_by_user(user=request.user, since=timezone.now() - timedelta(days=1))
    return render(
        request,
        "customers/privacy_access_log.html",
        {"page": page, "customer_id": customer_id, "user_id": user_id, "by_user": by_user[:20]},
    )


@login_required
def access_alerts(request: HttpRequest) -> HttpResponse:
    _need(request, "customers.view_accessalert")
    alerts = AccessAlert.objects.restrict(request.user).select_related("user", "acknowledged_by")[:200]
    return render(
        request, "customers/privacy_alerts.html", {"alerts": alerts, "form": forms.AcknowledgeForm()}
    )


@login_required
@require_POST
def alert_acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    alert = get_restricted_or_404(AccessAlert, user=request.user, action="change", pk=pk)
    try:
        access_log.access_alert_acknowledge(
            actor=_actor(request), alert=alert, note=request.POST.get("note", "")
        )
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("customers:access_alerts")


# --- Processors -----------------------------------------------------------------------------------


@login_required
def processor_list(request: HttpRequest) -> HttpResponse:
    _need(request, "customers.view_processor")
    form = forms.ProcessorForm(request.POST or None, user=request.user)
    if request.method == "POST":
        _need(request, "customers.add_processor")
        if form.is_valid():
            data = dict(form.cleaned_data)
            try:
                processor = processors.processor_create(
                    actor=_actor(request), data_flows=list(data.pop("data_flows")), **data
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                return redirect("customers:processor", pk=processor.pk)
    return render(
        request,
        "customers/privacy_processors.html",
        {
            "processors": processors.processors(user=request.user),
            "form": form,
            "items": len(ChecklistItem.values),
        },
    )


@login_required
def processor_detail(request: HttpRequest, pk: int) -> HttpResponse:
    processor = get_restricted_or_404(Processor, user=request.user, pk=pk)
    form = forms.CheckForm(request.POST or None)
    if request.method == "POST":
        _need(request, "customers.change_processor")
        if form.is_valid():
            try:
                processors.processor_check_answer(
                    actor=_actor(request), processor=processor, **form.cleaned_data
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                return redirect("customers:processor", pk=pk)
    answers = {c.item: c for c in processor.checks.all()}
    checklist = [
        {"item": value, "label": label, "check": answers.get(value)} for value, label in ChecklistItem.choices
    ]
    return render(
        request,
        "customers/privacy_processor.html",
        {"processor": processor, "checklist": checklist, "form": form, "flows": processor.data_flows.all()},
    )
