"""Request-scoped context: a request id on every request, log line, audit row and response."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from core import context
from core.api import DEFAULT_DETAILS, PROBLEM_CONTENT_TYPE, is_problem, problem, problem_body

_VALID_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


def _client_ip(request: HttpRequest) -> str | None:
    return request.META.get("REMOTE_ADDR")


class RequestContextMiddleware:
    """Accepts a well-formed X-Request-ID from a proxy, otherwise makes one; echoes it back."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get("X-Request-ID", "")
        request_id = incoming if _VALID_REQUEST_ID.match(incoming) else context.new_request_id()
        channel = "api" if request.path.startswith("/api/") else "web"
        token = context.set_current(
            context.RequestContext(request_id=request_id, ip_address=_client_ip(request), channel=channel)
        )
        request.request_id = request_id  # type: ignore[attr-defined]
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-ID"] = request_id
        return response


class AuditActorMiddleware:
    """Records the authenticated user (session login) in the request context.

    API token users are set by the token authenticator, which runs later.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            context.set_user(user)
        return self.get_response(request)


class ApiProblemMiddleware:
    """Under /api/, every failure is problem details, whoever produced it.

    The API's own handlers already answer with problem details; this catches the rest:
    ninja's 405 for a method an endpoint lacks, Django's 400 for a request it refuses
    before any view runs, and the like. The original status and headers (``Allow``,
    security headers) are kept; only the body and its content type change.

    It also refuses an API URL holding the NUL character before any view sees it: a path
    parameter with NUL would reach the database, which (PostgreSQL) fails on it with a 500.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/") and "\x00" in request.path:
            return problem(request, 400, "The URL contains the NUL character (%00).", kind="nul-in-url")
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith("/api/")
            or response.streaming
            or is_problem(response)
        ):
            return response
        status = response.status_code
        body = problem_body(request, status, DEFAULT_DETAILS.get(status, "The request failed."))
        response.content = json.dumps(body).encode("utf-8")
        response["Content-Type"] = PROBLEM_CONTENT_TYPE
        if response.has_header("Content-Length"):
            response["Content-Length"] = str(len(response.content))
        return response
