"""Marketing cannot export a customer who opted out of that channel, or never consented, through any
page, API or export (issue 7 "done when"; Part 6A s35C, s35G)."""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers import access_log, marketing
from customers.consent import marketable
from customers.models import Customer, MarketingExport, MarketingState
from customers.tests.privacy.conftest import call, grant

pytestmark = pytest.mark.django_db


def _csv_emails(response) -> set[str]:
    text = b"".join(response.streaming_content if response.streaming else [response.content]).decode(
        "utf-8-sig"
    )
    return {line.split(",")[5] for line in text.strip().splitlines()[1:]}


def test_only_consented_customers_who_did_not_opt_out_are_marketable(chan, wong, lee, purpose):
    allowed = marketable(Customer.objects.all(), channel="email", purpose=purpose)
    assert list(allowed) == [chan]
    # Wong opted out of e-mail only; consent on SMS was never given either.
    assert not marketable(Customer.objects.all(), channel="sms", purpose=purpose).exists()


def test_the_export_page_leaves_out_the_opted_out_and_the_unconsented(
    client, marketer, chan, wong, lee, purpose
):
    client.force_login(marketer)
    assert client.get("/customers/marketing/").status_code == 200
    for file_format in ("csv", "xlsx"):
        response = client.post(
            "/customers/marketing/",
            {"do": "export", "x-channel": "email", "x-purpose": purpose.pk, "x-file_format": file_format},
        )
        assert response.status_code == 200, response.content[:500]
        if file_format == "csv":
            assert _csv_emails(response) == {chan.email}
        else:
            sheet = load_workbook(io.BytesIO(response.content)).active
            assert sheet is not None
            emails = {row[5] for row in sheet.iter_rows(min_row=2, values_only=True)}
            assert emails == {chan.email}
    assert wong.email.encode() not in response.content


def test_the_api_export_leaves_out_the_opted_out(client, marketer, dpo, chan, wong, lee, purpose):
    response = api_call(
        client,
        "post",
        "/api/v1/customers/marketing/exports",
        marketer,
        {"channel": "email", "purpose_id": purpose.pk, "customer_ids": [chan.pk, wong.pk, lee.pk]},
    )
    assert response.status_code == 200
    assert _csv_emails(response) == {chan.email}
    record = MarketingExport.objects.get()
    assert (record.requested, record.included) == (3, 1)
    assert list(
        access_log.access_log(user=dpo, actor_id=marketer.pk).values_list("customer_id", "action")
    ) == [(chan.pk, "export")]


