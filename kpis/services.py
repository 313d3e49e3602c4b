"""Writes of the measurement engine. Pages, the API, the admin, Celery tasks and the demo seed all call these.

Every function is keyword-only, runs in one transaction and writes its audit record in that
same transaction. Rules (four eyes, weights total 100, bands without gaps, closed periods
need ``kpis.recompute_period``) are enforced here, so no entry point can skip them; a broken
rule raises ``ValidationError`` or ``PermissionDenied`` before anything is written.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import ROLES
from core import audit, uploads
from core.models import AuditEvent
from kpis import credits, engine, formula, registry, scoring
from kpis import periods as period_math
from kpis.models import (
    Adjustment,
    CreditTerms,
    ImprovementPlan,
    KpiDefinition,
    KpiResult,
    KpiReview,
    KpiVersion,
    Measure,
    MeasureSubmission,
    MeasureValue,
    Scorecard,
    ScorecardLine,
    ScorecardPeriod,
    StaffRecommendation,
    Standing,
    StandingScheme,
    Subject,
)
from vendors.models import Vendor

logger = logging.getLogger("steward.kpis")

MAX_LINES = 20
IMPROVEMENT_PLAN_DAYS = 14


def _require(actor: Any, perm: str, message: str) -> None:
    """Permission check for people; ``actor=None`` is the system (Celery beat, the demo seed)."""
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


def _decimal(value: Any, field_name: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ValidationError({field_name: f"“{value}” is not a number."}) from None
    if not result.is_finite():
        raise ValidationError({field_name: "Give a finite number."})
    return result


def _event(action: str, instance: Any, detail: dict[str, Any], actor: Any) -> None:
    audit.record_event(
        action,
        object_type=audit.object_type_of(instance),
        object_id=str(instance.pk),
        object_repr=str(instance)[:200],
        detail=detail,
        actor=actor,
    )


# --- Measures ---------------------------------------------------------------------------------


@transaction.atomic
def measures_sync() -> int:
    """Copy registered (computed and survey) measures into Measure rows; returns how many changed."""
    entries = registry.registered()
    existing = {m.code: m for m in Measure.objects.filter(code__in=list(entries))}
    changed = 0
    for code, entry in entries.items():
        wanted = {
            "label": entry.label[:200],
            "unit": entry.unit[:40],
            "description": entry.description,
            "source": entry.source,
        }
        measure = existing.get(code)
        if measure is None:
            Measure.objects.create(code=code, **wanted)
            changed += 1
        elif any(getattr(measure, k) != v for k, v in wanted.items()):
            for key, value in wanted.items():
                setattr(measure, key, value)
            measure.save()
            changed += 1
    return changed


@transaction.atomic
def measure_create(*, actor: Any, code: str, label: str, unit: str, description: str = "") -> Measure:
    """Define a measure that people or vendor portal users submit (with evidence, then approval).

    Computed and survey measures are not created here: their packages register them in code.
    """
    _require(actor, "kpis.add_measure", "Defining measures needs the KPI manager role.")
    if code in formula.ALLOWED_FUNCTIONS:
        raise ValidationError({"code": f"“{code}” is the name of a formula function."})
    if Measure.objects.filter(code=code).exists():
        raise ValidationError({"code": "A measure with this code exists."})
    measure = Measure(
        code=code, label=label, unit=unit, description=description, source=Measure.Source.SUBMITTED
    )
    measure.full_clean()
    measure.save()
    audit.record_change(AuditEvent.Action.CREATE, measure, actor=actor)
    return measure


# --- Subjects ---------------------------------------------------------------------------------


@transaction.atomic
def subject_create(
    *,
    actor: Any,
    kind: str,
    label: str,
    vendor: Vendor | None = None,
    user: User | None = None,
    reference: Any = None,
) -> Subject:
    """Register who or what a scorecard judges: a vendor, a contract, a team or an agent."""
    _require(actor, "kpis.add_subject", "Adding subjects needs the KPI manager role.")
    if kind == Subject.Kind.AGENT and user is not None and user.is_portal_user:
        raise ValidationError({"user": "An agent subject is a staff member, not a vendor portal user."})
    subject = Subject(kind=kind, label=label, vendor=vendor, user=user)
    if reference is not None:
        subject.content_type = ContentType.objects.get_for_model(reference)
        subject.object_id = reference.pk
    subject.full_clean()
    subject.save()
    audit.record_change(AuditEvent.Action.CREATE, subject, actor=actor)
    return subject


# --- KPI definitions and versions -----------------------------------------------------------

VERSION_FIELDS = (
    "name",
    "description",
    "formula",
    "unit",
    "direction",
    "statistic",
    "target",
    "bands",
    "weight",
    "min_sample_size",
)


def known_measure_codes() -> list[str]:
    measures_sync()
    return list(Measure.objects.values_list("code", flat=True))


def check_version_fields(data: Mapping[str, Any]) -> dict[str, Any]:
    """Validate a KPI version's content; returns it normalised, or raises ValidationError per field."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {}
    for name in ("name", "description", "unit"):
        text = str(data.get(name) or "").strip()
        if not text:
            errors[name] = "This field is required."
        clean[name] = text
    direction = data.get("direction")
    if direction not in KpiVersion.Direction.values:
        errors["direction"] = f"Choose one of {', '.join(KpiVersion.Direction.values)}."
    clean["direction"] = direction
    statistic = data.get("statistic") or KpiVersion.Statistic.NONE
    if statistic not in KpiVersion.Statistic.values:
        errors["statistic"] = f"Choose one of {', '.join(KpiVersion.Statistic.values)}."
    clean["statistic"] = statistic
    try:
        target = _decimal(data.get("target"), "target")
        clean["target"] = target
    except ValidationError:
        errors["target"] = "Give the target as a number."
        target = None
    try:
        weight = _decimal(data.get("weight", 10), "weight")
        if not 0 <= weight <= 100:
            errors["weight"] = "A weight is between 0 and 100."
        clean["weight"] = weight
    except ValidationError:
        errors["weight"] = "Give the weight as a number."
    try:
        min_sample = int(data.get("min_sample_size") or 0)
        if min_sample < 0:
            raise ValueError
        clean["min_sample_size"] = min_sample
    except (TypeError, ValueError):
        errors["min_sample_size"] = "A minimum sample size is a whole number, 0 or more."
    try:
        parsed = formula.validate(str(data.get("formula") or ""), known_measure_codes())
        clean["formula"] = parsed.text
    except formula.FormulaError as exc:
        errors["formula"] = str(exc)
    try:
        bands = scoring.bands_from_json(data.get("bands") or [])
        ordered = scoring.validate_bands(bands, direction=str(direction), target=target)
        clean["bands"] = [b.as_json() for b in ordered]
    except scoring.BandError as exc:
        errors["bands"] = str(exc)
    except (TypeError, AttributeError):
        errors["bands"] = "Bands are a list of {label, lower, upper, score, is_target}."
    if errors:
        raise ValidationError(errors)
    return clean


def _version_snapshot(version: KpiVersion) -> dict[str, Any]:
    return {name: getattr(version, name) for name in VERSION_FIELDS}


