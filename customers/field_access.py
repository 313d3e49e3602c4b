"""Field-level access to customer records (DPP4; seed 003 §3 "set the authorization right to assess
customer information").

Each role sees each customer field in full, masked, hidden, or masked until the user states a
purpose (``REVEAL``: the data-protection officer and administrators see contact details only
after saying why, and that reason goes to the audit trail). A user with several roles gets the
most open level any of them gives. Fields that are not personal data (tier, district, country,
ids) are shown to anyone who may see the customer at all.
"""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from accounts import roles
from core.models import AuditEvent
from customers import access_log
from customers.models import Customer, CustomerHkid


class Level(IntEnum):
    """Ordered from closed to open, so that the most open of a user's roles wins with ``max``."""

    HIDDEN = 0
    MASKED = 1
    REVEAL = 2  # masked until a purpose is stated, then full
    FULL = 3


H, M, R, F = Level.HIDDEN, Level.MASKED, Level.REVEAL, Level.FULL

# The personal fields a customer page can show, in display order, with their labels.
FIELDS: dict[str, str] = {
    "given_name": "Given name",
    "family_name": "Family name",
    "chinese_name": "Chinese name",
    "email": "E-mail",
    "phone": "Phone",
    "address_line": "Address",
    "hkid": "HKID number",
}
# Shown to everyone who may see the customer: not personal data on their own.
OPEN_FIELDS = ("external_id", "tier", "district", "country")

_NAMES = ("given_name", "family_name", "chinese_name")


def _rule(names: Level, contact: Level, address: Level, hkid: Level = H) -> dict[str, Level]:
    rule = dict.fromkeys(_NAMES, names)
    rule |= {"email": contact, "phone": contact, "address_line": address, "hkid": hkid}
    return rule


RULES: dict[str, dict[str, Level]] = {
    roles.ADMINISTRATOR: _rule(R, R, R, R),
    roles.DPO: _rule(R, R, R, R),
    roles.CS_MANAGER: _rule(F, M, M),
    roles.CS_AGENT: _rule(F, M, M),
    roles.CRM_STAFF: _rule(F, M, H),
    roles.MARKETING: _rule(F, M, H),
    roles.AUDITOR: _rule(H, H, H),  # everything that is not personal data
}


def levels_for(user: Any) -> dict[str, Level]:
    """The level of every personal field for USER (nothing at all without ``view_customer``)."""
    if not getattr(user, "is_authenticated", False) or not user.has_perm("customers.view_customer"):
        return dict.fromkeys(FIELDS, H)
    codes = set(getattr(user, "role_codes", []) or [])
    if user.is_superuser:
        codes.add(roles.ADMINISTRATOR)
    result = dict.fromkeys(FIELDS, H)
    for code in codes:
        for field, level in RULES.get(code, {}).items():
            result[field] = max(result[field], level)
    return result


def can_reveal(user: Any) -> bool:
    return any(level == R for level in levels_for(user).values())


def mask_email(value: str) -> str:
    local, _, domain = value.partition("@")
    if not domain:
        return mask_text(value)
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    digits = [c for c in value if c.isdigit()]
    if len(digits) <= 4:
        return "****"
    prefix = "+852 " if value.startswith("+852") else ("+" if value.startswith("+") else "")
    return f"{prefix}****{''.join(digits[-4:])}"


def mask_text(value: str) -> str:
    return f"{value[:1]}***" if value else ""


_MASKS = {"email": mask_email, "phone": mask_phone}


def _hkid_masked(customer: Customer) -> str:
    try:
        return customer.hkid.masked
    except CustomerHkid.DoesNotExist:
        return ""


def _value(customer: Customer, field: str, level: Level, revealed: bool) -> str | None:
    if level == H:
        return None
    if field == "hkid":
        # Never decrypted for display: even a revealed HKID number is shown masked (PCPD code).
        return _hkid_masked(customer)
    raw = str(getattr(customer, field) or "")
    if level == F or (level == R and revealed):
        return raw
    return _MASKS.get(field, mask_text)(raw) if raw else ""


DEFAULT_PURPOSE = "routine view (contact details masked)"
MIN_PURPOSE = 10


@transaction.atomic
def customer_fields_for(user: Any, customer: Customer, *, purpose: str | None = None) -> dict[str, Any]:
    """What USER may see of CUSTOMER: ``{field: value}`` for the open fields and every personal field
    not hidden to them, masked unless their role shows it in full, or shows it after a purpose and
    PURPOSE is given. The read is written to the audit trail with the purpose (the stated one, or
    "routine view"), naming the personal fields shown in full.

    Raises PermissionDenied when a purpose is given by someone who cannot reveal anything, and
    ValidationError when the purpose is too short to mean anything.
    """
    if not Customer.objects.restrict(user).filter(pk=customer.pk).exists():
        raise PermissionDenied("You may not see this customer.")
    levels = levels_for(user)
    revealed = purpose is not None
    if revealed:
        assert purpose is not None
        purpose = " ".join(purpose.split())
        if not can_reveal(user):
            raise PermissionDenied("Your role does not show full contact details.")
        if len(purpose) < MIN_PURPOSE:
            raise ValidationError(
                {"purpose": f"Say why you need the full details (at least {MIN_PURPOSE} characters)."}
            )
    result: dict[str, Any] = {field: getattr(customer, field) for field in OPEN_FIELDS}
    result["id"] = customer.pk
    full_fields = []
    for field in FIELDS:
        value = _value(customer, field, levels[field], revealed)
        if value is None:
            continue
        result[field] = value
        if levels[field] == F or (levels[field] == R and revealed and field != "hkid"):
            full_fields.append(field)
    access_log.record_customer_reads(
        actor=user,
        action=AuditEvent.Action.READ,
        customer_ids=[customer.pk],
        purpose=(f"reveal: {purpose}" if revealed else DEFAULT_PURPOSE),
        fields=full_fields,
    )
    return result
