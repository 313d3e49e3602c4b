"""What every API endpoint shares: authentication, one error format, pagination, input rules.

Errors follow RFC 9457 (problem details): ``application/problem+json`` with ``type``,
``title``, ``status``, ``detail``, ``instance``, the request id, and for validation
failures a list of ``errors`` naming each field. Every operation documents these
responses in the OpenAPI document (see :class:`StewardAPI`).

Two kinds of 422 are told apart by ``type``: ``…/validation`` when the request does not
fit the operation's schema (refused before any of our code runs), ``…/rule`` when a
service refused it (a duplicate code, a role that does not fit).
"""

from __future__ import annotations

import json
import logging
import typing
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any

from django.conf import settings
from django.core.exceptions import (
    ImproperlyConfigured,
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from ninja import Field, NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.openapi import schema as ninja_openapi_schema
from ninja.openapi.docs import Swagger
from ninja.openapi.schema import OpenAPISchema
from ninja.pagination import PaginationBase
from ninja.pagination import paginate as ninja_paginate
from ninja.parser import Parser
from ninja.schema import NinjaGenerateJsonSchema
from ninja.security import APIKeyCookie, HttpBearer
from pydantic import AfterValidator, ConfigDict
from pydantic.json_schema import DefsRef

from accounts.models import User
from core import context

logger = logging.getLogger("steward.api")

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_BASE = "https://steward.invalid/problems/"

_TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Request body too large",
    415: "Unsupported media type",
    422: "Validation failed",
    429: "Too many requests",
    500: "Internal server error",
}

# What a client is told when a response from outside the API's own handlers (ninja's 405,
# Django's 400 for a bad Host, a 404 from the URL resolver) is turned into problem details.
DEFAULT_DETAILS = {
    400: "The request could not be understood.",
    401: "Sign in, or send a valid API token as 'Authorization: Bearer <token>'.",
    403: "You may not do that.",
    404: "No such endpoint or object.",
    405: "This endpoint does not accept that method; the Allow header lists the ones it does.",
    413: "The request body is too large.",
    415: "Send the request body as application/json.",
    500: "Something went wrong on our side; quote the request id when reporting it.",
}


class FieldProblem(Schema):
    field: str
    message: str


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str
    request_id: str
    errors: list[FieldProblem] = []


def problem_body(
    request: HttpRequest,
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: list[dict[str, str]] | None = None,
) -> dict[str, Any]:
    """The problem-details document for STATUS (without the HTTP response around it)."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (kind or str(status)),
        "title": _TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": context.current().request_id,
    }
    if errors:
        body["errors"] = errors
    return body


def problem(
    request: HttpRequest,
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> HttpResponse:
    body = problem_body(request, status, detail, kind=kind, errors=errors)
    response = JsonResponse(body, status=status, content_type=PROBLEM_CONTENT_TYPE)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


def is_problem(response: HttpResponse) -> bool:
    return str(response.get("Content-Type", "")).startswith(PROBLEM_CONTENT_TYPE)


def _field_name(loc: list[Any] | tuple[Any, ...]) -> str:
    """Where a field is, as the client knows it: ``code`` (or ``contacts.0.email``) for body
    fields, as domain rules name them too; ``query.page_size`` and ``path.vendor_id`` for
    parameters; ``body`` for a body that is not an object at all.

    Ninja places body fields under the view's parameter name (``body.payload.code``); that
    name is ours, not the client's, so it is left out.
    """
    parts = [str(part) for part in loc]
    if parts and parts[0] == "body":
        parts = parts[2:] or ["body"]
    return ".".join(parts)


def _django_errors(exc: DjangoValidationError) -> list[dict[str, str]]:
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": str(message)}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"field": "__all__", "message": str(message)} for message in exc.messages]


# --- Request bodies ---------------------------------------------------------------------------


class UnsupportedMediaType(Exception):
    """A request body was sent with a content type other than JSON."""


NUL_MESSAGE = "The NUL character (U+0000) is not allowed."


class NulCharacters(Exception):
    """A request body holds strings with the NUL character, at these field paths."""

    def __init__(self, fields: list[str]) -> None:
        super().__init__(", ".join(fields))
        self.fields = fields


def _is_json(content_type: str) -> bool:
    media_type = content_type.split(";", 1)[0].strip().lower()
    return media_type == "application/json" or media_type.endswith("+json")


def _nul_paths(value: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Dotted paths of every string (or key) in a parsed JSON VALUE that contains NUL."""
    if isinstance(value, str):
        return [".".join(path)] if "\x00" in value else []
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                found.append(".".join((*path, "(key)")))
            found += _nul_paths(item, (*path, str(key).replace("\x00", "")))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += _nul_paths(item, (*path, str(index)))
    return found


