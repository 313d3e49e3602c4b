# mypy: disable-error-code="attr-defined, misc"
"""factory_boy factories for the measurement engine (used by the every-endpoint outsider test too).

They build rows directly, without the services' rules, to give tests objects to point at.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone

from core.testing.factories import UserFactory, VendorFactory
from kpis import models

BANDS = [
    {"label": "Missed", "lower": None, "upper": "95", "score": "0", "is_target": False},
    {"label": "Met", "lower": "95", "upper": None, "score": "100", "is_target": True},
]


class MeasureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Measure
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"factory_measure_{n}")
    label = factory.LazyAttribute(lambda m: m.code.replace("_", " "))
    unit = "%"
    source = models.Measure.Source.SUBMITTED


class SubjectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Subject

    kind = models.Subject.Kind.VENDOR
    vendor = factory.SubFactory(VendorFactory)
    label = factory.LazyAttribute(lambda s: s.vendor.name)


class KpiDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.KpiDefinition

    code = factory.Sequence(lambda n: f"factory_kpi_{n}")
    name = factory.Sequence(lambda n: f"Factory KPI {n}")


class KpiVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.KpiVersion

    definition = factory.SubFactory(KpiDefinitionFactory)
    number = 1
    name = factory.LazyAttribute(lambda v: v.definition.name)
    description = "A factory KPI."
    formula = factory.LazyFunction(lambda: MeasureFactory(code="factory_measure").code)
    unit = "%"
    direction = models.KpiVersion.Direction.HIGHER
    target = Decimal(95)
    bands = BANDS
    effective_from = date(2020, 1, 1)
    reason = "Factory."
    author = factory.SubFactory(UserFactory)
    status = models.KpiVersion.Status.APPROVED
    approved_by = factory.SubFactory(UserFactory)
    approved_at = factory.LazyFunction(timezone.now)


class ScorecardFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Scorecard
        skip_postgeneration_save = True  # the hook writes a line; the scorecard itself is unchanged

    name = factory.Sequence(lambda n: f"Scorecard {n}")
    subject = factory.SubFactory(SubjectFactory)

    @factory.post_generation
    def line(self, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            version = KpiVersionFactory()
            models.ScorecardLine.objects.create(
                scorecard=self,
                kpi=version.definition,
                weight=Decimal(100),
                critical=True,
                allocation_pct=Decimal(100),
            )


class ScorecardPeriodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ScorecardPeriod

    scorecard = factory.SubFactory(ScorecardFactory)
    start = date(2025, 5, 1)
    end = date(2025, 6, 1)
    status = models.ScorecardPeriod.Status.CLOSED
    score = Decimal("60.00")
    computed_at = factory.LazyFunction(timezone.now)


class KpiResultFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.KpiResult

    period = factory.SubFactory(ScorecardPeriodFactory)
    version = factory.SubFactory(KpiVersionFactory)
    kpi = factory.LazyAttribute(lambda r: r.version.definition)
    value = Decimal("92")
    target = Decimal("95")
    attainment = Decimal("0")
    band_label = "Missed"
    met_target = False
    weight = Decimal(100)
    computed_at = factory.LazyFunction(timezone.now)


class AdjustmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Adjustment

    period = factory.SubFactory(ScorecardPeriodFactory)
    kpi = factory.SubFactory(KpiDefinitionFactory)
    kind = models.Adjustment.Kind.CREDIT
    computed_amount = Decimal("2000.00")
    proposed_amount = Decimal("2000.00")
    explanation = factory.LazyFunction(lambda: ["missed: pool 50% × allocation 40% × at-risk HK$10,000.00"])


class MeasureSubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.MeasureSubmission

    measure = factory.SubFactory(MeasureFactory)
    subject = factory.SubFactory(SubjectFactory)
    start = date(2025, 5, 1)
    end = date(2025, 6, 1)
    value = Decimal("97.5")
    submitted_by = factory.SubFactory(UserFactory)


class StaffRecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.StaffRecommendation

    period = factory.SubFactory(ScorecardPeriodFactory)
    proposed = models.Standing.Recommendation.COACHING
    basis = "Factory."


class ImprovementPlanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ImprovementPlan

    period = factory.SubFactory(ScorecardPeriodFactory)
    due_on = date(2025, 6, 15)
