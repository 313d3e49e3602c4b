"""Service credits, earn-back, bonuses and chronic failure, as pure functions over Decimal HKD.

The arithmetic follows outsourcing contracts as PRODUCT.md §2 describes them:

- **At-risk amount** = monthly fee × at-risk %. Example: 10% of HK$100,000 = HK$10,000.
- **Pool method** (a critical service level without tiers): when the service level is missed,
  credit = pool allocation % × the service level's allocation % × at-risk amount.
  Example: 50% × 40% × HK$10,000 = HK$2,000.
- **Tiered method** (a service level with tiers): each tier is "worse than X → Y% of the
  monthly fee"; the largest matching tier applies (below 99.9% → 10%, below 99% → 25%…).
- **Escalation**: the k-th miss of the same service level within the rolling window
  (this period and the ones before it) multiplies the credit by the k-th multiplier
  (e.g. 1, 2, 3 turns 5% into 10% and 15%).
- **Monthly cap**: the month's credits never exceed the at-risk amount; service levels are
  charged in scorecard order and the one that crosses the cap is cut to what is left.
- **Earn-back**: a credit from N periods ago is cancelled when the service level met its
  (higher) earn-back target in every one of the N periods since.
- **Bonus**: beating the bonus target earns bonus % of the monthly fee, all bonuses of the
  month together capped at bonus cap % of the fee.
- **Chronic failure**: N or more misses of one service level in the last 12 periods
  (this one included) raises the chronic-failure flag (a termination right in most contracts).

A service level whose KPI is not applicable in the period is neither a miss nor a pass.
Key measurements (non-critical lines) never carry credits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from kpis.scoring import at_least_as_good, beats, meets_target

CENT = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal(0)

CREDIT = "credit"
EARN_BACK = "earn_back"
BONUS = "bonus"


def money(value: Decimal) -> Decimal:
    """Round to cents, halves away from zero (HK$ 0.005 → 0.01)."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def hkd(value: Decimal) -> str:
    return f"HK${money(value):,.2f}"


def pct(value: Decimal) -> str:
    return f"{value.normalize():f}%"


@dataclass(frozen=True)
class Tier:
    """Worse than ``threshold`` (in the KPI's direction) → ``pct_of_fee`` % of the monthly fee."""

    threshold: Decimal
    pct_of_fee: Decimal


@dataclass(frozen=True)
class Terms:
    monthly_fee: Decimal
    at_risk_pct: Decimal
    pool_pct: Decimal = HUNDRED
    escalation_window: int = 0
    escalation_multipliers: tuple[Decimal, ...] = ()
    earn_back_periods: int = 0
    bonus_cap_pct: Decimal = ZERO
    chronic_misses: int = 0
    chronic_window: int = 12

    @property
    def at_risk_amount(self) -> Decimal:
        return money(self.monthly_fee * self.at_risk_pct / HUNDRED)

    @property
    def bonus_cap(self) -> Decimal:
        return money(self.monthly_fee * self.bonus_cap_pct / HUNDRED)


@dataclass(frozen=True)
class ServiceLevel:
    """A critical service level: one scorecard line with its share of the pool and its rules."""

    key: Any
    label: str
    direction: str
    allocation_pct: Decimal
    tiers: tuple[Tier, ...] = ()
    earn_back_target: Decimal | None = None
    bonus_target: Decimal | None = None
    bonus_pct: Decimal = ZERO


@dataclass(frozen=True)
class Outcome:
    """A service level's official result in one period: its value and the target it was held to."""

    value: Decimal | None
    target: Decimal | None

    def missed(self, direction: str) -> bool:
        if self.value is None or self.target is None:
            return False
        return not meets_target(direction, self.value, self.target)


@dataclass(frozen=True)
class PriorCredit:
    """A credit charged ``periods_ago`` periods before this one, not yet earned back."""

    key: Any
    periods_ago: int
    amount: Decimal
    ref: Any = None


@dataclass
class Proposal:
    kind: str
    key: Any
    computed_amount: Decimal  # before the monthly cap
    amount: Decimal  # what is proposed (negative for an earn-back)
    explanation: list[str] = field(default_factory=list)
    ref: Any = None


@dataclass
class Settlement:
    proposals: list[Proposal]
    chronic: list[Any]  # keys of service levels in chronic failure
    notes: list[str]

    @property
    def credits_total(self) -> Decimal:
        return sum((p.amount for p in self.proposals if p.kind == CREDIT), ZERO)

    @property
    def bonus_total(self) -> Decimal:
        return sum((p.amount for p in self.proposals if p.kind == BONUS), ZERO)


