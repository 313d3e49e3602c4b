"""Small display helpers for the KPI pages."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils.safestring import SafeString

from kpis import charts, credits

register = template.Library()


@register.filter
def num(value: Any) -> str:
    """A decimal without trailing zeros (92.000000 → 92); blank for None."""
    if value is None or value == "":
        return ""
    try:
        return f"{Decimal(str(value)).normalize():f}"
    except InvalidOperation:
        return str(value)


@register.filter
def hkd(value: Any) -> str:
    if value is None or value == "":
        return ""
    return credits.hkd(Decimal(str(value)))


@register.filter
def swatch(standing: Any) -> SafeString:
    if not getattr(standing, "colour", None):
        return SafeString("")
    return charts.swatch(standing.colour, standing.name)


@register.filter
def get(mapping: Any, key: Any) -> Any:
    try:
        return mapping.get(key)
    except AttributeError:
        return None
