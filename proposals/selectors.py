"""Reads for proposals: blind scores, the consensus table, version diffs, the compatibility view,
the combined strategy, the portfolio and the balance of interests. Every read starts from
``restrict(user)``."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Prefetch, QuerySet, Sum
from django.http import Http404

from accounts.models import User
from core.access import get_restricted_or_404
from proposals.models import (
    DISAGREEMENT_SPREAD,
    Acknowledgement,
    Call,
    Clarification,
    ComponentDecision,
    ConsensusScore,
    Criterion,
    Guideline,
    GuidelineVersion,
    Initiative,
    Objective,
    PanelMember,
    Proposal,
    ProposalVersion,
    Scoresheet,
    Section,
)
from proposals.services import assignees, latest_submitted


def call_list(*, user: User | Any) -> QuerySet[Call]:
    return (
        Call.objects.restrict(user)
        .annotate(n_proposals=Count("proposals", distinct=True))
        .order_by("-deadline")
    )


def call_get(*, user: User | Any, pk: int) -> Call:
    return get_restricted_or_404(Call, user=user, pk=pk)


def proposal_get(*, user: User | Any, pk: int, action: str = "view") -> Proposal:
    return get_restricted_or_404(Proposal, user=user, pk=pk, action=action)


def proposals_of(*, user: User | Any, call: Call) -> QuerySet[Proposal]:
    return Proposal.objects.restrict(user).filter(call=call).select_related("vendor").order_by("vendor__name")


def versions_of(*, user: User | Any, proposal: Proposal) -> QuerySet[ProposalVersion]:
    """Versions a user may read; a company user sees submitted versions only, never the vendor's draft."""
    versions = ProposalVersion.objects.restrict(user).filter(proposal=proposal)
    if getattr(user, "vendor_id", None) is None:
        versions = versions.filter(submitted_at__isnull=False)
    return versions.order_by("number")


def clarifications_of(*, user: User | Any, call: Call) -> QuerySet[Clarification]:
    return Clarification.objects.restrict(user).filter(call=call).distinct().order_by("created_at")


# --- Guidelines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AckStatus:
    """Who must acknowledge a version: staff and, apart, third-party staff (vendors' portal users)."""

    version: GuidelineVersion
    acknowledged: list[tuple[User, Any]]
    outstanding: list[User]
    vendors: list[Any] = field(default_factory=list)

    @property
    def role_labels(self) -> list[str]:
        from accounts.roles import ROLES

        return [ROLES[r].label if r in ROLES else r for r in self.version.roles]

    @property
    def staff_acknowledged(self) -> list[tuple[User, Any]]:
        return [(p, at) for p, at in self.acknowledged if p.vendor_id is None]

    @property
    def staff_outstanding(self) -> list[User]:
        return [p for p in self.outstanding if p.vendor_id is None]

    @property
    def third_party(self) -> list[tuple[User, Any]]:
        """Every third-party assignee with when they acknowledged (None: not yet), by vendor."""
        done = {p.pk: at for p, at in self.acknowledged}
        people = [p for p, _ in self.acknowledged] + self.outstanding
        return sorted(
            ((p, done.get(p.pk)) for p in people if p.vendor_id is not None),
            key=lambda row: (row[0].vendor.name if row[0].vendor else "", row[0].username),
        )


def acknowledgement_status(version: GuidelineVersion) -> AckStatus:
    """Who has and who has not acknowledged VERSION (for the dissemination page)."""
    done = {a.user_id: a.acknowledged_at for a in version.acknowledgements.all()}
    people = list(assignees(version))
    return AckStatus(
        version=version,
        acknowledged=[(p, done[p.pk]) for p in people if p.pk in done],
        outstanding=[p for p in people if p.pk not in done],
        vendors=list(version.vendors.order_by("name")),
    )


@dataclass(frozen=True)
class PortalGuideline:
    version: GuidelineVersion
    acknowledged_at: Any


def portal_guidelines(*, user: User | Any) -> list[PortalGuideline]:
    """The current guideline versions assigned to a portal user's vendor, with when this user
    acknowledged each (None: not yet). Another vendor's guidelines never appear (``restrict``)."""
    versions = (
        GuidelineVersion.objects.restrict(user)
        .filter(guideline__in=Guideline.objects.restrict(user).values("pk"))
        .select_related("guideline")
        .order_by("guideline__stage", "guideline__title", "-number")
    )
    current: dict[int, GuidelineVersion] = {}
    for version in versions:
        current.setdefault(version.guideline_id, version)
    done = dict(
        Acknowledgement.objects.filter(user_id=user.pk, version__in=list(current.values())).values_list(
            "version_id", "acknowledged_at"
        )
    )
    return [PortalGuideline(v, done.get(v.pk)) for v in current.values()]


# --- Evaluation ---------------------------------------------------------------------------------------


