"""The privacy demo loads through the services and only once."""

from __future__ import annotations

import pytest

from core.testing.factories import UserFactory
from customers.demo import seed_consent
from customers.models import CollectionStatement, ConsentEntry, Processor, Suppression

pytestmark = pytest.mark.django_db


def test_the_privacy_demo_loads_once():
    UserFactory(username="dpo", roles=["data_protection_officer"])
    UserFactory(username="crm.staff", roles=["crm_staff"])
    UserFactory(username="cs.agent", roles=["cs_agent"])
    seed_consent()
    seed_consent()
    assert list(CollectionStatement.objects.values_list("version", "status")) == [
        (2, "published"),
        (1, "published"),
    ]
    assert ConsentEntry.objects.filter(transferee__isnull=False, method="written").count() == 1
    assert Suppression.objects.count() == 1
    assert not Processor.objects.exists(), "no Harbour Call vendor in this database"
