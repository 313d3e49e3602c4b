"""Named segments stay current after a customer's details or orders change outside an order load
(issue 7 item 4): a customer load, a duplicate merge and its undo, a correction, and retention's
anonymisation each queue one refresh of the customers they touched, run after the change commits."""

from __future__ import annotations

import pytest

from core.testing.personas import api_call
from customers import duplicates, privacy, retention, services, tasks
from customers.models import Customer, CustomerMetrics
from customers.privacy_models import CustomerMerge, DuplicateCandidate
from customers.tests.dpo_fixtures import days_ago, make_customer, make_order
from customers.tests.sales_helpers import Caller, customer, person

pytestmark = pytest.mark.django_db


@pytest.fixture
def refreshes(monkeypatch):
    """The customer ids of every queued refresh, which still runs (eager Celery in tests)."""
    calls: list[list[int]] = []
    delay = tasks.refresh_sales_rollups.delay

    def counted(months, customer_ids):
        calls.append(sorted(customer_ids))
        return delay(months, customer_ids)

    monkeypatch.setattr(tasks.refresh_sales_rollups, "delay", counted)
    return calls


@pytest.fixture
def sha_tin():
    """A segment of the customers in Sha Tin."""
    return services.segment_create(actor=person("marketing"), name="Sha Tin", filters={"district": "Sha Tin"})


def members(segment) -> set[str]:
    return set(
        Customer.objects.filter(segment_memberships__segment=segment).values_list("external_id", flat=True)
    )


def test_a_merge_takes_the_merged_record_out_and_its_undo_brings_it_back(
    client, dpo, sha_tin, refreshes, django_capture_on_commit_callbacks
):
    survivor = make_customer(external_id="A", phone="+852 9123 4567", address_line="", district="Sha Tin")
    other = make_customer(external_id="B", family_name="Chen", email="", phone="91234567", district="Sha Tin")
    make_order(other, days_ago(5), total="350.00")
    services.segment_refresh(actor=person("crm_staff", "crm"), segment=sha_tin)
    assert members(sha_tin) == {"A", "B"}
    assert duplicates.duplicates_detect(actor=dpo) == 1
    candidate = DuplicateCandidate.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = api_call(
            client,
            "post",
            f"/api/v1/customers/duplicates/{candidate.pk}/merge",
            dpo,
            {"survivor_id": survivor.pk},
        )
    assert response.status_code == 201, response.content
    assert refreshes == [sorted([survivor.pk, other.pk])]  # one refresh for the merge
    assert members(sha_tin) == {"A"}
    assert survivor.metrics.orders_count == 1  # the moved order counts for the survivor now
    assert not CustomerMetrics.objects.filter(customer_id=other.pk).exists()  # its orders moved

    with django_capture_on_commit_callbacks(execute=True):
        undone = api_call(
            client, "post", f"/api/v1/customers/merges/{CustomerMerge.objects.get().pk}/undo", dpo
        )
    assert undone.status_code == 200, undone.content
    assert len(refreshes) == 2
    assert members(sha_tin) == {"A", "B"}
    assert Customer.objects.get(pk=other.pk).metrics.orders_count == 1


def test_a_correction_moves_the_customer_into_the_segment_it_now_matches(
    dpo, sha_tin, refreshes, django_capture_on_commit_callbacks
):
    moved = make_customer(external_id="MOVED", district="Tai Po")
    services.segment_refresh(actor=person("crm_staff", "crm"), segment=sha_tin)
    assert members(sha_tin) == set()
    with django_capture_on_commit_callbacks(execute=True):
        privacy.customer_correct(
            actor=dpo, customer=moved, changes={"district": "Sha Tin"}, purpose="customer moved house"
        )
    assert refreshes == [[moved.pk]]
    assert members(sha_tin) == {"MOVED"}
    with django_capture_on_commit_callbacks(execute=True):  # nothing changed: nothing queued
        privacy.customer_correct(
            actor=dpo, customer=moved, changes={"district": "Sha Tin"}, purpose="customer moved house"
        )
    assert len(refreshes) == 1


def test_retention_anonymising_a_customer_takes_it_out_of_segments(
    dpo, sha_tin, refreshes, django_capture_on_commit_callbacks
):
    retention.retention_rule_save(
        actor=dpo,
        category="inactive_customers",
        months=36,
        action="anonymise",
        basis="three years of service",
    )
    old = make_customer(external_id="OLD", district="Sha Tin")
    Customer.objects.filter(pk=old.pk).update(
        created_at=days_ago(1500), updated_at=days_ago(1500), first_seen_at=days_ago(1500)
    )
    make_order(old, days_ago(1400))
    make_customer(external_id="NEW", district="Sha Tin")
    services.segment_refresh(actor=person("crm_staff", "crm"), segment=sha_tin)
    assert members(sha_tin) == {"OLD", "NEW"}
    retention.retention_run(actor=dpo, dry_run=True)
    with django_capture_on_commit_callbacks(execute=True):
        retention.retention_run(actor=dpo, dry_run=False)
    assert refreshes == [[old.pk]]
    assert members(sha_tin) == {"NEW"}


def test_a_customer_load_puts_new_and_moved_customers_into_their_segments(
    client, sha_tin, refreshes, django_capture_on_commit_callbacks
):
    crm = person("crm_staff", "crm")
    services.sales_records_load(actor=crm, kind="customers", records=[customer("STAY", district="Tai Po")])
    services.segment_refresh(actor=crm, segment=sha_tin)
    assert members(sha_tin) == set()
    records = [customer("NEW", district="Sha Tin"), customer("STAY", district="Sha Tin")]
    with django_capture_on_commit_callbacks(execute=True):
        response = Caller(client, crm)("post", "/api/v1/customers/bulk", {"records": records})
    assert response.status_code == 200, response.content
    assert len(refreshes) == 1  # one refresh for the whole load
    assert members(sha_tin) == {"NEW", "STAY"}
