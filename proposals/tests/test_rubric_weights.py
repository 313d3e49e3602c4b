"""Issue 6 item 5: the evaluation rubric's weights are edited on a page (and through the API):
every criterion weighted, whole numbers of at least 1, summing to 100; clear errors and nothing
half-written; audited; fixed once scoring on the call has started."""

from __future__ import annotations

import json
from collections.abc import Mapping

import pytest
from django.urls import reverse

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from proposals import services
from proposals.models import DEFAULT_WEIGHTS, RubricWeight
from proposals.tests.conftest import full_scores

pytestmark = pytest.mark.django_db
API = "/api/v1/proposals"
NEW = {"effectiveness": 30, "compatibility": 30, "cost": 10, "risk": 10, "privacy": 10, "feasibility": 10}


def weights_of(call) -> dict[str, int]:
    return dict(RubricWeight.objects.filter(call=call).values_list("criterion", "weight"))


def form(weights: Mapping[str, object]) -> dict[str, object]:
    return {f"weight-{k}": v for k, v in weights.items()}


def test_crm_staff_change_the_weights_on_the_page_and_it_is_audited(client, crm, call):
    client.force_login(crm)
    page = client.get(reverse("proposals:rubric_weights", args=[call.pk])).content.decode()
    assert 'name="weight-effectiveness" value="25"' in page
    response = client.post(reverse("proposals:rubric_weights", args=[call.pk]), form(NEW))
    assert response.status_code == 302
    assert weights_of(call) == NEW
    event = AuditEvent.objects.filter(object_type="proposals.call", object_id=str(call.pk)).first()
    assert event is not None and event.changes["rubric_weights"] == [dict(DEFAULT_WEIGHTS), NEW]
    assert "Edit the weights" in client.get(reverse("proposals:call", args=[call.pk])).content.decode()


@pytest.mark.parametrize(
    ("posted", "message"),
    [
        (NEW | {"effectiveness": 40}, "must sum to 100 (they sum to 110)"),
        (NEW | {"effectiveness": 50, "cost": -10}, "cannot be negative"),
        (NEW | {"effectiveness": 40, "cost": 0}, "at least 1"),
        (NEW | {"risk": "ten"}, "must be a whole number"),
        ({k: v for k, v in NEW.items() if k != "privacy"} | {"effectiveness": 40}, "missing: Privacy impact"),
    ],
)
def test_bad_weights_on_the_page_say_what_is_wrong_keep_the_input_and_write_nothing(
    client, crm, call, posted, message
):
    client.force_login(crm)
    with nothing_written(RubricWeight):
        response = client.post(reverse("proposals:rubric_weights", args=[call.pk]), form(posted))
    assert response.status_code == 400
    html = response.content.decode()
    assert message in html
    assert f'name="weight-effectiveness" value="{posted["effectiveness"]}"' in html
    assert weights_of(call) == dict(DEFAULT_WEIGHTS)


def test_through_the_api(client, crm, call):
    response = api_call(client, "put", f"{API}/calls/{call.pk}/weights", crm, {"weights": NEW})
    assert response.status_code == 200, response.content
    assert response.json() == {"call_id": call.pk, "weights": NEW, "editable": True}
    assert api_call(client, "get", f"{API}/calls/{call.pk}/weights", crm).json()["weights"] == NEW
    headers = bearer(crm)
    with nothing_written(RubricWeight):
        bad = client.put(
            f"{API}/calls/{call.pk}/weights",
            data=json.dumps({"weights": NEW | {"cost": -5, "effectiveness": 45}}),
            content_type="application/json",
            **headers,
        )
    assert "cannot be negative" in str(assert_problem(bad, 422))


def test_the_weights_are_fixed_once_scoring_started(client, crm, call, submitted, panel):
    services.panel_declare(actor=crm, member=panel[0], conflicts=[])
    services.scoresheet_save(actor=crm, proposal=submitted[0], scores=full_scores(3))  # a draft is enough
    headers = bearer(crm)
    with nothing_written(RubricWeight):
        response = client.put(
            f"{API}/calls/{call.pk}/weights",
            data=json.dumps({"weights": NEW}),
            content_type="application/json",
            **headers,
        )
    assert "Scoring on this call has started" in str(assert_problem(response, 422))
    client.force_login(crm)
    page = client.get(reverse("proposals:rubric_weights", args=[call.pk])).content.decode()
    assert "the weights are fixed" in page and "<form" not in page.split("<main", 1)[-1].split("</main>")[0]
    refused = client.post(reverse("proposals:rubric_weights", args=[call.pk]), form(NEW))
    assert refused.status_code == 400 and weights_of(call) == dict(DEFAULT_WEIGHTS)


def test_a_panel_member_from_another_role_may_not_change_them(client, call, panelist):
    client.force_login(panelist)
    assert client.get(reverse("proposals:rubric_weights", args=[call.pk])).status_code in (403, 404)
    # The refusal itself is audited (an access denied), so only the weights are watched.
    assert client.post(reverse("proposals:rubric_weights", args=[call.pk]), form(NEW)).status_code == 404
    response = api_call(client, "put", f"{API}/calls/{call.pk}/weights", panelist, {"weights": NEW})
    assert response.status_code in (403, 404)
    assert weights_of(call) == dict(DEFAULT_WEIGHTS)


@pytest.mark.parametrize("persona", ["outsider", "no_role_user", "portal_user"])
def test_outsiders_and_vendors_reach_nothing(client, call, persona, request):
    person = request.getfixturevalue(persona)
    assert_outsider_blocked(
        client, person, "get", f"{API}/calls/{call.pk}/weights", secrets=("effectiveness",)
    )
    assert_outsider_blocked(client, person, "put", f"{API}/calls/{call.pk}/weights", body={"weights": NEW})
    client.force_login(person)
    assert client.get(reverse("proposals:rubric_weights", args=[call.pk])).status_code in (403, 404)
    assert weights_of(call) == dict(DEFAULT_WEIGHTS)