class JsonParser(Parser):
    """Request bodies are JSON, and say so; no input may hold the NUL character.

    A body sent as ``text/plain`` or a form is refused with 415 instead of being parsed
    anyway: browsers send those cross-site without a preflight. A request with no content
    type at all is read as JSON, as curl users expect.

    NUL is refused in bodies and query strings (422) because PostgreSQL cannot store or
    even compare it: left in, it becomes a 500 from the database instead of a client error.
    """

    def parse_body(self, request: HttpRequest) -> Any:
        content_type = request.META.get("CONTENT_TYPE", "")
        if content_type and not _is_json(content_type):
            raise UnsupportedMediaType(content_type)
        # Invalid UTF-8, invalid JSON, absurd nesting and over-long numbers all raise here;
        # ninja turns any of them into HttpError(400) with this exception as its cause.
        data = json.loads(request.body)
        nul = _nul_paths(data)
        if nul:
            raise NulCharacters(nul)
        return data

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        location = "query" if data is request.GET else "file" if data is request.FILES else "form"
        # Only text is checked: an uploaded file's content is its own business (and is not read here).
        bad = [
            key
            for key in data
            if "\x00" in key or any(isinstance(value, str) and "\x00" in value for value in data.getlist(key))
        ]
        if bad:
            raise ValidationError(
                [{"loc": (location, key.replace("\x00", "")), "msg": NUL_MESSAGE} for key in bad]
            )
        return super().parse_querydict(data, list_fields, request)


