"""Cooperation pages: interfaces and governance, shared documents with versions, the ideas log,
third-party staff, cooperation reviews and improvement plans (issue 5 items 2, 5, 6, 7, 8), and the
sections they add to the vendor page and the portal.

Views parse, call a selector or a service, and render; nothing here decides a rule. Every object is
fetched through ``restrict`` (another vendor's id is a 404, and the attempt is audited).
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from kpis.charts import score_chart
from vendors import cooperation, selectors, services
from vendors import cooperation_selectors as reads
from vendors import forms_cooperation as forms
from vendors.models import CooperationReview, Idea, Vendor
from vendors.views import _actor, _download, _errors, _flash_errors, _need

# --- Sections of the vendor page and the portal ---------------------------------------------------


def vendor_sections(request: HttpRequest, vendor: Vendor) -> dict[str, Any]:
    """What the cooperation work adds to a vendor's page (each through ``restrict``)."""
    user = request.user
    return {
        "interfaces": reads.interfaces(user=user, vendor=vendor),
        "governance": reads.governance(user=user, vendor=vendor),
        "shared_documents": reads.shared_documents(user=user, vendor=vendor),
        "ideas": reads.ideas(user=user, vendor=vendor)[:10],
        "workers": reads.workers(user=user, vendor=vendor, current_only=True),
        "access_alerts": reads.access_alerts(user=user, vendor=vendor),
        "reviews": reads.reviews(user=user, vendor=vendor)[:10],
        "plans": reads.improvement_plans(user=user, vendor=vendor),
        "governance_form": forms.GovernanceForm(),
    }


def contract_sections(request: HttpRequest, contract: Any) -> dict[str, Any]:
    """The contract page's cooperation reviews, and the form to schedule one (staff only)."""
    if _actor(request).is_portal_user:
        return {}
    return {
        "contract_reviews": reads.reviews(user=request.user).filter(contract=contract)[:10],
        "review_form": forms.ReviewScheduleForm(),
    }


def portal_sections(request: HttpRequest) -> dict[str, Any]:
    """What the cooperation work adds to the vendor portal: only the user's own vendor's rows, and of
    those only what the models let a portal user see (shared documents, the vendor's own ideas…)."""
    user = request.user
    return {
        "shared_documents": reads.shared_documents(user=user),
        "portal_ideas": reads.ideas(user=user)[:20],
        "idea_form": forms.IdeaForm(),
        "workers": reads.workers(user=user, current_only=True),
        "plans": reads.improvement_plans(user=user),
    }


# --- Interfaces and governance --------------------------------------------------------------------


@login_required
def interfaces(request: HttpRequest) -> HttpResponse:
    """Every interface between a vendor's systems and ours, and the governance around them."""
    _need(request, "vendors.view_systeminterface")
    context = {
        "interfaces": reads.interfaces(user=request.user),
        "governance": reads.governance(user=request.user),
    }
    return render(request, "vendors/cooperation_interfaces.html", context)


