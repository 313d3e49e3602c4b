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
from typing import Any

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
        return seed_cooperation(today=today)  # v1: a database seeded before the cooperation work
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
    seed_cooperation(today=today)  # v1
    return True


# --- v1: interfaces, shared documents, ideas, third-party staff, cooperation reviews ---------------


def _txt(name: str, body: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{name}.txt", body.encode(), content_type="text/plain")


def _harbour_interfaces(manager: User, contract: Contract) -> None:
    from vendors import cooperation

    vendor = contract.vendor
    for our, theirs, direction, data, channel, protocol, frequency, owner in [
        (
            "Steward ticketing",
            "Genesys Cloud contact centre",
            "both",
            "Tickets, their events and CSAT survey answers",
            "api",
            "REST/JSON over TLS 1.3, OAuth client credentials",
            "real_time",
            "Raymond Lau (IT lead)",
        ),
        (
            "Shopify order admin",
            "Harbour Call agent desktop",
            "to_vendor",
            "Open orders and delivery status for order enquiries",
            "sftp",
            "SFTP, PGP-encrypted CSV",
            "daily",
            "Raymond Lau (IT lead)",
        ),
        (
            "Steward vendor portal",
            "Harbour Call workforce management",
            "from_vendor",
            "Monthly staffing, attrition and training report",
            "portal",
            "",
            "monthly",
            "Winnie Cheung (operations manager)",
        ),
    ]:
        cooperation.interface_create(
            actor=manager,
            vendor=vendor,
            contract=contract,
            our_system=our,
            their_system=theirs,
            direction=direction,
            data_exchanged=data,
            channel=channel,
            protocol=protocol,
            frequency=frequency,
            our_owner=manager,
            their_owner=owner,
            status="live",
        )
    for kind, position, title, frequency, from_party, ours, theirs, response in [
        (
            "report",
            1,
            "Monthly service report with ticket extract",
            "monthly",
            "vendor",
            "Vendor manager",
            "Operations manager",
            "",
        ),
        (
            "report",
            2,
            "Daily backlog and abandoned-call summary",
            "daily",
            "vendor",
            "CS manager",
            "Team leader on duty",
            "",
        ),
        ("meeting", 1, "Weekly operations call", "weekly", "company", "CS manager", "Operations manager", ""),
        (
            "meeting",
            2,
            "Quarterly business review",
            "quarterly",
            "company",
            "Vendor manager, CS manager",
            "Account director",
            "",
        ),
        (
            "escalation",
            1,
            "Team leader on duty",
            "ad_hoc",
            "vendor",
            "CS agent on shift",
            "Team leader",
            "30 minutes",
        ),
        (
            "escalation",
            2,
            "Operations manager",
            "ad_hoc",
            "vendor",
            "CS manager",
            "Operations manager",
            "4 hours",
        ),
        (
            "escalation",
            3,
            "Account director",
            "ad_hoc",
            "vendor",
            "Vendor manager",
            "Account director",
            "1 business day",
        ),
    ]:
        cooperation.governance_item_create(
            actor=manager,
            vendor=vendor,
            kind=kind,
            position=position,
            title=title,
            frequency=frequency,
            from_party=from_party,
            our_role=ours,
            vendor_role=theirs,
            response_time=response,
        )


def _harbour_script(manager: User, vendor: Vendor) -> Any:
    from vendors import cooperation

    script = cooperation.shared_document_create(
        actor=manager,
        vendor=vendor,
        title="Hotline call script and complaint-handling guideline",
        description="What agents say and do, in Cantonese, English and Mandarin.",
        shared_with_vendor=True,
        upload=_txt("call-script-v1", "Greeting, verification (order number, never HKID), escalation.\n"),
        change_note="First version for go-live.",
    )
    cooperation.shared_document_add_version(
        actor=manager,
        document=script,
        upload=_txt(
            "call-script-v2",
            "Greeting, verification (order number, never HKID), escalation.\n"
            "Typhoon signal No. 8 and black rainstorm: delivery-delay wording, callback offer.\n",
        ),
        change_note="Typhoon No. 8 and black-rainstorm wording; callback offer.",
    )
    return script


def _harbour_ideas(manager: User, portal: User, contract: Contract) -> None:
    from vendors import cooperation

    vendor = contract.vendor
    whatsapp = cooperation.idea_submit(
        actor=portal,
        vendor=vendor,
        contract=contract,
        title="WhatsApp Business channel for order enquiries",
        description="Most of our callers ask where their parcel is; a WhatsApp channel with quick replies "
        "would take them off the hotline.",
        expected_benefit="About 25% fewer hotline calls in the evening peak",
    )
    cooperation.idea_decide(
        actor=manager, idea=whatsapp, status="under_consideration", note="Check PDPO notice."
    )
    tracking = cooperation.idea_submit(
        actor=portal,
        vendor=vendor,
        contract=contract,
        title="Self-service order tracking in the chat widget",
        description="Answer “where is my order” from the carrier's tracking feed before an agent picks up.",
        expected_benefit="Shorter chat queues; agents keep the complex cases",
    )
    cooperation.idea_decide(
        actor=manager, idea=tracking, status="accepted", note="Pilot with Tsuen Wan Logistics."
    )
    cooperation.idea_decide(
        actor=manager, idea=tracking, status="proposal", proposal_reference="CRM-P-2025-07"
    )
    cooperation.idea_submit(
        actor=manager,
        vendor=vendor,
        title="Joint QA calibration sessions",
        description="Score ten calls together each month so both QA teams mark the same way.",
    )


def _harbour_staff(manager: User, portal: User, vendor: Vendor, script: Any, today: date) -> None:
    from vendors import cooperation

    version = script.versions.order_by("-number").first()
    people = [
        ("Ng Pui Shan", "Team leader", portal, 150, None),
        ("Chan Ka Yan", "Hotline agent (Cantonese, English)", None, 120, None),
        ("Lee Wing Sze", "Hotline agent (Cantonese, Mandarin)", None, 110, None),
        ("Wong Chun Kit", "Chat and e-mail agent", None, 100, None),
        ("Cheung Ho Yin", "Hotline agent (Cantonese)", None, 140, 20),
    ]
    for name, role, login, days_ago, left_days_ago in people:
        onboarded = today - timedelta(days=days_ago)
        worker = cooperation.worker_create(
            actor=manager,
            vendor=vendor,
            name=name,
            role=role,
            email=f"{name.split()[-1].lower()}.{name.split()[0].lower()}@harbourcall.example.hk",
            onboarded_on=onboarded,
            user=login,
        )
        for task in worker.tasks.all():
            cooperation.boarding_task_done(actor=manager, task=task)
        cooperation.access_grant(
            actor=manager,
            worker=worker,
            system="Steward ticketing",
            access_level="agent",
            granted_on=onboarded,
        )
        cooperation.access_grant(
            actor=manager,
            worker=worker,
            system="Shopify order admin",
            access_level="read-only",
            granted_on=onboarded,
        )
        cooperation.training_record_add(
            actor=manager,
            worker=worker,
            course="PDPO awareness for outsourced staff",
            completed_on=onboarded + timedelta(days=2),
            expires_on=onboarded + timedelta(days=367),
        )
        if version is not None:
            cooperation.acknowledgement_record(
                actor=manager,
                worker=worker,
                acknowledged_on=onboarded + timedelta(days=3),
                shared_version=version,
            )
        if left_days_ago is not None:
            left = today - timedelta(days=left_days_ago)
            cooperation.worker_offboard(
                actor=manager, worker=worker, offboarded_on=left, reason="Left Harbour Call."
            )
            ticketing = worker.access_grants.get(system="Steward ticketing")
            cooperation.access_revoke(actor=manager, grant=ticketing, revoked_on=left)
            # Shopify access is still open: the staff page shows the alert.


def _harbour_reviews(manager: User, contract: Contract, today: date) -> None:
    from vendors import cooperation
    from vendors import cooperation_selectors as reads

    start, end = cooperation.quarter_of(schedules.add_months(today, -3))
    review = cooperation.review_schedule(
        actor=manager,
        contract=contract,
        kind="quarterly",
        period_start=start,
        period_end=end,
        scheduled_on=min(end + timedelta(days=cooperation.REVIEW_DELAY_DAYS), today),
    )
    cooperation.review_decide(
        actor=manager,
        review=review,
        decision="improvement_plan",
        rationale="The first months met the SLA on weekdays but not at weekends; abandoned calls peak on "
        "Sunday evenings. Continue, with a plan to fix weekend cover before the next review.",
        minutes="Harbour Call presented the staffing report; weekend roster at 78% of plan.",
        figures=reads.review_dossier(user=manager, review=review).figures(),
        actions=[
            services.ActionSpec("Send the weekend recovery roster", "vendor", today + timedelta(days=14)),
            services.ActionSpec(
                "Approve the roster and the overtime budget", "company", today + timedelta(days=21)
            ),
        ],
        plan=cooperation.PlanSpec(
            title="Weekend service recovery",
            objective="SLA attainment of 90% or more on Saturdays and Sundays for two months running.",
            due_on=today + timedelta(days=90),
            owner=manager,
            milestones=[
                cooperation.MilestoneSpec("Weekend roster at 95% of plan", today + timedelta(days=30)),
                cooperation.MilestoneSpec(
                    "Callback for abandoned weekend calls live", today + timedelta(days=60)
                ),
                cooperation.MilestoneSpec("Two months at 90% weekend SLA", today + timedelta(days=90)),
            ],
        ),
        today=today,
    )
    cooperation.reviews_schedule_upcoming(today=today)


def seed_cooperation(*, today: date | None = None) -> bool:
    """Interfaces, governance, a shared script with two versions, ideas, Harbour Call's people
    working for us (one left with access still open), a decided quarterly review with its
    improvement plan and the upcoming reviews. Returns False when it is already there."""
    from vendors.models import SystemInterface

    contract = Contract.objects.filter(reference="HC-CS-2025").select_related("vendor").first()
    if contract is None or SystemInterface.objects.filter(vendor=contract.vendor).exists():
        return False
    today = today or timezone.localdate()
    manager = User.objects.get(username="vendor.manager")
    portal = User.objects.get(username="portal.harbourcall")
    with transaction.atomic():
        _harbour_interfaces(manager, contract)
        script = _harbour_script(manager, contract.vendor)
        _harbour_ideas(manager, portal, contract)
        _harbour_staff(manager, portal, contract.vendor, script, today)
        _harbour_reviews(manager, contract, today)
    return True
