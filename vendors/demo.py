"""Demo data for the vendor register, loaded by ``manage.py seed_demo`` after the KPI demo (idempotent).

Everything goes through the services, as the people would do it: Vivian Chan (vendor manager)
records Harbour Call Centre's customer-service contract (HK$100,000 a month, 10% at risk, two
critical service levels and a key measurement), its obligations, a monthly service review with
actions, and an update request; Priscilla Ng (Harbour Call's portal user) uploads a report and
answers. The other demo vendors get their services, risk tiers and, for Kowloon Digital, a contract
whose notice deadline falls inside the 120-day alert window.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from kpis.models import KpiDefinition
from vendors import schedules, services
from vendors.models import Contract, Obligation, ServiceCategory, ServiceModel, Vendor

D = Decimal
OUR_ENTITY = "Steward Trading (HK) Ltd"

# code -> (services, risk answers)
REGISTER: dict[str, tuple[list[tuple[str, str, str]], dict[str, str]]] = {
    "harbourcall": (
        [
            (
                ServiceCategory.CUSTOMER_SERVICE,
                ServiceModel.BPO,
                "Hotline, e-mail and chat in Cantonese, English and Mandarin",
            )
        ],
        {
            "personal_data": "extensive",
            "criticality": "high",
            "system_access": "read",
            "substitutability": "months",
            "data_location": "hong_kong",
            "certification": "current",
            "financial": "adequate",
        },
    ),
    "kowloon-digital": (
        [(ServiceCategory.MARKETING, ServiceModel.MANAGED, "Paid social and e-mail campaigns")],
        {
            "personal_data": "contact",
            "criticality": "medium",
            "system_access": "read",
            "substitutability": "weeks",
            "data_location": "with_clauses",
            "certification": "partial",
            "financial": "adequate",
        },
    ),
    "tsuen-wan-logistics": (
        [(ServiceCategory.WAREHOUSING, ServiceModel.BPO, "Pick, pack and last-mile delivery")],
        {
            "personal_data": "contact",
            "criticality": "high",
            "system_access": "read",
            "substitutability": "months",
            "data_location": "hong_kong",
            "certification": "none",
            "financial": "strong",
        },
    ),
    "lantau-it": (
        [
            (ServiceCategory.IT, ServiceModel.MANAGED, "Hosting and 24×7 monitoring of the web shop"),
            (ServiceCategory.IT, ServiceModel.STAFF_AUGMENTATION, "Two developers on site"),
        ],
        {
            "personal_data": "extensive",
            "criticality": "high",
            "system_access": "admin",
            "substitutability": "year",
            "data_location": "with_clauses",
            "certification": "partial",
            "financial": "weak",
        },
    ),
}


def _month_start(day: date, months_back: int) -> date:
    return schedules.add_months(day.replace(day=1), -months_back)


def _next_day_of_month(today: date, day: int) -> date:
    """The next DAY-th of a month on or after TODAY."""
    this_month = today.replace(day=day)
    return this_month if this_month >= today else schedules.add_months(this_month, 1)


def _pdf(name: str) -> SimpleUploadedFile:
    body = f"%PDF-1.4\n% Steward demo: {name}\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".encode()
    return SimpleUploadedFile(f"{name}.pdf", body, content_type="application/pdf")


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)))


def _register(manager: User) -> None:
    for code, (offered, answers) in REGISTER.items():
        vendor = Vendor.objects.filter(code=code).first()
        if vendor is None:
            continue
        services.vendor_services_set(
            actor=manager, vendor=vendor, services=[services.ServiceSpec(c, m, d) for c, m, d in offered]
        )
        services.risk_assess(actor=manager, vendor=vendor, answers=answers, notes="Annual assessment.")


def _harbourcall(manager: User, portal: User, today: date) -> Contract:
    vendor = Vendor.objects.get(code="harbourcall")
    start = _month_start(today, 2)
    end = schedules.add_months(start, 24) - timedelta(days=1)
    contract = services.contract_create(
        actor=manager,
        vendor=vendor,
        reference="HC-CS-2025",
        title="Customer-service outsourcing",
        our_entity=OUR_ENTITY,
        vendor_entity="Harbour Call Centre Limited",
        owner=manager,
        start=start,
        end=end,
        signed_on=start - timedelta(days=20),
        monthly_fee=D("100000.00"),
        total_value=D("2400000.00"),
        at_risk_pct=D("10"),
        renewal_type="by_agreement",
        notice_period_days=90,
        data_sharing=(
            "Customer names, phone numbers, e-mail addresses and order history, for handling enquiries only. "
            "Held in Hong Kong; deleted 90 days after a case closes (DPP2(3)); no onward transfer (DPP4(2))."
        ),
        summary="Two-year term after the 2024 tender.",
    )
    contact_specs = [
        ("Winnie Lau", "Team leader", 1, "winnie.lau@harbourcall.example.hk", "+852 2111 0001", False),
        (
            "Raymond Chow",
            "Service delivery manager",
            2,
            "raymond.chow@harbourcall.example.hk",
            "+852 2111 0002",
            True,
        ),
        ("Grace Yeung", "Account director", 3, "grace.yeung@harbourcall.example.hk", "+852 2111 0003", False),
    ]
    for name, title, level, email, phone, primary in contact_specs:
        services.contact_create(
            actor=manager,
            vendor=vendor,
            name=name,
            job_title=title,
            escalation_level=level,
            email=email,
            phone=phone,
            is_primary=primary,
        )
    services.document_add(
        actor=manager,
        vendor=vendor,
        kind="certificate",
        title="ISO/IEC 27001 certificate",
        reference="IS 712345",
        issuer="HKQAA",
        issued_on=today - timedelta(days=3 * 365 - 45),
        expires_on=today + timedelta(days=45),
        upload=_pdf("iso-27001-certificate"),
    )
    services.document_add(
        actor=manager,
        vendor=vendor,
        kind="business_registration",
        title="Business Registration Certificate",
        reference="BR 61234567",
        issued_on=date(today.year, 1, 15),
        expires_on=date(today.year + 1, 1, 14),
    )

    version = contract.versions.get()
    services.fees_set(
        actor=manager,
        version=version,
        items=[
            {
                "description": "Monthly service fee (up to 12,000 contacts)",
                "basis": "monthly",
                "amount": D("100000.00"),
            },
            {
                "description": "Contacts above 12,000 a month",
                "basis": "per_unit",
                "amount": D("18.50"),
                "unit": "per contact",
            },
            {
                "description": "Peak-season surge team (11.11, Christmas)",
                "basis": "one_off",
                "amount": D("35000.00"),
            },
        ],
    )
    services.scope_set(
        actor=manager,
        version=version,
        items=[
            {
                "kind": "scope",
                "description": "Hotline, e-mail and web chat, 09:00–21:00 daily including public holidays",
            },
            {"kind": "scope", "description": "Order status, returns and refunds, delivery complaints"},
            {"kind": "exclusion", "description": "Outbound telemarketing and any direct marketing"},
            {
                "kind": "deliverable",
                "description": "Knowledge-base refresh for the new returns policy",
                "due_on": start + timedelta(days=75),
                "acceptance": "Approved by our customer-service manager",
            },
        ],
    )
    services.raci_set(
        actor=manager,
        version=version,
        items=[
            {"activity": "Answer customer enquiries", "company_role": "I", "vendor_role": "A"},
            {"activity": "Complaint escalation above HK$5,000", "company_role": "A", "vendor_role": "R"},
            {"activity": "Knowledge-base content", "company_role": "A", "vendor_role": "C"},
            {"activity": "QA calibration sessions", "company_role": "A", "vendor_role": "R"},
            {"activity": "Monthly service report", "company_role": "C", "vendor_role": "A"},
        ],
    )
    kpis = {
        k.code: k
        for k in KpiDefinition.objects.filter(code__in=["sla_attainment", "csat", "first_contact_resolution"])
    }
    if len(kpis) == 3:
        services.service_levels_set(
            actor=manager,
            version=version,
            levels=[
                services.ServiceLevelSpec(kpis["sla_attainment"], "critical", D(40), D(40), "Schedule 2 §1"),
                services.ServiceLevelSpec(kpis["csat"], "critical", D(30), D(60), "Schedule 2 §2"),
                services.ServiceLevelSpec(
                    kpis["first_contact_resolution"], "key", D(30), D(0), "Schedule 2 §3"
                ),
            ],
        )
    services.contract_version_activate(actor=manager, version=version, today=today)
    if len(kpis) == 3:
        services.contract_scorecard_setup(actor=manager, contract=contract, today=today)

    report = services.obligation_create(
        actor=manager,
        contract=contract,
        title="Monthly service report",
        description="Volumes, SLA attainment, CSAT, first-contact resolution and complaints, "
        "with the ticket extract.",
        clause="Schedule 3 §1",
        owner_party="vendor",
        owner=portal,
        recurrence=Obligation.Recurrence.MONTHLY,
        first_due_on=_month_start(today, 1) + timedelta(days=4),
        evidence_required=True,
        evidence_description="The report as PDF and the ticket extract as CSV or XLSX.",
        today=today,
    )
    services.obligation_create(
        actor=manager,
        contract=contract,
        title="Business-continuity test report",
        clause="Schedule 5 §4",
        owner_party="vendor",
        owner=portal,
        recurrence=Obligation.Recurrence.HALF_YEARLY,
        first_due_on=start + timedelta(days=88),
        evidence_required=True,
        today=today,
    )
    services.obligation_create(
        actor=manager,
        contract=contract,
        title="PDPO refresher training for every agent",
        clause="Schedule 6 §2",
        owner_party="vendor",
        recurrence=Obligation.Recurrence.YEARLY,
        first_due_on=start + timedelta(days=60),
        evidence_required=True,
        evidence_description="Attendance list with each agent's acknowledgement.",
        today=today,
    )
    services.obligation_create(
        actor=manager,
        contract=contract,
        title="Monthly contact-volume forecast to the vendor",
        clause="Schedule 3 §4",
        owner_party="company",
        owner=manager,
        recurrence=Obligation.Recurrence.MONTHLY,
        first_due_on=_next_day_of_month(today, 25),
        evidence_required=False,
        today=today,
    )
    services.obligation_statuses_roll(today=today)

    # The first report covered the hand-over month; later ones came by e-mail on time and were
    # uploaded afterwards; the next one is already in. The PDPO training record is still missing.
    past = list(report.instances.filter(due_on__lt=today).order_by("due_on"))
    if past:
        services.obligation_instance_waive(
            actor=manager,
            instance=past[0],
            reason="Hand-over month: reported at the transition meeting instead.",
        )
    for instance in past[1:]:
        services.evidence_upload(
            actor=portal, instance=instance, upload=_pdf(f"service-report-{instance.due_on:%Y-%m}")
        )
        services.obligation_instance_mark_met(
            actor=manager,
            instance=instance,
            note="E-mailed on the due date; uploaded when the portal opened.",
        )
    upcoming = report.instances.filter(due_on__gte=today).order_by("due_on").first()
    if upcoming is not None:
        services.evidence_upload(
            actor=portal,
            instance=upcoming,
            upload=_pdf(f"service-report-{upcoming.due_on:%Y-%m}"),
            note="Early.",
        )
        services.obligation_instance_mark_met(actor=manager, instance=upcoming, note="Figures checked.")

    entry = services.liaison_entry_create(
        actor=manager,
        vendor=vendor,
        contract=contract,
        kind="meeting",
        occurred_at=_at(today - timedelta(days=6), 10),
        title="Monthly service review",
        participants="Vivian Chan, Mandy Lau (us); Raymond Chow, Winnie Lau (Harbour Call)",
        minutes=(
            "SLA attainment 91% against 95%: the black-rainstorm day and two agents off sick. "
            "CSAT steady at 87%. "
            "Chat backlog on Sunday evenings."
        ),
        decisions="Weekend chat cover rises from 2 to 4 agents from next month; "
        "the sick-leave buffer is reviewed.",
        actions=[
            services.ActionSpec(
                "Send the revised weekend staffing plan", "vendor", today + timedelta(days=7), owner=portal
            ),
            services.ActionSpec(
                "Root-cause note on the rainstorm-day backlog", "vendor", today + timedelta(days=3)
            ),
            services.ActionSpec(
                "Approve the extra weekend cover cost", "company", today + timedelta(days=14), owner=manager
            ),
        ],
    )
    services.action_item_update(
        actor=portal,
        item=entry.actions.get(description__startswith="Root-cause"),
        status="in_progress",
        progress_note="Call logs pulled; note due Thursday.",
    )
    services.update_request_create(
        actor=manager,
        vendor=vendor,
        contract=contract,
        title="Staffing plan for the 11.11 sale",
        details="How many agents per shift on 10–12 November, "
        "and the overflow plan if chat waits pass 2 minutes.",
        due_on=today + timedelta(days=10),
        today=today,
    )
    return contract


# area -> [(function, [(vendor code or None for us, mode)])]; "Social media replies" is the gap.
SCOPE: dict[str, list[tuple[str, list[tuple[str | None, str]]]]] = {
    "Customer service": [
        ("Order and delivery enquiries", [("harbourcall", "outsourced")]),
        ("Returns and refunds", [("harbourcall", "shared")]),
        ("Complaints above HK$5,000", [(None, "in_house")]),
        ("Social media replies", []),
    ],
    "Marketing": [
        ("Paid social campaigns", [("kowloon-digital", "outsourced")]),
        ("CRM strategy", [(None, "in_house")]),
    ],
    "Fulfilment": [("Pick, pack and last-mile delivery", [("tsuen-wan-logistics", "outsourced")])],
    "IT": [("Web shop hosting", [("lantau-it", "outsourced"), (None, "in_house")])],
}


def _scope(manager: User) -> None:
    contracts = {c.vendor.code: c for c in Contract.objects.select_related("vendor")}
    for area, rows in SCOPE.items():
        for name, performers in rows:
            function = services.function_create(actor=manager, area=area, name=name)
            for code, mode in performers:
                vendor = Vendor.objects.filter(code=code).first() if code else None
                if code and vendor is None:
                    continue
                services.scope_assign(
                    actor=manager,
                    function=function,
                    mode=mode,
                    vendor=vendor,
                    contract=contracts.get(code) if code else None,
                )


def _information(manager: User, today: date) -> None:
    """The register's lines for Harbour Call and Kowloon Digital, with a week of logged exchanges."""
    contracts = {c.vendor.code: c for c in Contract.objects.select_related("vendor")}
    cases = services.data_flow_create(
        actor=manager,
        vendor=contracts["harbourcall"].vendor,
        contract=contracts["harbourcall"],
        direction="to_vendor",
        title="Open customer cases",
        data_categories="Customer name, phone number, e-mail address, order history",
        personal_data=True,
        frequency="daily",
        channel="sftp",
        legal_basis="Handling customer enquiries (Schedule 4 §2)",
        retention="Deleted 90 days after the case closes",
    )
    services.data_flow_create(
        actor=manager,
        vendor=contracts["harbourcall"].vendor,
        contract=contracts["harbourcall"],
        direction="from_vendor",
        title="Monthly ticket extract",
        data_categories="Ticket ids, timestamps, SLA results (no customer details)",
        personal_data=False,
        frequency="monthly",
        channel="portal",
        legal_basis="Service reporting (Schedule 3 §1)",
        retention="7 years with the contract records",
    )
    services.data_flow_create(
        actor=manager,
        vendor=contracts["kowloon-digital"].vendor,
        contract=contracts["kowloon-digital"],
        direction="to_vendor",
        title="Marketing audience",
        data_categories="Hashed e-mail addresses of customers who consented to direct marketing",
        personal_data=True,
        frequency="weekly",
        channel="api",
        legal_basis="Direct marketing with written consent (PDPO Part 6A)",
        retention="Replaced each week; deleted when the contract ends",
        location="Singapore",
        transfer_clauses="PCPD recommended model contractual clauses (2022), user to processor",
    )
    for days_ago, count in enumerate([1320, 1185, 990, 1410, 1275, 860, 1040], start=1):
        day = today - timedelta(days=days_ago)
        services.data_exchange_log(
            actor=manager,
            flow=cases,
            occurred_at=_at(day, 18),
            record_count=count,
            reference=f"cases-{day:%Y%m%d}.csv",
        )


