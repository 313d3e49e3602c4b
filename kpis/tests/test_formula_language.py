"""KPI formulas: a safe expression language over measure codes (simpleeval, never eval)."""

from decimal import Decimal

import pytest

from kpis import formula

D = Decimal
KNOWN = ["met", "breached", "solved", "reopened", "minutes"]


def value(text, **values):
    return formula.evaluate(formula.parse(text), {k: D(str(v)) for k, v in values.items()})


def test_arithmetic_is_exact_decimal():
    assert value("met / (met + breached) * 100", met=2, breached=1) == D("66.66666666666666666666666667")
    assert value("0.1 + 0.2") == D("0.3")
    assert value("round(met / 3, 2)", met=2) == D("0.67")


def test_allowed_functions_and_conditionals():
    assert value("max(min(met, 100), 0)", met=120) == D("100")
    assert value("abs(met - breached)", met=1, breached=3) == D("2")
    assert value("100 if met >= 1 else 0", met=1) == D("100")
    assert value("div(met, breached, 0)", met=1, breached=0) == D("0")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("__import__('os').system('x')", "not an allowed function"),
        ("open('/etc/passwd')", "not an allowed function"),
        ("met.__class__", "attribute access"),
        ("met[0]", "indexing"),
        ("'text' * 3", "numbers only"),
        ("[met for met in breached]", "comprehensions"),
        ("lambda: 1", "lambda"),
        ("met = 1", "not valid"),
        ("round(met, places=2)", "keyword"),
        ("met +" * 200 + "1", "at most 500 characters"),
        ("", "Write a formula"),
    ],
)
def test_anything_but_arithmetic_is_refused_with_a_clear_message(text, message):
    with pytest.raises(formula.FormulaError, match=message):
        formula.validate(text, KNOWN)


def test_unknown_measures_are_named():
    with pytest.raises(formula.FormulaError, match="Unknown measure.*nps_score, typo"):
        formula.validate("met + typo + nps_score", KNOWN)


def test_division_by_zero_at_save_time_is_an_error():
    with pytest.raises(formula.FormulaError, match="division by zero"):
        formula.validate("met / 0", KNOWN)
    with pytest.raises(formula.FormulaError, match="division by zero"):
        formula.validate("met / (breached - breached)", KNOWN)


def test_division_by_zero_at_run_time_is_not_applicable_for_that_subject():
    parsed = formula.parse("met / (met + breached) * 100")
    with pytest.raises(formula.NotApplicable, match="division by zero"):
        formula.evaluate(parsed, {"met": D(0), "breached": D(0)})


def test_a_measure_without_data_makes_the_formula_not_applicable_not_zero():
    with pytest.raises(formula.NotApplicable, match="no data for breached"):
        formula.evaluate(formula.parse("met - breached"), {"met": D(1), "breached": None})


def test_formulas_cannot_run_long_or_build_huge_numbers():
    with pytest.raises(formula.FormulaError, match="Exponents are limited"):
        formula.validate("met ** 1000", KNOWN)
    with pytest.raises(formula.FormulaError, match="too large"):
        formula.validate("9 ** 99 ** 99", KNOWN)
    with pytest.raises(formula.FormulaError, match="too large"):
        formula.validate("met * 10 ** 40", KNOWN)
    with pytest.raises(formula.FormulaError, match="too complex"):
        formula.validate("+".join(["met"] * 120), KNOWN)


def test_sample_values_let_validation_override_them_with_real_data():
    parsed = formula.validate("met / (solved - 2)", KNOWN, samples={"solved": D(10)})
    assert parsed.names == {"met", "solved"}