@transaction.atomic
def kpi_define(
    *,
    actor: User,
    code: str,
    reason: str = "First definition.",
    effective_from: date | None = None,
    review_every_months: int = 3,
    **fields: Any,
) -> KpiVersion:
    """Define a new KPI: its identity and version 1, awaiting another person's approval."""
    _require(actor, "kpis.add_kpidefinition", "Defining KPIs needs the KPI manager role.")
    unknown = set(fields) - set(VERSION_FIELDS)
    if unknown:
        raise ValidationError({name: "Unknown field." for name in sorted(unknown)})
    if KpiDefinition.objects.filter(code=code).exists():
        raise ValidationError({"code": "A KPI with this code exists."})
    clean = check_version_fields(fields)
    if not reason.strip():
        raise ValidationError({"reason": "Say why this KPI is being defined."})
    definition = KpiDefinition(
        code=code, name=clean["name"], created_by=actor, review_every_months=review_every_months
    )
    definition.full_clean()
    definition.save()
    version = KpiVersion.objects.create(
        definition=definition,
        number=1,
        effective_from=effective_from or timezone.localdate(),
        reason=reason.strip(),
        author=actor,
        **clean,
    )
    audit.record_change(AuditEvent.Action.CREATE, definition, actor=actor)
    audit.record_change(AuditEvent.Action.CREATE, version, actor=actor)
    return version


def latest_version(definition: KpiDefinition) -> KpiVersion:
    return definition.versions.order_by("-number").first()  # type: ignore[return-value]


@transaction.atomic
def kpi_version_propose(
    *,
    actor: User,
    definition: KpiDefinition,
    reason: str,
    effective_from: date | None = None,
    **changes: Any,
) -> KpiVersion:
    """A change to a KPI: a new version (copied from the latest, with CHANGES), awaiting approval.

    History is never rewritten: earlier versions and the results computed under them stay.
    """
    _require(actor, "kpis.change_kpidefinition", "Changing KPIs needs the KPI manager role.")
    definition = KpiDefinition.objects.select_for_update().get(pk=definition.pk)
    if definition.retired_at is not None:
        raise ValidationError("This KPI is retired; define a new one instead.")
    unknown = set(changes) - set(VERSION_FIELDS)
    if unknown:
        raise ValidationError({name: "This field cannot be changed." for name in sorted(unknown)})
    if not reason or not reason.strip():
        raise ValidationError({"reason": "Say why the KPI changes; the reason stays with the version."})
    if definition.versions.filter(status=KpiVersion.Status.DRAFT).exists():
        raise ValidationError(
            "A version of this KPI is already awaiting approval; approve or reject it first."
        )
    base = latest_version(definition)
    data = {**_version_snapshot(base), **changes}
    clean = check_version_fields(data)
    if clean == {k: v for k, v in _version_snapshot(base).items()}:
        raise ValidationError("Nothing changed compared with the latest version.")
    version = KpiVersion.objects.create(
        definition=definition,
        number=base.number + 1,
        effective_from=effective_from
        or period_math.period_containing(period_math.MONTH, timezone.localdate()).start,
        reason=reason.strip(),
        author=actor,
        **clean,
    )
    audit.record_change(AuditEvent.Action.CREATE, version, actor=actor)
    return version


