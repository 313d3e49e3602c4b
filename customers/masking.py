"""Masking of customers' personal data on pages, API answers and exports (DPP4).

``mask_customer(user, customer)`` is the one door personal data goes through on its way out of
lists, profiles, API answers, reports and exports: e-mail and phone are masked
(``c***@gmail.com``, ``+852 ****5678``) for every role whose field-level rule
(:mod:`customers.field_access`) is not "full". Lists, reports and exports never state a purpose
per customer, so they show contact details masked to everyone. Opening one customer (the profile
page, ``GET /api/v1/customers/{id}``, the privacy page's reveal) asks for a purpose and records
it; only then do the roles allowed to reveal (the data-protection officer, administrators) see
the full values (issue 7 item 5: "only named roles see full contact details, and only after
stating a purpose").
"""

from __future__ import annotations

from typing import Any

from accounts.roles import ROLES
from customers import field_access
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


def mask_customer(user: Any, customer: Customer, *, purpose_stated: bool = False) -> dict[str, Any]:
    """CUSTOMER's displayable fields for USER, masked where USER's role may not see them.

    PURPOSE_STATED: the caller has recorded why USER reads this one customer (see module doc).
    """
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
    levels = field_access.levels_for(user)
    for name, mask in (("email", mask_email), ("phone", mask_phone)):
        level = levels[name]
        if not (level == field_access.Level.FULL or (level == field_access.Level.REVEAL and purpose_stated)):
            data[name] = mask(data[name])
            data["masked"] = True
    data["display_name"] = (
        " ".join(p for p in (data["given_name"], data["family_name"]) if p)
        or data["chinese_name"]
        or f"Customer {customer.external_id}"
    )
    return data
