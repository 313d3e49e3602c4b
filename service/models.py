"""Customer service (seed 004, issue 4): teams, agents, tickets and their events.

Tickets and events come from an external helpdesk (or Steward's own API) and keep the
source's ids: ``(source, external_id)`` is unique, so replaying an import changes nothing.
``Ticket.vendor`` is the vendor that employed the assignee when the ticket was handled (empty
for in-house staff); it is what lets the same KPI judge in-house teams and outsourced vendors.

Per-ticket figures (first response, resolution, SLA per target) are stored on the ticket and
in :class:`TicketSla`, recomputed when the ticket's events or its SLA policy change, so that
reports read stored values and rollups instead of rescanning events (PRODUCT.md §3).
"""

from __future__ import annotations

from typing import ClassVar
from zoneinfo import available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from core.models import StewardModel


class Team(StewardModel):
    """A customer-service team; ``vendor`` is set when the whole team is outsourced.

    ``code`` is what helpdesk files name the team by, so it never changes once set up.
    """

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="service_teams"
    )
    # A deactivated team is kept (its tickets still count) but offered for no new agent.
    active = models.BooleanField(default=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Agent(StewardModel):
    """A person who answers customers: in-house (``vendor`` empty) or a vendor's staff.

    ``user`` links the agent to a Steward login so that they can see their own scorecard.
    """

    source = models.CharField(max_length=40, default="steward")
    external_id = models.CharField(max_length=100)
    name = models.CharField(max_length=120)
    email = models.CharField(max_length=254, blank=True)
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="agents")
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="service_agents"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_agent",
    )
    active = models.BooleanField(default=True)

    vendor_path: ClassVar[str | None] = "vendor_id"
    personal_data_fields: ClassVar[frozenset[str]] = frozenset({"email"})

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="service_agent_source_id")
        ]

    def __str__(self) -> str:
        return self.name


class TicketChannel(models.TextChoices):
    EMAIL = "email", "E-mail"
    CHAT = "chat", "Live chat"
    PHONE = "phone", "Phone"
    WHATSAPP = "whatsapp", "WhatsApp"
    SOCIAL = "social", "Social media"
    WEB = "web", "Web form"


class Priority(models.TextChoices):
    LOW = "low", "Low"
    NORMAL = "normal", "Normal"
    HIGH = "high", "High"
    URGENT = "urgent", "Urgent"


