"""Pages for CRM strategy proposals: the staff side (guidelines, calls, evaluation, decisions,
strategy) and the vendor portal side (invited calls, clarifications, drafts and submissions).

Views parse the form, call ``proposals.services`` and render; a ValidationError re-renders the
page with the user's input and the error beside it, having written nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.views.decorators.http import require_POST

from accounts.models import User
from accounts.roles import ROLES
from core.access import get_restricted_or_404
from proposals import selectors, services
from proposals.models import (
    COMPONENT_FIELDS_LABELS,
    Call,
    CallDocument,
    Clarification,
    ComponentDecision,
    CriteriaSet,
    Criterion,
    Guideline,
    GuidelineVersion,
    Initiative,
    Milestone,
    Objective,
    PanelMember,
    Proposal,
    Section,
    Stage,
)
from vendors.models import ServiceCategory, Vendor

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
BLANK_COMPONENT_ROWS = 3


def _actor(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)  # noqa: S101 (login_required guarantees it)
    return user


def _need(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise PermissionDenied


def _errors(exc: ValidationError) -> dict[str, str]:
    if hasattr(exc, "error_dict"):
        return {k: " ".join(str(m) for e in v for m in e.messages) for k, v in exc.error_dict.items()}
    return {"__all__": " ".join(exc.messages)}


def _flash(request: HttpRequest, exc: ValidationError) -> None:
    for field, message in _errors(exc).items():
        messages.error(
            request, message if field == "__all__" else f"{field.replace('_', ' ').capitalize()}: {message}"
        )


def _local_datetime(value: str) -> datetime | None:
    parsed = parse_datetime(value) if value else None
    if parsed is not None and timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=HONG_KONG)  # the form's datetime-local is Hong Kong time
    return parsed


# --- Home: calls, portfolio, my outstanding guidelines ------------------------------------------------


@login_required
def home(request: HttpRequest) -> HttpResponse:
    _need(request, "proposals.view_call")
    user = _actor(request)
    context: dict[str, Any] = {
        "calls": selectors.call_list(user=user),
        "portal": user.vendor_id is not None,
        "outstanding": services.outstanding_guidelines(user),
        "can_create": user.has_perm("proposals.add_call"),
    }
    if user.vendor_id is None:
        context["portfolio"] = selectors.portfolio(user=user)
        context["balance"] = selectors.balance_of_interests(user=user)
    return render(request, "proposals/home.html", context)


# --- Guidelines ---------------------------------------------------------------------------------------


@login_required
def guidelines(request: HttpRequest) -> HttpResponse:
    """Publish guidelines, see who acknowledged the current version, acknowledge my own.
    A vendor's portal user sees the guidelines assigned to their vendor and acknowledges them."""
    _need(request, "proposals.view_guideline")
    user = _actor(request)
    if user.vendor_id is not None:
        return render(
            request,
            "proposals/portal_guidelines.html",
            {"items": selectors.portal_guidelines(user=user)},
        )
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            guideline_id = request.POST.get("guideline")
            vendor_ids = [int(v) for v in request.POST.getlist("vendors") if v.isdigit()]
            with transaction.atomic():  # a new guideline whose version is refused is not kept either
                if guideline_id:
                    guideline = get_restricted_or_404(Guideline, user=user, pk=int(guideline_id))
                else:
                    guideline = services.guideline_create(
                        actor=user, title=request.POST.get("title", ""), stage=request.POST.get("stage", "")
                    )
                services.guideline_publish(
                    actor=user,
                    guideline=guideline,
                    body=request.POST.get("body", ""),
                    change_note=request.POST.get("change_note", ""),
                    roles=request.POST.getlist("roles"),
                    vendors=list(Vendor.objects.restrict(user).filter(pk__in=vendor_ids)),
                )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"Published a new version of '{guideline.title}'.")
            return redirect("proposals:guidelines")
    rows = []
    for guideline in Guideline.objects.restrict(user).prefetch_related("versions"):
        version = services.current_version(guideline)
        rows.append((guideline, selectors.acknowledgement_status(version) if version else None))
    return render(
        request,
        "proposals/guidelines.html",
        {
            "rows": rows,
            "outstanding": services.outstanding_guidelines(user),
            "stages": Stage.choices,
            "roles": [(code, role.label) for code, role in ROLES.items() if role.staff],
            "vendors": Vendor.objects.restrict(user).order_by("name"),
            "can_publish": user.has_perm("proposals.add_guidelineversion"),
            "errors": errors,
            "posted": request.POST,
            "posted_roles": request.POST.getlist("roles"),
            "posted_vendors": request.POST.getlist("vendors"),
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def acknowledge(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    version = get_restricted_or_404(GuidelineVersion, user=user, pk=pk)
    try:
        services.guideline_acknowledge(actor=user, version=version)
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, f"You acknowledged '{version.guideline.title}' v{version.number}.")
    return redirect(request.POST.get("next") or "proposals:guidelines")


# --- Criteria for choosing partners --------------------------------------------------------------------


def _parse_criteria(text: str) -> list[dict[str, Any]]:
    """One criterion per line: ``key | label | weight``."""
    items = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            raise ValidationError({"criteria": f"Line {number}: write key | label | weight."})
        items.append({"key": parts[0], "label": parts[1], "weight": parts[2]})
    return items


@login_required
def criteria(request: HttpRequest) -> HttpResponse:
    """Weighted criteria sets for choosing partners, and vendors' prequalification scores."""
    _need(request, "proposals.view_criteriaset")
    user = _actor(request)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            if request.POST.get("form") == "set":
                services.criteria_set_create(
                    actor=user,
                    name=request.POST.get("name", ""),
                    category=request.POST.get("category", ""),
                    criteria=_parse_criteria(request.POST.get("criteria", "")),
                )
            else:
                criteria_set = get_restricted_or_404(
                    CriteriaSet, user=user, pk=int(request.POST.get("criteria_set") or 0)
                )
                vendor = get_restricted_or_404(Vendor, user=user, pk=int(request.POST.get("vendor") or 0))
                services.vendor_prequalify(
                    actor=user,
                    vendor=vendor,
                    criteria_set=criteria_set,
                    scores={c["key"]: request.POST.get(f"score-{c['key']}") for c in criteria_set.criteria},
                    note=request.POST.get("note", ""),
                )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, "Saved.")
            return redirect("proposals:criteria")
    sets = list(CriteriaSet.objects.restrict(user).prefetch_related("prequalifications__vendor"))
    return render(
        request,
        "proposals/criteria.html",
        {
            "sets": sets,
            "vendors": Vendor.objects.restrict(user).order_by("name"),
            "categories": ServiceCategory.choices,
            "can_edit": user.has_perm("proposals.add_criteriaset"),
            "errors": errors,
            "posted": request.POST,
        },
        status=400 if errors else 200,
    )


# --- Calls ------------------------------------------------------------------------------------------------


@login_required
def call_create(request: HttpRequest) -> HttpResponse:
    _need(request, "proposals.add_call")
    user = _actor(request)
    errors: dict[str, str] = {}
    idea_id = request.GET.get("idea") or request.POST.get("idea") or ""
    if idea_id.isdigit():
        return _call_from_idea(request, user, int(idea_id))
    if request.method == "POST":
        try:
            vendor_ids = [int(v) for v in request.POST.getlist("vendors") if v.isdigit()]
            call = services.call_create(
                actor=user,
                title=request.POST.get("title", ""),
                objectives=request.POST.get("objectives", ""),
                required_sections=request.POST.getlist("sections"),
                deadline=_local_datetime(request.POST.get("deadline", "")) or timezone.now(),
                vendors=list(Vendor.objects.restrict(user).filter(pk__in=vendor_ids)),
                allow_late=request.POST.get("allow_late") == "on",
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, "The call is saved as a draft; open it to invite the vendors.")
            return redirect("proposals:call", pk=call.pk)
    return render(
        request,
        "proposals/call_form.html",
        {
            "sections": Section.choices,
            "vendors": Vendor.objects.restrict(user).order_by("name"),
            "errors": errors,
            "posted": request.POST,
        },
        status=400 if errors else 200,
    )


def _call_from_idea(request: HttpRequest, user: User, idea_id: int) -> HttpResponse:
    """The call-create page for an accepted idea: the idea's text becomes the objectives and its
    vendor the one invited; saving opens the call and marks the idea as turned into a proposal."""
    from vendors.models import Idea

    idea = get_restricted_or_404(Idea, user=user, pk=idea_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            call = services.call_from_idea(
                actor=user,
                idea=idea,
                deadline=_local_datetime(request.POST.get("deadline", "")) or timezone.now(),
                required_sections=request.POST.getlist("sections"),
            )
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, f"The idea is now a call for proposals to {idea.vendor.name}.")
            return redirect("proposals:call", pk=call.pk)
    return render(
        request,
        "proposals/call_from_idea.html",
        {"idea": idea, "sections": Section.choices, "errors": errors, "posted": request.POST},
        status=400 if errors else 200,
    )


@login_required
def call_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    call = selectors.call_get(user=user, pk=pk)
    if user.vendor_id is not None:
        return _portal_call(request, user, call)
    proposals = list(selectors.proposals_of(user=user, call=call))
    member = PanelMember.objects.filter(call=call, user=user).first()
    return render(
        request,
        "proposals/call_detail.html",
        {
            "call": call,
            "invited": call.invitations.select_related("vendor"),
            "sections": [Section(s).label for s in call.required_sections],
            "clarifications": selectors.clarifications_of(user=user, call=call),
            "documents": CallDocument.objects.restrict(user).filter(call=call).order_by("title"),
            "proposals": [(p, services.latest_submitted(p)) for p in proposals],
            "panel": call.panel.select_related("user").prefetch_related("conflicts"),
            "member": member,
            "weights": call.weights.all(),
            "rubric_editable": services.rubric_editable(call),
            "staff": User.objects.filter(vendor__isnull=True, is_active=True).order_by("username"),
            "invited_vendors": [i.vendor for i in call.invitations.select_related("vendor")],
            "can_change": user.has_perm("proposals.change_call"),
            "compatibility": selectors.compatibility(user=user, call=call),
            "next_status": {
                Call.Status.DRAFT: [("open", "Open the call and invite the vendors")],
                Call.Status.OPEN: [("closed", "Close submissions")],
                Call.Status.CLOSED: [("decided", "Mark decided"), ("open", "Re-open")],
            }.get(Call.Status(call.status), []),
        },
    )


def _component_rows(components: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [*components, *({} for _ in range(BLANK_COMPONENT_ROWS))]


def _posted_components(request: HttpRequest) -> list[dict[str, Any]]:
    rows = []
    for index in range(int(request.POST.get("component_count") or 0)):
        row = {f: request.POST.get(f"c{index}-{f}", "").strip() for f, _ in COMPONENT_FIELDS_LABELS}
        if any(row.values()):
            rows.append(row)
    return rows


def _portal_call(request: HttpRequest, user: User, call: Call) -> HttpResponse:
    """The vendor's view of a call: objectives, questions and answers, and its own proposal."""
    proposal = Proposal.objects.restrict(user).filter(call=call).first()
    draft = services.draft_of(proposal) if proposal else None
    submitted = services.latest_submitted(proposal) if proposal else None
    errors: dict[str, str] = {}
    source = draft or submitted
    sections = dict(source.sections) if source else {}
    components = list(source.components) if source else []
    open_requests = list(proposal.change_requests.filter(answered_in__isnull=True)) if proposal else []
    if request.method == "POST":
        sections = {code: request.POST.get(f"section-{code}", "") for code in Section.values}
        components = _posted_components(request)
        saved = None
        try:
            version = saved = services.proposal_save_draft(
                actor=user, call=call, sections=sections, components=components
            )
            if request.POST.get("action") == "submit":
                responses = {cr.pk: request.POST.get(f"response-{cr.pk}", "") for cr in open_requests}
                version = services.proposal_submit(actor=user, proposal=version.proposal, responses=responses)
        except ValidationError as exc:
            errors = _errors(exc)
            if saved is not None:
                # The draft is kept (nothing is lost), but the vendor must know it was not submitted.
                messages.info(request, f"Version {saved.number} was saved as a draft; it was not submitted.")
        else:
            done = "submitted" if version.is_submitted else "saved as a draft"
            messages.success(request, f"Version {version.number} {done}.")
            return redirect("proposals:call", pk=call.pk)
    return render(
        request,
        "proposals/portal_call.html",
        {
            "call": call,
            "proposal": proposal,
            "draft": draft,
            "submitted": submitted,
            "versions": selectors.versions_of(user=user, proposal=proposal) if proposal else [],
            "sections": [
                (code, Section(code).label, code in call.required_sections, sections.get(code, ""))
                for code in Section.values
            ],
            "components": _component_rows(components),
            "component_fields": COMPONENT_FIELDS_LABELS,
            "open_requests": open_requests,
            "outstanding": services.outstanding_guidelines(user, Stage.PROPOSAL),
            "decisions": proposal.decisions.all() if proposal else [],
            "clarifications": selectors.clarifications_of(user=user, call=call),
            "documents": CallDocument.objects.restrict(user).filter(call=call).order_by("title"),
            "errors": errors,
            "editable": call.status == Call.Status.OPEN
            or (proposal is not None and proposal.status == Proposal.Status.CHANGES_REQUESTED),
        },
        status=400 if errors else 200,
    )


@login_required
@require_POST
def call_status(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    call = get_restricted_or_404(Call, user=user, pk=pk, action="change")
    try:
        services.call_set_status(actor=user, call=call, status=request.POST.get("status", ""))
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("proposals:call", pk=pk)


@login_required
def rubric_weights(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a call's evaluation rubric weights (all at once, summing to 100) until scoring starts."""
    user = _actor(request)
    call = get_restricted_or_404(Call, user=user, pk=pk, action="change")
    _staff_only_page(user)
    current = {w.criterion: w.weight for w in call.weights.all()}
    values: dict[str, Any] = dict(current)
    errors: dict[str, str] = {}
    if request.method == "POST":
        values = {c: request.POST.get(f"weight-{c}", "").strip() for c in Criterion.values}
        try:
            services.rubric_weights_set(actor=user, call=call, weights=values)
        except ValidationError as exc:
            errors = _errors(exc)
        else:
            messages.success(request, "Rubric weights saved.")
            return redirect("proposals:call", pk=call.pk)
    total = sum(int(v) for v in values.values() if str(v).lstrip("-").isdigit())
    return render(
        request,
        "proposals/rubric_weights.html",
        {
            "call": call,
            "rows": [(code, label, values.get(code, "")) for code, label in Criterion.choices],
            "total": total,
            "editable": services.rubric_editable(call),
            "errors": errors,
        },
        status=400 if errors else 200,
    )


def _staff_only_page(user: User) -> None:
    if user.vendor_id is not None:
        raise PermissionDenied


@login_required
@require_POST
def document_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    call = get_restricted_or_404(Call, user=user, pk=pk, action="change")
    try:
        services.call_document_add(
            actor=user, call=call, title=request.POST.get("title", ""), upload=request.FILES.get("file")
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, "Document attached; every invited vendor can download it.")
    return redirect("proposals:call", pk=pk)


@login_required
def document_file(request: HttpRequest, pk: int) -> FileResponse:
    """Download a call's attachment (invited vendors and staff; checked through ``restrict``)."""
    document = get_restricted_or_404(CallDocument, user=request.user, pk=pk)
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404 from None
    response = FileResponse(
        handle, as_attachment=True, filename=document.file_name, content_type=document.content_type
    )
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


@login_required
@require_POST
def clarification_ask(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    call = selectors.call_get(user=user, pk=pk)
    try:
        services.clarification_ask(actor=user, call=call, question=request.POST.get("question", ""))
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, "Question sent; the answer will be shared with every invited vendor.")
    return redirect("proposals:call", pk=pk)


@login_required
@require_POST
def clarification_answer(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    item = get_restricted_or_404(Clarification, user=user, pk=pk, action="change")
    try:
        services.clarification_answer(
            actor=user,
            clarification=item,
            answer=request.POST.get("answer", ""),
            publish=request.POST.get("publish") == "on",
        )
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("proposals:call", pk=item.call_id)


@login_required
@require_POST
def panel_add(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    call = get_restricted_or_404(Call, user=user, pk=pk, action="change")
    person = User.objects.filter(pk=int(request.POST.get("user") or 0), is_active=True).first()
    try:
        if person is None:
            raise ValidationError({"user": "Choose a person."})
        services.panel_add(actor=user, call=call, user=person)
    except ValidationError as exc:
        _flash(request, exc)
    return redirect("proposals:call", pk=pk)


@login_required
@require_POST
def panel_declare(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    call = selectors.call_get(user=user, pk=pk)
    member = selectors.require_member(user, call)
    ids = [int(v) for v in request.POST.getlist("conflicts") if v.isdigit()]
    try:
        services.panel_declare(
            actor=user,
            member=member,
            conflicts=list(Vendor.objects.filter(pk__in=ids)),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, "Declaration recorded; you can score now.")
    return redirect("proposals:call", pk=pk)


# --- One proposal: versions, diff, scoring, consensus, change requests, decisions ---------------------------


@login_required
def proposal_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _actor(request)
    proposal = selectors.proposal_get(user=user, pk=pk)
    if user.vendor_id is not None:
        return redirect("proposals:call", pk=proposal.call_id)
    versions = list(selectors.versions_of(user=user, proposal=proposal))
    latest = versions[-1] if versions else None
    numbers = [v.number for v in versions]
    old = _int(request.GET.get("from"), numbers[-2] if len(numbers) > 1 else None)
    new = _int(request.GET.get("to"), numbers[-1] if numbers else None)
    by_number = {v.number: v for v in versions}
    diff = (
        selectors.version_diff(by_number[old], by_number[new])
        if old in by_number and new in by_number
        else []
    )
    member = PanelMember.objects.filter(call_id=proposal.call_id, user=user).first()
    own_sheet = member.scoresheets.filter(proposal=proposal).first() if member else None
    decisions = selectors.decision_for(proposal)
    return render(
        request,
        "proposals/proposal_detail.html",
        {
            "proposal": proposal,
            "versions": versions,
            "latest": latest,
            "sections": [(Section(c).label, latest.sections.get(c, "")) for c in Section.values]
            if latest
            else [],
            "diff": diff,
            "old": old,
            "new": new,
            "member": member,
            "conflicted": bool(member and member.conflicts.filter(pk=proposal.vendor_id).exists()),
            "own_sheet": own_sheet,
            "sheets": selectors.visible_scoresheets(user=user, proposal=proposal),
            "criteria": Criterion.choices,
            "consensus": selectors.consensus_table(proposal),
            "change_requests": proposal.change_requests.select_related("asked_on", "answered_in"),
            "section_choices": Section.choices,
            "components": [(c, decisions.get(c["key"])) for c in (latest.components if latest else [])],
            "objectives": Objective.objects.all(),
            "outcomes": ComponentDecision.Outcome.choices,
            "can_decide": user.has_perm("proposals.add_componentdecision"),
        },
    )


def _int(value: str | None, default: int | None) -> int | None:
    return int(value) if value and value.isdigit() else default


@login_required
@require_POST
def proposal_action(request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """Scores, consensus, change requests and decisions on one proposal."""
    user = _actor(request)
    proposal = selectors.proposal_get(user=user, pk=pk)
    post = request.POST
    try:
        if action == "scores":
            services.scoresheet_save(
                actor=user,
                proposal=proposal,
                scores={c: post.get(f"score-{c}", "") for c in Criterion.values},
                comments=post.get("comments", ""),
                submit=post.get("submit") == "1",
            )
        elif action == "consensus":
            services.consensus_record(
                actor=user,
                proposal=proposal,
                criterion=post.get("criterion", ""),
                score=_int(post.get("score"), 0) or 0,
                note=post.get("note", ""),
            )
        elif action == "change-request":
            services.change_request_create(
                actor=user,
                proposal=proposal,
                section=post.get("section", ""),
                request=post.get("request", ""),
            )
        elif action == "decide":
            outcome = post.get("outcome", "")
            adapted = (
                {
                    f: post.get(f"adapt-{f}", "")
                    for f in ("title", "description", "kpi", "target", "cost", "expected_benefit")
                }
                if outcome == ComponentDecision.Outcome.ADAPT
                else None
            )
            objective_id = _int(post.get("objective"), None)
            services.component_decide(
                actor=user,
                proposal=proposal,
                component_key=post.get("component_key", ""),
                outcome=outcome,
                reason=post.get("reason", ""),
                adapted={k: v for k, v in adapted.items() if v} if adapted else None,
                objective=Objective.objects.filter(pk=objective_id).first() if objective_id else None,
            )
        else:
            raise PermissionDenied
    except ValidationError as exc:
        _flash(request, exc)
    else:
        messages.success(request, "Saved.")
    return redirect("proposals:proposal", pk=pk)


# --- The combined strategy -------------------------------------------------------------------------------


@login_required
def strategy(request: HttpRequest) -> HttpResponse:
    _need(request, "proposals.view_initiative")
    user = _actor(request)
    if request.method == "POST":
        _need(request, "proposals.change_initiative")
        try:
            _strategy_post(request, user)
        except ValidationError as exc:
            _flash(request, exc)
        else:
            messages.success(request, "Saved.")
        return redirect("proposals:strategy")
    return render(
        request,
        "proposals/strategy.html",
        {
            "objectives": selectors.strategy(user=user),
            "balance": selectors.balance_of_interests(user=user),
            "statuses": Initiative.Status.choices,
            "can_edit": user.has_perm("proposals.change_initiative"),
            "today": timezone.localdate(),
        },
    )


def _strategy_post(request: HttpRequest, user: User) -> None:
    post = request.POST
    form = post.get("form")
    if form == "objective":
        services.objective_create(actor=user, code=post.get("code", ""), title=post.get("title", ""))
        return
    if form == "milestone-done":
        milestone = get_restricted_or_404(
            Milestone, user=user, pk=_int(post.get("milestone"), 0) or 0, action="change"
        )
        done_on = parse_date(post.get("done_on", ""))
        if done_on is None:
            raise ValidationError({"done_on": "Give the date it was done."})
        services.milestone_complete(actor=user, milestone=milestone, done_on=done_on)
        return
    initiative = get_restricted_or_404(
        Initiative, user=user, pk=_int(post.get("initiative"), 0) or 0, action="change"
    )
    if form == "milestone":
        due = parse_date(post.get("due", ""))
        if due is None:
            raise ValidationError({"due": "Give the due date."})
        services.milestone_add(actor=user, initiative=initiative, title=post.get("title", ""), due=due)
    elif form == "progress":
        changes: dict[str, Any] = {"status": post.get("status", initiative.status)}
        for name in ("actual", "realised_benefit", "vendor_share_pct"):
            if post.get(name, "") != "":
                changes[name] = post[name]
        services.initiative_update(actor=user, initiative=initiative, **changes)
    else:
        raise PermissionDenied
