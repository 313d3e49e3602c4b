"""The public survey page on a phone: fits the screen, large touch targets, answers once, no login."""

from __future__ import annotations

import pytest
from django.urls import reverse

from service.models import SurveyResponse
from service.tests.conftest import invite
from service.tests.quality_factories import make_ticket

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PHONE = {"width": 360, "height": 740}


def test_a_customer_answers_on_a_phone(page):
    _, token = invite(make_ticket(external_id="88231"))
    url = reverse("service:survey_answer", args=[token])
    page.set_viewport_size(PHONE)
    page.goto(url)
    assert page.get_by_role("heading", name="How did we do?").is_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # no sideways scrolling
    five = page.locator("label.choice", has_text="5").first
    box = five.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 44  # a thumb-sized target

    five.click()
    page.locator("fieldset.scale-11 label.choice").nth(9).click()  # NPS 9
    page.get_by_label("Anything else").fill("The agent called me back as promised.")
    page.get_by_role("button", name="Send my answers").click()
    assert page.get_by_role("heading", name="Thank you!").is_visible()
    response = SurveyResponse.objects.get()
    assert (response.csat, response.nps, response.ces) == (5, 9, None)

    reply = page.goto(url)
    assert reply is not None and reply.status == 409
    assert page.get_by_role("heading", name="Already answered").is_visible()