@login_required
def interface_add(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_systeminterface")
    contracts = selectors.contract_list(user=request.user, vendor=vendor)
    form = forms.InterfaceForm(request.POST or None, contracts=contracts)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        contract = data.pop("contract")
        try:
            cooperation.interface_create(actor=_actor(request), vendor=vendor, contract=contract, **data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            messages.success(request, "Interface recorded.")
            return redirect("vendors:detail", pk=pk)
    return render(request, "vendors/cooperation_interface_form.html", {"vendor": vendor, "form": form})


@login_required
@require_POST
def governance_add(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_governanceitem")
    form = forms.GovernanceForm(request.POST)
    if not form.is_valid():
        for errors in form.errors.values():
            for error in errors:
                messages.error(request, str(error))
        return redirect("vendors:detail", pk=pk)
    try:
        cooperation.governance_item_create(actor=_actor(request), vendor=vendor, **form.cleaned_data)
    except ValidationError as exc:
        _flash_errors(request, exc)
    return redirect("vendors:detail", pk=pk)


# --- Shared documents -----------------------------------------------------------------------------


@login_required
def shared_add(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_shareddocument")
    form = forms.SharedDocumentForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            document = cooperation.shared_document_create(
                actor=_actor(request),
                vendor=vendor,
                title=data["title"],
                description=data["description"],
                shared_with_vendor=data["shared_with_vendor"],
                change_note=data["change_note"],
                upload=data["file"],
            )
        except ValidationError as exc:
            _errors(form, exc)
        else:
            return redirect("vendors:shared_detail", pk=document.pk)
    return render(request, "vendors/cooperation_shared_form.html", {"vendor": vendor, "form": form})


@login_required
def shared_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A shared document with every version (newest first); staff upload a new one here."""
    document = reads.shared_document_get(user=request.user, pk=pk)
    form = forms.VersionForm(request.POST or None, request.FILES or None)
    if request.method == "POST":
        _need(request, "vendors.add_shareddocumentversion")
        if form.is_valid():
            try:
                cooperation.shared_document_add_version(
                    actor=_actor(request),
                    document=document,
                    upload=form.cleaned_data["file"],
                    change_note=form.cleaned_data["change_note"],
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, "New version uploaded; the earlier ones are kept.")
                return redirect("vendors:shared_detail", pk=pk)
    document = reads.shared_documents(user=request.user).get(pk=pk)
    context = {
        "document": document,
        "form": form,
        "can_upload": request.user.has_perm("vendors.add_shareddocumentversion")
        and not _actor(request).is_portal_user,
    }
    return render(request, "vendors/cooperation_shared_detail.html", context)


@login_required
@require_POST
def shared_sharing(request: HttpRequest, pk: int) -> HttpResponse:
    document = reads.shared_document_get(user=request.user, pk=pk, action="change")
    cooperation.shared_document_set_sharing(
        actor=_actor(request), document=document, shared=request.POST.get("shared") == "1"
    )
    return redirect("vendors:shared_detail", pk=pk)


@login_required
def shared_file(request: HttpRequest, pk: int) -> FileResponse:
    return _download(reads.shared_version_get(user=request.user, pk=pk), "shared document")


# --- Ideas ----------------------------------------------------------------------------------------


@login_required
def ideas(request: HttpRequest) -> HttpResponse:
    """The ideas log; a portal user sees the ideas their vendor sent and sends new ones here."""
    _need(request, "vendors.view_idea")
    user = _actor(request)
    portal = user.is_portal_user
    vendors = selectors.vendor_list(user=user)
    form: forms.IdeaForm = (
        forms.IdeaForm(request.POST or None)
        if portal
        else forms.StaffIdeaForm(request.POST or None, vendors=vendors)
    )
    if request.method == "POST":
        _need(request, "vendors.add_idea")
        if form.is_valid():
            data = dict(form.cleaned_data)
            vendor = user.vendor if portal else data.pop("vendor")
            assert vendor is not None  # a portal user always has one; the staff form requires one
            try:
                idea = cooperation.idea_submit(actor=user, vendor=vendor, **data)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, f"Idea “{idea.title}” logged.")
                return redirect("vendors:portal" if portal else "vendors:ideas")
    status = request.GET.get("status", "")
    context = {
        "ideas": reads.ideas(user=user, status=status if status in Idea.Status.values else ""),
        "form": form,
        "statuses": Idea.Status.choices,
        "status": status,
    }
    return render(request, "vendors/cooperation_ideas.html", context)


@login_required
def idea_detail(request: HttpRequest, pk: int) -> HttpResponse:
    idea = reads.idea_get(user=request.user, pk=pk)
    form = forms.IdeaDecisionForm(request.POST or None)
    if request.method == "POST":
        idea = reads.idea_get(user=request.user, pk=pk, action="change")
        if form.is_valid():
            try:
                cooperation.idea_decide(actor=_actor(request), idea=idea, **form.cleaned_data)
            except ValidationError as exc:
                _errors(form, exc)
            else:
                return redirect("vendors:idea_detail", pk=pk)
    can_decide = request.user.has_perm("vendors.change_idea") and not _actor(request).is_portal_user
    return render(
        request,
        "vendors/cooperation_idea_detail.html",
        {"idea": idea, "form": form, "can_decide": can_decide},
    )


# --- Third-party staff ----------------------------------------------------------------------------


@login_required
def staff(request: HttpRequest) -> HttpResponse:
    """The vendors' people working for us, and the access still open after an off-boarding."""
    _need(request, "vendors.view_thirdpartyworker")
    current = request.GET.get("all") != "1"
    context = {
        "workers": reads.workers(user=request.user, current_only=current),
        "alerts": reads.access_alerts(user=request.user),
        "current": current,
    }
    return render(request, "vendors/cooperation_staff.html", context)


@login_required
def worker_add(request: HttpRequest, pk: int) -> HttpResponse:
    vendor = selectors.vendor_get(user=request.user, pk=pk)
    _need(request, "vendors.add_thirdpartyworker")
    form = forms.WorkerForm(request.POST or None, vendor_id=vendor.pk)
    if request.method == "POST" and form.is_valid():
        try:
            worker = cooperation.worker_create(actor=_actor(request), vendor=vendor, **form.cleaned_data)
        except ValidationError as exc:
            _errors(form, exc)
        else:
            return redirect("vendors:worker_detail", pk=worker.pk)
    return render(request, "vendors/cooperation_worker_form.html", {"vendor": vendor, "form": form})


WORKER_ACTIONS = {
    "offboard": forms.OffboardForm,
    "grant": forms.GrantForm,
    "training": forms.TrainingForm,
    "acknowledge": forms.AcknowledgementForm,
}


@login_required
def worker_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A worker: access granted (and revoked), training, acknowledgements, checklists. Staff record
    each through the forms here (``?do=grant`` and so on)."""
    user = _actor(request)
    worker = reads.worker_get(user=user, pk=pk)
    bound: dict[str, Any] = {}
    if request.method == "POST":
        action = request.POST.get("do", "")
        form_class = WORKER_ACTIONS.get(action)
        if form_class is not None:
            form = form_class(request.POST)
            bound[action] = form
            if form.is_valid():
                try:
                    _worker_action(user, worker, action, form.cleaned_data)
                except ValidationError as exc:
                    _errors(form, exc)
                else:
                    return redirect("vendors:worker_detail", pk=pk)
    context = {
        "worker": worker,
        **reads.worker_detail(user=user, worker=worker),
        "alerts": reads.access_alerts(user=user).filter(worker=worker),
        "forms": {name: bound.get(name) or form_class() for name, form_class in WORKER_ACTIONS.items()},
        "revoke_form": forms.RevokeForm(initial={"revoked_on": timezone.localdate()}),
        "can_manage": user.has_perm("vendors.change_thirdpartyworker") and not user.is_portal_user,
    }
    return render(request, "vendors/cooperation_worker_detail.html", context)


def _worker_action(user: Any, worker: Any, action: str, data: dict[str, Any]) -> None:
    if action == "offboard":
        changeable = reads.worker_get(user=user, pk=worker.pk, action="change")
        cooperation.worker_offboard(actor=user, worker=changeable, **data)
    elif action == "grant":
        _need_user(user, "vendors.add_accessgrant")
        cooperation.access_grant(actor=user, worker=worker, **data)
    elif action == "training":
        _need_user(user, "vendors.add_trainingrecord")
        cooperation.training_record_add(actor=user, worker=worker, **data)
    elif action == "acknowledge":
        _need_user(user, "vendors.add_guidelineacknowledgement")
        cooperation.acknowledgement_record(actor=user, worker=worker, **data)


def _need_user(user: Any, perm: str) -> None:
    if not user.has_perm(perm):
        raise PermissionDenied


@login_required
@require_POST
def access_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    grant = reads.access_grant_get(user=request.user, pk=pk, action="change")
    form = forms.RevokeForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the date the access was revoked.")
    else:
        try:
            cooperation.access_revoke(
                actor=_actor(request), grant=grant, revoked_on=form.cleaned_data["revoked_on"]
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
    return redirect("vendors:worker_detail", pk=grant.worker_id)


@login_required
@require_POST
def task_done(request: HttpRequest, pk: int) -> HttpResponse:
    task = reads.boarding_task_get(user=request.user, pk=pk, action="change")
    cooperation.boarding_task_done(actor=_actor(request), task=task)
    return redirect("vendors:worker_detail", pk=task.worker_id)


# --- Cooperation reviews --------------------------------------------------------------------------


@login_required
def reviews(request: HttpRequest) -> HttpResponse:
    """Reviews coming up (scheduled) and done, with their decisions."""
    _need(request, "vendors.view_cooperationreview")
    context = {
        "scheduled": reads.reviews(user=request.user, status=CooperationReview.Status.SCHEDULED).order_by(
            "scheduled_on", "id"
        ),
        "completed": reads.reviews(user=request.user, status=CooperationReview.Status.COMPLETED)[:50],
    }
    return render(request, "vendors/cooperation_reviews.html", context)


@login_required
@require_POST
def review_schedule(request: HttpRequest, pk: int) -> HttpResponse:
    contract = selectors.contract_get(user=request.user, pk=pk)
    _need(request, "vendors.add_cooperationreview")
    form = forms.ReviewScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Give the kind, the period and the date of the review.")
        return redirect("vendors:contract_detail", pk=pk)
    try:
        review = cooperation.review_schedule(actor=_actor(request), contract=contract, **form.cleaned_data)
    except ValidationError as exc:
        _flash_errors(request, exc)
        return redirect("vendors:contract_detail", pk=pk)
    return redirect("vendors:review_detail", pk=review.pk)


@login_required
def review_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The review page: score trend, credits and bonuses, obligations missed, open actions, ideas and
    their outcomes, cost against value, and the decision form (or the decision taken)."""
    user = _actor(request)
    review = reads.review_get(user=user, pk=pk)
    form = forms.DecisionForm(request.POST or None)
    actions = forms.ActionFormSet(request.POST or None, prefix="actions")
    if request.method == "POST":
        review = reads.review_get(user=user, pk=pk, action="change")
        if form.is_valid() and actions.is_valid():
            data = form.cleaned_data
            plan = None
            if data["decision"] == CooperationReview.Decision.IMPROVEMENT_PLAN:
                plan = cooperation.PlanSpec(
                    title=data["plan_title"],
                    objective=data["plan_objective"],
                    due_on=data["plan_due_on"],
                    milestones=data["plan_milestones"],
                    owner=user,
                )
            specs = [
                services.ActionSpec(a["description"], a["owner_party"], a["due_on"])
                for a in actions.cleaned_data
                if a.get("description")
            ]
            try:
                cooperation.review_decide(
                    actor=user,
                    review=review,
                    decision=data["decision"],
                    rationale=data["rationale"],
                    minutes=data["minutes"],
                    figures=reads.review_dossier(user=user, review=review).figures(),
                    actions=specs,
                    plan=plan,
                )
            except ValidationError as exc:
                _errors(form, exc)
            else:
                messages.success(request, "Decision recorded.")
                return redirect("vendors:review_detail", pk=pk)
    dossier = reads.review_dossier(user=user, review=review)
    context = {
        "review": review,
        "dossier": dossier,
        "chart": score_chart(dossier.trend, title="Monthly scorecard") if dossier.trend else None,
        "form": form,
        "actions": actions,
        "plan": getattr(review, "improvement_plan", None),
        "follow_ups": selectors.action_items(user=user, entry=review.meeting) if review.meeting_id else [],
        "can_decide": user.has_perm("vendors.change_cooperationreview")
        and review.status == CooperationReview.Status.SCHEDULED,
    }
    return render(request, "vendors/cooperation_review.html", context)


@login_required
@require_POST
def milestone_update(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = reads.milestone_get(user=request.user, pk=pk, action="change")
    form = forms.MilestoneForm(request.POST)
    if form.is_valid():
        try:
            cooperation.milestone_update(
                actor=_actor(request), milestone=milestone, status=form.cleaned_data["status"]
            )
        except ValidationError as exc:
            _flash_errors(request, exc)
    plan = milestone.plan
    return (
        redirect("vendors:review_detail", pk=plan.review_id)
        if plan.review_id
        else redirect("vendors:detail", pk=plan.vendor_id)
    )
