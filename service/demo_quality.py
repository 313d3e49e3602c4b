"""Demo data for customer service, loaded by ``manage.py seed_demo`` (idempotent).

``seed_quality``: a published code of practice, a QA rubric, QA reviews (one disputed),
surveys with answers, and a staff review awaiting the CS manager's decision. Surveys go through
the real path: every resolved ticket of the last SURVEYED_MONTHS closed months (and this one)
whose customer has an e-mail is invited, the invitation e-mails are sent (into memory), and
about half the customers answer through their signed links (more on e-mail, fewer after calls).
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.core import mail
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from customers.models import Customer
from kpis import periods as period_math
from service import qa, staff_reviews, surveys
from service.models import (
    Agent,
    CodeItem,
    CodeOfPractice,
    QaReview,
    Rubric,
    SurveyInvitation,
    Team,
    Ticket,
    TicketEvent,
)
from vendors.models import Vendor

# --- quality (s3) ---

DEMO_SOURCE = "demo-quality"

CODE_ITEMS = [
    (
        "COUR-1",
        "Greet and close politely",
        "Greet the customer by name, thank them and close every conversation politely, "
        "in the customer's language (English or Chinese).",
        "courtesy",
    ),
    (
        "COUR-2",
        "No blame, no jargon",
        "Never blame the customer or another department; explain in plain words without internal jargon.",
        "courtesy",
    ),
    (
        "ACC-1",
        "Accurate order and refund information",
        "Check the order in the system before quoting delivery dates, prices or refund amounts; never guess.",
        "accuracy",
    ),
    (
        "ACC-2",
        "Correct the record",
        "If wrong information was given, tell the customer promptly and correct it in writing.",
        "accuracy",
    ),
    (
        "PRIV-1",
        "Verify identity before disclosing",
        "Verify the customer's identity (order number plus registered phone or e-mail) before "
        "discussing an order or personal data (PDPO DPP4).",
        "privacy",
    ),
    (
        "PRIV-2",
        "Collect only what is needed",
        "Ask only for the personal data the enquiry needs, and never ask for full HKID numbers "
        "or card numbers in chat (PDPO DPP1).",
        "privacy",
    ),
    (
        "FAIR-1",
        "Same rules for every customer",
        "Apply the refund and goodwill policy in the same way to every customer, "
        "whatever their tier or tone.",
        "fairness",
    ),
    (
        "ETH-1",
        "No misleading sales",
        "Do not promise stock, delivery or compensation that has not been confirmed; no pressure selling.",
        "ethics",
    ),
]

RUBRIC = [
    # name, weight, min, max, critical, pass mark, linked item codes
    ("Greeting and courtesy", "15", 0, 4, False, "100", ["COUR-1", "COUR-2"]),
    ("Identity verification", "10", 0, 1, True, "100", ["PRIV-1", "PRIV-2"]),
    ("Accuracy of information", "30", 0, 4, True, "50", ["ACC-1", "ACC-2"]),
    ("Ownership and resolution", "25", 0, 4, False, "100", ["FAIR-1"]),
    ("Tone and empathy", "20", 0, 4, False, "100", ["ETH-1"]),
]

AGENTS = [
    # external id, name, team code, vendor code, user, tickets per month, (csat weights 1..5)
    ("kelvin.ho", "Kelvin Ho", "hk-care", None, "cs.agent", 16, (1, 1, 2, 8, 12)),
    ("wong.meiling", "Wong Mei Ling", "hk-care", None, None, 8, (1, 2, 3, 7, 6)),
    ("hc.lee.kawai", "Lee Ka Wai", "harbour-outsourced", "harbourcall", None, 10, (2, 3, 4, 6, 4)),
    ("hc.cheung.siuming", "Cheung Siu Ming", "harbour-outsourced", "harbourcall", None, 10, (3, 3, 4, 5, 3)),
]

SUBJECTS = [
    "Order not delivered to Tsuen Wan address",
    "Refund for damaged rice cooker",
    "Change delivery slot to Saturday",
    "Octopus payment charged twice",
    "Wrong size of running shoes",
    "Promo code HK10 not accepted",
    "Warranty for air purifier",
    "Parcel locker pickup code expired",
]

GIVEN = ["Tai Man", "Siu Ling", "Ka Ho", "Wing Yan", "Chi Keung", "Hoi Yan", "Man Kit", "Sze Wing"]
FAMILY = ["Chan", "Wong", "Lee", "Cheung", "Lau", "Ng", "Yeung", "Tam"]


def _at(day: date, hour: int) -> datetime:
    return timezone.make_aware(datetime.combine(day, time(hour, 0)), timezone.get_default_timezone())


def _teams() -> dict[str, Team]:
    harbourcall = Vendor.objects.filter(code="harbourcall").first()
    teams = {}
    for code, name, vendor in (
        ("hk-care", "Hong Kong Customer Care", None),
        ("harbour-outsourced", "Harbour Call (outsourced)", harbourcall),
    ):
        teams[code], _ = Team.objects.get_or_create(code=code, defaults={"name": name, "vendor": vendor})
    return teams


def _agents(teams: dict[str, Team]) -> list[tuple[Agent, int, tuple[int, ...]]]:
    agents: list[tuple[Agent, int, tuple[int, ...]]] = []
    for external_id, name, team, vendor_code, username, per_month, weights in AGENTS:
        vendor = Vendor.objects.filter(code=vendor_code).first() if vendor_code else None
        user = User.objects.filter(username=username).first() if username else None
        existing = Agent.objects.filter(user=user).first() if user is not None else None
        if existing is not None:
            # The ticket demo already linked this login to its helpdesk agent: review that agent.
            agents.append((existing, per_month, weights))
            continue
        agent, _ = Agent.objects.get_or_create(
            source="steward",
            external_id=external_id,
            defaults={"name": name, "team": teams[team], "vendor": vendor, "user": user},
        )
        agents.append((agent, per_month, weights))
    return agents


def _customers(rng: random.Random, count: int) -> list[Customer]:
    customers = []
    for i in range(count):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        customer, _ = Customer.objects.get_or_create(
            source=DEMO_SOURCE,
            external_id=f"C{i + 1:04d}",
            defaults={
                "given_name": given,
                "family_name": family,
                "email": f"{given.lower().replace(' ', '.')}.{family.lower()}{i + 1}@example.hk",
                "phone": f"+8529{rng.randrange(1000000, 9999999)}",
            },
        )
        customers.append(customer)
    return customers


def _tickets(rng: random.Random, today: date) -> None:
    """Resolved tickets over the last three months and this one, with their main events."""
    agents = _agents(_teams())
    customers = _customers(rng, 60)
    last = period_math.previous_period(period_math.MONTH, today)
    months = [period_math.shift(period_math.MONTH, last, -n) for n in (2, 1, 0)]
    months.append(period_math.period_containing(period_math.MONTH, today))
    number = 5000
    for period in months:
        days = max((min(period.end, today) - period.start).days - 1, 1)
        for agent, per_month, _ in agents:
            count = per_month if period.end <= today else per_month // 4
            for _ in range(count):
                number += 1
                opened = _at(period.start + timedelta(days=rng.randrange(days)), rng.randrange(9, 19))
                replied = opened + timedelta(minutes=rng.randrange(5, 240))
                resolved = replied + timedelta(hours=rng.randrange(1, 30))
                ticket = Ticket.objects.create(
                    source=DEMO_SOURCE,
                    external_id=str(number),
                    subject=rng.choice(SUBJECTS),
                    channel=rng.choice(["email", "chat", "whatsapp", "phone"]),
                    status=Ticket.Status.RESOLVED,
                    customer=rng.choice(customers),
                    team=agent.team,
                    agent=agent,
                    vendor=agent.vendor,
                    opened_at=opened,
                    first_response_at=replied,
                    first_resolved_at=resolved,
                    resolved_at=resolved,
                    agent_reply_count=rng.randrange(1, 4),
                )
                TicketEvent.objects.bulk_create(
                    [
                        TicketEvent(ticket=ticket, external_id="1", kind="created", occurred_at=opened),
                        TicketEvent(
                            ticket=ticket,
                            external_id="2",
                            kind="agent_reply",
                            occurred_at=replied,
                            agent=agent,
                        ),
                        TicketEvent(
                            ticket=ticket, external_id="3", kind="resolved", occurred_at=resolved, agent=agent
                        ),
                    ]
                )


# Answer profiles (CSAT weights for 1..5) of the ticket demo's teams (service.demo_tickets): the
# in-house e-mail team does best, the outsourced hotline worst, so the vendor comparison shows it.
TEAM_CSAT = {"hk-email": (1, 1, 3, 9, 10), "hk-chat": (1, 2, 4, 8, 6), "harbourcall-hotline": (3, 3, 5, 7, 3)}
DEFAULT_CSAT = (1, 1, 2, 4, 4)
# Share of invited customers who answer, by channel: e-mail customers answer an e-mail most often.
RESPONSE_RATE = {"email": 0.6, "web": 0.55, "chat": 0.5, "whatsapp": 0.55, "social": 0.35, "phone": 0.4}
PRAISE = ["Very helpful, thank you!", "Quick and polite, problem solved.", "多謝幫忙，好快回覆。"]
COMPLAINTS = [
    "Had to explain my problem three times.",
    "Waited two days for a reply.",
    "退款仲未收到，等咗好耐。",
    "The hotline kept me on hold.",
]


def _answer_surveys(rng: random.Random) -> None:
    """Customers answer through their signed links: about seven in ten for this module's own tickets,
    by channel for the ticket demo's (RESPONSE_RATE); ratings follow the agent's or the team's profile."""
    weights = {external_id: w for external_id, *_, w in AGENTS}
    kelvin = weights["kelvin.ho"]
    invitations = SurveyInvitation.objects.select_related(
        "ticket__agent__team", "ticket__agent__user"
    ).order_by("id")
    for invitation in invitations:
        ticket = invitation.ticket
        rate = 0.7 if ticket.source == DEMO_SOURCE else RESPONSE_RATE.get(ticket.channel, 0.5)
        if rng.random() > rate:
            continue
        agent = ticket.agent
        profile = DEFAULT_CSAT
        if agent is not None:
            if agent.user is not None and agent.user.username == "cs.agent":
                profile = kelvin  # the demo's reviewed agent, whoever's tickets he answered
            else:
                profile = weights.get(agent.external_id) or TEAM_CSAT.get(
                    agent.team.code if agent.team else "", profile
                )
        csat = rng.choices(range(1, 6), weights=profile)[0]
        nps = max(0, min(10, csat * 2 + rng.randrange(-2, 2)))
        ces = max(1, min(invitation.ces_scale_max, 7 - csat + rng.randrange(0, 2)))
        comment = ""
        if rng.random() < 0.3:
            comment = rng.choice(PRAISE) if csat >= 4 else rng.choice(COMPLAINTS) if csat <= 2 else ""
        surveys.survey_answer(
            token=surveys.survey_token(invitation),
            csat=csat,
            nps=nps if rng.random() < 0.9 else None,
            ces=ces if rng.random() < 0.8 else None,
            comment=comment,
        )


