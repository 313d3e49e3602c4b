"""The measurement engine: closing a month for many scorecards (issue 3's performance clause).

Data: N vendor contracts, each with a scorecard of 10 KPIs (weights 10 each, every line a
critical service level with credit terms, so credits are settled too). Nine KPIs read a
submitted measure (N × 9 approved submissions); the tenth reads the built-in computed measure
``approved_submissions`` through its registered selector. Values are seeded so that some
service levels miss and get credits, and some measures have no data (not applicable).

Rows
- *time per scorecard, 1,000 vs 10*: one set-based close of N = 1,000 scorecards against one of
  10, each divided by its number of scorecards. Issue 3 asks that cost grow at most linearly,
  i.e. that the time per scorecard at 1,000 be no worse than at 10: target ≤ 1×. The query
  counts of both runs are in the notes; on PostgreSQL they are equal, on SQLite bulk inserts
  are split into statements of at most 999 parameters by Django, the only growth.
- *set-based against one close per scorecard*: closing 200 scorecards in one run against
  closing the same 200 one call each (what a per-scorecard loop would do). The set-based run
  must take at most half the time (≤ 0.5×).
Every timed close starts from the same state: the period, its results, measure values and
proposed credits are deleted (untimed) before each repetition.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from bench.harness import Context, Row, ratio_row
from kpis import services
from kpis.models import (
    Adjustment,
    CreditTerms,
    ImprovementPlan,
    KpiResult,
    MeasureSubmission,
    MeasureValue,
    Scorecard,
    ScorecardLine,
    ScorecardPeriod,
    StaffRecommendation,
    Subject,
)
from vendors.models import Vendor

MONTH = date(2025, 5, 1)
MONTH_END = date(2025, 6, 1)
TODAY = date(2025, 6, 10)
KPIS = 10
SUBMITTED = KPIS - 1
D = Decimal


def _people() -> tuple[User, User]:
    from django.contrib.auth.models import Group

    author = User.objects.create(username="bench.author")
    approver = User.objects.create(username="bench.approver")
    group = Group.objects.get(name="cs_manager")
    author.groups.add(group)
    approver.groups.add(group)
    return User.objects.get(pk=author.pk), User.objects.get(pk=approver.pk)


def _kpis(author: User, approver: User) -> list[Any]:
    bands = [
        {"label": "Missed", "lower": None, "upper": "90", "score": "0"},
        {"label": "Near", "lower": "90", "upper": "95", "score": "60"},
        {"label": "Met", "lower": "95", "upper": None, "score": "100", "is_target": True},
    ]
    definitions = []
    for i in range(SUBMITTED):
        services.measure_create(actor=author, code=f"bench_m{i}", label=f"Bench measure {i}", unit="%")
        version = services.kpi_define(
            actor=author,
            code=f"bench_k{i}",
            name=f"Bench KPI {i}",
            description="Benchmark KPI.",
            formula=f"bench_m{i} * 1",
            unit="%",
            direction="higher",
            target=D("95"),
            bands=bands,
            effective_from=date(2020, 1, 1),
        )
        services.kpi_version_approve(actor=approver, version=version)
        definitions.append(version.definition)
    counted = services.kpi_define(
        actor=author,
        code="bench_reported",
        name="Reported",
        description="Submissions approved.",
        formula="min(approved_submissions, 10) * 10",
        unit="%",
        direction="higher",
        target=D("95"),
        bands=bands,
        effective_from=date(2020, 1, 1),
    )
    services.kpi_version_approve(actor=approver, version=counted)
    definitions.append(counted.definition)
    return definitions


def _contracts(
    ctx: Context, n: int, definitions: list[Any], author: User, approver: User, tag: str
) -> list[int]:
    """N vendor contracts with a 10-KPI scorecard, credit terms and approved submissions (bulk)."""
    synth = ctx.synth(f"kpis-{tag}")
    vendors = Vendor.objects.bulk_create(
        [Vendor(code=f"{tag}{i:06d}", name=synth.company_name()[:200], status="active") for i in range(n)]
    )
    subjects = Subject.objects.bulk_create(
        [Subject(kind=Subject.Kind.VENDOR_CONTRACT, label=v.name, vendor=v) for v in vendors]
    )
    cards = Scorecard.objects.bulk_create(
        [Scorecard(name=f"Contract {s.label}"[:200], subject=s, granularity="month") for s in subjects]
    )
    ScorecardLine.objects.bulk_create(
        [
            ScorecardLine(
                scorecard=card, kpi=kpi, position=p, weight=D(10), critical=True, allocation_pct=D(10)
            )
            for card in cards
            for p, kpi in enumerate(definitions)
        ]
    )
    CreditTerms.objects.bulk_create(
        [
            CreditTerms(scorecard=card, monthly_fee=synth.money(50_000, 500_000), at_risk_pct=D(10))
            for card in cards
        ]
    )
    from kpis.models import Measure

    measures = list(Measure.objects.filter(code__startswith="bench_m").order_by("code"))
    submissions = []
    for subject in subjects:
        for measure in measures:
            if synth.chance(0.05):
                continue  # no data this month: not applicable
            submissions.append(
                MeasureSubmission(
                    measure=measure,
                    subject=subject,
                    start=MONTH,
                    end=MONTH_END,
                    value=synth.decimal("85", "100", places=1),
                    sample_size=synth.integer(20, 900),
                    status=MeasureSubmission.Status.APPROVED,
                    submitted_by=author,
                    decided_by=approver,
                )
            )
    MeasureSubmission.objects.bulk_create(submissions, batch_size=2000)
    return [card.pk for card in cards]


def _reset() -> None:
    """Back to "nothing computed yet" for the benchmark's month (untimed)."""
    Adjustment.objects.filter(period__start=MONTH).delete()
    StaffRecommendation.objects.filter(period__start=MONTH).delete()
    ImprovementPlan.objects.filter(period__start=MONTH).delete()
    KpiResult.objects.filter(period__start=MONTH).delete()
    ScorecardPeriod.objects.filter(start=MONTH).delete()
    MeasureValue.objects.filter(start=MONTH).delete()


