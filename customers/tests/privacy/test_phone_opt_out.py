"""An agent on the phone records "stop marketing to me" (PDPO s35G): in force at once, audited with
the agent, and without giving the agent the opt-out list, the consent ledger or unmasked details."""

from __future__ import annotations

import pytest

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked
from customers.consent import marketable
from customers.models import ConsentEntry, Customer, MarketingChannel, Suppression

pytestmark = pytest.mark.django_db

URL = "/api/v1/customers/{}/call-opt-outs"


def _marketable_by_email(customer, purpose):
    return marketable(
        Customer.objects.filter(pk=customer.pk), channel=MarketingChannel.EMAIL, purpose=purpose
    )


def test_an_agent_records_an_opt_out_from_a_call_and_it_applies_at_once(client, agent, chan, purpose):
    assert _marketable_by_email(chan, purpose).exists()
    response = api_call(client, "post", URL.format(chan.pk), agent, {"channel": "all", "note": "ticket 4411"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["channel"] == "all" and body["created"] is True
    # Only what the agent tells the caller: nothing of the ledger or the customer's details.
    assert set(body) == {"customer_id", "channel", "in_force_since", "created"}

    suppression = Suppression.objects.get(customer=chan)
    assert suppression.recorded_by == agent and "kelvin" in suppression.source
    assert suppression.note == "ticket 4411"
    assert not _marketable_by_email(chan, purpose).exists()
    # The consent in force is withdrawn in the ledger too, by the agent.
    latest = ConsentEntry.objects.filter(customer=chan).order_by("-occurred_at", "-id").first()
    assert (
        latest is not None and latest.action == ConsentEntry.Action.WITHDRAW and latest.recorded_by == agent
    )
    assert AuditEvent.objects.filter(
        actor_id=agent.pk, object_type__endswith="suppression", object_id=str(suppression.pk)
    ).exists()

    again = api_call(client, "post", URL.format(chan.pk), agent, {"channel": "email"})
    assert again.status_code == 200 and again.json()["created"] is False
    assert Suppression.objects.filter(customer=chan).count() == 1


def test_the_agent_gains_no_sight_of_the_opt_out_list_or_the_ledger(client, agent, chan):
    api_call(client, "post", URL.format(chan.pk), agent, {"channel": "sms"})
    listed = api_call(client, "get", "/api/v1/customers/privacy/opt-outs", agent)
    assert listed.status_code == 403 or listed.json()["items"] == []
    client.force_login(agent)
    page = client.get(f"/customers/{chan.pk}/privacy/")
    text = page.content.decode()
    assert page.status_code == 200
    assert 'id="call-opt-out"' in text
    assert 'id="consent-state"' not in text and 'id="opt-outs"' not in text and 'id="access-log"' not in text
    assert chan.email not in text  # masked for agents


def test_the_agent_records_it_on_the_customer_page(client, agent, lee):
    client.force_login(agent)
    response = client.post(
        f"/customers/{lee.pk}/privacy/call-opt-out/",
        {"call-channel": "phone", "call-note": "rang in"},
        follow=True,
    )
    assert "Opt-out recorded (Phone call)" in response.content.decode()
    suppression = Suppression.objects.get(customer=lee)
    assert (suppression.channel, suppression.recorded_by) == ("phone", agent)


def test_bad_input_writes_nothing(client, agent, lee):
    response = api_call(client, "post", URL.format(lee.pk), agent, {"channel": "pigeon"})
    assert response.status_code == 422
    client.force_login(agent)
    client.post(f"/customers/{lee.pk}/privacy/call-opt-out/", {"call-channel": "pigeon"})
    assert not Suppression.objects.exists()


def test_outsiders_and_other_roles_cannot_record_a_call_opt_out(
    client, lee, outsider, no_role_user, marketer, vendor_manager
):
    for user in (outsider, no_role_user, vendor_manager):
        assert_outsider_blocked(client, user, "POST", URL.format(lee.pk), body={"channel": "all"})
    # Marketing has its own opt-out form (with the list); the call form is the agents'.
    assert api_call(client, "post", URL.format(lee.pk), marketer, {"channel": "all"}).status_code == 403
    client.force_login(marketer)
    assert (
        client.post(f"/customers/{lee.pk}/privacy/call-opt-out/", {"call-channel": "all"}).status_code == 403
    )
    assert not Suppression.objects.exists()