@transaction.atomic
def kpi_version_approve(*, actor: User, version: KpiVersion, note: str = "") -> KpiVersion:
    """Approve a KPI version. Four eyes without exception: the author never approves their own."""
    _require(actor, "kpis.approve_kpiversion", "Approving KPI versions needs the KPI manager role.")
    version = KpiVersion.objects.select_for_update().get(pk=version.pk)
    if version.author_id == actor.pk:
        raise PermissionDenied("You wrote this version; another person must approve it.")
    if version.status != KpiVersion.Status.DRAFT:
        raise ValidationError(f"This version is already {version.get_status_display().lower()}.")
    before = audit.snapshot(version)
    version.status = KpiVersion.Status.APPROVED
    version.approved_by = actor
    version.approved_at = timezone.now()
    version.decision_note = note.strip()
    version.save(update_fields=["status", "approved_by", "approved_at", "decision_note", "updated_at"])
    definition = version.definition
    definition_before = audit.snapshot(definition)
    definition.name = version.name
    if definition.next_review_on is None:
        definition.next_review_on = _add_months(timezone.localdate(), definition.review_every_months)
    definition.save(update_fields=["name", "next_review_on", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, version, before=before, actor=actor)
    audit.record_change(AuditEvent.Action.UPDATE, definition, before=definition_before, actor=actor)
    return version


@transaction.atomic
def kpi_version_reject(*, actor: User, version: KpiVersion, note: str) -> KpiVersion:
    _require(actor, "kpis.approve_kpiversion", "Rejecting KPI versions needs the KPI manager role.")
    version = KpiVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != KpiVersion.Status.DRAFT:
        raise ValidationError(f"This version is already {version.get_status_display().lower()}.")
    if not note.strip():
        raise ValidationError({"note": "Say why the version is rejected."})
    before = audit.snapshot(version)
    version.status = KpiVersion.Status.REJECTED
    version.approved_by = actor if actor.pk != version.author_id else None
    version.approved_at = timezone.now()
    version.decision_note = note.strip()
    version.save(update_fields=["status", "approved_by", "approved_at", "decision_note", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, version, before=before, actor=actor)
    return version


def _add_months(day: date, months: int) -> date:
    first = period_math.shift(
        period_math.MONTH, period_math.period_containing(period_math.MONTH, day), months
    ).start
    return first


@transaction.atomic
def kpi_retire(*, actor: User, definition: KpiDefinition, rationale: str) -> KpiDefinition:
    _require(actor, "kpis.change_kpidefinition", "Retiring KPIs needs the KPI manager role.")
    if not rationale.strip():
        raise ValidationError({"rationale": "Say why the KPI is retired."})
    before = audit.snapshot(definition)
    definition.retired_at = timezone.now()
    definition.save(update_fields=["retired_at", "updated_at"])
    audit.record_change(
        AuditEvent.Action.UPDATE, definition, before=before, actor=actor, purpose=rationale[:200]
    )
    return definition


# --- Standings --------------------------------------------------------------------------------


@transaction.atomic
def standing_scheme_create(
    *, actor: Any, name: str, standings: Sequence[Mapping[str, Any]], description: str = ""
) -> StandingScheme:
    """A set of standings over 0–100 with no gap or overlap, each with its actions."""
    _require(actor, "kpis.add_standingscheme", "Defining standings needs the KPI manager role.")
    try:
        bands = [
            scoring.StandingBand(
                str(s.get("name") or ""),
                _decimal(s.get("lower"), "lower"),
                _decimal(s.get("upper"), "upper"),
                key=i,
            )
            for i, s in enumerate(standings)
        ]
        scoring.validate_standings(bands)
    except scoring.BandError as exc:
        raise ValidationError({"standings": str(exc)}) from None
    for s in standings:
        unknown_roles = sorted(set(s.get("notify_roles") or []) - set(ROLES))
        if unknown_roles:
            raise ValidationError({"standings": f"Unknown role(s) to notify: {', '.join(unknown_roles)}."})
    if StandingScheme.objects.filter(name=name).exists():
        raise ValidationError({"name": "A standing scheme with this name exists."})
    scheme = StandingScheme(name=name, description=description)
    scheme.full_clean()
    scheme.save()
    rows = []
    for s in standings:
        row = Standing(
            scheme=scheme,
            name=str(s.get("name") or "")[:60],
            colour=str(s.get("colour") or "#5b6875"),
            lower=_decimal(s.get("lower"), "lower"),
            upper=_decimal(s.get("upper"), "upper"),
            notify_roles=list(s.get("notify_roles") or []),
            flag_vendor_for_review=bool(s.get("flag_vendor_for_review")),
            require_improvement_plan=bool(s.get("require_improvement_plan")),
            staff_recommendation=s.get("staff_recommendation") or Standing.Recommendation.NO_ACTION,
        )
        try:
            row.full_clean(exclude=["scheme"])
        except ValidationError as exc:
            raise ValidationError({"standings": f"“{row.name}”: {'; '.join(exc.messages)}"}) from None
        rows.append(row)
    Standing.objects.bulk_create(rows)
    audit.record_change(AuditEvent.Action.CREATE, scheme, actor=actor)
    return scheme


# --- Scorecards -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LineSpec:
    """One KPI on a scorecard, as given by a page, the API or the seed."""

    kpi: KpiDefinition
    weight: Decimal
    critical: bool = False
    allocation_pct: Decimal = Decimal(0)
    tiers: tuple[Mapping[str, Any], ...] = ()
    earn_back_target: Decimal | None = None
    bonus_target: Decimal | None = None
    bonus_pct: Decimal = Decimal(0)


def _check_lines(lines: Sequence[LineSpec]) -> None:
    if not lines:
        raise ValidationError({"lines": "A scorecard has at least one KPI."})
    if len(lines) > MAX_LINES:
        raise ValidationError({"lines": f"A scorecard has at most {MAX_LINES} KPIs."})
    kpi_ids = [line.kpi.pk for line in lines]
    if len(set(kpi_ids)) != len(kpi_ids):
        raise ValidationError({"lines": "Each KPI appears on a scorecard once."})
    for line in lines:
        if line.kpi.retired_at is not None:
            raise ValidationError({"lines": f"“{line.kpi}” is retired."})
        if not Decimal(0) < Decimal(line.weight) <= Decimal(100):
            raise ValidationError({"lines": f"“{line.kpi}”: a weight is more than 0 and at most 100."})
        if not Decimal(0) <= Decimal(line.allocation_pct) <= Decimal(100):
            raise ValidationError({"lines": f"“{line.kpi}”: an allocation is between 0 and 100%."})
        _tiers(line.tiers, str(line.kpi))
    total = sum((Decimal(line.weight) for line in lines), Decimal(0))
    if total != Decimal(100):
        raise ValidationError(
            {"lines": f"The weights total {total.normalize():f}; they must total exactly 100."}
        )


def _tiers(raw: Sequence[Mapping[str, Any]], label: str) -> tuple[credits.Tier, ...]:
    if len(raw) > 5:
        raise ValidationError({"lines": f"“{label}”: at most 5 credit tiers."})
    tiers = []
    for item in raw:
        try:
            tier = credits.Tier(Decimal(str(item["threshold"])), Decimal(str(item["pct_of_fee"])))
        except (KeyError, TypeError, InvalidOperation):
            raise ValidationError(
                {"lines": f"“{label}”: a tier is {{threshold, pct_of_fee}} with numbers."}
            ) from None
        if not 0 <= tier.pct_of_fee <= 100:
            raise ValidationError({"lines": f"“{label}”: a tier's % of the fee is between 0 and 100."})
        tiers.append(tier)
    return tuple(tiers)


def _write_lines(scorecard: Scorecard, lines: Sequence[LineSpec]) -> None:
    existing = {line.kpi_id: line for line in scorecard.lines.all()}
    keep: set[int] = set()
    for position, spec in enumerate(lines):
        line = existing.get(spec.kpi.pk) or ScorecardLine(scorecard=scorecard, kpi=spec.kpi)
        line.position = position
        line.weight = Decimal(spec.weight)
        line.critical = spec.critical
        line.allocation_pct = Decimal(spec.allocation_pct)
        line.tiers = [
            {"threshold": str(t["threshold"]), "pct_of_fee": str(t["pct_of_fee"])} for t in spec.tiers
        ]
        line.earn_back_target = spec.earn_back_target
        line.bonus_target = spec.bonus_target
        line.bonus_pct = Decimal(spec.bonus_pct)
        line.full_clean(exclude=["scorecard", "kpi"])
        line.save()
        keep.add(line.pk)
    scorecard.lines.exclude(pk__in=keep).delete()


def _check_credit_lines(scorecard: Scorecard) -> None:
    critical = [line for line in scorecard.lines.all() if line.critical]
    if not critical:
        raise ValidationError({"lines": "Credit terms need at least one critical service level."})
    pooled = [line for line in critical if not line.tiers]
    if pooled:
        total = sum((line.allocation_pct for line in pooled), Decimal(0))
        if total != Decimal(100):
            raise ValidationError(
                {
                    "lines": f"Critical service levels' pool allocations total {total.normalize():f}%; "
                    "they must total 100%."
                }
            )


@transaction.atomic
def scorecard_create(
    *,
    actor: Any,
    name: str,
    subject: Subject,
    lines: Sequence[LineSpec],
    granularity: str = Scorecard.Granularity.MONTH,
    standing_scheme: StandingScheme | None = None,
) -> Scorecard:
    """Build a scorecard: weighted KPIs (weights total exactly 100) for one subject."""
    _require(actor, "kpis.add_scorecard", "Building scorecards needs the KPI manager role.")
    _check_lines(lines)
    scorecard = Scorecard(
        name=name, subject=subject, granularity=granularity, standing_scheme=standing_scheme, created_by=actor
    )
    scorecard.full_clean()
    scorecard.save()
    _write_lines(scorecard, lines)
    audit.record_change(
        AuditEvent.Action.CREATE,
        scorecard,
        actor=actor,
        purpose=f"{len(lines)} KPIs: " + ", ".join(f"{s.kpi.code}×{s.weight}" for s in lines)[:180],
    )
    return scorecard


@transaction.atomic
def scorecard_set_lines(*, actor: Any, scorecard: Scorecard, lines: Sequence[LineSpec]) -> Scorecard:
    """Replace a scorecard's KPIs and weights. Past results keep the KPI, version and weight they used."""
    _require(actor, "kpis.change_scorecard", "Changing scorecards needs the KPI manager role.")
    _check_lines(lines)
    before = {"lines": [[line.kpi_id, str(line.weight)] for line in scorecard.lines.all()]}
    _write_lines(scorecard, lines)
    if hasattr(scorecard, "credit_terms"):
        _check_credit_lines(scorecard)
    audit._append(
        action=AuditEvent.Action.UPDATE,
        object_type=audit.object_type_of(scorecard),
        object_id=str(scorecard.pk),
        object_repr=str(scorecard),
        changes={"before": before, "after": {"lines": [[s.kpi.pk, str(s.weight)] for s in lines]}},
        actor=actor,
    )
    return scorecard


@transaction.atomic
def credit_terms_set(
    *,
    actor: Any,
    scorecard: Scorecard,
    monthly_fee: Decimal,
    at_risk_pct: Decimal,
    pool_pct: Decimal = Decimal(100),
    escalation_window: int = 0,
    escalation_multipliers: Sequence[Decimal | str] = (),
    earn_back_periods: int = 0,
    bonus_cap_pct: Decimal = Decimal(0),
    chronic_misses: int = 0,
    chronic_window: int = 12,
) -> CreditTerms:
    """Set a contract scorecard's service-credit terms (HKD, monthly)."""
    _require(actor, "kpis.change_scorecard", "Setting credit terms needs the vendor manager role.")
    if scorecard.granularity != Scorecard.Granularity.MONTH:
        raise ValidationError(
            {"granularity": "Service credits are settled monthly: use a monthly scorecard."}
        )
    try:
        multipliers = [Decimal(str(m)) for m in escalation_multipliers]
    except InvalidOperation:
        raise ValidationError({"escalation_multipliers": "Multipliers are numbers."}) from None
    if any(m < 1 or m > 10 for m in multipliers):
        raise ValidationError({"escalation_multipliers": "Each multiplier is between 1 and 10."})
    if escalation_window and not multipliers:
        raise ValidationError({"escalation_multipliers": "Give the multipliers for repeat misses."})
    if chronic_misses and chronic_misses > chronic_window:
        raise ValidationError({"chronic_misses": "Cannot need more misses than periods in the window."})
    _check_credit_lines(scorecard)
    terms = CreditTerms.objects.filter(scorecard=scorecard).first()
    before = audit.snapshot(terms) if terms else None
    terms = terms or CreditTerms(scorecard=scorecard)
    terms.monthly_fee = credits.money(Decimal(monthly_fee))
    terms.at_risk_pct = Decimal(at_risk_pct)
    terms.pool_pct = Decimal(pool_pct)
    terms.escalation_window = escalation_window
    terms.escalation_multipliers = [str(m) for m in multipliers]
    terms.earn_back_periods = earn_back_periods
    terms.bonus_cap_pct = Decimal(bonus_cap_pct)
    terms.chronic_misses = chronic_misses
    terms.chronic_window = chronic_window
    terms.full_clean()
    terms.save()
    audit.record_change(
        AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE, terms, before=before, actor=actor
    )
    return terms


# --- Computing and closing periods -------------------------------------------------------------


def _terms(terms: CreditTerms) -> credits.Terms:
    return credits.Terms(
        monthly_fee=terms.monthly_fee,
        at_risk_pct=terms.at_risk_pct,
        pool_pct=terms.pool_pct,
        escalation_window=terms.escalation_window,
        escalation_multipliers=tuple(Decimal(str(m)) for m in terms.escalation_multipliers),
        earn_back_periods=terms.earn_back_periods,
        bonus_cap_pct=terms.bonus_cap_pct,
        chronic_misses=terms.chronic_misses,
        chronic_window=terms.chronic_window,
    )


def _service_level(line: ScorecardLine, direction: str) -> credits.ServiceLevel:
    return credits.ServiceLevel(
        key=line.kpi_id,
        label=str(line.kpi),
        direction=direction,
        allocation_pct=line.allocation_pct,
        tiers=_tiers(line.tiers, str(line.kpi)),
        earn_back_target=line.earn_back_target,
        bonus_target=line.bonus_target,
        bonus_pct=line.bonus_pct,
    )


@dataclass
class ComputeReport:
    """What one run computed: the periods, and counts for the log and the audit trail."""

    periods: list[ScorecardPeriod]
    results: int = 0
    adjustments: int = 0
    recommendations: int = 0
    improvement_plans: int = 0
    vendors_flagged: list[int] = field(default_factory=list)


@transaction.atomic
def periods_compute(
    *,
    actor: Any,
    scorecards: Sequence[Scorecard],
    start: date,
    close: bool = False,
    versions: Mapping[int, KpiVersion] | None = None,
    today: date | None = None,
) -> ComputeReport:
    """Compute (and optionally close) one period for many scorecards at once, set-based.

    Measures are collected once for all subjects (one query per measure), KPIs evaluated in
    memory, results written in bulk. ``versions`` recomputes under chosen approved versions
    ({kpi id: version}); otherwise each KPI uses the version in force for the period.
    Recomputing a closed period needs ``kpis.recompute_period``.
    """
    today = today or timezone.localdate()
    now = timezone.now()
    if not scorecards:
        return ComputeReport([])
    granularities = {sc.granularity for sc in scorecards}
    if len(granularities) != 1:
        raise ValidationError("Compute one granularity (week, month, quarter or year) at a time.")
    granularity = granularities.pop()
    period = period_math.period_containing(granularity, start)
    if period.start != start:
        raise ValidationError({"start": f"{start} is not the first day of a {granularity}."})
    if close and period.end > today:
        raise ValidationError(
            {"start": f"The {granularity} from {start} has not ended yet; it cannot be closed."}
        )
    if actor is not None:
        _require(actor, "kpis.change_scorecardperiod", "Computing scorecards needs the KPI manager role.")

    ids = [sc.pk for sc in scorecards]
    cards = list(
        Scorecard.objects.filter(pk__in=ids)
        .select_related("subject", "standing_scheme", "credit_terms")
        .prefetch_related("lines__kpi", "standing_scheme__standings")
    )
    existing = {
        p.scorecard_id: p
        for p in ScorecardPeriod.objects.filter(scorecard_id__in=ids, start=period.start).select_related(
            "actions_applied_for"
        )
    }
    if any(p.status == ScorecardPeriod.Status.CLOSED for p in existing.values()):
        _require(
            actor,
            "kpis.recompute_period",
            "This period is closed; recomputing it needs kpis.recompute_period.",
        )

    kpi_ids = {line.kpi_id for sc in cards for line in sc.lines.all()}
    chosen = engine.versions_in_force(kpi_ids, period.start)
    for kpi_id, version in (versions or {}).items():
        if version.definition_id != kpi_id:
            raise ValidationError({"versions": f"Version {version} does not belong to KPI {kpi_id}."})
        if version.status != KpiVersion.Status.APPROVED:
            raise ValidationError(
                {"versions": f"{version} is not approved; compare it instead of recomputing."}
            )
        chosen[kpi_id] = version
    measures = engine.measures_for(chosen.values())
    subjects = [engine.subject_ref(sc.subject) for sc in cards]
    unique_subjects = list({s.id: s for s in subjects}.values())
    readings = engine.collect_readings(measures, unique_subjects, period.start, period.end)
    _store_measure_values(measures, unique_subjects, readings, period, now)

    # Periods: create the missing ones so that results can point at them.
    missing = [
        ScorecardPeriod(scorecard=sc, start=period.start, end=period.end)
        for sc in cards
        if sc.pk not in existing
    ]
    for created in ScorecardPeriod.objects.bulk_create(missing):
        existing[created.scorecard_id] = created
    period_rows = [existing[sc.pk] for sc in cards]
    for row, sc in zip(period_rows, cards, strict=True):
        row.scorecard = sc  # already loaded: keeps labels and scopes free of extra queries

    evaluations: dict[int, list[engine.Evaluation]] = {}
    for sc in cards:
        items = []
        for line in sc.lines.all():
            in_force = chosen.get(line.kpi_id)
            if in_force is None:
                continue  # no approved version yet: the KPI cannot judge anyone
            items.append(
                engine.evaluate(
                    in_force,
                    sc.subject_id,
                    readings,
                    weight=line.weight,
                    critical=line.critical,
                    line_id=line.pk,
                )
            )
        evaluations[sc.pk] = items
    scores = {sc.pk: engine.score(evaluations[sc.pk]) for sc in cards}

    period_ids = [p.pk for p in period_rows]
    used_versions = {e.version.pk for items in evaluations.values() for e in items}
    KpiResult.objects.filter(period_id__in=period_ids, is_official=True).update(is_official=False)
    KpiResult.objects.filter(period_id__in=period_ids, version_id__in=used_versions).delete()
    results = [
        KpiResult(
            period=existing[sc.pk],
            kpi_id=e.kpi_id,
            version=e.version,
            line_id=e.line_id,
            value=e.value,
            target=e.version.target,
            sample_size=e.sample_size,
            applicable=e.applicable,
            reason=e.reason,
            attainment=e.attainment,
            band_label=e.band_label,
            met_target=e.met_target,
            weight=e.weight,
            effective_weight=e.effective_weight,
            critical=e.critical,
            inputs=e.inputs,
            is_official=True,
            computed_at=now,
        )
        for sc in cards
        for e in evaluations[sc.pk]
    ]
    KpiResult.objects.bulk_create(results)
    report = ComputeReport(period_rows, results=len(results))

    standings: dict[int, Standing | None] = {}
    for sc in cards:
        score = scores[sc.pk]
        standing = None
        if score is not None and sc.standing_scheme is not None:
            bands = [
                scoring.StandingBand(s.name, s.lower, s.upper, key=s)
                for s in sc.standing_scheme.standings.all()
            ]
            found = scoring.standing_for(bands, score)
            standing = found.key if found else None
        standings[sc.pk] = standing

    for row, sc in zip(period_rows, cards, strict=True):
        row.score = scores[sc.pk]
        row.standing = standings[sc.pk]
        row.computed_at = now
        if close and row.status != ScorecardPeriod.Status.CLOSED:
            row.status = ScorecardPeriod.Status.CLOSED
            row.closed_at = now
            row.closed_by = actor
        row.notes = []
        row.chronic_failure = False

    _settle_credits(cards, period_rows, evaluations, granularity, period, report)
    _recommend_for_staff(cards, period_rows, standings, granularity, period, report)
    _apply_standing_actions(actor, cards, period_rows, standings, today, report)

    # One upsert on (scorecard, start) rather than bulk_update: its CASE WHEN per field and row
    # costs more than the whole insert at a thousand scorecards.
    ScorecardPeriod.objects.bulk_create(
        period_rows,
        update_conflicts=True,
        unique_fields=["scorecard", "start"],
        update_fields=[
            "score",
            "standing",
            "computed_at",
            "status",
            "closed_at",
            "closed_by",
            "notes",
            "chronic_failure",
            "actions_applied_for",
            "updated_at",
        ],
    )
    single = period_rows[0] if len(period_rows) == 1 else None
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type="kpis.scorecardperiod",
        object_id=str(single.pk) if single else "",
        object_repr=str(single)[:200]
        if single
        else f"{len(period_rows)} scorecards, {period.label(granularity)}",
        detail={
            "operation": "close" if close else ("recompute" if versions else "compute"),
            "period": period.label(granularity),
            "versions": {str(k): v.number for k, v in sorted(chosen.items())},
            "scores": {str(p.pk): None if p.score is None else str(p.score) for p in period_rows[:1000]},
            "results": report.results,
            "adjustments": report.adjustments,
            "recommendations": report.recommendations,
            "improvement_plans": report.improvement_plans,
            "vendors_flagged": report.vendors_flagged,
        },
        actor=actor,
    )
    return report


def _store_measure_values(
    measures: Sequence[Measure],
    subjects: Sequence[registry.SubjectRef],
    readings: engine.Readings,
    period: period_math.Period,
    now: Any,
) -> None:
    """One row per (measure, subject) for the period, NULL where there is no data (upsert)."""
    rows = []
    for measure in measures:
        for subject in subjects:
            item = readings.get((measure.code, subject.id))
            rows.append(
                MeasureValue(
                    measure=measure,
                    subject_id=subject.id,
                    start=period.start,
                    end=period.end,
                    value=None if item is None else item.value,
                    sample_size=None if item is None else item.sample_size,
                    source=measure.source,
                    submission_id=None if item is None else item.submission_id,
                    ref={} if item is None else dict(item.ref),
                    collected_at=now,
                )
            )
    if rows:
        MeasureValue.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["measure", "subject", "start", "end"],
            update_fields=[
                "value",
                "sample_size",
                "source",
                "submission",
                "ref",
                "collected_at",
                "updated_at",
            ],
        )


