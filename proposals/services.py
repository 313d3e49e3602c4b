"""Writes for partner selection, guidelines, calls, proposals, evaluation and the combined strategy.

Pages, the API, the portal and scheduled jobs all call these. Each write is audited in the same
transaction; each rule is enforced here and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from accounts.models import User
from core import audit, uploads
from core.models import AuditEvent
from proposals.models import (
    COMPONENT_FIELDS_LABELS,
    DEFAULT_WEIGHTS,
    SCORE_MAX,
    SCORE_MIN,
    Acknowledgement,
    Call,
    CallDocument,
    ChangeRequest,
    Clarification,
    ComponentDecision,
    ConsensusScore,
    CriteriaSet,
    Criterion,
    Guideline,
    GuidelineVersion,
    Initiative,
    Invitation,
    Milestone,
    Objective,
    PanelMember,
    Prequalification,
    Proposal,
    ProposalVersion,
    RubricWeight,
    Scoresheet,
    Section,
    Stage,
)
from vendors.models import Idea, ServiceCategory, Vendor

COMPONENT_FIELDS = tuple(name for name, _ in COMPONENT_FIELDS_LABELS)
COMPONENT_MONEY = ("cost", "expected_benefit")
COMPONENT_NUMBERS = ("baseline", "target")


def _require(actor: User, permission: str, message: str) -> None:
    if not actor.has_perm(permission):
        raise PermissionDenied(message)


def _staff_only(actor: User, message: str) -> None:
    if actor.vendor_id is not None:
        raise PermissionDenied(message)


def _own_vendor(actor: User, vendor_id: int) -> None:
    if actor.vendor_id != vendor_id:
        raise PermissionDenied("This belongs to another vendor.")


def _created(instance: Any, actor: User) -> None:
    audit.record_change(AuditEvent.Action.CREATE, instance, actor=actor)


def _event(instance: Any, detail: dict[str, Any], actor: User) -> None:
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type=audit.object_type_of(instance),
        object_id=str(instance.pk),
        object_repr=audit.safe_repr(instance),
        detail=detail,
        actor=actor,
    )


def _mail_after_commit(subject: str, body: str, recipients: Iterable[str]) -> None:
    to = sorted({r for r in recipients if r})
    if to:
        transaction.on_commit(lambda: send_mail(subject, body, None, to, fail_silently=True))


def _portal_emails(vendor_ids: Iterable[int]) -> list[str]:
    return list(
        User.objects.filter(vendor_id__in=list(vendor_ids), is_active=True).values_list("email", flat=True)
    )


# --- Choosing partners (002 §6.2) ------------------------------------------------------------------


def _clean_criteria(criteria: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    keys: set[str] = set()
    for item in criteria:
        key = str(item.get("key", "")).strip()
        label = str(item.get("label", "")).strip()
        try:
            weight = int(item.get("weight", 0))
        except (TypeError, ValueError):
            weight = 0
        if not key or not label:
            raise ValidationError({"criteria": "Every criterion needs a key and a label."})
        if key in keys:
            raise ValidationError({"criteria": f"The criterion key {key!r} appears twice."})
        if weight <= 0:
            raise ValidationError({"criteria": f"The weight of {label!r} must be a whole number above 0."})
        keys.add(key)
        cleaned.append({"key": key, "label": label, "weight": weight})
    if not cleaned:
        raise ValidationError({"criteria": "A criteria set needs at least one criterion."})
    total = sum(c["weight"] for c in cleaned)
    if total != 100:
        raise ValidationError({"criteria": f"The weights must sum to 100 (they sum to {total})."})
    return cleaned


@transaction.atomic
def criteria_set_create(
    *, actor: User, name: str, category: str, criteria: Sequence[Mapping[str, Any]]
) -> CriteriaSet:
    """Weighted criteria for choosing partners in one service category."""
    _require(actor, "proposals.add_criteriaset", "Setting partner-selection criteria needs CRM staff.")
    if category not in ServiceCategory.values:
        raise ValidationError({"category": f"Choose one of: {', '.join(ServiceCategory.values)}."})
    if not name.strip():
        raise ValidationError({"name": "Give the criteria set a name."})
    criteria_set = CriteriaSet.objects.create(
        name=name.strip(), category=category, criteria=_clean_criteria(criteria)
    )
    _created(criteria_set, actor)
    return criteria_set


@transaction.atomic
def vendor_prequalify(
    *, actor: User, vendor: Vendor, criteria_set: CriteriaSet, scores: Mapping[str, Any], note: str = ""
) -> Prequalification:
    """Score a candidate vendor 0–5 on each criterion; the result is Σ weight × score / 5, out of 100."""
    _require(actor, "proposals.add_prequalification", "Prequalifying vendors needs CRM staff.")
    cleaned: dict[str, int] = {}
    for criterion in criteria_set.criteria:
        raw = scores.get(criterion["key"])
        try:
            value = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValidationError({"scores": f"Score {criterion['label']!r} from 0 to 5."}) from None
        if not 0 <= value <= 5:
            raise ValidationError({"scores": f"{criterion['label']!r}: {value} is outside 0–5."})
        cleaned[criterion["key"]] = value
    unknown = set(scores) - set(cleaned)
    if unknown:
        raise ValidationError({"scores": f"Not criteria of this set: {', '.join(sorted(unknown))}."})
    weighted = sum((Decimal(c["weight"]) * cleaned[c["key"]] for c in criteria_set.criteria), Decimal(0)) / 5
    result = Prequalification.objects.create(
        vendor=vendor,
        criteria_set=criteria_set,
        scores=cleaned,
        score=weighted.quantize(Decimal("0.1")),
        note=note,
        assessed_by=actor,
    )
    _created(result, actor)
    return result


# --- Guidelines and acknowledgements (002 §6.2 "disseminate … and ensure that they stick to them") --


@transaction.atomic
def guideline_create(*, actor: User, title: str, stage: str) -> Guideline:
    _require(actor, "proposals.add_guideline", "Writing guidelines needs CRM staff.")
    if stage not in Stage.values:
        raise ValidationError({"stage": f"Choose one of: {', '.join(Stage.values)}."})
    if not title.strip():
        raise ValidationError({"title": "Give the guideline a title."})
    guideline = Guideline.objects.create(title=title.strip(), stage=stage)
    _created(guideline, actor)
    return guideline


# Evaluation rules are the panel's: the vendors being evaluated are not among their readers.
VENDOR_STAGES = (Stage.STRATEGY, Stage.PROPOSAL, Stage.IMPLEMENTATION)


@transaction.atomic
def guideline_publish(
    *,
    actor: User,
    guideline: Guideline,
    body: str,
    change_note: str = "",
    roles: Sequence[str] = (),
    people: Sequence[User] = (),
    vendors: Sequence[Vendor] = (),
) -> GuidelineVersion:
    """Publish a new version; everyone it is assigned to must acknowledge it (again).

    Staff are assigned by role or by name; third-party staff through their vendor (every active
    portal user of each vendor named), so a vendor's new portal user is covered at once.
    """
    from accounts.roles import ROLES

    _require(actor, "proposals.add_guidelineversion", "Publishing guidelines needs CRM staff.")
    errors: dict[str, str] = {}
    if not body.strip():
        errors["body"] = "A guideline version needs its text."
    unknown = [r for r in roles if r not in ROLES]
    portal_roles = [r for r in roles if r in ROLES and not ROLES[r].staff]
    if unknown:
        errors["roles"] = f"Unknown roles: {', '.join(unknown)}."
    elif portal_roles:
        # A role covers every vendor's portal users at once: that would show one vendor's
        # guideline to all of them. Vendors are named one by one instead.
        errors["roles"] = "Assign third-party staff through their vendor, not the portal role."
    portal_people = [p.username for p in people if p.vendor_id is not None]
    if portal_people:
        errors["people"] = f"{', '.join(portal_people)}: assign third-party staff through their vendor."
    if vendors and guideline.stage not in VENDOR_STAGES:
        errors["vendors"] = (
            f"{Stage(guideline.stage).label} guidelines are internal; they cannot be assigned to vendors."
        )
    if not roles and not people and not vendors:
        errors["roles"] = "Assign the guideline to at least one role, person or vendor."
    if errors:
        raise ValidationError(errors)
    number = (guideline.versions.aggregate(n=Max("number"))["n"] or 0) + 1
    version = GuidelineVersion.objects.create(
        guideline=guideline,
        number=number,
        body=body,
        change_note=change_note,
        roles=sorted(set(roles)),
        published_at=timezone.now(),
        published_by=actor,
    )
    version.people.set(people)
    version.vendors.set(vendors)
    _created(version, actor)
    if vendors:
        _event(version, {"assigned_vendors": sorted(v.pk for v in vendors)}, actor)
    recipients = assignees(version).values_list("email", flat=True)
    _mail_after_commit(
        f"Please acknowledge: {guideline.title} v{number}",
        f"A new version of '{guideline.title}' was published. Read and acknowledge it in Steward"
        " (vendor portal: Proposals → Guidelines).",
        recipients,
    )
    return version


def current_version(guideline: Guideline) -> GuidelineVersion | None:
    return guideline.versions.order_by("-number").first()


def assignees(version: GuidelineVersion) -> QuerySet[User]:
    """Everyone who must acknowledge VERSION: holders of its roles, the people named, and the
    active portal users (third-party staff) of the vendors named, except those off-boarded."""
    groups = Group.objects.filter(name__in=version.roles)
    people: QuerySet[User] = (
        User.objects.filter(is_active=True)
        .filter(
            Q(groups__in=groups)
            | Q(pk__in=version.people.values("pk"))
            | Q(vendor_id__in=version.vendors.values("pk"))
        )
        .exclude(third_party_worker__offboarded_on__lte=timezone.localdate())
        .select_related("vendor")
        .distinct()
        .order_by("vendor__name", "username")
    )
    return people


@transaction.atomic
def guideline_acknowledge(*, actor: User, version: GuidelineVersion) -> Acknowledgement:
    """ACTOR states they read and will follow VERSION; only the current version can be acknowledged."""
    current = current_version(version.guideline)
    if current is None or current.pk != version.pk:
        raise ValidationError(
            {
                "version": f"Version {version.number} is no longer current; "
                f"acknowledge version {current.number}."
            }
            if current
            else {"version": "This guideline has no published version."}
        )
    if not assignees(version).filter(pk=actor.pk).exists():
        raise ValidationError({"version": "This guideline is not assigned to you."})
    ack, created = Acknowledgement.objects.get_or_create(
        version=version, user=actor, defaults={"acknowledged_at": timezone.now()}
    )
    if created:
        _created(ack, actor)
    return ack


def outstanding_guidelines(user: User, stage: str | None = None) -> list[GuidelineVersion]:
    """Current guideline versions assigned to USER that USER has not acknowledged."""
    guidelines = Guideline.objects.all() if stage is None else Guideline.objects.filter(stage=stage)
    missing = []
    for guideline in guidelines.prefetch_related("versions"):
        version = max(guideline.versions.all(), key=lambda v: v.number, default=None)
        if version is None or not assignees(version).filter(pk=user.pk).exists():
            continue
        if not version.acknowledgements.filter(user=user).exists():
            missing.append(version)
    return missing


def stage_gate(user: User, stage: str) -> None:
    """Stage gates: who acts at a stage must have acknowledged its current guidelines."""
    missing = outstanding_guidelines(user, stage)
    if missing:
        names = ", ".join(f"'{v.guideline.title}' v{v.number}" for v in missing)
        where = (
            "in the vendor portal (Proposals → Guidelines)" if user.vendor_id else "on the Guidelines page"
        )
        raise ValidationError(
            {
                "guidelines": f"Acknowledge {names} {where} before acting at the "
                f"{Stage(stage).label.lower()} stage."
            }
        )


def guideline_reminders_send() -> int:
    """E-mail everyone who has not acknowledged a current guideline version; returns how many."""
    sent = 0
    for guideline in Guideline.objects.all():
        version = current_version(guideline)
        if version is None:
            continue
        acknowledged = version.acknowledgements.values("user_id")
        for person in assignees(version).exclude(pk__in=acknowledged):
            if person.email:
                send_mail(
                    f"Reminder: acknowledge {guideline.title} v{version.number}",
                    "You have not yet acknowledged this guideline in Steward.",
                    None,
                    [person.email],
                    fail_silently=True,
                )
                sent += 1
    return sent


# --- Calls for proposals --------------------------------------------------------------------------


def _clean_weights(weights: Mapping[str, Any] | None) -> dict[str, int]:
    """Rubric weights: a whole number of at least 1 for every criterion, summing to 100.

    Every criterion must carry a weight: the weighted score compares the criteria a sheet scores
    with the weighted ones, so a criterion left out would leave the proposal without a score.
    All problems are reported at once, so the form can be put right in one go.
    """
    if not weights:
        return dict(DEFAULT_WEIGHTS)
    cleaned: dict[str, int] = {}
    problems: list[str] = []
    for criterion, raw in weights.items():
        if criterion not in Criterion.values:
            problems.append(f"{criterion!r} is not a rubric criterion.")
            continue
        label = Criterion(criterion).label
        if raw is None or str(raw).strip() == "":
            continue  # reported below with the other missing criteria
        try:
            weight = int(str(raw).strip())
        except (TypeError, ValueError):
            problems.append(f"The weight of {label} must be a whole number.")
            continue
        if weight < 0:
            problems.append(f"The weight of {label} cannot be negative.")
        elif weight == 0:
            problems.append(f"The weight of {label} must be at least 1 (every criterion counts).")
        cleaned[criterion] = weight
    given = {c for c, raw in weights.items() if raw is not None and str(raw).strip() != ""}
    missing = [Criterion(c).label for c in Criterion.values if c not in given]
    if missing:
        problems.append(f"Give a weight for every criterion (missing: {', '.join(missing)}).")
    total = sum(cleaned.values())
    if total != 100:
        problems.append(f"The weights must sum to 100 (they sum to {total}).")
    if problems:
        raise ValidationError({"weights": " ".join(problems)})
    return cleaned


def rubric_editable(call: Call) -> bool:
    """The rubric can change until the call is decided or a panel member saved a scoresheet."""
    return call.status != Call.Status.DECIDED and not Scoresheet.objects.filter(proposal__call=call).exists()


@transaction.atomic
def rubric_weights_set(*, actor: User, call: Call, weights: Mapping[str, Any]) -> dict[str, int]:
    """Change a call's rubric weights, all at once, until scoring starts.

    Once a panel member has saved a scoresheet on the call (even a draft), the weights are fixed:
    the weighted score is computed from them, and moving them under scores already given would
    change the result after the fact. Audited with the weights before and after.
    """
    _require(actor, "proposals.change_rubricweight", "Changing the rubric needs CRM staff.")
    _staff_only(actor, "Vendors do not set the rubric.")
    if call.status == Call.Status.DECIDED:
        raise ValidationError({"weights": "The call is decided; its rubric is fixed."})
    if not rubric_editable(call):
        raise ValidationError(
            {"weights": "Scoring on this call has started; the rubric weights can no longer change."}
        )
    if not weights:
        raise ValidationError({"weights": "Give the weight of every criterion."})
    cleaned = _clean_weights(weights)
    before = {w.criterion: w.weight for w in call.weights.all()}
    if before == cleaned:
        return cleaned
    for criterion, weight in cleaned.items():
        RubricWeight.objects.update_or_create(call=call, criterion=criterion, defaults={"weight": weight})
    call.weights.exclude(criterion__in=list(cleaned)).delete()
    _event(call, {"rubric_weights": [before, cleaned]}, actor)
    return cleaned


@transaction.atomic
def call_create(
    *,
    actor: User,
    title: str,
    objectives: str,
    required_sections: Sequence[str],
    deadline: datetime,
    vendors: Sequence[Vendor],
    allow_late: bool = False,
    weights: Mapping[str, Any] | None = None,
) -> Call:
    """A call for CRM strategy proposals to one or more vendors (opened separately)."""
    _require(actor, "proposals.add_call", "Calling for proposals needs CRM staff.")
    stage_gate(actor, Stage.PROPOSAL)
    errors: dict[str, str] = {}
    if not title.strip():
        errors["title"] = "Give the call a title."
    if not objectives.strip():
        errors["objectives"] = "State the company objectives the strategy must serve."
    unknown = [s for s in required_sections if s not in Section.values]
    if unknown:
        errors["required_sections"] = f"Unknown sections: {', '.join(unknown)}."
    elif not required_sections:
        errors["required_sections"] = "Require at least one section."
    if not vendors:
        errors["vendors"] = "Invite at least one vendor."
    if timezone.is_naive(deadline):
        errors["deadline"] = "Give the deadline with its time zone."
    elif deadline <= timezone.now():
        errors["deadline"] = "The deadline must be in the future."
    if errors:
        raise ValidationError(errors)
    call = Call.objects.create(
        title=title.strip(),
        objectives=objectives.strip(),
        required_sections=[s for s in Section.values if s in set(required_sections)],
        deadline=deadline,
        allow_late=allow_late,
        created_by=actor,
    )
    for vendor in {v.pk: v for v in vendors}.values():
        Invitation.objects.create(call=call, vendor=vendor)
    for criterion, weight in _clean_weights(weights).items():
        RubricWeight.objects.create(call=call, criterion=criterion, weight=weight)
    _created(call, actor)
    return call


@transaction.atomic
def call_from_idea(
    *,
    actor: User,
    idea: Idea,
    deadline: datetime,
    required_sections: Sequence[str] = (Section.OBJECTIVES, Section.INITIATIVES, Section.KPIS, Section.COST),
) -> Call:
    """Turn an accepted idea from the liaison log into a proposal (issue 5 item 6): a call to the
    idea's vendor to write it up as a proposal, linked both ways and opened at once."""
    from vendors.cooperation import idea_decide

    if idea.status != Idea.Status.ACCEPTED:
        raise ValidationError(
            {"idea": f"Only an accepted idea becomes a proposal; this one is {idea.get_status_display()}."}
        )
    objectives = idea.description
    if idea.expected_benefit:
        objectives += f"\n\nExpected benefit: {idea.expected_benefit}"
    call = call_create(
        actor=actor,
        title=idea.title,
        objectives=objectives,
        required_sections=required_sections,
        deadline=deadline,
        vendors=[idea.vendor],
    )
    call.source_idea = idea
    call.save(update_fields=["source_idea", "updated_at"])
    idea_decide(
        actor=actor,
        idea=idea,
        status=Idea.Status.PROPOSAL,
        proposal_reference=f"Call #{call.pk}: {call.title}",
    )
    return call_set_status(actor=actor, call=call, status=Call.Status.OPEN)


