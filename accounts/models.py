"""People who use Steward and the API tokens they hold."""

from __future__ import annotations

from typing import ClassVar

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import RestrictedQuerySet, StewardModel


class StewardUserManager(UserManager.from_queryset(RestrictedQuerySet)):  # type: ignore[misc]
    """Django's user manager with ``restrict``."""


class User(AbstractUser):
    """A Steward user. Staff hold one or more roles (groups); a vendor portal user is bound
    to exactly one vendor and sees nothing of any other (enforced by ``restrict``)."""

    vendor = models.ForeignKey(
        "vendors.Vendor",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="portal_users",
        help_text="Set only for vendor portal users: the one vendor they work for.",
    )
    time_zone = models.CharField(max_length=64, default="Asia/Hong_Kong")

    vendor_path: ClassVar[str | None] = "vendor_id"
    personal_data_fields: ClassVar[frozenset[str]] = frozenset()

    objects: ClassVar[StewardUserManager] = StewardUserManager()

    class Meta:
        ordering = ["username"]
        constraints = [
            models.CheckConstraint(
                condition=Q(vendor__isnull=True) | Q(is_superuser=False, is_staff=False),
                name="portal_user_is_not_staff",
                violation_error_message="A vendor portal user cannot be staff or a superuser.",
            )
        ]

    @property
    def role_codes(self) -> set[str]:
        cached: set[str] | None = getattr(self, "_role_codes", None)
        if cached is None:
            cached = set(self.groups.values_list("name", flat=True))
            self._role_codes = cached
        return cached

    def has_role(self, *codes: str) -> bool:
        return self.is_superuser or bool(self.role_codes & set(codes))

    @property
    def is_portal_user(self) -> bool:
        return self.vendor_id is not None


class ApiToken(StewardModel):
    """A personal API token: shown once, stored as a SHA-256 hash, scoped, expiring and revocable."""

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, help_text="What the token is for, e.g. 'helpdesk import'.")
    prefix = models.CharField(max_length=12, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    scope = models.CharField(max_length=8, choices=Scope.choices, default=Scope.READ)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    vendor_path: ClassVar[str | None] = "user__vendor_id"

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (stw_{self.prefix}_…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None and self.expires_at > timezone.now()

    @classmethod
    def scope_for(cls, user: User, action: str) -> Q | None:
        # A person manages only their own tokens; administrators see everyone's.
        if user.is_superuser or user.has_role("administrator"):
            return Q()
        return Q(user_id=user.pk)
