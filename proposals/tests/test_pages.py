"""The pages: CRM staff run a call, the panel scores on the page, the vendor writes and submits
through the portal page, decisions land in the strategy page."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from proposals import services
from proposals.models import Call, ComponentDecision, Initiative, Proposal, Scoresheet
from proposals.tests.conftest import SECTIONS, components, full_scores

pytestmark = pytest.mark.django_db


def test_crm_staff_create_and_open_a_call_on_the_page(client, crm, vendor, other_vendor):
    client.force_login(crm)
    deadline = (timezone.localtime() + timedelta(days=7)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(
        reverse("proposals:call_create"),
        {
            "title": "Peak season service strategy",
            "objectives": "Hold first reply under 1 hour in November.",
            "sections": ["objectives", "kpis"],
            "vendors": [vendor.pk, other_vendor.pk],
            "deadline": deadline,
        },
    )
    call = Call.objects.get()
    assert response.status_code == 302 and call.invitations.count() == 2
    client.post(reverse("proposals:call_status", args=[call.pk]), {"status": "open"})
    call.refresh_from_db()
    assert call.status == "open"
    page = client.get(reverse("proposals:call", args=[call.pk])).content.decode()
    assert "Hold first reply under 1 hour" in page and "Close submissions" in page


def test_a_bad_call_form_keeps_the_input_and_says_what_is_wrong(client, crm, vendor):
    client.force_login(crm)
    response = client.post(
        reverse("proposals:call_create"),
        {"title": "Keep me", "objectives": "", "vendors": [vendor.pk], "deadline": ""},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'value="Keep me"' in html and "State the company objectives" in html
    assert not Call.objects.exists()


def test_the_vendor_writes_saves_and_submits_through_the_portal_page(client, call, portal_user):
    client.force_login(portal_user)
    url = reverse("proposals:call", args=[call.pk])
    form = {f"section-{k}": v for k, v in SECTIONS.items()}
    form |= {
        "component_count": "3",
        "c0-title": "Live chat in Cantonese",
        "c0-objective": "service",
        "c0-cost": "50000",
    }
    client.post(url, {**form, "action": "save"})
    proposal = Proposal.objects.get()
    assert (
        proposal.status == "draft"
        and proposal.versions.get().components[0]["title"] == "Live chat in Cantonese"
    )

    client.post(url, {**form, "action": "submit"})
    proposal.refresh_from_db()
    assert proposal.status == "submitted" and proposal.versions.get().is_submitted
    assert "Version 1 submitted" in client.get(url).content.decode()


def test_a_portal_submission_missing_a_required_section_keeps_the_text(client, call, portal_user):
    client.force_login(portal_user)
    response = client.post(
        reverse("proposals:call", args=[call.pk]),
        {"section-objectives": "Only this", "component_count": "1", "c0-title": "A", "action": "submit"},
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Fill the required sections" in html and "Only this" in html
    assert not Proposal.objects.filter(versions__submitted_at__isnull=False).exists()


def test_the_panel_scores_blind_on_the_page(client, submitted, panel, crm, panelist):
    for member in panel:
        services.panel_declare(actor=member.user, member=member, conflicts=[])
    services.scoresheet_save(
        actor=crm, proposal=submitted[0], scores=full_scores(2), comments="thin on data", submit=True
    )
    client.force_login(panelist)
    url = reverse("proposals:proposal", args=[submitted[0].pk])
    assert "crystal" not in client.get(url).content.decode()  # not before submitting
    client.post(
        reverse("proposals:proposal_action", args=[submitted[0].pk, "scores"]),
        {**{f"score-{c}": "4" for c in full_scores(0)}, "submit": "1"},
    )
    assert Scoresheet.objects.get(member__user=panelist).submitted_at is not None
    assert "crystal" in client.get(url).content.decode()


def test_deciding_on_the_page_puts_the_initiative_into_the_strategy(client, submitted, crm):
    client.force_login(crm)
    client.post(
        reverse("proposals:proposal_action", args=[submitted[0].pk, "decide"]),
        {"component_key": "winback", "outcome": "adopt", "reason": "Good pilot."},
    )
    assert ComponentDecision.objects.get().outcome == "adopt"
    initiative = Initiative.objects.get()
    assert initiative.vendor_id == submitted[0].vendor_id
    page = client.get(reverse("proposals:strategy")).content.decode()
    assert "WhatsApp win-back journey" in page and "Harbour Call Centre Ltd" in page


def test_the_diff_page_shows_what_changed(client, submitted, crm, portal_user, call):
    proposal = submitted[0]
    cr = services.change_request_create(
        actor=crm, proposal=proposal, section="risks", request="Name the fallback."
    )
    services.proposal_save_draft(
        actor=portal_user,
        call=call,
        sections={**SECTIONS, "risks": "Fallback: SMS via Twilio HK."},
        components=components(),
    )
    services.proposal_submit(actor=portal_user, proposal=proposal, responses={cr.pk: "Named."})
    client.force_login(crm)
    html = client.get(
        reverse("proposals:proposal", args=[proposal.pk]), {"from": 1, "to": 2}
    ).content.decode()
    assert 'class="diff-replace"' in html and "Fallback: SMS via Twilio HK." in html


def test_crm_pages_render(client, crm, submitted):
    client.force_login(crm)
    for name in ("proposals:home", "proposals:guidelines", "proposals:criteria", "proposals:strategy"):
        assert client.get(reverse(name)).status_code == 200, name
