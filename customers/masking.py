"""Masking of customers' personal data on pages, API answers and exports (DPP4).

``mask_customer(user, customer)`` is the one door personal data goes through on its way out:
roles whose :class:`accounts.roles.Role` has ``sees_personal_data`` get the values as stored;
every other role gets e-mail and phone masked (``c***@gmail.com``, ``+852 ****5678``).
Field-level rules per role (names, address, purpose-gated reveal) are added here by the
consent/authorisation work (issue 7 item 5); callers need not change.
"""

from __future__ import annotations

from typing import Any

from accounts.roles import ROLES
from customers.models import Customer

MASK = "****"
PERSONAL_FIELDS = ("given_name", "family_name", "chinese_name", "email", "phone", "address_line")


def sees_personal_data(user: Any) -> bool:
    """Whether one of USER's roles may see customers' personal data unmasked."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    return any(ROLES[code].sees_personal_data for code in user.role_codes if code in ROLES)


def mask_email(value: str) -> str:
    """``chan.tai.man@gmail.com`` → ``c***@gmail.com``; text without ``@`` is masked whole."""
    if not value:
        return ""
    local, at, domain = value.partition("@")
    if not at:
        return MASK
    return f"{local[:1]}***@{domain}"


def mask_phone(value: str) -> str:
    """``+852 9123 5678`` → ``+852 ****5678``: the country code and the last four digits stay."""
    if not value:
        return ""
    digits = "".join(c for c in value if c.isdigit())
    if len(digits) <= 4:
        return MASK
    prefix = ""
    stripped = value.strip()
    if stripped.startswith("+"):
        code = stripped[1:].split(" ", 1)[0] if " " in stripped else digits[:3]
        code = "".join(c for c in code if c.isdigit())[:3]
        prefix = f"+{code} " if code and len(digits) > len(code) + 4 else ""
    return f"{prefix}{MASK}{digits[-4:]}"


def mask_customer(user: Any, customer: Customer) -> dict[str, Any]:
    """CUSTOMER's displayable fields for USER, masked where USER's role may not see them."""
    data: dict[str, Any] = {
        "id": customer.pk,
        "source": customer.source,
        "external_id": customer.external_id,
        "given_name": customer.given_name,
        "family_name": customer.family_name,
        "chinese_name": customer.chinese_name,
        "email": customer.email,
        "phone": customer.phone,
        "address_line": customer.address_line,
        "district": customer.district,
        "country": customer.country,
        "tier": customer.tier,
        "masked": False,
    }
    if not sees_personal_data(user):
        data["email"] = mask_email(customer.email)
        data["phone"] = mask_phone(customer.phone)
        data["masked"] = True
    data["display_name"] = (
        " ".join(p for p in (data["given_name"], data["family_name"]) if p)
        or data["chinese_name"]
        or f"Customer {customer.external_id}"
    )
    return data
