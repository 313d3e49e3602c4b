"""Issue 6, done when: a vendor never sees another vendor's proposal, scores or questions addressed
only to the other; an uninvited vendor sees no call at all. Through pages and the API."""

from __future__ import annotations

import pytest
from django.urls import reverse

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from proposals import services
from proposals.tests.conftest import full_scores

pytestmark = pytest.mark.django_db
API = "/api/v1/proposals"


@pytest.fixture
def scored(submitted, panel, crm):
    first = submitted[0]
    for member in panel:
        services.panel_declare(actor=member.user, member=member, conflicts=[])
    services.scoresheet_save(actor=crm, proposal=first, scores=full_scores(4), submit=True)
    return first


def test_the_other_invited_vendor_cannot_reach_the_first_vendors_proposal(client, scored, vendor_b_user):
    secrets = ("WhatsApp win-back journey",)
    for path in (f"{API}/{scored.pk}", f"{API}/{scored.pk}/scores", f"{API}/{scored.pk}/diff?from=1&to=1"):
        assert_outsider_blocked(client, vendor_b_user, "get", path, secrets=secrets)
    assert_outsider_blocked(client, vendor_b_user, "post", f"{API}/{scored.pk}/submit", body={})
    listed = api_call(client, "get", f"{API}/calls/{scored.call_id}/proposals", vendor_b_user).json()
    assert [p["vendor_id"] for p in listed] == [vendor_b_user.vendor_id]
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.ACCESS_DENIED, object_type="proposals.proposal"
    ).exists()


def test_a_vendor_never_sees_the_panels_scores_or_consensus(client, scored, portal_user):
    # Even its own proposal's scores are the panel's business.
    assert api_call(client, "get", f"{API}/{scored.pk}/scores", portal_user).json() == []
    assert api_call(client, "get", f"{API}/{scored.pk}/consensus", portal_user).status_code == 403


def test_questions_stay_with_the_asker_until_the_answer_is_published(
    client, call, portal_user, vendor_b_user, crm
):
    private = services.clarification_ask(
        actor=portal_user, call=call, question="Can we reuse our loyalty app SDK?"
    )
    shared = services.clarification_ask(actor=portal_user, call=call, question="Is SMS in scope?")
    services.clarification_answer(
        actor=crm, clarification=private, answer="Yes, for Harbour only.", publish=False
    )
    services.clarification_answer(actor=crm, clarification=shared, answer="Yes.", publish=True)

    seen_by_b = [
        c["question"]
        for c in api_call(client, "get", f"{API}/calls/{call.pk}/clarifications", vendor_b_user).json()
    ]
    seen_by_a = [
        c["question"]
        for c in api_call(client, "get", f"{API}/calls/{call.pk}/clarifications", portal_user).json()
    ]

    assert seen_by_b == ["Is SMS in scope?"]
    assert seen_by_a == ["Can we reuse our loyalty app SDK?", "Is SMS in scope?"]
    client.force_login(vendor_b_user)
    page = client.get(reverse("proposals:call", args=[call.pk])).content.decode()
    assert "Is SMS in scope?" in page and "loyalty app SDK" not in page


def test_an_uninvited_vendor_sees_no_call(client, call, stranger):
    assert api_call(client, "get", f"{API}/calls", stranger).json()["items"] == []
    assert_outsider_blocked(client, stranger, "get", f"{API}/calls/{call.pk}", secrets=(call.title,))
    assert_outsider_blocked(client, stranger, "put", f"{API}/calls/{call.pk}/draft", body={"sections": {}})
    client.force_login(stranger)
    assert client.get(reverse("proposals:call", args=[call.pk])).status_code == 404
    assert call.title not in client.get(reverse("proposals:home")).content.decode()


def test_the_other_vendor_sees_only_itself_among_the_invited(client, call, vendor_b_user, vendor):
    data = api_call(client, "get", f"{API}/calls/{call.pk}", vendor_b_user).json()
    assert data["vendor_ids"] == [vendor_b_user.vendor_id]


def test_a_vendors_pages_show_nothing_of_the_other_vendor(client, submitted, vendor_b_user):
    first = submitted[0]
    client.force_login(vendor_b_user)
    assert client.get(reverse("proposals:proposal", args=[first.pk])).status_code == 404
    page = client.get(reverse("proposals:call", args=[first.call_id])).content.decode()
    assert "Kowloon WhatsApp" in page  # its own
    assert 'value="WhatsApp win-back journey"' not in page


@pytest.mark.parametrize("persona", ["outsider", "no_role_user"])
def test_staff_pages_and_api_are_closed_to_outsiders(client, call, persona, request):
    person = request.getfixturevalue(persona)
    client.force_login(person)
    pages = ["proposals:criteria", "proposals:strategy", "proposals:call_create"]
    for name in pages:
        assert client.get(reverse(name)).status_code in (403, 404), name
    if persona == "outsider":
        # A portal user's guidelines page is their own vendor's list, never the staff's status page.
        page = client.get(reverse("proposals:guidelines")).content.decode()
        assert "Publish a guideline version" not in page and "Not yet" not in page
    assert_outsider_blocked(
        client, person, "post", f"{API}/calls/{call.pk}/status", body={"status": "closed"}
    )
    assert_outsider_blocked(client, person, "post", f"{API}/objectives", body={"code": "x", "title": "X"})


def test_call_documents_reach_invited_vendors_only(
    client, call, crm, portal_user, stranger, settings, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    pdf = SimpleUploadedFile("brief.pdf", b"%PDF-1.4\n%demo brief\n", "application/pdf")
    created = client.post(
        f"{API}/calls/{call.pk}/documents",
        {"title": "Brief", "file": pdf},
        **bearer(crm),
    )
    assert created.status_code == 201, created.content
    url = created.json()["url"]
    listed = api_call(client, "get", f"{API}/calls/{call.pk}/documents", portal_user).json()
    assert [d["title"] for d in listed] == ["Brief"]
    client.force_login(portal_user)
    assert client.get(url).status_code == 200
    client.force_login(stranger)
    assert client.get(url).status_code == 404


def test_a_document_that_is_not_what_it_claims_is_refused(client, call, crm, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from core.testing.personas import bearer
    from core.testing.problems import nothing_written
    from proposals.models import CallDocument

    settings.MEDIA_ROOT = tmp_path
    fake = SimpleUploadedFile("brief.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")
    headers = bearer(crm)
    with nothing_written(CallDocument):
        response = client.post(
            f"{API}/calls/{call.pk}/documents", {"title": "Brief", "file": fake}, **headers
        )
    assert response.status_code == 422
    assert list(tmp_path.rglob("*.*")) == []
