"""Per-request context (request id, acting user, client address) shared with logs and the audit trail.

Held in a ContextVar so that services, log records and the audit trail see the same
values without passing the request around. Celery tasks and management commands set
their own context with :func:`acting_as`.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from accounts.models import User


@dataclass(frozen=True)
class RequestContext:
    request_id: str
    user: User | None = None
    ip_address: str | None = None
    channel: str = "web"  # web, api, task, command


_current: ContextVar[RequestContext | None] = ContextVar("steward_request_context", default=None)


def new_request_id() -> str:
    return uuid.uuid4().hex


def current() -> RequestContext:
    """The context of the work under way; a fresh one (no user) outside any request."""
    ctx = _current.get()
    if ctx is None:
        ctx = RequestContext(request_id=new_request_id(), channel="command")
        _current.set(ctx)
    return ctx


def set_current(ctx: RequestContext) -> object:
    return _current.set(ctx)


def reset(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


def set_user(user: User | None) -> None:
    _current.set(replace(current(), user=user))


@contextlib.contextmanager
def acting_as(user: User | None, *, channel: str = "task", request_id: str | None = None) -> Iterator[None]:
    """Run a block as USER (for tasks, commands and tests), restoring the previous context after."""
    token = _current.set(
        RequestContext(request_id=request_id or new_request_id(), user=user, channel=channel)
    )
    try:
        yield
    finally:
        _current.reset(token)
