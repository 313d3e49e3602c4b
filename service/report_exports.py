"""The service KPI report as CSV, XLSX and PDF (issue 4 item 6), with the definitions beside the numbers.

Built on ``kpis.exports``: every text cell goes through ``neutralise`` (a leading =, +, -, @,
tab or carriage return gets an apostrophe), so an agent or team name such as ``=HYPERLINK(…)``
cannot run as a formula when the file is opened; PDFs use the same CJK-capable font.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.http import Http404, HttpResponse
from django.utils import timezone

from core import audit
from core.models import AuditEvent
from kpis.exports import FORMATS, _pdf_font, neutralise
from service.reports import FIGURES, Report

Sheet = tuple[str, list[list[Any]]]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return value


def report_sheets(report: Report) -> list[Sheet]:
    """(title, rows) per sheet: summary and rules, the figures per group, vendors, definitions."""
    summary = [
        ["Report", "Customer service KPIs"],
        ["Period", f"{report.period.label} ({report.period.start} to {report.period.end})"],
        ["Grouped by", report.group_by],
        ["Filters", ", ".join(f"{k}={v}" for k, v in report.filters.as_params().items()) or "none"],
        ["Rules", report.rules.statement()],
    ]
    header = ["Group", *(f"{f.label} ({f.unit})" for f in FIGURES)]

    def table(rows: list[Any]) -> list[list[Any]]:
        out = [header]
        for row in rows:
            out.append([row.label, *(_cell(row.figures[f.code].value) for f in FIGURES)])
        return out

    figures = table([*report.rows, report.total])
    vendors = table(report.vendors)
    definitions = [["Figure", "Definition"], *([f.label, f.definition] for f in FIGURES)]
    return [
        ("Summary", summary),
        ("Figures", figures),
        ("In-house vs vendors", vendors),
        ("Definitions", definitions),
    ]


def to_csv(sheets: list[Sheet]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    for title, rows in sheets:
        writer.writerow([title])
        for row in rows:
            writer.writerow([neutralise(str(c)) if not isinstance(c, int | float) else c for c in row])
        writer.writerow([])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(sheets: list[Sheet]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    first = book.active
    assert first is not None
    for index, (title, rows) in enumerate(sheets):
        sheet = first if index == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append([neutralise(c) if isinstance(c, str) else c for c in row])
        if title != "Summary":
            for cell in sheet[1]:
                cell.font = Font(bold=True)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def to_pdf(sheets: list[Sheet]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A3, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    font = _pdf_font()
    for name in ("BodyText", "Title", "Heading2", "Italic"):
        styles[name].fontName = font
    cell = styles["BodyText"]
    cell.fontSize = 7
    cell.leading = 9
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A3), title="Steward customer-service KPI report")
    story: list[Any] = [Paragraph("Customer-service KPI report", styles["Title"])]
    for title, rows in sheets:
        data = [
            [Paragraph(str(c).replace("&", "&amp;").replace("<", "&lt;"), cell) for c in row] for row in rows
        ]
        t = Table(data, repeatRows=1)
        t.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
                ]
            )
        )
        story += [Paragraph(title, styles["Heading2"]), t, Spacer(1, 10)]
    story.append(
        Paragraph(f"Generated {timezone.localtime():%Y-%m-%d %H:%M} HKT by Steward.", styles["Italic"])
    )
    doc.build(story)
    return out.getvalue()


def render(report: Report, fmt: str) -> bytes:
    sheets = report_sheets(report)
    if fmt == "csv":
        return to_csv(sheets)
    if fmt == "xlsx":
        return to_xlsx(sheets)
    return to_pdf(sheets)


def report_response(*, user: Any, report: Report, fmt: str) -> HttpResponse:
    """The report as a download; the export is recorded in the audit trail."""
    if fmt not in FORMATS:
        raise Http404
    body = render(report, fmt)
    audit.record_event(
        AuditEvent.Action.EXPORT,
        object_type="service.report",
        object_repr=f"Service KPIs {report.period.label} by {report.group_by}"[:200],
        detail={"format": fmt, "period": report.period.label, "filters": report.filters.as_params()},
        actor=user,
    )
    response = HttpResponse(body, content_type=FORMATS[fmt])
    filename = f"service-kpis-{report.period.label}-{report.group_by}.{fmt}".replace("..", "_")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
