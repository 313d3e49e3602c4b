"""A survey link is signed, expires and works once; forged, expired and reused links get a clear 4xx page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.testing.problems import nothing_written
from service import surveys
from service.models import SurveyInvitation, SurveyResponse
from service.tests.conftest import invite
from service.tests.quality_factories import make_ticket

pytestmark = pytest.mark.django_db


def url(token: str) -> str:
    return reverse("service:survey_answer", args=[token])


def test_the_customer_answers_once_without_logging_in(client):
    invitation, token = invite(make_ticket())
    page = client.get(url(token))
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="viewport"' in html and "How did we do?" in html
    assert "<script" not in html and "style=" not in html  # CSP-safe: no inline script or style

    answered = client.post(url(token), {"csat": "4", "nps": "9", "ces": "2", "comment": "Quick and kind."})
    assert answered.status_code == 200 and "Thank you" in answered.content.decode()
    response = SurveyResponse.objects.get()
    assert (response.csat, response.nps, response.ces, response.ces_scale_max) == (4, 9, 2, 7)
    invitation.refresh_from_db()
    assert invitation.responded_at is not None


def test_a_reused_link_is_refused_and_the_first_answer_stays(client):
    _, token = invite(make_ticket())
    client.post(url(token), {"csat": "5", "nps": "10"})
    with nothing_written(SurveyResponse):
        again = client.post(url(token), {"csat": "1", "nps": "0"})
    assert again.status_code == 409
    assert "already been answered" in again.content.decode()
    assert client.get(url(token)).status_code == 409
    assert SurveyResponse.objects.get().csat == 5


def test_a_second_answer_through_the_service_is_refused():
    _, token = invite(make_ticket())
    surveys.survey_answer(token=token, csat=3)
    with pytest.raises(surveys.LinkRefused) as refused, nothing_written(SurveyResponse):
        surveys.survey_answer(token=token, csat=5)
    assert refused.value.reason == "used"


def test_an_expired_link_is_refused(client):
    invitation, token = invite(make_ticket())
    SurveyInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    with nothing_written(SurveyResponse):
        page = client.post(url(token), {"csat": "5"})
    assert page.status_code == 410
    assert "expired" in page.content.decode()


def test_the_link_lasts_the_configured_number_of_days(settings):
    settings.STEWARD_SURVEY_LINK_DAYS = 3
    invitation, _ = invite(make_ticket())
    remaining = invitation.expires_at - timezone.now()
    assert timedelta(days=2, hours=23) < remaining <= timedelta(days=3)


@pytest.mark.parametrize(
    "forge",
    [
        lambda token, inv: token[:-2] + ("AA" if not token.endswith("AA") else "BB"),  # tampered signature
        lambda token, inv: signing.Signer(salt="another.salt").sign_object({"i": inv.pk, "n": inv.nonce}),
        lambda token, inv: signing.Signer(salt=surveys.LINK_SALT).sign_object({"i": inv.pk, "n": "guessed"}),
        lambda token, inv: signing.Signer(salt=surveys.LINK_SALT).sign_object(
            {"i": inv.pk + 99, "n": inv.nonce}
        ),
        lambda token, inv: "not-a-token",
    ],
    ids=["tampered", "other-salt", "wrong-nonce", "other-invitation", "garbage"],
)
def test_a_forged_link_is_refused(client, forge):
    invitation, token = invite(make_ticket())
    with nothing_written(SurveyResponse, SurveyInvitation):
        page = client.post(url(forge(token, invitation)), {"csat": "5"})
    assert page.status_code == 400
    assert "not valid" in page.content.decode()


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"csat": "6"}, "csat"),
        ({"csat": "0"}, "csat"),
        ({"nps": "11"}, "nps"),
        ({"csat": "4", "ces": "8"}, "ces"),
        ({"comment": "only a comment"}, "csat"),
    ],
)
def test_answers_out_of_range_are_refused_and_the_link_still_works(client, answers, field):
    invitation, token = invite(make_ticket())
    with nothing_written(SurveyResponse):
        page = client.post(url(token), answers)
    assert page.status_code == 422
    assert 'class="error"' in page.content.decode()
    with pytest.raises(ValidationError) as error, nothing_written(SurveyResponse):
        values: dict = {k: int(v) if v.isdigit() else v for k, v in answers.items()}
        surveys.survey_answer(token=token, **values)
    assert field in error.value.message_dict
    invitation.refresh_from_db()
    assert invitation.responded_at is None
    assert client.post(url(token), {"csat": "4"}).status_code == 200
