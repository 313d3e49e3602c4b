"""Every API operation refuses outsiders, including operations added after this test was written.

The test walks the OpenAPI document of ``steward.api.api`` and calls each operation as
(a) an anonymous client: 401 with ``WWW-Authenticate``;
(b) a signed-in staff member with no role, through a read-write API token;
(c) a vendor portal user of *another* vendor, likewise.
(b) must get 403 or 404, or for a GET an empty page. (c) must get 403 or 404 from anything
addressed by the vendor's ids; elsewhere (a list, a preview) it may see its own vendor's
things but nothing of the vendor's. Neither may write anything (an access-denied note in
the audit trail is expected).

Path ids are the ids of real objects belonging to the ``vendor`` fixture, so that a refusal
is a refusal to reach something that exists: a parameter ``<name>_id`` is matched to the
model called ``<name>`` (or ending in it). Objects come from the services below and from
every factory in ``core.testing.factories`` or ``<app>/tests/factories.py`` whose model
belongs to a vendor (``vendor_path``). Where no object exists the id falls back to 1, and
the operation must still answer without data. Requests are the smallest that fit the
operation's schema (found by schemathesis; the next candidate is tried while one is refused
by validation), so that the refusal comes from the permission check, not from validation.
"""

from __future__ import annotations

import importlib
import inspect
import json
from functools import cache
from typing import Any
from urllib.parse import urlencode

import hypothesis
import pytest
import schemathesis
from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, models, transaction
from factory.django import DjangoModelFactory

from accounts.services import token_create
from core.api import PROBLEM_BASE
from core.models import AuditEvent
from core.testing.personas import bearer
from core.testing.problems import assert_problem
from steward.api import api
from vendors.services import vendor_update

pytestmark = pytest.mark.django_db

METHODS = ("get", "put", "post", "patch", "delete")

# Operations that answer every signed-in person about themselves; each says why.
OWN_DATA = {
    ("GET", "/api/v1/accounts/me"): "every signed-in person may see who they are",
    ("GET", "/api/v1/accounts/tokens"): "lists the caller's own tokens (the one making this call too)",
    ("POST", "/api/v1/accounts/tokens"): "issues a token to the caller themself",
}

# Operations open to anonymous callers; each says why.
PUBLIC: dict[tuple[str, str], str] = {
    ("POST", "/api/v1/customers/webhooks/shopify/orders"): "Shopify's servers call it: authenticated by the "
    "HMAC of the body, not a user (customers/tests/test_shopify_webhook.py checks a bad signature is refused "
    "and audited)",
    ("POST", "/api/v1/service/webhooks/helpdesk"): "an external helpdesk's webhook: authenticated by the "
    "HMAC-SHA256 signature of its body (docs/service.md), 401 and audited without it",
}

# Path parameters whose name does not say their model: name -> (model label, lookup field).
IRREGULAR_PARAMETERS = {"seq": ("core.AuditEvent", "seq")}

# New rows an outsider's call may leave: the record that it was refused, or that a token was used.
ALLOWED_AUDIT = {AuditEvent.Action.ACCESS_DENIED, AuditEvent.Action.TOKEN_USED}


def _document_operations() -> list[tuple[str, str]]:
    document = api.get_openapi_schema()
    return [
        (method.upper(), path)
        for path, item in document["paths"].items()
        for method in METHODS
        if method in item
    ]


OPERATIONS = _document_operations()
OPERATION_IDS = [f"{method} {path}" for method, path in OPERATIONS]


def _numbers_only(node: Any) -> Any:
    """Drop the string branch of Decimal fields (``anyOf: [number, string with a pattern]``).

    JSON Schema cannot bound a decimal written as a string, so a generated "999" breaks a
    ``≤ 100`` rule and every candidate is refused; the number branch carries the bounds.
    """
    if isinstance(node, list):
        return [_numbers_only(item) for item in node]
    if not isinstance(node, dict):
        return node
    branches = node.get("anyOf")
    if isinstance(branches, list):
        numeric = [b for b in branches if isinstance(b, dict) and b.get("type") in ("number", "integer")]
        strings = [
            b for b in branches if isinstance(b, dict) and b.get("type") == "string" and "pattern" in b
        ]
        if numeric and strings:
            kept = [b for b in branches if b not in strings]
            node = {**node, "anyOf": kept}
    return {key: _numbers_only(value) for key, value in node.items()}


@cache
def _schema() -> Any:
    return schemathesis.openapi.from_dict(_numbers_only(api.get_openapi_schema()))


Request = tuple[dict[str, Any], Any, str | None]  # query, body, media type

# How many different requests to try before deciding that the schema cannot describe a valid
# one (a Decimal string must be > 0, say, which JSON Schema cannot say of a string).
CANDIDATES = 8


_candidates: dict[tuple[str, str], list[Request]] = {}


