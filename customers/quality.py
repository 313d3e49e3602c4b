"""Data quality (DPP2(1): accurate, complete, not obsolete; DPP1: not excessive) and the
self-service link that lets a customer supplement or correct their own details (seed 003 §3:
"regularly review substandard and missing customer information; supplement through
appropriate channels").

The rules run over every customer in batches: the cheap ones are SQL filters, the ones that
need a library (``phonenumbers``, Django's e-mail validator) read only the fields they check.
Open issues are kept one per customer and rule; an issue that is no longer found is resolved.
Scores are computed in SQL from the fields and the open issues and stored per customer.
Invalid values are kept as given and flagged, never silently fixed.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import phonenumbers
from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Avg, Case, Count, IntegerField, OuterRef, Q, QuerySet, Subquery, Value, When
from django.db.models.functions import Coalesce, Greatest
from django.urls import reverse
from django.utils import timezone

from core import audit, sms
from core.models import AuditEvent
from customers.models import Customer
from customers.privacy_models import REVIEW_QUALITY, QualityIssue, QualityScore, SelfServiceLink

logger = logging.getLogger("steward.customers")

Rule = QualityIssue.Rule
BATCH = 5000
ACCURACY_RULES = (Rule.INVALID_EMAIL, Rule.INVALID_PHONE, Rule.CONFLICT, Rule.STALE, Rule.EXCESSIVE)
# An HKID number ("A123456(7)"): the PCPD's code says not to collect it unless the law requires,
# so one found in a free-text field is more data than needed (DPP1(1)(c)).
_HKID = re.compile(r"\b[A-Z]{1,2}\d{6}\s?\(?[0-9A]\)?(?!\d)")
_TEXT_FIELDS = ("given_name", "family_name", "chinese_name", "address_line")


def _require(actor: Any) -> None:
    if actor is not None and not actor.has_perm(REVIEW_QUALITY):
        raise PermissionDenied("Data quality is reviewed by the data-protection officer.")


# --- The rules --------------------------------------------------------------------------------------


def phone_problem(phone: str, country: str = "HK") -> str:
    """Why PHONE is not a valid number (read in COUNTRY when it has no +code), or "" if it is."""
    try:
        number = phonenumbers.parse(phone, (country or "HK").upper())
    except phonenumbers.NumberParseException:
        return "not a phone number"
    if not phonenumbers.is_valid_number(number):
        if number.country_code == 852:
            return "not a valid Hong Kong number (+852 and 8 digits)"
        return "not a valid number"
    return ""


def email_problem(email: str) -> str:
    try:
        validate_email(email)
    except ValidationError:
        return "not a valid e-mail address"
    return ""


@dataclass(frozen=True)
class Finding:
    customer_id: int
    rule: str
    field: str = ""
    detail: str = ""


def _sql_findings(ids: list[int], stale_before: datetime) -> Iterator[Finding]:
    """The rules that are plain filters: missing name or contact, incomplete address, stale record."""
    rows = Customer.objects.filter(pk__in=ids)
    checks = (
        (Rule.MISSING_NAME, "", Q(given_name="", family_name="", chinese_name=""), "no name at all"),
        (Rule.MISSING_CONTACT, "", Q(email="", phone=""), "no e-mail and no phone"),
        (
            Rule.ADDRESS_INCOMPLETE,
            "district",
            (Q(address_line="") & ~Q(district="")) | (~Q(address_line="") & Q(district="")),
            "address without district, or district without address",
        ),
        (Rule.STALE, "", Q(updated_at__lt=stale_before), "not updated or confirmed for too long"),
    )
    for rule, field, condition, detail in checks:
        for pk in rows.filter(condition).values_list("pk", flat=True):
            yield Finding(pk, rule, field, detail)


def _python_findings(ids: list[int]) -> Iterator[Finding]:
    """The rules that need a library: e-mail and phone validity, conflicting values, excess data."""
    fields = ("pk", "email", "phone", "country", *_TEXT_FIELDS)
    for row in Customer.objects.filter(pk__in=ids).values(*fields):
        if row["email"] and (problem := email_problem(row["email"])):
            yield Finding(row["pk"], Rule.INVALID_EMAIL, "email", problem)
        if row["phone"]:
            problem = phone_problem(row["phone"], row["country"])
            if problem:
                yield Finding(row["pk"], Rule.INVALID_PHONE, "phone", problem)
            else:
                region = phonenumbers.region_code_for_number(
                    phonenumbers.parse(row["phone"], row["country"] or "HK")
                )
                if row["country"] and region and region != row["country"].upper():
                    yield Finding(
                        row["pk"],
                        Rule.CONFLICT,
                        "country",
                        f"phone is a {region} number, country says {row['country']}",
                    )
        for name in _TEXT_FIELDS:
            if _HKID.search(row[name] or ""):
                yield Finding(row["pk"], Rule.EXCESSIVE, name, "holds an HKID number, which is not collected")
                break


def _batches(ids: QuerySet[Customer]) -> Iterator[list[int]]:
    batch: list[int] = []
    for pk in ids.values_list("pk", flat=True).order_by("pk").iterator(chunk_size=BATCH):
        batch.append(pk)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


@transaction.atomic
def quality_check(*, actor: Any, customers: QuerySet[Customer] | None = None) -> dict[str, int]:
    """Run every rule over CUSTOMERS (all live customers by default): open new issues, resolve the
    ones no longer found, and store the scores. Returns counts."""
    _require(actor)
    now = timezone.now()
    stale_before = now - timedelta(days=round(settings.STEWARD_STALE_MONTHS * 30.44))
    scope = (customers if customers is not None else Customer.objects.all()).filter(
        anonymised_at__isnull=True, merged_into__isnull=True
    )
    opened = resolved = checked = 0
    for ids in _batches(scope):
        checked += len(ids)
        found = {
            (f.customer_id, f.rule): f for f in (*_sql_findings(ids, stale_before), *_python_findings(ids))
        }
        existing = {
            (customer_id, rule): pk
            for customer_id, rule, pk in QualityIssue.objects.filter(
                customer_id__in=ids, status=QualityIssue.Status.OPEN
            ).values_list("customer_id", "rule", "id")
        }
        new = [
            QualityIssue(customer_id=f.customer_id, rule=f.rule, field=f.field, detail=f.detail, found_at=now)
            for key, f in found.items()
            if key not in existing
        ]
        QualityIssue.objects.bulk_create(new, batch_size=1000)
        opened += len(new)
        gone = [pk for key, pk in existing.items() if key not in found]
        resolved += QualityIssue.objects.filter(pk__in=gone).update(
            status=QualityIssue.Status.RESOLVED, resolved_at=now, resolution="No longer found by the rules."
        )
        scores_store(ids=ids, now=now)
    result = {"checked": checked, "opened": opened, "resolved": resolved}
    audit.record_event(
        AuditEvent.Action.OTHER, object_type="customers.qualityissue", detail=result, actor=actor
    )
    return result


def quality_check_all(*, actor: Any) -> dict[str, int]:
    return quality_check(actor=actor)


def _present(*fields: str) -> Case:
    condition = Q()
    for field in fields:
        condition |= ~Q(**{field: ""})
    return Case(When(condition, then=Value(1)), default=Value(0), output_field=IntegerField())


COMPLETENESS_PARTS = 6


def scores_store(*, ids: Iterable[int], now: datetime) -> int:
    """Completeness (share of the six expected items present) and accuracy (100 less 25 per open
    accuracy issue, at least 0), computed in SQL for the batch and upserted."""
    open_accuracy = (
        QualityIssue.objects.filter(
            customer=OuterRef("pk"), status=QualityIssue.Status.OPEN, rule__in=ACCURACY_RULES
        )
        .values("customer")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        Customer.objects.filter(pk__in=list(ids))
        .annotate(
            present=_present("given_name", "chinese_name")
            + _present("family_name", "chinese_name")
            + _present("email")
            + _present("phone")
            + _present("address_line")
            + _present("district"),
            accuracy=Greatest(
                Value(0),
                Value(100)
                - Value(25) * Coalesce(Subquery(open_accuracy, output_field=IntegerField()), Value(0)),
            ),
        )
        .values_list("pk", "present", "accuracy")
    )
    scores = [
        QualityScore(
            customer_id=pk,
            completeness=(Decimal(100) * present / COMPLETENESS_PARTS).quantize(Decimal("0.01")),
            accuracy=Decimal(accuracy),
            computed_at=now,
        )
        for pk, present, accuracy in rows
    ]
    QualityScore.objects.bulk_create(
        scores,
        batch_size=1000,
        update_conflicts=True,
        unique_fields=["customer"],
        update_fields=["completeness", "accuracy", "computed_at", "updated_at"],
    )
    return len(scores)


def overall(*, user: Any) -> dict[str, Any]:
    """The average scores and open issues per rule, in two aggregate queries."""
    averages = QualityScore.objects.restrict(user).aggregate(
        completeness=Avg("completeness"), accuracy=Avg("accuracy"), customers=Count("id")
    )
    per_rule = dict(
        QualityIssue.objects.restrict(user)
        .filter(status=QualityIssue.Status.OPEN)
        .values_list("rule")
        .annotate(n=Count("id"))
        .values_list("rule", "n")
    )
    return {**averages, "per_rule": [(label, per_rule.get(value, 0)) for value, label in Rule.choices]}


# --- The review queue --------------------------------------------------------------------------------


def issue_queue(
    *, user: Any, rule: str = "", mine: bool = False, status: str = "open"
) -> QuerySet[QualityIssue]:
    rows = QualityIssue.objects.restrict(user).select_related("assigned_to", "customer__quality")
    if status:
        rows = rows.filter(status=status)
    if rule:
        rows = rows.filter(rule=rule)
    if mine:
        rows = rows.filter(assigned_to=user)
    return rows.order_by("rule", "found_at", "id")


@transaction.atomic
def quality_issue_assign(*, actor: Any, issue: QualityIssue, assignee: Any) -> QualityIssue:
    """Give an issue to a reviewer who may review data quality."""
    _require(actor)
    if assignee is not None and not assignee.has_perm(REVIEW_QUALITY):
        raise ValidationError({"assignee": "This person may not review customer data."})
    before = audit.snapshot(issue)
    issue.assigned_to = assignee
    issue.save(update_fields=["assigned_to", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, issue, before=before, actor=actor)
    return issue


@transaction.atomic
def quality_issue_close(*, actor: Any, issue: QualityIssue, dismiss: bool, note: str) -> QualityIssue:
    """Resolve (fixed) or dismiss (not a problem) an issue, saying why."""
    _require(actor)
    if issue.status != QualityIssue.Status.OPEN:
        raise ValidationError("This issue is already closed.")
    if not note.strip():
        raise ValidationError({"note": "Say what was done, or why it is not a problem."})
    before = audit.snapshot(issue)
    issue.status = QualityIssue.Status.DISMISSED if dismiss else QualityIssue.Status.RESOLVED
    issue.resolved_at = timezone.now()
    issue.resolution = note.strip()[:300]
    issue.save(update_fields=["status", "resolved_at", "resolution", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, issue, before=before, actor=actor)
    return issue


# --- Supplement through appropriate channels: the self-service link ---------------------------------

SIGNING_SALT = "customers.self-service"
SELF_SERVICE_FIELDS = (
    "given_name",
    "family_name",
    "chinese_name",
    "email",
    "phone",
    "address_line",
    "district",
)


def channel_allowed(customer: Customer, channel: str) -> tuple[bool, str]:
    """Whether the link may go to CUSTOMER by CHANNEL, and why not.

    The value must pass validation (a link is never sent to an address we know is wrong), and an
    SMS needs an SMS backend configured (``core.sms``). A channel the customer opted out of (the
    consent ledger's suppression list, on that channel or on all) is never used.
    """
    from customers.consent import is_suppressed

    if channel in (SelfServiceLink.Channel.EMAIL, SelfServiceLink.Channel.SMS) and is_suppressed(
        customer=customer, channel=channel
    ):
        return False, f"The customer opted out of {SelfServiceLink.Channel(channel).label} messages."
    if channel == SelfServiceLink.Channel.EMAIL:
        if not customer.email or email_problem(customer.email):
            return False, "The customer has no valid e-mail address."
        return True, ""
    if channel == SelfServiceLink.Channel.SMS:
        if not customer.phone or phone_problem(customer.phone, customer.country):
            return False, "The customer has no valid phone number."
        number = phonenumbers.parse(customer.phone, customer.country or "HK")
        if phonenumbers.number_type(number) not in (
            phonenumbers.PhoneNumberType.MOBILE,
            phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
        ):
            return False, "The customer's number is not a mobile number."
        if not sms.sms_configured():
            return False, "No SMS backend is configured (STEWARD_SMS_BACKEND)."
        return True, ""
    return False, "Links go by e-mail or SMS only."


def _token(link: SelfServiceLink) -> str:
    return signing.dumps({"l": link.pk, "n": link.nonce}, salt=SIGNING_SALT, compress=True)


@transaction.atomic
def self_service_link_send(*, actor: Any, customer: Customer, channel: str) -> tuple[SelfServiceLink, str]:
    """Send the customer a signed, expiring, single-use link to confirm or correct their details;
    returns the link record and its URL. Logged in the audit trail with the channel."""
    _require(actor)
    allowed, why = channel_allowed(customer, channel)
    if not allowed:
        raise ValidationError({"channel": why})
    now = timezone.now()
    sent_to = (
        customer.email
        if channel == SelfServiceLink.Channel.EMAIL
        else phonenumbers.format_number(
            phonenumbers.parse(customer.phone, customer.country or "HK"), phonenumbers.PhoneNumberFormat.E164
        )
    )
    link = SelfServiceLink.objects.create(
        customer=customer,
        channel=channel,
        sent_to=sent_to,
        nonce=secrets.token_hex(16),
        sent_at=now,
        expires_at=now + timedelta(days=settings.STEWARD_SELF_SERVICE_DAYS),
        sent_by=actor,
    )
    audit.record_change(
        AuditEvent.Action.CREATE, link, actor=actor, purpose=f"self-service link by {channel}"
    )
    url = settings.STEWARD_PUBLIC_URL.rstrip("/") + reverse("customers:self_service", args=[_token(link)])
    text = (
        f"Please check the details we hold about you and correct anything that is wrong: {url}\n"
        f"The link works once and expires on {timezone.localtime(link.expires_at):%d %b %Y}."
    )

    def send() -> None:
        try:
            if channel == SelfServiceLink.Channel.SMS:
                sms.send_sms(sent_to, text)
            else:
                send_mail(
                    subject="Please check your details",
                    message=text,
                    from_email=None,
                    recipient_list=[sent_to],
                )
        except (OSError, ImproperlyConfigured):
            logger.exception("self-service link not sent", extra={"link": link.pk})

    transaction.on_commit(send)
    return link, url


class LinkError(Exception):
    """Why a self-service link cannot be used; the message is shown to the customer."""


def self_service_link_open(token: str) -> SelfServiceLink:
    """The link a token stands for, if it is genuine, unexpired and unused."""
    try:
        data = signing.loads(
            token, salt=SIGNING_SALT, max_age=timedelta(days=settings.STEWARD_SELF_SERVICE_DAYS)
        )
    except signing.SignatureExpired:
        raise LinkError("This link has expired. Please ask us for a new one.") from None
    except signing.BadSignature:
        raise LinkError("This link is not valid. Please use the link exactly as we sent it.") from None
    if not isinstance(data, dict) or not isinstance(data.get("l"), int):
        raise LinkError("This link is not valid. Please use the link exactly as we sent it.")
    link = (
        SelfServiceLink.objects.select_related("customer")
        .filter(pk=data["l"], nonce=str(data.get("n")))
        .first()
    )
    if link is None:
        raise LinkError("This link is not valid. Please use the link exactly as we sent it.")
    if link.used_at is not None:
        raise LinkError(
            "This link has already been used. Please ask us for a new one if you need to make changes."
        )
    if link.expires_at <= timezone.now():
        raise LinkError("This link has expired. Please ask us for a new one.")
    if link.customer.anonymised_at is not None:
        raise LinkError("We no longer hold details for this link.")
    return link


@transaction.atomic
def self_service_submit(*, token: str, changes: dict[str, str]) -> SelfServiceLink:
    """The customer confirms (no changes) or corrects their details. The link is spent either way;
    the change is audited as the customer's own, and the record is re-checked."""
    from customers.privacy import customer_correct

    link = self_service_link_open(token)
    link = SelfServiceLink.objects.select_for_update().select_related("customer").get(pk=link.pk)
    if link.used_at is not None:
        raise LinkError(
            "This link has already been used. Please ask us for a new one if you need to make changes."
        )
    unknown = set(changes) - set(SELF_SERVICE_FIELDS)
    if unknown:
        raise ValidationError({f: "This cannot be changed here." for f in unknown})
    cleaned = {k: v.strip() for k, v in changes.items()}
    errors = {}
    if cleaned.get("email") and email_problem(cleaned["email"]):
        errors["email"] = "Please give a valid e-mail address."
    if cleaned.get("phone") and phone_problem(cleaned["phone"], link.customer.country):
        errors["phone"] = "Please give a valid phone number, e.g. +852 9123 4567."
    if errors:
        raise ValidationError(errors)
    if cleaned.get("phone"):
        cleaned["phone"] = phonenumbers.format_number(
            phonenumbers.parse(cleaned["phone"], link.customer.country or "HK"),
            phonenumbers.PhoneNumberFormat.E164,
        )
    changed = customer_correct(
        actor=None,
        customer=link.customer,
        changes=cleaned,
        purpose=f"customer's own update via self-service link #{link.pk}",
    )
    if not changed:
        # Confirmed as it is: the record is current again.
        Customer.objects.filter(pk=link.customer_id).update(updated_at=timezone.now())
    before = audit.snapshot(link)
    link.used_at = timezone.now()
    link.outcome = "corrected" if changed else "confirmed"
    link.changed_fields = changed
    link.save(update_fields=["used_at", "outcome", "changed_fields", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, link, before=before, actor=None)
    quality_check(actor=None, customers=Customer.objects.filter(pk=link.customer_id))
    return link
