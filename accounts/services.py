"""Writes for users, roles and API tokens. Pages, the API, the admin and commands all call these."""

from __future__ import annotations

import fnmatch
import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, User
from accounts.roles import ADMINISTRATOR, EVERYONE, RESERVED_APPS, ROLES, VENDOR_PORTAL
from core import audit
from core.models import AuditEvent
from vendors.models import Vendor

TOKEN_PREFIX = "stw"  # noqa: S105 (a public marker, not a secret)
USER_OBJECT_TYPE = "accounts.user"

# --- Roles ------------------------------------------------------------------------------------


def _matches(pattern: str, app_label: str, codename: str, *, reserved_ok: bool) -> bool:
    app_pattern, _, code_pattern = pattern.partition(".")
    if "*" in app_pattern and app_label in RESERVED_APPS and not reserved_ok:
        return False
    return fnmatch.fnmatchcase(app_label, app_pattern) and fnmatch.fnmatchcase(codename, code_pattern)


@transaction.atomic
def sync_roles() -> dict[str, int]:
    """Create a group per role and give it exactly the permissions its patterns match.

    A wildcard app pattern never reaches user, group and session administration
    (``RESERVED_APPS``) except in the administrator's own role; explicit names always do.
    """
    all_perms = list(Permission.objects.select_related("content_type"))
    counts: dict[str, int] = {}
    for role in ROLES.values():
        group, _ = Group.objects.get_or_create(name=role.code)
        patterns = role.permissions + EVERYONE
        reserved_ok = role.code == ADMINISTRATOR
        wanted = [
            p
            for p in all_perms
            if any(
                _matches(pattern, p.content_type.app_label, p.codename, reserved_ok=reserved_ok)
                for pattern in patterns
            )
            or f"{p.content_type.app_label}.{p.codename}" in patterns
        ]
        group.permissions.set(wanted)
        counts[role.code] = len(wanted)
    return counts


def validate_roles(roles: Iterable[str], vendor: Vendor | None) -> None:
    """Raise ValidationError unless ROLES suit a person bound to VENDOR (None for staff).

    A vendor portal user holds the vendor portal role and no other, and is bound to exactly
    one vendor; staff roles never come with a vendor.
    """
    wanted = set(roles)
    unknown = sorted(wanted - set(ROLES))
    if unknown:
        raise ValidationError({"roles": f"Unknown role(s): {', '.join(unknown)}."})
    if (vendor is not None or VENDOR_PORTAL in wanted) and wanted != {VENDOR_PORTAL}:
        raise ValidationError({"roles": "A vendor portal user holds the vendor portal role and no other."})
    if vendor is None and VENDOR_PORTAL in wanted:
        raise ValidationError({"vendor": "A vendor portal user must be bound to exactly one vendor."})


def _is_administrator(roles: Iterable[str]) -> bool:
    return ADMINISTRATOR in set(roles)


def _ensure_another_administrator(user: User, *, field: str) -> None:
    """Refuse a change that would leave Steward without any active administrator."""
    others = (
        User.objects.filter(is_active=True)
        .filter(Q(groups__name=ADMINISTRATOR) | Q(is_superuser=True))
        .exclude(pk=user.pk)
    )
    if not others.exists():
        raise ValidationError({field: "Steward needs at least one other active administrator first."})


def _user_state(user: User, roles: Iterable[str]) -> dict[str, Any]:
    return {**audit.snapshot(user), "roles": sorted(roles)}


def _record_user(
    action: str, user: User, *, before: dict[str, Any] | None, after: dict[str, Any] | None, actor: Any
) -> None:
    if before is not None and after is not None:
        changed = sorted(k for k in set(before) | set(after) if before.get(k) != after.get(k))
        before = {k: before.get(k) for k in changed}
        after = {k: after.get(k) for k in changed}
    audit.record_event(
        action,
        object_type=USER_OBJECT_TYPE,
        object_id=str(user.pk),
        object_repr=str(user),
        detail={"before": before, "after": after},
        actor=actor,
    )


# --- Users ------------------------------------------------------------------------------------


def _validate_new_password(password: str, user: User) -> None:
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc


@transaction.atomic
def user_create(
    *,
    username: str,
    password: str,
    roles: list[str],
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    vendor: Vendor | None = None,
    actor: User | None = None,
) -> User:
    """Create a person with their roles and a password that passes Django's validators.

    Portal users get exactly one vendor and no staff rights; administrators become staff.
    """
    validate_roles(roles, vendor)
    if User.objects.filter(username__iexact=username).exists():
        raise ValidationError({"username": "That username is taken."})
    user = User(username=username, email=email, first_name=first_name, last_name=last_name, vendor=vendor)
    _validate_new_password(password, user)
    user.set_password(password)
    return user_add(user=user, roles=roles, actor=actor)


@transaction.atomic
def user_add(*, user: User, roles: list[str], actor: User | None = None) -> User:
    """Save a new USER whose password is already set, with ROLES, and audit it.

    The path shared by :func:`user_create` and the admin's add form (which checks the
    password with its own form).
    """
    validate_roles(roles, user.vendor)
    # Administrators run the Django admin and user management: staff and superuser.
    user.is_staff = user.is_superuser = _is_administrator(roles)
    user.full_clean(exclude=["password"])
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    user._role_codes = set(roles)
    _record_user(AuditEvent.Action.CREATE, user, before=None, after=_user_state(user, roles), actor=actor)
    return user


def validate_user_change(
    *, user: User, roles: Iterable[str] | None = None, is_active: bool | None = None
) -> None:
    """Raise ValidationError if giving USER these ROLES, or this IS_ACTIVE flag, breaks a rule:
    the portal binding of :func:`validate_roles`, or leaving Steward without an active administrator.
    """
    is_admin = user.is_active and (user.is_superuser or user.groups.filter(name=ADMINISTRATOR).exists())
    if roles is not None:
        validate_roles(roles, user.vendor)
        if is_admin and not _is_administrator(roles):
            _ensure_another_administrator(user, field="roles")
    if is_active is False and is_admin:
        _ensure_another_administrator(user, field="is_active")


@transaction.atomic
def user_set_roles(*, user: User, roles: list[str], actor: User | None = None) -> User:
    """Give USER exactly ROLES (the only way roles change), keeping staff rights in step."""
    validate_user_change(user=user, roles=roles)
    before_roles = set(user.groups.values_list("name", flat=True))
    before = _user_state(user, before_roles)
    user.groups.set(Group.objects.filter(name__in=roles))
    user.is_staff = user.is_superuser = _is_administrator(roles)
    user.save(update_fields=["is_staff", "is_superuser"])
    user._role_codes = set(roles)
    after = _user_state(user, roles)
    if before != after:
        _record_user(AuditEvent.Action.UPDATE, user, before=before, after=after, actor=actor)
    return user


USER_EDITABLE_FIELDS: frozenset[str] = frozenset(
    {"email", "first_name", "last_name", "is_active", "time_zone"}
)


@transaction.atomic
def user_update(*, user: User, actor: User | None = None, **changes: Any) -> User:
    """Change a person's name, e-mail, time zone or active flag (roles: :func:`user_set_roles`)."""
    unknown = set(changes) - USER_EDITABLE_FIELDS
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    if "is_active" in changes:
        validate_user_change(user=user, is_active=changes["is_active"])
    roles = user.role_codes
    before = _user_state(user, roles)
    for field, value in changes.items():
        setattr(user, field, value)
    user.full_clean(exclude=["password"])
    user.save()
    after = _user_state(user, roles)
    if before != after:
        _record_user(AuditEvent.Action.UPDATE, user, before=before, after=after, actor=actor)
    return user


@transaction.atomic
def user_set_password(*, user: User, password: str | None, actor: User | None = None) -> User:
    """Set USER's password after Django's validators pass (None disables password sign-in).

    The password itself never reaches the audit trail; the row says only that it changed.
    """
    if password is None:
        user.set_unusable_password()
        outcome = "disabled"
    else:
        _validate_new_password(password, user)
        user.set_password(password)
        outcome = "changed"
    user.save(update_fields=["password"])
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type=USER_OBJECT_TYPE,
        object_id=str(user.pk),
        object_repr=str(user),
        detail={"password": outcome},
        actor=actor,
    )
    return user


# --- Two-factor authentication ----------------------------------------------------------------