@transaction.atomic
def call_set_status(*, actor: User, call: Call, status: str) -> Call:
    """Open a draft call (invited vendors are told), close an open one, or mark it decided."""
    _require(actor, "proposals.change_call", "Changing a call needs CRM staff.")
    allowed = {
        Call.Status.DRAFT: {Call.Status.OPEN},
        Call.Status.OPEN: {Call.Status.CLOSED},
        Call.Status.CLOSED: {Call.Status.DECIDED, Call.Status.OPEN},
        Call.Status.DECIDED: set(),
    }
    if status not in allowed[Call.Status(call.status)]:
        raise ValidationError(
            {"status": f"A {call.get_status_display().lower()} call cannot become {status}."}
        )
    before = call.status
    call.status = status
    call.save(update_fields=["status", "updated_at"])
    _event(call, {"status": [before, status]}, actor)
    if status == Call.Status.OPEN and before == Call.Status.DRAFT:
        _mail_after_commit(
            f"Call for CRM strategy proposals: {call.title}",
            "You are invited to submit a proposal by "
            f"{timezone.localtime(call.deadline):%Y-%m-%d %H:%M} HKT. "
            "Open the vendor portal in Steward for the objectives and required sections.",
            _portal_emails(call.invitations.values_list("vendor_id", flat=True)),
        )
    return call


