# mypy: disable-error-code="attr-defined"
"""Factories for the vendor register's tests (and the outsider walk, which builds one of each for a vendor).

Rows are built directly, not through the services: a factory gives a test the state it needs;
the behaviour under test goes through the services.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from core.testing.factories import UserFactory, VendorFactory
from kpis.models import KpiDefinition
from vendors import models
from vendors.risk import DEFAULT_QUESTIONNAIRE


class KpiDefinitionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = KpiDefinition
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"kpi_{n}")
    name = factory.Sequence(lambda n: f"KPI {n}")


class VendorServiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.VendorService

    vendor = factory.SubFactory(VendorFactory)
    category = models.ServiceCategory.CUSTOMER_SERVICE
    service_model = models.ServiceModel.BPO


class VendorStatusChangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.VendorStatusChange

    vendor = factory.SubFactory(VendorFactory)
    from_status = "onboarding"
    to_status = "active"
    reason = "Go-live signed off."


class RiskQuestionnaireFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RiskQuestionnaire
        django_get_or_create = ("code", "version")

    code = DEFAULT_QUESTIONNAIRE["code"]
    version = 1
    title = DEFAULT_QUESTIONNAIRE["title"]
    questions = DEFAULT_QUESTIONNAIRE["questions"]
    tiers = DEFAULT_QUESTIONNAIRE["tiers"]


class RiskAssessmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RiskAssessment

    vendor = factory.SubFactory(VendorFactory)
    questionnaire = factory.SubFactory(RiskQuestionnaireFactory)
    answers = factory.LazyFunction(dict)
    score = Decimal("40.00")
    tier = models.RiskTier.MEDIUM
    notes = "Confidential: handles our customers' order history."


class VendorContactFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.VendorContact

    vendor = factory.SubFactory(VendorFactory)
    name = factory.Sequence(lambda n: f"Contact {n}")
    email = factory.Sequence(lambda n: f"contact{n}@vendor.example.hk")
    phone = "+852 2345 6789"
    escalation_level = 2


class VendorDocumentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.VendorDocument

    vendor = factory.SubFactory(VendorFactory)
    kind = models.VendorDocument.Kind.CERTIFICATE
    title = "ISO/IEC 27001 certificate"
    issued_on = date(2024, 3, 1)
    expires_on = date(2027, 2, 28)


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Contract

    vendor = factory.SubFactory(VendorFactory)
    reference = factory.Sequence(lambda n: f"CT-{n:04d}")
    title = "Customer-service outsourcing"
    our_entity = "Steward Trading (HK) Ltd"
    vendor_entity = factory.LazyAttribute(lambda c: c.vendor.name)


class ContractVersionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ContractVersion

    contract = factory.SubFactory(ContractFactory)
    number = 1
    kind = models.ContractVersion.Kind.ORIGINAL
    status = models.ContractVersion.Status.ACTIVE
    start = date(2025, 1, 1)
    end = date(2026, 12, 31)
    effective_end = factory.LazyAttribute(lambda v: v.end)
    notice_period_days = 90
    notice_by = factory.LazyAttribute(lambda v: v.end - timedelta(days=v.notice_period_days))
    monthly_fee = Decimal("100000.00")
    at_risk_pct = Decimal("10.00")


class FeeItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.FeeItem

    version = factory.SubFactory(ContractVersionFactory)
    description = "Monthly service fee"
    basis = models.FeeItem.Basis.MONTHLY
    amount = Decimal("100000.00")


class ScopeItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ScopeItem

    version = factory.SubFactory(ContractVersionFactory)
    kind = models.ScopeItem.Kind.SCOPE
    description = "Answer customer enquiries by phone, e-mail and chat"


class RaciEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.RaciEntry

    version = factory.SubFactory(ContractVersionFactory)
    activity = factory.Sequence(lambda n: f"Activity {n}")
    company_role = "A"
    vendor_role = "R"


class ServiceLevelFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ServiceLevel

    version = factory.SubFactory(ContractVersionFactory)
    kpi = factory.SubFactory(KpiDefinitionFactory)
    kind = models.ServiceLevel.Kind.CRITICAL
    allocation_pct = Decimal("50")
    weight = Decimal("50")


class ObligationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.Obligation

    contract = factory.SubFactory(ContractFactory)
    title = "Monthly service report"
    recurrence = models.Obligation.Recurrence.ONCE
    first_due_on = date(2025, 2, 5)


class ObligationInstanceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ObligationInstance

    obligation = factory.SubFactory(ObligationFactory)
    due_on = date(2025, 2, 5)
    status = models.ObligationInstance.Status.DUE


class ObligationEvidenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ObligationEvidence

    instance = factory.SubFactory(ObligationInstanceFactory)
    file = "vendors/evidence/factory-evidence.pdf"  # a name only: no file is written
    file_name = "January report.pdf"
    content_type = "application/pdf"
    size = 1234
    sha256 = "0" * 64
    uploaded_by = factory.SubFactory(UserFactory)


class ContractAlertFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ContractAlert

    contract = factory.SubFactory(ContractFactory)
    version = factory.SubFactory(ContractVersionFactory, contract=factory.SelfAttribute("..contract"))
    kind = models.ContractAlert.Kind.NOTICE
    due_on = date(2026, 10, 2)
    lead_days = 90
    raised_on = date(2026, 7, 4)


class LiaisonEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.LiaisonEntry

    vendor = factory.SubFactory(VendorFactory)
    kind = models.LiaisonEntry.Kind.MEETING
    occurred_at = factory.LazyFunction(timezone.now)
    title = "Monthly service review"
    minutes = "Internal view: considering a second vendor."


class ActionItemFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ActionItem

    vendor = factory.SubFactory(VendorFactory)
    description = "Send the revised staffing plan"
    owner_party = models.Party.VENDOR
    due_on = date(2025, 3, 1)


class UpdateRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.UpdateRequest

    vendor = factory.SubFactory(VendorFactory)
    title = "Progress on the chatbot pilot"
    details = "Send the pilot's containment rate and next steps."
    due_on = date(2025, 3, 15)


class BusinessFunctionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.BusinessFunction

    area = "Customer service"
    name = factory.Sequence(lambda n: f"Function {n}")


class ScopeAssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.ScopeAssignment

    function = factory.SubFactory(BusinessFunctionFactory)
    mode = models.ScopeAssignment.Mode.OUTSOURCED
    vendor = factory.SubFactory(VendorFactory)


class DataFlowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.DataFlow

    vendor = factory.SubFactory(VendorFactory)
    direction = models.DataFlow.Direction.TO_VENDOR
    title = factory.Sequence(lambda n: f"Open customer cases {n}")
    data_categories = "Customer name, phone, order history"
    personal_data = True
    frequency = models.DataFlow.Frequency.DAILY
    channel = models.DataFlow.Channel.SFTP
    legal_basis = "Handling enquiries (Schedule 4 §2)"
    retention = "90 days after the case closes"


class DataExchangeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = models.DataExchange

    flow = factory.SubFactory(DataFlowFactory)
    occurred_at = factory.LazyFunction(timezone.now)
    record_count = 1250
    reference = "cases-2025-06-09.csv"
