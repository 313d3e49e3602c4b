"""The scheduled jobs (Celery beat) call the same services; the demo seed loads through them too."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone

from core.dashboard import dashboard_panels
from core.testing.factories import UserFactory
from customers import privacy, retention, tasks
from customers.privacy_models import PrivacyRequest, QualityIssue, RefusalLogEntry, RetentionRun
from customers.tests.dpo_fixtures import make_customer

pytestmark = pytest.mark.django_db


def test_the_beat_schedule_runs_reminders_retention_and_quality_daily():
    names = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {
        "customers.tasks.privacy_reminders",
        "customers.tasks.retention_run",
        "customers.tasks.quality_run",
    } <= names


def test_the_tasks_call_the_services(dpo):
    customer = make_customer(email="broken@")
    privacy.privacy_request_create(
        actor=dpo,
        kind="access",
        customer=customer,
        requester_name="Chan",
        requester_contact="c@example.hk",
        received_at=timezone.now() - timedelta(days=39),
    )
    assert tasks.privacy_reminders.delay().get() == 1
    retention.retention_defaults_install(actor=dpo)
    result = tasks.retention_run.delay().get()
    assert RetentionRun.objects.get(
        pk=result["dry_run"]
    ).dry_run  # the scheduled run is dry unless told otherwise
    assert "affected" not in result
    assert tasks.quality_run.delay().get()["opened"] >= 1
    assert QualityIssue.objects.filter(rule="invalid_email").exists()


def test_the_dpo_sees_the_clock_on_the_home_page_and_marketing_does_not(dpo):
    customer = make_customer()
    privacy.privacy_request_create(
        actor=dpo,
        kind="access",
        customer=customer,
        requester_name="Chan",
        requester_contact="c@example.hk",
        received_at=timezone.now() - timedelta(days=45),
    )
    panel = next(p for p in dashboard_panels(dpo) if p.title == "Privacy requests")
    assert dict(panel.figures) == {"Open": 1, "Due ≤ 7 days": 0, "Overdue": 1}
    marketing = UserFactory(username="mandy", roles=["marketing"])
    assert not [p for p in dashboard_panels(marketing) if p.title == "Privacy requests"]


def test_the_demo_seed_loads_each_stage_once():
    from customers.demo_privacy import seed_privacy

    UserFactory(username="dpo", roles=["data_protection_officer"])
    assert seed_privacy() is True
    assert seed_privacy() is False
    statuses = set(PrivacyRequest.objects.values_list("status", flat=True))
    assert statuses == {"verified", "received", "partial", "refused", "completed"}
    assert RefusalLogEntry.objects.count() == 1