def _settle_credits(
    cards: Sequence[Scorecard],
    period_rows: Sequence[ScorecardPeriod],
    evaluations: Mapping[int, Sequence[engine.Evaluation]],
    granularity: str,
    period: period_math.Period,
    report: ComputeReport,
) -> None:
    """Propose credits, earn-backs and bonuses for the contracts among CARDS (set-based history)."""
    contracts = [(sc, row) for sc, row in zip(cards, period_rows, strict=True) if hasattr(sc, "credit_terms")]
    if not contracts or granularity != period_math.MONTH:
        return
    period_ids = [row.pk for _, row in contracts]
    Adjustment.objects.filter(period_id__in=period_ids, status=Adjustment.Status.PROPOSED).delete()
    decided = set(
        Adjustment.objects.filter(period_id__in=period_ids, status__in=Adjustment.DECIDED).values_list(
            "period_id", "kpi_id", "kind"
        )
    )
    window = max(
        max(
            sc.credit_terms.escalation_window,
            sc.credit_terms.chronic_window,
            sc.credit_terms.earn_back_periods,
        )
        for sc, _ in contracts
    )
    starts = [period_math.shift(granularity, period, -n).start for n in range(1, window + 1)]
    card_ids = [sc.pk for sc, _ in contracts]
    past: dict[tuple[int, int, date], credits.Outcome] = {}
    for scorecard_id, start, kpi_id, value, target in KpiResult.objects.filter(
        period__scorecard_id__in=card_ids, period__start__in=starts, is_official=True, critical=True
    ).values_list("period__scorecard_id", "period__start", "kpi_id", "value", "target"):
        past[(scorecard_id, kpi_id, start)] = credits.Outcome(value, target)
    prior: dict[int, list[credits.PriorCredit]] = defaultdict(list)
    for credit in Adjustment.objects.filter(
        period__scorecard_id__in=card_ids,
        period__start__in=starts,
        kind=Adjustment.Kind.CREDIT,
        status__in=[Adjustment.Status.PROPOSED, Adjustment.Status.APPROVED, Adjustment.Status.OVERRIDDEN],
        earned_back_by__isnull=True,
    ).select_related("period"):
        amount = credit.approved_amount if credit.approved_amount is not None else credit.proposed_amount
        prior[credit.period.scorecard_id].append(
            credits.PriorCredit(credit.kpi_id, starts.index(credit.period.start) + 1, amount, ref=credit.pk)
        )

    new: list[Adjustment] = []
    for sc, row in contracts:
        by_kpi = {e.kpi_id: e for e in evaluations[sc.pk]}
        levels = []
        outcomes: dict[int, credits.Outcome] = {}
        history: dict[int, list[credits.Outcome]] = {}
        for line in sc.lines.all():
            e = by_kpi.get(line.kpi_id)
            if not line.critical or e is None:
                continue
            levels.append(_service_level(line, e.version.direction))
            outcomes[line.kpi_id] = credits.Outcome(e.value if e.applicable else None, e.version.target)
            history[line.kpi_id] = [
                past.get((sc.pk, line.kpi_id, s), credits.Outcome(None, None)) for s in starts
            ]
        settlement = credits.settle(_terms(sc.credit_terms), levels, outcomes, history, prior.get(sc.pk, ()))
        for proposal in settlement.proposals:
            if (row.pk, proposal.key, proposal.kind) in decided:
                continue
            new.append(
                Adjustment(
                    period=row,
                    kpi_id=proposal.key,
                    kind=proposal.kind,
                    computed_amount=proposal.computed_amount,
                    proposed_amount=proposal.amount,
                    explanation=proposal.explanation,
                    earns_back_id=proposal.ref,
                )
            )
        if settlement.chronic:
            row.chronic_failure = True
            row.notes = [*row.notes, *settlement.notes]
    Adjustment.objects.bulk_create(new)
    report.adjustments = len(new)


