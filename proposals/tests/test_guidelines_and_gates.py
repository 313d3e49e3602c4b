"""Dissemination (002 §6.2): a published guideline version is assigned to roles; each person must
acknowledge that version; the page shows who has and has not; reminders go to those who have not;
and stage gates stop people acting at a stage until they acknowledged its current guidelines."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from proposals import services
from proposals.models import Acknowledgement, Call
from proposals.tests.conftest import full_scores

pytestmark = pytest.mark.django_db


@pytest.fixture
def evaluation_rules(crm):
    guideline = services.guideline_create(actor=crm, title="Evaluating partner proposals", stage="evaluation")
    return services.guideline_publish(
        actor=crm, guideline=guideline, body="Score alone.", roles=["crm_staff", "cs_manager"]
    )


def test_the_page_shows_who_has_and_has_not_acknowledged(client, crm, panelist, evaluation_rules):
    services.guideline_acknowledge(actor=crm, version=evaluation_rules)
    client.force_login(crm)
    page = client.get(reverse("proposals:guidelines")).content.decode()
    assert '<span class="tag" title=' in page and "crystal" in page
    assert '<span class="tag bad">carol</span>' in page


def test_acknowledging_through_the_page(client, panelist, evaluation_rules):
    client.force_login(panelist)
    assert "Waiting for your acknowledgement" in client.get(reverse("proposals:guidelines")).content.decode()
    client.post(reverse("proposals:acknowledge", args=[evaluation_rules.pk]))
    assert Acknowledgement.objects.filter(user=panelist, version=evaluation_rules).exists()


def test_a_new_version_must_be_acknowledged_again(crm, evaluation_rules):
    services.guideline_acknowledge(actor=crm, version=evaluation_rules)
    v2 = services.guideline_publish(
        actor=crm,
        guideline=evaluation_rules.guideline,
        body="Score alone; declare first.",
        roles=["crm_staff"],
    )
    assert services.outstanding_guidelines(crm) == [v2]


def test_someone_it_is_not_assigned_to_cannot_acknowledge_it(marketer, evaluation_rules):
    with pytest.raises(ValidationError, match="not assigned to you"):
        services.guideline_acknowledge(actor=marketer, version=evaluation_rules)


def test_reminders_go_only_to_those_who_have_not_acknowledged(crm, panelist, evaluation_rules):
    panelist.email = "carol@steward.hk"
    panelist.save()
    services.guideline_acknowledge(actor=crm, version=evaluation_rules)
    mail.outbox.clear()
    assert services.guideline_reminders_send() == 1
    assert mail.outbox[0].to == ["carol@steward.hk"]


def test_the_weekly_task_sends_the_reminders(crm, evaluation_rules):
    from proposals.tasks import remind_guideline_acknowledgements

    mail.outbox.clear()
    assert remind_guideline_acknowledgements.delay().get() == 1  # crystal has an address, carol none
    assert mail.outbox[0].to == ["crystal@steward.hk"]


def test_a_panel_member_cannot_score_before_acknowledging_the_evaluation_guideline(
    submitted, panel, crm, evaluation_rules
):
    services.panel_declare(actor=crm, member=panel[0], conflicts=[])
    with pytest.raises(ValidationError, match="Acknowledge 'Evaluating partner proposals' v1"):
        services.scoresheet_save(actor=crm, proposal=submitted[0], scores=full_scores(3))
    services.guideline_acknowledge(actor=crm, version=evaluation_rules)
    assert services.scoresheet_save(actor=crm, proposal=submitted[0], scores=full_scores(3)).pk


def test_calls_cannot_be_issued_before_acknowledging_the_proposal_stage_guideline(crm, vendor):
    guideline = services.guideline_create(actor=crm, title="Issuing calls", stage="proposal")
    services.guideline_publish(
        actor=crm, guideline=guideline, body="Same brief to everyone.", roles=["crm_staff"]
    )
    with pytest.raises(ValidationError, match="Issuing calls"):
        services.call_create(
            actor=crm,
            title="x",
            objectives="y",
            required_sections=["objectives"],
            deadline=timezone.now() + timedelta(days=5),
            vendors=[vendor],
        )
    assert not Call.objects.exists()