class Ticket(StewardModel):
    """A customer conversation. Status and the stored figures follow from its events.

    Times: ``opened_at`` is the source's creation time; ``first_response_at`` the first public
    human agent reply (bot replies and internal notes do not count); ``first_resolved_at`` and
    ``resolved_at`` the first and the last resolution. Minutes are stored in business and
    calendar time, with paused time (pending/on-hold, closed before a reopen) left out.
    """

    class Status(models.TextChoices):
        NEW = "new", "New"
        OPEN = "open", "Open"
        PENDING = "pending", "Pending (waiting on customer)"
        ON_HOLD = "on_hold", "On hold"
        RESOLVED = "resolved", "Resolved"
        CLOSED = "closed", "Closed"

    source = models.CharField(max_length=40, default="steward")
    external_id = models.CharField(max_length=100)
    subject = models.CharField(max_length=300, blank=True)
    channel = models.CharField(max_length=12, choices=TicketChannel.choices, default=TicketChannel.EMAIL)
    priority = models.CharField(max_length=10, choices=Priority.choices, default=Priority.NORMAL)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.NEW)
    customer_tier = models.CharField(max_length=12, blank=True)
    customer = models.ForeignKey(
        "customers.Customer", null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    team = models.ForeignKey(Team, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.PROTECT, related_name="tickets")
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="tickets"
    )
    is_merged = models.BooleanField(default=False)
    is_spam = models.BooleanField(default=False)

    opened_at = models.DateTimeField()
    first_response_at = models.DateTimeField(null=True, blank=True)
    first_resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    reopen_count = models.PositiveIntegerField(default=0)
    agent_reply_count = models.PositiveIntegerField(default=0)
    first_response_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    first_response_calendar_minutes = models.PositiveIntegerField(null=True, blank=True)
    first_resolution_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    first_resolution_calendar_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_business_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_calendar_minutes = models.PositiveIntegerField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "vendor_id"

    class Meta:
        ordering = ["-opened_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["source", "external_id"], name="service_ticket_source_id")
        ]
        indexes = [
            models.Index(fields=["opened_at"]),
            models.Index(fields=["resolved_at"]),
            models.Index(fields=["agent", "opened_at"]),
            models.Index(fields=["vendor", "opened_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.external_id} {self.subject}".strip()

    @property
    def counts(self) -> bool:
        """Merged and spam tickets are excluded from every figure (PRODUCT.md §3)."""
        return not (self.is_merged or self.is_spam)


class TicketEvent(StewardModel):
    """One thing that happened to a ticket, in the source's own order of time."""

    class Kind(models.TextChoices):
        CREATED = "created", "Created"
        CUSTOMER_MESSAGE = "customer_message", "Customer message"
        AGENT_REPLY = "agent_reply", "Agent public reply"
        INTERNAL_NOTE = "internal_note", "Internal note"
        BOT_REPLY = "bot_reply", "Bot reply"
        STATUS_CHANGE = "status_change", "Status change"
        RESOLVED = "resolved", "Resolved"
        REOPENED = "reopened", "Reopened"
        MERGED = "merged", "Merged"
        SPAM = "spam", "Marked as spam"
        ASSIGNED = "assigned", "Assigned"

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="events")
    external_id = models.CharField(max_length=100)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    occurred_at = models.DateTimeField()
    agent = models.ForeignKey(Agent, null=True, blank=True, on_delete=models.PROTECT, related_name="events")
    status = models.CharField(
        max_length=10,
        choices=Ticket.Status.choices,
        blank=True,
        help_text="The new status of a status change.",
    )

    vendor_path: ClassVar[str | None] = "ticket__vendor_id"

    class Meta:
        ordering = ["ticket_id", "occurred_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "external_id"], name="service_event_ticket_id"),
        ]
        indexes = [models.Index(fields=["ticket", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.occurred_at:%Y-%m-%d %H:%M}"


class SlaTarget(models.TextChoices):
    FIRST_RESPONSE = "first_response", "First response"
    NEXT_RESPONSE = "next_response", "Next response"
    RESOLUTION = "resolution", "Resolution"


class TicketSla(StewardModel):
    """The SLA result of one ticket for one target: due time, met or breached, when it breached.

    ``met`` is empty while the target is still running. ``business_minutes`` is the elapsed
    business time the result was judged on (for next response: the worst gap).
    """

    ticket = models.ForeignKey(Ticket, on_delete=models.CASCADE, related_name="sla_results")
    target = models.CharField(max_length=20, choices=SlaTarget.choices)
    target_minutes = models.PositiveIntegerField()
    due_at = models.DateTimeField(null=True, blank=True)
    met = models.BooleanField(null=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    business_minutes = models.PositiveIntegerField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "ticket__vendor_id"

    class Meta:
        ordering = ["ticket_id", "target"]
        constraints = [
            models.UniqueConstraint(fields=["ticket", "target"], name="service_ticketsla_one_per_target")
        ]
        indexes = [models.Index(fields=["target", "met"])]

    def __str__(self) -> str:
        state = "running" if self.met is None else ("met" if self.met else "breached")
        return f"{self.get_target_display()}: {state}"


# --- ingest (issue 4 item 1) ---


class ImportJob(StewardModel):
    """One uploaded CSV or NDJSON file of ticket events and how its import went.

    The import runs as a Celery task (eagerly in the demo) through ``service.importing``, the
    same path as the API and the webhook. ``mode`` is the uploader's choice: *all or nothing*
    (any bad row rolls the whole file back) or *keep good rows* (bad rows are reported, the
    others are kept). ``errors`` holds the first rows refused (line, field, message); the
    error report is a CSV of them.
    """

    class Format(models.TextChoices):
        CSV = "csv", "CSV"
        NDJSON = "ndjson", "NDJSON (one JSON object per line)"

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", "All or nothing: any bad row rolls everything back"
        KEEP_GOOD = "keep_good", "Keep good rows: bad rows are reported, the others kept"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        REJECTED = "rejected", "Rejected (nothing written)"
        FAILED = "failed", "Failed"

    file = models.FileField(upload_to="service/imports/")
    original_name = models.CharField(max_length=255)
    format = models.CharField(max_length=10, choices=Format.choices)
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    source = models.CharField(max_length=40, default="steward")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    tickets_created = models.PositiveIntegerField(default=0)
    tickets_updated = models.PositiveIntegerField(default=0)
    events_created = models.PositiveIntegerField(default=0)
    agents_created = models.PositiveIntegerField(default=0)
    # Tickets linked to a customer by the rows' customer_id / customer_email, and the references
    # that matched nobody or several customers (those tickets stay unlinked).
    customers_linked = models.PositiveIntegerField(default=0)
    customers_unmatched = models.PositiveIntegerField(default=0)
    customers_ambiguous = models.PositiveIntegerField(default=0)
    error_count = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list, blank=True)
    message = models.CharField(max_length=500, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Import {self.pk}: {self.original_name}"

    @property
    def finished(self) -> bool:
        return self.status in {self.Status.DONE, self.Status.REJECTED, self.Status.FAILED}

    @property
    def percent(self) -> int:
        if self.finished:
            return 100
        return min(99, self.processed_rows * 100 // self.total_rows) if self.total_rows else 0


# --- business hours and SLA policies (s2) ---
# Calendars say when the clock runs; policies say which targets a ticket gets. service/sla.py
# turns both into due times and met/breached results; docs/service_sla.md states the rules.

MINUTES_PER_DAY = 24 * 60
# A target longer than this (30 days of round-the-clock business time) is a typing mistake.
MAX_TARGET_MINUTES = 30 * MINUTES_PER_DAY


def validate_time_zone(value: str) -> None:
    if value not in available_timezones():
        raise ValidationError(f"“{value}” is not a known IANA time zone (e.g. Asia/Hong_Kong).")


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


class BusinessCalendar(StewardModel):
    """When the SLA clock runs: a time zone, timeframes per weekday, holidays (issue 4 item 2).

    ``hk_public_holidays`` closes the calendar on Hong Kong general holidays (the ``holidays``
    package, public and optional categories: the days banks and offices close); custom
    closed days and worked public holidays are :class:`CalendarHoliday` rows. The effective
    dates say which tickets may use the calendar: a policy whose calendar is not in effect on
    the day a ticket opened does not match it.
    """

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=500, blank=True)
    time_zone = models.CharField(max_length=64, default="Asia/Hong_Kong", validators=[validate_time_zone])
    hk_public_holidays = models.BooleanField(
        default=True, help_text="Closed on Hong Kong general holidays (public and optional)."
    )
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_from__isnull=True)
                | models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="service_calendar_effective_order",
            )
        ]

    def __str__(self) -> str:
        return self.name


class BusinessTimeframe(StewardModel):
    """One stretch of business time on a weekday, in minutes after local midnight (end 1440 = midnight).

    A day may have several (a lunch break is the gap between two); they may not overlap.
    """

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="timeframes")
    weekday = models.PositiveSmallIntegerField(choices=Weekday.choices)
    start_minute = models.PositiveSmallIntegerField()
    end_minute = models.PositiveSmallIntegerField()

    class Meta:
        ordering = ["calendar_id", "weekday", "start_minute"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(start_minute__lt=models.F("end_minute"), end_minute__lte=MINUTES_PER_DAY),
                name="service_timeframe_within_day",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.start} to {self.end}"

    @property
    def start(self) -> str:
        return f"{self.start_minute // 60:02d}:{self.start_minute % 60:02d}"

    @property
    def end(self) -> str:
        return f"{self.end_minute // 60:02d}:{self.end_minute % 60:02d}"


class CalendarHoliday(StewardModel):
    """A date that departs from the weekly timeframes: closed (a custom holiday) or worked.

    ``worked`` removes a Hong Kong public holiday the company works on; on that date the
    weekday's timeframes apply as usual.
    """

    class Kind(models.TextChoices):
        CLOSED = "closed", "Closed (custom holiday)"
        WORKED = "worked", "Worked (public holiday removed)"

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="holidays")
    day = models.DateField()
    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.CLOSED)

    class Meta:
        ordering = ["calendar_id", "day"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "day"], name="service_holiday_one_per_day")
        ]

    def __str__(self) -> str:
        return f"{self.day:%Y-%m-%d} {self.name} ({self.get_kind_display()})"


