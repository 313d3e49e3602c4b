"""Property-based fuzzing of every API operation from the OpenAPI document (schemathesis).

For each operation in /api/v1/openapi.json, schemathesis generates requests that fit the
schema and requests that break it, and sends them through Django's WSGI application in this
process, as an administrator with a read-write token (the role that reaches every code path).
No request may produce a 5xx; a request that breaks the schema must be refused with a
4xx; and every response must be one the document describes: a documented status, its
content type, a body that fits its schema (problem details for every failure).

Bounded: 25 cases per operation, split between valid and invalid requests, fewer (down to
6) once the API has so many operations that the run would pass ``STEWARD_FUZZ_BUDGET``
cases in all (2,500 by default, about a minute). ``STEWARD_FUZZ_EXAMPLES`` fixes the number
per operation instead. Derandomized, so a run is reproducible and CI cannot flake; raise the
numbers locally to search further. Operations added later are fuzzed automatically.
"""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.core import signals
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from accounts.models import ApiToken
from accounts.services import token_create
from core.testing.factories import UserFactory, VendorFactory
from steward.api import api

pytestmark = [pytest.mark.fuzz, pytest.mark.django_db]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
METHODS = ("get", "put", "post", "patch", "delete")

OPERATIONS = [
    (method.upper(), path)
    for path, item in api.get_openapi_schema()["paths"].items()
    for method in METHODS
    if method in item
]

BUDGET = int(os.environ.get("STEWARD_FUZZ_BUDGET", "2500"))
EXAMPLES = int(os.environ.get("STEWARD_FUZZ_EXAMPLES", "0")) or max(6, min(25, BUDGET // len(OPERATIONS)))
EXAMPLES_PER_MODE = {
    GenerationMode.POSITIVE: (EXAMPLES + 1) // 2,
    GenerationMode.NEGATIVE: max(1, EXAMPLES // 2),
}


@pytest.fixture
def app():
    """Django's WSGI application, kept from closing the test's database connection.

    A real WSGI request fires request_started/request_finished, whose close_old_connections
    would close the connection that holds the test's transaction (Django's test client
    disconnects it for the same reason).
    """
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield WSGIHandler()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


_loaded: dict[str, Any] = {}


@pytest.fixture
def schema(app) -> Any:
    """The document as the application serves it, loaded once per run."""
    if "schema" not in _loaded:
        _loaded["schema"] = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    _loaded["schema"].app = app
    return _loaded["schema"]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Fuzzed user creation hashes passwords; Django's real hasher would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def administrator():
    """Data to find (small ids point at real objects) and the administrator who may reach all of it."""
    vendor = VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")
    VendorFactory(code="kowloon-digital", name="Kowloon Digital Marketing Co.")
    portal: Any = UserFactory(username="priscilla", roles=["vendor_portal"], vendor=vendor)
    token_create(user=portal, name="vendor integration", scope="read", days=30)
    return UserFactory(username="ada", roles=["administrator"])


def test_every_operation_is_fuzzed():
    assert ("POST", "/api/v1/vendors/") in OPERATIONS
    assert len(OPERATIONS) >= 8


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_request_produces_a_server_error(schema, administrator, method, path, mode):
    operation = schema[path][method]
    issued = token_create(user=administrator, name="fuzz", scope="write", days=1)
    auth = {"Authorization": f"Bearer {issued.secret}"}

    @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
    @hypothesis.settings(
        max_examples=EXAMPLES_PER_MODE[mode],
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def fuzz(case: Any) -> None:
        # A fuzzed "revoke token 3" may well hit the token in use: bring it back for every case.
        ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=None)
        response = case.call(headers=auth)
        case.validate_response(response, checks=CHECKS)

    fuzz()
