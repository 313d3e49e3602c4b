"""Customer surveys after resolution (issue 4 item 4; PRODUCT.md §3 CSAT, NPS, CES).

Writes live here (``survey_*``), called by the public survey page, the API, the
``send_surveys`` command, the Celery tasks and the ``ticket_resolved`` signal alike.

The link: ``Signer(salt=LINK_SALT).sign_object({"i": invitation id, "n": nonce})`` (HMAC with
the SECRET_KEY; the salt keeps it from being valid anywhere else). It is deterministic, so
the e-mail task can rebuild it without the token ever being stored; it stops working at the
invitation's ``expires_at`` (STEWARD_SURVEY_LINK_DAYS, 14 by default) and once answered.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from core import audit
from core.models import AuditEvent
from service.models import SurveyInvitation, SurveyResponse, Ticket

LINK_SALT = "service.survey.link"
RESOLVED_STATUSES = (Ticket.Status.RESOLVED, Ticket.Status.CLOSED)
COMMENT_MAX = 2000


def _require(actor: Any, perm: str, message: str) -> None:
    """``actor=None`` is the system (Celery, the signal receiver, the demo seed)."""
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


# --- The link ------------------------------------------------------------------------------------


def survey_token(invitation: SurveyInvitation) -> str:
    return signing.Signer(salt=LINK_SALT).sign_object({"i": invitation.pk, "n": invitation.nonce})


def survey_url(invitation: SurveyInvitation) -> str:
    """The absolute link put in the e-mail."""
    path = reverse("service:survey_answer", args=[survey_token(invitation)])
    return f"{settings.STEWARD_PUBLIC_URL}{path}"


class LinkRefused(Exception):
    """Why a survey link does not open: forged (400), expired (410) or already used (409)."""

    MESSAGES = {
        "forged": (400, "This survey link is not valid. Please use the link from your e-mail."),
        "expired": (410, "This survey link has expired. Thank you for your interest."),
        "used": (409, "This survey has already been answered. Thank you for your feedback."),
    }

    def __init__(self, reason: str) -> None:
        self.reason = reason
        self.status, self.message = self.MESSAGES[reason]
        super().__init__(self.message)


def invitation_for_token(token: str, *, lock: bool = False) -> SurveyInvitation:
    """The invitation a link opens, or :class:`LinkRefused` saying why not."""
    try:
        data = signing.Signer(salt=LINK_SALT).unsign_object(token[:500])
    except (signing.BadSignature, ValueError, UnicodeError):
        raise LinkRefused("forged") from None
    if not isinstance(data, dict) or not isinstance(data.get("i"), int) or not isinstance(data.get("n"), str):
        raise LinkRefused("forged")
    rows = SurveyInvitation.objects.select_related("ticket")
    if lock:
        rows = rows.select_for_update(of=("self",))
    invitation = rows.filter(pk=data["i"]).first()
    if invitation is None or not constant_time_compare(invitation.nonce, data["n"]):
        raise LinkRefused("forged")
    if invitation.responded_at is not None:
        raise LinkRefused("used")
    if timezone.now() >= invitation.expires_at:
        raise LinkRefused("expired")
    return invitation


# --- Invitations ---------------------------------------------------------------------------------


def _queue_email(invitation_id: int) -> None:
    from service.tasks import send_survey_email

    transaction.on_commit(lambda: send_survey_email.delay(invitation_id))


@transaction.atomic
def survey_invite(*, actor: Any, ticket: Ticket, send: bool = True) -> SurveyInvitation:
    """Invite the customer of a resolved ticket to answer the survey (once per ticket).

    Refused for unresolved, merged or spam tickets and tickets without a customer e-mail.
    The e-mail goes out after the transaction commits (Celery task ``send_survey_email``).
    """
    _require(
        actor, "service.add_surveyinvitation", "Sending surveys needs the customer-service manager role."
    )
    ticket = Ticket.objects.select_for_update(of=("self",)).select_related("customer").get(pk=ticket.pk)
    if ticket.status not in RESOLVED_STATUSES or ticket.resolved_at is None:
        raise ValidationError({"ticket_id": "Only resolved tickets are surveyed."})
    if not ticket.counts:
        raise ValidationError({"ticket_id": "Merged and spam tickets are not surveyed."})
    if ticket.customer is None or not ticket.customer.email:
        raise ValidationError(
            {"ticket_id": "The ticket's customer has no e-mail address to send the survey to."}
        )
    if SurveyInvitation.objects.filter(ticket=ticket).exists():
        raise ValidationError({"ticket_id": "This ticket's customer has already been invited."})
    invitation = SurveyInvitation.objects.create(
        ticket=ticket,
        nonce=secrets.token_urlsafe(24),
        expires_at=timezone.now() + timedelta(days=settings.STEWARD_SURVEY_LINK_DAYS),
        ces_scale_max=settings.STEWARD_SURVEY_CES_SCALE,
    )
    audit.record_change(AuditEvent.Action.CREATE, invitation, actor=actor)
    if send:
        _queue_email(invitation.pk)
    return invitation


def invitable_tickets(*, within_days: int | None) -> Any:
    """Resolved, counted tickets with a customer e-mail and no invitation yet (a queryset)."""
    rows = Ticket.objects.filter(
        status__in=RESOLVED_STATUSES,
        resolved_at__isnull=False,
        is_merged=False,
        is_spam=False,
        survey__isnull=True,
        customer__email__gt="",
    )
    if within_days is not None:
        rows = rows.filter(resolved_at__gte=timezone.now() - timedelta(days=within_days))
    return rows.order_by("resolved_at", "id")


def surveys_send_due(*, within_days: int | None = None, send: bool = True) -> int:
    """Invite every resolved ticket that has no invitation yet; returns how many were invited.

    The scheduled catch-up for tickets whose ``ticket_resolved`` signal never came (imports,
    webhooks). Each invitation commits on its own, so a failure leaves the others in place.
    ``within_days`` (default STEWARD_SURVEY_INVITE_WITHIN_DAYS) leaves old tickets alone.
    """
    days = settings.STEWARD_SURVEY_INVITE_WITHIN_DAYS if within_days is None else within_days
    invited = 0
    for ticket_id in list(invitable_tickets(within_days=days or None).values_list("pk", flat=True)):
        try:
            survey_invite(actor=None, ticket=Ticket(pk=ticket_id), send=send)
        except ValidationError:
            continue  # reopened or invited meanwhile
        invited += 1
    return invited


@transaction.atomic
def survey_email_send(*, invitation_id: int, connection: Any = None) -> bool:
    """Send (once) the invitation e-mail with the survey link; False when there is nothing to send.

    ``connection``: a mail connection to use instead of the configured backend (the demo seed
    delivers its invitations in memory rather than printing them all).
    """
    invitation = (
        SurveyInvitation.objects.select_for_update(of=("self",))
        .select_related("ticket__customer")
        .filter(pk=invitation_id)
        .first()
    )
    if invitation is None or invitation.sent_at is not None or invitation.responded_at is not None:
        return False
    customer = invitation.ticket.customer
    if customer is None or not customer.email:
        return False
    expires = timezone.localtime(invitation.expires_at)
    send_mail(
        subject="How did we do? Two questions about your recent enquiry",
        message=(
            f"Thank you for contacting us about ticket #{invitation.ticket.external_id}.\n\n"
            "Please tell us how we did; it takes less than a minute and works on your phone:\n"
            f"{survey_url(invitation)}\n\n"
            f"The link can be used once and works until {expires:%d %b %Y %H:%M} (Hong Kong time).\n"
        ),
        from_email=None,
        recipient_list=[customer.email],
        connection=connection,
    )
    before = audit.snapshot(invitation)
    invitation.sent_at = timezone.now()
    invitation.save(update_fields=["sent_at", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, invitation, before=before)
    return True


# --- Answers -------------------------------------------------------------------------------------


def _whole(value: Any, name: str, low: int, high: int, label: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        number = int(str(value))
    except ValueError:
        raise ValidationError({name: f"{label}: choose a whole number from {low} to {high}."}) from None
    if not low <= number <= high:
        raise ValidationError({name: f"{label}: choose a number from {low} to {high}."})
    return number


@transaction.atomic
def survey_answer(
    *, token: str, csat: Any = None, nps: Any = None, ces: Any = None, comment: str = ""
) -> SurveyResponse:
    """Record the customer's one answer. Raises :class:`LinkRefused` for a forged, expired or used link.

    CSAT is 1–5 and NPS 0–10; CES is 1 to the invitation's scale, which is stored with it.
    At least CSAT or NPS must be answered. The invitation row is locked, so two submissions
    racing each other give one response and one "already answered".
    """
    invitation = invitation_for_token(token, lock=True)
    errors: dict[str, str] = {}
    values: dict[str, int | None] = {}
    for name, low, high, label in (
        ("csat", 1, 5, "Satisfaction"),
        ("nps", 0, 10, "Likelihood to recommend"),
        ("ces", 1, invitation.ces_scale_max, "Effort"),
    ):
        try:
            values[name] = _whole({"csat": csat, "nps": nps, "ces": ces}[name], name, low, high, label)
        except ValidationError as exc:
            errors.update({k: v[0] for k, v in exc.message_dict.items()})
    comment = (comment or "").strip()
    if len(comment) > COMMENT_MAX:
        errors["comment"] = f"Please keep the comment under {COMMENT_MAX} characters."
    if not errors and values["csat"] is None and values["nps"] is None:
        errors["csat"] = "Please answer at least the satisfaction or the recommendation question."
    if errors:
        raise ValidationError(errors)
    response = SurveyResponse.objects.create(
        invitation=invitation,
        csat=values["csat"],
        nps=values["nps"],
        ces=values["ces"],
        ces_scale_max=invitation.ces_scale_max if values["ces"] is not None else None,
        comment=comment,
    )
    before = audit.snapshot(invitation)
    invitation.responded_at = timezone.now()
    invitation.save(update_fields=["responded_at", "updated_at"])
    audit.record_change(AuditEvent.Action.CREATE, response)
    audit.record_change(AuditEvent.Action.UPDATE, invitation, before=before)
    return response
