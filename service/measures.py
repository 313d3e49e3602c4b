"""Service KPIs as computed measures of the measurement engine (issue 4 item 5; PRODUCT.md §3).

Every figure is computed from the values stored per ticket (``Ticket`` minutes, reopen and reply
counts) and per SLA target (``TicketSla``), which the SLA computation keeps up to date; nothing
here reads events except to find who touched a ticket under the "every agent who replied" rule.

Each measure is set-based: one query per kind of subject (agent, team, vendor) for all the
subjects being scored, grouped in SQL. Medians and 90th percentiles are computed in the
database: ``percentile_cont`` on PostgreSQL, ``ROW_NUMBER``/``COUNT`` window functions on
SQLite with the same linear interpolation between the two nearest ranks.

Subjects: an agent subject is the agent whose ``user`` is the subject's user (or whose row the
subject references); a team subject references its ``Team``; vendor and vendor-contract
subjects are the tickets whose ``vendor`` is the subject's vendor. Merged and spam tickets
never count. Who gets credit and which date files a ticket come from :class:`ServiceKpiRules`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.models import Avg, Count, Exists, F, OuterRef, Q, QuerySet, Value
from django.urls import NoReverseMatch, reverse

from kpis.registry import DrillRow, Reading, SubjectRef, register_measure
from service.models import Agent, SlaTarget, Team, Ticket, TicketEvent
from service.report_models import ServiceKpiRules

AGENT, TEAM, VENDOR = "agent", "team", "vendor"
MEDIAN, P90 = Fraction(1, 2), Fraction(9, 10)
TWO_PLACES = Decimal("0.01")
DRILL_LIMIT = 500
REPORTED_TICKETS_CODE = "tickets_handled_reported"


def local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def window(start: date, end: date) -> tuple[datetime, datetime]:
    """[start, end) as aware instants at local (Hong Kong) midnight."""
    zone = local_zone()
    return datetime.combine(start, time(), zone), datetime.combine(end, time(), zone)


def current_rules() -> ServiceKpiRules:
    """The rules in force (defaults until a manager saves them)."""
    return ServiceKpiRules.objects.filter(pk=1).first() or ServiceKpiRules(pk=1)


def _q2(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(TWO_PLACES, rounding=ROUND_HALF_UP)


# --- Which rows belong to which subject --------------------------------------------------------


@dataclass(frozen=True)
class Source:
    """Rows to aggregate for one kind of subject: ``t`` prefixes ticket fields, ``key`` groups."""

    qs: QuerySet[Any]
    t: str
    key: str  # empty: one group of everything


def _group(key: str) -> Any:
    return F(key) if key else Value(0)


def filing_q(rules: ServiceKpiRules, start: date, end: date, t: str = "") -> Q:
    """Tickets filed in [start, end) under RULES (by creation or by last resolution)."""
    lo, hi = window(start, end)
    name = "opened_at" if rules.filing == ServiceKpiRules.Filing.CREATED else "resolved_at"
    return Q(**{f"{t}{name}__gte": lo, f"{t}{name}__lt": hi})


def counted_q(t: str = "") -> Q:
    return Q(**{f"{t}is_merged": False, f"{t}is_spam": False})


def unresolved_at_q(end: date, t: str = "") -> Q:
    """Backlog: opened before END and not (finally) resolved before it."""
    _, hi = window(end, end)
    return Q(**{f"{t}opened_at__lt": hi}) & (
        Q(**{f"{t}resolved_at__isnull": True}) | Q(**{f"{t}resolved_at__gte": hi})
    )


def first_replies() -> QuerySet[TicketEvent]:
    """One row per (ticket, agent) who sent a public reply: the agent's first reply."""
    earlier = TicketEvent.objects.filter(
        ticket_id=OuterRef("ticket_id"), agent_id=OuterRef("agent_id"), kind=TicketEvent.Kind.AGENT_REPLY
    ).filter(
        Q(occurred_at__lt=OuterRef("occurred_at"))
        | Q(occurred_at=OuterRef("occurred_at"), id__lt=OuterRef("id"))
    )
    return TicketEvent.objects.filter(kind=TicketEvent.Kind.AGENT_REPLY, agent__isnull=False).exclude(
        Exists(earlier)
    )


