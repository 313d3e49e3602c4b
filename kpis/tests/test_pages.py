"""The KPI pages: define with a live preview, change by version, compare versions, approve a credit,
explain a score, export a statement; each person sees only what their role allows."""

import io
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kpis import services
from kpis.models import Adjustment, KpiDefinition, KpiVersion, Subject
from kpis.services import LineSpec

from .conftest import LAST_MONTH, bands_higher, make_kpi, make_measure, submit_value

pytestmark = pytest.mark.django_db
D = Decimal


def band_fields(bands):
    data = {}
    for i, band in enumerate(bands):
        data[f"band_label_{i}"] = band["label"]
        data[f"band_lower_{i}"] = band["lower"] or ""
        data[f"band_upper_{i}"] = band["upper"] or ""
        data[f"band_score_{i}"] = band["score"]
        if band.get("is_target"):
            data["target_band"] = str(i)
    return data


def kpi_form(**overrides):
    data = {
        "code": "sla_attainment",
        "name": "SLA attainment",
        "description": "Met ÷ due.",
        "formula": "sla_pct",
        "unit": "%",
        "direction": "higher",
        "statistic": "rate",
        "target": "95",
        "weight": "50",
        "min_sample_size": "0",
        "effective_from": "2024-01-01",
        "reason": "Contract schedule.",
        **band_fields(bands_higher("95")),
    }
    data.update(overrides)
    return data


@pytest.fixture
def sla(cs_manager):
    return make_measure(cs_manager, "sla_pct")


@pytest.fixture
def contract(cs_manager, second_manager, vendor_subject, sla):
    version = make_kpi(cs_manager, second_manager, "sla_attainment", "sla_pct", weight="100")
    card = services.scorecard_create(
        actor=cs_manager,
        name="Harbour Call contract",
        subject=vendor_subject,
        lines=[LineSpec(version.definition, D("100"), critical=True, allocation_pct=D("40"))],
    )
    # A second critical line keeps allocations at 100%.
    make_measure(cs_manager, "csat_pct")
    csat = make_kpi(cs_manager, second_manager, "csat", "csat_pct", weight="50")
    services.scorecard_set_lines(
        actor=cs_manager,
        scorecard=card,
        lines=[
            LineSpec(version.definition, D("50"), critical=True, allocation_pct=D("40")),
            LineSpec(csat.definition, D("50"), critical=True, allocation_pct=D("60")),
        ],
    )
    services.credit_terms_set(
        actor=cs_manager, scorecard=card, monthly_fee=D("100000"), at_risk_pct=D("10"), pool_pct=D("50")
    )
    submit_value(cs_manager, second_manager, sla, vendor_subject, "90")
    period = services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=date(2025, 6, 2))
    return card, period, version


def test_defining_a_kpi_in_the_page_creates_version_one(client, cs_manager, sla):
    client.force_login(cs_manager)
    page = client.get(reverse("kpis:kpi_create"))
    assert page.status_code == 200 and b"Live preview" in page.content
    response = client.post(reverse("kpis:kpi_create"), kpi_form())
    definition = KpiDefinition.objects.get(code="sla_attainment")
    assert response.status_code == 302 and response["Location"] == reverse(
        "kpis:kpi_detail", args=[definition.pk]
    )
    version = definition.versions.get()
    assert (version.number, version.status, version.target, version.bands[2]["is_target"]) == (
        1,
        "draft",
        D("95"),
        True,
    )


def test_a_bad_formula_is_shown_on_the_form_and_saves_nothing(client, cs_manager, sla):
    client.force_login(cs_manager)
    response = client.post(reverse("kpis:kpi_create"), kpi_form(formula="sla_pct / missing"))
    assert response.status_code == 200
    assert "Unknown measure(s): missing" in response.content.decode()
    assert not KpiDefinition.objects.exists()


def test_the_live_preview_evaluates_last_months_data(
    client, cs_manager, second_manager, vendor_subject, sla, contract
):
    from django.utils import timezone

    from kpis.periods import MONTH, previous_period

    last = previous_period(MONTH, timezone.localdate())  # the preview always looks at the real last month
    submit_value(cs_manager, second_manager, sla, vendor_subject, "90", start=last.start, end=last.end)
    client.force_login(cs_manager)
    response = client.post(
        reverse("kpis:formula_preview"),
        {"formula": "sla_pct * 1", "target": "95", "direction": "higher", **band_fields(bands_higher())},
        HTTP_HX_REQUEST="true",
    )
    text = response.content.decode()
    assert "Harbour Call Centre Ltd" in text and "90.00" in text and "Near" in text
    bad = client.post(reverse("kpis:formula_preview"), {"formula": "open('x')"}, HTTP_HX_REQUEST="true")
    assert "not an allowed function" in bad.content.decode()


