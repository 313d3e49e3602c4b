"""The contract arithmetic of PRODUCT.md §2, reproduced exactly (pure functions, Decimal HKD)."""

from decimal import Decimal

from kpis.credits import BONUS, CREDIT, EARN_BACK, Outcome, PriorCredit, ServiceLevel, Terms, Tier, settle

D = Decimal
FEE = D("100000")  # HK$100,000 a month


def terms(**overrides):
    return Terms(monthly_fee=FEE, at_risk_pct=D("10"), **overrides)


def level(key, allocation, **kw):
    return ServiceLevel(key=key, label=f"SL {key}", direction="higher", allocation_pct=D(allocation), **kw)


def missed(value="90", target="95"):
    return Outcome(D(value), D(target))


def met(value="99", target="95"):
    return Outcome(D(value), D(target))


def test_at_risk_amount_is_ten_percent_of_the_monthly_fee():
    assert terms().at_risk_amount == D("10000.00")


def test_product_example_fifty_percent_pool_forty_percent_allocation_is_two_thousand():
    settlement = settle(
        terms(pool_pct=D("50")), [level("a", "40"), level("b", "60")], {"a": missed(), "b": met()}
    )
    assert [(p.kind, p.key, p.amount) for p in settlement.proposals] == [(CREDIT, "a", D("2000.00"))]
    assert (
        "50% × allocation 40% × at-risk HK$10,000.00 = HK$2,000.00" in settlement.proposals[0].explanation[0]
    )


def test_met_and_not_applicable_service_levels_carry_no_credit():
    settlement = settle(
        terms(), [level("a", "50"), level("b", "50")], {"a": met(), "b": Outcome(None, D("95"))}
    )
    assert settlement.proposals == []


def test_credits_in_a_month_never_exceed_the_at_risk_amount():
    # Pool 250%: three misses at 40% + 40% + 20% of the pool would be 25,000; the cap keeps 10,000.
    levels = [level("a", "40"), level("b", "40"), level("c", "20")]
    settlement = settle(terms(pool_pct=D("250")), levels, {k: missed() for k in "abc"})
    amounts = [(p.key, p.computed_amount, p.amount) for p in settlement.proposals]
    assert amounts == [
        ("a", D("10000.00"), D("10000.00")),
        ("b", D("10000.00"), D("0.00")),
        ("c", D("5000.00"), D("0.00")),
    ]
    assert settlement.credits_total == D("10000.00")


def test_tiered_credits_take_the_worst_tier_reached_as_a_share_of_the_fee():
    tiers = (Tier(D("99.9"), D("10")), Tier(D("99"), D("25")), Tier(D("95"), D("50")))
    sl = level("uptime", "100", tiers=tiers)
    big_cap = Terms(monthly_fee=FEE, at_risk_pct=D("100"))
    assert settle(big_cap, [sl], {"uptime": Outcome(D("99.95"), D("99.9"))}).proposals == []
    assert settle(big_cap, [sl], {"uptime": Outcome(D("99.5"), D("99.9"))}).proposals[0].amount == D(
        "10000.00"
    )
    assert settle(big_cap, [sl], {"uptime": Outcome(D("98"), D("99.9"))}).proposals[0].amount == D("25000.00")
    assert settle(big_cap, [sl], {"uptime": Outcome(D("90"), D("99.9"))}).proposals[0].amount == D("50000.00")
    # ...and still capped at the at-risk amount (10% of the fee).
    assert settle(terms(), [sl], {"uptime": Outcome(D("90"), D("99.9"))}).proposals[0].amount == D("10000.00")