def test_a_send_skips_the_opted_out_and_records_the_first_use_notice(
    client, marketer, chan, wong, mailoutbox, purpose, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = api_call(
            client,
            "post",
            "/api/v1/customers/marketing/sends",
            marketer,
            {
                "channel": "email",
                "purpose_id": purpose.pk,
                "subject": "Mid-autumn offers",
                "message": "20% off mooncakes this week.",
                "opt_out_notice": "Reply STOP to opt out, free of charge.",
            },
        )
    assert response.status_code == 201, response.content
    assert [m.to for m in mailoutbox] == [[chan.email]]
    assert "Reply STOP" in mailoutbox[0].body
    state = MarketingState.objects.get(customer=chan)
    assert state.first_notice_at is not None and state.first_notice_channel == "email"
    assert not MarketingState.objects.filter(customer=wong).exists()
    # The second send is not a first use.
    marketing.marketing_send(
        actor=marketer,
        customers=Customer.objects.all(),
        channel="email",
        purpose=purpose,
        subject="",
        message="More offers",
        opt_out_notice="Reply STOP",
    )
    second = MarketingExport.objects.order_by("-id").first()
    assert second is not None
    assert list(second.lines.values_list("first_use", flat=True)) == [False]


def test_a_send_without_an_opt_out_notice_is_refused_and_writes_nothing(client, marketer, chan, purpose):
    headers = bearer(marketer)
    with nothing_written(MarketingExport, MarketingState):
        response = call(
            client,
            "post",
            "/api/v1/customers/marketing/sends",
            headers,
            {"channel": "email", "purpose_id": purpose.pk, "message": "Offers", "opt_out_notice": "   "},
        )
    assert_problem(response, 422)


def test_withdrawal_takes_effect_at_once(chan, purpose, dpo):
    assert marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()
    marketing.consent_withdraw(
        actor=dpo, customer=chan, purpose=purpose, channel="email", source="Phone call"
    )
    assert not marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()
    assert chan.consents.count() == 2, "the grant stays in the ledger as history"


def test_an_all_channel_opt_out_stops_every_channel_and_an_express_consent_lifts_only_its_own(
    chan, purpose, dpo
):
    grant(chan, purpose, dpo, channel="sms")
    marketing.opt_out(actor=dpo, customer=chan, channel="all", source="Letter")
    for channel in ("email", "sms"):
        assert not marketable(Customer.objects.all(), channel=channel, purpose=purpose).exists()
    grant(chan, purpose, dpo, channel="email", method="written", source="Signed form at the Mong Kok store")
    assert marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()
    assert not marketable(Customer.objects.all(), channel="sms", purpose=purpose).exists()


def test_pre_2013_data_is_marketable_until_the_customer_opts_out(lee, purpose, dpo):
    state = MarketingState.objects.create(customer=lee, pre_2013_data=True)
    state.pre_2013_purposes.add(purpose)
    assert list(marketable(Customer.objects.all(), channel="email", purpose=purpose)) == [lee]
    marketing.opt_out(actor=dpo, customer=lee, channel="email", source="Unsubscribe link")
    assert not marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()


def test_bad_export_requests_are_refused_and_write_nothing(client, marketer, chan, purpose):
    bad = [
        {"channel": "fax", "purpose_id": purpose.pk},
        {"channel": "email", "purpose_id": 999999},
        {"channel": "email", "purpose_id": purpose.pk, "file_format": "pdf"},
        {"channel": "email", "purpose_id": purpose.pk, "unknown": 1},
    ]
    headers = bearer(marketer)
    for body in bad:
        with nothing_written(MarketingExport):
            response = call(client, "post", "/api/v1/customers/marketing/exports", headers, body)
        assert response.status_code in (404, 422), response.content
        assert response["Content-Type"].startswith("application/problem+json")


def test_outsiders_and_agents_cannot_export(client, outsider, no_role_user, agent, chan, purpose):
    body = {"channel": "email", "purpose_id": purpose.pk}
    for person in (outsider, no_role_user, agent):
        assert_outsider_blocked(
            client, person, "post", "/api/v1/customers/marketing/exports", body=body, secrets=(chan.email,)
        )
        client.force_login(person)
        assert client.get("/customers/marketing/").status_code == 403
        response = client.post(
            "/customers/marketing/", {"do": "export", "x-channel": "email", "x-purpose": purpose.pk}
        )
        assert response.status_code == 403
    assert not MarketingExport.objects.exists()


def test_the_export_page_shows_form_errors_and_exports_nothing(client, marketer, chan, purpose):
    client.force_login(marketer)
    with nothing_written(MarketingExport):
        response = client.post(
            "/customers/marketing/",
            {
                "do": "export",
                "x-channel": "email",
                "x-purpose": purpose.pk,
                "x-file_format": "csv",
                "x-customer_ids": "1; drop",
            },
        )
    assert response.status_code == 200
    assert "Give customer ids as numbers" in response.content.decode()


def test_a_list_for_a_third_party_needs_its_written_consent(client, marketer, dpo, chan, lee, purpose):
    insurer = marketing.transferee_create(
        actor=dpo,
        name="Harbour Insurance Brokers Ltd",
        transferee_class="insurance partners",
        email="p@hib.example.hk",
    )
    grant(lee, purpose, dpo, transferee=insurer, method="written", source="Signed form IC-7")
    response = api_call(
        client,
        "post",
        "/api/v1/customers/marketing/exports",
        marketer,
        {"channel": "email", "purpose_id": purpose.pk, "transferee_id": insurer.pk},
    )
    assert _csv_emails(response) == {lee.email}, "Chan consented to our own offers, not to the transfer"


def test_the_dpo_records_pre_2013_data_through_the_api_and_the_page(client, dpo, marketer, lee, purpose):
    headers = bearer(dpo)
    with nothing_written(MarketingState):
        bad = call(
            client, "put", f"/api/v1/customers/{lee.pk}/marketing-state", headers, {"pre_2013_data": True}
        )
    assert_problem(bad, 422, kind="rule")
    response = call(
        client,
        "put",
        f"/api/v1/customers/{lee.pk}/marketing-state",
        headers,
        {"pre_2013_data": True, "purpose_ids": [purpose.pk]},
    )
    assert response.json()["purpose_ids"] == [purpose.pk]
    assert list(marketable(Customer.objects.all(), channel="email", purpose=purpose)) == [lee]
    assert (
        api_call(
            client, "put", f"/api/v1/customers/{lee.pk}/marketing-state", marketer, {"pre_2013_data": False}
        ).status_code
        == 403
    )
    client.force_login(dpo)
    client.post(f"/customers/{lee.pk}/privacy/s35d/", {"s35d-pre_2013_data": ""})
    assert not marketable(Customer.objects.all(), channel="email", purpose=purpose).exists()
    assert "not yet marketed to" in client.get(f"/customers/{lee.pk}/privacy/").content.decode()