def test_change_the_target_with_a_reason_then_see_both_versions_on_last_month(
    client, cs_manager, second_manager, contract
):
    card, period, v1 = contract
    client.force_login(cs_manager)
    form = client.get(reverse("kpis:kpi_change", args=[v1.definition_id]))
    assert form.status_code == 200 and b'value="sla_pct"' in form.content
    bands = [
        {"label": "Missed", "lower": None, "upper": "85", "score": "0"},
        {"label": "Near", "lower": "85", "upper": "90", "score": "60"},
        {"label": "Met", "lower": "90", "upper": None, "score": "100", "is_target": True},
    ]
    data = kpi_form(
        target="90",
        reason="Volumes doubled after the merger.",
        effective_from="2025-06-01",
        **band_fields(bands),
    )
    data.pop("code")
    response = client.post(reverse("kpis:kpi_change", args=[v1.definition_id]), data)
    assert response.status_code == 302
    v2 = KpiVersion.objects.get(definition=v1.definition, number=2)
    assert (v2.target, v2.reason, v2.status) == (D("90"), "Volumes doubled after the merger.", "draft")
    compared = client.get(reverse("kpis:period_compare", args=[period.pk])).content.decode()
    assert "v1 (approved), target 95" in compared and "v2 (awaiting approval), target 90" in compared
    assert "90.00 → Near, score 60" in compared and "90.00 → Met, score 100" in compared
    client.force_login(second_manager)
    client.post(reverse("kpis:version_decide", args=[v2.pk]), {"decision": "approve", "note": ""})
    v2.refresh_from_db()
    assert v2.status == "approved"


def test_the_author_cannot_approve_in_the_page_either(client, cs_manager, sla):
    version = services.kpi_define(
        actor=cs_manager,
        code="x_rate",
        name="X",
        description="X.",
        formula="sla_pct",
        unit="%",
        direction="higher",
        target="95",
        bands=bands_higher(),
    )
    client.force_login(cs_manager)
    response = client.post(
        reverse("kpis:version_decide", args=[version.pk]), {"decision": "approve"}, follow=True
    )
    assert "another person must approve" in response.content.decode()
    version.refresh_from_db()
    assert version.status == "draft"


def test_a_vendor_manager_approves_the_proposed_credit_on_the_credits_page(client, vendor_manager, contract):
    client.force_login(vendor_manager)
    page = client.get(reverse("kpis:adjustment_list")).content.decode()
    assert "HK$2,000.00" in page and "pool 50% × allocation 40% × at-risk HK$10,000.00" in page
    credit = Adjustment.objects.get()
    response = client.post(
        reverse("kpis:adjustment_decide", args=[credit.pk]),
        {"decision": "approve", "next": reverse("kpis:adjustment_list")},
    )
    assert response.status_code == 302
    credit.refresh_from_db()
    assert (credit.status, credit.approved_amount, credit.decided_by) == (
        "approved",
        D("2000.00"),
        vendor_manager,
    )


def test_scorecard_period_and_explanation_pages(client, cs_manager, contract):
    card, period, _ = contract
    client.force_login(cs_manager)
    detail = client.get(reverse("kpis:scorecard_detail", args=[card.pk])).content.decode()
    assert "<svg" in detail and "score by period" in detail
    period_page = client.get(reverse("kpis:period_detail", args=[period.pk])).content.decode()
    assert "sla_pct" in period_page and "not applicable: no data for csat_pct" in period_page
    result = period.results.get(kpi__code="sla_attainment")
    why = client.get(reverse("kpis:result_detail", args=[result.pk])).content.decode()
    assert "the approved submission" in why and "▶ Near" in why


def test_statements_export_as_csv_xlsx_and_pdf(client, vendor_manager, contract):
    from openpyxl import load_workbook

    _, period, _ = contract
    client.force_login(vendor_manager)
    csv = client.get(reverse("kpis:statement", args=[period.pk, "csv"]))
    assert csv["Content-Disposition"].startswith('attachment; filename="statement-')
    xlsx = client.get(reverse("kpis:statement", args=[period.pk, "xlsx"]))
    book = load_workbook(io.BytesIO(xlsx.content))
    assert book.sheetnames == ["Summary", "Results", "Credits and bonuses"]
    assert book["Credits and bonuses"]["D2"].value == "2000"
    pdf = client.get(reverse("kpis:statement", args=[period.pk, "pdf"]))
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert client.get(reverse("kpis:statement", args=[period.pk, "exe"])).status_code == 404