def source(rules: ServiceKpiRules, dimension: str, keys: Sequence[int], condition: Q | None) -> Source:
    """Rows of the tickets credited to KEYS of DIMENSION that satisfy CONDITION (ticket fields)."""
    if dimension == AGENT and rules.attribution == ServiceKpiRules.Attribution.TOUCHED:
        t, key = "ticket__", "agent_id"
        qs: QuerySet[Any] = first_replies()
    else:
        t, key = "", {AGENT: "agent_id", TEAM: "team_id", VENDOR: "vendor_id"}[dimension]
        qs = Ticket.objects.all()
    qs = qs.filter(counted_q(t), **{f"{key}__in": list(keys)}).order_by()
    if condition is not None:
        qs = qs.filter(_prefixed(condition, t))
    return Source(qs, t, key)


def _prefixed(condition: Q, t: str) -> Q:
    """CONDITION (written on Ticket fields) rewritten for rows reached through prefix T."""
    if not t:
        return condition
    clone = Q()
    clone.connector, clone.negated = condition.connector, condition.negated
    for child in condition.children:
        if isinstance(child, Q):
            clone.children.append(_prefixed(child, t))
        else:
            name, value = child  # type: ignore[misc]  # a leaf of a Q is a (lookup, value) pair
            clone.children.append((f"{t}{name}", value))
    return clone


def subject_keys(subjects: Sequence[SubjectRef]) -> dict[str, dict[int, list[int]]]:
    """dimension → key (agent, team or vendor id) → ids of the subjects it stands for (≤ 1 query)."""
    groups: dict[str, dict[int, list[int]]] = {
        AGENT: defaultdict(list),
        TEAM: defaultdict(list),
        VENDOR: defaultdict(list),
    }
    agent_ct = ContentType.objects.get_for_model(Agent).pk
    team_ct = ContentType.objects.get_for_model(Team).pk
    by_user: dict[int, list[int]] = defaultdict(list)
    for s in subjects:
        if s.kind in ("vendor", "vendor_contract") and s.vendor_id is not None:
            groups[VENDOR][s.vendor_id].append(s.id)
        elif s.kind == "team" and s.content_type_id == team_ct and s.object_id is not None:
            groups[TEAM][s.object_id].append(s.id)
        elif s.kind == "agent":
            if s.content_type_id == agent_ct and s.object_id is not None:
                groups[AGENT][s.object_id].append(s.id)
            elif s.user_id is not None:
                by_user[s.user_id].append(s.id)
    if by_user:
        for user_id, agent_id in Agent.objects.filter(user_id__in=list(by_user)).values_list("user_id", "id"):
            groups[AGENT][agent_id].extend(by_user[user_id])
    return groups


def subject_key(subject: SubjectRef) -> tuple[str, int] | None:
    """The (dimension, key) of one subject, or None when it is not a service subject."""
    for dimension, keys in subject_keys([subject]).items():
        for key in keys:
            return dimension, key
    return None


# --- Statistics in SQL ---------------------------------------------------------------------------


def percentiles(
    qs: QuerySet[Any], key: str, value: str, fraction: Fraction
) -> dict[Any, tuple[Decimal, int]]:
    """key → (percentile of VALUE, sample size), interpolated like ``percentile_cont`` (one query).

    QS must already exclude rows whose VALUE is empty (in the same ``filter()`` as any condition on
    the same multi-valued relation, so that both name the same related row).
    """
    base = qs.values(g=_group(key), v=F(value))
    sql, params = base.query.sql_with_params()
    connection = connections[qs.db]
    result: dict[Any, tuple[Decimal, int]] = {}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT g, percentile_cont(%s) WITHIN GROUP (ORDER BY v), COUNT(*) "  # noqa: S608 (our SQL)
                f"FROM ({sql}) AS base GROUP BY g",
                (float(fraction), *params),
            )
            for g, p, n in cursor.fetchall():
                result[g] = (_q2(p), n)
            return result
        k, d = fraction.numerator, fraction.denominator
        cursor.execute(
            "SELECT g, v, rn, cnt FROM (SELECT g, v, "  # noqa: S608 (our SQL; k and d are integers)
            "ROW_NUMBER() OVER (PARTITION BY g ORDER BY v) AS rn, COUNT(*) OVER (PARTITION BY g) AS cnt "
            f"FROM ({sql}) AS base) AS ranked "
            f"WHERE rn = ((cnt - 1) * {k}) / {d} + 1 OR rn = ((cnt - 1) * {k} + {d - 1}) / {d} + 1 "
            "ORDER BY g, rn",
            params,
        )
        ranked: dict[Any, list[tuple[int, int, int]]] = defaultdict(list)
        for g, v, rn, cnt in cursor.fetchall():
            ranked[g].append((rn, v, cnt))
    for g, rows in ranked.items():
        cnt = rows[0][2]
        h = Fraction(cnt - 1) * fraction
        low = rows[0][1]
        high = rows[-1][1]
        result[g] = (
            _q2(
                Decimal(low)
                + (Decimal(high) - Decimal(low))
                * (Decimal((h - int(h)).numerator) / Decimal((h - int(h)).denominator))
            ),
            cnt,
        )
    return result


