"""Codes of practice and QA reviews (seed 004 §1 and §2.3; issue 4 items 8 and 9).

Every write is a keyword-only service in one transaction with its audit row. The scoring
arithmetic is :func:`score_review` (PRODUCT.md §3):

- category score = (selected − min) ÷ (max − min) × 100;
- review score = Σ weight × category score ÷ Σ weight;
- a critical category scoring below its pass mark fails, and zeroes the review.

The review's life: a customer-service manager assigns a conversation (ticket) to a reviewer
with a rubric; the reviewer scores every category and may cite code-of-practice items; the
agent acknowledges or disputes (with a reason); a manager other than the reviewer resolves a
dispute by upholding the score or amending it (the original score is kept).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from accounts.models import User
from core import audit
from core.models import AuditEvent
from service.models import (
    CodeItem,
    CodeOfPractice,
    QaCategoryScore,
    QaReview,
    Rubric,
    RubricCategory,
    Ticket,
)

CENT = Decimal("0.01")
MAX_CATEGORIES = 20
MAX_ITEMS = 100
TEXT_MAX = 4000


def _require(actor: Any, perm: str, message: str) -> None:
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


def _decimal(value: Any, name: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({name: f"“{value}” is not a number."}) from None
    if not result.is_finite():
        raise ValidationError({name: "Give a finite number."})
    return result


def _text(value: str, name: str, *, required: bool = False, limit: int = TEXT_MAX) -> str:
    value = (value or "").strip()
    if required and not value:
        raise ValidationError({name: "This is required."})
    if len(value) > limit:
        raise ValidationError({name: f"Keep it under {limit} characters."})
    return value


# --- Codes of practice --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemSpec:
    code: str
    title: str
    text: str
    category: str


def _item_errors(spec: ItemSpec, prefix: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not spec.code.strip() or len(spec.code.strip()) > 20:
        errors[f"{prefix}code"] = "Give a short code (1–20 characters), e.g. PRIV-2."
    if not spec.title.strip() or len(spec.title) > 200:
        errors[f"{prefix}title"] = "Give a title of 1–200 characters."
    if not spec.text.strip() or len(spec.text) > TEXT_MAX:
        errors[f"{prefix}text"] = "Say what the rule requires (up to 4000 characters)."
    if spec.category not in CodeItem.Category.values:
        errors[f"{prefix}category"] = f"Choose one of {', '.join(CodeItem.Category.values)}."
    return errors


@transaction.atomic
def code_of_practice_create(
    *, actor: Any, code: str, title: str, summary: str = "", items: Sequence[ItemSpec] = ()
) -> CodeOfPractice:
    """Start a new code of practice as draft version 1, with its first items."""
    _require(actor, "service.add_codeofpractice", "Writing codes of practice needs the CS manager role.")
    errors: dict[str, str] = {}
    code = (code or "").strip()
    if not code or len(code) > 40 or not all(c.isalnum() or c in "-_" for c in code):
        errors["code"] = "Use 1–40 letters, digits, hyphens or underscores."
    elif CodeOfPractice.objects.filter(code=code).exists():
        errors["code"] = "A code of practice with this code exists; propose a new version of it instead."
    if not (title or "").strip() or len(title) > 200:
        errors["title"] = "Give a title of 1–200 characters."
    if len(items) > MAX_ITEMS:
        errors["items"] = f"At most {MAX_ITEMS} items."
    seen: set[str] = set()
    for i, spec in enumerate(items):
        errors.update(_item_errors(spec, f"items.{i}."))
        if spec.code.strip() in seen:
            errors[f"items.{i}.code"] = "Each item code appears once."
        seen.add(spec.code.strip())
    if errors:
        raise ValidationError(errors)
    cop = CodeOfPractice.objects.create(code=code, title=title.strip(), summary=_text(summary, "summary"))
    audit.record_change(AuditEvent.Action.CREATE, cop, actor=actor)
    for i, spec in enumerate(items):
        _item_create(actor, cop, spec, i)
    return cop


def _item_create(actor: Any, cop: CodeOfPractice, spec: ItemSpec, position: int) -> CodeItem:
    item = CodeItem.objects.create(
        code_of_practice=cop,
        code=spec.code.strip(),
        title=spec.title.strip(),
        text=spec.text.strip(),
        category=spec.category,
        position=position,
    )
    audit.record_change(AuditEvent.Action.CREATE, item, actor=actor)
    return item


@transaction.atomic
def code_item_add(*, actor: Any, code_of_practice: CodeOfPractice, spec: ItemSpec) -> CodeItem:
    """Add an item to a draft version (a published version is frozen)."""
    _require(actor, "service.add_codeitem", "Writing codes of practice needs the CS manager role.")
    cop = CodeOfPractice.objects.select_for_update().get(pk=code_of_practice.pk)
    if cop.status != CodeOfPractice.Status.DRAFT:
        raise ValidationError("This version is published; propose a new version to change it.")
    errors = _item_errors(spec, "")
    if not errors and cop.items.filter(code=spec.code.strip()).exists():
        errors["code"] = "This version already has an item with this code."
    if not errors and cop.items.count() >= MAX_ITEMS:
        errors["code"] = f"At most {MAX_ITEMS} items."
    if errors:
        raise ValidationError(errors)
    position = (cop.items.aggregate(m=Max("position"))["m"] or 0) + 1
    return _item_create(actor, cop, spec, position)


@transaction.atomic
def code_of_practice_publish(
    *, actor: Any, code_of_practice: CodeOfPractice, effective_from: date | None = None
) -> CodeOfPractice:
    """Publish a draft: it becomes the version QA cites, and the previous published version retires."""
    _require(
        actor, "service.change_codeofpractice", "Publishing codes of practice needs the CS manager role."
    )
    cop = CodeOfPractice.objects.select_for_update().get(pk=code_of_practice.pk)
    if cop.status != CodeOfPractice.Status.DRAFT:
        raise ValidationError("Only a draft can be published.")
    if not cop.items.exists():
        raise ValidationError("A code of practice needs at least one item before it is published.")
    for old in CodeOfPractice.objects.select_for_update().filter(
        code=cop.code, status=CodeOfPractice.Status.PUBLISHED
    ):
        before = audit.snapshot(old)
        old.status = CodeOfPractice.Status.RETIRED
        old.save(update_fields=["status", "updated_at"])
        audit.record_change(AuditEvent.Action.UPDATE, old, before=before, actor=actor)
    before = audit.snapshot(cop)
    cop.status = CodeOfPractice.Status.PUBLISHED
    cop.published_at = timezone.now()
    cop.published_by = actor
    cop.effective_from = effective_from or timezone.localdate()
    cop.save()
    audit.record_change(AuditEvent.Action.UPDATE, cop, before=before, actor=actor)
    return cop


@transaction.atomic
def code_of_practice_new_version(*, actor: Any, code_of_practice: CodeOfPractice) -> CodeOfPractice:
    """A new draft version, copied from the given one with all its items."""
    _require(actor, "service.add_codeofpractice", "Writing codes of practice needs the CS manager role.")
    source = CodeOfPractice.objects.get(pk=code_of_practice.pk)
    if CodeOfPractice.objects.filter(code=source.code, status=CodeOfPractice.Status.DRAFT).exists():
        raise ValidationError("A draft version of this code of practice is already open.")
    number = (CodeOfPractice.objects.filter(code=source.code).aggregate(m=Max("version"))["m"] or 0) + 1
    cop = CodeOfPractice.objects.create(
        code=source.code, version=number, title=source.title, summary=source.summary
    )
    audit.record_change(AuditEvent.Action.CREATE, cop, actor=actor)
    for item in source.items.all():
        _item_create(actor, cop, ItemSpec(item.code, item.title, item.text, item.category), item.position)
    return cop


# --- Rubrics -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategorySpec:
    name: str
    weight: Any
    scale_min: int = 0
    scale_max: int = 4
    critical: bool = False
    pass_mark: Any = 100
    guidance: str = ""
    code_item_ids: Sequence[int] = field(default_factory=tuple)


@transaction.atomic
def rubric_create(
    *, actor: Any, name: str, categories: Sequence[CategorySpec], description: str = ""
) -> Rubric:
    """A QA rubric with its categories, checked as a whole: weights > 0, min < max, pass mark 0–100.

    Rubrics are frozen once created (reviews point at their categories); to change one, create
    a new rubric and retire the old.
    """
    _require(actor, "service.add_rubric", "Writing QA rubrics needs the CS manager role.")
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name or len(name) > 200:
        errors["name"] = "Give a name of 1–200 characters."
    elif Rubric.objects.filter(name=name).exists():
        errors["name"] = "A rubric with this name exists."
    if not categories:
        errors["categories"] = "A rubric needs at least one category."
    if len(categories) > MAX_CATEGORIES:
        errors["categories"] = f"At most {MAX_CATEGORIES} categories."
    cleaned: list[tuple[CategorySpec, Decimal, Decimal]] = []
    item_ids: set[int] = set()
    for i, spec in enumerate(categories):
        prefix = f"categories.{i}."
        if not spec.name.strip() or len(spec.name) > 120:
            errors[prefix + "name"] = "Give a name of 1–120 characters."
        weight = pass_mark = Decimal(0)
        try:
            weight = _decimal(spec.weight, prefix + "weight")
            if weight <= 0:
                errors[prefix + "weight"] = "A weight is greater than 0."
            elif weight > Decimal("9999.99") or weight != weight.quantize(CENT):
                errors[prefix + "weight"] = "A weight is at most 9999.99, with two decimals."
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
        try:
            pass_mark = _decimal(spec.pass_mark, prefix + "pass_mark")
            if not Decimal(0) <= pass_mark <= Decimal(100):
                errors[prefix + "pass_mark"] = "A pass mark is a score from 0 to 100."
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
        if not isinstance(spec.scale_min, int) or not isinstance(spec.scale_max, int):
            errors[prefix + "scale_max"] = "Scales are whole numbers."
        elif spec.scale_max <= spec.scale_min:
            errors[prefix + "scale_max"] = "The scale's maximum is above its minimum."
        elif abs(spec.scale_min) > 1000 or abs(spec.scale_max) > 1000:
            errors[prefix + "scale_max"] = "Scales run between −1000 and 1000."
        item_ids |= set(spec.code_item_ids)
        cleaned.append((spec, weight, pass_mark))
    if len({spec.name.strip() for spec in categories}) != len(categories):
        errors["categories"] = "Each category name appears once."
    known = set(CodeItem.objects.filter(pk__in=item_ids).values_list("pk", flat=True))
    if item_ids - known:
        errors["code_item_ids"] = f"Unknown code-of-practice items: {sorted(item_ids - known)}."
    if errors:
        raise ValidationError(errors)
    rubric = Rubric.objects.create(name=name, description=_text(description, "description"), created_by=actor)
    audit.record_change(AuditEvent.Action.CREATE, rubric, actor=actor)
    for position, (spec, weight, pass_mark) in enumerate(cleaned):
        category = RubricCategory.objects.create(
            rubric=rubric,
            name=spec.name.strip(),
            guidance=spec.guidance.strip()[:TEXT_MAX],
            position=position,
            scale_min=spec.scale_min,
            scale_max=spec.scale_max,
            weight=weight,
            critical=spec.critical,
            pass_mark=pass_mark,
        )
        if spec.code_item_ids:
            category.code_items.set(spec.code_item_ids)
        audit.record_change(AuditEvent.Action.CREATE, category, actor=actor)
    return rubric


@transaction.atomic
def rubric_set_active(*, actor: Any, rubric: Rubric, active: bool) -> Rubric:
    _require(actor, "service.change_rubric", "Changing QA rubrics needs the CS manager role.")
    before = audit.snapshot(rubric)
    rubric.active = active
    rubric.save(update_fields=["active", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, rubric, before=before, actor=actor)
    return rubric


# --- Scoring -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CategoryResult:
    category: RubricCategory
    selected: int
    score: Decimal
    failed: bool
    note: str = ""


@dataclass(frozen=True)
class ReviewResult:
    score: Decimal
    critical_failed: bool
    categories: tuple[CategoryResult, ...]


def category_score(category: RubricCategory, selected: int) -> Decimal:
    """(selected − min) ÷ (max − min) × 100, to two decimals."""
    span = Decimal(category.scale_max - category.scale_min)
    return (Decimal(selected - category.scale_min) * 100 / span).quantize(CENT, ROUND_HALF_UP)


@dataclass(frozen=True)
class Selection:
    selected: Any
    note: str = ""


def score_review(categories: Sequence[RubricCategory], selections: Mapping[int, Selection]) -> ReviewResult:
    """Score every category of a rubric; refuses missing, unknown or out-of-scale selections.

    Review score = Σ weight × score ÷ Σ weight; 0 when any critical category is below its pass mark.
    """
    errors: dict[str, str] = {}
    by_id = {c.pk: c for c in categories}
    unknown = sorted(set(selections) - set(by_id))
    if unknown:
        errors["scores"] = f"These categories are not in the rubric: {unknown}."
    results: list[CategoryResult] = []
    for category in categories:
        name = f"scores.{category.pk}"
        chosen = selections.get(category.pk)
        if chosen is None or chosen.selected in (None, ""):
            errors[name] = f"Score “{category.name}”."
            continue
        try:
            selected = int(str(chosen.selected))
        except ValueError:
            errors[name] = f"“{category.name}”: choose a whole number."
            continue
        if not category.scale_min <= selected <= category.scale_max:
            errors[name] = (
                f"“{category.name}”: choose from {category.scale_min} to {category.scale_max}, "
                f"not {selected}."
            )
            continue
        if len(chosen.note or "") > TEXT_MAX:
            errors[name] = f"“{category.name}”: keep the note under {TEXT_MAX} characters."
            continue
        score = category_score(category, selected)
        failed = category.critical and score < category.pass_mark
        results.append(CategoryResult(category, selected, score, failed, (chosen.note or "").strip()))
    if errors:
        raise ValidationError(errors)
    total_weight = sum((r.category.weight for r in results), Decimal(0))
    weighted = sum((r.category.weight * r.score for r in results), Decimal(0))
    critical_failed = any(r.failed for r in results)
    score = Decimal(0) if critical_failed else (weighted / total_weight).quantize(CENT, ROUND_HALF_UP)
    return ReviewResult(score.quantize(CENT), critical_failed, tuple(results))


# --- Reviews -------------------------------------------------------------------------------------


def _lock(review: QaReview) -> QaReview:
    return (
        QaReview.objects.select_for_update(of=("self",)).select_related("agent", "rubric").get(pk=review.pk)
    )


@transaction.atomic
def qa_assign(
    *, actor: Any, ticket: Ticket, reviewer: User, rubric: Rubric, due_on: date | None = None
) -> QaReview:
    """A customer-service manager assigns one conversation to a reviewer, with the rubric to use."""
    _require(actor, "service.add_qareview", "Assigning QA reviews needs the CS manager role.")
    errors: dict[str, str] = {}
    if ticket.agent_id is None:
        errors["ticket_id"] = "This ticket has no agent to review."
    elif not ticket.counts:
        errors["ticket_id"] = "Merged and spam tickets are not reviewed."
    if not reviewer.is_active or not reviewer.has_perm("service.change_qareview"):
        errors["reviewer_id"] = "The reviewer needs the QA reviewer (CS manager) role."
    elif ticket.agent_id is not None and ticket.agent is not None and ticket.agent.user_id == reviewer.pk:
        errors["reviewer_id"] = "Nobody reviews their own conversation."
    if not rubric.active:
        errors["rubric_id"] = "This rubric is retired."
    if errors or ticket.agent is None:
        raise ValidationError(errors)
    review = QaReview.objects.create(
        ticket=ticket,
        agent=ticket.agent,
        vendor_id=ticket.vendor_id,
        team_id=ticket.team_id,
        rubric=rubric,
        reviewer=reviewer,
        assigned_by=actor if actor is not None else reviewer,
        due_on=due_on,
    )
    audit.record_change(AuditEvent.Action.CREATE, review, actor=actor)
    return review


def _cited(item_ids: Iterable[int]) -> list[CodeItem]:
    ids = set(item_ids)
    items = list(
        CodeItem.objects.filter(pk__in=ids, code_of_practice__status=CodeOfPractice.Status.PUBLISHED)
    )
    missing = ids - {i.pk for i in items}
    if missing:
        raise ValidationError(
            {"cited_item_ids": f"Cite items of published codes of practice; not {sorted(missing)}."}
        )
    return items


def _write_scores(review: QaReview, result: ReviewResult) -> None:
    review.scores.all().delete()
    QaCategoryScore.objects.bulk_create(
        QaCategoryScore(
            review=review,
            category=r.category,
            selected=r.selected,
            score=r.score,
            failed=r.failed,
            note=r.note,
        )
        for r in result.categories
    )


@transaction.atomic
def qa_review_submit(
    *,
    actor: User,
    review: QaReview,
    selections: Mapping[int, Selection],
    summary: str = "",
    cited_item_ids: Iterable[int] = (),
) -> QaReview:
    """The assigned reviewer scores every category; the score is stored and the agent is asked to respond."""
    review = _lock(review)
    if review.reviewer_id != actor.pk:
        raise PermissionDenied("Only the assigned reviewer scores this review.")
    if review.status != QaReview.Status.ASSIGNED:
        raise ValidationError("This review has already been submitted.")
    summary = _text(summary, "summary")
    result = score_review(list(review.rubric.categories.all()), selections)
    cited = _cited(cited_item_ids)
    before = audit.snapshot(review)
    review.score = result.score
    review.critical_failed = result.critical_failed
    review.summary = summary
    review.status = QaReview.Status.SUBMITTED
    review.submitted_at = timezone.now()
    review.save()
    review.cited_items.set(cited)
    _write_scores(review, result)
    audit.record_change(AuditEvent.Action.UPDATE, review, before=before, actor=actor)
    return review


def _own(actor: User, review: QaReview) -> None:
    if review.agent.user_id is None or review.agent.user_id != actor.pk:
        raise PermissionDenied("Only the reviewed agent answers a QA review.")
    if review.status != QaReview.Status.SUBMITTED:
        raise ValidationError("This review is not waiting for your answer.")


@transaction.atomic
def qa_review_acknowledge(*, actor: User, review: QaReview) -> QaReview:
    """The agent has read the review and accepts it."""
    review = _lock(review)
    _own(actor, review)
    before = audit.snapshot(review)
    review.status = QaReview.Status.ACKNOWLEDGED
    review.acknowledged_at = timezone.now()
    review.save()
    audit.record_change(AuditEvent.Action.UPDATE, review, before=before, actor=actor)
    return review


@transaction.atomic
def qa_review_dispute(*, actor: User, review: QaReview, reason: str) -> QaReview:
    """The agent disputes the review, saying why; a manager other than the reviewer resolves it."""
    review = _lock(review)
    _own(actor, review)
    reason = _text(reason, "reason", required=True)
    before = audit.snapshot(review)
    review.status = QaReview.Status.DISPUTED
    review.dispute_reason = reason
    review.disputed_at = timezone.now()
    review.save()
    audit.record_change(AuditEvent.Action.UPDATE, review, before=before, actor=actor)
    return review


@transaction.atomic
def qa_dispute_resolve(
    *,
    actor: User,
    review: QaReview,
    outcome: str,
    note: str,
    selections: Mapping[int, Selection] | None = None,
) -> QaReview:
    """Uphold the disputed score, or amend it with new selections (the original score is kept)."""
    _require(actor, "service.resolve_qareview", "Resolving QA disputes needs the CS manager role.")
    review = _lock(review)
    if review.status != QaReview.Status.DISPUTED:
        raise ValidationError("Only a disputed review is resolved.")
    if review.reviewer_id == actor.pk:
        raise PermissionDenied("The reviewer does not resolve a dispute of their own review.")
    if review.agent.user_id == actor.pk:
        raise PermissionDenied("Nobody resolves a dispute about themselves.")
    if outcome not in QaReview.Outcome.values:
        raise ValidationError({"outcome": "Choose upheld or amended."})
    note = _text(note, "note", required=True)
    result: ReviewResult | None = None
    if outcome == QaReview.Outcome.AMENDED:
        if not selections:
            raise ValidationError({"scores": "Give the amended score of every category."})
        result = score_review(list(review.rubric.categories.all()), selections)
    before = audit.snapshot(review)
    review.original_score = review.score
    if result is not None:
        review.score = result.score
        review.critical_failed = result.critical_failed
        _write_scores(review, result)
    review.outcome = outcome
    review.resolution_note = note
    review.resolved_by = actor
    review.resolved_at = timezone.now()
    review.status = QaReview.Status.RESOLVED
    review.save()
    audit.record_change(AuditEvent.Action.UPDATE, review, before=before, actor=actor)
    return review
