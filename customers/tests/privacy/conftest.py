"""Fixtures for the privacy tests: role personas, a purpose, customers with and without consent."""

from __future__ import annotations

import pytest

from core.testing.factories import UserFactory
from customers import marketing
from customers.models import ConsentEntry, Customer, MarketingChannel

NOTICE = (
    "We would like to use your name and e-mail address to send you offers on our own products. "
    "We may not do so without your consent. Untick the box if you do not agree."
)


@pytest.fixture
def marketer():
    return UserFactory(username="mandy", roles=["marketing"])


@pytest.fixture
def agent():
    return UserFactory(username="kelvin", roles=["cs_agent"])


@pytest.fixture
def crm():
    return UserFactory(username="connie", roles=["crm_staff"])


@pytest.fixture
def purpose(dpo):
    return marketing.purpose_create(actor=dpo, code="own-offers", name="Offers on our own products")


def make_customer(ref: str, given: str, family: str, **extra) -> Customer:
    return Customer.objects.create(
        source="shopify",
        external_id=ref,
        given_name=given,
        family_name=family,
        email=extra.pop("email", f"{given.lower().replace(' ', '')}.{family.lower()}@example.hk"),
        phone=extra.pop("phone", "+85291234567"),
        district="Sha Tin",
        **extra,
    )


@pytest.fixture
def chan(purpose, dpo):
    """Consented to e-mail offers online."""
    customer = make_customer("C-100", "Tai Man", "Chan")
    grant(customer, purpose, dpo)
    return customer


@pytest.fixture
def wong(purpose, dpo):
    """Consented, then opted out of e-mail."""
    customer = make_customer("C-101", "Siu Ming", "Wong", email="wong.siuming@example.hk")
    grant(customer, purpose, dpo)
    marketing.opt_out(actor=dpo, customer=customer, channel="email", source="Reply STOP to e-mail")
    return customer


@pytest.fixture
def lee():
    """Never asked: silence is not consent."""
    return make_customer("C-102", "Ka Yan", "Lee", email="lee.kayan@example.hk")


def grant(customer, purpose, actor, channel=MarketingChannel.EMAIL, **extra):
    return marketing.consent_grant(
        actor=actor,
        customer=customer,
        purpose=purpose,
        channel=channel,
        method=extra.pop("method", ConsentEntry.Method.ONLINE_TICK),
        notice_text=NOTICE,
        source=extra.pop("source", "Checkout page, web shop"),
        **extra,
    )


def call(client, method: str, url: str, headers: dict[str, str], body=None):
    """An API call with HEADERS made beforehand (``bearer(user)``), so that making the token is
    not counted inside a ``nothing_written`` block."""
    import json

    kwargs = {"content_type": "application/json", **headers}
    if body is not None:
        kwargs["data"] = json.dumps(body, default=str)
    return getattr(client, method.lower())(url, **kwargs)
