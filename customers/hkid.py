"""HKID numbers: validation (check digit), encryption at rest and masking (DPP1, DPP4).

Encryption is Fernet (AES-128-CBC with HMAC-SHA256, from the ``cryptography`` package) under the
key(s) in ``STEWARD_FIELD_KEY``: comma-separated Fernet keys, the first encrypts, all decrypt (key
rotation: put the new key first, re-encrypt, then drop the old one). Outside production, with no
key set, a key is derived from SECRET_KEY so that development and the demo work; production
refuses to encrypt without a configured key. Generate one with
``python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"``.
"""

from __future__ import annotations

import base64
import hashlib
import re

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError

_PATTERN = re.compile(r"^([A-Z]{1,2})([0-9]{6})\(?([0-9A])\)?$")


def normalise(value: str) -> str:
    """``a123456(3)``, ``A 123456 3`` → ``A1234563``; raises ValidationError if it is no HKID number."""
    compact = re.sub(r"\s+", "", value or "").upper()
    match = _PATTERN.match(compact)
    if match is None:
        raise ValidationError({"hkid": "Give an HKID number such as A123456(3)."})
    letters, digits, check = match.groups()
    if check_digit(letters, digits) != check:
        raise ValidationError({"hkid": "The check digit of this HKID number is wrong."})
    return f"{letters}{digits}{check}"


def check_digit(letters: str, digits: str) -> str:
    """The HKID check digit: weights 9..2 over (space or letter, letter, six digits), mod 11."""
    values = [36 if len(letters) == 1 else ord(letters[0]) - 55]
    values.append(ord(letters[-1]) - 55)
    values += [int(d) for d in digits]
    total = sum(v * w for v, w in zip(values, range(9, 1, -1), strict=True))
    remainder = (11 - total % 11) % 11
    return "A" if remainder == 10 else str(remainder)


def mask(normalised: str) -> str:
    """``A1234563`` → ``A123***(*)``: the letters and first three digits, nothing that identifies."""
    letters = normalised[:-7]
    return f"{letters}{normalised[len(letters) : len(letters) + 3]}***(*)"


def _fernet() -> MultiFernet:
    configured = [k.strip() for k in getattr(settings, "STEWARD_FIELD_KEY", "").split(",") if k.strip()]
    if not configured:
        if settings.PRODUCTION:
            raise ImproperlyConfigured("Set STEWARD_FIELD_KEY (a Fernet key) before storing HKID numbers.")
        derived = hashlib.sha256(f"steward-field-key:{settings.SECRET_KEY}".encode()).digest()
        configured = [base64.urlsafe_b64encode(derived).decode()]
    try:
        return MultiFernet([Fernet(key.encode()) for key in configured])
    except ValueError as exc:
        raise ImproperlyConfigured("STEWARD_FIELD_KEY holds a value that is not a Fernet key.") from exc


def encrypt(normalised: str) -> str:
    return _fernet().encrypt(normalised.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet().decrypt(token.encode()).decode()
    except InvalidToken as exc:
        raise ImproperlyConfigured(
            "This HKID number was encrypted under a key that is no longer configured."
        ) from exc