_SEVERITY = {
    Standing.Recommendation.REWARD: 0,
    Standing.Recommendation.NO_ACTION: 1,
    Standing.Recommendation.COACHING: 2,
    Standing.Recommendation.FORMAL_REVIEW: 3,
}


def _recommend_for_staff(
    cards: Sequence[Scorecard],
    period_rows: Sequence[ScorecardPeriod],
    standings: Mapping[int, Standing | None],
    granularity: str,
    period: period_math.Period,
    report: ComputeReport,
) -> None:
    """Teams and agents: the standing's recommendation; coaching twice in a row becomes a formal review."""
    staff = [
        (sc, row)
        for sc, row in zip(cards, period_rows, strict=True)
        if sc.subject.kind in (Subject.Kind.AGENT, Subject.Kind.TEAM) and standings.get(sc.pk) is not None
    ]
    if not staff:
        return
    period_ids = [row.pk for _, row in staff]
    StaffRecommendation.objects.filter(
        period_id__in=period_ids, status=StaffRecommendation.Status.PROPOSED
    ).delete()
    decided = set(
        StaffRecommendation.objects.filter(period_id__in=period_ids).values_list("period_id", flat=True)
    )
    previous_start = period_math.shift(granularity, period, -1).start
    previous = {
        scorecard_id: final or proposed
        for scorecard_id, proposed, final in StaffRecommendation.objects.filter(
            period__scorecard_id__in=[sc.pk for sc, _ in staff], period__start=previous_start
        ).values_list("period__scorecard_id", "proposed", "final")
    }
    new = []
    for sc, row in staff:
        if row.pk in decided:
            continue
        standing = standings[sc.pk]
        assert standing is not None
        proposed = standing.staff_recommendation
        advice = standing.get_staff_recommendation_display().lower()
        basis = f"Score {row.score} is in the standing “{standing.name}”, which recommends {advice}."
        before = previous.get(sc.pk)
        if proposed == Standing.Recommendation.COACHING and before in (
            Standing.Recommendation.COACHING,
            Standing.Recommendation.FORMAL_REVIEW,
        ):
            proposed = Standing.Recommendation.FORMAL_REVIEW
            basis += " The previous period already called for coaching, so a formal review is proposed."
        new.append(StaffRecommendation(period=row, proposed=proposed, basis=basis))
    StaffRecommendation.objects.bulk_create(new)
    report.recommendations = len(new)


