"""DPP2(2), s26: retention rules, a dry run first, then the run; figures stay intact."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db.models import Sum
from django.utils import timezone

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers import privacy, retention
from customers.models import BehaviourEvent, Customer, Order
from customers.privacy_models import RetentionRule, RetentionRun
from customers.tests.dpo_fixtures import days_ago, make_customer, make_event, make_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(dpo):
    retention.retention_rule_save(
        actor=dpo,
        category="inactive_customers",
        months=36,
        action="anonymise",
        basis="three years of service",
    )
    retention.retention_rule_save(
        actor=dpo, category="events", months=13, action="erase", basis="twelve months"
    )


def _age(customer, days):
    Customer.objects.filter(pk=customer.pk).update(
        created_at=days_ago(days), updated_at=days_ago(days), first_seen_at=days_ago(days)
    )


def test_dry_run_then_run_anonymises_inactive_customers_and_keeps_the_figures(dpo, rules):
    old = make_customer(external_id="OLD")
    _age(old, 1500)
    make_order(old, days_ago(1400), total="800.00")
    make_order(old, days_ago(1300), total="200.00")
    active = make_customer(external_id="ACTIVE", email="active@example.hk")
    _age(active, 1500)
    make_order(active, days_ago(30))
    make_event(active, days_ago(500))  # an old event: erased by the events rule
    make_event(active, days_ago(10))
    revenue = Order.objects.aggregate(total=Sum("total"))["total"]

    with pytest.raises(ValidationError, match="dry"):
        retention.retention_run(actor=dpo, dry_run=False)

    dry = retention.retention_run(actor=dpo, dry_run=True)
    report = {r["category"]: r for r in dry.report}
    assert report["inactive_customers"]["count"] == 1 and report["inactive_customers"]["samples"] == [old.pk]
    assert report["events"]["count"] == 1
    old.refresh_from_db()
    assert old.email and old.anonymised_at is None  # the dry run changed nothing

    run = retention.retention_run(actor=dpo, dry_run=False)
    assert run.total == 2
    old.refresh_from_db()
    assert old.anonymised_at is not None
    assert (old.given_name, old.family_name, old.chinese_name, old.email, old.phone, old.address_line) == (
        "",
    ) * 6
    assert old.district == "Yau Tsim Mong"
    # Aggregates intact: every order and amount is still there, still counted for the (anonymous) customer.
    assert Order.objects.aggregate(total=Sum("total"))["total"] == revenue
    assert Order.objects.filter(customer=old).count() == 2
    assert BehaviourEvent.objects.count() == 1
    assert active.__class__.objects.get(pk=active.pk).email == "active@example.hk"
    assert AuditEvent.objects.filter(object_type="customers.retentionrun", action="delete").count() == 1
    # Personal values never reach the audit trail of the run.
    assert "siuming" not in json.dumps(list(AuditEvent.objects.values_list("changes", flat=True)))


def test_a_customer_with_an_open_request_keeps_their_data(dpo, rules):
    old = make_customer(external_id="ASKING")
    _age(old, 1500)
    privacy.privacy_request_create(
        actor=dpo,
        kind="access",
        customer=old,
        requester_name="Chan",
        requester_contact="a@example.hk",
        received_at=timezone.now(),
    )
    _age(old, 1500)
    dry = retention.retention_run(actor=dpo, dry_run=True)
    assert {r["category"]: r["count"] for r in dry.report}["inactive_customers"] == 0


def test_orders_are_only_anonymised_never_erased(dpo):
    with pytest.raises(ValidationError, match="figures"):
        retention.retention_rule_save(actor=dpo, category="orders", months=84, action="erase", basis="tax")
    rule = retention.retention_rule_save(
        actor=dpo, category="orders", months=84, action="anonymise", basis="tax"
    )
    customer = make_customer()
    order = make_order(customer, days_ago(3000), total="123.45")
    retention.retention_run(actor=dpo, dry_run=True)
    retention.retention_run(actor=dpo, dry_run=False)
    order.refresh_from_db()
    assert order.customer_id is None and order.total == Decimal("123.45")
    assert rule.months == 84


def test_the_command_and_the_api_run_the_same_job(client, dpo, capsys):
    call_command("retention_run", "--dry-run", "--install-defaults")
    assert RetentionRule.objects.count() == 5
    assert "Dry run" in capsys.readouterr().out
    response = api_call(client, "post", "/api/v1/customers/retention/runs", dpo, {"dry_run": False})
    assert response.status_code == 201, response.content
    assert response.json()["dry_run"] is False
    assert RetentionRun.objects.count() == 2


def test_bad_rules_are_refused_and_write_nothing(client, dpo):
    headers = bearer(dpo)
    with nothing_written(RetentionRule):
        response = client.put(
            "/api/v1/customers/retention/rules",
            data=json.dumps({"category": "orders", "months": 12, "action": "erase", "basis": "x"}),
            content_type="application/json",
            **headers,
        )
    assert_problem(response, 422)


def test_outsiders_cannot_see_or_run_retention(client, dpo, outsider, no_role_user, rules):
    run = retention.retention_run(actor=dpo, dry_run=True)
    for user in (outsider, no_role_user):
        assert_outsider_blocked(client, user, "GET", f"/api/v1/customers/retention/runs/{run.pk}")
        assert_outsider_blocked(
            client, user, "POST", "/api/v1/customers/retention/runs", body={"dry_run": True}
        )
    assert RetentionRun.objects.count() == 1


def test_the_dpo_runs_it_from_the_page(client, dpo, rules):
    client.force_login(dpo)
    assert client.get("/customers/retention/").status_code == 200
    response = client.post("/customers/retention/start/", {"mode": "dry"})
    run = RetentionRun.objects.get()
    assert response.url == f"/customers/retention/runs/{run.pk}/"
    assert "Would affect" in client.get(response.url).content.decode()
