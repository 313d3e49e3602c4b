"""Keeps role groups in step with migrations, and audits sign-in and sign-out."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_migrate
from django.dispatch import receiver

from core import audit
from core.models import AuditEvent


@receiver(post_migrate)
def _sync_roles_after_migrate(sender: Any, **kwargs: Any) -> None:
    # Permissions are created app by app in post_migrate; wait for the last app so that
    # every model's permissions exist before the groups are filled.
    last_app = list(apps.get_app_configs())[-1]
    if getattr(sender, "label", None) != last_app.label:
        return
    from accounts.services import sync_roles

    sync_roles()


@receiver(user_logged_in)
def _audit_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    audit.record_event(
        AuditEvent.Action.LOGIN,
        object_type="accounts.user",
        object_id=str(user.pk),
        object_repr=user.username,
        actor=user,
    )


@receiver(user_logged_out)
def _audit_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if user is not None:
        audit.record_event(
            AuditEvent.Action.LOGOUT,
            object_type="accounts.user",
            object_id=str(user.pk),
            object_repr=user.username,
            actor=user,
        )


@receiver(user_login_failed)
def _audit_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    audit.record_event(
        AuditEvent.Action.LOGIN_FAILED,
        object_type="accounts.user",
        detail={"username": str(credentials.get("username", ""))[:150]},
    )