def _code_of_practice(manager: User) -> CodeOfPractice:
    cop = qa.code_of_practice_create(
        actor=manager,
        code="service-ethics",
        title="Customer service rules and ethics",
        summary="What every agent, in-house or outsourced, follows in every conversation. "
        "QA reviews cite these items.",
        items=[qa.ItemSpec(*item) for item in CODE_ITEMS],
    )
    return qa.code_of_practice_publish(actor=manager, code_of_practice=cop)


def _rubric(manager: User, cop: CodeOfPractice) -> Rubric:
    items = {i.code: i.pk for i in CodeItem.objects.filter(code_of_practice=cop)}
    return qa.rubric_create(
        actor=manager,
        name="Conversation quality v1",
        description="For e-mail, chat and WhatsApp conversations. "
        "Identity verification and accuracy are critical.",
        categories=[
            qa.CategorySpec(
                name=name,
                weight=Decimal(weight),
                scale_min=low,
                scale_max=high,
                critical=critical,
                pass_mark=Decimal(pass_mark),
                code_item_ids=[items[c] for c in codes],
            )
            for name, weight, low, high, critical, pass_mark, codes in RUBRIC
        ],
    )


def _reviews(rng: random.Random, manager: User, rubric: Rubric, cop: CodeOfPractice, today: date) -> None:
    """Four reviews per agent and month over the last three months; the agent answers some, disputes one."""
    categories = list(rubric.categories.all())
    items = {i.code: i.pk for i in CodeItem.objects.filter(code_of_practice=cop)}
    kelvin = User.objects.filter(username="cs.agent").first()
    last = period_math.previous_period(period_math.MONTH, today)
    disputed = False
    for back in (2, 1, 0):
        period = period_math.shift(period_math.MONTH, last, -back)
        low, high = _at(period.start, 0), _at(period.end, 0)
        for agent, _, _ in _agents(_teams()):
            tickets = list(
                Ticket.objects.filter(agent=agent, resolved_at__gte=low, resolved_at__lt=high).order_by("id")[
                    :4
                ]
            )
            for ticket in tickets:
                review = qa.qa_assign(actor=manager, ticket=ticket, reviewer=manager, rubric=rubric)
                strong = agent.external_id == "kelvin.ho"
                selections = {}
                for c in categories:
                    top = c.scale_max
                    if top - c.scale_min <= 1 or (strong and rng.random() < 0.7):
                        chosen = top  # yes/no categories fail only on purpose, below
                    else:
                        chosen = rng.randrange(max(c.scale_min, top - 2), top + 1)
                    selections[c.pk] = qa.Selection(chosen)
                to_dispute = strong and back == 0 and not disputed
                disputed = disputed or to_dispute
                if to_dispute or (not strong and rng.random() < 0.15):
                    verification = next(c for c in categories if c.name == "Identity verification")
                    selections[verification.pk] = qa.Selection(
                        0, "Discussed the order before verifying the caller."
                    )
                cited = [items["PRIV-1"]] if selections[categories[1].pk].selected == 0 else [items["COUR-1"]]
                qa.qa_review_submit(
                    actor=manager,
                    review=review,
                    selections=selections,
                    summary="Reviewed against the service rules; see the category notes.",
                    cited_item_ids=cited,
                )
                # Demo history: the review happened during that month, not today.
                submitted = ticket.resolved_at + timedelta(days=2) if ticket.resolved_at else timezone.now()
                QaReview.objects.filter(pk=review.pk).update(
                    submitted_at=min(submitted, high - timedelta(minutes=1))
                )
                if kelvin is not None and agent.user_id == kelvin.pk:
                    if to_dispute:
                        qa.qa_review_dispute(
                            actor=kelvin,
                            review=review,
                            reason="The customer had already verified by SMS code before the chat; "
                            "please check the chat log.",
                        )
                    elif rng.random() < 0.8:
                        qa.qa_review_acknowledge(actor=kelvin, review=review)