def _apply_standing_actions(
    actor: Any,
    cards: Sequence[Scorecard],
    period_rows: Sequence[ScorecardPeriod],
    standings: Mapping[int, Standing | None],
    today: date,
    report: ComputeReport,
) -> None:
    """On closed periods, once per standing: improvement plans, vendor review flags, notifications."""
    due = [
        (sc, row, standings[sc.pk])
        for sc, row in zip(cards, period_rows, strict=True)
        if row.status == ScorecardPeriod.Status.CLOSED
        and standings.get(sc.pk) is not None
        and row.actions_applied_for_id != getattr(standings.get(sc.pk), "pk", None)
    ]
    if not due:
        return
    plan_rows = [
        row for _, row, standing in due if standing is not None and standing.require_improvement_plan
    ]
    if plan_rows:
        have = set(ImprovementPlan.objects.filter(period__in=plan_rows).values_list("period_id", flat=True))
        plans = [
            ImprovementPlan(period=row, due_on=today + timedelta(days=IMPROVEMENT_PLAN_DAYS))
            for row in plan_rows
            if row.pk not in have
        ]
        ImprovementPlan.objects.bulk_create(plans)
        report.improvement_plans = len(plans)
    flag_ids = {
        sc.subject.vendor_id
        for sc, _, standing in due
        if standing is not None and standing.flag_vendor_for_review and sc.subject.vendor_id
    }
    if flag_ids:
        from vendors.services import vendor_flag_for_review

        for vendor in Vendor.objects.filter(pk__in=flag_ids).exclude(status=Vendor.Status.UNDER_REVIEW):
            # Only an active vendor moves; the lifecycle's rules hold for the engine as for people.
            if vendor_flag_for_review(
                actor=actor, vendor=vendor, reason="Scorecard standing requires a review."
            ):
                report.vendors_flagged.append(vendor.pk)
    messages: dict[str, list[str]] = defaultdict(list)
    for sc, row, standing in due:
        if standing is None:
            continue
        for role in standing.notify_roles:
            messages[role].append(
                f"{sc.name} ({sc.subject.label}): score {row.score}, standing {standing.name}"
            )
        row.actions_applied_for = standing
    if messages:
        _notify_roles(dict(messages))


def _notify_roles(messages: Mapping[str, Sequence[str]]) -> None:
    """One e-mail per role (not per scorecard), sent after the transaction commits."""
    recipients: dict[str, list[str]] = defaultdict(list)
    for name, email in (
        User.objects.filter(groups__name__in=list(messages), is_active=True)
        .exclude(email="")
        .values_list("groups__name", "email")
    ):
        if name in messages:
            recipients[name].append(email)

    def send() -> None:
        for role, lines in messages.items():
            to = sorted(set(recipients.get(role, [])))
            if not to:
                continue
            try:
                send_mail(
                    subject=f"Steward: {len(lines)} scorecard(s) need attention",
                    message="\n".join(lines),
                    from_email=None,
                    recipient_list=to,
                )
            except OSError:
                logger.exception("standing notification failed", extra={"role": role})

    transaction.on_commit(send)


