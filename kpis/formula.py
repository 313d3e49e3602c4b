"""KPI formulas: a small, safe arithmetic language over measure codes.

Formulas are parsed and evaluated by simpleeval (never ``eval``), further narrowed here to
what a KPI needs:

- names are measure codes (``first_response_median``, ``tickets_solved``); nothing else;
- numbers are exact decimals; ``+ - * / // % **``, comparisons, ``and``/``or``/``not`` and
  ``a if condition else b``;
- functions: ``min``, ``max``, ``abs``, ``round(x, places)``, ``div(a, b)`` (not applicable
  when ``b`` is 0) and ``div(a, b, fallback)`` (``fallback`` when ``b`` is 0);
- no strings, attributes, subscripts, lambdas or comprehensions;
- at most 500 characters and 200 syntax nodes, exponents up to 100 and magnitudes below 10^30,
  so that no formula can run long or build huge numbers.

At run time a division by zero, or a measure without data, makes the KPI "not applicable"
for that subject, with the reason recorded; it is never scored as 0 or 100.
"""

from __future__ import annotations

import ast
import decimal
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import simpleeval

MAX_LENGTH = 500
MAX_NODES = 200
MAX_EXPONENT = 100
MAX_DIGITS_EXPONENT = 30  # |value| < 10**30

ALLOWED_FUNCTIONS = ("min", "max", "abs", "round", "div")

# Syntax a formula may use; anything else (attributes, subscripts, strings, f-strings,
# lambdas, comprehensions, assignments, imports) is refused before evaluation.
_ALLOWED_NODES: tuple[type[ast.AST], ...] = (
    ast.Expression,
    ast.Expr,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.Name,
    ast.Load,
    ast.Constant,
    ast.operator,
    ast.unaryop,
    ast.boolop,
    ast.cmpop,
)


class FormulaError(ValueError):
    """The formula cannot be accepted; the message tells the user why, in plain words."""


class NotApplicable(Exception):  # noqa: N818 (a result, not an error)
    """The formula has no meaningful value for this subject and period (reason in the message)."""


@dataclass(frozen=True)
class ParsedFormula:
    text: str
    tree: ast.expr
    names: frozenset[str]
    functions: frozenset[str]


def _context() -> decimal.Context:
    ctx = decimal.Context(prec=28, Emax=MAX_DIGITS_EXPONENT, Emin=-MAX_DIGITS_EXPONENT)
    ctx.traps[decimal.Overflow] = True
    ctx.traps[decimal.DivisionByZero] = True
    ctx.traps[decimal.InvalidOperation] = True
    return ctx


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        return Decimal(int(value))
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int | float):
        return Decimal(str(value))
    raise FormulaError(f"{value!r} is not a number")


def _power(base: Any, exponent: Any) -> Decimal:
    x, y = _to_decimal(base), _to_decimal(exponent)
    if abs(y) > MAX_EXPONENT:
        raise FormulaError(f"Exponents are limited to {MAX_EXPONENT}.")
    return x**y


def _divide(a: Any, b: Any) -> Decimal:
    x, y = _to_decimal(a), _to_decimal(b)
    if y == 0:
        raise NotApplicable("division by zero")
    return x / y


def _floor_divide(a: Any, b: Any) -> Decimal:
    x, y = _to_decimal(a), _to_decimal(b)
    if y == 0:
        raise NotApplicable("division by zero")
    return x // y


def _modulo(a: Any, b: Any) -> Decimal:
    x, y = _to_decimal(a), _to_decimal(b)
    if y == 0:
        raise NotApplicable("division by zero")
    return x % y


def _div(a: Any, b: Any, fallback: Any = None) -> Decimal:
    """div(a, b): a ÷ b, not applicable when b is 0; div(a, b, f): f when b is 0."""
    x, y = _to_decimal(a), _to_decimal(b)
    if y == 0:
        if fallback is None:
            raise NotApplicable("division by zero in div()")
        return _to_decimal(fallback)
    return x / y


def _round(value: Any, places: Any = 0) -> Decimal:
    places_int = int(_to_decimal(places))
    if not 0 <= places_int <= 10:
        raise FormulaError("round() keeps 0 to 10 decimal places.")
    return _to_decimal(value).quantize(Decimal(1).scaleb(-places_int), rounding=decimal.ROUND_HALF_UP)


def _min(*values: Any) -> Decimal:
    if not values:
        raise FormulaError("min() needs at least one value.")
    return min(_to_decimal(v) for v in values)


def _max(*values: Any) -> Decimal:
    if not values:
        raise FormulaError("max() needs at least one value.")
    return max(_to_decimal(v) for v in values)


def _abs(value: Any) -> Decimal:
    return abs(_to_decimal(value))


_FUNCTIONS: dict[str, Callable[..., Decimal]] = {
    "min": _min,
    "max": _max,
    "abs": _abs,
    "round": _round,
    "div": _div,
}

_OPERATORS: dict[type[ast.AST], Callable[..., Any]] = {
    ast.Add: lambda a, b: _to_decimal(a) + _to_decimal(b),
    ast.Sub: lambda a, b: _to_decimal(a) - _to_decimal(b),
    ast.Mult: lambda a, b: _to_decimal(a) * _to_decimal(b),
    ast.Div: _divide,
    ast.FloorDiv: _floor_divide,
    ast.Mod: _modulo,
    ast.Pow: _power,
    ast.USub: lambda a: -_to_decimal(a),
    ast.UAdd: lambda a: +_to_decimal(a),
    ast.Not: lambda a: not a,
    ast.Eq: lambda a, b: a == b,
    ast.NotEq: lambda a, b: a != b,
    ast.Gt: lambda a, b: a > b,
    ast.Lt: lambda a, b: a < b,
    ast.GtE: lambda a, b: a >= b,
    ast.LtE: lambda a, b: a <= b,
}


