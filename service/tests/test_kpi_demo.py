"""The service KPI demo loads through the services and is idempotent."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from kpis.models import ScorecardPeriod
from service import demo
from service.report_models import ServiceBenchmark, ServiceMonthlyRollup


@pytest.mark.django_db
def test_seed_reports_builds_scorecards_benchmarks_and_rollups():
    call_command("seed_demo", stdout=None)  # seed_demo loads the service demo, reports included
    assert demo.seed_reports() is False  # …once
    assert ServiceMonthlyRollup.objects.exists()
    assert ServiceBenchmark.objects.filter(illustrative=True).count() == 5
    assert all("not a real publication" in b.definition for b in ServiceBenchmark.objects.all())
    closed = ScorecardPeriod.objects.filter(scorecard__name__startswith="Team scorecard", status="closed")
    assert closed.count() == 3 and all(p.score is not None for p in closed)
    assert demo.seed_reports() is False
