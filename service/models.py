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

from django.conf import settings
from django.db import models

from core.models import StewardModel


class Team(StewardModel):
    """A customer-service team; ``vendor`` is set when the whole team is outsourced."""

    code = models.SlugField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    vendor = models.ForeignKey(
        "vendors.Vendor", null=True, blank=True, on_delete=models.PROTECT, related_name="service_teams"
    )

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


class Channel(models.TextChoices):
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
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.EMAIL)
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


__all__ = ["Agent", "Channel", "Priority", "SlaTarget", "Team", "Ticket", "TicketEvent", "TicketSla"]

# --- s4 service KPI reports: rules, rollups and benchmarks (service/report_models.py) ---
from service.report_models import (  # noqa: E402, F401
    ServiceAgentMonthRollup,
    ServiceBenchmark,
    ServiceDailyRollup,
    ServiceKpiRules,
    ServiceMonthlyRollup,
)
