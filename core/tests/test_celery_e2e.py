"""Background work runs on a real Celery worker over Redis, against the test's PostgreSQL database.

`make test` runs this module in its own stage with CELERY_BROKER_URL=redis://…/15 and
DATABASE_URL=postgres://…; elsewhere it is skipped (tasks are eager without a broker).
The worker is a separate process started from .venv/bin/celery, pointed at the test
database, so it only sees rows the tests have committed: hence transactional tests.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from celery.result import AsyncResult, EagerResult
from django.conf import settings
from django.db import connection

from core import audit
from core.models import AuditEvent
from core.tasks import verify_audit_chain_task
from steward.celery import app
from vendors.services import vendor_create

pytestmark = pytest.mark.celery_e2e

ROOT = Path(__file__).resolve().parents[2]
LOG_DIR = ROOT / "test-artifacts"
WORKER_START_SECONDS = 60
RESULT_SECONDS = 60
STOP_SECONDS = 20
# The runner gives Celery Redis database 15 of its own; only that one is ever flushed.
DEDICATED_REDIS_DB = "/15"


@dataclass
class Worker:
    process: subprocess.Popen[bytes]
    hostname: str
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _skip_unless_real_setup() -> None:
    if not settings.CELERY_BROKER_URL.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://… (make test sets it for the celery-e2e stage)")
    if connection.vendor != "postgresql":
        pytest.skip("needs DATABASE_URL=postgres://… so that a second process can open the test database")


def _database_url_for(name: str) -> str:
    """DATABASE_URL with the database swapped for NAME (the test database pytest-django created)."""
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, parts.fragment))


def _purge_broker() -> None:
    if urlsplit(settings.CELERY_BROKER_URL).path == DEDICATED_REDIS_DB:
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).flushdb()
    else:
        app.control.purge()  # someone else's Redis database: drop only our queue's messages


def _stop(worker: Worker) -> None:
    """Warm shutdown (SIGTERM), then kill the whole process group if it does not stop in time."""
    if worker.process.poll() is not None:
        return
    worker.process.terminate()
    try:
        worker.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait(timeout=STOP_SECONDS)


def _wait_until_ready(worker: Worker) -> None:
    deadline = time.monotonic() + WORKER_START_SECONDS
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            pytest.fail(
                f"the Celery worker exited with {worker.process.returncode}:\n{worker.output()[-4000:]}"
            )
        if app.control.ping(destination=[worker.hostname], timeout=1.0):
            return
    pytest.fail(
        f"the Celery worker did not answer within {WORKER_START_SECONDS}s:\n{worker.output()[-4000:]}"
    )


@pytest.fixture(scope="module")
def celery_worker(django_db_setup: None) -> Iterator[Worker]:
    """A real `celery -A steward worker` on the test database, stopped after this module."""
    _skip_unless_real_setup()
    _purge_broker()
    hostname = f"e2e-{uuid.uuid4().hex[:8]}@steward-tests"
    LOG_DIR.mkdir(exist_ok=True)
    log = LOG_DIR / "celery-e2e-worker.log"
    env = {
        **os.environ,
        "DATABASE_URL": _database_url_for(connection.settings_dict["NAME"]),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [
        str(Path(sys.executable).parent / "celery"),
        "-A",
        "steward",
        "worker",
        "--pool=solo",
        "--concurrency=1",
        "-Q",
        "celery",
        "-n",
        hostname,
        "--loglevel=INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    with log.open("wb") as sink:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(process=process, hostname=hostname, log=log)
    try:
        _wait_until_ready(worker)
        yield worker
    finally:
        _stop(worker)


def _run_on_worker(worker: Worker) -> tuple[AsyncResult, dict[str, object]]:
    result = verify_audit_chain_task.delay()
    assert not isinstance(result, EagerResult), "the task ran in the test process, not on the worker"
    try:
        value = result.get(timeout=RESULT_SECONDS)
    except Exception as exc:
        pytest.fail(f"no result from the worker ({exc!r}):\n{worker.output()[-4000:]}")
    # The worker's own log names the task: it ran there, and its result came back through Redis.
    assert result.id in worker.output(), worker.output()[-4000:]
    return result, value


@pytest.mark.django_db(transaction=True)
def test_worker_verifies_the_audit_chain_the_test_committed(celery_worker):
    assert settings.CELERY_TASK_ALWAYS_EAGER is False
    for code in ("harbourcall", "kowloon-digital", "lantau-it"):
        vendor_create(actor=None, code=code, name=f"{code} Ltd")
    committed = AuditEvent.objects.count()
    assert committed >= 3

    result, value = _run_on_worker(celery_worker)

    assert result.state == "SUCCESS"
    assert value == {"ok": True, "checked": committed, "first_broken_seq": None}


@pytest.mark.django_db(transaction=True)
def test_worker_finds_a_link_the_test_broke(celery_worker):
    for code in ("harbourcall", "kowloon-digital", "lantau-it"):
        vendor_create(actor=None, code=code, name=f"{code} Ltd")
    second = AuditEvent.objects.order_by("seq")[1]
    # Raw SQL, as someone with database access would do it: the ORM refuses to edit the trail.
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {AuditEvent._meta.db_table} SET object_repr = %s WHERE seq = %s",  # noqa: S608
            ["Tampered Ltd", second.seq],
        )
    assert audit.verify_chain().first_broken_seq == second.seq  # what the worker should find too

    _result, value = _run_on_worker(celery_worker)

    assert value["ok"] is False
    assert value["first_broken_seq"] == second.seq


@pytest.mark.django_db
def test_readyz_reports_the_broker_ok(client):
    _skip_unless_real_setup()

    response = client.get("/readyz")

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "ok", "database": "postgresql", "broker": "ok"}
