"""Adds the request id and acting user to every log record (settings.LOGGING's JSON lines)."""

from __future__ import annotations

import logging

from core import context


class RequestContextFilter(logging.Filter):
    """Stamps ``request_id`` and ``user_id`` on each record; both empty outside a request or task.

    It only looks at the current context and never creates one: a log line written at start-up
    must not fix a request id that later work in the same thread would then inherit.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        ctx = context._current.get()
        user = ctx.user if ctx is not None else None
        record.request_id = ctx.request_id if ctx is not None else ""
        # Django logs a 4xx/5xx response after the middleware has closed the request's context;
        # the request itself still carries its id.
        request = getattr(record, "request", None)
        if not ctx and request is not None:
            record.request_id = getattr(request, "request_id", "")
        record.user_id = user.pk if user is not None and user.pk else None
        return True
