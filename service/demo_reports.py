"""Demo service KPI definitions, scorecards, benchmarks and rollups (see ``service.demo``)."""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from accounts.models import User
from kpis import periods as period_math
from kpis import registry
from kpis import services as kpi_services
from kpis.models import KpiDefinition, Measure, Subject
from vendors.models import Vendor

D = Decimal


# --- s4 service KPI reports ---------------------------------------------------------------------

REPORT_BANDS_MINUTES = [
    {"label": "Slow", "lower": "60", "upper": None, "score": "0"},
    {"label": "Acceptable", "lower": "30", "upper": "60", "score": "60"},
    {"label": "Fast", "lower": None, "upper": "30", "score": "100", "is_target": True},
]
REPORT_BANDS_PCT = [
    {"label": "Missed", "lower": None, "upper": "80", "score": "0"},
    {"label": "Near", "lower": "80", "upper": "90", "score": "60"},
    {"label": "Met", "lower": "90", "upper": None, "score": "100", "is_target": True},
]
ACCURACY_BANDS = [
    {"label": "Accurate", "lower": None, "upper": "2", "score": "100", "is_target": True},
    {"label": "Minor gaps", "lower": "2", "upper": "5", "score": "60"},
    {"label": "Unreliable", "lower": "5", "upper": None, "score": "0"},
]
ILLUSTRATIVE = (
    "Illustrative sample figures for the Steward demo, not a real publication: replace them with a "
    "published industry report before comparing."
)
DEMO_AGENTS = [
    # (external id, name, team code, vendor code or "", demo username or "")
    ("hk-001", "Chan Tai Man", "island", "", "cs.agent"),
    ("hk-002", "Wong Siu Ling", "island", "", ""),
    ("hk-003", "Lee Ka Ho", "kowloon", "", ""),
    ("hk-004", "Cheung Mei Yee", "kowloon", "", ""),
    ("hc-101", "Ho Wing Sze", "harbourcall", "harbourcall", ""),
    ("hc-102", "Lam Chi Keung", "harbourcall", "harbourcall", ""),
    ("hc-103", "Yip Hoi Yan", "harbourcall", "harbourcall", ""),
]


