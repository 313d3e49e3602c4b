"""Server-rendered SVG charts: no JavaScript library, no CDN, nothing for the CSP to allow.

Colours are SVG presentation attributes (``fill``, ``stroke``), not inline CSS, so the strict
Content-Security-Policy needs no exception.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 40, 16, 12, 36
COLOUR_PATTERN_LENGTH = 7


def _colour(value: str) -> str:
    # Colours come from validated Standing rows (#rrggbb); anything else falls back to grey.
    ok = (
        len(value) == COLOUR_PATTERN_LENGTH
        and value.startswith("#")
        and all(c in "0123456789abcdefABCDEF" for c in value[1:])
    )
    return value if ok else "#5b6875"


def score_chart(
    points: Sequence[tuple[str, Decimal | None, str]],
    bands: Sequence[tuple[str, Decimal, Decimal, str]] = (),
    title: str = "Score over time",
) -> SafeString:
    """A line of period scores (0–100) over coloured standing bands; gaps where a period had no score."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(points), 1)
    step = plot_w / max(n - 1, 1)

    def x(i: int) -> float:
        return round(LEFT + (i * step if n > 1 else plot_w / 2), 1)

    def y(score: Decimal) -> float:
        return round(TOP + plot_h * (1 - float(score) / 100), 1)

    parts: list[SafeString] = []
    for name, lower, upper, colour in bands:
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" fill-opacity="0.12">'
                "<title>{}</title></rect>",
                LEFT,
                y(upper),
                plot_w,
                round(y(lower) - y(upper), 1),
                _colour(colour),
                name,
            )
        )
    for tick in (0, 25, 50, 75, 100):
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d8dee4"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#5b6875">{}</text>',
                LEFT,
                LEFT + plot_w,
                y(Decimal(tick)),
                y(Decimal(tick)),
                LEFT - 6,
                y(Decimal(tick)) + 3,
                tick,
            )
        )
    segment: list[str] = []
    segments: list[list[str]] = []
    for i, (_, score, _) in enumerate(points):
        if score is None:
            if segment:
                segments.append(segment)
            segment = []
            continue
        segment.append(f"{x(i)},{y(score)}")
    if segment:
        segments.append(segment)
    for seg in segments:
        parts.append(
            format_html(
                '<polyline points="{}" fill="none" stroke="#0b5cad" stroke-width="2"/>', " ".join(seg)
            )
        )
    for i, (label, score, colour) in enumerate(points):
        if score is not None:
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="4" fill="{}" stroke="#1d2733"><title>{}: {}</title></circle>',
                    x(i),
                    y(score),
                    _colour(colour),
                    label,
                    score,
                )
            )
        else:
            parts.append(
                format_html(
                    '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#5b6875">n/a</text>',
                    x(i),
                    TOP + plot_h / 2,
                )
            )
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#1d2733">{}</text>',
                x(i),
                HEIGHT - BOTTOM + 16,
                label,
            )
        )
    body = format_html_join("", "{}", ((p,) for p in parts))
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" role="img" aria-label="{}" xmlns="http://www.w3.org/2000/svg">'
        "<title>{}</title>{}</svg>",
        WIDTH,
        HEIGHT,
        title,
        title,
        body,
    )


def swatch(colour: str, label: str = "") -> SafeString:
    """A small coloured dot for a standing (an SVG, so no inline style is needed)."""
    return format_html(
        '<svg class="swatch" width="12" height="12" viewBox="0 0 12 12" aria-hidden="true">'
        '<circle cx="6" cy="6" r="5" fill="{}"/></svg>{}',
        _colour(colour),
        label,
    )