def test_repeat_misses_in_the_rolling_window_escalate_five_to_ten_to_fifteen_percent():
    t = terms(pool_pct=D("100"), escalation_window=6, escalation_multipliers=(D("1"), D("2"), D("3")))
    sl = level("a", "5")  # 5% of the pool = HK$500 for a first miss
    first = settle(t, [sl], {"a": missed()}, {"a": [met()] * 5})
    second = settle(t, [sl], {"a": missed()}, {"a": [missed(), met(), met()]})
    third = settle(t, [sl], {"a": missed()}, {"a": [missed(), met(), missed()]})
    outside_window = settle(t, [sl], {"a": missed()}, {"a": [met()] * 5 + [missed()]})
    assert [s.proposals[0].amount for s in (first, second, third, outside_window)] == [
        D("500.00"),
        D("1000.00"),
        D("1500.00"),
        D("500.00"),
    ]


def test_earn_back_cancels_a_credit_when_the_higher_target_is_met_in_each_following_period():
    t = terms(pool_pct=D("50"), earn_back_periods=2)
    sl = level("a", "40", earn_back_target=D("97"))
    prior = [PriorCredit("a", periods_ago=2, amount=D("2000.00"), ref=41)]
    earned = settle(t, [sl], {"a": Outcome(D("98"), D("95"))}, {"a": [Outcome(D("97.5"), D("95"))]}, prior)
    assert [(p.kind, p.amount, p.ref) for p in earned.proposals] == [(EARN_BACK, D("-2000.00"), 41)]
    # Meeting only the ordinary target in one of the periods since does not earn it back.
    not_earned = settle(t, [sl], {"a": Outcome(D("98"), D("95"))}, {"a": [Outcome(D("96"), D("95"))]}, prior)
    assert not_earned.proposals == []
    # Too early: the credit is only one period old.
    early = settle(t, [sl], {"a": Outcome(D("98"), D("95"))}, {}, [PriorCredit("a", 1, D("2000.00"))])
    assert early.proposals == []


def test_bonuses_only_for_beating_the_bonus_target_and_capped_each_month():
    t = terms(bonus_cap_pct=D("3"))  # at most HK$3,000
    levels = [
        level("a", "50", bonus_target=D("98"), bonus_pct=D("2")),
        level("b", "50", bonus_target=D("98"), bonus_pct=D("2")),
    ]
    settlement = settle(t, levels, {"a": Outcome(D("99"), D("95")), "b": Outcome(D("99.5"), D("95"))})
    assert [(p.kind, p.amount) for p in settlement.proposals] == [
        (BONUS, D("2000.00")),
        (BONUS, D("1000.00")),
    ]
    equal_is_not_beating = settle(t, levels[:1], {"a": Outcome(D("98"), D("95"))})
    assert equal_is_not_beating.proposals == []


def test_four_misses_in_twelve_months_is_a_chronic_failure():
    t = terms(chronic_misses=4, chronic_window=12)
    sl = level("a", "100")
    three = settle(t, [sl], {"a": missed()}, {"a": [missed(), met(), missed()] + [met()] * 8})
    four = settle(t, [sl], {"a": missed()}, {"a": [missed(), met(), missed()] + [met()] * 7 + [missed()]})
    thirteen_months_ago = settle(
        t, [sl], {"a": missed()}, {"a": [missed(), missed()] + [met()] * 9 + [missed()]}
    )
    assert three.chronic == [] and thirteen_months_ago.chronic == []
    assert four.chronic == ["a"]
    assert "4 misses in the last 12 periods" in four.notes[0]


def test_lower_is_better_service_levels_miss_when_above_target():
    sl = ServiceLevel("frt", "First response", "lower", D("100"))
    assert settle(terms(), [sl], {"frt": Outcome(D("61"), D("60"))}).proposals[0].amount == D("10000.00")
    assert settle(terms(), [sl], {"frt": Outcome(D("60"), D("60"))}).proposals == []


def test_money_rounds_half_up_to_cents():
    t = Terms(monthly_fee=D("33333.33"), at_risk_pct=D("10"), pool_pct=D("100"))
    assert t.at_risk_amount == D("3333.33")
    settlement = settle(t, [level("a", "33.33")], {"a": missed()})
    assert settlement.proposals[0].amount == D("1111.00")  # 0.3333 × 3333.33 = 1110.999… → 1111.00