def means(qs: QuerySet[Any], key: str, value: str) -> dict[Any, tuple[Decimal, int]]:
    rows = qs.values(g=_group(key)).annotate(avg=Avg(value), n=Count("pk"))
    return {r["g"]: (_q2(r["avg"]), r["n"]) for r in rows if r["n"]}


def rates(qs: QuerySet[Any], key: str, hit: Q) -> dict[Any, tuple[Decimal, int]]:
    """key → (100 × rows matching HIT ÷ all rows, all rows)."""
    rows = qs.values(g=_group(key)).annotate(hits=Count("pk", filter=hit), n=Count("pk"))
    return {r["g"]: (_q2(Decimal(r["hits"]) * 100 / r["n"]), r["n"]) for r in rows if r["n"]}


def counts(qs: QuerySet[Any], key: str) -> dict[Any, tuple[Decimal, int]]:
    rows = qs.values(g=_group(key)).annotate(n=Count("pk"))
    return {r["g"]: (Decimal(r["n"]), r["n"]) for r in rows}


# --- The measures -------------------------------------------------------------------------------

Stat = Callable[[Source], dict[Any, tuple[Decimal, int]]]


@dataclass(frozen=True)
class ServiceMeasure:
    """A service measure and what a comparison with a published benchmark needs to know."""

    code: str
    label: str
    unit: str
    description: str
    statistic: str  # median, mean, p90, rate, count
    time_basis: str  # business, calendar, none
    lower_is_better: bool
    condition: Callable[[ServiceKpiRules, date, date], Q]
    stat: Stat
    drill: Q = field(default_factory=Q)
    columns: tuple[tuple[str, str], ...] = ()


MEASURES: dict[str, ServiceMeasure] = {}


def filed(rules: ServiceKpiRules, start: date, end: date) -> Q:
    return filing_q(rules, start, end)


def backlog_condition(rules: ServiceKpiRules, start: date, end: date) -> Q:
    return unresolved_at_q(end)


def compute_for(
    measure: ServiceMeasure,
) -> Callable[[Sequence[SubjectRef], date, date], Mapping[int, Reading]]:
    def compute(subjects: Sequence[SubjectRef], start: date, end: date) -> Mapping[int, Reading]:
        rules = current_rules()
        readings: dict[int, Reading] = {}
        for dimension, keys in subject_keys(subjects).items():
            if not keys:
                continue
            src = source(rules, dimension, list(keys), measure.condition(rules, start, end))
            for key, (value, n) in measure.stat(src).items():
                for subject_id in keys.get(key, ()):
                    readings[subject_id] = Reading(value, n, {"dimension": dimension, "key": key})
        return readings

    return compute


def tickets_behind(
    *, user: Any, measure: ServiceMeasure, dimension: str, key: int, start: date, end: date
) -> QuerySet[Ticket]:
    """The tickets a measure's value for (DIMENSION, KEY) was computed from, as USER may see them."""
    rules = current_rules()
    qs = Ticket.objects.restrict(user).filter(
        counted_q(), measure.condition(rules, start, end), measure.drill
    )
    if dimension == AGENT and rules.attribution == ServiceKpiRules.Attribution.TOUCHED:
        qs = qs.filter(
            Exists(
                TicketEvent.objects.filter(
                    ticket_id=OuterRef("pk"), agent_id=key, kind=TicketEvent.Kind.AGENT_REPLY
                )
            )
        )
    elif dimension in (AGENT, TEAM, VENDOR):
        qs = qs.filter(**{f"{dimension}_id": key})
    return qs


def ticket_url(pk: int) -> str:
    """The ticket's own page when the ingest feature provides one."""
    try:
        return reverse("service:ticket_detail", args=[pk])
    except NoReverseMatch:
        return ""


