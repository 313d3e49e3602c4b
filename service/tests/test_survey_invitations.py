"""Invitations follow resolution: the ticket_resolved signal, send_surveys, the API; one per ticket."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from service import surveys
from service.models import SurveyInvitation, Ticket
from service.signals import ticket_resolved
from service.tests.conftest import call, invite
from service.tests.quality_factories import make_ticket, make_user

pytestmark = pytest.mark.django_db
API = "/api/v1/service/surveys/invitations"


def test_resolving_a_ticket_sends_the_survey_e_mail_after_commit(
    django_capture_on_commit_callbacks, settings
):
    settings.STEWARD_PUBLIC_URL = "https://steward.example.hk"
    ticket = make_ticket()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_resolved.send(sender=Ticket, ticket=ticket)
    invitation = SurveyInvitation.objects.get(ticket=ticket)
    assert invitation.sent_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert ticket.customer is not None and message.to == [ticket.customer.email]
    assert f"https://steward.example.hk/service/survey/{surveys.survey_token(invitation)}/" in message.body


def test_send_surveys_invites_every_resolved_ticket_without_an_invitation(django_capture_on_commit_callbacks):
    recent = timezone.now() - timedelta(days=2)
    due = [make_ticket(resolved_at=recent) for _ in range(3)]
    invite(make_ticket(resolved_at=recent))  # already invited
    make_ticket(resolved_at=recent, status=Ticket.Status.OPEN)  # reopened
    make_ticket(resolved_at=recent, is_spam=True)
    make_ticket(resolved_at=recent, customer__email="")
    make_ticket(resolved_at=timezone.now() - timedelta(days=90))  # too old for the default window
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_surveys")
    assert set(
        SurveyInvitation.objects.filter(sent_at__isnull=False).values_list("ticket_id", flat=True)
    ) == {t.pk for t in due}
    assert len(mail.outbox) == 3
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_surveys", within_days=0)  # 0 = every age: the old one now, nobody twice
    assert SurveyInvitation.objects.count() == 5
    assert len(mail.outbox) == 4


def test_a_manager_invites_through_the_api_once(client):
    manager = bearer(make_user(username="mandy", roles=["cs_manager"]))
    ticket = make_ticket()
    created = call(client, "post", API, manager, {"ticket_id": ticket.pk})
    assert created.status_code == 201, created.content
    assert created.json()["ticket_id"] == ticket.pk and created.json()["response"] is None
    with nothing_written(SurveyInvitation):
        again = call(client, "post", API, manager, {"ticket_id": ticket.pk})
    assert "ticket_id" in error_fields(assert_problem(again, 422, kind="rule"))
    listed = call(client, "get", API, manager).json()
    assert listed["count"] == 1 and "nonce" not in listed["items"][0]


@pytest.mark.parametrize(
    "ticket_kwargs",
    [{"status": Ticket.Status.OPEN, "resolved_at": None}, {"is_merged": True}, {"customer": None}],
    ids=["unresolved", "merged", "no-customer"],
)
def test_tickets_that_may_not_be_surveyed_are_refused(client, ticket_kwargs):
    manager = bearer(make_user(username="mandy", roles=["cs_manager"]))
    ticket = make_ticket(**ticket_kwargs)
    with nothing_written(SurveyInvitation):
        response = call(client, "post", API, manager, {"ticket_id": ticket.pk})
    assert_problem(response, 422, kind="rule")


def test_bad_invitation_input_is_a_validation_problem(client):
    manager = bearer(make_user(username="mandy", roles=["cs_manager"]))
    with nothing_written(SurveyInvitation):
        response = call(client, "post", API, manager, {"ticket_id": "x", "extra": 1})
    assert {"ticket_id", "extra"} <= error_fields(assert_problem(response, 422, kind="validation"))


def test_outsiders_see_no_invitation_and_cannot_invite(client, outsider, no_role_user):
    invitation, _ = invite(make_ticket(external_id="SECRET-77"))
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "get", API, secrets=("SECRET-77",))
        assert_outsider_blocked(client, person, "get", f"{API}/{invitation.pk}", secrets=("SECRET-77",))
        assert_outsider_blocked(client, person, "post", API, body={"ticket_id": invitation.ticket_id})
    assert SurveyInvitation.objects.count() == 1


def test_an_agent_cannot_send_surveys(client, agent_user):
    ticket = make_ticket()
    response = api_call(client, "post", API, agent_user, {"ticket_id": ticket.pk})
    assert response.status_code in (403, 404)
    assert not SurveyInvitation.objects.exists()


def test_the_month_summary_shows_rates_with_their_definitions(client, cs_manager, agent_user):
    for rating in (5, 4, 2):
        _, token = invite(make_ticket())
        surveys.survey_answer(token=token, csat=rating, nps=rating * 2)
    invite(make_ticket())
    summary = api_call(client, "get", "/api/v1/service/surveys/summary?month=2026-10", cs_manager).json()
    assert (summary["invited"], summary["responded"], summary["response_rate"]) == (4, 3, "75.00")
    assert (summary["csat_pct"], summary["csat_sample"], summary["nps"]) == (
        "66.67",
        3,
        "0.00",
    )  # NPS 10, 8, 4: 33.33 − 33.33
    assert "4 or 5" in summary["definitions"]["csat_pct"]
    assert_problem(api_call(client, "get", "/api/v1/service/surveys/summary?month=2026-13", cs_manager), 422)
    assert_problem(api_call(client, "get", "/api/v1/service/surveys/summary?month=2026-10", agent_user), 403)
