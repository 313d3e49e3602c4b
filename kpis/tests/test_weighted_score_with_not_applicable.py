"""ERPNext-style period score: Σ score × weight ÷ 100, re-normalised when some KPIs are not applicable."""

from decimal import Decimal

from kpis.scoring import WeightedScore, period_score

D = Decimal


def test_all_applicable_is_the_plain_weighted_sum_over_100():
    score, effective = period_score(
        [WeightedScore(D("100"), D("40")), WeightedScore(D("60"), D("30")), WeightedScore(D("0"), D("30"))]
    )
    assert score == D("58.00")  # (100×40 + 60×30 + 0×30) / 100
    assert effective == {0: D("40.00"), 1: D("30.00"), 2: D("30.00")}


def test_a_not_applicable_kpi_drops_out_and_the_others_are_reweighted():
    score, effective = period_score(
        [WeightedScore(D("100"), D("40")), WeightedScore(D("60"), D("30")), WeightedScore(None, D("30"))]
    )
    assert score == D("82.86")  # (100×40 + 60×30) / 70, not /100 (which would punish no activity)
    assert effective == {0: D("57.14"), 1: D("42.86")}


def test_no_applicable_kpi_means_no_score_not_zero():
    assert period_score([WeightedScore(None, D("50")), WeightedScore(None, D("50"))]) == (None, {})
