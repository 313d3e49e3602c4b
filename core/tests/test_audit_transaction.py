"""Audit rows are written in the same transaction as the change they record (Zulip's rule)."""

from __future__ import annotations

import pytest
from django.db import transaction

from core import audit
from core.models import AuditChainHead, AuditEvent
from vendors.models import Vendor
from vendors.services import vendor_create

pytestmark = pytest.mark.django_db


class Boom(Exception):
    pass


def test_the_audit_row_rolls_back_with_its_failed_transaction():
    vendor_create(actor=None, code="kept", name="Kept Ltd")
    head_before = AuditChainHead.objects.values_list("last_seq", "last_hash").get()
    with pytest.raises(Boom), transaction.atomic():
        vendor_create(actor=None, code="lost", name="Lost Ltd")
        assert AuditEvent.objects.filter(object_repr="Lost Ltd").exists()  # written, not yet committed
        raise Boom
    assert not Vendor.objects.filter(code="lost").exists()
    assert not AuditEvent.objects.filter(object_repr="Lost Ltd").exists()
    assert AuditChainHead.objects.values_list("last_seq", "last_hash").get() == head_before
    # The chain carries on from the last committed row, without a gap.
    vendor_create(actor=None, code="next", name="Next Ltd")
    assert list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2]
    assert audit.verify_chain().ok


def test_a_change_whose_audit_row_cannot_be_written_is_not_saved(monkeypatch):
    def failing_hash(event):
        raise Boom("the audit write failed")

    monkeypatch.setattr(audit, "_payload_hash", failing_hash)
    with pytest.raises(Boom):
        vendor_create(actor=None, code="unaudited", name="Unaudited Ltd")
    assert not Vendor.objects.filter(code="unaudited").exists()
    assert not AuditEvent.objects.exists()


def test_a_failed_audit_write_is_not_swallowed_by_a_savepoint(monkeypatch):
    """A caller that catches the error still cannot commit the change without its audit row."""
    monkeypatch.setattr(audit, "_payload_hash", lambda event: (_ for _ in ()).throw(Boom()))
    with pytest.raises(Exception), transaction.atomic():  # noqa: B017 (Boom, then the broken transaction)
        vendor = Vendor.objects.create(code="sneaky", name="Sneaky Ltd")
        try:
            audit.record_change(AuditEvent.Action.CREATE, vendor)
        except Boom:
            pass
        Vendor.objects.create(code="after", name="After Ltd")  # the transaction is marked for rollback
    assert not Vendor.objects.filter(code__in=["sneaky", "after"]).exists()
