"""File import: CSV and NDJSON through a background job, progress, error report, all-or-nothing or
keep-good, and replays that change nothing (issue 4 item 1)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from core.testing.factories import UserFactory
from core.testing.personas import assert_outsider_blocked, bearer
from core.testing.problems import assert_problem
from service.models import ImportJob, Ticket, TicketEvent
from service.tests.ingest_helpers import as_csv, as_ndjson, conversation, event, make_teams

pytestmark = pytest.mark.django_db
IMPORTS = "/api/v1/service/imports"


@pytest.fixture
def teams(vendor):
    return make_teams(vendor)


@pytest.fixture
def cs_manager():
    return UserFactory(username="cheryl", roles=["cs_manager"])


@pytest.fixture
def signed_in(client, cs_manager):
    client.force_login(cs_manager)
    return client


def upload(client, content: bytes, name: str = "export.csv", mode: str = "all_or_nothing", capture=None):
    data = {"file": SimpleUploadedFile(name, content), "mode": mode, "source": "zendesk"}
    with capture(execute=True):
        return client.post(reverse("service:imports"), data)


def last_job() -> ImportJob:
    return ImportJob.objects.latest("id")


def test_a_csv_file_is_imported_and_a_second_import_changes_nothing(
    signed_in, teams, django_capture_on_commit_callbacks
):
    content = as_csv([*conversation("T-1"), *conversation("T-2", team="harbourcall-hotline", agent="hc-1")])
    response = upload(signed_in, content, capture=django_capture_on_commit_callbacks)
    job = last_job()
    assert response.status_code == 302 and response["Location"] == reverse("service:import", args=[job.pk])
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.processed_rows, job.tickets_created, job.events_created) == (12, 2, 12)
    assert Ticket.objects.filter(source="zendesk").count() == 2
    before = list(Ticket.objects.order_by("id").values_list()) + list(TicketEvent.objects.values_list())
    upload(signed_in, content, capture=django_capture_on_commit_callbacks)
    again = last_job()
    assert again.status == ImportJob.Status.DONE
    assert (again.tickets_created, again.tickets_updated, again.events_created) == (0, 0, 0)
    assert (
        list(Ticket.objects.order_by("id").values_list()) + list(TicketEvent.objects.values_list()) == before
    )
    page = signed_in.get(reverse("service:import", args=[again.pk]))
    assert b"<progress" in page.content and b"every 1s" not in page.content  # finished: polling stops


def test_an_ndjson_file_is_imported(signed_in, teams, django_capture_on_commit_callbacks):
    upload(
        signed_in,
        as_ndjson(conversation("T-7")),
        name="export.ndjson",
        capture=django_capture_on_commit_callbacks,
    )
    assert last_job().status == ImportJob.Status.DONE
    assert Ticket.objects.get(external_id="T-7").status == Ticket.Status.RESOLVED


def _bad_file() -> bytes:
    rows = [*conversation("T-1"), *conversation("T-2")]
    rows[7]["occurred_at"] = "2026-10-05 09:00:30"  # line 9: no time zone
    rows[8]["team"] = "nowhere"  # line 10
    return as_csv([*rows, event("T-3", "x", "agent_reply", "2026-10-05T10:00:00")])  # line 14: no creation


def _report(client, job: ImportJob) -> list[list[str]]:
    response = client.get(reverse("service:import_errors", args=[job.pk]))
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_all_or_nothing_rolls_back_every_row_and_reports_each_bad_one(
    signed_in, teams, django_capture_on_commit_callbacks
):
    upload(signed_in, _bad_file(), capture=django_capture_on_commit_callbacks)
    job = last_job()
    assert job.status == ImportJob.Status.REJECTED
    assert not Ticket.objects.exists() and not TicketEvent.objects.exists()
    report = _report(signed_in, job)
    assert report[0] == ["line", "field", "message"]
    assert [(r[0], r[1]) for r in report[1:]] == [("9", "occurred_at"), ("10", "team"), ("14", "ticket_id")]
    page = signed_in.get(reverse("service:import", args=[job.pk]))
    assert "nothing was written" in page.content.decode()


def test_keep_good_rows_keeps_the_rest(signed_in, teams, django_capture_on_commit_callbacks):
    upload(signed_in, _bad_file(), mode="keep_good", capture=django_capture_on_commit_callbacks)
    job = last_job()
    assert job.status == ImportJob.Status.DONE
    assert (job.rows_rejected, job.events_created, job.tickets_created) == (3, 10, 2)
    assert len(_report(signed_in, job)) == 4


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("export.xlsx", b"PK\x03\x04rest", "send a .csv or .ndjson file"),
        ("export.csv", b"%PDF-1.7 binary", "but its content is a PDF document"),
        ("export.csv", b"", "empty"),
    ],
)
def test_a_wrong_file_is_refused_on_the_form(
    signed_in, teams, name, content, message, django_capture_on_commit_callbacks
):
    response = upload(signed_in, content, name=name, capture=django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not ImportJob.objects.exists()


def test_an_oversized_file_is_refused(signed_in, teams, settings, django_capture_on_commit_callbacks):
    settings.STEWARD_UPLOAD_MAX_BYTES = 200
    response = upload(signed_in, as_csv(conversation("T-1")), capture=django_capture_on_commit_callbacks)
    assert "larger than" in response.content.decode()
    assert not ImportJob.objects.exists()


def test_a_wrong_header_rejects_the_file_at_line_1(signed_in, teams, django_capture_on_commit_callbacks):
    content = b"ticket,when\nT-1,2026-10-05T09:00:00Z\n"
    upload(signed_in, content, capture=django_capture_on_commit_callbacks)
    job = last_job()
    assert job.status == ImportJob.Status.REJECTED
    assert {(e["line"], e["field"]) for e in job.errors} >= {
        (1, "ticket"),
        (1, "ticket_id"),
        (1, "occurred_at"),
    }


def test_the_api_takes_a_file_and_reports_status_and_errors(
    client, teams, cs_manager, django_capture_on_commit_callbacks
):
    headers = bearer(cs_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            IMPORTS, {"file": SimpleUploadedFile("bad.csv", _bad_file()), "mode": "keep_good"}, **headers
        )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    status = client.get(f"{IMPORTS}/{job_id}", **headers).json()
    assert (status["status"], status["percent"], status["rows_rejected"]) == ("done", 100, 3)
    report = client.get(f"{IMPORTS}/{job_id}/errors", **headers)
    assert report.content.decode().splitlines()[1].startswith("9,occurred_at,")
    refused = client.post(IMPORTS, {"file": SimpleUploadedFile("x.pdf", b"%PDF-1.7")}, **headers)
    assert "file" in {e["field"] for e in assert_problem(refused, 422)["errors"]}


def test_only_managers_import_and_outsiders_see_no_import(
    client, teams, cs_manager, outsider, django_capture_on_commit_callbacks
):
    agent = UserFactory(username="kelvin", roles=["cs_agent"])
    client.force_login(agent)
    assert client.get(reverse("service:imports")).status_code == 403
    client.force_login(cs_manager)
    upload(client, as_csv(conversation("T-1")), capture=django_capture_on_commit_callbacks)
    job = last_job()
    assert_outsider_blocked(client, outsider, "GET", f"{IMPORTS}/{job.pk}")
    assert_outsider_blocked(client, outsider, "GET", f"{IMPORTS}/{job.pk}/errors")
    client.force_login(outsider)
    assert client.get(reverse("service:import", args=[job.pk])).status_code == 404
