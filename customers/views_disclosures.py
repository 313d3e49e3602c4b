"""Pages of disclosures: the outgoing personal-data exchanges of the register, and for each, whose
data it carried (DPP6, s23(1)(c)). Rules in ``customers.disclosures``."""

from __future__ import annotations

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts.models import User
from core.access import get_restricted_or_404
from customers import disclosures
from customers.forms_consent import ExchangeCustomersForm
from customers.models import Customer
from vendors.models import DataExchange


def _need(request: HttpRequest, perm: str) -> None:
    if not request.user.has_perm(perm):
        raise PermissionDenied


@login_required
def exchange_list(request: HttpRequest) -> HttpResponse:
    """Outgoing personal-data exchanges, with how many customers are recorded for each."""
    _need(request, disclosures.VIEW)
    page = Paginator(disclosures.outgoing_exchanges(user=request.user), 50).get_page(request.GET.get("page"))
    return render(request, "customers/privacy_exchanges.html", {"page": page})


@login_required
def exchange_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """One exchange: its register line and the customers recorded for it; the DPO adds them."""
    _need(request, disclosures.VIEW)
    exchange = get_restricted_or_404(DataExchange, user=request.user, pk=pk)
    form = ExchangeCustomersForm(request.POST or None)
    if request.method == "POST":
        _need(request, disclosures.RECORD)
        if form.is_valid():
            customers = Customer.objects.restrict(request.user).filter(
                external_id__in=form.cleaned_data["references"]
            )
            try:
                added = disclosures.exchange_customers_record(
                    actor=cast(User, request.user), exchange=exchange, customers=customers
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, f"{added} customers added to this exchange.")
                return redirect("customers:exchange", pk=pk)
    return render(
        request,
        "customers/privacy_exchange.html",
        {
            "exchange": exchange,
            "customers_recorded": disclosures.customers_recorded(exchange=exchange),
            "form": form,
        },
    )