def rows_for(measure: ServiceMeasure) -> Callable[[Any, SubjectRef, date, date], Sequence[DrillRow]]:
    def rows(user: Any, subject: SubjectRef, start: date, end: date) -> Sequence[DrillRow]:
        found = subject_key(subject)
        if found is None:
            return []
        tickets = tickets_behind(
            user=user, measure=measure, dimension=found[0], key=found[1], start=start, end=end
        )
        columns = (("Opened", "opened_at"), *measure.columns)
        return [
            DrillRow(
                label=str(ticket),
                url=ticket_url(ticket.pk),
                cells=tuple((title, getattr(ticket, name)) for title, name in columns),
            )
            for ticket in tickets.order_by("opened_at", "id")[:DRILL_LIMIT]
        ]

    return rows


def _distribution(field_name: str, statistic: str, condition: Q | None = None) -> Stat:
    wanted = (condition or Q()) & Q(**{f"{field_name}__isnull": False})

    def stat(src: Source) -> dict[Any, tuple[Decimal, int]]:
        qs = src.qs.filter(_prefixed(wanted, src.t))
        value = src.t + field_name
        if statistic == "mean":
            return means(qs, src.key, value)
        return percentiles(qs, src.key, value, MEDIAN if statistic == "median" else P90)

    return stat


def _rate(denominator: Q, hit: Q) -> Stat:
    def stat(src: Source) -> dict[Any, tuple[Decimal, int]]:
        return rates(src.qs.filter(_prefixed(denominator, src.t)), src.key, _prefixed(hit, src.t))

    return stat


def _count(src: Source) -> dict[Any, tuple[Decimal, int]]:
    return counts(src.qs, src.key)


STATISTIC_WORDS = {"median": "Median", "p90": "90th percentile of", "mean": "Mean"}
BASIS_WORDS = {
    "business": "business minutes (inside the SLA calendar's business hours, pauses excluded)",
    "calendar": "calendar minutes (24/7, pauses excluded)",
}


def _add(measure: ServiceMeasure) -> None:
    MEASURES[measure.code] = measure


FIRST_RESPONSE_COLUMNS = (
    ("First response (business min)", "first_response_business_minutes"),
    ("First response (calendar min)", "first_response_calendar_minutes"),
)
RESOLUTION_COLUMNS = (
    ("Resolved", "resolved_at"),
    ("Resolution (business min)", "resolution_business_minutes"),
    ("Reopened", "reopen_count"),
)

for _statistic in ("median", "p90", "mean"):
    for _basis in ("business", "calendar"):
        if _basis == "calendar" and _statistic == "p90":
            continue
        _suffix = "" if _basis == "business" else "_calendar"
        _add(
            ServiceMeasure(
                code=f"first_response{_suffix}_{_statistic}",
                label=f"First response time, {_statistic if _statistic != 'p90' else '90th percentile'}"
                + (" (calendar)" if _suffix else ""),
                unit="minutes",
                description=(
                    f"{STATISTIC_WORDS[_statistic]} {BASIS_WORDS[_basis]} from the ticket's creation to "
                    "the first "
                    "public reply by a human agent (bot replies and internal notes do not count), over the "
                    "tickets filed in the period that have had a first response."
                ),
                statistic=_statistic,
                time_basis=_basis,
                lower_is_better=True,
                condition=filed,
                stat=_distribution(f"first_response_{_basis}_minutes", _statistic),
                drill=Q(**{f"first_response_{_basis}_minutes__isnull": False}),
                columns=FIRST_RESPONSE_COLUMNS,
            )
        )
    _add(
        ServiceMeasure(
            code=f"next_response_{_statistic}",
            label=f"Next response time, {_statistic if _statistic != 'p90' else '90th percentile'}",
            unit="minutes",
            description=(
                f"{STATISTIC_WORDS[_statistic]} of each ticket's longest wait, in {BASIS_WORDS['business']}, "
                "from a customer message to the next public agent reply (the next-response SLA's measured "
                "gap), over the tickets filed in the period."
            ),
            statistic=_statistic,
            time_basis="business",
            lower_is_better=True,
            condition=filed,
            stat=_distribution(
                "sla_results__business_minutes", _statistic, Q(sla_results__target=SlaTarget.NEXT_RESPONSE)
            ),
            drill=Q(sla_results__target=SlaTarget.NEXT_RESPONSE, sla_results__business_minutes__isnull=False),
        )
    )
    for _which, _field, _words in (
        ("first_resolution", "first_resolution_business_minutes", "the first resolution"),
        ("resolution", "resolution_business_minutes", "the last (full) resolution"),
    ):
        _add(
            ServiceMeasure(
                code=f"{_which}_{_statistic}",
                label=f"{'First' if _which == 'first_resolution' else 'Full'} resolution time, "
                f"{_statistic if _statistic != 'p90' else '90th percentile'}",
                unit="minutes",
                description=(
                    f"{STATISTIC_WORDS[_statistic]} {BASIS_WORDS['business']} from creation to {_words}, "
                    "time waiting on the customer and time closed before a reopen left out, over the "
                    "tickets filed in the period that are resolved."
                ),
                statistic=_statistic,
                time_basis="business",
                lower_is_better=True,
                condition=filed,
                stat=_distribution(_field, _statistic),
                drill=Q(**{f"{_field}__isnull": False}),
                columns=RESOLUTION_COLUMNS,
            )
        )

