"""Sales reports (issue 7 item 10): figures from the monthly rollups, new vs returning, cohorts,
top customers masked per role, drill-down, exports safe from formula injection, the monthly e-mail."""

from __future__ import annotations

import io
import re
from datetime import date
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import AuditEvent
from customers import reports, services
from customers.models import SalesMonth
from customers.tests.sales_helpers import Caller, customer, person

pytestmark = pytest.mark.django_db


def line(category: str, price: str, quantity: int = 1) -> dict:
    return {"product": f"{category} item", "category": category, "quantity": quantity, "unit_price": price}


@pytest.fixture
def sales():
    loader = person("crm_staff", "loader")
    services.sales_records_load(
        actor=loader,
        kind="customers",
        records=[customer("C-1"), customer("C-2", given_name="Ka Yan"), customer("C-3")],
    )
    orders = [
        # April 2026: C-1 and C-2 are new. 23:30 UTC on 31 March is 1 April in Hong Kong.
        {
            "external_id": "A1",
            "customer_id": "C-1",
            "placed_at": "2026-03-31T23:30:00Z",
            "channel": "web",
            "lines": [line("Fashion", "100"), line("Electronics", "300")],
        },
        {
            "external_id": "A2",
            "customer_id": "C-2",
            "placed_at": "2026-04-10T12:00:00+08:00",
            "channel": "app",
            "lines": [line("Fashion", "200")],
            "status": "partially_refunded",
            "refunded_amount": "50",
        },
        # May 2026: C-1 returns, C-3 is new; a cancelled order counts nowhere.
        {
            "external_id": "M1",
            "customer_id": "C-1",
            "placed_at": "2026-05-02T12:00:00+08:00",
            "channel": "web",
            "lines": [line('=HYPERLINK("http://evil")', "1000")],
        },
        {
            "external_id": "M2",
            "customer_id": "C-3",
            "placed_at": "2026-05-03T12:00:00+08:00",
            "channel": "web",
            "lines": [line("Fashion", "50")],
        },
        {
            "external_id": "M3",
            "customer_id": "C-3",
            "placed_at": "2026-05-04T12:00:00+08:00",
            "channel": "web",
            "lines": [line("Fashion", "999")],
            "status": "cancelled",
        },
    ]
    services.sales_records_load(actor=loader, kind="orders", records=orders)
    services.customer_metrics_rebuild(actor=loader)
    return loader


def test_monthly_revenue_by_channel_and_category_in_hong_kong_months(sales):
    cell = SalesMonth.objects.get
    april = date(2026, 4, 1)
    assert cell(month=april, channel="*", category="*").revenue == Decimal("600.00")
    assert cell(month=april, channel="*", category="*").orders == 2
    assert cell(month=april, channel="web", category="*").revenue == Decimal("400.00")
    fashion = cell(month=april, channel="*", category="Fashion")
    assert (fashion.orders, fashion.revenue, fashion.refunds, fashion.customers) == (
        2,
        Decimal("300.00"),
        Decimal("50.00"),
        2,
    )
    may = cell(month=date(2026, 5, 1), channel="*", category="*")
    assert (may.orders, may.revenue, may.customers) == (
        2,
        Decimal("1050.00"),
        2,
    )  # the cancelled order is out


def test_the_report_new_vs_returning_cohorts_and_masked_top_customers(sales):
    marketing = person("marketing")
    report = reports.sales_report(
        user=marketing, filters=reports.ReportFilter(start=date(2026, 4, 1), end=date(2026, 5, 1))
    )
    assert [(r["month"], r["orders"], r["net"], r["new"], r["returning"]) for r in report.monthly] == [
        (date(2026, 4, 1), 2, Decimal("550.00"), 2, 0),
        (date(2026, 5, 1), 2, Decimal("1050.00"), 1, 1),
    ]
    april = report.cohorts[0]
    assert (april["cohort"], april["size"], april["shares"]) == (date(2026, 4, 1), 2, [100, 50])
    assert report.top_customers[0]["display_name"] == "Tai Man Chan"
    assert report.top_customers[0]["email"] == "c***@gmail.com"
    dpo = reports.sales_report(user=person("data_protection_officer"), filters=reports.ReportFilter())
    assert dpo.top_customers[0]["email"] == "c***@gmail.com"  # a report never reveals, whoever reads it
    web = reports.sales_report(
        user=marketing, filters=reports.ReportFilter(channel="web", start=date(2026, 4, 1))
    )
    assert [r["revenue"] for r in web.monthly] == [Decimal("400.00"), Decimal("1050.00")]


