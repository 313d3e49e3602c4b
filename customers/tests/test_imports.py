"""NDJSON/CSV imports (issue 7 item 1): a progress page, an error report (line, field, message),
all-or-nothing or keep-the-good-rows, and files refused at the door."""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing.problems import assert_problem, nothing_written
from customers.models import Customer, ImportJob, Order, OrderLine
from customers.tests.sales_helpers import Caller, customer, order, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def crm(client):
    user = person("crm_staff")
    client.force_login(user)
    return user


@pytest.fixture(autouse=True)
def _tasks_run_after_commit(django_capture_on_commit_callbacks, monkeypatch):
    """The import task is queued with transaction.on_commit; tests run inside a transaction that
    never commits, so run each request's callbacks when the request ends (as a commit would)."""
    from django.test import Client

    original = Client.request

    def request(self, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return original(self, **kwargs)

    monkeypatch.setattr(Client, "request", request)


def ndjson(*records) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records).encode()


def upload(client, name: str, content: bytes, kind: str, mode: str = "all_or_nothing"):
    return client.post(
        "/customers/imports/",
        {"kind": kind, "mode": mode, "source": "shop", "file": SimpleUploadedFile(name, content)},
    )


def test_an_ndjson_file_of_customers_loads_and_the_progress_page_shows_it_done(client, crm):
    response = upload(client, "customers.ndjson", ndjson(customer("C-1"), customer("C-2")), "customers")
    job = ImportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/customers/imports/{job.pk}/"
    assert (job.status, job.created_rows, job.total_rows) == (ImportJob.Status.DONE, 2, 2)
    assert set(Customer.objects.values_list("source", "external_id")) == {("shop", "C-1"), ("shop", "C-2")}
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert "<progress" in page and 'value="100"' in page and "hx-trigger" not in page


def test_a_running_import_polls_for_its_progress(client, crm):
    job = ImportJob.objects.create(
        kind="orders",
        file_format="csv",
        original_name="x.csv",
        status="running",
        total_rows=10,
        processed_rows=4,
        created_by=crm,
    )
    page = client.get(f"/customers/imports/{job.pk}/").content.decode()
    assert 'hx-trigger="every 1s"' in page and 'value="40"' in page
    partial = client.get(f"/customers/imports/{job.pk}/", HTTP_HX_REQUEST="true").content.decode()
    assert partial.startswith('<section id="import-progress"')


def test_a_csv_of_orders_groups_rows_into_orders_with_lines(client, crm):
    upload(client, "c.ndjson", ndjson(customer("C-1")), "customers")
    text = (
        "external_id,customer_id,channel,status,placed_at,sku,product,category,quantity,unit_price\n"
        "O-1,C-1,app,paid,2026-05-03T10:00:00+08:00,TEA-1,Jasmine tea,Food & Beverage,2,45.50\n"
        "O-1,C-1,app,paid,2026-05-03T10:00:00+08:00,SER-1,Serum,Beauty & Skincare,1,300\n"
        "O-2,,web,placed,2026-05-04T10:00:00Z,TEE-1,Cotton Tee,Fashion,1,159\n"
    )
    upload(client, "orders.csv", text.encode(), "orders")
    job = ImportJob.objects.filter(kind="orders").get()
    assert job.status == ImportJob.Status.DONE, job.errors
    assert job.created_rows == 2 and OrderLine.objects.count() == 3
    assert Order.objects.get(external_id="O-1").channel == "app"


