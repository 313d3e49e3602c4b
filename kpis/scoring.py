"""The arithmetic of scoring, as pure functions (no database): bands, attainment, period score, standings.

Definitions shown to users (docs/kpis.md repeats them):

- **Threshold bands** split a KPI's value scale into 2–5 ranges. Each range includes its
  lower bound and excludes its upper bound; the first starts at "no lower bound" and the last
  ends at "no upper bound", so every value falls in exactly one band. One band is marked as
  the target band, and the KPI's target lies in it.
- **Attainment score** (0–100): the score of the band the value falls in (a step, not an
  interpolation, so a person can read the score straight from the band table).
- **Period score** = Σ attainment × weight ÷ Σ weight, over the KPIs that are applicable in
  the period. With every KPI applicable the weights total 100 and this is ERPNext's
  Σ score × weight ÷ 100; a not-applicable KPI drops out and the others are re-weighted.
  With no applicable KPI the period itself is not applicable (no score, not 0).
- **Standings** are named, coloured bands over 0–100 (lower bound included, upper excluded,
  except that 100 belongs to the top band), with no gap and no overlap.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

HIGHER = "higher"
LOWER = "lower"
MILESTONE = "milestone"

SCORE_PLACES = Decimal("0.01")
ZERO = Decimal(0)
HUNDRED = Decimal(100)


class BandError(ValueError):
    """Bands or standings that break the rules; the message says which rule."""


@dataclass(frozen=True)
class Band:
    label: str
    lower: Decimal | None  # included; None = no lower bound
    upper: Decimal | None  # excluded; None = no upper bound
    score: Decimal
    is_target: bool = False

    def contains(self, value: Decimal) -> bool:
        return (self.lower is None or value >= self.lower) and (self.upper is None or value < self.upper)

    def as_json(self) -> dict[str, Any]:
        return {
            "label": self.label,
            "lower": None if self.lower is None else str(self.lower),
            "upper": None if self.upper is None else str(self.upper),
            "score": str(self.score),
            "is_target": self.is_target,
        }


def _decimal(value: Any, what: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise BandError(f"{what} must be a number, not {value!r}.") from None
    if not result.is_finite():
        raise BandError(f"{what} must be a finite number.")
    return result


def _optional_decimal(value: Any, what: str) -> Decimal | None:
    if value is None or value == "":
        return None
    return _decimal(value, what)


def bands_from_json(raw: Iterable[dict[str, Any]]) -> list[Band]:
    bands = []
    for i, item in enumerate(raw, start=1):
        bands.append(
            Band(
                label=str(item.get("label") or f"Band {i}")[:60],
                lower=_optional_decimal(item.get("lower"), f"Band {i}'s lower bound"),
                upper=_optional_decimal(item.get("upper"), f"Band {i}'s upper bound"),
                score=_decimal(item.get("score"), f"Band {i}'s score"),
                is_target=bool(item.get("is_target")),
            )
        )
    return bands


def _fmt(value: Decimal | None) -> str:
    return "no bound" if value is None else f"{value.normalize():f}"


def validate_bands(bands: Sequence[Band], *, direction: str, target: Decimal | None) -> list[Band]:
    """Bands sorted from the lowest values up, or BandError naming the broken rule."""
    if not 2 <= len(bands) <= 5:
        raise BandError("A KPI has 2 to 5 threshold bands.")
    for band in bands:
        if band.lower is not None and band.upper is not None and band.lower >= band.upper:
            raise BandError(f"“{band.label}” is empty: its lower bound must be below its upper bound.")
    ordered = sorted(bands, key=lambda b: (b.lower is not None, b.lower or ZERO))
    if ordered[0].lower is not None:
        raise BandError(f"The lowest band must have no lower bound (it starts at {_fmt(ordered[0].lower)}).")
    if ordered[-1].upper is not None:
        raise BandError(f"The highest band must have no upper bound (it ends at {_fmt(ordered[-1].upper)}).")
    for below, above in zip(ordered, ordered[1:], strict=False):
        if below.upper is None or above.lower is None:
            raise BandError(
                "Only the lowest band may lack a lower bound, and only the highest an upper bound."
            )
        if below.upper < above.lower:
            raise BandError(
                f"Values from {_fmt(below.upper)} to {_fmt(above.lower)} fall in no band "
                f"(gap between “{below.label}” and “{above.label}”)."
            )
        if below.upper > above.lower:
            raise BandError(
                f"“{below.label}” and “{above.label}” overlap "
                f"between {_fmt(above.lower)} and {_fmt(below.upper)}."
            )
    for band in ordered:
        if not ZERO <= band.score <= HUNDRED:
            raise BandError(f"“{band.label}”'s score must be between 0 and 100.")
    targets = [b for b in ordered if b.is_target]
    if len(targets) != 1:
        raise BandError("Mark exactly one band as the target band.")
    scores = [b.score for b in ordered]
    if direction == HIGHER and scores != sorted(scores):
        raise BandError("Higher is better: band scores must not fall as values rise.")
    if direction == LOWER and scores != sorted(scores, reverse=True):
        raise BandError("Lower is better: band scores must not rise as values rise.")
    if target is not None and not targets[0].contains(target):
        raise BandError(f"The target {_fmt(target)} must lie in the target band “{targets[0].label}”.")
    return ordered


def band_for(bands: Sequence[Band], value: Decimal) -> Band:
    for band in bands:
        if band.contains(value):
            return band
    raise BandError(f"{value} falls in no band")  # unreachable for validated bands


def meets_target(direction: str, value: Decimal, target: Decimal) -> bool:
    """Higher is better (and milestones): value ≥ target. Lower is better: value ≤ target."""
    if direction == LOWER:
        return value <= target
    return value >= target


def beats(direction: str, value: Decimal, threshold: Decimal) -> bool:
    """Strictly better than THRESHOLD in the KPI's direction (used for bonuses and earn-back)."""
    if direction == LOWER:
        return value < threshold
    return value > threshold