def candidate_request(method: str, path: str, attempt: int) -> Request | None:
    """The ATTEMPT-th small request that fits the operation's schema; the same on every run."""
    found = _candidates.setdefault((method, path), [])
    strategy = _schema()[path][method].as_strategy()
    # Derandomized and not shrunk: the same small requests on every run, found in milliseconds.
    quick = hypothesis.settings(database=None, derandomize=True, phases=[hypothesis.Phase.generate])
    while len(found) <= attempt:
        try:
            case = hypothesis.find(strategy, lambda case: _request(case) not in found, settings=quick)
        except hypothesis.errors.NoSuchExample:
            return None
        found.append(_request(case))
    return found[attempt]


def _request(case: Any) -> Request:
    body = case.body if isinstance(case.body, dict | list | str | int | float | bool) else None
    return dict(case.query or {}), body, case.media_type


def schema_refused(response: Any) -> bool:
    """A 422 for not fitting the schema: ninja refused it before any view code ran."""
    return response.status_code == 422 and bool(response.json().get("type") == PROBLEM_BASE + "validation")


# --- Objects that belong to the vendor --------------------------------------------------------


def _vendor_kwarg(vendor_path: str) -> str:
    """``contract__vendor_id`` -> ``contract__vendor``: the factory argument that sets the owner."""
    for suffix in ("__id", "_id"):
        if vendor_path.endswith(suffix):
            return vendor_path[: -len(suffix)]
    return vendor_path


def _factory_modules() -> list[Any]:
    modules = []
    for name in ["core.testing.factories"] + [
        f"{app.name}.tests.factories" for app in apps.get_app_configs()
    ]:
        try:
            modules.append(importlib.import_module(name))
        except ModuleNotFoundError:
            continue
    return modules


def _vendor_factories() -> list[type[DjangoModelFactory]]:
    found: dict[str, type[DjangoModelFactory]] = {}
    for module in _factory_modules():
        for _name, member in inspect.getmembers(module, inspect.isclass):
            model = getattr(getattr(member, "_meta", None), "model", None)
            if not (issubclass(member, DjangoModelFactory) and isinstance(model, type)):
                continue
            vendor_path = getattr(model, "vendor_path", None)
            if vendor_path and vendor_path != "id":
                found[f"{member.__module__}.{member.__qualname__}"] = member
    return list(found.values())


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # This module makes several users per test; Django's real hasher would dominate its run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def vendor_world(vendor, portal_user, vendor_manager):
    """The vendor with things of its own: a portal user, their API token, audit events, factory objects."""
    token_create(user=portal_user, name="vendor integration", scope="write", days=30)
    vendor_update(actor=vendor_manager, vendor=vendor, status="active")
    for factory_class in _vendor_factories():
        kwarg = _vendor_kwarg(factory_class._meta.model.vendor_path)
        try:
            with transaction.atomic():
                factory_class(**{kwarg: vendor})
        except Exception:  # noqa: S112 (a factory that needs more than a vendor: its ids fall back to 1)
            continue
    return vendor


def _model_for(parameter: str) -> tuple[type[models.Model], str] | None:
    if parameter in IRREGULAR_PARAMETERS:
        label, field = IRREGULAR_PARAMETERS[parameter]
        return apps.get_model(label), field
    name = parameter.removesuffix("_id").replace("_", "")
    candidates = [model for model in apps.get_models() if model._meta.model_name == name]
    candidates = candidates or [
        model for model in apps.get_models() if (model._meta.model_name or "").endswith(name)
    ]
    return (candidates[0], "pk") if len(candidates) == 1 else None


def path_value(parameter: str, vendor: Any) -> Any:
    """The id of an object of VENDOR's that PARAMETER names, or 1 where there is none."""
    found = _model_for(parameter)
    if found is None:
        return 1
    model, field = found
    queryset = model._default_manager.order_by("pk")
    vendor_path = getattr(model, "vendor_path", None)
    if vendor_path:
        queryset = queryset.filter(**{vendor_path: vendor.pk})
    value = queryset.values_list(field, flat=True).last()
    return 1 if value is None else value


def fill_path(path: str, vendor: Any) -> str:
    parameters = [part[1:-1] for part in path.split("/") if part.startswith("{") and part.endswith("}")]
    for parameter in parameters:
        path = path.replace(f"{{{parameter}}}", str(path_value(parameter, vendor)))
    return path


def call(client: Any, method: str, path: str, vendor: Any, headers: dict[str, str], attempt: int = 0) -> Any:
    candidate = candidate_request(method, path, attempt)
    assert candidate is not None, f"the schema of {method} {path} describes no request"
    query, body, media_type = candidate
    url = fill_path(path, vendor)
    if query:
        url = f"{url}?{urlencode(query, doseq=True)}"
    send = getattr(client, method.lower())
    if method == "GET":
        return send(url, **headers)
    if media_type == "multipart/form-data" and isinstance(body, dict):
        # Files arrive from schemathesis as Binary(data=...); the test client wants uploads.
        form = {
            name: SimpleUploadedFile(f"{name}.bin", value.data) if hasattr(value, "data") else value
            for name, value in body.items()
        }
        return send(url, data=form, **headers)
    if media_type == "application/x-www-form-urlencoded" and isinstance(body, dict):
        return send(url, data=urlencode(body, doseq=True), content_type=media_type, **headers)
    data = json.dumps(body) if body is not None else ""
    return send(url, data=data, content_type="application/json", **headers)