def visible_scoresheets(*, user: User | Any, proposal: Proposal) -> list[Scoresheet]:
    """Blind scoring: a panel member sees the others' sheets only after submitting their own.
    CRM staff who are not on the panel see submitted sheets once scoring is complete."""
    sheets = list(
        Scoresheet.objects.restrict(user)
        .filter(proposal=proposal)
        .select_related("member__user")
        .order_by("member_id")
    )
    own = next((s for s in sheets if s.member.user_id == getattr(user, "pk", None)), None)
    member = PanelMember.objects.filter(call_id=proposal.call_id, user_id=user.pk).exists()
    if member and (own is None or own.submitted_at is None):
        return [own] if own is not None else []
    return [s for s in sheets if s.submitted_at is not None or s is own]


@dataclass(frozen=True)
class ConsensusRow:
    criterion: str
    label: str
    weight: int
    scores: list[int]
    mean: Decimal | None
    spread: int | None
    flagged: bool
    agreed: int | None


@dataclass(frozen=True)
class ConsensusTable:
    rows: list[ConsensusRow]
    complete: bool
    expected: int
    submitted: int
    weighted_mean: Decimal | None  # out of 100, from the members' means
    weighted_agreed: Decimal | None  # out of 100, from the agreed scores (when every criterion is agreed)


def _weighted(values: dict[str, Decimal], weights: dict[str, int]) -> Decimal | None:
    if not values or set(values) != set(weights):
        return None
    total = sum(weights[c] * (values[c] - 1) / 4 for c in values)  # 1–5 mapped onto 0–100
    return (Decimal(total) * 100 / sum(weights.values())).quantize(Decimal("0.1"))


def consensus_table(proposal: Proposal) -> ConsensusTable:
    """Per criterion: every submitted score, the mean, the spread and whether it is flagged
    (spread ≥ DISAGREEMENT_SPREAD points), beside the agreed score."""
    weights = {w.criterion: w.weight for w in proposal.call.weights.all()}
    eligible = PanelMember.objects.filter(call_id=proposal.call_id).exclude(conflicts=proposal.vendor_id)
    sheets = list(
        Scoresheet.objects.filter(proposal=proposal, submitted_at__isnull=False, member__in=eligible)
    )
    agreed = {c.criterion: c.score for c in ConsensusScore.objects.filter(proposal=proposal)}
    rows = []
    means: dict[str, Decimal] = {}
    for criterion in Criterion.values:
        scores = [int(s.scores[criterion]) for s in sheets if criterion in s.scores]
        mean = (Decimal(sum(scores)) / len(scores)).quantize(Decimal("0.01")) if scores else None
        spread = max(scores) - min(scores) if scores else None
        if mean is not None:
            means[criterion] = mean
        rows.append(
            ConsensusRow(
                criterion=criterion,
                label=Criterion(criterion).label,
                weight=weights.get(criterion, 0),
                scores=scores,
                mean=mean,
                spread=spread,
                flagged=spread is not None and spread >= DISAGREEMENT_SPREAD,
                agreed=agreed.get(criterion),
            )
        )
    expected = eligible.count()
    return ConsensusTable(
        rows=rows,
        complete=expected > 0 and len(sheets) == expected,
        expected=expected,
        submitted=len(sheets),
        weighted_mean=_weighted(means, weights),
        weighted_agreed=_weighted({k: Decimal(v) for k, v in agreed.items()}, weights),
    )


# --- Version diff -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiffLine:
    left: str
    right: str
    tag: str  # equal, replace, delete, insert


@dataclass(frozen=True)
class SectionDiff:
    label: str
    lines: list[DiffLine]
    changed: bool


def _lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()] or ([text] if text else [])


def _component_text(components: Sequence[dict[str, Any]]) -> str:
    out = []
    for c in components:
        out.append(f"[{c['key']}] {c['title']}")
        for name in ("description", "objective", "kpi", "baseline", "target", "cost", "expected_benefit"):
            if c.get(name):
                out.append(f"    {name}: {c[name]}")
    return "\n".join(out)