def _kowloon(manager: User, today: date) -> None:
    vendor = Vendor.objects.get(code="kowloon-digital")
    end = today + timedelta(days=150)
    contract = services.contract_create(
        actor=manager,
        vendor=vendor,
        reference="KD-MKT-2024",
        title="Digital marketing managed service",
        our_entity=OUR_ENTITY,
        owner=manager,
        start=end - timedelta(days=730) + timedelta(days=1),
        end=end,
        monthly_fee=D("45000.00"),
        renewal_type="automatic",
        renewal_term_months=12,
        notice_period_days=60,
        data_sharing="Hashed e-mail addresses of customers who consented to direct marketing (Part 6A), "
        "for ad audiences.",
    )
    version = contract.versions.get()
    services.fees_set(
        actor=manager,
        version=version,
        items=[{"description": "Monthly management fee", "basis": "monthly", "amount": D("45000.00")}],
    )
    services.contract_version_activate(actor=manager, version=version, today=today)
    services.obligation_create(
        actor=manager,
        contract=contract,
        title="Campaign performance report",
        owner_party="vendor",
        recurrence=Obligation.Recurrence.MONTHLY,
        first_due_on=_month_start(today, 0) + timedelta(days=9),
        today=today,
    )


@transaction.atomic
def seed(*, today: date | None = None) -> bool:
    """Load the vendor demo data; returns False (and does nothing) when it is already there.

    Needs the demo users and vendors that ``seed_demo`` creates first; loads the KPI demo first if it
    has not run, since the contract's service levels are its KPIs.
    """
    if Contract.objects.filter(reference="HC-CS-2025").exists():
        return False
    today = today or timezone.localdate()
    if not KpiDefinition.objects.filter(code="sla_attainment").exists():
        from kpis import demo as kpis_demo

        kpis_demo.seed(today=today)
    manager = User.objects.get(username="vendor.manager")
    portal = User.objects.get(username="portal.harbourcall")
    _register(manager)
    _harbourcall(manager, portal, today)
    _kowloon(manager, today)
    _scope(manager)
    _information(manager, today)
    services.contract_alerts_raise(today=today)
    services.document_reminders_send(today=today)
    return True
