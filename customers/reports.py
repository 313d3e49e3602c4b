"""Sales-activity reports (issue 7 item 10; seed 003 §3 "prepare reports to provide results of
sales activity monitoring").

Every figure is read from the rollup tables (:class:`SalesMonth`, :class:`CohortMonth`,
:class:`SegmentMovement`) and :class:`CustomerMetrics`, never by rescanning orders, so a report
costs the same few queries at 100,000 orders as at 10 million. Top customers go through the
masking helper. Exports (CSV, XLSX, PDF) neutralise cells a spreadsheet would run as formulas.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import EmailMessage
from django.db.models import Case, F, IntegerField, Max, Min, Sum, When
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from accounts.models import User
from accounts.roles import CRM_STAFF, MARKETING
from core import audit
from core.models import AuditEvent
from customers.analytics import SEGMENT_LABELS
from customers.masking import mask_customer
from customers.models import ALL, Channel, CohortMonth, CustomerMetrics, SalesMonth, SegmentMovement
from kpis.exports import FORMATS, neutralise

TOP_CUSTOMERS = 10
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff]")
DEFAULT_MONTHS = 12


def month_start(day: date) -> date:
    return day.replace(day=1)


def add_months(month: date, count: int) -> date:
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class ReportFilter:
    """First and last month (inclusive), a channel and a category; empty means all."""

    start: date | None = None
    end: date | None = None
    channel: str = ""
    category: str = ""


@dataclass
class SalesReport:
    start: date
    end: date
    channel: str
    category: str
    monthly: list[dict[str, Any]] = field(default_factory=list)
    by_channel: list[dict[str, Any]] = field(default_factory=list)
    by_category: list[dict[str, Any]] = field(default_factory=list)
    cohorts: list[dict[str, Any]] = field(default_factory=list)
    cohort_offsets: list[int] = field(default_factory=list)
    movements: list[dict[str, Any]] = field(default_factory=list)
    top_customers: list[dict[str, Any]] = field(default_factory=list)
    totals: dict[str, Any] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.monthly


def _net(row: dict[str, Any]) -> dict[str, Any]:
    revenue = row.get("revenue") or Decimal(0)
    refunds = row.get("refunds") or Decimal(0)
    row["revenue"] = Decimal(revenue).quantize(Decimal("0.01"))
    row["refunds"] = Decimal(refunds).quantize(Decimal("0.01"))
    row["net"] = row["revenue"] - row["refunds"]
    return row


def available_months(user: Any) -> tuple[date | None, date | None]:
    span = SalesMonth.objects.restrict(user).aggregate(first=Min("month"), last=Max("month"))
    return span["first"], span["last"]


def sales_report(*, user: Any, filters: ReportFilter) -> SalesReport:
    """The report for USER: needs ``customers.view_salesmonth``; top customers need
    ``customers.view_customer`` and are masked per role."""
    if not user.has_perm("customers.view_salesmonth"):
        raise PermissionDenied
    rows = SalesMonth.objects.restrict(user)
    first, last = available_months(user)
    end = month_start(filters.end) if filters.end else (last or month_start(timezone.localdate()))
    start = month_start(filters.start) if filters.start else add_months(end, -(DEFAULT_MONTHS - 1))
    if first and not filters.start and start < first:
        start = first
    if start > end:
        start, end = end, start
    report = SalesReport(start=start, end=end, channel=filters.channel, category=filters.category)
    in_range = rows.filter(month__gte=start, month__lte=end)
    channel = filters.channel or ALL
    category = filters.category or ALL
    fields = ("orders", "revenue", "refunds", "customers")
    monthly = in_range.filter(channel=channel, category=category).order_by("month").values("month", *fields)
    new_returning = {
        r["month"]: r
        for r in CohortMonth.objects.restrict(user)
        .filter(month__gte=start, month__lte=end)
        .values("month")
        .annotate(
            new=Sum(Case(When(cohort=F("month"), then="customers"), default=0, output_field=IntegerField())),
            returning=Sum(
                Case(When(cohort__lt=F("month"), then="customers"), default=0, output_field=IntegerField())
            ),
        )
    }
    for row in monthly:
        nr = new_returning.get(row["month"], {})
        report.monthly.append(_net({**row, "new": nr.get("new", 0), "returning": nr.get("returning", 0)}))
    report.by_channel = [
        _net(r)
        for r in in_range.filter(category=category)
        .exclude(channel=ALL)
        .values("channel")
        .annotate(orders=Sum("orders"), revenue=Sum("revenue"), refunds=Sum("refunds"))
        .order_by("-revenue")
    ]
    labels = dict(Channel.choices)
    for r in report.by_channel:
        r["label"] = labels.get(r["channel"], r["channel"])
    report.by_category = [
        _net(r)
        for r in in_range.filter(channel=channel)
        .exclude(category=ALL)
        .values("category")
        .annotate(orders=Sum("orders"), revenue=Sum("revenue"), refunds=Sum("refunds"))
        .order_by("-revenue")
    ]
    report.totals = _net(
        {
            "orders": sum(r["orders"] for r in report.monthly),
            "revenue": sum((r["revenue"] for r in report.monthly), Decimal(0)),
            "refunds": sum((r["refunds"] for r in report.monthly), Decimal(0)),
            "new": sum(r["new"] for r in report.monthly),
        }
    )
    _cohorts(user, report)
    report.movements = [
        {
            **m,
            "from_label": SEGMENT_LABELS.get(m["from_segment"], m["from_segment"]),
            "to_label": SEGMENT_LABELS.get(m["to_segment"], m["to_segment"]),
        }
        for m in SegmentMovement.objects.restrict(user)
        .exclude(from_segment=F("to_segment"))
        .values("from_segment", "to_segment", "customers")
        .order_by("-customers")[:20]
    ]
    if user.has_perm("customers.view_customer"):
        # Walks the (lifetime value, customer) index from the top: the cost does not grow with
        # the number of customers. Anonymised customers are left out.
        top = (
            CustomerMetrics.objects.restrict(user)
            .filter(customer__anonymised_at__isnull=True)
            .select_related("customer")
            .order_by("-lifetime_value", "customer_id")[:TOP_CUSTOMERS]
        )
        report.top_customers = [
            {
                **mask_customer(user, m.customer),
                "lifetime_value": m.lifetime_value,
                "orders": m.orders_count,
                "segment": SEGMENT_LABELS.get(m.segment, m.segment),
            }
            for m in top
        ]
    return report


def _cohorts(user: Any, report: SalesReport) -> None:
    """Monthly cohorts starting in the range: size, and the share still ordering k months later."""
    cells = (
        CohortMonth.objects.restrict(user)
        .filter(cohort__gte=report.start, cohort__lte=report.end, month__lte=report.end)
        .values_list("cohort", "month", "customers")
    )
    grid: dict[date, dict[int, int]] = {}
    for cohort, month, customers in cells:
        offset = (month.year - cohort.year) * 12 + month.month - cohort.month
        grid.setdefault(cohort, {})[offset] = customers
    width = (report.end.year - report.start.year) * 12 + report.end.month - report.start.month + 1
    report.cohort_offsets = list(range(min(width, 12)))
    for cohort in sorted(grid):
        size = grid[cohort].get(0, 0)
        shares: list[int | None] = []
        for offset in report.cohort_offsets:
            if add_months(cohort, offset) > report.end:
                shares.append(None)
            else:
                count = grid[cohort].get(offset, 0)
                shares.append(round(100 * count / size) if size else 0)
        report.cohorts.append({"cohort": cohort, "size": size, "shares": shares})


# --- Charts (server-side SVG, as kpis.charts) ----------------------------------------------------

WIDTH, HEIGHT = 720, 240
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 12, 36


def revenue_chart(
    points: Sequence[tuple[str, Decimal, str]], title: str = "Net revenue by month (HKD)"
) -> SafeString:
    """Bars of monthly net revenue; each bar links to the month's orders (drill-down)."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    n = max(len(points), 1)
    top = max([float(v) for _, v, _ in points] + [1.0])
    slot = plot_w / n
    parts: list[SafeString] = []
    for fraction in (0, 0.25, 0.5, 0.75, 1):
        y = round(TOP + plot_h * (1 - fraction), 1)
        parts.append(
            format_html(
                '<line x1="{}" x2="{}" y1="{}" y2="{}" stroke="#d8dee4"/>'
                '<text x="{}" y="{}" font-size="10" text-anchor="end" fill="#5b6875">{}</text>',
                LEFT,
                LEFT + plot_w,
                y,
                y,
                LEFT - 6,
                y + 3,
                f"{top * fraction:,.0f}",
            )
        )
    for i, (label, value, url) in enumerate(points):
        height = max(0.0, float(value)) / top * plot_h
        x = round(LEFT + i * slot + slot * 0.15, 1)
        bar = format_html(
            '<rect x="{}" y="{}" width="{}" height="{}" fill="#0b5cad"><title>{}: HK${}</title></rect>',
            x,
            round(TOP + plot_h - height, 1),
            round(slot * 0.7, 1),
            round(height, 1),
            label,
            f"{value:,.2f}",
        )
        parts.append(format_html('<a href="{}">{}</a>', url, bar) if url else bar)
        parts.append(
            format_html(
                '<text x="{}" y="{}" font-size="10" text-anchor="middle" fill="#1d2733">{}</text>',
                round(LEFT + i * slot + slot / 2, 1),
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


# --- Exports -------------------------------------------------------------------------------------


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, str):
        # Control characters have no place in a report and XLSX cannot hold them at all.
        return _CONTROL.sub("", value)
    if isinstance(value, Decimal):
        return f"{value:f}"
    if isinstance(value, date):
        return value.isoformat()
    return value


def report_sections(report: SalesReport) -> list[tuple[str, list[list[Any]]]]:
    """The report as titled tables (header row first), shared by CSV, XLSX, PDF and the e-mail."""
    filters = [
        ["From", f"{report.start:%Y-%m}"],
        ["To", f"{report.end:%Y-%m}"],
        ["Channel", report.channel or "all"],
        ["Category", report.category or "all"],
        ["Orders", report.totals.get("orders", 0)],
        ["Net revenue (HKD)", report.totals.get("net", Decimal(0))],
    ]
    monthly = [
        ["Month", "Orders", "Revenue (HKD)", "Refunds (HKD)", "Net (HKD)", "Customers", "New", "Returning"]
    ]
    monthly += [
        [
            f"{r['month']:%Y-%m}",
            r["orders"],
            r["revenue"],
            r["refunds"],
            r["net"],
            r["customers"],
            r["new"],
            r["returning"],
        ]
        for r in report.monthly
    ]
    channels = [["Channel", "Orders", "Revenue (HKD)", "Refunds (HKD)", "Net (HKD)"]]
    channels += [[r["label"], r["orders"], r["revenue"], r["refunds"], r["net"]] for r in report.by_channel]
    categories = [["Category", "Orders", "Revenue (HKD)", "Refunds (HKD)", "Net (HKD)"]]
    categories += [
        [r["category"] or "(none)", r["orders"], r["revenue"], r["refunds"], r["net"]]
        for r in report.by_category
    ]
    cohorts = [["Cohort", "Customers", *[f"+{k}" for k in report.cohort_offsets]]]
    cohorts += [
        [f"{c['cohort']:%Y-%m}", c["size"], *["" if s is None else f"{s}%" for s in c["shares"]]]
        for c in report.cohorts
    ]
    movements = [["From segment", "To segment", "Customers"]]
    movements += [[m["from_label"], m["to_label"], m["customers"]] for m in report.movements]
    top = [["Customer", "E-mail", "Phone", "District", "Orders", "Lifetime value (HKD)", "Segment"]]
    top += [
        [
            c["display_name"],
            c["email"],
            c["phone"],
            c["district"],
            c["orders"],
            c["lifetime_value"],
            c["segment"],
        ]
        for c in report.top_customers
    ]
    return [
        ("Sales report", filters),
        ("By month", monthly),
        ("By channel", channels),
        ("By category", categories),
        ("Cohort retention", cohorts),
        ("Segment movements", movements),
        ("Top customers", top),
    ]


def export_bytes(title: str, sections: list[tuple[str, list[list[Any]]]], fmt: str) -> bytes:
    """SECTIONS as a CSV, XLSX or PDF file; formula-like text cells are neutralised in all three."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        for name, rows in sections:
            writer.writerow([neutralise(_cell(name))])
            for row in rows:
                writer.writerow([neutralise(_cell(c)) for c in row])
            writer.writerow([])
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    if fmt == "xlsx":
        from openpyxl import Workbook
        from openpyxl.styles import Font

        book = Workbook()
        first = book.active
        assert first is not None
        for index, (name, rows) in enumerate(sections):
            sheet = first if index == 0 else book.create_sheet()
            sheet.title = name[:31]
            for row in rows:
                sheet.append([c if isinstance(c, int | Decimal) else neutralise(_cell(c)) for c in row])
            for cell in sheet[1]:
                cell.font = Font(bold=True)
        out = io.BytesIO()
        book.save(out)
        return out.getvalue()
    if fmt == "pdf":
        return _pdf(title, sections)
    raise ValueError(f"unknown format {fmt!r}")


def _pdf(title: str, sections: list[tuple[str, list[list[Any]]]]) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from kpis.exports import _pdf_font

    styles = getSampleStyleSheet()
    font = _pdf_font()
    for style_name in ("BodyText", "Title", "Heading2", "Italic"):
        styles[style_name].fontName = font
    cell = styles["BodyText"]
    cell.fontSize = 8
    cell.leading = 10
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=landscape(A4), title=title)
    story: list[Any] = [Paragraph(title, styles["Title"])]
    for name, rows in sections:
        if len(rows) <= 1 and name != sections[0][0]:
            continue
        data = [
            [
                Paragraph(str(neutralise(_cell(c))).replace("&", "&amp;").replace("<", "&lt;"), cell)
                for c in row
            ]
            for row in rows
        ]
        table = Table(data, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("GRID", (0, 0), (-1, -1), 0.25, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f6")),
                ]
            )
        )
        story += [Paragraph(name, styles["Heading2"]), table, Spacer(1, 10)]
    story.append(
        Paragraph(f"Generated {timezone.localtime():%Y-%m-%d %H:%M} HKT by Steward.", styles["Italic"])
    )
    doc.build(story)
    return out.getvalue()


def report_export(*, user: Any, filters: ReportFilter, fmt: str) -> tuple[bytes, str, str]:
    """(body, content type, file name) of the report for USER; the export is audited (masked
    personal data of top customers is still personal data, so the purpose is recorded)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    report = sales_report(user=user, filters=filters)
    body = export_bytes("Sales report", report_sections(report), fmt)
    audit.record_access(
        AuditEvent.Action.EXPORT,
        object_type="customers.customer",
        object_ids=[c["id"] for c in report.top_customers],
        purpose="sales activity report (staff analysis)",
        fields=["display_name", "email", "phone", "district"],
        actor=user,
        object_repr=f"sales report {report.start:%Y-%m} to {report.end:%Y-%m}",
    )
    return body, FORMATS[fmt], f"sales-report-{report.start:%Y-%m}-{report.end:%Y-%m}.{fmt}"


# --- The scheduled monthly report ----------------------------------------------------------------


def monthly_report_recipients() -> list[User]:
    return list(
        User.objects.filter(is_active=True, groups__name__in=[MARKETING, CRM_STAFF], vendor__isnull=True)
        .exclude(email="")
        .distinct()
        .order_by("username")
    )


def monthly_report_send(*, today: date | None = None, force: bool = False) -> int:
    """On the first day of a month (or when FORCE), e-mail last month's report to every marketing
    and CRM user, each with the report as their own role sees it (masked where theirs is);
    returns the number of e-mails sent."""
    today = today or timezone.localdate()
    if today.day != 1 and not force:
        return 0
    month = add_months(month_start(today), -1)
    sent = 0
    for recipient in monthly_report_recipients():
        if not recipient.has_perm("customers.view_salesmonth"):
            continue
        filters = ReportFilter(start=month, end=month)
        body, content_type, name = report_export(user=recipient, filters=filters, fmt="csv")
        report = sales_report(user=recipient, filters=filters)
        totals = report.totals
        text = (
            f"Sales report for {month:%B %Y} (Hong Kong time).\n\n"
            f"Orders: {totals.get('orders', 0)}\nRevenue: HK${totals.get('revenue', 0):,.2f}\n"
            f"Refunds: HK${totals.get('refunds', 0):,.2f}\nNet: HK${totals.get('net', 0):,.2f}\n"
            f"New customers: {totals.get('new', 0)}\n\nThe full report is attached; "
            "see the Sales report page in Steward for charts and drill-down.\n"
        )
        message = EmailMessage(
            subject=f"Steward sales report {month:%Y-%m}",
            body=text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[recipient.email],
        )
        message.attach(name, body, content_type)
        message.send()
        sent += 1
    return sent