_add(
    ServiceMeasure(
        code="resolution_calendar_median",
        label="Full resolution time, median (calendar)",
        unit="minutes",
        description=(
            f"Median {BASIS_WORDS['calendar']} from creation to the last resolution, over the tickets filed "
            "in the period that are resolved."
        ),
        statistic="median",
        time_basis="calendar",
        lower_is_better=True,
        condition=filed,
        stat=_distribution("resolution_calendar_minutes", "median"),
        drill=Q(resolution_calendar_minutes__isnull=False),
        columns=RESOLUTION_COLUMNS,
    )
)

SLA_MEASURES = {
    "sla_first_response_pct": (SlaTarget.FIRST_RESPONSE, "first response"),
    "sla_next_response_pct": (SlaTarget.NEXT_RESPONSE, "next response"),
    "sla_resolution_pct": (SlaTarget.RESOLUTION, "resolution"),
}
for _code, (_target, _words) in SLA_MEASURES.items():
    _add(
        ServiceMeasure(
            code=_code,
            label=f"SLA attainment, {_words}",
            unit="%",
            description=(
                f"Tickets that met their {_words} SLA target ÷ tickets that met or breached it × 100 "
                "(targets still running are left out), over the tickets filed in the period."
            ),
            statistic="rate",
            time_basis="none",
            lower_is_better=False,
            condition=filed,
            stat=_rate(
                Q(sla_results__target=_target, sla_results__met__isnull=False), Q(sla_results__met=True)
            ),
            drill=Q(sla_results__target=_target, sla_results__met__isnull=False),
        )
    )
_add(
    ServiceMeasure(
        code="sla_attainment_pct",
        label="SLA attainment, all targets",
        unit="%",
        description=(
            "SLA results met ÷ results met or breached × 100, counting every target (first response, next "
            "response, resolution) of the tickets filed in the period; running targets are left out."
        ),
        statistic="rate",
        time_basis="none",
        lower_is_better=False,
        condition=filed,
        stat=_rate(Q(sla_results__met__isnull=False), Q(sla_results__met=True)),
        drill=Q(sla_results__met__isnull=False),
    )
)
_add(
    ServiceMeasure(
        code="reopen_rate_pct",
        label="Reopen rate",
        unit="%",
        description=(
            "Tickets reopened at least once after a resolution ÷ tickets resolved at least once × 100, over "
            "the tickets filed in the period."
        ),
        statistic="rate",
        time_basis="none",
        lower_is_better=True,
        condition=filed,
        stat=_rate(Q(first_resolved_at__isnull=False), Q(reopen_count__gt=0)),
        drill=Q(first_resolved_at__isnull=False),
        columns=RESOLUTION_COLUMNS,
    )
)
_add(
    ServiceMeasure(
        code="one_touch_resolution_pct",
        label="One-touch resolution",
        unit="%",
        description=(
            "One-touch resolution: resolved tickets with exactly one public agent reply that were never "
            "reopened ÷ all resolved tickets × 100, over the tickets filed in the period. (Stricter than "
            "Zendesk's “fewer than 2 agent replies”: a ticket resolved with no reply at all is not "
            "one-touch.)"
        ),
        statistic="rate",
        time_basis="none",
        lower_is_better=False,
        condition=filed,
        stat=_rate(Q(resolved_at__isnull=False), Q(agent_reply_count=1, reopen_count=0)),
        drill=Q(resolved_at__isnull=False),
        columns=(("Agent replies", "agent_reply_count"), *RESOLUTION_COLUMNS),
    )
)
_add(
    ServiceMeasure(
        code="backlog",
        label="Backlog at period end",
        unit="tickets",
        description=(
            "Tickets created before the end of the period and not (finally) resolved by then, whatever the "
            "filing rule. A point-in-time count, not a flow."
        ),
        statistic="count",
        time_basis="none",
        lower_is_better=True,
        condition=backlog_condition,
        stat=_count,
        columns=(("Status", "status"), ("Resolved", "resolved_at")),
    )
)
_add(
    ServiceMeasure(
        code="ticket_volume",
        label="Ticket volume",
        unit="tickets",
        description="Tickets filed in the period (merged and spam tickets excluded).",
        statistic="count",
        time_basis="none",
        lower_is_better=False,
        condition=filed,
        stat=_count,
        columns=(("Channel", "channel"), ("Priority", "priority"), ("Status", "status")),
    )
)


