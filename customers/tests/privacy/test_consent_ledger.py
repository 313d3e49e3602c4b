"""The consent ledger (Part 6A): append-only with history, the notice kept, written consent for
transfers to third parties, opt-outs passed on to third parties in writing (s35G)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers import marketing
from customers.consent import marketable
from customers.models import ConsentEntry, Customer, Suppression, TransfereeNotice
from customers.tests.privacy.conftest import NOTICE, call, grant

pytestmark = pytest.mark.django_db


@pytest.fixture
def insurer(dpo):
    return marketing.transferee_create(
        actor=dpo,
        name="Harbour Insurance Brokers Ltd",
        transferee_class="insurance partners",
        email="privacy@harbour-insurance.example.hk",
        postal_address="12/F, 88 Queen's Road Central, Hong Kong",
    )


def test_the_ledger_is_append_only(chan):
    entry = chan.consents.get()
    entry.source = "edited"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        ConsentEntry.objects.filter(pk=entry.pk).update(source="edited")
    with pytest.raises(PermissionError):
        ConsentEntry.objects.all().delete()
    assert entry.notice_text == NOTICE


def test_silence_is_never_consent(lee, purpose):
    assert not marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()


def test_a_transfer_to_a_third_party_needs_written_consent(lee, purpose, dpo, insurer):
    with nothing_written(ConsentEntry), pytest.raises(ValidationError) as caught:
        grant(lee, purpose, dpo, transferee=insurer, for_gain=True)  # an online tick
    assert "method" in caught.value.message_dict
    with pytest.raises(ValidationError):
        grant(lee, purpose, dpo, for_gain=True)  # for gain without a transferee
    grant(lee, purpose, dpo, transferee=insurer, for_gain=True, method="written", source="Signed form")
    assert list(marketable(Customer.objects.all(), channel="email", purpose=purpose, transferee=insurer)) == [
        lee
    ]
    # Consent to the transfer is not consent to our own marketing.
    assert not marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()


def test_a_recorded_call_names_its_recording(lee, purpose, dpo):
    with pytest.raises(ValidationError) as caught:
        grant(lee, purpose, dpo, method="verbal_recorded", source="Call centre")
    assert "evidence" in caught.value.message_dict
    grant(lee, purpose, dpo, method="verbal_recorded", source="Call centre", evidence="REC-2026-11-0042")


def test_no_objection_cannot_override_an_opt_out(wong, purpose, dpo):
    with nothing_written(ConsentEntry, Suppression), pytest.raises(ValidationError):
        grant(wong, purpose, dpo, method="no_objection")
    assert Suppression.objects.get(customer=wong).lifted_at is None


def test_an_opt_out_withdraws_consents_and_owes_the_third_party_a_written_notice(
    lee, purpose, dpo, insurer, mailoutbox, django_capture_on_commit_callbacks, client
):
    grant(lee, purpose, dpo, transferee=insurer, method="written", source="Signed form")
    grant(lee, purpose, dpo)
    result = marketing.opt_out(actor=dpo, customer=lee, channel="all", source="Letter to the DPO")
    assert (result.created, result.withdrawn, result.notices) == (True, 2, 1)
    again = marketing.opt_out(actor=dpo, customer=lee, channel="email", source="Call")
    assert not again.created, "an opt-out in force already covers e-mail"
    notice = TransfereeNotice.objects.get()
    client.force_login(dpo)
    letter = client.get(f"/customers/consent/notices/{notice.pk}/letter.pdf")
    assert letter.status_code == 200 and letter.content.startswith(b"%PDF")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/consent/notices/{notice.pk}/send/", {"via": "email"})
    notice.refresh_from_db()
    assert notice.sent_via == "email" and notice.sent_at is not None
    assert mailoutbox[0].to == [insurer.email] and "section 35G" in mailoutbox[0].body
    assert client.get("/customers/consent/opt-outs/").status_code == 200


def test_the_api_records_and_withdraws_consent(client, crm, lee, purpose):
    headers = bearer(crm)
    body = {
        "purpose_id": purpose.pk,
        "channel": "sms",
        "method": "online_tick",
        "notice_text": NOTICE,
        "source": "App sign-up",
    }
    response = call(client, "post", f"/api/v1/customers/{lee.pk}/consents", headers, body)
    assert response.status_code == 201, response.content
    response = call(
        client,
        "post",
        f"/api/v1/customers/{lee.pk}/consents/withdraw",
        headers,
        {"purpose_id": purpose.pk, "channel": "sms", "source": "Replied STOP"},
    )
    assert response.status_code == 201
    ledger = call(client, "get", f"/api/v1/customers/{lee.pk}/consents", headers).json()["items"]
    assert [e["action"] for e in ledger] == ["withdraw", "grant"]
    with nothing_written(ConsentEntry):
        silence = call(
            client, "post", f"/api/v1/customers/{lee.pk}/consents", headers, {**body, "method": "silence"}
        )
        assert_problem(silence, 422)
        nothing = call(
            client,
            "post",
            f"/api/v1/customers/{lee.pk}/consents/withdraw",
            headers,
            {"purpose_id": purpose.pk, "channel": "post", "source": "x"},
        )
        assert_problem(nothing, 422, kind="rule")
    response = call(
        client, "post", f"/api/v1/customers/{lee.pk}/opt-outs", headers, {"channel": "sms", "source": "Call"}
    )
    assert response.status_code == 201


def test_the_customer_privacy_page_shows_consents_and_records_opt_outs(client, dpo, chan, purpose):
    client.force_login(dpo)
    page = client.get(f"/customers/{chan.pk}/privacy/").content.decode()
    assert "Offers on our own products" in page and "consented" in page
    client.post(
        f"/customers/{chan.pk}/privacy/opt-outs/", {"optout-channel": "email", "optout-source": "Phone call"}
    )
    assert not marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()
    page = client.get(f"/customers/{chan.pk}/privacy/").content.decode()
    assert "in force" in page and "withdrawn" in page


def test_outsiders_reach_no_ledger(client, outsider, no_role_user, chan, purpose):
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "get", f"/api/v1/customers/{chan.pk}/consents")
        assert_outsider_blocked(
            client,
            person,
            "post",
            f"/api/v1/customers/{chan.pk}/opt-outs",
            body={"channel": "email", "source": "x"},
        )
        assert api_call(client, "get", "/api/v1/customers/privacy/opt-outs", person).json()["items"] == []
        client.force_login(person)
        assert client.get(f"/customers/{chan.pk}/privacy/").status_code == 404
