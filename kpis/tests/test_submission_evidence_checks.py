"""Evidence for a submitted measurement is checked like every upload (core.uploads): the type by its
content, the name agreeing with it, not empty, within STEWARD_UPLOAD_MAX_BYTES. A disguised, empty or
oversized file is refused with a clear error (a 422 problem in the API, a form error on the page) and
nothing is written: no submission, no stored file, no audit record."""

from __future__ import annotations

import io
import zipfile
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core import audit
from core.testing.personas import bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from kpis import services
from kpis.models import MeasureSubmission

from .conftest import LAST_MONTH, LAST_MONTH_END, make_measure

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def exe_named_pdf() -> SimpleUploadedFile:
    """A Windows program renamed report.pdf and sent with a PDF content type."""
    return SimpleUploadedFile("report.pdf", b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64, "application/pdf")


def png_named_pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("chart.pdf", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "application/pdf")


def empty_pdf() -> SimpleUploadedFile:
    return SimpleUploadedFile("empty.pdf", b"", "application/pdf")


def big_pdf() -> SimpleUploadedFile:
    """A real PDF of 2,009 bytes: above the 1 KiB limit the tests set."""
    return SimpleUploadedFile("big.pdf", PDF[:9] + b"0" * 2000, "application/pdf")


def xlsx() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return SimpleUploadedFile("tickets.xlsx", buffer.getvalue(), "application/vnd.ms-excel")


REFUSED = [
    pytest.param(exe_named_pdf, "is not a PDF document", id="exe-renamed-pdf"),
    pytest.param(png_named_pdf, "its content is a PNG image", id="png-named-pdf"),
    pytest.param(empty_pdf, "empty", id="empty"),
    pytest.param(big_pdf, "larger than", id="oversized"),
]


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.STEWARD_UPLOAD_MAX_BYTES = 1024


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
def uptime(cs_manager):
    return make_measure(cs_manager, "uptime_pct")


def submit(actor, measure, subject, evidence):
    return services.submission_create(
        actor=actor,
        measure=measure,
        subject=subject,
        start=LAST_MONTH,
        end=LAST_MONTH_END,
        value=Decimal("99.5"),
        evidence=evidence,
    )


def form_data(measure, subject, evidence):
    return {
        "measure": measure.pk,
        "subject": subject.pk,
        "start": "2025-05-01",
        "end": "2025-06-01",
        "value": "99.5",
        "evidence": evidence,
    }


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: SimpleUploadedFile("report.pdf", PDF, "application/pdf"), "report.pdf"),
        (
            lambda: SimpleUploadedFile("shot.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png"),
            "shot.png",
        ),
        (xlsx, "tickets.xlsx"),
        (
            lambda: SimpleUploadedFile("tickets.csv", b"month,tickets\n2025-05,4210\n", "text/csv"),
            "tickets.csv",
        ),
    ],
)
def test_real_evidence_is_accepted_and_stored(portal_user, uptime, vendor_subject, media_files, make, name):
    submission = submit(portal_user, uptime, vendor_subject, make())

    assert media_files() == [submission.evidence.name]
    assert submission.evidence.name == f"kpis/evidence/{vendor_subject.pk}/{name}"


@pytest.mark.parametrize(("make", "words"), REFUSED)
def test_the_service_refuses_disguised_empty_or_oversized_evidence(
    portal_user, uptime, vendor_subject, media_files, make, words
):
    with nothing_written(MeasureSubmission), pytest.raises(ValidationError) as caught:
        submit(portal_user, uptime, vendor_subject, make())

    assert list(caught.value.message_dict) == ["evidence"]
    assert words in caught.value.message_dict["evidence"][0]
    assert media_files() == []


@pytest.mark.parametrize(("make", "words"), REFUSED)
def test_the_api_refuses_it_with_a_422_problem(
    client, portal_user, uptime, vendor_subject, media_files, make, words
):
    headers = bearer(portal_user)
    body = {
        "measure_id": uptime.pk,
        "subject_id": vendor_subject.pk,
        "start": "2025-05-01",
        "end": "2025-06-01",
        "value": "99.5",
        "evidence": make(),
    }
    with nothing_written(MeasureSubmission):
        response = client.post("/api/v1/kpis/submissions", data=body, **headers)

    data = assert_problem(response, 422)
    assert error_fields(data) == {"evidence"}
    assert words in response.content.decode()
    assert media_files() == []


@pytest.mark.parametrize(("make", "words"), REFUSED)
def test_the_page_shows_a_form_error(client, portal_user, uptime, vendor_subject, media_files, make, words):
    client.force_login(portal_user)
    with nothing_written(MeasureSubmission):
        response = client.post(reverse("kpis:submission_list"), form_data(uptime, vendor_subject, make()))

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["evidence"]
    # Django's own form field already refuses an empty file; its words differ from ours.
    expected = "The submitted file is empty." if make is empty_pdf else words
    assert expected in errors["evidence"][0]
    assert media_files() == []


def test_an_outsider_stores_nothing_even_with_real_evidence(
    client, outsider, uptime, vendor_subject, media_files
):
    headers = bearer(outsider)
    body = {
        "measure_id": uptime.pk,
        "subject_id": vendor_subject.pk,
        "start": "2025-05-01",
        "end": "2025-06-01",
        "value": "99.5",
        "evidence": SimpleUploadedFile("report.pdf", PDF, "application/pdf"),
    }
    response = client.post("/api/v1/kpis/submissions", data=body, **headers)

    assert_problem(response, 404)
    assert not MeasureSubmission.objects.exists()
    assert media_files() == []


def test_a_failure_after_the_file_is_stored_leaves_no_file_behind(
    portal_user, uptime, vendor_subject, media_files, monkeypatch
):
    # The database rolls back with the failed audit write; the stored evidence must go too.
    def audit_fails(*args, **kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(audit, "record_change", audit_fails)
    with nothing_written(MeasureSubmission), pytest.raises(RuntimeError):
        submit(portal_user, uptime, vendor_subject, SimpleUploadedFile("report.pdf", PDF, "application/pdf"))

    assert media_files() == []
