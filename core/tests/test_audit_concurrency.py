"""Concurrent appends are serialised on the chain head (SELECT … FOR UPDATE): no lost or
duplicated sequence numbers, no forked chain. PostgreSQL only: that is where requests run
in parallel against one database (SQLite's single writer lock serialises them anyway)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections

from core import audit
from core.models import AuditEvent
from vendors.services import vendor_create

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs concurrent writers (PostgreSQL)"),
]

THREADS = 4
PER_THREAD = 25


def test_concurrent_appends_keep_one_unbroken_chain():
    start = threading.Barrier(THREADS)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for i in range(PER_THREAD):
                if i % 5 == 0:
                    vendor_create(actor=None, code=f"t{n}-{i}", name=f"Thread {n} vendor {i}")
                else:
                    audit.record_event(AuditEvent.Action.OTHER, object_type="test", object_id=f"{n}-{i}")
        except BaseException as exc:  # reported below, in the test's own thread
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    total = THREADS * PER_THREAD
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == list(range(1, total + 1))
    report = audit.verify_chain()
    assert report.ok, report
    assert report.checked == total
