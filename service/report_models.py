"""Service KPI reports (issue 4 items 5–7): the KPI rules, daily and monthly rollups, benchmarks.

Rollups hold, per month × assignee × team × vendor × channel × priority (and per month × assignee
and per day × assignee, both with the assignee's team and vendor), the counts and minute sums
every report figure needs, plus a histogram of first-response and resolution
business minutes in fixed buckets (``BUCKET_EDGES``) so that reports can estimate medians and
90th percentiles without rescanning tickets. They are rebuilt set-based by
``service.rollups.rollups_rebuild`` and kept fresh by ``rollups_refresh_days`` after ingest and
SLA recomputation.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from core.models import StewardModel

# Lower edges (business minutes) of the histogram buckets; the last bucket is open-ended.
BUCKET_EDGES: tuple[int, ...] = (
    0, 5, 10, 15, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1080, 1440, 2160, 2880, 4320, 7200, 10080,
)  # fmt: skip
FIRST_RESPONSE_BUCKETS = tuple(f"fr_h{i:02d}" for i in range(len(BUCKET_EDGES)))
RESOLUTION_BUCKETS = tuple(f"rs_h{i:02d}" for i in range(len(BUCKET_EDGES)))

# Additive columns of both rollups, in the order the rebuild writes them.
SUM_COLUMNS: tuple[str, ...] = (
    "tickets",  # filed tickets (volume)
    "fr_n",  # with a first response: count, business and calendar minute sums, maximum
    "fr_sum",
    "fr_cal_sum",
    "fr_max",
    "resolved",  # resolved now (resolved_at set)
    "resolved_once",  # resolved at least once (first_resolved_at set)
    "res_n",  # with full-resolution minutes: count, business and calendar minute sums, maximum
    "res_sum",
    "res_cal_sum",
    "res_max",
    "first_res_n",  # with first-resolution minutes: count and sum
    "first_res_sum",
    "reopened",  # resolved and reopened at least once
    "one_touch",  # resolved with exactly one public agent reply and never reopened
    "sla_fr_met",
    "sla_fr_breached",
    "sla_nr_met",
    "sla_nr_breached",
    "sla_res_met",
    "sla_res_breached",
    "nr_n",  # next response: tickets with a measured worst gap, and the sum of those gaps
    "nr_sum",
    *FIRST_RESPONSE_BUCKETS,
    *RESOLUTION_BUCKETS,
)
MAX_COLUMNS = frozenset({"fr_max", "res_max"})
DIMENSIONS: tuple[str, ...] = ("agent_id", "team_id", "vendor_id", "channel", "priority")
AGENT_DIMENSIONS: tuple[str, ...] = ("agent_id", "team_id", "vendor_id")


class ServiceKpiRules(StewardModel):
    """Who gets credit for a ticket and by which date it is filed (PRODUCT.md §3 "Attribution").

    One row (pk 1). Changing it rebuilds the rollups; every report page states the rules in force.
    """

    class Attribution(models.TextChoices):
        ASSIGNEE = "assignee", "The assignee at resolution"
        TOUCHED = "touched", "Every agent who sent a public reply"

    class Filing(models.TextChoices):
        CREATED = "created", "Creation date"
        RESOLVED = "resolved", "Resolution date"

    attribution = models.CharField(max_length=10, choices=Attribution.choices, default=Attribution.ASSIGNEE)
    filing = models.CharField(max_length=10, choices=Filing.choices, default=Filing.CREATED)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = "service KPI rules"
        verbose_name_plural = "service KPI rules"

    def __str__(self) -> str:
        return f"Credit: {self.get_attribution_display()}; filed by {self.get_filing_display().lower()}"

    def statement(self) -> str:
        """The rules as one sentence, shown on every report and scorecard drill-down."""
        who = (
            "the agent assigned when the ticket was resolved"
            if self.attribution == self.Attribution.ASSIGNEE
            else "every agent who sent a public reply (a ticket counts once for each of them)"
        )
        when = (
            "the date it was created"
            if self.filing == self.Filing.CREATED
            else "the date it was last resolved"
        )
        return (
            f"Agent figures credit {who}. A ticket is filed in the period of {when} "
            "(Hong Kong time). Merged and spam tickets are excluded from every figure."
        )


def _sum_fields() -> dict[str, Any]:
    return {name: models.PositiveBigIntegerField(default=0) for name in SUM_COLUMNS}


class _Cells(StewardModel):
    # Rollups are derived from tickets, whose own keys are constrained: a database constraint here
    # would only add a deferred check per written row at commit (12 s of a 48 s rebuild at 250,000
    # tickets on PostgreSQL). Deleting an agent, team or vendor still cascades (Django does it).
    # Nor an index per key: every read is by month or day first (the (period, agent) index), and
    # keeping six indexes up to date was a third of the time of writing the rows.
    agent = models.ForeignKey(
        "service.Agent",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    team = models.ForeignKey(
        "service.Team",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    vendor = models.ForeignKey(
        "vendors.Vendor",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    locals().update(_sum_fields())

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        abstract = True


class _RollupBase(_Cells):
    channel = models.CharField(max_length=12)
    priority = models.CharField(max_length=10)

    class Meta:
        abstract = True


class ServiceDailyRollup(_Cells):
    """One day (Hong Kong date, by the filing rule) × assignee × team × vendor.

    No channel or priority: by day at that grain there are nearly as many cells as tickets, and
    writing them was most of a rebuild. Date ranges filtered by channel or priority are reported
    from the stored per-ticket values (``service.reports``)."""

    day = models.DateField()

    class Meta:
        ordering = ["day"]
        indexes = [models.Index(fields=["day", "agent"])]

    def __str__(self) -> str:
        return f"{self.day} agent {self.agent_id}: {getattr(self, 'tickets', 0)} tickets"


class ServiceMonthlyRollup(_RollupBase):
    """The daily rollup summed by month, plus the backlog (unresolved tickets) at the month's end."""

    month = models.DateField(help_text="First day of the month.")
    backlog_end = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["month"]
        indexes = [models.Index(fields=["month", "agent"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} agent {self.agent_id}: {getattr(self, 'tickets', 0)} tickets"


class ServiceAgentMonthRollup(_Cells):
    """The monthly rollup summed over channels and priorities: one row per month × agent (× its team
    and vendor), so that the usual report (a month by agent, no channel or priority filter) reads a
    number of rows that grows with the staff, not with the tickets."""

    month = models.DateField(help_text="First day of the month.")
    backlog_end = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["month"]
        indexes = [models.Index(fields=["month", "agent"])]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} agent {self.agent_id}: {getattr(self, 'tickets', 0)} tickets"


class ServiceBenchmark(StewardModel):
    """A published competitor or industry figure for one service measure (seed 004 §2.3).

    Comparisons are made only like with like: same statistic and same time basis as Steward's
    measure; anything else is refused with the reason.
    """

    class Statistic(models.TextChoices):
        MEDIAN = "median", "Median"
        MEAN = "mean", "Mean"
        P90 = "p90", "90th percentile"
        RATE = "rate", "Rate (%)"

    class TimeBasis(models.TextChoices):
        BUSINESS = "business", "Business hours"
        CALENDAR = "calendar", "Calendar (24/7) time"
        NONE = "none", "Not a time"

    source = models.CharField(max_length=200, help_text="Who published it, e.g. a named industry report.")
    source_url = models.URLField(blank=True)
    period_start = models.DateField()
    period_end = models.DateField(help_text="Last day the published figure covers.")
    industry = models.CharField(max_length=120)
    measure_code = models.CharField(max_length=60, help_text="The Steward measure it is compared with.")
    statistic = models.CharField(max_length=10, choices=Statistic.choices)
    time_basis = models.CharField(max_length=10, choices=TimeBasis.choices)
    unit = models.CharField(max_length=20)
    definition = models.TextField(help_text="The publisher's definition, quoted.")
    value = models.DecimalField(max_digits=14, decimal_places=4)
    illustrative = models.BooleanField(
        default=False, help_text="Sample figures for demonstration, not a real publication."
    )
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["measure_code", "-period_end", "source"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "measure_code", "statistic", "time_basis", "industry", "period_start"],
                name="service_benchmark_once",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source}: {self.measure_code} {self.statistic} {self.value}"
