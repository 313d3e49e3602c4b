"""The service-quality pages: they render for the manager, write through the services, refuse bad
input with form errors (nothing written), keep agents to their own reviews and outsiders out."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.testing.problems import nothing_written
from service import qa, staff_reviews, surveys
from service.models import QaReview, Rubric, RubricCategory
from service.tests.conftest import invite
from service.tests.quality_factories import make_ticket

pytestmark = pytest.mark.django_db
PAGES = [
    "/service/quality/surveys/?month=2026-10",
    "/service/quality/codes/",
    "/service/quality/rubrics/",
    "/service/quality/reviews/",
    "/service/quality/staff/",
]


@pytest.fixture
def world(cs_manager, rubric, agent):
    cop = qa.code_of_practice_create(
        actor=cs_manager,
        code="ethics",
        title="Service rules",
        items=[qa.ItemSpec("PRIV-1", "Verify identity", "Verify before disclosing.", "privacy")],
    )
    qa.code_of_practice_publish(actor=cs_manager, code_of_practice=cop)
    _, token = invite(make_ticket(agent=agent, external_id="T-42"))
    surveys.survey_answer(token=token, csat=5, nps=9, ces=2)
    review = qa.qa_assign(
        actor=cs_manager, ticket=make_ticket(agent=agent), reviewer=cs_manager, rubric=rubric
    )
    staff = staff_reviews.staff_review_prepare(
        actor=cs_manager, agent=agent, start=date(2026, 10, 1), end=date(2026, 11, 1)
    )
    return cop, review, staff


def test_every_page_renders_for_the_manager(client, cs_manager, world):
    cop, review, staff = world
    client.force_login(cs_manager)
    for url in [
        *PAGES,
        f"/service/quality/codes/{cop.pk}/",
        f"/service/quality/reviews/{review.pk}/",
        f"/service/quality/staff/{staff.pk}/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    survey_page = client.get(PAGES[0]).content.decode()
    assert "#T-42" in survey_page and "Ratings of 4 or 5" in survey_page and "100.00%" in survey_page
    assert "Service quality" in client.get("/").content.decode()


def test_the_reviewer_scores_on_the_page_and_the_agent_disputes(client, cs_manager, agent_user, world):
    _, review, _ = world
    categories = {c.name: c.pk for c in review.rubric.categories.all()}
    client.force_login(cs_manager)
    out_of_range = {"action": "submit", f"score-{categories['Courtesy']}": "7"}
    with nothing_written(QaReview):
        refused = client.post(f"/service/quality/reviews/{review.pk}/", out_of_range)
    assert refused.status_code == 422 and "choose from 0 to 4" in refused.content.decode()
    scored = {
        "action": "submit",
        f"score-{categories['Courtesy']}": "4",
        f"score-{categories['Accuracy']}": "5",
        f"score-{categories['Verification']}": "1",
        "summary": "Textbook.",
    }
    assert client.post(f"/service/quality/reviews/{review.pk}/", scored).status_code == 302
    client.force_login(agent_user)
    page = client.get(f"/service/quality/reviews/{review.pk}/").content.decode()
    assert "100.00" in page and "Dispute" in page
    client.post(f"/service/quality/reviews/{review.pk}/", {"action": "dispute", "reason": "Wrong ticket."})
    review.refresh_from_db()
    assert review.status == QaReview.Status.DISPUTED and review.dispute_reason == "Wrong ticket."


def test_a_rubric_with_a_zero_weight_is_a_form_error(client, cs_manager):
    client.force_login(cs_manager)
    form = {
        "name": "Page rubric",
        "cat-TOTAL_FORMS": "2",
        "cat-INITIAL_FORMS": "0",
        "cat-0-name": "Courtesy",
        "cat-0-weight": "0",
        "cat-0-scale_min": "0",
        "cat-0-scale_max": "4",
        "cat-0-pass_mark": "100",
    }
    with nothing_written(Rubric, RubricCategory):
        response = client.post("/service/quality/rubrics/", form)
    assert response.status_code == 422 and "A weight is greater than 0." in response.content.decode()
    form["cat-0-weight"] = "100"
    assert client.post("/service/quality/rubrics/", form).status_code == 302
    assert Rubric.objects.filter(name="Page rubric").exists()


def test_an_agent_sees_only_their_own_reviews_on_the_pages(
    client, cs_manager, rubric, world, other_agent_user
):
    _, review, staff = world
    client.force_login(other_agent_user)
    assert "T-42" not in client.get("/service/quality/reviews/").content.decode()
    assert client.get(f"/service/quality/reviews/{review.pk}/").status_code == 404
    assert client.get(f"/service/quality/staff/{staff.pk}/").status_code == 404
    assert client.get("/service/quality/surveys/").status_code == 403  # survey results are for managers


@pytest.mark.parametrize("persona", ["outsider", "no_role_user"])
def test_outsiders_get_no_page(client, world, persona, request):
    client.force_login(request.getfixturevalue(persona))
    _, review, staff = world
    for url in PAGES:
        assert client.get(url).status_code == 403, url
    assert client.get(f"/service/quality/reviews/{review.pk}/").status_code == 404
    assert client.get(f"/service/quality/staff/{staff.pk}/").status_code == 404


def test_the_survey_list_costs_the_same_queries_for_more_rows(client, cs_manager, agent):
    client.force_login(cs_manager)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(PAGES[0]).status_code == 200
        return len(captured)

    invite(make_ticket(agent=agent, resolved_at=datetime(2026, 10, 3, tzinfo=UTC)))
    few = queries()
    for day in range(4, 14):
        invite(make_ticket(agent=agent, resolved_at=datetime(2026, 10, day, tzinfo=UTC)))
    assert queries() == few


def test_the_home_dashboard_shows_what_awaits_each_person(client, cs_manager, agent_user, world):
    client.force_login(cs_manager)
    home = client.get("/").content.decode()
    assert "Reviews for you to score" in home and "Staff reviews to decide" in home
    client.force_login(agent_user)
    home = client.get("/").content.decode()
    assert "Reviews awaiting your answer" in home and "Staff reviews to decide" not in home
