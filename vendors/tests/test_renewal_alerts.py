"""Renewal and notice alerts at configurable lead times (default 120, 90 and 30 days), raised by a
daily task, e-mailed to the contract's owner once per lead time, and shown on the dashboard."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail

from core.testing.personas import api_call, assert_outsider_blocked
from vendors import services, tasks
from vendors.models import ContractAlert


@pytest.fixture
def kinds(django_capture_on_commit_callbacks):
    """Run the daily task as of a day (sending its e-mails) and list the alerts raised so far."""

    def run(today: str) -> list[tuple[str, int]]:
        with django_capture_on_commit_callbacks(execute=True):
            tasks.raise_contract_alerts(today)
        return sorted(ContractAlert.objects.values_list("kind", "lead_days"))

    return run


def test_alerts_are_raised_at_120_90_and_30_days_before_the_notice_deadline(contract, vendor_manager, kinds):
    # Term ends 31 Dec 2026, 90 days' notice: notice by 2 Oct 2026.
    assert kinds("2026-06-03") == []  # 121 days before the notice deadline
    assert kinds("2026-06-04") == [("notice", 120)]
    assert kinds("2026-06-05") == [("notice", 120)], "once per lead time"
    assert kinds("2026-07-04") == [("notice", 90), ("notice", 120)]
    assert kinds("2026-09-02") == [("expiry", 120), ("notice", 30), ("notice", 90), ("notice", 120)]
    assert all(m.to == [vendor_manager.email] for m in mail.outbox)
    assert "notice deadline 02 Oct 2026 (120 days)" in mail.outbox[0].body


def test_a_late_first_run_raises_only_the_nearest_lead_time(contract, kinds):
    assert kinds("2026-09-20") == [("expiry", 120), ("notice", 30)]


def test_lead_times_are_configurable_per_contract(contract, vendor_manager, kinds):
    services.contract_update(actor=vendor_manager, contract=contract, alert_days=[60, 14])
    assert kinds("2026-06-04") == []
    assert kinds("2026-08-03") == [("notice", 60)]


def test_a_renewed_term_raises_nothing(contract, vendor_manager, kinds):
    renewal = services.contract_version_create(
        actor=vendor_manager,
        contract=contract,
        kind="renewal",
        start=date(2027, 1, 1),
        end=date(2028, 12, 31),
    )
    services.contract_version_activate(actor=vendor_manager, version=renewal)
    assert kinds("2026-09-02") == []


def test_the_renewals_list_and_acknowledging_an_alert(client, contract, vendor_manager):
    tasks.raise_contract_alerts("2026-09-02")
    with_dates = api_call(client, "get", "/api/v1/vendors/renewals?within_days=730", vendor_manager).json()
    assert [(r["contract_reference"], r["notice_by"]) for r in with_dates["items"]] == [
        ("HC-CS-2025", "2026-10-02")
    ]
    alerts = api_call(client, "get", "/api/v1/vendors/alerts", vendor_manager).json()["items"]
    assert len(alerts) == 2
    response = api_call(
        client, "post", f"/api/v1/vendors/alerts/{alerts[0]['id']}/acknowledge", vendor_manager
    )
    assert response.status_code == 200 and response.json()["acknowledged_at"]
    assert api_call(client, "get", "/api/v1/vendors/alerts", vendor_manager).json()["count"] == 1


def test_the_dashboard_counts_deadlines(client, contract, vendor_manager, outsider):
    from vendors import selectors

    figures = selectors.dashboard_figures(user=vendor_manager, today=date(2026, 9, 10))
    assert (figures["notice_30"], figures["renewals_120"]) == (1, 1)
    assert selectors.dashboard_figures(user=outsider, today=date(2026, 9, 10))["renewals_120"] == 0


def test_alerts_are_internal(client, contract, portal_user, outsider, no_role_user):
    tasks.raise_contract_alerts("2026-09-02")
    alert = ContractAlert.objects.earliest("id")
    for persona in (portal_user, outsider, no_role_user):
        assert_outsider_blocked(client, persona, "get", "/api/v1/vendors/alerts")
        assert_outsider_blocked(client, persona, "post", f"/api/v1/vendors/alerts/{alert.pk}/acknowledge")
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