def test_an_agent_sees_their_own_scorecard_page_and_not_a_colleagues(
    client, cs_manager, agent, agent_subject, other_agent_subject, contract
):
    kpi = KpiDefinition.objects.get(code="sla_attainment")
    own = services.scorecard_create(
        actor=cs_manager, name="Mine", subject=agent_subject, lines=[LineSpec(kpi, D("100"))]
    )
    theirs = services.scorecard_create(
        actor=cs_manager, name="Theirs", subject=other_agent_subject, lines=[LineSpec(kpi, D("100"))]
    )
    client.force_login(agent)
    assert client.get(reverse("kpis:scorecard_detail", args=[own.pk])).status_code == 200
    assert client.get(reverse("kpis:scorecard_detail", args=[theirs.pk])).status_code == 404
    home = client.get(reverse("kpis:home")).content.decode()
    assert "Mine" in home and "Theirs" not in home and "Harbour Call contract" not in home


def test_outsiders_get_nothing_from_the_pages(client, outsider, no_role_user, contract):
    card, period, _ = contract
    credit = Adjustment.objects.get()
    for person in (outsider, no_role_user):
        client.force_login(person)
        for url in (
            reverse("kpis:scorecard_detail", args=[card.pk]),
            reverse("kpis:period_detail", args=[period.pk]),
            reverse("kpis:statement", args=[period.pk, "csv"]),
        ):
            response = client.get(url)
            assert response.status_code in (403, 404), url
            assert b"Harbour Call" not in response.content
        client.post(reverse("kpis:adjustment_decide", args=[credit.pk]), {"decision": "approve"})
    credit.refresh_from_db()
    assert credit.status == "proposed"


def test_the_portal_user_submits_a_measurement_in_the_page(client, portal_user, sla, vendor_subject):
    from .conftest import evidence

    client.force_login(portal_user)
    response = client.post(
        reverse("kpis:submission_list"),
        {
            "measure": sla.pk,
            "subject": vendor_subject.pk,
            "start": "2025-05-01",
            "end": "2025-06-01",
            "value": "97.2",
            "evidence": evidence(),
        },
    )
    assert response.status_code == 302
    assert vendor_subject.submissions.get().submitted_by == portal_user


def test_the_scorecards_page_query_count_does_not_grow_with_scorecards(
    client, cs_manager, second_manager, vendor_subject, sla
):
    from core.testing.factories import VendorFactory

    kpi = make_kpi(cs_manager, second_manager, "sla_attainment", "sla_pct", weight="100").definition

    def add(n):
        for _ in range(n):
            vendor: Any = VendorFactory()
            subject = services.subject_create(
                actor=cs_manager, kind=Subject.Kind.VENDOR, label=vendor.name, vendor=vendor
            )
            card = services.scorecard_create(
                actor=cs_manager, name=vendor.name, subject=subject, lines=[LineSpec(kpi, D("100"))]
            )
            services.period_close(actor=cs_manager, scorecard=card, start=LAST_MONTH, today=date(2025, 6, 2))

    client.force_login(cs_manager)
    add(2)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("kpis:home"))
    add(5)
    with CaptureQueriesContext(connection) as many:
        assert client.get(reverse("kpis:home")).content.count(b"/kpis/scorecards/") >= 7
    assert len(few) == len(many)


def test_pdf_statement_embeds_a_chinese_font_for_chinese_names(client, vendor_manager, contract):
    from pathlib import Path

    from kpis import exports

    if not any(Path(p).is_file() for p in exports._CJK_FONT_FILES):
        pytest.skip("no CJK font on this machine (make test installs fonts-wqy-microhei)")
    card, period, _ = contract
    card.name = "港灣客戶服務合約"
    card.save(update_fields=["name"])
    client.force_login(vendor_manager)
    pdf = client.get(reverse("kpis:statement", args=[period.pk, "pdf"])).content
    # Without a CJK font reportlab would fall back to Helvetica, which has no Chinese glyphs.
    assert b"WenQuanYi" in pdf or b"NotoSansCJK" in pdf