def _close(ids: list[int]) -> None:
    services.periods_compute(
        actor=None,
        scorecards=list(Scorecard.objects.filter(pk__in=ids)),
        start=MONTH,
        close=True,
        today=TODAY,
    )


def _queries(ids: list[int]) -> int:
    _reset()
    with CaptureQueriesContext(connection) as queries:
        _close(ids)
    return len(queries)


def run(ctx: Context) -> list[Row]:
    author, approver = _people()
    definitions = _kpis(author, approver)
    small_n, large_n, loop_n = ctx.size(10, minimum=2), ctx.size(1000, minimum=20), ctx.size(200, minimum=10)
    small = _contracts(ctx, small_n, definitions, author, approver, "s")
    large = _contracts(ctx, large_n, definitions, author, approver, "l")
    looped = _contracts(ctx, loop_n, definitions, author, approver, "p")
    ctx.log(f"kpis: {small_n}, {large_n} and {loop_n} scorecards × {KPIS} KPIs ready")

    small_queries, large_queries = _queries(small), _queries(large)
    small_t = ctx.best_of(lambda: _close(small), setup=_reset)
    large_t = ctx.best_of(lambda: _close(large), setup=_reset, repeats=min(ctx.repeats, 3))
    small_per, large_per = small_t / small_n, large_t / large_n
    _reset()
    rows = [
        ratio_row(
            f"Close a month, {KPIS} KPIs per scorecard: time per scorecard at {large_n:,} vs at {small_n}",
            baseline=(f"{small_n} scorecards ({small_t * 1000:.0f} ms in all)", small_per),
            subject=(f"{large_n:,} scorecards ({large_t:.2f} s in all)", large_per),
            max_ratio=1.0,
            notes=(
                f"queries: {small_queries} at {small_n}, {large_queries} at {large_n:,}"
                + (" (equal)" if small_queries == large_queries else " (only bulk-insert batches differ)")
            ),
        )
    ]

    def one_by_one() -> None:
        for card in Scorecard.objects.filter(pk__in=looped):
            services.periods_compute(actor=None, scorecards=[card], start=MONTH, close=True, today=TODAY)

    rows.append(
        ctx.compare(
            f"Close a month for {loop_n} scorecards: set-based vs one close per scorecard",
            baseline=("one periods_compute per scorecard", one_by_one),
            subject=("one set-based periods_compute", lambda: _close(looped)),
            max_ratio=0.5,
            setup=_reset,
            repeats=min(ctx.repeats, 3),
            notes="same data, same results; the loop repeats the fixed per-run queries for every scorecard",
        )
    )
    _reset()
    return rows