def version_diff(old: ProposalVersion, new: ProposalVersion) -> list[SectionDiff]:
    """A side-by-side diff of two versions, section by section and for the components."""
    result = []
    pairs = [
        (Section(code).label, old.sections.get(code, ""), new.sections.get(code, ""))
        for code in Section.values
    ]
    pairs.append(("Components", _component_text(old.components), _component_text(new.components)))
    for label, left_text, right_text in pairs:
        left, right = _lines(left_text), _lines(right_text)
        lines: list[DiffLine] = []
        matcher = difflib.SequenceMatcher(a=left, b=right, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            span = max(i2 - i1, j2 - j1)
            for k in range(span):
                lines.append(
                    DiffLine(
                        left=left[i1 + k] if i1 + k < i2 else "",
                        right=right[j1 + k] if j1 + k < j2 else "",
                        tag=tag,
                    )
                )
        if lines:
            result.append(SectionDiff(label=label, lines=lines, changed=any(d.tag != "equal" for d in lines)))
    return result


# --- Compatibility with the company's strategy -------------------------------------------------------------


@dataclass
class CompatibilityRow:
    vendor: str
    component: dict[str, Any]
    objective: Objective | None
    duplicates: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Compatibility:
    rows: list[CompatibilityRow]
    gaps: list[Objective]


SIMILAR_TITLE = 0.6


def _similar(a: str, b: str) -> bool:
    return difflib.SequenceMatcher(a=a.lower(), b=b.lower()).ratio() >= SIMILAR_TITLE


def compatibility(*, user: User | Any, call: Call) -> Compatibility:
    """Map each proposed component (latest submitted versions) against the company's objectives
    and current initiatives.

    - duplicate: a title close to a current initiative's or another proposal's component;
    - conflict: no such company objective, or the same KPI as a current initiative with a
      different target (two promises on one number);
    - gap: a company objective that no proposed component serves.
    """
    objectives = {o.code: o for o in Objective.objects.all()}
    initiatives = list(Initiative.objects.exclude(status=Initiative.Status.STOPPED))
    rows: list[CompatibilityRow] = []
    for proposal in proposals_of(user=user, call=call):
        version = latest_submitted(proposal)
        if version is None:
            continue
        for component in version.components:
            rows.append(
                CompatibilityRow(
                    vendor=proposal.vendor.name,
                    component=component,
                    objective=objectives.get(component.get("objective") or ""),
                )
            )
    for row in rows:
        title = row.component["title"]
        if row.objective is None:
            row.conflicts.append(
                f"serves no company objective ({row.component.get('objective') or 'none given'})"
            )
        for initiative in initiatives:
            if _similar(title, initiative.title):
                row.duplicates.append(f"current initiative '{initiative.title}'")
            kpi = row.component.get("kpi") or ""
            target = row.component.get("target")
            if (
                kpi
                and initiative.kpi.lower() == kpi.lower()
                and initiative.target is not None
                and target is not None
                and Decimal(target) != initiative.target
            ):
                row.conflicts.append(
                    f"KPI '{kpi}' already targeted at {initiative.target} by '{initiative.title}'"
                )
        for other in rows:
            if other is not row and other.vendor != row.vendor and _similar(title, other.component["title"]):
                row.duplicates.append(f"{other.vendor}'s '{other.component['title']}'")
    served = {row.objective.pk for row in rows if row.objective is not None}
    return Compatibility(rows=rows, gaps=[o for o in objectives.values() if o.pk not in served])


# --- The combined strategy, portfolio and balance of interests ----------------------------------


def strategy(*, user: User | Any) -> QuerySet[Objective]:
    """The combined CRM strategy: objectives with their initiatives (own and adopted) and milestones."""
    initiatives = (
        Initiative.objects.restrict(user)
        .select_related("vendor", "owner", "source_decision__proposal__call")
        .prefetch_related("milestones")
    )
    # django-stubs cannot type a reverse relation's Prefetch on a restricted queryset.
    by_objective = Prefetch("initiatives", queryset=initiatives)
    return Objective.objects.restrict(user).prefetch_related(by_objective).order_by("code")


def portfolio(*, user: User | Any) -> dict[str, list[Proposal]]:
    """Every proposal by stage (its status), for the portfolio view."""
    proposals = Proposal.objects.restrict(user).select_related("vendor", "call").order_by("call__deadline")
    stages: dict[str, list[Proposal]] = {label: [] for _, label in Proposal.Status.choices}
    for proposal in proposals:
        stages[proposal.get_status_display()].append(proposal)
    return stages


@dataclass(frozen=True)
class Balance:
    vendor: str
    proposal: Proposal | None
    cost: Decimal
    expected: Decimal
    realised: Decimal
    vendor_share: Decimal

    @property
    def roi_pct(self) -> Decimal | None:
        if not self.cost:
            return None
        return ((self.realised - self.cost) * 100 / self.cost).quantize(Decimal("0.1"))


def balance_of_interests(*, user: User | Any) -> list[Balance]:
    """Per proposal (and partner): cost, expected and realised benefit of the adopted initiatives,
    and the vendor's share of the realised benefit under gainshare terms (002 §6.3). One query."""
    rows = (
        Initiative.objects.restrict(user)
        .filter(source_decision__isnull=False)
        .values("source_decision__proposal_id", "vendor__name")
        .annotate(
            cost=Sum("cost"),
            expected=Sum("expected_benefit"),
            realised=Sum("realised_benefit"),
            share=Sum(
                ExpressionWrapper(
                    F("realised_benefit") * F("vendor_share_pct") / 100,
                    output_field=DecimalField(max_digits=16, decimal_places=4),
                )
            ),
        )
        .order_by("vendor__name")
    )
    proposals = Proposal.objects.in_bulk([r["source_decision__proposal_id"] for r in rows])
    return [
        Balance(
            vendor=r["vendor__name"] or "",
            proposal=proposals.get(r["source_decision__proposal_id"]),
            cost=r["cost"] or Decimal(0),
            expected=r["expected"] or Decimal(0),
            realised=r["realised"] or Decimal(0),
            vendor_share=Decimal(r["share"] or 0).quantize(Decimal("0.01")),
        )
        for r in rows
    ]


def decision_for(proposal: Proposal) -> dict[str, ComponentDecision]:
    return {d.component_key: d for d in proposal.decisions.all()}


def require_member(user: User | Any, call: Call) -> PanelMember:
    member = PanelMember.objects.filter(call=call, user_id=user.pk).first()
    if member is None:
        raise Http404
    return member
