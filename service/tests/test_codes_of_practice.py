"""Codes of practice (seed 004 §1): a versioned checklist; published versions are frozen and QA cites them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from service import qa
from service.models import CodeItem, CodeOfPractice
from service.tests.conftest import call

pytestmark = pytest.mark.django_db
API = "/api/v1/service/codes"
ITEM = {
    "code": "PRIV-1",
    "title": "Verify identity",
    "text": "Verify before disclosing an order.",
    "category": "privacy",
}


def test_draft_publish_and_new_version_through_the_api(client, cs_manager):
    manager = bearer(cs_manager)
    created = call(
        client, "post", API, manager, {"code": "ethics", "title": "Service rules", "items": [ITEM]}
    )
    assert created.status_code == 201, created.content
    first = created.json()
    assert (first["version"], first["status"]) == (1, "draft")
    added = call(
        client,
        "post",
        f"{API}/{first['id']}/items",
        manager,
        {
            "code": "FAIR-1",
            "title": "Same rules for all",
            "text": "Apply policy equally.",
            "category": "fairness",
        },
    )
    assert added.status_code == 201
    published = call(
        client, "post", f"{API}/{first['id']}/publish", manager, {"effective_from": "2026-11-01"}
    )
    assert published.json()["status"] == "published" and len(published.json()["items"]) == 2

    with nothing_written(CodeItem):
        frozen = call(client, "post", f"{API}/{first['id']}/items", manager, {**ITEM, "code": "NEW-1"})
    assert_problem(frozen, 422, kind="rule")

    second = call(client, "post", f"{API}/{first['id']}/versions", manager).json()
    assert (second["version"], second["status"], len(second["items"])) == (2, "draft", 2)
    call(client, "post", f"{API}/{second['id']}/publish", manager, {})
    statuses = dict(CodeOfPractice.objects.values_list("version", "status"))
    assert statuses == {1: "retired", 2: "published"}


@pytest.mark.parametrize(
    ("item", "field"),
    [({**ITEM, "category": "gossip"}, "items.0.category"), ({**ITEM, "code": ""}, "items.0.code")],
)
def test_bad_items_are_refused_and_nothing_is_written(cs_manager, item, field):
    with nothing_written(CodeOfPractice, CodeItem), pytest.raises(ValidationError) as error:
        qa.code_of_practice_create(actor=cs_manager, code="x", title="X", items=[qa.ItemSpec(**item)])
    assert field in error.value.message_dict


def test_the_api_names_the_bad_field(client, cs_manager):
    manager = bearer(cs_manager)
    with nothing_written(CodeOfPractice, CodeItem):
        response = call(client, "post", API, manager, {"code": "bad code!", "title": "", "items": [ITEM]})
    assert {"code", "title"} <= error_fields(assert_problem(response, 422, kind="validation"))


def test_an_empty_draft_cannot_be_published(cs_manager):
    cop = qa.code_of_practice_create(actor=cs_manager, code="empty", title="Empty")
    with pytest.raises(ValidationError):
        qa.code_of_practice_publish(actor=cs_manager, code_of_practice=cop)


def test_agents_read_codes_but_cannot_write_them(client, cs_manager, agent_user):
    qa.code_of_practice_create(
        actor=cs_manager, code="ethics", title="Service rules", items=[qa.ItemSpec(**ITEM)]
    )
    assert api_call(client, "get", API, agent_user).json()["count"] == 1
    refused = api_call(client, "post", API, agent_user, {"code": "mine", "title": "Mine"})
    assert_problem(refused, 403)
    assert CodeOfPractice.objects.count() == 1


def test_outsiders_are_blocked(client, cs_manager, outsider, no_role_user):
    cop = qa.code_of_practice_create(
        actor=cs_manager, code="ethics", title="Secret rules", items=[qa.ItemSpec(**ITEM)]
    )
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "get", API, secrets=("Secret rules",))
        assert_outsider_blocked(client, person, "get", f"{API}/{cop.pk}", secrets=("Secret rules",))
        assert_outsider_blocked(client, person, "post", f"{API}/{cop.pk}/publish", body={})
    cop.refresh_from_db()
    assert cop.status == CodeOfPractice.Status.DRAFT