def _demo_tickets(today: date) -> None:
    """Six months of tickets with stored figures, when no ingest has loaded any (bulk, seeded)."""
    from service.models import Agent, Priority, SlaTarget, Team, Ticket, TicketChannel, TicketEvent, TicketSla

    if Ticket.objects.exists():
        return
    harbourcall = Vendor.objects.filter(code="harbourcall").first()
    teams = {
        "island": Team.objects.get_or_create(code="island", defaults={"name": "Hong Kong Island team"})[0],
        "kowloon": Team.objects.get_or_create(code="kowloon", defaults={"name": "Kowloon team"})[0],
        "harbourcall": Team.objects.get_or_create(
            code="harbourcall", defaults={"name": "Harbour Call (outsourced)", "vendor": harbourcall}
        )[0],
    }
    agents = []
    for external_id, name, team, vendor_code, username in DEMO_AGENTS:
        user = User.objects.filter(username=username).first() if username else None
        vendor = harbourcall if vendor_code else None
        agent, _ = Agent.objects.get_or_create(
            source="demo",
            external_id=external_id,
            defaults={"name": name, "team": teams[team], "vendor": vendor, "user": user},
        )
        agents.append(agent)
    rng = random.Random(4)  # noqa: S311 (demo data, not security)
    zone = timezone.get_current_timezone()
    first = period_math.shift(
        period_math.MONTH, period_math.period_containing(period_math.MONTH, today), -6
    ).start
    tickets: list[Ticket] = []
    day = first
    n = 0
    while day < today:
        for _ in range(rng.randint(8, 16)):
            n += 1
            agent = rng.choice(agents)
            outsourced = agent.vendor_id is not None
            opened = datetime.combine(day, time(rng.randint(8, 21), rng.randint(0, 59)), zone)
            fr = int(rng.lognormvariate(3.0 if outsourced else 2.7, 0.8))
            resolved = rng.random() < 0.9 or day < today - timedelta(days=7)
            reopened = resolved and rng.random() < (0.09 if outsourced else 0.06)
            replies = 1 if rng.random() < 0.55 else rng.randint(2, 5)
            res = fr + int(rng.lognormvariate(5.2, 0.9)) if resolved else None
            tickets.append(
                Ticket(
                    source="demo",
                    external_id=f"D{n:06d}",
                    subject=rng.choice(
                        [
                            "Where is my order?",
                            "Refund request",
                            "Wrong size",
                            "Octopus payment failed",
                            "Delivery to Tsuen Wan",
                        ]
                    ),
                    channel=rng.choice(TicketChannel.values),
                    priority=rng.choices(Priority.values, weights=[2, 6, 2, 1])[0],
                    status=Ticket.Status.RESOLVED if resolved else Ticket.Status.OPEN,
                    team=agent.team,
                    agent=agent,
                    vendor=agent.vendor,
                    is_spam=rng.random() < 0.01,
                    opened_at=opened,
                    first_response_at=opened + timedelta(minutes=fr),
                    first_response_business_minutes=fr,
                    first_response_calendar_minutes=int(fr * 1.6),
                    first_resolved_at=opened + timedelta(minutes=res) if res is not None else None,
                    resolved_at=opened + timedelta(minutes=res + (600 if reopened else 0))
                    if res is not None
                    else None,
                    first_resolution_business_minutes=res,
                    resolution_business_minutes=res + (240 if reopened else 0) if res is not None else None,
                    resolution_calendar_minutes=int((res + (600 if reopened else 0)) * 1.8)
                    if res is not None
                    else None,
                    reopen_count=1 if reopened else 0,
                    agent_reply_count=replies,
                )
            )
        day += timedelta(days=1)
    Ticket.objects.bulk_create(tickets, batch_size=1000)
    saved = list(
        Ticket.objects.filter(source="demo").values_list(
            "pk",
            "first_response_business_minutes",
            "resolution_business_minutes",
            "opened_at",
            "agent_id",
            "priority",
        )
    )
    results: list[TicketSla] = []
    events: list[TicketEvent] = []
    for pk, first_minutes, res_minutes, opened, agent_id, priority in saved:
        if first_minutes is None:
            continue
        fr_target = 30 if priority in ("high", "urgent") else 60
        results.append(
            TicketSla(
                ticket_id=pk,
                target=SlaTarget.FIRST_RESPONSE,
                target_minutes=fr_target,
                met=first_minutes <= fr_target,
                business_minutes=first_minutes,
                due_at=opened + timedelta(minutes=fr_target),
            )
        )
        if res_minutes is not None:
            results.append(
                TicketSla(
                    ticket_id=pk,
                    target=SlaTarget.RESOLUTION,
                    target_minutes=480,
                    met=res_minutes <= 480,
                    business_minutes=res_minutes,
                )
            )
        events.append(
            TicketEvent(
                ticket_id=pk,
                external_id="reply-1",
                kind=TicketEvent.Kind.AGENT_REPLY,
                occurred_at=opened + timedelta(minutes=first_minutes),
                agent_id=agent_id,
            )
        )
    TicketSla.objects.bulk_create(results, batch_size=2000)
    TicketEvent.objects.bulk_create(events, batch_size=2000)


def _kpi(author: User, approver: User, code: str, **fields: Any) -> KpiDefinition:
    existing = KpiDefinition.objects.filter(code=code).first()
    if existing is not None:
        return existing
    version = kpi_services.kpi_define(
        actor=author, code=code, effective_from=date(2020, 1, 1), reason="Service KPI set for 2026.", **fields
    )
    kpi_services.kpi_version_approve(
        actor=approver, version=version, note="Agreed by the service review board."
    )
    return version.definition


