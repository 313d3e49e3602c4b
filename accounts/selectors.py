"""Reads for users and tokens; each takes the acting user and goes through ``restrict``."""

from __future__ import annotations

from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

from accounts.models import ApiToken, User
from core.access import get_restricted_or_404


def token_list(*, user: User | Any) -> QuerySet[ApiToken]:
    """USER's own API tokens, newest first (administrators manage others' through the admin)."""
    return ApiToken.objects.restrict(user).filter(user_id=user.pk).order_by("-created_at")


def token_get(*, user: User | Any, pk: int, action: str = "view") -> ApiToken:
    """One token USER may act on, or Http404 (someone else's token looks like no token)."""
    return get_restricted_or_404(ApiToken, user=user, action=action, pk=pk)


def _with_list_data(users: QuerySet[User]) -> QuerySet[User]:
    # Roles, vendor and two-factor state in a fixed number of queries, however many people.
    confirmed = TOTPDevice.objects.filter(user_id=OuterRef("pk"), confirmed=True)
    return (
        users.prefetch_related("groups").select_related("vendor").annotate(has_two_factor=Exists(confirmed))
    )


def user_list(*, user: User | Any, role: str = "", search: str = "") -> QuerySet[User]:
    """The people USER may see (administrators: everyone), by username; filter by role or name."""
    users: QuerySet[User] = User.objects.restrict(user)
    if role:
        users = users.filter(groups__name=role)
    if search:
        users = users.filter(
            Q(username__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
            | Q(email__icontains=search)
        )
    return _with_list_data(users).order_by("username")


def user_get(*, user: User | Any, pk: int, action: str = "view") -> User:
    """One person USER may see or change, or Http404."""
    found = get_restricted_or_404(User, user=user, action=action, pk=pk)
    return _with_list_data(User.objects.filter(pk=found.pk)).get()


def role_codes_of(person: User) -> list[str]:
    """PERSON's role codes from prefetched groups (no query when listed through ``user_list``)."""
    return sorted(group.name for group in person.groups.all())


def locked_usernames(usernames: list[str]) -> set[str]:
    """Which of USERNAMES repeated failed sign-ins have locked out (one query)."""
    from axes.models import AccessAttempt
    from django.conf import settings

    return set(
        AccessAttempt.objects.filter(
            username__in=usernames, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
        )
        .values_list("username", flat=True)
        .distinct()
    )
