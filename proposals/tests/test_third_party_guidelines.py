"""Issue 6 item 2, "third-party staff acknowledge too": a guideline version published to a vendor
is acknowledged by that vendor's portal users in the portal; the status page lists them with
acknowledged / not yet; reminders reach them; the proposal-stage gate refuses a portal user's
submission until they acknowledged the current proposal guideline; and a vendor sees only the
guidelines assigned to it."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from core.testing.factories import UserFactory
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from proposals import services
from proposals.models import Acknowledgement, GuidelineVersion, ProposalVersion
from proposals.tests.conftest import SECTIONS, components
from vendors.models import ThirdPartyWorker

pytestmark = pytest.mark.django_db
API = "/api/v1/proposals"


def send(client, method, url, user, body=None):
    """The token is signed before, so that only the request itself is inside `nothing_written`."""
    headers = bearer(user)
    return lambda: getattr(client, method)(
        url, content_type="application/json", data=json.dumps(body or {}), **headers
    )


@pytest.fixture
def proposal_rules(crm, vendor):
    """The proposal-stage guideline, v1 assigned to CRM staff and to the first vendor only."""
    guideline = services.guideline_create(actor=crm, title="Writing proposals for us", stage="proposal")
    version = services.guideline_publish(
        actor=crm,
        guideline=guideline,
        body="One proposal per call; no customer data before a contract.",
        roles=["crm_staff"],
        vendors=[vendor],
    )
    services.guideline_acknowledge(actor=crm, version=version)  # so CRM staff may still issue calls
    return version


@pytest.fixture
def drafted(call, portal_user):
    return services.proposal_save_draft(
        actor=portal_user, call=call, sections=SECTIONS, components=components()
    )


def test_publishing_to_a_vendor_assigns_its_portal_users_and_no_one_elses(
    proposal_rules, portal_user, vendor_b_user
):
    people = set(services.assignees(proposal_rules).values_list("username", flat=True))
    assert "priscilla" in people and "bobby" not in people
    assert services.outstanding_guidelines(portal_user) == [proposal_rules]
    assert services.outstanding_guidelines(vendor_b_user) == []


def test_the_portal_user_reads_and_acknowledges_it_in_the_portal(client, proposal_rules, portal_user):
    client.force_login(portal_user)
    page = client.get(reverse("proposals:guidelines")).content.decode()
    assert "Writing proposals for us" in page and "I have read and will follow version 1" in page
    client.post(reverse("proposals:acknowledge", args=[proposal_rules.pk]))
    assert Acknowledgement.objects.filter(user=portal_user, version=proposal_rules).exists()
    page = client.get(reverse("proposals:guidelines")).content.decode()
    assert "You acknowledged version 1" in page


def test_through_the_api_too_and_an_old_version_is_refused(client, crm, vendor, proposal_rules, portal_user):
    listed = api_call(client, "get", f"{API}/guidelines", portal_user).json()["items"]
    assert [g["title"] for g in listed] == ["Writing proposals for us"]
    assert listed[0]["current"]["vendor_ids"] == [vendor.pk]
    outstanding = api_call(client, "get", f"{API}/guidelines/outstanding", portal_user).json()
    assert [v["id"] for v in outstanding] == [proposal_rules.pk]

    v2 = services.guideline_publish(
        actor=crm,
        guideline=proposal_rules.guideline,
        body="v2: cite the customer data you need by field.",
        roles=["crm_staff"],
        vendors=[vendor],
    )
    request_ = send(client, "post", f"{API}/guideline-versions/{proposal_rules.pk}/acknowledge", portal_user)
    with nothing_written(Acknowledgement):
        refused = request_()
    assert "no longer current" in str(assert_problem(refused, 422))
    done = api_call(client, "post", f"{API}/guideline-versions/{v2.pk}/acknowledge", portal_user)
    assert done.status_code == 201, done.content
    assert Acknowledgement.objects.filter(user=portal_user, version=v2).exists()


def test_the_status_page_and_api_list_third_party_staff(client, crm, proposal_rules, portal_user, vendor):
    UserFactory(username="percy", roles=["vendor_portal"], vendor=vendor)
    services.guideline_acknowledge(actor=portal_user, version=proposal_rules)

    client.force_login(crm)
    page = client.get(reverse("proposals:guidelines")).content.decode()
    assert "Third-party staff" in page
    assert f'<td>priscilla</td><td>{vendor.name}</td><td><span class="ok">acknowledged' in page
    assert f'<td>percy</td><td>{vendor.name}</td><td><span class="bad">not yet' in page

    status = api_call(client, "get", f"{API}/guidelines/{proposal_rules.guideline_id}/acknowledgements", crm)
    rows = {r["username"]: r for r in status.json()["third_party"]}
    assert rows["priscilla"]["acknowledged_at"] is not None and rows["priscilla"]["vendor_id"] == vendor.pk
    assert rows["percy"]["acknowledged_at"] is None
    assert "percy" in status.json()["outstanding"]


def test_reminders_reach_third_party_staff(crm, proposal_rules, portal_user):
    portal_user.email = "priscilla@harbourcall.hk"
    portal_user.save()
    mail.outbox.clear()
    services.guideline_reminders_send()
    assert ["priscilla@harbourcall.hk"] in [m.to for m in mail.outbox]
    services.guideline_acknowledge(actor=portal_user, version=proposal_rules)
    mail.outbox.clear()
    services.guideline_reminders_send()
    assert ["priscilla@harbourcall.hk"] not in [m.to for m in mail.outbox]


def test_an_offboarded_worker_is_no_longer_asked(crm, proposal_rules, portal_user, vendor):
    ThirdPartyWorker.objects.create(
        vendor=vendor,
        name="Priscilla Chan",
        role="Account lead",
        user=portal_user,
        onboarded_on=timezone.localdate() - timedelta(days=90),
        offboarded_on=timezone.localdate(),
    )
    assert not services.assignees(proposal_rules).filter(pk=portal_user.pk).exists()


def test_the_gate_refuses_a_portal_users_submission_until_they_acknowledged(
    client, drafted, proposal_rules, portal_user
):
    request_ = send(client, "post", f"{API}/{drafted.proposal_id}/submit", portal_user)
    with nothing_written(ProposalVersion):
        response = request_()
    message = str(assert_problem(response, 422))
    assert "Acknowledge 'Writing proposals for us' v1" in message and "vendor portal" in message
    drafted.refresh_from_db()
    assert drafted.submitted_at is None

    services.guideline_acknowledge(actor=portal_user, version=proposal_rules)
    assert services.proposal_submit(actor=portal_user, proposal=drafted.proposal).is_submitted


def test_the_portal_page_says_which_guideline_blocks_the_submission(
    client, call, proposal_rules, portal_user
):
    client.force_login(portal_user)
    url = reverse("proposals:call", args=[call.pk])
    assert "Before you submit" in client.get(url).content.decode()
    form = {f"section-{k}": v for k, v in SECTIONS.items()} | {
        "component_count": "1",
        "c0-title": "Live chat in Cantonese",
        "action": "submit",
    }
    response = client.post(url, form)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Acknowledge &#x27;Writing proposals for us&#x27; v1 in the vendor portal" in html
    assert "Version 1 was saved as a draft; it was not submitted." in html
    assert not ProposalVersion.objects.filter(submitted_at__isnull=False).exists()


def test_a_guideline_not_assigned_to_a_vendor_does_not_gate_it(drafted, proposal_rules, call, vendor_b_user):
    draft = services.proposal_save_draft(
        actor=vendor_b_user, call=call, sections=SECTIONS, components=components()
    )
    assert services.proposal_submit(actor=vendor_b_user, proposal=draft.proposal).is_submitted


def test_another_vendor_sees_nothing_of_a_guideline_assigned_to_the_first(
    client, proposal_rules, outsider, no_role_user
):
    secrets = ("Writing proposals for us", "no customer data before a contract")
    assert_outsider_blocked(client, outsider, "get", f"{API}/guidelines", secrets=secrets)
    assert_outsider_blocked(client, outsider, "get", f"{API}/guidelines/outstanding", secrets=secrets)
    assert_outsider_blocked(
        client, outsider, "post", f"{API}/guideline-versions/{proposal_rules.pk}/acknowledge", body={}
    )
    assert_outsider_blocked(
        client, outsider, "get", f"{API}/guidelines/{proposal_rules.guideline_id}/acknowledgements"
    )
    assert_outsider_blocked(client, no_role_user, "get", f"{API}/guidelines", secrets=secrets)
    client.force_login(outsider)
    page = client.get(reverse("proposals:guidelines")).content.decode()
    assert "Writing proposals for us" not in page and "No guidelines are assigned" in page
    assert client.post(reverse("proposals:acknowledge", args=[proposal_rules.pk])).status_code == 404
    assert not Acknowledgement.objects.filter(user=outsider).exists()


def test_a_vendor_no_longer_sees_a_guideline_whose_current_version_is_not_assigned_to_it(
    client, crm, proposal_rules, portal_user
):
    services.guideline_publish(
        actor=crm,
        guideline=proposal_rules.guideline,
        body="v2, staff only: internal notes.",
        roles=["crm_staff"],
    )
    listed = api_call(client, "get", f"{API}/guidelines", portal_user).json()["items"]
    assert listed == []
    assert services.outstanding_guidelines(portal_user) == []
    client.force_login(portal_user)
    assert "internal notes" not in client.get(reverse("proposals:guidelines")).content.decode()


def test_a_portal_user_cannot_read_who_has_acknowledged(client, proposal_rules, portal_user):
    response = api_call(
        client, "get", f"{API}/guidelines/{proposal_rules.guideline_id}/acknowledgements", portal_user
    )
    assert_problem(response, 403)


@pytest.mark.parametrize(
    ("stage", "extra", "message"),
    [
        ("evaluation", {}, "internal"),
        ("proposal", {"roles": ["vendor_portal"]}, "through their vendor"),
    ],
)
def test_publishing_to_vendors_refuses_what_would_leak(client, crm, vendor, stage, extra, message):
    guideline = services.guideline_create(actor=crm, title="Rules", stage=stage)
    body = {"body": "text", "vendor_ids": [vendor.pk], **extra}
    request_ = send(client, "post", f"{API}/guidelines/{guideline.pk}/versions", crm, body)
    with nothing_written(GuidelineVersion):
        response = request_()
    assert message in str(assert_problem(response, 422))


def test_a_portal_user_cannot_be_named_one_by_one(crm, portal_user):
    guideline = services.guideline_create(actor=crm, title="Rules", stage="proposal")
    with pytest.raises(ValidationError, match="through their vendor"):
        services.guideline_publish(actor=crm, guideline=guideline, body="x", people=[portal_user])


def test_the_publish_page_assigns_vendors_and_a_refused_publication_keeps_nothing(client, crm, vendor):
    from proposals.models import Guideline

    client.force_login(crm)
    refused = client.post(
        reverse("proposals:guidelines"),
        {"title": "Scoring rules", "stage": "evaluation", "body": "x", "vendors": [vendor.pk]},
    )
    assert refused.status_code == 400 and "internal" in refused.content.decode()
    assert not Guideline.objects.exists()
    client.post(
        reverse("proposals:guidelines"),
        {"title": "Writing proposals", "stage": "proposal", "body": "x", "vendors": [vendor.pk]},
    )
    assert list(GuidelineVersion.objects.get().vendors.all()) == [vendor]


def test_the_workers_page_shows_what_they_acknowledged_in_the_portal(
    client, proposal_rules, portal_user, vendor, vendor_manager, outsider
):
    """One record, two views: the third-party staff register reads the portal acknowledgement
    (beside those the vendor manager recorded by hand) instead of keeping a copy."""
    worker = ThirdPartyWorker.objects.create(
        vendor=vendor,
        name="Priscilla Chan",
        role="Account lead",
        user=portal_user,
        onboarded_on=timezone.localdate() - timedelta(days=90),
    )
    services.guideline_acknowledge(actor=portal_user, version=proposal_rules)
    url = reverse("vendors:worker_detail", args=[worker.pk])
    for viewer in (vendor_manager, portal_user):
        client.force_login(viewer)
        page = client.get(url).content.decode()
        assert "Writing proposals for us v1" in page and "(in the portal)" in page
    client.force_login(outsider)
    assert client.get(url).status_code == 404
