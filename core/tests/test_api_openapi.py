"""The OpenAPI document and the docs page: served locally, documenting every failure, fine under our CSP."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser

import pytest
from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from ninja import Router, Schema

from core.api import PROBLEM_CONTENT_TYPE, StewardAPI
from core.testing.personas import bearer
from core.testing.problems import PROBLEM_FIELDS, assert_problem
from vendors.models import Vendor

pytestmark = pytest.mark.django_db

OPENAPI = "/api/v1/openapi.json"
DOCS = "/api/v1/docs"
METHODS = {"get", "put", "post", "delete", "patch"}


class _Assets(HTMLParser):
    """Collects every URL a page loads and every script element's attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.scripts: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        for name in ("src", "href"):
            if attributes.get(name):
                self.urls.append(attributes[name] or "")
        if tag == "script":
            self.scripts.append(attributes)


@pytest.fixture
def document(client):
    response = client.get(OPENAPI)
    assert response.status_code == 200, response.content
    return response.json()


def operations(document):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def test_the_openapi_document_loads_and_lists_the_api(document):
    assert document["openapi"].startswith("3.")
    assert document["info"]["title"] == "Steward API"
    paths = set(document["paths"])
    assert {"/api/v1/vendors/", "/api/v1/accounts/tokens", "/api/v1/audit/events"} <= paths
    assert all(path.startswith("/api/v1/") for path in paths)


def test_every_operation_documents_problem_details_for_its_failures(document):
    problem = document["components"]["schemas"]["Problem"]
    assert set(PROBLEM_FIELDS) <= set(problem["required"])
    shared = document["components"]["responses"]
    for path, method, operation in operations(document):
        expected = {"400", "401", "403", "404", "422"}
        if "requestBody" in operation:
            expected |= {"413", "415"}
        responses = operation["responses"]
        assert expected <= set(responses), f"{method.upper()} {path} documents {sorted(responses)}"
        for status in expected:
            reference = responses[status]["$ref"].rsplit("/", 1)[-1]
            content = shared[reference]["content"]
            assert content[PROBLEM_CONTENT_TYPE]["schema"] == {"$ref": "#/components/schemas/Problem"}


# Operations that a partner's server calls, authenticated by a signature of the body instead of a
# user's token; each says where that is checked.
# --- c1: customers' sales activity ---
# Webhooks authenticate by the signature of their body, not a user; each names the test that checks it.
SIGNED_BY_SENDER = {
    ("post", "/api/v1/customers/webhooks/shopify/orders"): "X-Shopify-Hmac-Sha256: test_shopify_webhook.py",
    (
        "post",
        "/api/v1/service/webhooks/helpdesk",
    ): "X-Steward-Signature: service/tests/test_helpdesk_webhook.py",
}


def test_every_operation_requires_a_token_or_a_session(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["TokenAuth"] == {"type": "http", "scheme": "bearer"}
    for path, method, operation in operations(document):
        if (method, path) in SIGNED_BY_SENDER or operation.get("x-steward-signed"):
            continue
        assert {"TokenAuth": []} in operation.get("security", []), f"{method.upper()} {path} is open"


def test_a_real_problem_matches_the_documented_schema(client, document, vendor_manager):
    response = client.post(
        "/api/v1/vendors/",
        data=json.dumps({"code": 1}),
        content_type="application/json",
        **bearer(vendor_manager),
    )

    data = assert_problem(response, 422)
    properties = document["components"]["schemas"]["Problem"]["properties"]
    assert set(data) <= set(properties)
    field_problem = document["components"]["schemas"]["FieldProblem"]
    assert all(set(error) == set(field_problem["required"]) for error in data["errors"])


def test_the_docs_page_loads_only_local_assets(client):
    response = client.get(DOCS)

    assert response.status_code == 200
    html = response.content.decode()
    assert not re.search(r"https?://", html), "the docs page names an external URL"
    assets = _Assets()
    assets.feed(html)
    assert assets.urls, "the docs page loads no assets?"
    for url in assets.urls:
        assert url.startswith("/static/"), url
        assert finders.find(url.removeprefix("/static/")), f"{url} is not in any installed package"


def test_the_docs_page_needs_no_inline_script_under_our_csp(client):
    response = client.get(DOCS)

    policy = response["Content-Security-Policy"]
    script_src = re.search(r"script-src ([^;]*)", policy)
    assert script_src is not None, policy
    assert "'unsafe-inline'" not in script_src.group(1)
    assert "'unsafe-eval'" not in script_src.group(1)
    assets = _Assets()
    assets.feed(response.content.decode())
    for script in assets.scripts:
        # Either a file from /static/ ('self'), or a JSON data block that the browser never runs.
        assert (script.get("src") or "").startswith("/static/") or script.get("type") == "application/json", (
            script
        )


def test_the_docs_page_points_at_our_document_and_turns_the_validator_badge_off(client):
    html = client.get(DOCS).content.decode()

    settings_block = re.search(
        r'<script type="application/json" id="swagger-settings">(.*?)</script>', html, re.S
    )
    assert settings_block is not None
    swagger = json.loads(settings_block.group(1))
    assert swagger["url"] == OPENAPI
    # Otherwise Swagger UI fetches a badge from validator.swagger.io on any non-localhost host.
    assert swagger["validatorUrl"] is None


def test_the_docs_page_carries_the_csrf_token_for_try_it_out(client, vendor_manager):
    client.force_login(vendor_manager)

    html = client.get(DOCS).content.decode()

    assert re.search(r'data-csrf-token="[A-Za-z0-9]{32,}"', html)


def test_enums_of_different_models_keep_their_own_names(document):
    # Every model has a `Status`; named by short name alone, one would replace the others.
    schemas = document["components"]["schemas"]
    assert "Status" not in schemas
    assert schemas["VendorStatus"]["enum"] == [choice.value for choice in Vendor.Status]
    vendor_out = schemas["VendorOut"]["properties"]["status"]
    assert vendor_out == {"$ref": "#/components/schemas/VendorStatus"}


def _tiny_api(*routers: Router) -> StewardAPI:
    tiny = StewardAPI(title="tiny", urls_namespace="tiny-test-api")
    for index, router in enumerate(routers):
        tiny.add_router(f"/r{index}", router)
    return tiny


def _coloured_thing() -> type[Schema]:
    class ThingOut(Schema):
        colour: str

    return ThingOut


def _weighed_thing() -> type[Schema]:
    class ThingOut(Schema):
        weight: int

    return ThingOut


def test_two_schemas_with_one_name_are_refused_not_silently_merged():
    first, second = Router(), Router()
    first.get("/", response=_coloured_thing())(lambda request: None)
    second.get("/", response=_weighed_thing())(lambda request: None)

    with pytest.raises(ImproperlyConfigured, match="'ThingOut'"):
        _tiny_api(first, second).get_openapi_schema(path_prefix="/tiny/")