@transaction.atomic
def call_document_add(*, actor: User, call: Call, title: str, upload: Any) -> CallDocument:
    """Attach a brief or data dictionary to a call; the file is checked by its content."""
    _require(actor, "proposals.add_calldocument", "Attaching documents needs CRM staff.")
    _staff_only(actor, "Vendors do not attach documents to calls.")
    if not title.strip():
        raise ValidationError({"title": "Give the document a title."})
    checked = uploads.check_upload(upload)
    document = CallDocument(
        call=call,
        title=title.strip(),
        file_name=checked.original_name,
        content_type=checked.content_type,
        size=checked.size,
        added_by=actor,
    )
    with uploads.files_removed_on_failure() as keep:
        document.file.save(checked.stored_name(), upload, save=False)
        keep(document.file)
        document.save()
        _created(document, actor)
    return document


def _invited(call: Call, vendor_id: int) -> bool:
    return call.invitations.filter(vendor_id=vendor_id).exists()


@transaction.atomic
def clarification_ask(*, actor: User, call: Call, question: str) -> Clarification:
    """An invited vendor asks a question; only they see it until the answer is published."""
    if actor.vendor_id is None or not _invited(call, actor.vendor_id):
        raise PermissionDenied("Only an invited vendor asks clarification questions.")
    if call.status != Call.Status.OPEN:
        raise ValidationError({"question": "Questions can be asked while the call is open."})
    if not question.strip():
        raise ValidationError({"question": "Write the question."})
    item = Clarification.objects.create(
        call=call, vendor_id=actor.vendor_id, question=question.strip(), asked_by=actor
    )
    _created(item, actor)
    return item


