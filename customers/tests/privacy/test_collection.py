"""Collection under DPP1: versioned PICS (a published version never changes), forms with obligatory
and voluntary fields, a collection record per customer, and HKID numbers off by default, then only
with a legal basis, encrypted and masked."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.models import AuditEvent
from core.testing.personas import assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers import collection, hkid
from customers.field_access import customer_fields_for
from customers.models import CollectionPolicy, CollectionRecord, CollectionStatement, CustomerHkid
from customers.tests.privacy.conftest import call, make_customer

pytestmark = pytest.mark.django_db

ITEMS = [
    {"field": "given_name", "obligatory": True, "consequence": "We cannot address your order."},
    {"field": "email", "obligatory": True, "consequence": "We cannot send your receipt."},
    {"field": "phone", "obligatory": False, "consequence": ""},
]
PICS = {
    "title": "Online shop PICS",
    "purposes": "Processing orders, delivery, after-sales service.",
    "transferee_classes": "Delivery companies; payment processors.",
    "access_contact": "Data Protection Officer, privacy@example.hk",
    "direct_marketing": "With your consent we use your name and e-mail for offers on our own products.",
}


@pytest.fixture
def published(dpo):
    statement = collection.statement_create(actor=dpo, items=ITEMS, **PICS)
    return collection.statement_publish(actor=dpo, statement=statement)


@pytest.fixture
def web_form(dpo, published):
    return collection.form_create(
        actor=dpo,
        name="Web checkout",
        channel="web",
        statement=published,
        fields=[
            {"field": "given_name", "obligatory": True},
            {"field": "email", "obligatory": True},
            {"field": "phone", "obligatory": False},
        ],
    )


def test_a_published_statement_never_changes_and_a_new_version_is_a_new_row(dpo, published, client):
    with nothing_written(CollectionStatement), pytest.raises(ValidationError):
        collection.statement_update(actor=dpo, statement=published, title="Changed")
    published.title = "Changed behind the service's back"
    with pytest.raises(PermissionError):
        published.save()
    response = call(
        client, "patch", f"/api/v1/customers/privacy/statements/{published.pk}", bearer(dpo), {"title": "x"}
    )
    assert_problem(response, 422, kind="rule")
    second = collection.statement_new_version(actor=dpo, statement=published)
    assert (second.version, second.status, CollectionStatement.objects.count()) == (2, "draft", 2)
    collection.statement_update(actor=dpo, statement=second, title="Online shop PICS (2026)")
    published.refresh_from_db()
    assert published.title == "Online shop PICS"


def test_an_obligatory_item_says_what_happens_if_it_is_not_supplied(dpo):
    items = [{"field": "email", "obligatory": True, "consequence": ""}]
    with nothing_written(CollectionStatement), pytest.raises(ValidationError):
        collection.statement_create(actor=dpo, items=items, **PICS)


def test_a_form_cannot_make_obligatory_what_the_pics_calls_voluntary(dpo, published):
    with pytest.raises(ValidationError):
        collection.form_create(
            actor=dpo,
            name="App",
            channel="app",
            statement=published,
            fields=[{"field": "phone", "obligatory": True}],
        )


def test_a_collection_record_keeps_pics_version_channel_and_time(dpo, web_form, client):
    customer = make_customer("C-400", "Wing", "Lam")
    with nothing_written(CollectionRecord), pytest.raises(ValidationError):
        collection.collection_record(actor=dpo, customer=customer, form=web_form, supplied=["given_name"])
    record = collection.collection_record(
        actor=dpo, customer=customer, form=web_form, supplied=["given_name", "email"]
    )
    assert (record.statement.version, record.channel) == (1, "web")
    listing = call(client, "get", f"/api/v1/customers/{customer.pk}/collections", bearer(dpo)).json()
    assert listing[0]["statement_version"] == 1


def test_hkid_is_not_collected_by_default(dpo, published, web_form, client):
    customer = make_customer("C-401", "Chi Keung", "Tsang")
    items = [*ITEMS, {"field": "hkid", "obligatory": False, "consequence": ""}]
    with pytest.raises(ValidationError):
        collection.statement_create(actor=dpo, items=items, **PICS)
    with nothing_written(CustomerHkid, CollectionRecord), pytest.raises(ValidationError):
        collection.collection_record(
            actor=dpo, customer=customer, form=web_form, supplied=["given_name", "email"], hkid="A123456(3)"
        )
    headers = bearer(dpo)
    with nothing_written(CollectionPolicy):
        response = call(
            client, "post", "/api/v1/customers/privacy/collection-policy", headers, {"hkid_enabled": True}
        )
    assert_problem(response, 422, kind="rule")


def test_hkid_with_a_legal_basis_is_encrypted_and_masked_everywhere(dpo, agent):
    collection.collection_policy_set(
        actor=dpo,
        hkid_enabled=True,
        legal_basis="Money Lenders Ordinance: identity check for instalment plans",
    )
    items = [*ITEMS, {"field": "hkid", "obligatory": False, "consequence": ""}]
    statement = collection.statement_publish(
        actor=dpo, statement=collection.statement_create(actor=dpo, items=items, **PICS)
    )
    form = collection.form_create(
        actor=dpo,
        name="Instalment plan application",
        channel="store",
        statement=statement,
        fields=[
            {"field": "given_name", "obligatory": True},
            {"field": "email", "obligatory": True},
            {"field": "hkid", "obligatory": False},
        ],
    )
    customer = make_customer("C-402", "Ka Wai", "Yip")
    with pytest.raises(ValidationError):
        collection.collection_record(
            actor=dpo,
            customer=customer,
            form=form,
            supplied=["given_name", "email", "hkid"],
            hkid="A123456(4)",
        )
    collection.collection_record(
        actor=dpo, customer=customer, form=form, supplied=["given_name", "email", "hkid"], hkid="a123456(3)"
    )
    stored = CustomerHkid.objects.get(customer=customer)
    assert "123456" not in stored.ciphertext and stored.masked == "A123***(*)"
    assert hkid.decrypt(stored.ciphertext) == "A1234563"
    assert (
        customer_fields_for(dpo, customer, purpose="Instalment plan identity check")["hkid"] == "A123***(*)"
    )
    assert "hkid" not in customer_fields_for(agent, customer)
    assert not AuditEvent.objects.filter(changes__icontains="A1234563").exists()


def test_the_pages_draft_publish_and_add_a_form(client, dpo):
    client.force_login(dpo)
    data = {
        **PICS,
        "level_given_name": "obligatory",
        "consequence_given_name": "We cannot address you.",
        "level_email": "voluntary",
    }
    response = client.post("/customers/consent/statements/new/", data)
    statement = CollectionStatement.objects.get()
    assert response.status_code == 302 and statement.item("email") == {
        "field": "email",
        "obligatory": False,
        "consequence": "",
    }
    client.post(f"/customers/consent/statements/{statement.pk}/publish/")
    statement.refresh_from_db()
    assert statement.status == "published"
    client.post(
        f"/customers/consent/statements/{statement.pk}/forms/new/",
        {"name": "Store tablet", "channel": "store", "level_given_name": "obligatory"},
    )
    assert "Store tablet" in client.get("/customers/consent/").content.decode()
    assert client.get(f"/customers/consent/statements/{statement.pk}/edit/").status_code == 302


def test_outsiders_reach_no_statements(client, outsider, no_role_user, published):
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "get", f"/api/v1/customers/privacy/statements/{published.pk}")
        assert_outsider_blocked(
            client, person, "post", f"/api/v1/customers/privacy/statements/{published.pk}/new-version"
        )
        client.force_login(person)
        assert client.get("/customers/consent/").status_code == 403