def _benchmarks(manager: User) -> None:
    from service.benchmarks import benchmark_create
    from service.report_models import ServiceBenchmark

    if ServiceBenchmark.objects.filter(illustrative=True).exists():
        return
    rows = [
        (
            "first_response_median",
            "median",
            "business",
            "minutes",
            "45",
            "Median minutes to the first human reply, business hours.",
        ),
        (
            "first_response_calendar_median",
            "median",
            "calendar",
            "minutes",
            "95",
            "Median minutes to the first human reply, 24/7 clock.",
        ),
        (
            "first_response_median",
            "mean",
            "calendar",
            "minutes",
            "120",
            "Average first reply time, 24/7 clock (an average, so not comparable with a median).",
        ),
        (
            "sla_first_response_pct",
            "rate",
            "none",
            "%",
            "85",
            "Share of tickets first answered within the agreed target.",
        ),
        (
            "one_touch_resolution_pct",
            "rate",
            "none",
            "%",
            "58",
            "Share of solved tickets solved with a single agent reply.",
        ),
    ]
    for code, statistic, basis, unit, value, definition in rows:
        benchmark_create(
            actor=manager,
            data={
                "source": "Illustrative HK e-commerce service survey (sample)",
                "source_url": "",
                "period_start": "2026-01-01",
                "period_end": "2026-06-30",
                "industry": "Hong Kong e-commerce (sample)",
                "measure_code": code,
                "statistic": statistic,
                "time_basis": basis,
                "unit": unit,
                "definition": f"{definition} {ILLUSTRATIVE}",
                "value": value,
                "illustrative": "yes",
            },
        )