def install_error_handlers(api: NinjaAPI) -> None:
    """Every failure the API can produce becomes a problem-details response."""

    @api.exception_handler(ValidationError)
    def _validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"field": _field_name(err.get("loc", ())), "message": str(err.get("msg", "invalid"))}
            for err in exc.errors
        ]
        return problem(
            request, 422, "The request has invalid or missing fields.", kind="validation", errors=errors
        )

    @api.exception_handler(DjangoValidationError)
    def _domain_validation(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return problem(request, 422, "The request breaks a rule.", kind="rule", errors=_django_errors(exc))

    @api.exception_handler(AuthenticationError)
    def _authentication(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        message = str(exc) if str(exc) != "Unauthorized" else DEFAULT_DETAILS[401]
        return problem(request, 401, message, kind="authentication", headers={"WWW-Authenticate": "Bearer"})

    @api.exception_handler(HttpError)
    def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        status = exc.status_code
        cause = exc.__cause__
        if isinstance(cause, UnsupportedMediaType):
            return problem(
                request,
                415,
                f"Send the request body as application/json, not {str(cause)[:100]}.",
                kind="unsupported-media-type",
            )
        if isinstance(cause, RequestDataTooBig):
            return _too_big(request, cause)
        if isinstance(cause, NulCharacters):
            errors = [{"field": field or "body", "message": NUL_MESSAGE} for field in cause.fields]
            return problem(request, 422, "The request has invalid fields.", kind="validation", errors=errors)
        if status == 400 and cause is not None:
            # ninja's "Cannot parse request body": whatever the parser choked on.
            return problem(request, 400, "The request body is not valid JSON.", kind="malformed-json")
        if status == 403 and "csrf" in str(exc).lower():
            return problem(
                request,
                403,
                "CSRF check failed: send the X-CSRFToken header with session requests.",
                kind="csrf",
            )
        return problem(request, status, str(exc))

    @api.exception_handler(RequestDataTooBig)
    def _too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return problem(
            request, 413, f"The request body is larger than the {limit} bytes allowed.", kind="too-large"
        )

    @api.exception_handler(PermissionDenied)
    def _forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
        return problem(request, 403, str(exc) or "You may not do that.", kind="forbidden")

    @api.exception_handler(Http404)
    def _not_found(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(request, 404, "No such object, or you may not see it.", kind="not-found")

    api.add_exception_handler(ObjectDoesNotExist, _not_found)  # type: ignore[arg-type]

    @api.exception_handler(DataError)
    def _does_not_fit(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A value the schema let through but the database refused (too long, out of range):
        # the client's input, so a 422, but logged, because the schema should have caught it.
        logger.warning("database refused a value: %s", exc, exc_info=exc)
        return problem(
            request,
            422,
            "A value is too long, out of range or otherwise does not fit where it is stored.",
            kind="does-not-fit",
        )

    api.add_exception_handler(OverflowError, _does_not_fit)  # type: ignore[arg-type]

    @api.exception_handler(Exception)
    def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        logger.exception("unhandled API error")
        return problem(request, 500, DEFAULT_DETAILS[500])


class InputSchema(Schema):
    """Base for request bodies: unknown fields are an error, not silently dropped."""

    model_config = ConfigDict(extra="forbid")


# --- Authentication -------------------------------------------------------------------------

_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class TokenAuth(HttpBearer):
    """``Authorization: Bearer stw_…``: a personal API token (read or read-write scope)."""

    def authenticate(self, request: HttpRequest, token: str) -> Any:
        from accounts.services import TokenRejected, token_authenticate

        try:
            api_token = token_authenticate(token)
        except TokenRejected as exc:
            raise AuthenticationError(message=str(exc)) from exc
        if request.method in _WRITE_METHODS and api_token.scope != api_token.Scope.WRITE:
            raise HttpError(403, "This token is read-only.")
        request.user = api_token.user
        request.api_token = api_token  # type: ignore[attr-defined]
        context.set_user(api_token.user)
        return api_token.user


class SessionAuth(APIKeyCookie):
    """The browser's signed-in session, with Django's CSRF check on unsafe methods."""

    param_name = settings.SESSION_COOKIE_NAME

    def _get_key(self, request: HttpRequest) -> str | None:
        # Only a signed-in session is worth a CSRF check; without one the answer is 401, not 403.
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return None
        return super()._get_key(request)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return user
        return None


API_AUTH = [TokenAuth(), SessionAuth()]


# --- The API object ---------------------------------------------------------------------------


class StewardJsonSchema(NinjaGenerateJsonSchema):
    """Ninja's JSON Schema generator, with two corrections to what the document says.

    - A nested class is named by its qualified name: ``Vendor.Status`` becomes
      ``VendorStatus`` instead of ``Status``. Ninja builds each operation's schema
      separately and merges the definitions by name, so two classes with the same short
      name (every model has a ``Status``) would silently overwrite each other and the
      document would describe one endpoint with another's enum.
    - A Decimal sent as a string carries the pattern of a decimal number (with its digit
      limits), instead of "any string": money is Decimal here, and clients and the fuzzer
      should know that ``""`` or ``"ten"`` is not an amount.
    """

    def get_decimal_pattern(self, schema: Any) -> str | None:
        return self.build_decimal_pattern(schema)

    def get_defs_ref(self, core_mode_ref: Any) -> Any:
        defs_ref = super().get_defs_ref(core_mode_ref)
        core_ref, mode = core_mode_ref
        if "[" in core_ref:  # generic models keep pydantic's naming
            return defs_ref
        dotted = core_ref.rsplit(":", 1)[0].split(".")
        # Modules are lower case; the qualified name starts at the first capitalised part.
        start = next((i for i, part in enumerate(dotted) if part[:1].isupper()), len(dotted) - 1)
        name = self.normalize_name("".join(dotted[start:]))
        choices = self._prioritized_defsref_choices[defs_ref]
        mode_title = "Input" if mode == "validation" else "Output"
        choices[:2] = [DefsRef(name), DefsRef(f"{name}-{mode_title}")]
        return defs_ref


# ninja looks its schema generator up in this module at every call; there is no setting for it.
ninja_openapi_schema.NinjaGenerateJsonSchema = StewardJsonSchema  # type: ignore[attr-defined]


class StewardOpenAPISchema(OpenAPISchema):
    """Ninja's OpenAPI document, refusing to let one schema overwrite another of the same name."""

    def add_schema_definitions(self, definitions: dict[str, Any]) -> None:
        for name, definition in definitions.items():
            if name in self.schemas and self.schemas[name] != definition:
                raise ImproperlyConfigured(
                    f"Two different schemas are both called {name!r} in the OpenAPI document, so one "
                    "would silently replace the other. Give one of the classes another name."
                )
        super().add_schema_definitions(definitions)


# Failures every operation can answer with. 413 and 415 only concern operations with a body.
_COMMON_FAILURES = (400, 401, 403, 404, 422)
_BODY_FAILURES = (413, 415)
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


class StewardAPI(NinjaAPI):
    """NinjaAPI with our parser, our error handlers and the problem responses documented.

    The OpenAPI document lists the problem-details responses on every operation, so that
    clients (and the schemathesis run in the test suite) know the shape of every failure.
    The docs page (Swagger UI) runs under our Content-Security-Policy as it is: ninja's
    template loads its scripts from /static/ and keeps its settings in a JSON data block,
    so no inline script and no nonce are needed.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("parser", JsonParser())
        # Swagger UI's bundled files come from ninja's static folder (no CDN). Its validator
        # badge would load an image from swagger.io for any non-localhost host: switched off.
        kwargs.setdefault("docs", Swagger(settings={"validatorUrl": None}))
        super().__init__(**kwargs)
        install_error_handlers(self)

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        if path_prefix is None:
            path_prefix = self.get_root_path(path_params or {})
        schema = StewardOpenAPISchema(self, path_prefix)
        components = schema.setdefault("components", {})
        definitions = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        schema.add_schema_definitions({**definitions.pop("$defs", {}), "Problem": definitions})
        shared = components.setdefault("responses", {})
        for status in _COMMON_FAILURES + _BODY_FAILURES:
            shared[f"Problem{status}"] = {
                "description": _TITLES[status],
                "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
            }
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                if method not in _METHODS:
                    continue
                statuses = _COMMON_FAILURES + (_BODY_FAILURES if "requestBody" in operation else ())
                responses = operation.setdefault("responses", {})
                for status in statuses:
                    responses.setdefault(str(status), {"$ref": f"#/components/responses/Problem{status}"})
        return schema


# --- Pagination -----------------------------------------------------------------------------

MAX_PAGE_SIZE = settings.STEWARD_API_MAX_PAGE_SIZE


class StewardPagination(PaginationBase):
    """Page-number pagination; ``page_size`` up to STEWARD_API_MAX_PAGE_SIZE (200 by default).

    A page past the end is an empty page, not an error: the count says how many there are.
    """

    class Input(Schema):
        page: int = Field(1, ge=1, le=1_000_000)
        page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)

    class Output(Schema):
        items: list[Any]
        count: int
        page: int
        page_size: int
        pages: int

    def paginate_queryset(self, queryset: Any, pagination: Input, request: HttpRequest, **params: Any) -> Any:
        offset = (pagination.page - 1) * pagination.page_size
        count = self._items_count(queryset)
        return {
            "items": queryset[offset : offset + pagination.page_size],
            "count": count,
            "page": pagination.page,
            "page_size": pagination.page_size,
            "pages": max(1, -(-count // pagination.page_size)),
        }


_View = typing.TypeVar("_View", bound=Callable[..., Any])


def paginate(view: _View) -> _View:
    """``@paginate`` for list endpoints: ninja's pagination with :class:`StewardPagination`.

    Use this rather than ``ninja.pagination.paginate``. Ninja's decorator wraps the view,
    and ninja then resolves the view's string annotations (``from __future__ import
    annotations``) in the *wrapper's* module, where names such as ``Query`` or the view's
    filter schema do not exist: the operation breaks at run time and so does the OpenAPI
    document. Resolving the annotations here, in the view's own module, avoids that.
    """
    view.__annotations__ = typing.get_type_hints(view, include_extras=True)
    return ninja_paginate(StewardPagination)(view)  # type: ignore[no-any-return]


# Path and query ids: bounded so that an absurd number is a 422, not a database overflow.
ObjectId = Annotated[int, Field(ge=1, le=2**63 - 1)]


def _to_utc(value: datetime) -> datetime:
    try:
        if timezone.is_naive(value):
            value = timezone.make_aware(value)  # read in Steward's time zone (Hong Kong)
        return value.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise ValueError("The date and time is out of range.") from exc


# Every datetime a client sends: made timezone-aware and converted to UTC before any query.
# PostgreSQL refuses offsets beyond about ±16 hours (valid ISO 8601, so the schema lets
# them through), and a naive datetime would be stored in the wrong zone.
UtcDateTime = Annotated[datetime, AfterValidator(_to_utc)]


def actor(request: HttpRequest) -> User:
    """The authenticated user of an API call (authentication has already run)."""
    user = request.user
    if not user.is_authenticated:
        raise AuthenticationError()
    return user
