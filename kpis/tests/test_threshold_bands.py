"""Threshold bands: 2–5, lower bound included, upper excluded, covering the scale, one target band."""

from decimal import Decimal

import pytest

from kpis.scoring import (
    Band,
    BandError,
    StandingBand,
    band_for,
    standing_for,
    validate_bands,
    validate_standings,
)

D = Decimal


def b(label, lower, upper, score, target=False):
    return Band(
        label, None if lower is None else D(lower), None if upper is None else D(upper), D(score), target
    )


GOOD = [b("Missed", None, "90", 0), b("Near", "90", "95", 60), b("Met", "95", None, 100, True)]


def test_a_value_on_a_boundary_belongs_to_the_upper_band():
    bands = validate_bands(GOOD, direction="higher", target=D("95"))
    assert band_for(bands, D("89.999")).label == "Missed"
    assert band_for(bands, D("90")).label == "Near"
    assert band_for(bands, D("95")).label == "Met"
    assert band_for(bands, D("-1000000")).label == "Missed"


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        ([b("Only", None, None, 100, True)], "2 to 5"),
        (
            [b("A", None, "1", 0)]
            + [b(str(i), str(i), str(i + 1), 50) for i in range(1, 5)]
            + [b("Z", "5", None, 100, True)],
            "2 to 5",
        ),
        (
            [b("Missed", None, "90", 0), b("Met", "91", None, 100, True)],
            "Values from 90 to 91 fall in no band",
        ),
        ([b("Missed", None, "92", 0), b("Met", "90", None, 100, True)], "overlap between 90 and 92"),
        (
            [b("Missed", "0", "90", 0), b("Met", "90", None, 100, True)],
            "lowest band must have no lower bound",
        ),
        (
            [b("Missed", None, "90", 0), b("Met", "90", "100", 100, True)],
            "highest band must have no upper bound",
        ),
        ([b("Missed", None, "90", 0), b("Met", "90", None, 100)], "exactly one band as the target"),
        ([b("Missed", None, "90", 100), b("Met", "90", None, 0, True)], "must not fall as values rise"),
        ([b("Missed", None, "90", 0), b("Met", "90", None, 120, True)], "between 0 and 100"),
    ],
)
def test_bad_bands_are_refused_with_the_rule_they_break(bands, message):
    with pytest.raises(BandError, match=message):
        validate_bands(bands, direction="higher", target=None)


def test_the_target_lies_in_the_target_band():
    with pytest.raises(BandError, match="target 80 must lie in the target band"):
        validate_bands(GOOD, direction="higher", target=D("80"))


def test_lower_is_better_scores_fall_as_values_rise():
    bands = [b("Fast", None, "60", 100, True), b("Slow", "60", None, 0)]
    assert validate_bands(bands, direction="lower", target=D("60") - 1)[0].label == "Fast"
    with pytest.raises(BandError, match="must not rise"):
        validate_bands(
            [b("Fast", None, "60", 0, True), b("Slow", "60", None, 100)], direction="lower", target=None
        )


def s(name, lower, upper):
    return StandingBand(name, D(lower), D(upper))


def test_standings_cover_zero_to_hundred_without_gap_or_overlap():
    standings = validate_standings([s("Poor", 0, 50), s("Fair", 50, 80), s("Good", 80, 100)])
    names = [
        getattr(standing_for(standings, D(score)), "name", None) for score in ("0", "50", "79.99", "100")
    ]
    assert names == ["Poor", "Fair", "Fair", "Good"]
    for bad, message in [
        ([s("Poor", 0, 50), s("Good", 60, 100)], "Scores from 50 to 60 have no standing"),
        ([s("Poor", 0, 70), s("Good", 60, 100)], "overlap"),
        ([s("Poor", 10, 50), s("Good", 50, 100)], "start at 0"),
        ([s("Poor", 0, 50), s("Good", 50, 90)], "end at 100"),
    ]:
        with pytest.raises(BandError, match=message):
            validate_standings(bad)
