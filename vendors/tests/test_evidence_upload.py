"""Evidence for obligations: PDF, PNG, JPEG, XLSX, CSV and TXT, recognised by their content; anything
else, a name that lies about the content, or a file above the size limit is refused with a clear
error and nothing is written (no row, no audit record, no file on disk)."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from core.models import AuditEvent
from core.testing.personas import bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from vendors import services
from vendors.models import ObligationEvidence
from vendors.tests import conftest as files


@pytest.fixture
def july(monthly_report):
    return monthly_report.instances.get(due_on=date(2025, 7, 5))


@pytest.mark.parametrize(
    ("make", "content_type"),
    [
        (files.pdf, "application/pdf"),
        (files.png, "image/png"),
        (files.jpeg, "image/jpeg"),
        (files.xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        (files.csv, "text/csv"),
        (files.txt, "text/plain"),
    ],
)
def test_accepted_types_are_stored_under_our_own_name(july, portal_user, media_files, make, content_type):
    upload = make()
    evidence = services.evidence_upload(actor=portal_user, instance=july, upload=upload, note="May report")

    assert evidence.content_type == content_type
    assert evidence.file_name == upload.name
    assert evidence.size == upload.size and len(evidence.sha256) == 64
    (stored,) = media_files()
    assert stored.startswith(f"vendors/evidence/{july.pk}/") and upload.name not in stored
    assert AuditEvent.objects.filter(object_type="vendors.obligationevidence", action="create").count() == 1


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (files.exe, "is not a PDF document"),
        (files.docx, "is not an Excel (XLSX) workbook"),
        (lambda: files.png("chart.pdf"), "its content is a PNG image"),
        (lambda: files.pdf("report.csv"), "its content is a PDF document"),
        (lambda: SimpleUploadedFile("report.docx", b"PK\x03\x04", "application/msword"), "not accepted"),
        (lambda: SimpleUploadedFile("run.sh", b"#!/bin/sh\nrm -rf /\n", "text/plain"), "not accepted"),
        (lambda: SimpleUploadedFile("noextension", b"%PDF-1.4", "application/pdf"), "not accepted"),
        (lambda: SimpleUploadedFile("data.csv", b"a,b\n\x00\x01\x02", "text/csv"), "is not plain text"),
        (
            lambda: SimpleUploadedFile("latin1.txt", "café".encode("latin-1"), "text/plain"),
            "is not plain text",
        ),
        (lambda: SimpleUploadedFile("empty.pdf", b"", "application/pdf"), "empty"),
    ],
)
def test_wrong_types_are_refused_and_nothing_is_written(july, portal_user, media_files, make, words):
    with nothing_written(ObligationEvidence), pytest.raises(ValidationError) as caught:
        services.evidence_upload(actor=portal_user, instance=july, upload=make())

    assert words in caught.value.message_dict["file"][0]
    assert media_files() == []


def test_a_file_above_the_limit_is_refused(july, portal_user, media_files, settings):
    settings.STEWARD_UPLOAD_MAX_BYTES = 1024
    big = SimpleUploadedFile("big.pdf", b"%PDF-1.7\n" + b"0" * 2000, "application/pdf")
    with nothing_written(ObligationEvidence), pytest.raises(ValidationError) as caught:
        services.evidence_upload(actor=portal_user, instance=july, upload=big)
    assert "larger than" in caught.value.message_dict["file"][0]
    assert media_files() == []


def test_a_failure_after_the_file_is_stored_removes_it(july, portal_user, media_files, monkeypatch):
    from core import audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit trail unavailable")

    monkeypatch.setattr(audit, "record_change", broken)
    with pytest.raises(RuntimeError):
        services.evidence_upload(actor=portal_user, instance=july, upload=files.pdf())
    assert ObligationEvidence.objects.count() == 0
    assert media_files() == []


def test_the_api_accepts_a_multipart_upload(client, july, portal_user):
    response = client.post(
        f"/api/v1/vendors/obligation-instances/{july.pk}/evidence",
        {"file": files.csv(), "note": "Ticket extract"},
        **bearer(portal_user),
    )
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "text/csv"
    download = client.get(f"/api/v1/vendors/evidence/{response.json()['id']}/download", **bearer(portal_user))
    assert download.status_code == 200
    assert b"".join(download.streaming_content).startswith(b"month,tickets")
    assert download["Content-Type"] == "text/csv"


def test_the_api_refuses_a_disguised_file_with_a_problem(client, july, portal_user, media_files):
    headers = bearer(portal_user)
    with nothing_written(ObligationEvidence):
        response = client.post(
            f"/api/v1/vendors/obligation-instances/{july.pk}/evidence", {"file": files.exe()}, **headers
        )
    data = assert_problem(response, 422)
    assert error_fields(data) == {"file"}
    assert media_files() == []


def test_the_api_asks_for_the_file(client, july, portal_user):
    response = client.post(
        f"/api/v1/vendors/obligation-instances/{july.pk}/evidence", {}, **bearer(portal_user)
    )
    data = assert_problem(response, 422)
    assert error_fields(data) == {"file"}


def test_another_vendor_cannot_upload_or_download(client, july, portal_user, outsider, media_files):
    evidence = services.evidence_upload(actor=portal_user, instance=july, upload=files.pdf())
    before = media_files()
    headers = bearer(outsider)
    response = client.post(
        f"/api/v1/vendors/obligation-instances/{july.pk}/evidence", {"file": files.pdf()}, **headers
    )
    assert_problem(response, 404)
    assert ObligationEvidence.objects.count() == 1
    assert_problem(client.get(f"/api/v1/vendors/evidence/{evidence.pk}/download", **headers), 404)
    assert media_files() == before
    denied = AuditEvent.objects.filter(
        action=AuditEvent.Action.ACCESS_DENIED, actor_username=outsider.username
    )
    assert set(denied.values_list("object_type", flat=True)) == {
        "vendors.obligationinstance",
        "vendors.obligationevidence",
    }
