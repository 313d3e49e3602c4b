"""Demo data for the measurement engine, loaded by ``manage.py seed_demo`` (idempotent).

Everything goes through the services, as a person would: KPIs are defined by the
customer-service manager and approved by the vendor manager, measurements are submitted by
Harbour Call's portal user and approved, and the last three months are closed by the system.
The last month leaves a proposed HK$2,000 service credit for the vendor manager to approve.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from kpis import periods as period_math
from kpis import services
from kpis.models import KpiDefinition, Measure, Subject
from vendors.models import Vendor

D = Decimal


def _bands(rows: list[tuple[str, str | None, str | None, str]], target_label: str) -> list[dict[str, Any]]:
    return [
        {"label": label, "lower": lower, "upper": upper, "score": score, "is_target": label == target_label}
        for label, lower, upper, score in rows
    ]


SLA_BANDS = _bands(
    [
        ("Missed", None, "90", "0"),
        ("Near", "90", "95", "60"),
        ("Met", "95", "98", "90"),
        ("Beat", "98", None, "100"),
    ],
    "Met",
)
CSAT_BANDS = _bands(
    [("Poor", None, "80", "0"), ("Fair", "80", "85", "50"), ("Good", "85", None, "100")], "Good"
)
CSAT_BANDS_V2 = _bands(
    [("Poor", None, "80", "0"), ("Fair", "80", "88", "50"), ("Good", "88", None, "100")], "Good"
)
FCR_BANDS = _bands([("Low", None, "60", "0"), ("OK", "60", "70", "60"), ("High", "70", None, "100")], "High")
QA_BANDS = _bands(
    [("Below", None, "75", "0"), ("Meets", "75", "90", "70"), ("Exceeds", "90", None, "100")], "Meets"
)

STANDINGS: list[dict[str, Any]] = [
    {
        "name": "Critical",
        "colour": "#cf222e",
        "lower": "0",
        "upper": "50",
        "notify_roles": ["vendor_manager"],
        "flag_vendor_for_review": True,
        "require_improvement_plan": True,
        "staff_recommendation": "formal_review",
    },
    {
        "name": "Watch",
        "colour": "#9a6700",
        "lower": "50",
        "upper": "75",
        "notify_roles": ["vendor_manager"],
        "require_improvement_plan": True,
        "staff_recommendation": "coaching",
    },
    {"name": "Good", "colour": "#1a7f37", "lower": "75", "upper": "90", "staff_recommendation": "no_action"},
    {
        "name": "Excellent",
        "colour": "#0b5cad",
        "lower": "90",
        "upper": "100",
        "staff_recommendation": "reward",
    },
]

# Harbour Call's submitted figures per month, oldest first: SLA attainment %, CSAT %, FCR % (None = no data).
VENDOR_MONTHS = [("96.2", "88.0", "72.5"), ("95.4", "86.1", "70.2"), ("91.0", "87.3", None)]
AGENT_MONTHS = [("88", "90.5"), ("79", "86.0"), ("93", "91.2")]


def _evidence(name: str) -> SimpleUploadedFile:
    body = f"Demo evidence for {name}: monthly report extract.\n".encode()
    return SimpleUploadedFile(f"{name}.txt", body, content_type="text/plain")


def _measure(actor: User, code: str, label: str, unit: str, description: str) -> Measure:
    existing = Measure.objects.filter(code=code).first()
    return existing or services.measure_create(
        actor=actor, code=code, label=label, unit=unit, description=description
    )


def _kpi(author: User, approver: User, code: str, **fields: Any) -> KpiDefinition:
    version = services.kpi_define(
        actor=author,
        code=code,
        effective_from=date(2020, 1, 1),
        reason="Agreed in the service schedule.",
        **fields,
    )
    services.kpi_version_approve(actor=approver, version=version, note="Matches the contract schedule.")
    return version.definition


def _submit(
    submitter: User, approver: User, measure: Measure, subject: Subject, period: Any, value: str
) -> None:
    submission = services.submission_create(
        actor=submitter,
        measure=measure,
        subject=subject,
        start=period.start,
        end=period.end,
        value=D(value),
        sample_size=400,
        evidence=_evidence(f"{measure.code}-{period.start:%Y-%m}"),
        note="Monthly service report.",
    )
    services.submission_decide(actor=approver, submission=submission, approve=True)


@transaction.atomic
def seed(*, today: date | None = None) -> bool:
    """Load the demo scorecards; returns False (and does nothing) when they are already there.

    Needs the demo users (admin, cs.manager, vendor.manager, cs.agent, portal.harbourcall) and
    the vendor ``harbourcall`` that ``seed_demo`` creates first.
    """
    if KpiDefinition.objects.filter(code="sla_attainment").exists():
        return False
    today = today or timezone.localdate()
    manager = User.objects.get(username="cs.manager")
    vendor_manager = User.objects.get(username="vendor.manager")
    agent_user = User.objects.get(username="cs.agent")
    portal = User.objects.get(username="portal.harbourcall")
    harbourcall = Vendor.objects.get(code="harbourcall")

    sla_m = _measure(
        manager,
        "sla_met_pct",
        "Tickets within SLA",
        "%",
        "Tickets whose first response and resolution met the SLA policy ÷ tickets due, × 100.",
    )
    csat_m = _measure(
        manager, "csat_pct", "CSAT", "%", "Ratings of 4 or 5 ÷ all ratings on the 1–5 survey scale, × 100."
    )
    fcr_m = _measure(
        manager,
        "fcr_pct",
        "First contact resolution",
        "%",
        "Tickets solved with fewer than 2 agent replies ÷ tickets solved, × 100 (Zendesk's one-touch).",
    )
    qa_m = _measure(
        manager,
        "qa_score_pct",
        "QA review score",
        "%",
        "Mean QA review score; a failed critical category zeroes a review.",
    )

    sla = _kpi(
        manager,
        vendor_manager,
        "sla_attainment",
        name="SLA attainment",
        description="Share of tickets that met their SLA targets in the month (met ÷ (met + breached)).",
        formula="sla_met_pct",
        unit="%",
        direction="higher",
        statistic="rate",
        target=D("95"),
        bands=SLA_BANDS,
        weight=D("40"),
        min_sample_size=50,
    )
    csat = _kpi(
        manager,
        vendor_manager,
        "csat",
        name="Customer satisfaction (CSAT)",
        description="Ratings of 4 or 5 out of all ratings (1–5 scale); response rate shown beside it.",
        formula="csat_pct",
        unit="%",
        direction="higher",
        statistic="rate",
        target=D("85"),
        bands=CSAT_BANDS,
        weight=D("30"),
        min_sample_size=30,
    )
    fcr = _kpi(
        manager,
        vendor_manager,
        "first_contact_resolution",
        name="First contact resolution",
        description="Solved with fewer than 2 agent replies ÷ solved (Zendesk's one-touch definition).",
        formula="fcr_pct",
        unit="%",
        direction="higher",
        statistic="rate",
        target=D("70"),
        bands=FCR_BANDS,
        weight=D("30"),
    )
    qa = _kpi(
        manager,
        vendor_manager,
        "qa_score",
        name="QA review score",
        description="Mean score of the agent's reviewed conversations.",
        formula="qa_score_pct",
        unit="%",
        direction="higher",
        statistic="mean",
        target=D("75"),
        bands=QA_BANDS,
        weight=D("60"),
    )

    scheme = services.standing_scheme_create(
        actor=manager,
        name="Steward standings",
        standings=STANDINGS,
        description="Used for vendors and agents alike.",
    )
    vendor_subject = services.subject_create(
        actor=manager, kind=Subject.Kind.VENDOR, label=harbourcall.name, vendor=harbourcall
    )
    agent_subject = services.subject_create(
        actor=manager,
        kind=Subject.Kind.AGENT,
        label=agent_user.get_full_name() or agent_user.username,
        user=agent_user,
    )
    contract = services.scorecard_create(
        actor=vendor_manager,
        name="Harbour Call Centre: overall vendor scorecard",
        subject=vendor_subject,
        standing_scheme=scheme,
        lines=[
            services.LineSpec(sla, D("40"), critical=True, allocation_pct=D("40"), earn_back_target=D("97")),
            services.LineSpec(
                csat, D("30"), critical=True, allocation_pct=D("60"), bonus_target=D("92"), bonus_pct=D("2")
            ),
            services.LineSpec(fcr, D("30")),
        ],
    )
    services.credit_terms_set(
        actor=vendor_manager,
        scorecard=contract,
        monthly_fee=D("100000"),
        at_risk_pct=D("10"),
        pool_pct=D("50"),
        escalation_window=6,
        escalation_multipliers=[D("1"), D("2"), D("3")],
        earn_back_periods=2,
        bonus_cap_pct=D("5"),
        chronic_misses=4,
        chronic_window=12,
    )
    agent_card = services.scorecard_create(
        actor=manager,
        name=f"Agent scorecard: {agent_subject.label}",
        subject=agent_subject,
        standing_scheme=scheme,
        lines=[services.LineSpec(qa, D("60")), services.LineSpec(csat, D("40"))],
    )

    last = period_math.previous_period(period_math.MONTH, today)
    months = [
        period_math.shift(period_math.MONTH, last, -2),
        period_math.shift(period_math.MONTH, last, -1),
        last,
    ]
    for period, (sla_v, csat_v, fcr_v), (qa_v, agent_csat) in zip(
        months, VENDOR_MONTHS, AGENT_MONTHS, strict=True
    ):
        _submit(portal, vendor_manager, sla_m, vendor_subject, period, sla_v)
        _submit(portal, vendor_manager, csat_m, vendor_subject, period, csat_v)
        if fcr_v is not None:
            _submit(portal, vendor_manager, fcr_m, vendor_subject, period, fcr_v)
        _submit(manager, vendor_manager, qa_m, agent_subject, period, qa_v)
        _submit(manager, vendor_manager, csat_m, agent_subject, period, agent_csat)
        services.periods_compute(
            actor=None, scorecards=[contract], start=period.start, close=True, today=today
        )
        services.periods_compute(
            actor=None, scorecards=[agent_card], start=period.start, close=True, today=today
        )

    # CSAT's target is raised from this month on: version 2, approved, so last month still used v1.
    v2 = services.kpi_version_propose(
        actor=manager,
        definition=csat,
        reason="Two quarters above 86%: raise the bar to 88%.",
        target=D("88"),
        bands=CSAT_BANDS_V2,
        effective_from=period_math.period_containing(period_math.MONTH, today).start,
    )
    services.kpi_version_approve(actor=vendor_manager, version=v2, note="Agreed at the quarterly review.")
    return True