class _Evaluator(simpleeval.SimpleEval):  # type: ignore[misc]
    """simpleeval with decimal constants and without strings, attributes or subscripts."""

    def __init__(self, names: Mapping[str, Decimal]) -> None:
        super().__init__(operators=dict(_OPERATORS), functions=dict(_FUNCTIONS), names=dict(names))
        for node_type in (ast.Attribute, ast.Subscript, ast.Slice, ast.JoinedStr, ast.FormattedValue):
            self.nodes.pop(node_type, None)

    def _eval_constant(self, node: ast.Constant) -> Any:
        value = node.value
        if isinstance(value, bool):
            return value
        if isinstance(value, int | float):
            return _to_decimal(value)
        raise FormulaError("Formulas work with numbers only; text is not allowed.")


def _describe(node: ast.AST) -> str:
    return {
        ast.Attribute: "attribute access (a.b)",
        ast.Subscript: "indexing (a[b])",
        ast.Lambda: "lambda",
        ast.JoinedStr: "text",
        ast.ListComp: "comprehensions",
        ast.GeneratorExp: "comprehensions",
        ast.List: "lists",
        ast.Tuple: "tuples",
        ast.Dict: "dictionaries",
        ast.Set: "sets",
    }.get(type(node), type(node).__name__)


@lru_cache(maxsize=2048)
def parse(text: str) -> ParsedFormula:
    """Check the formula's shape (length, syntax, allowed constructs); names are checked later."""
    cleaned = (text or "").strip()
    if not cleaned:
        raise FormulaError("Write a formula, e.g. met / (met + breached) * 100.")
    if len(cleaned) > MAX_LENGTH:
        raise FormulaError(f"A formula may be at most {MAX_LENGTH} characters long.")
    try:
        tree = ast.parse(cleaned, mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"The formula is not valid: {exc.msg} (column {exc.offset}).") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise FormulaError(f"The formula is too complex (more than {MAX_NODES} parts).")
    functions: set[str] = set()
    call_targets: set[int] = set()
    for node in nodes:
        if not isinstance(node, _ALLOWED_NODES):
            raise FormulaError(f"Formulas may not use {_describe(node)}.")
        if isinstance(node, ast.Constant) and (
            node.value is None or not isinstance(node.value, bool | int | float)
        ):
            raise FormulaError("Formulas work with numbers only; text is not allowed.")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
                called = node.func.id if isinstance(node.func, ast.Name) else _describe(node.func)
                raise FormulaError(
                    f"“{called}” is not an allowed function; use one of {', '.join(ALLOWED_FUNCTIONS)}."
                )
            if node.keywords:
                raise FormulaError("Functions take plain values, not keyword arguments.")
            functions.add(node.func.id)
            call_targets.add(id(node.func))
    names = {node.id for node in nodes if isinstance(node, ast.Name) and id(node) not in call_targets}
    return ParsedFormula(cleaned, tree.body, frozenset(names), frozenset(functions))


def check_names(parsed: ParsedFormula, known: Iterable[str]) -> None:
    """Every name in the formula must be a known measure code."""
    unknown = sorted(parsed.names - set(known))
    if unknown:
        raise FormulaError(f"Unknown measure(s): {', '.join(unknown)}.")


def evaluate(parsed: ParsedFormula, values: Mapping[str, Decimal | None]) -> Decimal:
    """The formula's value for one subject. Raises NotApplicable or FormulaError."""
    missing = sorted(name for name in parsed.names if values.get(name) is None)
    if missing:
        raise NotApplicable(f"no data for {', '.join(missing)}")
    names = {name: _to_decimal(values[name]) for name in parsed.names}
    evaluator = _Evaluator(names)
    with decimal.localcontext(_context()):
        try:
            result = evaluator._eval(parsed.tree)
        except NotApplicable:
            raise
        except FormulaError:
            raise
        except decimal.Overflow:
            raise FormulaError(f"The result is too large (limit 10^{MAX_DIGITS_EXPONENT}).") from None
        except (decimal.DivisionByZero, ZeroDivisionError):
            raise NotApplicable("division by zero") from None
        except decimal.InvalidOperation:
            raise NotApplicable("the calculation has no defined value (e.g. 0 ÷ 0)") from None
        except simpleeval.InvalidExpression as exc:
            raise FormulaError(f"The formula cannot be evaluated: {exc}") from None
        except (TypeError, ValueError, RecursionError) as exc:
            raise FormulaError(f"The formula cannot be evaluated: {exc}") from None
        value = _to_decimal(result)
        if not value.is_finite():
            raise NotApplicable("the result is not a finite number")
        return +value  # round to the context's precision


def sample_values(names: Iterable[str]) -> dict[str, Decimal]:
    """Distinct non-zero sample values (2, 3, 5, 7, …) used to test a formula before saving."""
    primes = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71]
    return {
        name: Decimal(primes[i % len(primes)] + 100 * (i // len(primes)))
        for i, name in enumerate(sorted(names))
    }


def validate(
    text: str, known: Iterable[str], samples: Mapping[str, Decimal | None] | None = None
) -> ParsedFormula:
    """Full check on save: shape, names, and an evaluation with sample values.

    Raises FormulaError with a message for the user; a division by zero with the sample
    values is an error here (at run time it only makes one subject not applicable).
    """
    parsed = parse(text)
    check_names(parsed, known)
    values: dict[str, Decimal | None] = dict(sample_values(parsed.names))
    if samples:
        values.update({k: v for k, v in samples.items() if k in parsed.names and v is not None})
    try:
        evaluate(parsed, values)
    except NotApplicable as exc:
        raise FormulaError(f"With sample values the formula gives no result: {exc}.") from None
    return parsed
