# mypy: disable-error-code="attr-defined"
"""Shared data builders for the sales-activity tests (issue 7 items 1, 4, 10)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from accounts.models import User
from core.testing.factories import UserFactory

FIXTURES = Path(__file__).parent / "fixtures"


def person(role: str, username: str | None = None) -> User:
    created = UserFactory(username=username or role.replace("_", "."), roles=[role])
    found: User = User.objects.get(pk=created.pk)
    return found


def shopify_order() -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / "shopify_order_create.json").read_text(encoding="utf-8"))
    return data


def order(external_id: str = "O-1", **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": external_id,
        "customer_id": "C-1",
        "channel": "web",
        "status": "paid",
        "placed_at": "2026-05-03T10:00:00+08:00",
        "lines": [
            {
                "sku": "TEA-1",
                "product": "Jasmine tea",
                "category": "Food & Beverage",
                "quantity": 2,
                "unit_price": "45.50",
            },
            {
                "sku": "SER-1",
                "product": "Serum",
                "category": "Beauty & Skincare",
                "quantity": 1,
                "unit_price": "300",
            },
        ],
    }
    record.update(overrides)
    return record


def customer(external_id: str = "C-1", **overrides: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "external_id": external_id,
        "given_name": "Tai Man",
        "family_name": "Chan",
        "chinese_name": "陳大文",
        "email": "chan.taiman@gmail.com",
        "phone": "+852 9123 5678",
        "district": "Sha Tin",
    }
    record.update(overrides)
    return record


class Caller:
    """API calls as one user with a token made up front (so that a nothing_written block around
    a call does not count the token's own audit row)."""

    def __init__(self, client: Any, user: User) -> None:
        from core.testing.personas import bearer

        self.client = client
        self.headers = bearer(user)

    def __call__(self, method: str, url: str, body: Any = None) -> Any:
        kwargs: dict[str, Any] = {"content_type": "application/json", **self.headers}
        if body is not None:
            kwargs["data"] = json.dumps(body)
        return getattr(self.client, method.lower())(url, **kwargs)
