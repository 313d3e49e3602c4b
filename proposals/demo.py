"""Demo data for CRM strategy proposals: a company strategy, guidelines (partly acknowledged),
partner-selection criteria, one decided call whose adopted parts are being implemented, and one
open call that the two partners are answering."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from django.utils import timezone

from accounts.models import User
from proposals import services
from proposals.models import Call, Objective
from vendors.models import Vendor

RETENTION_SECTIONS = {
    "objectives": "Bring lapsed members back within 90 days and lift repeat purchases.",
    "segments": "Members with no order in the last 6 months; high-value members in Kowloon East.",
    "initiatives": "WhatsApp win-back journeys in Cantonese and English; a members' points booster week; "
    "a post-delivery feedback survey feeding the journeys.",
    "kpis": "Repeat purchase rate 18% → 24% in 6 months; opt-out rate under 0.5%.",
    "cost": "Set-up HK$380,000; running HK$40,000 a month. Expected extra gross margin HK$1.2m a year.",
    "data": "Order history (12 months), consented WhatsApp numbers, preferred language. No HKID.",
    "timeline": "Pilot in January, roll-out in March after Lunar New Year.",
    "risks": "Opt-out handling under PDPO Part 6A; message fatigue; WhatsApp template approval delays.",
}


def _components(prefix: str = "") -> list[dict[str, str]]:
    return [
        {
            "key": "winback",
            "title": f"{prefix}WhatsApp win-back journey",
            "objective": "retention",
            "kpi": "Repeat purchase rate (%)",
            "baseline": "18",
            "target": "24",
            "cost": "380000",
            "expected_benefit": "900000",
            "description": "Three-step journey at 30, 60 and 90 days of inactivity.",
        },
        {
            "key": "booster",
            "title": f"{prefix}Points booster week",
            "objective": "retention",
            "cost": "120000",
            "expected_benefit": "250000",
            "description": "Double points on a chosen category for lapsed members.",
        },
        {
            "key": "survey",
            "title": f"{prefix}Post-delivery feedback survey",
            "objective": "service",
            "kpi": "CSAT (%)",
            "baseline": "82",
            "target": "88",
            "cost": "30000",
            "expected_benefit": "50000",
        },
    ]


def seed(*, today: date | None = None) -> bool:
    """Load the proposals demo; returns False when it is already there."""
    if Objective.objects.exists():
        return False
    today = today or timezone.localdate()
    crm = User.objects.get(username="crm.staff")
    cs_manager = User.objects.get(username="cs.manager")
    marketing = User.objects.get(username="marketing")
    vendor_manager = User.objects.get(username="vendor.manager")
    harbour = Vendor.objects.get(code="harbourcall")
    kowloon = Vendor.objects.get(code="kowloon-digital")
    portal_harbour = User.objects.get(username="portal.harbourcall")
    portal_kowloon = User.objects.get(username="portal.kowloon")

    objectives = {
        code: services.objective_create(actor=crm, code=code, title=title)
        for code, title in (
            ("retention", "Keep members buying"),
            ("service", "Faster, friendlier customer service"),
            ("acquisition", "Win new online customers in the Greater Bay Area"),
        )
    }
    services.initiative_create(
        actor=crm,
        objective=objectives["service"],
        title="Self-service order tracking page",
        kpi="Where-is-my-order contacts per 1,000 orders",
        baseline=Decimal(42),
        target=Decimal(25),
        cost=Decimal(150000),
        expected_benefit=Decimal(200000),
        status="in_progress",
    )

    # Guidelines: published and partly acknowledged, so the page shows both columns.
    for title, stage, body in (
        (
            "Formulating outsourced CRM strategy",
            "strategy",
            "Start from the company's objectives; share the current CRM strategy summary "
            "with every invited partner.",
        ),
        (
            "Issuing calls for proposals",
            "proposal",
            "Send every invited partner the same brief; publish answers to all; "
            "never extend a deadline for one partner.",
        ),
        (
            "Evaluating partner proposals",
            "evaluation",
            "Declare conflicts of interest first; score alone on the rubric; "
            "explain any score that moves in consensus.",
        ),
        (
            "Implementing adopted initiatives",
            "implementation",
            "Every adopted component has an owner, milestones and a KPI with baseline and target.",
        ),
    ):
        guideline = services.guideline_create(actor=crm, title=title, stage=stage)
        # The proposal-stage rules bind the partners' people too (third-party staff acknowledge
        # in the portal, and must have before they submit).
        third_party = [harbour, kowloon] if stage == "proposal" else []
        version = services.guideline_publish(
            actor=crm,
            guideline=guideline,
            body=body,
            roles=["crm_staff", "cs_manager", "marketing", "vendor_manager"],
            vendors=third_party,
        )
        for person in (
            crm,
            cs_manager,
            marketing,
            *([portal_harbour, portal_kowloon] if third_party else []),
        ):
            services.guideline_acknowledge(actor=person, version=version)

    criteria_set = services.criteria_set_create(
        actor=crm,
        name="Customer-service and CRM partners",
        category="customer_service",
        criteria=[
            {"key": "experience", "label": "Hong Kong e-commerce experience", "weight": 30},
            {"key": "languages", "label": "Cantonese, English and Putonghua service", "weight": 20},
            {"key": "security", "label": "Information security and PDPO practice", "weight": 30},
            {"key": "price", "label": "Price", "weight": 20},
        ],
    )
    services.vendor_prequalify(
        actor=crm,
        vendor=harbour,
        criteria_set=criteria_set,
        scores={"experience": 5, "languages": 4, "security": 4, "price": 3},
    )
    services.vendor_prequalify(
        actor=crm,
        vendor=kowloon,
        criteria_set=criteria_set,
        scores={"experience": 4, "languages": 3, "security": 3, "price": 4},
    )

    # A decided call: scored, fine-tuned, adopted, being implemented.
    decided = services.call_create(
        actor=crm,
        title="Member retention strategy 2026",
        objectives="Raise repeat purchases among lapsed members while honouring every opt-out.",
        required_sections=["objectives", "segments", "kpis", "cost", "data", "risks"],
        deadline=timezone.now() + timedelta(days=1),
        vendors=[harbour, kowloon],
    )
    services.call_set_status(actor=crm, call=decided, status="open")
    proposals = {}
    for user, prefix in ((portal_harbour, ""), (portal_kowloon, "Kowloon ")):
        draft = services.proposal_save_draft(
            actor=user, call=decided, sections=RETENTION_SECTIONS, components=_components(prefix)
        )
        proposals[user.vendor_id] = services.proposal_submit(actor=user, proposal=draft.proposal).proposal
    panel = [services.panel_add(actor=crm, call=decided, user=u) for u in (crm, cs_manager, marketing)]
    for member, scores in zip(
        panel,
        (
            {"effectiveness": 4, "compatibility": 4, "cost": 3, "risk": 4, "privacy": 4, "feasibility": 4},
            {"effectiveness": 2, "compatibility": 4, "cost": 3, "risk": 3, "privacy": 4, "feasibility": 4},
            {"effectiveness": 5, "compatibility": 4, "cost": 4, "risk": 4, "privacy": 3, "feasibility": 4},
        ),
        strict=True,
    ):
        services.panel_declare(actor=member.user, member=member, conflicts=[])
        services.scoresheet_save(
            actor=member.user, proposal=proposals[harbour.pk], scores=scores, submit=True
        )
    harbour_proposal = proposals[harbour.pk]
    for criterion, score in (
        ("effectiveness", 4),
        ("compatibility", 4),
        ("cost", 3),
        ("risk", 4),
        ("privacy", 4),
        ("feasibility", 4),
    ):
        note = (
            "Pilot data from Harbour's Singapore client convinced the panel."
            if criterion == "effectiveness"
            else ""
        )
        services.consensus_record(
            actor=crm, proposal=harbour_proposal, criterion=criterion, score=score, note=note
        )
    request = services.change_request_create(
        actor=crm, proposal=harbour_proposal, section="kpis", request="Give a baseline for the opt-out rate."
    )
    services.proposal_save_draft(
        actor=portal_harbour,
        call=decided,
        sections={
            **RETENTION_SECTIONS,
            "kpis": RETENTION_SECTIONS["kpis"] + "\nOpt-out rate baseline: 0.4% (last 6 months).",
        },
        components=_components(),
    )
    services.proposal_submit(
        actor=portal_harbour,
        proposal=harbour_proposal,
        responses={request.pk: "Baseline added from our July–December data."},
    )
    services.component_decide(
        actor=crm,
        proposal=harbour_proposal,
        component_key="winback",
        outcome="adopt",
        reason="Strongest evidence; fits retention.",
    )
    services.component_decide(
        actor=crm,
        proposal=harbour_proposal,
        component_key="survey",
        outcome="adopt",
        reason="Cheap and feeds CSAT.",
    )
    services.component_decide(
        actor=crm,
        proposal=harbour_proposal,
        component_key="booster",
        outcome="adapt",
        reason="Members only, and a weekend rather than a week, to protect margin.",
        adapted={"title": "Members' points booster weekend", "cost": "60000", "expected_benefit": "150000"},
        owner=marketing,
    )
    services.component_decide(
        actor=crm,
        proposal=proposals[kowloon.pk],
        component_key="winback",
        outcome="reject",
        reason="Duplicates Harbour's adopted journey.",
    )
    Call.objects.filter(pk=decided.pk).update(
        deadline=timezone.now() - timedelta(days=75), status=Call.Status.CLOSED
    )
    decided.refresh_from_db()
    services.call_set_status(actor=crm, call=decided, status="decided")

    winback = harbour_proposal.decisions.get(component_key="winback").initiative
    services.initiative_update(
        actor=crm,
        initiative=winback,
        status="in_progress",
        actual=Decimal("21.5"),
        realised_benefit=Decimal(310000),
        vendor_share_pct=Decimal(10),
    )
    for title, due, done in (
        ("WhatsApp templates approved", today - timedelta(days=50), today - timedelta(days=52)),
        ("Pilot live for 5,000 members", today - timedelta(days=30), today - timedelta(days=27)),
        ("Roll-out to all lapsed members", today + timedelta(days=20), None),
    ):
        milestone = services.milestone_add(
            actor=crm, initiative=winback, title=title, due=due, owner=vendor_manager
        )
        if done is not None:
            services.milestone_complete(actor=crm, milestone=milestone, done_on=done)

    _delivery_scorecard(crm, harbour, today)

    # An open call the partners are answering now.
    open_call = services.call_create(
        actor=crm,
        title="Peak-season service strategy (Double 11 and Christmas)",
        objectives="Keep first reply under one business hour and CSAT above 85% "
        "through the November–December peak.",
        required_sections=["objectives", "initiatives", "kpis", "cost", "timeline"],
        deadline=timezone.now() + timedelta(days=12),
        vendors=[harbour, kowloon],
    )
    services.call_set_status(actor=crm, call=open_call, status="open")
    question = services.clarification_ask(
        actor=portal_kowloon, call=open_call, question="May the proposal include live-stream selling support?"
    )
    services.clarification_answer(
        actor=crm,
        clarification=question,
        answer="Yes, if it is staffed within the same service levels.",
        publish=True,
    )
    services.proposal_save_draft(
        actor=portal_harbour,
        call=open_call,
        sections={"objectives": "Hold first reply under 45 business minutes at peak."},
        components=[
            {
                "key": "overflow",
                "title": "Overflow team of 12 trained agents",
                "objective": "service",
                "cost": "240000",
            }
        ],
    )
    return True


def _delivery_scorecard(crm: User, vendor: Vendor, today: date) -> None:
    """The partner's scorecard shows the proposal-delivery KPI, computed from the milestones."""
    from kpis import periods as period_math
    from kpis import services as kpis
    from kpis.models import StandingScheme, Subject

    manager = User.objects.get(username="cs.manager")
    approver = User.objects.get(username="vendor.manager")
    version = kpis.kpi_define(
        actor=manager,
        code="proposal_delivery",
        name="Proposal delivery",
        description="Milestones of initiatives adopted from the partner's CRM proposals done on time, "
        "of those due in the period.",
        formula="proposal_milestones_on_time_pct",
        unit="%",
        direction="higher",
        statistic="rate",
        target=Decimal(80),
        bands=[
            {"label": "Late", "lower": None, "upper": "60", "score": "0", "is_target": False},
            {"label": "Mixed", "lower": "60", "upper": "80", "score": "60", "is_target": False},
            {"label": "On time", "lower": "80", "upper": None, "score": "100", "is_target": True},
        ],
        weight=Decimal(100),
        min_sample_size=1,
        effective_from=date(2020, 1, 1),
        reason="Adopted proposals must be delivered as promised.",
    )
    kpis.kpi_version_approve(actor=approver, version=version, note="Agreed with CRM staff.")
    subject = Subject.objects.filter(kind=Subject.Kind.VENDOR, vendor=vendor).first() or kpis.subject_create(
        actor=manager, kind=Subject.Kind.VENDOR, label=vendor.name, vendor=vendor
    )
    card = kpis.scorecard_create(
        actor=approver,
        name=f"{vendor.name}: CRM partnership",
        subject=subject,
        standing_scheme=StandingScheme.objects.first(),
        lines=[kpis.LineSpec(version.definition, Decimal(100))],
    )
    last = period_math.previous_period(period_math.MONTH, today)
    kpis.periods_compute(actor=None, scorecards=[card], start=last.start, close=True, today=today)