def test_the_report_page_reads_rollups_with_a_flat_query_count(sales, client):
    client.force_login(person("marketing"))
    url = "/customers/reports/sales/?start=2026-04&end=2026-05"
    client.get(url)
    with CaptureQueriesContext(connection) as before:
        page = client.get(url).content.decode()
    assert "<svg" in page and "Cohort retention" in page and "c***@gmail.com" in page
    assert 'href="/customers/orders/?month=2026-04"' in page  # drill-down
    loader = person("crm_staff", "loader2")
    services.sales_records_load(
        actor=loader,
        kind="orders",
        records=[
            {
                "external_id": f"X{i}",
                "customer_id": "C-2",
                "placed_at": "2026-05-05T12:00:00Z",
                "lines": [line("Fashion", "10")],
            }
            for i in range(30)
        ],
    )
    services.customer_metrics_rebuild(actor=loader)
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)
    assert not any(
        "customers_order " in q["sql"] or 'customers_order"' in q["sql"] for q in after.captured_queries
    )


def test_drill_down_lists_the_months_orders_in_hong_kong_time(sales, client):
    client.force_login(person("marketing"))

    # Order ids as whole words: a bare "M1" may turn up inside the page's random CSRF token.
    def ids(page: str) -> set[str]:
        return set(re.findall(r"\b[AM][12]\b", page))

    page = client.get("/customers/orders/", {"month": "2026-04"}).content.decode()
    assert ids(page) >= {"A1", "A2"} and "M1" not in ids(page)
    page = client.get("/customers/orders/", {"month": "2026-05", "category": "Fashion"}).content.decode()
    assert "M2" in ids(page) and "M1" not in ids(page)


def test_exports_neutralise_formulas_and_are_audited(sales, client):
    from openpyxl import load_workbook

    client.force_login(person("marketing"))
    query = "?start=2026-04&end=2026-05"
    text = client.get(f"/customers/reports/sales/export.csv{query}").content.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text
    assert "c***@gmail.com" in text and "chan.taiman@gmail.com" not in text
    book = load_workbook(io.BytesIO(client.get(f"/customers/reports/sales/export.xlsx{query}").content))
    values = [c.value for row in book["By category"].iter_rows() for c in row]
    assert '\'=HYPERLINK("http://evil")' in values
    pdf = client.get(f"/customers/reports/sales/export.pdf{query}")
    assert pdf.content.startswith(b"%PDF-") and pdf["Content-Type"] == "application/pdf"
    exports = AuditEvent.objects.filter(action=AuditEvent.Action.EXPORT)
    assert exports.count() == 3
    assert {e.purpose for e in exports} == {"sales activity report (staff analysis)"}


def test_the_monthly_report_is_e_mailed_to_marketing_and_crm_on_the_first(sales):
    person("marketing")
    person("cs_agent")
    assert reports.monthly_report_send(today=date(2026, 6, 2)) == 0
    sent = reports.monthly_report_send(today=date(2026, 6, 1))
    assert sent == 2  # marketing and the CRM loader; not the agent
    assert {m.to[0] for m in mail.outbox} == {"marketing@example.hk", "loader@example.hk"}
    message = mail.outbox[0]
    assert message.subject == "Steward sales report 2026-05" and "Orders: 2" in message.body
    assert message.attachments[0][0] == "sales-report-2026-05-2026-05.csv"


def test_the_report_api_and_who_may_read_it(sales, client, outsider):
    data = Caller(client, person("marketing"))(
        "get", "/api/v1/customers/reports/sales?start=2026-04-01&end=2026-05-01"
    ).json()
    assert [m["orders"] for m in data["monthly"]] == [2, 2]
    from core.testing.personas import assert_outsider_blocked

    assert_outsider_blocked(client, outsider, "get", "/api/v1/customers/reports/sales", secrets=("Tai Man",))
    agent = Caller(client, person("cs_agent"))
    assert agent("get", "/api/v1/customers/reports/sales").status_code == 403