def period_close(
    *, actor: Any, scorecard: Scorecard, start: date, today: date | None = None
) -> ScorecardPeriod:
    """Close one scorecard's period (the page's "close now"; beat closes many at once)."""
    return periods_compute(actor=actor, scorecards=[scorecard], start=start, close=True, today=today).periods[
        0
    ]


def period_recompute(
    *, actor: Any, period: ScorecardPeriod, versions: Mapping[int, KpiVersion] | None = None
) -> ScorecardPeriod:
    """Recompute one period now, optionally under chosen approved versions.

    A closed period needs ``kpis.recompute_period``."""
    return periods_compute(
        actor=actor, scorecards=[period.scorecard], start=period.start, versions=versions
    ).periods[0]


def periods_close_due(*, today: date | None = None, batch_size: int = 1000) -> dict[str, int]:
    """Close the last complete period of every active scorecard that has not been closed (Celery beat)."""
    today = today or timezone.localdate()
    closed: dict[str, int] = {}
    for granularity in period_math.GRANULARITIES:
        period = period_math.previous_period(granularity, today)
        due = (
            Scorecard.objects.filter(status=Scorecard.Status.ACTIVE, granularity=granularity)
            .exclude(periods__start=period.start, periods__status=ScorecardPeriod.Status.CLOSED)
            .order_by("pk")
        )
        ids = list(due.values_list("pk", flat=True))
        for i in range(0, len(ids), batch_size):
            batch = list(Scorecard.objects.filter(pk__in=ids[i : i + batch_size]))
            periods_compute(actor=None, scorecards=batch, start=period.start, close=True, today=today)
        closed[granularity] = len(ids)
    return closed


# --- Submitted measurements ---------------------------------------------------------------------


@transaction.atomic
def submission_create(
    *,
    actor: User,
    measure: Measure,
    subject: Subject,
    start: date,
    end: date,
    value: Decimal,
    evidence: UploadedFile | None,
    sample_size: int | None = None,
    note: str = "",
) -> MeasureSubmission:
    """Submit a measurement with evidence (staff, or a vendor portal user for its own vendor's subjects)."""
    _require(
        actor, "kpis.add_measuresubmission", "Submitting measurements needs a KPI or vendor portal role."
    )
    if actor.vendor_id is not None and subject.vendor_id != actor.vendor_id:
        raise PermissionDenied("You may submit measurements only for your own vendor.")
    if measure.source != Measure.Source.SUBMITTED:
        raise ValidationError({"measure": "This measure is computed by Steward, not submitted."})
    if start >= end:
        raise ValidationError({"end": "The period ends after it starts."})
    if end - start > timedelta(days=366):
        raise ValidationError({"end": "A submission covers at most a year."})
    if sample_size is not None and sample_size < 0:
        raise ValidationError({"sample_size": "A sample size is 0 or more."})
    if evidence is None:
        raise ValidationError({"evidence": "Attach the evidence for this measurement."})
    # Checked like every upload (core.uploads): the type by its content, the name agreeing with it,
    # not empty, within STEWARD_UPLOAD_MAX_BYTES; a refused file is never stored.
    checked = uploads.check_upload(evidence, field="evidence")
    submission = MeasureSubmission(
        measure=measure,
        subject=subject,
        start=start,
        end=end,
        value=_decimal(value, "value"),
        sample_size=sample_size,
        note=note,
        submitted_by=actor,
    )
    submission.full_clean(exclude=["evidence"])
    with uploads.files_removed_on_failure() as keep:
        submission.evidence.save(checked.original_name, evidence, save=False)
        keep(submission.evidence)
        submission.save()
        audit.record_change(AuditEvent.Action.CREATE, submission, actor=actor)
    return submission