@transaction.atomic
def two_factor_confirm(*, user: User, device: TOTPDevice) -> TOTPDevice:
    """Mark USER's TOTP device confirmed once they proved it with a code, and audit it."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type=USER_OBJECT_TYPE,
        object_id=str(user.pk),
        object_repr=user.username,
        detail={"two_factor": "enrolled", "device_id": device.pk},
        actor=user,
    )
    return device


def two_factor_failed(*, user: User) -> None:
    """Record a wrong second-factor code: someone may hold this person's password."""
    audit.record_event(
        AuditEvent.Action.LOGIN_FAILED,
        object_type=USER_OBJECT_TYPE,
        object_id=str(user.pk),
        object_repr=user.username,
        detail={"stage": "two_factor"},
        actor=user,
    )


@transaction.atomic
def two_factor_reset(*, user: User, actor: User) -> int:
    """Remove USER's authenticator apps so they can enrol a new one (a lost or replaced phone).

    Only an administrator does this; the person must enrol again at their next sign-in where
    two-factor is mandatory for their role. Returns how many devices were removed.
    """
    removed = int(TOTPDevice.objects.filter(user=user).delete()[0])
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type=USER_OBJECT_TYPE,
        object_id=str(user.pk),
        object_repr=user.username,
        detail={"two_factor": "reset", "devices_removed": removed},
        actor=actor,
    )
    return removed


@transaction.atomic
def sign_in_unlock(*, user: User, actor: User) -> int:
    """Lift a sign-in lock-out on USER before the cool-off ends, and audit who lifted it."""
    from axes.utils import reset

    cleared = int(reset(username=user.username))
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type=USER_OBJECT_TYPE,
        object_id=str(user.pk),
        object_repr=user.username,
        detail={"sign_in": "unlocked", "attempts_cleared": cleared},
        actor=actor,
    )
    return cleared


# --- API tokens -------------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    secret: str  # the whole token string, shown to its owner once and never stored


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


@transaction.atomic
def token_create(*, user: User, name: str, scope: str, days: int) -> IssuedToken:
    """Issue a personal API token to USER. The plain token is returned once; only its hash is kept.

    Callers decide whether USER may hold tokens (pages and API require
    ``accounts.add_apitoken``); the token never carries more than its owner's roles.
    """
    if not name.strip():
        raise ValidationError({"name": "Give the token a name that says what it is for."})
    if scope not in ApiToken.Scope.values:
        raise ValidationError({"scope": f"Scope must be one of {', '.join(ApiToken.Scope.values)}."})
    if not 1 <= days <= settings.STEWARD_API_TOKEN_MAX_DAYS:
        raise ValidationError(
            {"days": f"A token lives from 1 to {settings.STEWARD_API_TOKEN_MAX_DAYS} days."}
        )
    prefix = secrets.token_hex(4)
    secret = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name.strip()[:100],
        prefix=prefix,
        token_hash=_hash(secret),
        scope=scope,
        expires_at=timezone.now() + timedelta(days=days),
    )
    audit.record_change(AuditEvent.Action.CREATE, token, actor=user)
    return IssuedToken(token=token, secret=secret)


@transaction.atomic
def token_revoke(*, token: ApiToken, actor: User) -> ApiToken:
    """Revoke TOKEN at once; revoking twice changes nothing."""
    if token.revoked_at is not None:
        return token
    before = audit.snapshot(token)
    token.revoked_at = timezone.now()
    token.save(update_fields=["revoked_at", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, token, before=before, actor=actor)
    return token


class TokenRejected(Exception):
    """The presented token is malformed, unknown, expired or revoked (the message says which)."""


def token_authenticate(presented: str) -> ApiToken:
    """Find the live token matching PRESENTED, or raise TokenRejected with a reason for the client."""
    parts = presented.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX:
        raise TokenRejected("The token is malformed.")
    token = ApiToken.objects.select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, _hash(presented)):
        raise TokenRejected("The token is not valid.")
    if token.revoked_at is not None:
        raise TokenRejected("The token has been revoked.")
    now = timezone.now()
    if token.expires_at <= now:
        raise TokenRejected("The token has expired.")
    if not token.user.is_active:
        raise TokenRejected("The token's owner is inactive.")
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        # Throttled so that a busy integration does not write on every request.
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token