@transaction.atomic
def clarification_answer(
    *, actor: User, clarification: Clarification, answer: str, publish: bool = True
) -> Clarification:
    """Answer a question; published answers are visible to every invited vendor (fair treatment)."""
    _require(actor, "proposals.change_clarification", "Answering questions needs CRM staff.")
    _staff_only(actor, "Vendors do not answer clarification questions.")
    if not answer.strip():
        raise ValidationError({"answer": "Write the answer."})
    clarification.answer = answer.strip()
    clarification.answered_by = actor
    clarification.answered_at = timezone.now()
    clarification.published = publish
    clarification.save()
    _event(clarification, {"answered": True, "published": publish}, actor)
    if publish:
        _mail_after_commit(
            f"Clarification published: {clarification.call.title}",
            "A question on the call was answered; see the call in the vendor portal.",
            _portal_emails(clarification.call.invitations.values_list("vendor_id", flat=True)),
        )
    return clarification


# --- Proposals: drafts, submissions, revisions ---------------------------------------------------------


def _decimal_or_none(value: Any, label: str) -> str | None:
    if value in (None, ""):
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({"components": f"{label} must be a number."}) from None
    if not number.is_finite():
        raise ValidationError({"components": f"{label} must be a number."})
    return str(number)


def _clean_components(components: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    cleaned: list[dict[str, Any]] = []
    keys: set[str] = set()
    for position, raw in enumerate(components, start=1):
        unknown = set(raw) - set(COMPONENT_FIELDS)
        if unknown:
            raise ValidationError(
                {"components": f"Component {position}: unknown fields {', '.join(sorted(unknown))}."}
            )
        item: dict[str, Any] = {f: str(raw.get(f, "") or "").strip() for f in COMPONENT_FIELDS}
        item["key"] = item["key"] or f"c{position}"
        if not item["title"]:
            raise ValidationError({"components": f"Component {position} needs a title."})
        if item["key"] in keys:
            raise ValidationError({"components": f"The component key {item['key']!r} appears twice."})
        keys.add(item["key"])
        for f in (*COMPONENT_NUMBERS, *COMPONENT_MONEY):
            item[f] = _decimal_or_none(raw.get(f), f"{item['title']}: {f}")
        for f in COMPONENT_MONEY:
            if item[f] is not None and Decimal(item[f]) < 0:
                raise ValidationError({"components": f"{item['title']}: {f} cannot be negative."})
        cleaned.append(item)
    return cleaned


def _clean_sections(sections: Mapping[str, Any]) -> dict[str, str]:
    unknown = set(sections) - set(Section.values)
    if unknown:
        raise ValidationError({"sections": f"Unknown sections: {', '.join(sorted(unknown))}."})
    return {k: str(v or "").strip() for k, v in sections.items() if str(v or "").strip()}


def draft_of(proposal: Proposal) -> ProposalVersion | None:
    return proposal.versions.filter(submitted_at__isnull=True).order_by("-number").first()


def latest_submitted(proposal: Proposal) -> ProposalVersion | None:
    return proposal.versions.filter(submitted_at__isnull=False).order_by("-number").first()


@transaction.atomic
def proposal_save_draft(
    *, actor: User, call: Call, sections: Mapping[str, Any], components: Sequence[Mapping[str, Any]]
) -> ProposalVersion:
    """The vendor writes (or keeps writing) its draft. A submitted version is never edited: after a
    submission, saving starts the next version."""
    if actor.vendor_id is None or not _invited(call, actor.vendor_id):
        raise PermissionDenied("Only an invited vendor writes a proposal for this call.")
    if call.status in (Call.Status.DRAFT, Call.Status.DECIDED):
        raise ValidationError({"call": f"The call is {call.get_status_display().lower()}."})
    cleaned_sections = _clean_sections(sections)
    cleaned_components = _clean_components(components)
    proposal, _ = Proposal.objects.get_or_create(call=call, vendor_id=actor.vendor_id)
    if proposal.status == Proposal.Status.DECIDED:
        raise ValidationError({"proposal": "The proposal has been decided; it can no longer change."})
    draft = draft_of(proposal)
    if draft is None:
        number = (proposal.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        draft = ProposalVersion.objects.create(
            proposal=proposal, number=number, sections=cleaned_sections, components=cleaned_components
        )
        _created(draft, actor)
    else:
        draft.sections = cleaned_sections
        draft.components = cleaned_components
        draft.save(update_fields=["sections", "components", "updated_at"])
        _event(draft, {"draft": "saved"}, actor)
    return draft


def proposal_submit(
    *, actor: User, proposal: Proposal, responses: Mapping[int, str] | None = None
) -> ProposalVersion:
    """Submit the draft: required sections filled, at least one component, before the deadline (or
    marked late where the call allows it), and every open change request answered.

    A refused late submission is logged in the audit trail even though nothing else is written.
    """
    _own_vendor(actor, proposal.vendor_id)
    # Third-party staff too: the one submitting must have acknowledged the current proposal-stage
    # guidelines assigned to their vendor (002 §6.2).
    stage_gate(actor, Stage.PROPOSAL)
    call = proposal.call
    first_submission = latest_submitted(proposal) is None
    if first_submission and timezone.now() > call.deadline and not call.allow_late:
        with transaction.atomic():
            _event(proposal, {"refused": "submitted after the deadline"}, actor)
        raise ValidationError(
            {"proposal": f"The deadline passed at {timezone.localtime(call.deadline):%Y-%m-%d %H:%M} HKT."}
        )
    return _submit(
        actor=actor, proposal=proposal, responses=responses or {}, first_submission=first_submission
    )


@transaction.atomic
def _submit(
    *, actor: User, proposal: Proposal, responses: Mapping[int, str], first_submission: bool
) -> ProposalVersion:
    call = proposal.call
    draft = draft_of(proposal)
    if draft is None:
        raise ValidationError({"proposal": "There is no draft to submit; save one first."})
    now = timezone.now()
    late = first_submission and now > call.deadline
    if first_submission and call.status != Call.Status.OPEN:
        raise ValidationError({"proposal": f"The call is {call.get_status_display().lower()}."})
    missing = [Section(s).label for s in call.required_sections if not draft.sections.get(s)]
    if missing:
        raise ValidationError({"sections": f"Fill the required sections: {', '.join(missing)}."})
    if not draft.components:
        raise ValidationError({"components": "Propose at least one component (initiative)."})
    open_requests = list(proposal.change_requests.filter(answered_in__isnull=True))
    answers = {int(k): str(v).strip() for k, v in responses.items()}
    unanswered = [cr for cr in open_requests if not answers.get(cr.pk)]
    if unanswered:
        raise ValidationError(
            {
                "responses": "Answer every change request: "
                + "; ".join(f"#{cr.pk} {cr.request[:40]}" for cr in unanswered)
            }
        )
    for cr in open_requests:
        cr.response = answers[cr.pk]
        cr.answered_in = draft
        cr.save(update_fields=["response", "answered_in", "updated_at"])
    draft.submitted_at = now
    draft.submitted_by = actor
    draft.late = late
    draft.save(update_fields=["submitted_at", "submitted_by", "late", "updated_at"])
    proposal.status = Proposal.Status.SUBMITTED
    proposal.save(update_fields=["status", "updated_at"])
    _event(
        draft, {"submitted": True, "late": late, "answered_requests": [cr.pk for cr in open_requests]}, actor
    )
    return draft


@transaction.atomic
def change_request_create(*, actor: User, proposal: Proposal, section: str, request: str) -> ChangeRequest:
    """Fine-tuning: ask the vendor to change one section; the vendor's next revision must answer it."""
    _require(actor, "proposals.add_changerequest", "Requesting changes needs CRM staff.")
    _staff_only(actor, "Vendors do not request changes.")
    if section not in Section.values:
        raise ValidationError({"section": f"Choose one of: {', '.join(Section.values)}."})
    if not request.strip():
        raise ValidationError({"request": "Say what should change."})
    version = latest_submitted(proposal)
    if version is None:
        raise ValidationError({"proposal": "Nothing has been submitted yet."})
    if proposal.status == Proposal.Status.DECIDED:
        raise ValidationError({"proposal": "The proposal has been decided."})
    item = ChangeRequest.objects.create(
        proposal=proposal, section=section, request=request.strip(), asked_on=version, requested_by=actor
    )
    proposal.status = Proposal.Status.CHANGES_REQUESTED
    proposal.save(update_fields=["status", "updated_at"])
    _created(item, actor)
    _mail_after_commit(
        f"Change requested on your proposal: {proposal.call.title}",
        f"{Section(section).label}: {request.strip()}",
        _portal_emails([proposal.vendor_id]),
    )
    return item


# --- Evaluation: panel, blind scoring, consensus ----------------------------------------------------


@transaction.atomic
def panel_add(*, actor: User, call: Call, user: User) -> PanelMember:
    _require(actor, "proposals.add_panelmember", "Forming the panel needs CRM staff.")
    if user.vendor_id is not None:
        raise ValidationError({"user": "A vendor's portal user cannot sit on the evaluation panel."})
    if PanelMember.objects.filter(call=call, user=user).exists():
        raise ValidationError({"user": f"{user.username} is already on the panel."})
    member = PanelMember.objects.create(call=call, user=user)
    _created(member, actor)
    return member


@transaction.atomic
def panel_declare(
    *, actor: User, member: PanelMember, conflicts: Sequence[Vendor], note: str = ""
) -> PanelMember:
    """The member declares conflicts of interest (or none) before scoring anything."""
    if member.user_id != actor.pk:
        raise PermissionDenied("Members declare their own conflicts of interest.")
    invited = set(member.call.invitations.values_list("vendor_id", flat=True))
    stray = [v.name for v in conflicts if v.pk not in invited]
    if stray:
        raise ValidationError({"conflicts": f"Not invited to this call: {', '.join(stray)}."})
    if conflicts and not note.strip():
        raise ValidationError({"note": "Describe the conflict of interest."})
    if member.scoresheets.exists():
        raise ValidationError({"conflicts": "The declaration cannot change once scoring started."})
    member.declared_at = timezone.now()
    member.conflict_note = note.strip()
    member.save(update_fields=["declared_at", "conflict_note", "updated_at"])
    member.conflicts.set(conflicts)
    _event(member, {"declared": True, "conflicts": sorted(v.pk for v in conflicts)}, actor)
    return member


def _clean_scores(scores: Mapping[str, Any], *, complete: bool) -> dict[str, int]:
    cleaned: dict[str, int] = {}
    for criterion, raw in scores.items():
        if criterion not in Criterion.values:
            raise ValidationError({"scores": f"{criterion!r} is not a rubric criterion."})
        if raw in (None, ""):
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise ValidationError({"scores": f"{Criterion(criterion).label}: give a whole number."}) from None
        if not SCORE_MIN <= value <= SCORE_MAX:
            raise ValidationError(
                {"scores": f"{Criterion(criterion).label}: {value} is outside {SCORE_MIN}–{SCORE_MAX}."}
            )
        cleaned[criterion] = value
    if complete:
        missing = [Criterion(c).label for c in Criterion.values if c not in cleaned]
        if missing:
            raise ValidationError(
                {"scores": f"Score every criterion before submitting: {', '.join(missing)}."}
            )
    return cleaned


@transaction.atomic
def scoresheet_save(
    *, actor: User, proposal: Proposal, scores: Mapping[str, Any], comments: str = "", submit: bool = False
) -> Scoresheet:
    """A panel member scores a proposal independently; a submitted sheet is final."""
    member = PanelMember.objects.filter(call=proposal.call, user=actor).first()
    if member is None:
        raise PermissionDenied("Only members of this call's panel score its proposals.")
    stage_gate(actor, Stage.EVALUATION)
    if member.declared_at is None:
        raise ValidationError({"conflicts": "Declare your conflicts of interest (or none) before scoring."})
    if member.conflicts.filter(pk=proposal.vendor_id).exists():
        raise ValidationError(
            {"proposal": "You declared a conflict of interest with this vendor; you cannot score it."}
        )
    if latest_submitted(proposal) is None:
        raise ValidationError({"proposal": "The proposal has not been submitted."})
    sheet, _ = Scoresheet.objects.get_or_create(member=member, proposal=proposal)
    if sheet.submitted_at is not None:
        raise ValidationError({"scores": "Your scores were submitted and are final."})
    sheet.scores = _clean_scores(scores, complete=submit)
    sheet.comments = comments
    if submit:
        sheet.submitted_at = timezone.now()
    sheet.save()
    _event(sheet, {"submitted": submit}, actor)
    return sheet


@transaction.atomic
def consensus_record(
    *, actor: User, proposal: Proposal, criterion: str, score: int, note: str = ""
) -> ConsensusScore:
    """The consensus round: once every eligible member submitted, the panel agrees each criterion;
    where scores were far apart (flagged) a note explaining the agreed score is required."""
    from proposals.selectors import consensus_table

    _require(actor, "proposals.add_consensusscore", "Recording consensus needs CRM staff.")
    if not PanelMember.objects.filter(call=proposal.call, user=actor).exists():
        raise PermissionDenied("Only a panel member records the consensus.")
    table = consensus_table(proposal)
    if not table.complete:
        raise ValidationError(
            {"consensus": "Wait until every panel member without a conflict has submitted."}
        )
    value = _clean_scores({criterion: score}, complete=False).get(criterion)
    if value is None:
        raise ValidationError({"score": "Give the agreed score."})
    row = next(r for r in table.rows if r.criterion == criterion)
    if row.flagged and not note.strip():
        raise ValidationError(
            {"note": "The panel disagreed on this criterion; say why the agreed score is right."}
        )
    item, _ = ConsensusScore.objects.update_or_create(
        proposal=proposal,
        criterion=criterion,
        defaults={"score": value, "note": note.strip(), "agreed_by": actor},
    )
    _event(item, {"criterion": criterion, "score": value}, actor)
    return item


# --- Decisions and the combined CRM strategy ----------------------------------------------------------


@transaction.atomic
def component_decide(
    *,
    actor: User,
    proposal: Proposal,
    component_key: str,
    outcome: str,
    reason: str,
    adapted: Mapping[str, Any] | None = None,
    objective: Objective | None = None,
    owner: User | None = None,
) -> ComponentDecision:
    """Adopt, adapt (with the company's own edits, kept beside the vendor's text) or reject one
    component of the latest submitted version. Adopted and adapted components become initiatives
    of the combined strategy, linked to their proposal and vendor."""
    _require(actor, "proposals.add_componentdecision", "Deciding on proposals needs CRM staff.")
    _staff_only(actor, "Vendors do not decide on proposals.")
    stage_gate(actor, Stage.EVALUATION)
    version = latest_submitted(proposal)
    if version is None:
        raise ValidationError({"proposal": "Nothing has been submitted yet."})
    component = next((c for c in version.components if c["key"] == component_key), None)
    if component is None:
        raise ValidationError(
            {"component_key": f"Version {version.number} has no component {component_key!r}."}
        )
    if outcome not in ComponentDecision.Outcome.values:
        raise ValidationError({"outcome": "Choose adopt, adapt or reject."})
    if not reason.strip():
        raise ValidationError({"reason": "Give the reason for the decision."})
    if proposal.decisions.filter(component_key=component_key).exists():
        raise ValidationError({"component_key": "This component has already been decided."})
    edits: dict[str, Any] = {}
    if outcome == ComponentDecision.Outcome.ADAPT:
        if not adapted:
            raise ValidationError({"adapted": "An adapted component needs the company's edits."})
        edits = _clean_components([{**component, **dict(adapted), "key": component_key}])[0]
    elif adapted:
        raise ValidationError({"adapted": "Only an adapted component carries edits."})
    decision = ComponentDecision.objects.create(
        proposal=proposal,
        version=version,
        component_key=component_key,
        outcome=outcome,
        reason=reason.strip(),
        adapted=edits,
        decided_by=actor,
    )
    _created(decision, actor)
    if outcome != ComponentDecision.Outcome.REJECT:
        source = edits or component
        target_objective = objective or Objective.objects.filter(code=source.get("objective") or "").first()
        if target_objective is None:
            raise ValidationError({"objective": "Choose the company objective the initiative serves."})
        initiative = Initiative.objects.create(
            objective=target_objective,
            title=source["title"],
            description=source["description"],
            owner=owner,
            source_decision=decision,
            vendor_id=proposal.vendor_id,
            kpi=source["kpi"],
            baseline=source["baseline"],
            target=source["target"],
            cost=source["cost"] or Decimal(0),
            expected_benefit=source["expected_benefit"] or Decimal(0),
        )
        _created(initiative, actor)
    keys = {c["key"] for c in version.components}
    if keys <= set(proposal.decisions.values_list("component_key", flat=True)):
        proposal.status = Proposal.Status.DECIDED
        proposal.save(update_fields=["status", "updated_at"])
        _event(proposal, {"status": "decided"}, actor)
    return decision


@transaction.atomic
def objective_create(*, actor: User, code: str, title: str, description: str = "") -> Objective:
    _require(actor, "proposals.add_objective", "Editing the CRM strategy needs CRM staff.")
    if Objective.objects.filter(code=code).exists():
        raise ValidationError({"code": f"An objective {code!r} exists."})
    objective = Objective(code=code, title=title, description=description)
    objective.full_clean()
    objective.save()
    _created(objective, actor)
    return objective


@transaction.atomic
def initiative_create(*, actor: User, objective: Objective, title: str, **fields: Any) -> Initiative:
    """One of the company's own initiatives (not from a proposal)."""
    _require(actor, "proposals.add_initiative", "Editing the CRM strategy needs CRM staff.")
    initiative = Initiative(objective=objective, title=title, **fields)
    initiative.full_clean()
    initiative.save()
    _created(initiative, actor)
    return initiative


@transaction.atomic
def initiative_update(*, actor: User, initiative: Initiative, **changes: Any) -> Initiative:
    """Status, actual KPI value and realised benefit as implementation goes on."""
    _require(actor, "proposals.change_initiative", "Updating initiatives needs CRM staff.")
    allowed = {"status", "actual", "realised_benefit", "vendor_share_pct", "owner", "description"}
    stray = set(changes) - allowed
    if stray:
        raise ValidationError({sorted(stray)[0]: "This field cannot be changed here."})
    before = audit.snapshot(initiative)
    for name, value in changes.items():
        setattr(initiative, name, value)
    initiative.full_clean()
    initiative.save()
    audit.record_change(AuditEvent.Action.UPDATE, initiative, before=before, actor=actor)
    return initiative


@transaction.atomic
def milestone_add(
    *, actor: User, initiative: Initiative, title: str, due: date, owner: User | None = None
) -> Milestone:
    _require(actor, "proposals.add_milestone", "Planning milestones needs CRM staff.")
    if not title.strip():
        raise ValidationError({"title": "Name the milestone."})
    milestone = Milestone.objects.create(initiative=initiative, title=title.strip(), due=due, owner=owner)
    _created(milestone, actor)
    return milestone


@transaction.atomic
def milestone_complete(*, actor: User, milestone: Milestone, done_on: date) -> Milestone:
    _require(actor, "proposals.change_milestone", "Updating milestones needs CRM staff.")
    if done_on > timezone.localdate():
        raise ValidationError({"done_on": "A milestone cannot be done in the future."})
    milestone.done_on = done_on
    milestone.save(update_fields=["done_on", "updated_at"])
    _event(milestone, {"done_on": done_on.isoformat(), "on_time": milestone.on_time}, actor)
    return milestone
