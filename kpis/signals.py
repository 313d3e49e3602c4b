"""Keeps Measure rows in step with the registry after every migrate."""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_migrate
from django.dispatch import receiver


@receiver(post_migrate)
def _sync_measures_after_migrate(sender: Any, **kwargs: Any) -> None:
    if getattr(sender, "label", None) != "kpis" or not apps.is_installed("kpis"):
        return
    from kpis.services import measures_sync

    measures_sync()
