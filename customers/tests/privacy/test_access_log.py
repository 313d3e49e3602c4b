"""The access log per customer and per user, and the alert on unusual volumes of reads (DPP4)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.testing.personas import api_call, assert_outsider_blocked
from customers import access_log
from customers.field_access import customer_fields_for
from customers.models import CustomerAccess
from customers.tasks import check_unusual_access
from customers.tests.privacy.conftest import make_customer

pytestmark = pytest.mark.django_db


@pytest.fixture
def customers():
    return [make_customer(f"C-3{i:02d}", f"Name{i}", "Ho") for i in range(5)]


def test_reads_are_logged_per_customer_and_per_user(client, dpo, agent, customers):
    first = customers[0]
    customer_fields_for(agent, first)
    customer_fields_for(dpo, first, purpose="Correction request COR-88")
    rows = access_log.access_log(user=dpo, customer_id=first.pk)
    assert [(r.actor_username, r.purpose) for r in rows] == [
        ("daniel", "reveal: Correction request COR-88"),
        ("kelvin", "routine view (contact details masked)"),
    ]
    assert access_log.access_log(user=dpo, actor_id=agent.pk).count() == 1
    listing = api_call(client, "get", f"/api/v1/customers/privacy/access-log?user_id={agent.pk}", dpo).json()
    assert [i["customer_id"] for i in listing["items"]] == [first.pk]
    client.force_login(dpo)
    csv = client.get(f"/customers/consent/access-log/?customer={first.pk}&format=csv").content.decode(
        "utf-8-sig"
    )
    assert "COR-88" in csv and csv.count("\n") == 3
    page = client.get(f"/customers/consent/access-log/?customer={first.pk}").content.decode()
    assert "kelvin" in page and "COR-88" in page


def test_an_export_is_logged_for_every_customer_in_it(dpo, customers):
    access_log.record_customer_reads(
        actor=dpo,
        action="export",
        customer_ids=[c.pk for c in customers],
        purpose="Test export",
        fields=["email"],
    )
    access_log.index_audit_trail()
    assert CustomerAccess.objects.filter(purpose="Test export").count() == len(customers)
    assert access_log.access_log(user=dpo, customer_id=customers[3].pk).get().action == "export"


def test_unusual_reads_raise_one_alert_and_mail_the_dpo(
    settings, dpo, agent, customers, mailoutbox, django_capture_on_commit_callbacks
):
    settings.STEWARD_ACCESS_ALERT_PER_HOUR = 3
    settings.STEWARD_ACCESS_ALERT_PER_DAY = 1000
    for customer in customers:
        customer_fields_for(agent, customer)
    later = timezone.now() + timedelta(hours=1)
    with django_capture_on_commit_callbacks(execute=True):
        raised = access_log.unusual_access_check(now=later)
    assert [(a.user, a.window, a.reads) for a in raised] == [(agent, "hour", 5)]
    assert mailoutbox[0].to == [dpo.email] and "kelvin" in mailoutbox[0].body
    assert access_log.unusual_access_check(now=later) == [], "raised once per user and window"
    assert check_unusual_access.apply().get() == 0


def test_the_dpo_acknowledges_an_alert(client, settings, dpo, agent, customers):
    settings.STEWARD_ACCESS_ALERT_PER_HOUR = 1
    for customer in customers[:2]:
        customer_fields_for(agent, customer)
    (alert,) = access_log.unusual_access_check(now=timezone.now() + timedelta(hours=1))
    client.force_login(dpo)
    assert "kelvin" in client.get("/customers/consent/access-alerts/").content.decode()
    client.post(
        f"/customers/consent/access-alerts/{alert.pk}/acknowledge/", {"note": "Bulk callback list, approved"}
    )
    alert.refresh_from_db()
    assert alert.acknowledged_by == dpo
    response = api_call(
        client,
        "post",
        f"/api/v1/customers/privacy/access-alerts/{alert.pk}/acknowledge",
        dpo,
        {"note": "again"},
    )
    assert response.status_code == 422
    assert "Open access alerts" in client.get("/").content.decode()


def test_the_access_log_is_the_dpo_and_auditors_business(
    client, outsider, no_role_user, agent, marketer, auditor, customers
):
    customer_fields_for(agent, customers[0])
    for person in (outsider, no_role_user, agent, marketer):
        response = api_call(client, "get", "/api/v1/customers/privacy/access-log", person)
        assert response.status_code == 403, response.content
        assert_outsider_blocked(client, person, "get", "/api/v1/customers/privacy/access-alerts")
        client.force_login(person)
        assert client.get("/customers/consent/access-log/").status_code == 403
    assert api_call(client, "get", "/api/v1/customers/privacy/access-log", auditor).json()["count"] == 1