@transaction.atomic
def submission_decide(
    *, actor: User, submission: MeasureSubmission, approve: bool, reason: str = ""
) -> MeasureSubmission:
    """Approve or reject a submitted measurement. Nobody decides their own submission."""
    _require(actor, "kpis.approve_measuresubmission", "Approving measurements needs the KPI manager role.")
    submission = MeasureSubmission.objects.select_for_update().get(pk=submission.pk)
    if submission.submitted_by_id == actor.pk:
        raise PermissionDenied("You submitted this measurement; another person must approve it.")
    if submission.status != MeasureSubmission.Status.SUBMITTED:
        raise ValidationError(f"This submission is already {submission.get_status_display().lower()}.")
    if not approve and not reason.strip():
        raise ValidationError({"reason": "Say why the submission is rejected."})
    before = audit.snapshot(submission)
    submission.status = MeasureSubmission.Status.APPROVED if approve else MeasureSubmission.Status.REJECTED
    submission.decided_by = actor
    submission.decided_at = timezone.now()
    submission.decision_reason = reason.strip()
    submission.save(update_fields=["status", "decided_by", "decided_at", "decision_reason", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, submission, before=before, actor=actor)
    return submission


# --- Credits, bonuses and staff recommendations ----------------------------------------------------


@transaction.atomic
def adjustment_decide(
    *, actor: User, adjustment: Adjustment, decision: str, amount: Decimal | None = None, reason: str = ""
) -> Adjustment:
    """Approve a proposed credit, earn-back or bonus, override its amount, or reject it.

    Overriding and rejecting need a reason; an overridden credit still respects the monthly cap.
    """
    _require(actor, "kpis.approve_adjustment", "Approving credits and bonuses needs the vendor manager role.")
    adjustment = (
        Adjustment.objects.select_for_update(of=("self",))
        .select_related("period__scorecard__credit_terms")
        .get(pk=adjustment.pk)
    )
    if adjustment.status != Adjustment.Status.PROPOSED:
        raise ValidationError(f"This {adjustment.get_kind_display().lower()} is already decided.")
    before = audit.snapshot(adjustment)
    if decision == "approve":
        adjustment.status = Adjustment.Status.APPROVED
        adjustment.approved_amount = adjustment.proposed_amount
    elif decision == "override":
        if amount is None:
            raise ValidationError({"amount": "Give the amount you approve instead."})
        if not reason.strip():
            raise ValidationError({"reason": "Say why the amount differs from the proposal."})
        new_amount = credits.money(_decimal(amount, "amount"))
        if adjustment.kind == Adjustment.Kind.EARN_BACK:
            if new_amount > 0 or new_amount < adjustment.computed_amount:
                raise ValidationError({"amount": "An earn-back is between the credit (negative) and 0."})
        else:
            if new_amount < 0:
                raise ValidationError({"amount": "Credits and bonuses are 0 or more."})
            terms = getattr(adjustment.period.scorecard, "credit_terms", None)
            if adjustment.kind == Adjustment.Kind.CREDIT and terms is not None:
                others = sum(
                    (
                        a.approved_amount or Decimal(0)
                        for a in Adjustment.objects.filter(
                            period=adjustment.period,
                            kind=Adjustment.Kind.CREDIT,
                            status__in=[Adjustment.Status.APPROVED, Adjustment.Status.OVERRIDDEN],
                        )
                    ),
                    Decimal(0),
                )
                cap = _terms(terms).at_risk_amount
                if others + new_amount > cap:
                    raise ValidationError(
                        {"amount": f"The month's credits would exceed the at-risk amount {credits.hkd(cap)}."}
                    )
        adjustment.status = Adjustment.Status.OVERRIDDEN
        adjustment.approved_amount = new_amount
    elif decision == "reject":
        if not reason.strip():
            raise ValidationError({"reason": "Say why the proposal is rejected."})
        adjustment.status = Adjustment.Status.REJECTED
        adjustment.approved_amount = None
    else:
        raise ValidationError({"decision": "Decide approve, override or reject."})
    adjustment.decided_by = actor
    adjustment.decided_at = timezone.now()
    adjustment.decision_reason = reason.strip()
    adjustment.save()
    audit.record_change(AuditEvent.Action.UPDATE, adjustment, before=before, actor=actor)
    return adjustment


@transaction.atomic
def recommendation_decide(
    *, actor: User, recommendation: StaffRecommendation, final: str, reason: str = ""
) -> StaffRecommendation:
    """Approve the proposed staff recommendation, or override it with a reason."""
    _require(
        actor, "kpis.approve_staffrecommendation", "Deciding staff recommendations needs the CS manager role."
    )
    recommendation = (
        StaffRecommendation.objects.select_for_update(of=("self",))
        .select_related("period__scorecard__subject")
        .get(pk=recommendation.pk)
    )
    if recommendation.period.scorecard.subject.user_id == actor.pk:
        raise PermissionDenied("You cannot decide a recommendation about yourself.")
    if recommendation.status != StaffRecommendation.Status.PROPOSED:
        raise ValidationError("This recommendation is already decided.")
    if final not in Standing.Recommendation.values:
        raise ValidationError({"final": f"Choose one of {', '.join(Standing.Recommendation.values)}."})
    if final != recommendation.proposed and not reason.strip():
        raise ValidationError({"reason": "Say why you decide differently from the proposal."})
    before = audit.snapshot(recommendation)
    recommendation.final = final
    recommendation.status = (
        StaffRecommendation.Status.APPROVED
        if final == recommendation.proposed
        else StaffRecommendation.Status.OVERRIDDEN
    )
    recommendation.decided_by = actor
    recommendation.decided_at = timezone.now()
    recommendation.decision_reason = reason.strip()
    recommendation.save()
    audit.record_change(AuditEvent.Action.UPDATE, recommendation, before=before, actor=actor)
    return recommendation


@transaction.atomic
def improvement_plan_submit(*, actor: User, plan: ImprovementPlan, text: str) -> ImprovementPlan:
    """The subject (a vendor's portal user, or staff) answers with the plan."""
    _require(actor, "kpis.change_improvementplan", "Submitting an improvement plan needs access to it.")
    if not text.strip():
        raise ValidationError({"plan": "Write the plan."})
    if plan.status == ImprovementPlan.Status.ACCEPTED:
        raise ValidationError("This plan is already accepted.")
    before = audit.snapshot(plan)
    plan.plan = text.strip()
    plan.status = ImprovementPlan.Status.SUBMITTED
    plan.submitted_by = actor
    plan.save()
    audit.record_change(AuditEvent.Action.UPDATE, plan, before=before, actor=actor)
    return plan


@transaction.atomic
def improvement_plan_accept(*, actor: User, plan: ImprovementPlan) -> ImprovementPlan:
    _require(actor, "kpis.view_every_subject", "Accepting plans needs the KPI manager role.")
    _require(actor, "kpis.change_improvementplan", "Accepting plans needs the KPI manager role.")
    if actor.is_portal_user or plan.submitted_by_id == actor.pk:
        raise PermissionDenied("Another person accepts the plan.")
    if plan.status != ImprovementPlan.Status.SUBMITTED:
        raise ValidationError("Only a submitted plan can be accepted.")
    before = audit.snapshot(plan)
    plan.status = ImprovementPlan.Status.ACCEPTED
    plan.accepted_by = actor
    plan.save()
    audit.record_change(AuditEvent.Action.UPDATE, plan, before=before, actor=actor)
    return plan


# --- KPI reviews --------------------------------------------------------------------------------


@transaction.atomic
def reviews_schedule(*, today: date | None = None) -> int:
    """Open a review for every live KPI whose review date has come (Celery beat)."""
    today = today or timezone.localdate()
    due = KpiDefinition.objects.filter(retired_at__isnull=True, next_review_on__lte=today).exclude(
        reviews__status=KpiReview.Status.DUE
    )
    reviews = [KpiReview(definition=d, due_on=d.next_review_on or today) for d in due]
    KpiReview.objects.bulk_create(reviews)
    if reviews:
        audit.record_event(
            AuditEvent.Action.CREATE,
            object_type="kpis.kpireview",
            object_repr=f"{len(reviews)} KPI reviews due",
            detail={"kpis": [r.definition_id for r in reviews]},
        )
    return len(reviews)


@transaction.atomic
def review_decide(
    *,
    actor: User,
    review: KpiReview,
    decision: str,
    rationale: str,
    figures: Mapping[str, Any] | None = None,
    changes: Mapping[str, Any] | None = None,
) -> KpiReview:
    """Record a KPI review: keep, adjust the target, redefine (both become new versions) or retire."""
    _require(actor, "kpis.change_kpireview", "Reviewing KPIs needs the KPI manager role.")
    review = KpiReview.objects.select_for_update(of=("self",)).select_related("definition").get(pk=review.pk)
    if review.status == KpiReview.Status.DONE:
        raise ValidationError("This review is already recorded.")
    if decision not in KpiReview.Decision.values:
        raise ValidationError({"decision": f"Choose one of {', '.join(KpiReview.Decision.values)}."})
    if not rationale.strip():
        raise ValidationError({"rationale": "Record why; the rationale stays with the KPI's history."})
    definition = review.definition
    before = audit.snapshot(review)
    changes = dict(changes or {})
    if decision == KpiReview.Decision.ADJUST_TARGET:
        allowed = {"target", "bands"}
        if "target" not in changes or set(changes) - allowed:
            raise ValidationError(
                {"target": "Adjusting the target changes the target (and, if needed, the bands) only."}
            )
        review.new_version = kpi_version_propose(
            actor=actor, definition=definition, reason=f"KPI review: {rationale.strip()}", **changes
        )
    elif decision == KpiReview.Decision.REDEFINE:
        if not changes:
            raise ValidationError({"changes": "Say what the new definition changes."})
        review.new_version = kpi_version_propose(
            actor=actor, definition=definition, reason=f"KPI review: {rationale.strip()}", **changes
        )
    elif decision == KpiReview.Decision.RETIRE:
        kpi_retire(actor=actor, definition=definition, rationale=rationale)
    review.status = KpiReview.Status.DONE
    review.decision = decision
    review.rationale = rationale.strip()
    review.reviewer = actor
    review.decided_at = timezone.now()
    review.figures = dict(figures or {})
    review.save()
    if decision != KpiReview.Decision.RETIRE:
        definition.next_review_on = _add_months(timezone.localdate(), definition.review_every_months)
        definition.save(update_fields=["next_review_on", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, review, before=before, actor=actor)
    return review
