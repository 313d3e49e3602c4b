"""Server-side SVG charts for the service report, in the style of ``kpis.charts``.

Trend lines of any scale (minutes, %, counts) and bar charts (the first-response distribution,
attainment by team, agent or vendor). Presentation attributes only: nothing for the CSP to allow.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from kpis.charts import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH

LINE_COLOURS = ("#0b5cad", "#b35900", "#1a7f37", "#8250df")


def _svg(title: str, parts: list[SafeString]) -> SafeString:
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


def _scale(values: Sequence[Decimal | None]) -> Decimal:
    top = max((v for v in values if v is not None), default=Decimal(0))
    return top * Decimal("1.1") if top > 0 else Decimal(1)


def _axis(parts: list[SafeString], top: Decimal, unit: str) -> None:
    plot_h = HEIGHT - TOP - BOTTOM
    for i in range(5):
        value = top * i / 4
        y = round(TOP + plot_h * (1 - i / 4), 1)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d8dee4"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#5b6875">{}</text>',
                LEFT,
                WIDTH - RIGHT,
                y,
                y,
                LEFT - 4,
                y + 3,
                f"{value:.0f}",
            )
        )
    parts.append(format_html('<text x="4" y="{}" font-size="10" fill="#5b6875">{}</text>', HEIGHT - 4, unit))


def line_chart(
    labels: Sequence[str], series: Sequence[tuple[str, Sequence[Decimal | None]]], *, unit: str, title: str
) -> SafeString:
    """One line per series over LABELS (months); gaps where a month has no value."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = _scale([v for _, values in series for v in values])
    n = max(len(labels), 1)
    step = plot_w / max(n - 1, 1)
    parts: list[SafeString] = []
    _axis(parts, top, unit)

    def x(i: int) -> float:
        return round(LEFT + (i * step if n > 1 else plot_w / 2), 1)

    def y(v: Decimal) -> float:
        return round(TOP + plot_h * (1 - float(v / top)), 1)

    for index, (name, values) in enumerate(series):
        colour = LINE_COLOURS[index % len(LINE_COLOURS)]
        points = [f"{x(i)},{y(v)}" for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            parts.append(
                format_html(
                    '<polyline points="{}" fill="none" stroke="{}" stroke-width="2"/>',
                    " ".join(points),
                    colour,
                )
            )
        for i, v in enumerate(values):
            if v is not None:
                parts.append(
                    format_html(
                        '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{} {}: {}</title></circle>',
                        x(i),
                        y(v),
                        colour,
                        name,
                        labels[i],
                        v,
                    )
                )
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" fill="{}">{}</text>',
                LEFT + 8 + index * 180,
                TOP + 10,
                colour,
                name,
            )
        )
    for i, label in enumerate(labels):
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#1d2733">{}</text>',
                x(i),
                HEIGHT - BOTTOM + 16,
                label,
            )
        )
    return _svg(title, parts)


def bar_chart(
    bars: Sequence[tuple[str, Decimal | None, str]], *, unit: str, title: str, maximum: Decimal | None = None
) -> SafeString:
    """Vertical bars (label, value, link); a bar links to the tickets behind it when LINK is set."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top = maximum if maximum is not None else _scale([v for _, v, _ in bars])
    parts: list[SafeString] = []
    _axis(parts, top, unit)
    n = max(len(bars), 1)
    slot = plot_w / n
    width = max(slot * 0.7, 1)
    for i, (label, value, link) in enumerate(bars):
        x = round(LEFT + i * slot + (slot - width) / 2, 1)
        height = 0.0 if value is None else round(plot_h * float(value / top), 1)
        bar = format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="#0b5cad"><title>{}: {}</title></rect>',
            x,
            round(TOP + plot_h - height, 1),
            round(width, 1),
            height,
            label,
            "n/a" if value is None else value,
        )
        parts.append(format_html('<a href="{}">{}</a>', link, bar) if link else bar)
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="9" text-anchor="middle" fill="#1d2733">{}</text>',
                round(x + width / 2, 1),
                HEIGHT - BOTTOM + 14,
                label[:14],
            )  # fmt: skip
        )
    return _svg(title, parts)
