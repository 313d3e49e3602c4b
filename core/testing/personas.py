"""Test personas and the outsider check every permission test uses.

The *outsider* is a signed-in person who should reach nothing of the object under test:
a vendor portal user of another vendor (for vendor-owned data) or a staff member with no
role (for everything else). ``assert_outsider_blocked`` checks that such a person gets
403/404 on one object, or an empty list from a collection, and that nothing of the object
leaks into the response.
"""

from __future__ import annotations

import json
from typing import Any

from django.test import Client

from accounts.models import User
from accounts.services import token_create


def bearer(user: User, scope: str = "write") -> dict[str, str]:
    issued = token_create(user=user, name="test", scope=scope, days=1)
    return {"HTTP_AUTHORIZATION": f"Bearer {issued.secret}"}


def api_call(
    client: Client, method: str, url: str, user: User | None = None, body: Any = None, scope: str = "write"
) -> Any:
    headers = bearer(user, scope) if user is not None else {}
    kwargs: dict[str, Any] = {"content_type": "application/json", **headers}
    if body is not None:
        kwargs["data"] = json.dumps(body)
    return getattr(client, method.lower())(url, **kwargs)


def assert_outsider_blocked(
    client: Client,
    outsider: User,
    method: str,
    url: str,
    *,
    body: Any = None,
    secrets: tuple[str, ...] = (),
) -> None:
    """OUTSIDER gets 403 or 404 (or an empty page for a list), and none of SECRETS appear in the reply."""
    response = api_call(client, method, url, outsider, body)
    text = response.content.decode("utf-8", "replace")
    if response.status_code == 200 and method.upper() == "GET":
        data = response.json()
        items = data.get("items", data) if isinstance(data, dict) else data
        assert items == [] or items == {}, f"{method} {url} showed an outsider {items!r}"
    else:
        assert response.status_code in (403, 404), (
            f"{method} {url} gave an outsider {response.status_code}: {text}"
        )
        assert response["Content-Type"].startswith("application/problem+json"), text
    # The request id is random hex: a short secret such as "ada" turns up in it now and then.
    haystack = text
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        body.pop("request_id", None)
        haystack = json.dumps(body, ensure_ascii=False)
    for secret in secrets:
        assert secret not in haystack, f"{method} {url} leaked {secret!r} to an outsider"