def overall(code: str, start: date, end: date) -> tuple[Decimal, int] | None:
    """The measure over every counted ticket (the whole service), for benchmark placement."""
    measure = MEASURES[code]
    qs = Ticket.objects.filter(counted_q(), measure.condition(current_rules(), start, end)).order_by()
    found = measure.stat(Source(qs, "", ""))
    return next(iter(found.values()), None)


# --- Vendor information accuracy (issue 5 item 4) ---------------------------------------------


def vendor_ticket_discrepancy(
    subjects: Sequence[SubjectRef], start: date, end: date
) -> Mapping[int, Reading]:
    """|tickets the vendor reported − tickets Steward holds| ÷ tickets Steward holds × 100.

    The vendor reports its count as an approved submission of ``tickets_handled_reported`` for
    exactly this period; without one, or without tickets in Steward, the figure is not applicable.
    """
    from kpis.models import MeasureSubmission

    vendor_subjects = [s for s in subjects if s.kind in ("vendor", "vendor_contract") and s.vendor_id]
    if not vendor_subjects:
        return {}
    reported: dict[int, Decimal] = {}
    for subject_id, value in (
        MeasureSubmission.objects.filter(
            measure__code=REPORTED_TICKETS_CODE,
            subject_id__in=[s.id for s in vendor_subjects],
            start=start,
            end=end,
            status=MeasureSubmission.Status.APPROVED,
        )
        .order_by("decided_at", "id")
        .values_list("subject_id", "value")
    ):
        reported[subject_id] = value  # the latest approval wins, as in the engine
    if not reported:
        return {}
    held = MEASURES["ticket_volume"].stat(
        source(
            current_rules(),
            VENDOR,
            [s.vendor_id for s in vendor_subjects if s.vendor_id],
            filed(current_rules(), start, end),
        )
    )
    readings: dict[int, Reading] = {}
    for s in vendor_subjects:
        if s.id not in reported or s.vendor_id not in held:
            continue
        steward = held[s.vendor_id][0]
        readings[s.id] = Reading(
            _q2(abs(reported[s.id] - steward) * 100 / steward),
            int(steward),
            {"reported": str(reported[s.id]), "in_steward": int(steward)},
        )
    return readings


# Built once, so that registering again (a second ``ready``) finds the same functions.
COMPUTE = {code: compute_for(measure) for code, measure in MEASURES.items()}
ROWS = {code: rows_for(measure) for code, measure in MEASURES.items()}


def register_all() -> None:
    """Register every service measure with the engine (from ``ServiceConfig.ready``)."""
    for code, measure in MEASURES.items():
        register_measure(
            code, measure.label, measure.unit, COMPUTE[code], rows=ROWS[code], description=measure.description
        )
    register_measure(
        "vendor_ticket_discrepancy_pct",
        "Ticket count discrepancy (vendor report vs Steward)",
        "%",
        vendor_ticket_discrepancy,
        rows=ROWS["ticket_volume"],
        description=(
            "Information accuracy: |tickets the vendor reported handling (approved submission of "
            f"“{REPORTED_TICKETS_CODE}” for the period) − tickets Steward holds for the vendor in the "
            "period| "
            "÷ tickets in Steward × 100. 0 means the vendor's report matches Steward's records."
        ),
    )
