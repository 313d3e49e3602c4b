"""Self-service links and marketing SMS go out through the configured SMS backend (core.sms): only
to customers who may receive them, never without a backend, and never by a role that may not send."""

from __future__ import annotations

import pytest

from core import sms
from core.testing.personas import api_call, assert_outsider_blocked
from customers.models import MarketingExport
from customers.privacy_models import SelfServiceLink
from customers.tests.privacy.conftest import grant, make_customer

pytestmark = pytest.mark.django_db

SEND = "/api/v1/customers/marketing/sends"


@pytest.fixture
def locmem_sms(settings):
    settings.STEWARD_SMS_BACKEND = "core.sms.LocmemBackend"
    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


def _campaign(purpose):
    return {
        "channel": "sms",
        "purpose_id": purpose.pk,
        "message": "Mooncakes 20% off this week.",
        "opt_out_notice": "Reply STOP to opt out, free.",
    }


def test_a_marketing_sms_goes_to_consented_customers_only(
    client, marketer, dpo, purpose, locmem_sms, django_capture_on_commit_callbacks
):
    yes = make_customer("C-500", "Wing", "Lam", phone="+85291234567")
    grant(yes, purpose, dpo, channel="sms")
    stopped = make_customer("C-501", "Ka Yan", "Lee", phone="+85261112222")
    grant(stopped, purpose, dpo, channel="sms")
    api_call(client, "post", f"/api/v1/customers/{stopped.pk}/call-opt-outs", dpo, {"channel": "sms"})
    make_customer("C-502", "Chi Keung", "Ng", phone="+85263334444")  # never consented

    with django_capture_on_commit_callbacks(execute=True):
        response = api_call(client, "post", SEND, marketer, _campaign(purpose))
    assert response.status_code == 201, response.content
    assert [(m.to, m.text) for m in locmem_sms] == [
        ("+85291234567", "Mooncakes 20% off this week.\nReply STOP to opt out, free.")
    ]


def test_the_marketing_page_sends_by_sms_too(
    client, marketer, dpo, purpose, locmem_sms, django_capture_on_commit_callbacks
):
    yes = make_customer("C-500", "Wing", "Lam", phone="+85291234567")
    grant(yes, purpose, dpo, channel="sms")
    client.force_login(marketer)
    data = {f"s-{k}": v for k, v in _campaign(purpose).items() if k != "purpose_id"}
    data |= {"s-purpose": purpose.pk, "do": "send"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/customers/marketing/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [m.to for m in locmem_sms] == ["+85291234567"]


def test_without_a_backend_no_sms_is_sent(
    client, marketer, dpo, purpose, settings, django_capture_on_commit_callbacks
):
    settings.STEWARD_SMS_BACKEND = ""
    settings.STEWARD_SMS_GATEWAY_EMAIL = ""
    yes = make_customer("C-500", "Wing", "Lam", phone="+85291234567")
    grant(yes, purpose, dpo, channel="sms")
    sms.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api_call(client, "post", SEND, marketer, _campaign(purpose))
    assert response.status_code == 201  # the list is kept for the provider, as for phone and post
    assert sms.outbox == []
    link = api_call(
        client, "post", "/api/v1/customers/quality/links", dpo, {"customer_id": yes.pk, "channel": "sms"}
    )
    assert link.status_code == 422 and "No SMS backend" in link.content.decode()
    assert not SelfServiceLink.objects.exists()


def test_a_self_service_link_by_sms_goes_through_the_backend(
    client, dpo, locmem_sms, django_capture_on_commit_callbacks
):
    customer = make_customer("C-600", "Mei Ling", "Cheung", phone="+85291234567")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_call(
            client,
            "post",
            "/api/v1/customers/quality/links",
            dpo,
            {"customer_id": customer.pk, "channel": "sms"},
        )
    assert response.status_code == 201, response.content
    assert [m.to for m in locmem_sms] == ["+85291234567"]
    assert "/customers/update/" in locmem_sms[0].text

    client.force_login(dpo)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/customers/quality/customers/{customer.pk}/link/", {"channel": "sms"})
    assert len(locmem_sms) == 2 and SelfServiceLink.objects.filter(channel="sms").count() == 2


def test_a_failing_provider_does_not_undo_the_send_record(
    client, marketer, dpo, purpose, settings, django_capture_on_commit_callbacks, caplog
):
    settings.STEWARD_SMS_BACKEND = "core.sms.HttpBackend"
    settings.STEWARD_SMS_HTTP_URL = "http://127.0.0.1:9/nothing-listens-here"
    settings.STEWARD_SMS_HTTP_TOKEN = "t"
    settings.STEWARD_SMS_HTTP_TIMEOUT = 2
    yes = make_customer("C-500", "Wing", "Lam", phone="+85291234567")
    grant(yes, purpose, dpo, channel="sms")
    with django_capture_on_commit_callbacks(execute=True):
        response = api_call(client, "post", SEND, marketer, _campaign(purpose))
    assert response.status_code == 201
    assert MarketingExport.objects.get().included == 1
    assert "marketing SMS failed" in caplog.text


def test_outsiders_and_agents_cannot_send_marketing_sms(
    client, dpo, purpose, outsider, no_role_user, agent, locmem_sms
):
    yes = make_customer("C-500", "Wing", "Lam", phone="+85291234567")
    grant(yes, purpose, dpo, channel="sms")
    for user in (outsider, no_role_user, agent):
        assert_outsider_blocked(client, user, "POST", SEND, body=_campaign(purpose))
        assert_outsider_blocked(
            client,
            user,
            "POST",
            "/api/v1/customers/quality/links",
            body={"customer_id": yes.pk, "channel": "sms"},
        )
    assert locmem_sms == [] and not MarketingExport.objects.exists()