def base_credit(terms: Terms, level: ServiceLevel, outcome: Outcome) -> tuple[Decimal, list[str]]:
    """The credit for one missed service level before escalation and cap, with the working shown."""
    if outcome.value is None:
        return ZERO, ["not applicable this period: no credit"]
    if level.tiers:
        matched = [t for t in level.tiers if beats(_opposite(level.direction), outcome.value, t.threshold)]
        if not matched:
            return ZERO, ["no credit tier reached"]
        tier = max(matched, key=lambda t: t.pct_of_fee)
        amount = money(terms.monthly_fee * tier.pct_of_fee / HUNDRED)
        return amount, [
            f"value {outcome.value.normalize():f} is worse than {tier.threshold.normalize():f}: "
            f"tier {pct(tier.pct_of_fee)} × monthly fee {hkd(terms.monthly_fee)} = {hkd(amount)}"
        ]
    if not outcome.missed(level.direction):
        return ZERO, ["target met"]
    amount = money(terms.pool_pct / HUNDRED * level.allocation_pct / HUNDRED * terms.at_risk_amount)
    return amount, [
        f"missed target {outcome.target.normalize():f} with {outcome.value.normalize():f}: "  # type: ignore[union-attr]
        f"pool {pct(terms.pool_pct)} × allocation {pct(level.allocation_pct)} × at-risk "
        f"{hkd(terms.at_risk_amount)} = {hkd(amount)}"
    ]


def _opposite(direction: str) -> str:
    # A tier applies when the value is *worse* than its threshold: strictly below it for
    # higher-is-better KPIs, strictly above it for lower-is-better ones.
    return "lower" if direction != "lower" else "higher"


def settle(
    terms: Terms,
    levels: Sequence[ServiceLevel],
    outcomes: Mapping[Any, Outcome],
    history: Mapping[Any, Sequence[Outcome]] | None = None,
    prior_credits: Sequence[PriorCredit] = (),
) -> Settlement:
    """Everything a contract owes or earns for one month.

    ``history[key]`` lists the service level's outcomes in earlier periods, most recent first.
    """
    history = history or {}
    proposals: list[Proposal] = []
    notes: list[str] = []
    remaining_cap = terms.at_risk_amount
    chronic: list[Any] = []

    for level in levels:
        outcome = outcomes.get(level.key, Outcome(None, None))
        past = list(history.get(level.key, ()))
        amount, why = base_credit(terms, level, outcome)
        if amount > 0:
            if terms.escalation_window > 1 and terms.escalation_multipliers:
                window = [outcome, *past[: terms.escalation_window - 1]]
                misses = sum(1 for o in window if o.missed(level.direction))
                index = min(max(misses, 1), len(terms.escalation_multipliers)) - 1
                multiplier = terms.escalation_multipliers[index]
                if multiplier != 1:
                    escalated = money(amount * multiplier)
                    why.append(
                        f"miss {misses} in the last {terms.escalation_window} periods: "
                        f"× {multiplier.normalize():f} = {hkd(escalated)}"
                    )
                    amount = escalated
            capped = min(amount, remaining_cap)
            if capped < amount:
                why.append(
                    f"cut to {hkd(capped)}: the month's credits are capped at {hkd(terms.at_risk_amount)}"
                )
            remaining_cap -= capped
            proposals.append(Proposal(CREDIT, level.key, amount, capped, why))
        if terms.chronic_misses > 0:
            window = [outcome, *past[: terms.chronic_window - 1]]
            misses = sum(1 for o in window if o.missed(level.direction))
            if misses >= terms.chronic_misses:
                chronic.append(level.key)
                notes.append(
                    f"{level.label}: {misses} misses in the last {terms.chronic_window} periods "
                    f"(chronic failure from {terms.chronic_misses})"
                )

    if terms.earn_back_periods > 0:
        by_key = {level.key: level for level in levels}
        for prior in prior_credits:
            earning = by_key.get(prior.key)
            if (
                earning is None
                or earning.earn_back_target is None
                or prior.periods_ago != terms.earn_back_periods
            ):
                continue
            since = [outcomes.get(earning.key, Outcome(None, None)), *list(history.get(earning.key, ()))][
                : terms.earn_back_periods
            ]
            if len(since) == terms.earn_back_periods and all(
                o.value is not None and at_least_as_good(earning.direction, o.value, earning.earn_back_target)
                for o in since
            ):
                proposals.append(
                    Proposal(
                        EARN_BACK,
                        earning.key,
                        -prior.amount,
                        -prior.amount,
                        [
                            f"earn-back target {earning.earn_back_target.normalize():f} met in each of the "
                            f"{terms.earn_back_periods} periods since: "
                            f"the credit of {hkd(prior.amount)} is cancelled"
                        ],
                        ref=prior.ref,
                    )
                )

    remaining_bonus = terms.bonus_cap
    for level in levels:
        outcome = outcomes.get(level.key, Outcome(None, None))
        if level.bonus_target is None or level.bonus_pct <= 0 or outcome.value is None:
            continue
        if not beats(level.direction, outcome.value, level.bonus_target):
            continue
        amount = money(terms.monthly_fee * level.bonus_pct / HUNDRED)
        why = [
            f"beat the bonus target {level.bonus_target.normalize():f} with {outcome.value.normalize():f}: "
            f"{pct(level.bonus_pct)} × {hkd(terms.monthly_fee)} = {hkd(amount)}"
        ]
        capped = min(amount, remaining_bonus)
        if capped < amount:
            why.append(f"cut to {hkd(capped)}: bonuses are capped at {hkd(terms.bonus_cap)} a month")
        remaining_bonus -= capped
        if capped > 0:
            proposals.append(Proposal(BONUS, level.key, amount, capped, why))
    return Settlement(proposals, chronic, notes)
