"""QA reviews through the API: a manager assigns, the reviewer scores citing the code of practice, the
agent acknowledges or disputes with a reason, another manager upholds or amends. Agents see their own."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from service import qa
from service.models import QaCategoryScore, QaReview
from service.tests.conftest import call
from service.tests.quality_factories import make_ticket

pytestmark = pytest.mark.django_db
API = "/api/v1/service/qa-reviews"


@pytest.fixture
def code_items(cs_manager):
    cop = qa.code_of_practice_create(
        actor=cs_manager,
        code="ethics",
        title="Service rules",
        items=[
            qa.ItemSpec("PRIV-1", "Verify identity", "Verify before disclosing.", "privacy"),
            qa.ItemSpec("COUR-1", "Be polite", "Greet and close politely.", "courtesy"),
        ],
    )
    qa.code_of_practice_publish(actor=cs_manager, code_of_practice=cop)
    return {i.code: i.pk for i in cop.items.all()}


def scores(rubric, courtesy, accuracy, verification):
    c = {c.name: c.pk for c in rubric.categories.all()}
    return [
        {"category_id": c["Courtesy"], "selected": courtesy},
        {"category_id": c["Accuracy"], "selected": accuracy, "note": "Quoted the wrong refund amount."},
        {"category_id": c["Verification"], "selected": verification},
    ]


@pytest.fixture
def submitted(client, cs_manager, rubric, agent, code_items):
    manager = bearer(cs_manager)
    ticket = make_ticket(agent=agent, external_id="Z-900")
    assigned = call(
        client,
        "post",
        API,
        manager,
        {"ticket_id": ticket.pk, "reviewer_id": cs_manager.pk, "rubric_id": rubric.pk},
    )
    assert assigned.status_code == 201, assigned.content
    review_id = assigned.json()["id"]
    body = {
        "scores": scores(rubric, 3, 4, 1),
        "summary": "Good call.",
        "cited_item_ids": [code_items["COUR-1"]],
    }
    done = call(client, "post", f"{API}/{review_id}/submit", manager, body)
    assert done.status_code == 200, done.content
    assert done.json()["score"] == "87.50" and done.json()["status"] == "submitted"
    assert done.json()["cited_item_ids"] == [code_items["COUR-1"]]
    return QaReview.objects.get(pk=review_id)


def test_the_agent_acknowledges(client, submitted, agent_user):
    response = api_call(client, "post", f"{API}/{submitted.pk}/acknowledge", agent_user)
    assert response.status_code == 200 and response.json()["status"] == "acknowledged"


def test_a_dispute_needs_a_reason_and_is_resolved_by_another_manager(
    client, submitted, agent_user, cs_manager, second_manager, rubric
):
    agent = bearer(agent_user)
    with nothing_written(QaReview):
        blank = call(client, "post", f"{API}/{submitted.pk}/dispute", agent, {"reason": ""})
    assert "reason" in error_fields(assert_problem(blank, 422))
    disputed = call(
        client, "post", f"{API}/{submitted.pk}/dispute", agent, {"reason": "Verified by SMS first."}
    )
    assert disputed.json()["status"] == "disputed"

    reviewer = api_call(
        client, "post", f"{API}/{submitted.pk}/resolve", cs_manager, {"outcome": "upheld", "note": "Stands."}
    )
    assert_problem(reviewer, 403)  # the reviewer does not judge their own review
    manager = bearer(second_manager)
    body = {
        "outcome": "amended",
        "note": "Accuracy was fine on the recording.",
        "scores": scores(rubric, 3, 5, 1),
    }
    resolved = call(client, "post", f"{API}/{submitted.pk}/resolve", manager, body)
    assert resolved.status_code == 200, resolved.content
    data = resolved.json()
    assert (data["status"], data["outcome"], data["original_score"], data["score"]) == (
        "resolved",
        "amended",
        "87.50",
        "95.00",
    )
    assert (
        call(client, "post", f"{API}/{submitted.pk}/dispute", agent, {"reason": "again"}).status_code == 422
    )


def test_an_upheld_dispute_keeps_the_score(client, submitted, agent_user, second_manager):
    api_call(client, "post", f"{API}/{submitted.pk}/dispute", agent_user, {"reason": "Too harsh."})
    upheld = api_call(
        client,
        "post",
        f"{API}/{submitted.pk}/resolve",
        second_manager,
        {"outcome": "upheld", "note": "Stands."},
    )
    assert (upheld.json()["outcome"], upheld.json()["score"], upheld.json()["original_score"]) == (
        "upheld",
        "87.50",
        "87.50",
    )


def test_scores_out_of_range_are_refused_and_nothing_is_written(client, cs_manager, rubric, agent):
    review = qa.qa_assign(
        actor=cs_manager, ticket=make_ticket(agent=agent), reviewer=cs_manager, rubric=rubric
    )
    manager = bearer(cs_manager)
    with nothing_written(QaCategoryScore):
        response = call(
            client, "post", f"{API}/{review.pk}/submit", manager, {"scores": scores(rubric, 9, 4, 1)}
        )
    assert_problem(response, 422, kind="rule")
    review.refresh_from_db()
    assert review.status == QaReview.Status.ASSIGNED and review.score is None


def test_only_published_code_items_may_be_cited(client, cs_manager, rubric, agent):
    draft = qa.code_of_practice_create(
        actor=cs_manager, code="draft", title="Draft", items=[qa.ItemSpec("X-1", "x", "x", "ethics")]
    )
    review = qa.qa_assign(
        actor=cs_manager, ticket=make_ticket(agent=agent), reviewer=cs_manager, rubric=rubric
    )
    body = {"scores": scores(rubric, 3, 4, 1), "cited_item_ids": [draft.items.get().pk]}
    manager = bearer(cs_manager)
    with nothing_written(QaCategoryScore):
        response = call(client, "post", f"{API}/{review.pk}/submit", manager, body)
    assert "cited_item_ids" in error_fields(assert_problem(response, 422))


def test_nobody_reviews_their_own_conversation(client, rubric, agent, agent_user, second_manager):
    agent_user.groups.add(*Group.objects.filter(name="cs_manager"))  # a team lead who also answers tickets
    manager = bearer(second_manager)
    body = {"ticket_id": make_ticket(agent=agent).pk, "reviewer_id": agent_user.pk, "rubric_id": rubric.pk}
    with nothing_written(QaReview):
        response = call(client, "post", API, manager, body)
    assert "reviewer_id" in error_fields(assert_problem(response, 422))


def test_an_agent_sees_only_their_own_reviews(client, submitted, other_agent_user, agent_user):
    mine = api_call(client, "get", API, agent_user).json()
    assert [r["id"] for r in mine["items"]] == [submitted.pk]
    assert api_call(client, "get", API, other_agent_user).json()["items"] == []
    other = api_call(client, "get", f"{API}/{submitted.pk}", other_agent_user)
    assert_problem(other, 404)
    ack = api_call(client, "post", f"{API}/{submitted.pk}/acknowledge", other_agent_user)
    assert_problem(ack, 404)


def test_outsiders_are_blocked(client, submitted, outsider, no_role_user):
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "get", API, secrets=("Z-900",))
        assert_outsider_blocked(client, person, "get", f"{API}/{submitted.pk}")
        assert_outsider_blocked(client, person, "post", f"{API}/{submitted.pk}/dispute", body={"reason": "x"})
    submitted.refresh_from_db()
    assert submitted.status == QaReview.Status.SUBMITTED