@transaction.atomic
def seed_reports(*, today: date | None = None) -> bool:
    """Service KPI definitions, a team, an agent and a vendor scorecard computed from tickets,
    illustrative benchmarks, and the rollups. Returns False when already loaded."""
    from service.models import Agent, Team
    from service.rollups import rollups_rebuild

    if KpiDefinition.objects.filter(code="cs_first_response_median").exists():
        return False
    today = today or timezone.localdate()
    manager = User.objects.get(username="cs.manager")
    vendor_manager = User.objects.get(username="vendor.manager")
    portal = User.objects.filter(username="portal.harbourcall").first()
    harbourcall = Vendor.objects.filter(code="harbourcall").first()
    _demo_tickets(today)
    rollups_rebuild()

    first_response = _kpi(
        manager,
        vendor_manager,
        "cs_first_response_median",
        name="First response time (median)",
        description="Median business minutes from creation to the first public human reply.",
        formula="first_response_median",
        unit="minutes",
        direction="lower",
        statistic="median",
        target=D(25),
        bands=REPORT_BANDS_MINUTES,
        weight=D(40),
        min_sample_size=20,
    )
    sla = _kpi(
        manager,
        vendor_manager,
        "cs_sla_first_response",
        name="SLA attainment, first response",
        description="Tickets meeting their first-response target ÷ tickets met or breached × 100.",
        formula="sla_first_response_pct",
        unit="%",
        direction="higher",
        statistic="rate",
        target=D(90),
        bands=REPORT_BANDS_PCT,
        weight=D(40),
        min_sample_size=20,
    )
    one_touch = _kpi(
        manager,
        vendor_manager,
        "cs_one_touch",
        name="One-touch resolution",
        description="Resolved with exactly one public agent reply and never reopened ÷ resolved × 100.",
        formula="one_touch_resolution_pct",
        unit="%",
        direction="higher",
        statistic="rate",
        target=D(90),
        bands=REPORT_BANDS_PCT,
        weight=D(20),
    )
    third = one_touch
    entry = registry.get("csat_pct")
    if entry is not None and Measure.objects.filter(code="csat_pct", source="survey").exists():
        third = _kpi(
            manager,
            vendor_manager,
            "cs_csat_survey",
            name="CSAT (survey)",
            description="Ratings of 4 or 5 ÷ all ratings × 100, from post-resolution surveys.",
            formula="csat_pct",
            unit="%",
            direction="higher",
            statistic="rate",
            target=D(85),
            bands=REPORT_BANDS_PCT,
            weight=D(20),
        )
    scheme = kpi_services.standing_scheme_create(
        actor=manager,
        name="Customer-service standings",
        standings=[
            {
                "name": "Formal review",
                "colour": "#cf222e",
                "lower": "0",
                "upper": "50",
                "staff_recommendation": "formal_review",
            },
            {
                "name": "Coaching",
                "colour": "#9a6700",
                "lower": "50",
                "upper": "75",
                "staff_recommendation": "coaching",
            },
            {
                "name": "Good",
                "colour": "#1a7f37",
                "lower": "75",
                "upper": "90",
                "staff_recommendation": "no_action",
            },
            {
                "name": "Excellent",
                "colour": "#0b5cad",
                "lower": "90",
                "upper": "100",
                "staff_recommendation": "reward",
            },
        ],
        description="Team and agent scorecards computed from tickets.",
    )
    lines = [
        kpi_services.LineSpec(first_response, D(40)),
        kpi_services.LineSpec(sla, D(40)),
        kpi_services.LineSpec(third, D(20)),
    ]
    cards = []
    # This demo's own team, or (when the ticket demo loaded first) the busiest in-house team.
    island = (
        Team.objects.filter(code="island").first()
        or Team.objects.filter(vendor__isnull=True)
        .annotate(n=Count("tickets"))
        .order_by("-n", "code")
        .first()
    )
    if island is not None:
        team_subject = Subject.objects.filter(
            content_type=ContentType.objects.get_for_model(Team), object_id=island.pk
        ).first() or kpi_services.subject_create(
            actor=manager, kind=Subject.Kind.TEAM, label=island.name, reference=island
        )
        cards.append(
            kpi_services.scorecard_create(
                actor=manager,
                name=f"Team scorecard: {island.name}",
                subject=team_subject,
                standing_scheme=scheme,
                lines=lines,
            )
        )
    agent = Agent.objects.filter(user__username="cs.agent").select_related("user").first()
    if agent is not None and agent.user is not None:
        agent_subject = Subject.objects.filter(kind=Subject.Kind.AGENT, user=agent.user).first() or (
            kpi_services.subject_create(
                actor=manager, kind=Subject.Kind.AGENT, label=agent.name, user=agent.user
            )
        )
        cards.append(
            kpi_services.scorecard_create(
                actor=manager,
                name=f"Agent KPIs from tickets: {agent.name}",
                subject=agent_subject,
                standing_scheme=scheme,
                lines=lines,
            )
        )
    last = period_math.previous_period(period_math.MONTH, today)
    if harbourcall is not None:
        accuracy = _kpi(
            manager,
            vendor_manager,
            "cs_ticket_count_accuracy",
            name="Ticket count accuracy (vendor report vs Steward)",
            description="|tickets the vendor reported − tickets in Steward| ÷ tickets in Steward × 100.",
            formula="vendor_ticket_discrepancy_pct",
            unit="%",
            direction="lower",
            statistic="rate",
            target=D(1),
            bands=ACCURACY_BANDS,
            weight=D(20),
        )
        vendor_subject = Subject.objects.filter(kind=Subject.Kind.VENDOR, vendor=harbourcall).first() or (
            kpi_services.subject_create(
                actor=manager, kind=Subject.Kind.VENDOR, label=harbourcall.name, vendor=harbourcall
            )
        )
        cards.append(
            kpi_services.scorecard_create(
                actor=vendor_manager,
                name="Harbour Call: service KPIs from the tickets it handled",
                subject=vendor_subject,
                standing_scheme=scheme,
                lines=[
                    kpi_services.LineSpec(first_response, D(40)),
                    kpi_services.LineSpec(sla, D(40)),
                    kpi_services.LineSpec(accuracy, D(20)),
                ],
            )
        )
        reported = Measure.objects.filter(
            code="tickets_handled_reported"
        ).first() or kpi_services.measure_create(
            actor=manager,
            code="tickets_handled_reported",
            label="Tickets handled (vendor's own report)",
            unit="tickets",
            description="The number of tickets the vendor reports having handled in the period.",
        )
        if portal is not None:
            from service.measures import MEASURES, VENDOR, current_rules, filed, source

            held = MEASURES["ticket_volume"].stat(
                source(
                    current_rules(), VENDOR, [harbourcall.pk], filed(current_rules(), last.start, last.end)
                )
            )
            count = held.get(harbourcall.pk, (D(0), 0))[0]
            submission = kpi_services.submission_create(
                actor=portal,
                measure=reported,
                subject=vendor_subject,
                start=last.start,
                end=last.end,
                value=count + 3,
                sample_size=None,
                note="Monthly ticket count from our helpdesk.",
                evidence=SimpleUploadedFile(
                    "ticket-count.txt", b"Helpdesk export: tickets handled.\n", "text/plain"
                ),
            )
            kpi_services.submission_decide(actor=vendor_manager, submission=submission, approve=True)
    for offset in (-2, -1, 0):
        period = period_math.shift(period_math.MONTH, last, offset)
        kpi_services.periods_compute(
            actor=None, scorecards=cards, start=period.start, close=True, today=today
        )
    _benchmarks(manager)
    return True