def test_all_or_nothing_loads_nothing_and_reports_every_bad_line(client, crm):
    content = ndjson(
        customer("C-1"),
        "{broken json",
        customer("C-3", first_seen_at="2026-01-01T10:00:00"),
        customer("C-1"),
    )
    upload(client, "customers.ndjson", content, "customers")
    assert not Customer.objects.exists()
    job = ImportJob.objects.get()
    assert job.status == ImportJob.Status.REJECTED
    assert [(e["line"], e["field"]) for e in job.errors] == [
        (2, "record"),
        (3, "first_seen_at"),
        (4, "external_id"),
    ]
    report = client.get(f"/customers/imports/{job.pk}/errors.csv")
    rows = list(csv.reader(io.StringIO(report.content.decode("utf-8-sig"))))
    assert rows[0] == ["line", "field", "message"]
    assert rows[2] == ["3", "first_seen_at", "has no time zone: add Z or an offset such as +08:00"]
    assert "Nothing was loaded" in client.get(f"/customers/imports/{job.pk}/").content.decode()


def test_keep_good_rows_loads_the_rest(client, crm):
    upload(client, "c.ndjson", ndjson(customer("C-1")), "customers")
    content = ndjson(
        order("O-1", customer_id="C-1"), order("O-2", currency="USD"), order("O-3", customer_id="")
    )
    upload(client, "o.ndjson", content, "orders", mode="keep_good")
    job = ImportJob.objects.filter(kind="orders").get()
    assert job.status == ImportJob.Status.DONE_WITH_ERRORS
    assert (job.created_rows, job.error_count) == (2, 1)
    assert job.errors == [
        {
            "line": 2,
            "field": "currency",
            "message": "'USD' is not accepted: Steward records sales in HKD only",
        }
    ]


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("customers.xlsx", b"PK\x03\x04", "not accepted"),
        ("customers.ndjson", b"", "empty"),
        ("customers.csv", b"\xff\xfe\x00a,b", "not text"),
        ("customers.csv", "external_id\nC-1\n".encode("utf-16"), "not"),
    ],
)
def test_files_refused_at_the_door(client, crm, name, content, words):
    with nothing_written(Customer, ImportJob):
        response = upload(client, name, content, "customers")
    assert response.status_code == 200 and words in response.content.decode()


def test_an_oversized_file_is_refused(client, crm, settings):
    settings.STEWARD_CUSTOMERS_IMPORT_MAX_BYTES = 100
    with nothing_written(Customer, ImportJob):
        response = upload(client, "big.ndjson", ndjson(*[customer(f"C-{i}") for i in range(5)]), "customers")
    assert "larger than" in response.content.decode()


def test_the_api_takes_a_file_and_answers_with_the_job(client):
    call = Caller(client, person("crm_staff"))
    headers = call.headers
    response = client.post(
        "/api/v1/customers/imports",
        {"kind": "customers", "file": SimpleUploadedFile("c.ndjson", ndjson(customer("C-1")))},
        **headers,
    )
    assert response.status_code == 202, response.content
    body = response.json()
    assert body["status"] == "queued"  # accepted; the task runs once the upload is committed
    done = call("get", f"/api/v1/customers/imports/{body['id']}").json()
    assert done["status"] == "done" and done["created_rows"] == 1 and done["percent"] == 100
    assert call("get", f"/api/v1/customers/imports/{body['id']}/errors").json() == []


def test_an_import_is_visible_to_its_uploader_not_to_another_person(client, outsider):
    call = Caller(client, person("crm_staff"))
    client.post(
        "/api/v1/customers/imports",
        {"kind": "customers", "file": SimpleUploadedFile("c.ndjson", ndjson(customer("C-1")))},
        **call.headers,
    )
    job = ImportJob.objects.get()
    other = Caller(client, person("crm_staff", "crm.other"))
    assert_problem(other("get", f"/api/v1/customers/imports/{job.pk}"), 404)
    assert_problem(Caller(client, outsider)("get", f"/api/v1/customers/imports/{job.pk}"), 404)
    marketing = Caller(client, person("marketing"))
    response = client.post(
        "/api/v1/customers/imports",
        {"kind": "customers", "file": SimpleUploadedFile("c.ndjson", ndjson(customer("C-2")))},
        **marketing.headers,
    )
    assert_problem(response, 403)