# --- Row counts: an outsider's call writes nothing ----------------------------------------------


def _counts() -> dict[str, int]:
    tables = set(connection.introspection.table_names())
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.db_table in tables and not model._meta.proxy and model is not AuditEvent
    }


def _shows_vendor(data: Any, vendor: Any, vendor_user: Any) -> bool:
    """Whether DATA shows anything of VENDOR's: its id as an owner, its code or name, its user."""
    if isinstance(data, list):
        return any(_shows_vendor(item, vendor, vendor_user) for item in data)
    if not isinstance(data, dict):
        return False
    if data.get("vendor_id") == vendor.pk or data.get("vendor") in (vendor.pk, vendor.code):
        return True
    if any(_shows_vendor(value, vendor, vendor_user) for value in data.values()):
        return True
    text = json.dumps(data)
    return any(marker in text for marker in (f'"{vendor.code}"', vendor.name, f'"{vendor_user.username}"'))


# --- The tests --------------------------------------------------------------------------------


def test_the_walk_covers_the_api():
    # A sanity check on the walk itself: the foundation's own operations are among those checked.
    assert ("GET", "/api/v1/vendors/") in OPERATIONS
    assert ("GET", "/api/v1/vendors/{vendor_id}") in OPERATIONS
    assert ("POST", "/api/v1/accounts/tokens/{token_id}/revoke") in OPERATIONS
    assert len(OPERATIONS) >= 8
    assert set(OWN_DATA) <= set(OPERATIONS), "an exception names an operation that no longer exists"


def test_path_ids_name_real_objects_of_the_vendor(vendor_world, portal_user):
    assert fill_path("/api/v1/vendors/{vendor_id}", vendor_world) == f"/api/v1/vendors/{vendor_world.pk}"
    token = portal_user.api_tokens.get()
    assert fill_path("/api/v1/accounts/tokens/{token_id}/revoke", vendor_world) == (
        f"/api/v1/accounts/tokens/{token.pk}/revoke"
    )
    assert fill_path("/api/v1/things/{no_such_model_id}", vendor_world) == "/api/v1/things/1"


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=OPERATION_IDS)
def test_anonymous_callers_get_401(client, vendor_world, method, path):
    if (method, path) in PUBLIC:
        pytest.skip(PUBLIC[(method, path)])
    before = _counts()

    response = call(client, method, path, vendor_world, {})  # authentication comes before validation

    assert_problem(response, 401)
    assert response["WWW-Authenticate"] == "Bearer"
    assert _counts() == before


@pytest.mark.parametrize("persona", ["no_role_user", "outsider"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=OPERATION_IDS)
def test_outsiders_get_nothing(client, vendor_world, portal_user, request, persona, method, path):
    if (method, path) in OWN_DATA:
        pytest.skip(OWN_DATA[(method, path)])
    if (method, path) in PUBLIC:  # not a user's door at all: its own test checks who gets in
        pytest.skip(PUBLIC[(method, path)])
    user = request.getfixturevalue(persona)
    headers = bearer(user, scope="write")
    before = _counts()
    last_seq = AuditEvent.objects.order_by("-seq").values_list("seq", flat=True).first() or 0

    response = call(client, method, path, vendor_world, headers)
    attempt = 1
    while schema_refused(response) and attempt < CANDIDATES and candidate_request(method, path, attempt):
        response = call(client, method, path, vendor_world, headers, attempt)
        attempt += 1
    # From here on the request got past validation to the view: its answer is what counts.

    text = response.content.decode("utf-8", "replace")
    assert not schema_refused(response), (
        f"no request built from the schema of {method} {path} passed its validation; make the schema "
        f"describe a valid request, or extend this test: {text}"
    )
    if 200 <= response.status_code < 300:
        data = response.json() if response.content else None
        if persona == "no_role_user":
            # A person with no role may list, and find nothing; nothing else.
            assert method == "GET" and isinstance(data, dict) and data.get("items") == [], (
                f"{persona} got {response.status_code} from {method} {path}: {text[:300]}"
            )
            assert data["count"] == 0, f"{persona} counted {method} {path}: {text[:300]}"
        else:
            # A portal user works with their own vendor's things (a list, a preview), never the
            # other vendor's: nothing addressed by the other vendor's ids, nothing that shows it.
            assert "{" not in path, f"{persona} reached the other vendor's object: {method} {path}: {text}"
            assert not _shows_vendor(data, vendor_world, portal_user), (
                f"{persona} was shown the other vendor's data by {method} {path}: {text[:500]}"
            )
    else:
        assert response.status_code in (403, 404), (
            f"{persona} got {response.status_code} from {method} {path}: {text}"
        )
        assert_problem(response, response.status_code)
    assert _counts() == before, f"{persona}'s {method} {path} wrote rows"
    new_actions = set(AuditEvent.objects.filter(seq__gt=last_seq).values_list("action", flat=True))
    assert new_actions <= ALLOWED_AUDIT, f"{persona}'s {method} {path} was audited as {new_actions}"
