"""Fixtures for the measurement engine's tests: people in the KPI roles, measures, KPIs, scorecards."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing.factories import UserFactory
from kpis import services
from kpis.models import Measure, MeasureSubmission, Subject

LAST_MONTH = date(2025, 5, 1)
LAST_MONTH_END = date(2025, 6, 1)
TODAY = date(2025, 6, 10)


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def cs_manager():
    return UserFactory(username="mandy", roles=["cs_manager"])


@pytest.fixture
def second_manager():
    """Another KPI manager: the four-eyes partner of `cs_manager`."""
    return UserFactory(username="vivian2", roles=["vendor_manager"])


@pytest.fixture
def agent():
    return UserFactory(username="kelvin", roles=["cs_agent"])


@pytest.fixture
def other_agent():
    return UserFactory(username="karen", roles=["cs_agent"])


def evidence(name: str = "report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4 evidence", content_type="application/pdf")


def bands_higher(target: str = "95") -> list[dict]:
    """Higher is better: <90 → 0, 90–target → 60, target+ → 100 (target band)."""
    return [
        {"label": "Missed", "lower": None, "upper": "90", "score": "0"},
        {"label": "Near", "lower": "90", "upper": target, "score": "60"},
        {"label": "Met", "lower": target, "upper": None, "score": "100", "is_target": True},
    ]


def make_measure(actor, code: str, label: str = "", unit: str = "%") -> Measure:
    return services.measure_create(actor=actor, code=code, label=label or code.replace("_", " "), unit=unit)


def make_kpi(
    author,
    approver,
    code: str,
    formula: str,
    *,
    target="95",
    bands=None,
    direction="higher",
    weight="50",
    min_sample_size=0,
    effective_from=date(2024, 1, 1),
    unit="%",
):
    version = services.kpi_define(
        actor=author,
        code=code,
        name=code.replace("_", " ").title(),
        description=f"{code} as defined for the tests.",
        formula=formula,
        unit=unit,
        direction=direction,
        target=target,
        bands=bands if bands is not None else bands_higher(str(target)),
        weight=weight,
        min_sample_size=min_sample_size,
        effective_from=effective_from,
    )
    services.kpi_version_approve(actor=approver, version=version)
    version.refresh_from_db()
    return version


def submit_value(
    submitter,
    approver,
    measure: Measure,
    subject: Subject,
    value,
    *,
    start=LAST_MONTH,
    end=LAST_MONTH_END,
    sample_size=None,
) -> MeasureSubmission:
    submission = services.submission_create(
        actor=submitter,
        measure=measure,
        subject=subject,
        start=start,
        end=end,
        value=Decimal(str(value)),
        evidence=evidence(),
        sample_size=sample_size,
    )
    return services.submission_decide(actor=approver, submission=submission, approve=True)


@pytest.fixture
def vendor_subject(vendor, cs_manager):
    return services.subject_create(
        actor=cs_manager, kind=Subject.Kind.VENDOR, label=vendor.name, vendor=vendor
    )


@pytest.fixture
def other_vendor_subject(other_vendor, cs_manager):
    return services.subject_create(
        actor=cs_manager, kind=Subject.Kind.VENDOR, label=other_vendor.name, vendor=other_vendor
    )


@pytest.fixture
def agent_subject(agent, cs_manager):
    return services.subject_create(actor=cs_manager, kind=Subject.Kind.AGENT, label="Kelvin Ho", user=agent)


@pytest.fixture
def other_agent_subject(other_agent, cs_manager):
    return services.subject_create(actor=cs_manager, kind=Subject.Kind.AGENT, label="Karen", user=other_agent)