class SlaPolicy(StewardModel):
    """Which targets a ticket gets (issue 4 item 3): the first active policy, by ``position``,
    whose conditions all match the ticket and which (with its calendar) is in effect on the day
    the ticket opened.

    A condition left empty matches anything. Targets are business minutes of the calendar;
    an empty target is not measured.
    """

    name = models.CharField(max_length=120, unique=True)
    description = models.CharField(max_length=500, blank=True)
    position = models.PositiveIntegerField(default=0)
    active = models.BooleanField(default=True)
    priorities = models.JSONField(default=list, blank=True)
    channels = models.JSONField(default=list, blank=True)
    customer_tiers = models.JSONField(default=list, blank=True)
    teams = models.ManyToManyField(Team, blank=True, related_name="sla_policies")
    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.PROTECT, related_name="policies")
    first_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    next_response_minutes = models.PositiveIntegerField(null=True, blank=True)
    resolution_minutes = models.PositiveIntegerField(null=True, blank=True)
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["position", "id"]
        verbose_name_plural = "SLA policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(effective_from__isnull=True)
                | models.Q(effective_to__isnull=True)
                | models.Q(effective_to__gte=models.F("effective_from")),
                name="service_policy_effective_order",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def target_minutes(self) -> dict[str, int]:
        """The targets this policy measures, by :class:`SlaTarget` value."""
        targets = {
            SlaTarget.FIRST_RESPONSE.value: self.first_response_minutes,
            SlaTarget.NEXT_RESPONSE.value: self.next_response_minutes,
            SlaTarget.RESOLUTION.value: self.resolution_minutes,
        }
        return {target: minutes for target, minutes in targets.items() if minutes is not None}


# --- quality: surveys, codes of practice, QA reviews, staff reviews (s3) ---
from service.quality_models import (  # noqa: E402
    CodeItem,
    CodeOfPractice,
    QaCategoryScore,
    QaReview,
    Rubric,
    RubricCategory,
    StaffReview,
    SurveyInvitation,
    SurveyResponse,
)

__all__ = [
    "ServiceAgentMonthRollup",
    "ServiceBenchmark",
    "ServiceDailyRollup",
    "ServiceKpiRules",
    "ServiceMonthlyRollup",
    "CodeItem",
    "CodeOfPractice",
    "QaCategoryScore",
    "QaReview",
    "Rubric",
    "RubricCategory",
    "StaffReview",
    "SurveyInvitation",
    "SurveyResponse",
]

# --- s4 service KPI reports: rules, rollups and benchmarks (service/report_models.py) ---
from service.report_models import (  # noqa: E402, F401
    ServiceAgentMonthRollup,
    ServiceBenchmark,
    ServiceDailyRollup,
    ServiceKpiRules,
    ServiceMonthlyRollup,
)
