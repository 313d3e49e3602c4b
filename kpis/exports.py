"""Period statements as CSV, XLSX (openpyxl) and PDF (reportlab), from one set of rows.

Every cell that a spreadsheet could read as a formula (starting with =, +, -, @, a tab or a
carriage return) is prefixed with an apostrophe, so an exported statement cannot run
anything when opened (CSV/formula injection).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from kpis import selectors
from kpis.credits import hkd
from kpis.models import ScorecardPeriod

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}
_DANGEROUS_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """Text that a spreadsheet would treat as a formula gets a leading apostrophe; numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_DANGEROUS_START):
        return "'" + value
    return value


def _fmt(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return value


def statement_rows(
    statement: selectors.Statement,
) -> tuple[list[list[Any]], list[list[Any]], list[list[Any]]]:
    """(summary, results, money) rows with headers, shared by the three formats."""
    period = statement.period
    scorecard = period.scorecard
    summary = [
        ["Scorecard", scorecard.name],
        ["Subject", scorecard.subject.label],
        ["Period", f"{period.label} ({period.start} to {period.last_day})"],
        ["Status", period.get_status_display()],
        ["Score", _fmt(period.score) if period.score is not None else "not applicable"],
        ["Standing", period.standing.name if period.standing else ""],
    ]
    if statement.terms is not None:
        summary += [
            ["Monthly fee", hkd(statement.terms.monthly_fee)],
            ["At-risk amount", hkd(statement.terms.monthly_fee * statement.terms.at_risk_pct / 100)],
        ]
    results = [
        [
            "KPI",
            "Version",
            "Formula",
            "Value",
            "Target",
            "Band",
            "Attainment",
            "Weight",
            "Effective weight",
            "Applicable",
            "Reason",
        ]
    ]
    for r in statement.results:
        results.append(
            [
                r.kpi.name,
                f"v{r.version.number}",
                r.version.formula,
                _fmt(r.value),
                _fmt(r.target),
                r.band_label,
                _fmt(r.attainment),
                _fmt(r.weight),
                _fmt(r.effective_weight),
                "yes" if r.applicable else "no",
                r.reason,
            ]
        )
    money = [["Kind", "KPI", "Status", "Proposed (HKD)", "Approved (HKD)", "Working"]]
    for a in statement.adjustments:
        money.append(
            [
                a.get_kind_display(),
                a.kpi.name,
                a.get_status_display(),
                _fmt(a.proposed_amount),
                _fmt(a.approved_amount),
                " / ".join(a.explanation),
            ]
        )
    money.append(["Total credits (net of earn-backs)", "", "", "", _fmt(statement.credits_total), ""])
    money.append(["Total bonuses", "", "", "", _fmt(statement.bonus_total), ""])
    return summary, results, money


def _csv(sections: Iterable[Sequence[Sequence[Any]]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for section in sections:
        for row in section:
            writer.writerow([neutralise(_fmt(cell)) for cell in row])
        writer.writerow([])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # BOM: Excel reads Chinese names correctly


def _xlsx(summary: list[list[Any]], results: list[list[Any]], money: list[list[Any]]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheets = [("Summary", summary), ("Results", results), ("Credits and bonuses", money)]
    first = book.active
    assert first is not None
    for index, (title, rows) in enumerate(sheets):
        sheet = first if index == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append([neutralise(_fmt(cell)) for cell in row])
        if title != "Summary":
            for cell in sheet[1]:
                cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Fonts with Chinese glyphs, tried in order; reportlab's built-in fonts have none, so Chinese
# names would print as boxes. Debian's fonts-wqy-microhei (installed by `make test`) or
# fonts-noto-cjk provide one; STEWARD_PDF_FONT names another.
_CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
CJK_FONT_NAME = "StewardCJK"


def _pdf_font() -> str:
    """The font name statements use: a registered CJK font when one is on the machine."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    if CJK_FONT_NAME in pdfmetrics.getRegisteredFontNames():
        return CJK_FONT_NAME
    configured = getattr(settings, "STEWARD_PDF_FONT", "")
    for path in (configured, *_CJK_FONT_FILES):
        if path and Path(path).is_file():
            try:
                pdfmetrics.registerFont(TTFont(CJK_FONT_NAME, path, subfontIndex=0))
            except Exception:  # noqa: S112 (a font that will not load: try the next one)
                continue
            return CJK_FONT_NAME
    return "Helvetica"


def _pdf(summary: list[list[Any]], results: list[list[Any]], money: list[list[Any]]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title="Steward period statement")
    font = _pdf_font()
    for style_name in ("BodyText", "Title", "Heading2", "Italic"):
        styles[style_name].fontName = font
    cell = styles["BodyText"]
    cell.fontSize = 8
    cell.leading = 10

    def table(rows: list[list[Any]], header: bool = True) -> Table:
        data = [
            [Paragraph(str(_fmt(c)).replace("&", "&amp;").replace("<", "&lt;"), cell) for c in row]
            for row in rows
        ]
        t = Table(data, repeatRows=1 if header else 0)
        style: list[Any] = [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")))
        t.setStyle(TableStyle(style))
        return t

    story = [
        Paragraph("Period statement", styles["Title"]),
        table(summary, header=False),
        Spacer(1, 12),
        Paragraph("Results", styles["Heading2"]),
        table(results),
        Spacer(1, 12),
        Paragraph("Service credits, earn-backs and bonuses (HKD)", styles["Heading2"]),
        table(money),
        Spacer(1, 12),
        Paragraph(f"Generated {timezone.localtime():%Y-%m-%d %H:%M} HKT by Steward.", styles["Italic"]),
    ]
    doc.build(story)
    return out.getvalue()


def statement_response(*, user: Any, period: ScorecardPeriod, fmt: str) -> HttpResponse:
    """The statement of PERIOD as a download; the export is recorded in the audit trail."""
    if fmt not in FORMATS:
        raise Http404
    statement = selectors.statement(user=user, period=period)
    summary, results, money = statement_rows(statement)
    if fmt == "csv":
        body = _csv([summary, results, money])
    elif fmt == "xlsx":
        body = _xlsx(summary, results, money)
    else:
        body = _pdf(summary, results, money)
    audit.record_event(
        AuditEvent.Action.EXPORT,
        object_type="kpis.scorecardperiod",
        object_id=str(period.pk),
        object_repr=str(period)[:200],
        detail={"format": fmt},
        actor=user,
    )
    response = HttpResponse(body, content_type=FORMATS[fmt])
    filename = f"statement-{period.scorecard_id}-{period.start:%Y-%m-%d}.{fmt}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