def at_least_as_good(direction: str, value: Decimal, threshold: Decimal) -> bool:
    return meets_target(direction, value, threshold)


@dataclass(frozen=True)
class WeightedScore:
    attainment: Decimal | None  # None: not applicable
    weight: Decimal


def period_score(items: Iterable[WeightedScore]) -> tuple[Decimal | None, dict[int, Decimal]]:
    """Σ attainment × weight ÷ Σ applicable weight, and each item's effective weight (% of 100).

    Returns (None, {}) when no item is applicable.
    """
    listed = list(items)
    applicable = [(i, it) for i, it in enumerate(listed) if it.attainment is not None and it.weight > 0]
    total_weight = sum((it.weight for _, it in applicable), ZERO)
    if not applicable or total_weight == 0:
        return None, {}
    total = sum((it.attainment * it.weight for _, it in applicable if it.attainment is not None), ZERO)
    score = (total / total_weight).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)
    effective = {
        i: (it.weight * HUNDRED / total_weight).quantize(SCORE_PLACES, rounding=ROUND_HALF_UP)
        for i, it in applicable
    }
    return score, effective


@dataclass(frozen=True)
class StandingBand:
    name: str
    lower: Decimal
    upper: Decimal
    key: Any = None


def validate_standings(standings: Sequence[StandingBand]) -> list[StandingBand]:
    """Standings sorted from 0 up, covering 0–100 with no gap or overlap, or BandError."""
    if not standings:
        raise BandError("A standing scheme needs at least one standing.")
    ordered = sorted(standings, key=lambda s: s.lower)
    if ordered[0].lower != 0:
        raise BandError(f"Standings must start at 0 (the lowest starts at {_fmt(ordered[0].lower)}).")
    if ordered[-1].upper != HUNDRED:
        raise BandError(f"Standings must end at 100 (the highest ends at {_fmt(ordered[-1].upper)}).")
    for s in ordered:
        if s.lower >= s.upper:
            raise BandError(f"“{s.name}” is empty: its lower bound must be below its upper bound.")
    for below, above in zip(ordered, ordered[1:], strict=False):
        if below.upper < above.lower:
            raise BandError(f"Scores from {_fmt(below.upper)} to {_fmt(above.lower)} have no standing.")
        if below.upper > above.lower:
            raise BandError(f"“{below.name}” and “{above.name}” overlap.")
    return ordered


def standing_for(standings: Sequence[StandingBand], score: Decimal) -> StandingBand | None:
    ordered = sorted(standings, key=lambda s: s.lower)
    for i, s in enumerate(ordered):
        last = i == len(ordered) - 1
        if s.lower <= score and (score < s.upper or (last and score <= s.upper)):
            return s
    return None
