"""Celery application. Eager (in-process) unless CELERY_BROKER_URL is set."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steward.settings")

app = Celery("steward")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

_task_tokens: dict[str, object] = {}


@task_prerun.connect
def _fresh_context(task_id: str | None = None, task: Any = None, **kwargs: Any) -> None:
    """Each task on a worker runs in its own request context (its own request id, no user), so
    logs and audit rows of one task never inherit another's on a long-lived worker thread.
    An eager task (the embedded default) keeps the context of the request that ran it."""
    from core import context

    if task is not None and getattr(task.request, "is_eager", False):
        return
    token = context.set_current(
        context.RequestContext(request_id=task_id or context.new_request_id(), channel="task")
    )
    if task_id:
        _task_tokens[task_id] = token


@task_postrun.connect
def _drop_context(task_id: str | None = None, **kwargs: Any) -> None:
    from core import context

    token = _task_tokens.pop(task_id or "", None)
    if token is not None:
        context.reset(token)