# Closed months whose resolved tickets were surveyed, besides the current one: enough for a trend
# and for the staff review of the last month; each month more costs seconds of seeding.
SURVEYED_MONTHS = 2


def surveyed_since(today: date) -> datetime:
    """The first instant of the earliest surveyed month (Hong Kong time)."""
    last = period_math.previous_period(period_math.MONTH, today)
    return _at(period_math.shift(period_math.MONTH, last, 1 - SURVEYED_MONTHS).start, 0)


@transaction.atomic
def seed_quality(*, today: date | None = None) -> bool:
    """Load the quality demo; returns False (and does nothing) when it is already there."""
    if CodeOfPractice.objects.filter(code="service-ethics").exists():
        return False
    today = today or timezone.localdate()
    rng = random.Random(4)  # noqa: S311 - demo data, not security
    manager = User.objects.get(username="cs.manager")
    if not Ticket.objects.exists():
        _tickets(rng, today)
    # The same service as the hourly task: every resolved ticket of the surveyed months whose customer
    # has an e-mail address is invited (earlier months stay unsurveyed: seeding time grows with each).
    for ticket_id in (
        surveys.invitable_tickets(within_days=None)
        .filter(resolved_at__gte=surveyed_since(today))
        .values_list("pk", flat=True)
    ):
        surveys.survey_invite(actor=None, ticket=Ticket(pk=ticket_id), send=False)
    # The invitation e-mails go through the real service, into memory: seeding would otherwise print
    # one console e-mail per ticket. `manage.py send_surveys` prints new ones on the console backend.
    quiet = mail.get_connection("django.core.mail.backends.locmem.EmailBackend")
    for invitation_id in SurveyInvitation.objects.filter(sent_at__isnull=True).values_list("pk", flat=True):
        surveys.survey_email_send(invitation_id=invitation_id, connection=quiet)
    _answer_surveys(rng)
    cop = _code_of_practice(manager)
    rubric = _rubric(manager, cop)
    _reviews(rng, manager, rubric, cop, today)
    kelvin = Agent.objects.filter(user__username="cs.agent").first()
    if kelvin is not None:
        last = period_math.previous_period(period_math.MONTH, today)
        staff_reviews.staff_review_prepare(actor=manager, agent=kelvin, start=last.start, end=last.end)
    return True
