"""Fixtures for the vendor register's tests: KPIs to link, a customer-service contract in force, files."""

from __future__ import annotations

import io
import zipfile
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing.factories import UserFactory
from vendors import services
from vendors.models import Obligation
from vendors.tests.factories import KpiDefinitionFactory

TODAY = date(2025, 6, 10)
START = date(2025, 1, 1)
END = date(2026, 12, 31)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def media_files(settings):
    """Every file under MEDIA_ROOT, as paths relative to it."""

    def listing() -> list[str]:
        root = settings.MEDIA_ROOT
        return (
            sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []
        )

    return listing


@pytest.fixture
def sla_kpi():
    return KpiDefinitionFactory(code="sla_attainment", name="SLA attainment")


@pytest.fixture
def csat_kpi():
    return KpiDefinitionFactory(code="csat", name="Customer satisfaction (CSAT)")


@pytest.fixture
def fcr_kpi():
    return KpiDefinitionFactory(code="first_contact_resolution", name="First contact resolution")


TERMS: dict[str, Any] = {
    "start": START,
    "end": END,
    "monthly_fee": Decimal("100000.00"),
    "at_risk_pct": Decimal("10"),
    "notice_period_days": 90,
    "renewal_type": "by_agreement",
}


@pytest.fixture
def draft_contract(vendor, vendor_manager):
    """Harbour Call's customer-service contract as a draft: HK$100,000 a month, 10% at risk."""
    return services.contract_create(
        actor=vendor_manager,
        vendor=vendor,
        reference="HC-CS-2025",
        title="Customer-service outsourcing",
        our_entity="Steward Trading (HK) Ltd",
        owner=vendor_manager,
        **TERMS,
    )


@pytest.fixture
def contract(draft_contract, vendor_manager, sla_kpi, csat_kpi, fcr_kpi):
    """The contract in force: two critical service levels (40% and 60% of the pool), one key measurement."""
    version = draft_contract.versions.get()
    services.service_levels_set(
        actor=vendor_manager,
        version=version,
        levels=[
            services.ServiceLevelSpec(sla_kpi, "critical", Decimal(40), Decimal(40), "Schedule 2 §1"),
            services.ServiceLevelSpec(csat_kpi, "critical", Decimal(30), Decimal(60), "Schedule 2 §2"),
            services.ServiceLevelSpec(fcr_kpi, "key", Decimal(30), Decimal(0), "Schedule 2 §3"),
        ],
    )
    services.contract_version_activate(actor=vendor_manager, version=version, today=TODAY)
    return draft_contract


@pytest.fixture
def monthly_report(contract, vendor_manager, portal_user):
    """The vendor's monthly service report, due on the 5th, with evidence."""
    return services.obligation_create(
        actor=vendor_manager,
        contract=contract,
        title="Monthly service report",
        first_due_on=date(2025, 1, 5),
        recurrence=Obligation.Recurrence.MONTHLY,
        owner=portal_user,
        evidence_required=True,
        evidence_description="The report as PDF, with the ticket extract as CSV or XLSX.",
        today=TODAY,
    )


@pytest.fixture
def second_manager():
    return UserFactory(username="victor", roles=["vendor_manager"])


# --- Files, by content ------------------------------------------------------------------------------


def pdf(name: str = "report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(
        name, b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n", "application/pdf"
    )


def png(name: str = "screen.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png")


def jpeg(name: str = "photo.jpg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg")


def csv(name: str = "tickets.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"month,tickets\n2025-05,4210\n", "text/csv")


def txt(name: str = "note.txt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, "月報已提交 (report submitted)\n".encode(), "text/plain")


def xlsx(name: str = "tickets.xlsx") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return SimpleUploadedFile(name, buffer.getvalue(), "application/vnd.ms-excel")


def docx(name: str = "report.xlsx") -> SimpleUploadedFile:
    """A Word document (a ZIP too) named as a workbook."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return SimpleUploadedFile(name, buffer.getvalue(), "application/vnd.ms-excel")


def exe(name: str = "report.pdf") -> SimpleUploadedFile:
    """A Windows program named as a PDF, sent with a PDF content type."""
    return SimpleUploadedFile(name, b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "application/pdf")


def call(client, method: str, url: str, headers: dict[str, str], body=None):
    """An API call with HEADERS made beforehand (``bearer(user)``), so that making the token is
    not counted inside a ``nothing_written`` block."""
    import json

    kwargs = {"content_type": "application/json", **headers}
    if body is not None:
        kwargs["data"] = json.dumps(body, default=str)
    return getattr(client, method.lower())(url, **kwargs)
