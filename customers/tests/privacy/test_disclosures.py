"""DPP6, s23(1)(c): a correction goes to the third parties that received *this* customer's data in
the previous 12 months. The register's exchanges record whose data they carried: by hand (the
DPO, page and API) or by the marketing export that handed the list to a transferee's vendor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from core.testing.personas import api_call, assert_outsider_blocked
from customers import marketing, privacy
from customers.models import ConsentEntry, ExchangeCustomer
from customers.privacy_models import CorrectionNotice
from customers.tests.privacy.conftest import grant, make_customer
from vendors import services as vendor_services
from vendors.models import DataExchange, DataFlow, VendorContact

pytestmark = pytest.mark.django_db


def _flow(vendor_manager, vendor, title, direction=DataFlow.Direction.TO_VENDOR):
    return vendor_services.data_flow_create(
        actor=vendor_manager,
        vendor=vendor,
        direction=direction,
        title=title,
        data_categories="name, phone",
        personal_data=True,
        frequency="daily",
        channel="sftp",
        legal_basis="Service contract, clause 7",
        retention="90 days",
    )


def _exchange(vendor_manager, flow, days=20):
    return vendor_services.data_exchange_log(
        actor=vendor_manager, flow=flow, occurred_at=timezone.now() - timedelta(days=days), record_count=2
    )


def _correct(dpo, customer):
    request = privacy.privacy_request_create(
        actor=dpo,
        kind="correction",
        customer=customer,
        requester_name="The customer",
        requester_contact="customer@example.hk",
        received_at=timezone.now(),
        requested_changes={"phone": "+85261234567"},
    )
    privacy.privacy_request_verify_identity(actor=dpo, request=request, method="HKID")
    privacy.privacy_request_complete(actor=dpo, request=request)
    return request


@pytest.fixture
def two_vendors(vendor, other_vendor, vendor_manager):
    got_chan = _exchange(vendor_manager, _flow(vendor_manager, vendor, "Open cases"))
    got_others = _exchange(vendor_manager, _flow(vendor_manager, other_vendor, "Delivery list"))
    return got_chan, got_others


def test_a_correction_goes_only_to_the_vendors_that_received_this_customer(
    client, dpo, two_vendors, vendor, mailoutbox, django_capture_on_commit_callbacks
):
    got_chan, got_others = two_vendors
    chan = make_customer("C-100", "Tai Man", "Chan")
    lee = make_customer("C-102", "Ka Yan", "Lee")
    VendorContact.objects.create(vendor=vendor, name="Ops", email="ops@harbourcall.hk", is_primary=True)
    # The DPO records the contents of both batches: one by the API, one on the page.
    response = api_call(
        client,
        "post",
        f"/api/v1/customers/privacy/exchanges/{got_chan.pk}/customers",
        dpo,
        {"customer_ids": [chan.pk], "external_ids": ["C-102"]},
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"exchange_id": got_chan.pk, "added": 2, "customers_recorded": 2}
    client.force_login(dpo)
    page = client.post(f"/customers/consent/disclosures/{got_others.pk}/", {"references": "C-102\nC-999"})
    assert page.status_code == 302
    assert set(ExchangeCustomer.objects.values_list("exchange_id", "customer_id")) == {
        (got_chan.pk, chan.pk),
        (got_chan.pk, lee.pk),
        (got_others.pk, lee.pk),
    }

    with django_capture_on_commit_callbacks(execute=True):
        request = _correct(dpo, chan)
    assert list(CorrectionNotice.objects.filter(request=request).values_list("vendor_id", flat=True)) == [
        vendor.pk
    ]
    assert [m.to for m in mailoutbox] == [["ops@harbourcall.hk"]]

    # Lee was in both batches: both vendors are told of Lee's correction.
    assert {r.vendor_id for r in privacy.recent_recipients(customer=lee)} == {
        got_chan.flow.vendor_id,
        got_others.flow.vendor_id,
    }


def test_a_batch_whose_customers_were_never_recorded_is_told_unconfirmed(dpo, two_vendors, vendor):
    got_chan, _ = two_vendors  # neither batch's contents recorded
    chan = make_customer("C-100", "Tai Man", "Chan")
    recipients = privacy.recent_recipients(customer=chan)
    assert len(recipients) == 2 and not any(r.confirmed for r in recipients)
    ExchangeCustomer.objects.create(exchange=got_chan, customer=chan)
    recipients = privacy.recent_recipients(customer=chan)
    assert [(r.vendor_id, r.confirmed) for r in recipients if r.confirmed] == [(vendor.pk, True)]


def test_older_than_twelve_months_or_merged_records(dpo, vendor, vendor_manager):
    chan = make_customer("C-100", "Tai Man", "Chan")
    old_self = make_customer("C-200", "Tai-man", "Chan", merged_into=chan)
    flow = _flow(vendor_manager, vendor, "Open cases")
    stale = _exchange(vendor_manager, flow, days=400)
    ExchangeCustomer.objects.create(exchange=stale, customer=chan)
    assert privacy.recent_recipients(customer=chan) == []
    fresh = _exchange(vendor_manager, flow, days=10)
    ExchangeCustomer.objects.create(exchange=fresh, customer=old_self)  # sent under the merged record
    assert [r.vendor_id for r in privacy.recent_recipients(customer=chan)] == [vendor.pk]


def test_a_marketing_list_handed_to_a_transferee_logs_its_exchange_and_customers(
    client, dpo, marketer, purpose, vendor, vendor_manager
):
    flow = _flow(vendor_manager, vendor, "Partner offers list")
    partner = marketing.transferee_create(
        actor=dpo,
        name="Harbour Insurance",
        transferee_class="insurance partners",
        vendor=vendor,
        email="privacy@harbourins.hk",
    )
    agreed = make_customer("C-300", "Mei Ling", "Cheung")
    grant(agreed, purpose, dpo, transferee=partner, method=ConsentEntry.Method.WRITTEN)
    refused = make_customer("C-301", "Chi Keung", "Ng")  # no consent to the transfer
    body = {
        "channel": "email",
        "purpose_id": purpose.pk,
        "customer_ids": [agreed.pk, refused.pk],
        "transferee_id": partner.pk,
        "data_flow_id": flow.pk,
    }
    response = api_call(client, "post", "/api/v1/customers/marketing/exports", marketer, body)
    assert response.status_code == 200, response.content
    exchange = DataExchange.objects.get(flow=flow)
    assert exchange.record_count == 1 and exchange.logged_by == marketer
    assert list(ExchangeCustomer.objects.values_list("customer_id", flat=True)) == [agreed.pk]
    assert [r.vendor_id for r in privacy.recent_recipients(customer=agreed)] == [vendor.pk]
    assert privacy.recent_recipients(customer=refused) == []

    # A register line of another vendor, or none of the transferee's: refused, nothing written.
    wrong = api_call(
        client, "post", "/api/v1/customers/marketing/exports", marketer, {**body, "transferee_id": None}
    )
    assert wrong.status_code == 422
    assert DataExchange.objects.count() == 1


def test_the_dpo_sees_where_a_customers_data_went(client, dpo, two_vendors, vendor):
    got_chan, _ = two_vendors
    chan = make_customer("C-100", "Tai Man", "Chan")
    ExchangeCustomer.objects.create(exchange=got_chan, customer=chan)
    listed = api_call(client, "get", f"/api/v1/customers/{chan.pk}/disclosures", dpo).json()["items"]
    assert [(x["id"], x["vendor_name"]) for x in listed] == [(got_chan.pk, vendor.name)]
    client.force_login(dpo)
    page = client.get(f"/customers/{chan.pk}/privacy/").content.decode()
    assert 'id="disclosures"' in page and "Open cases" in page
    overview = client.get("/customers/consent/disclosures/").content.decode()
    assert "not recorded" in overview and "Delivery list" in overview


def test_bad_input_records_nothing(client, dpo, two_vendors, vendor_manager, vendor):
    got_chan, _ = two_vendors
    url = f"/api/v1/customers/privacy/exchanges/{got_chan.pk}/customers"
    assert api_call(client, "post", url, dpo, {}).status_code == 422
    assert api_call(client, "post", url, dpo, {"external_ids": ["nobody"]}).status_code == 422
    incoming = _exchange(vendor_manager, _flow(vendor_manager, vendor, "Survey replies", "from_vendor"))
    chan = make_customer("C-100", "Tai Man", "Chan")
    back = api_call(
        client,
        "post",
        f"/api/v1/customers/privacy/exchanges/{incoming.pk}/customers",
        dpo,
        {"customer_ids": [chan.pk]},
    )
    assert back.status_code == 422
    assert not ExchangeCustomer.objects.exists()


def test_outsiders_and_marketing_cannot_record_or_read_disclosures(
    client, two_vendors, outsider, no_role_user, marketer, agent
):
    got_chan, _ = two_vendors
    chan = make_customer("C-100", "Tai Man", "Chan")
    url = f"/api/v1/customers/privacy/exchanges/{got_chan.pk}/customers"
    for user in (outsider, no_role_user, marketer, agent):
        assert_outsider_blocked(client, user, "POST", url, body={"customer_ids": [chan.pk]})
        assert_outsider_blocked(client, user, "GET", f"/api/v1/customers/{chan.pk}/disclosures")
        assert_outsider_blocked(client, user, "GET", "/api/v1/customers/privacy/exchanges")
    client.force_login(marketer)
    assert client.get("/customers/consent/disclosures/").status_code == 403
    assert (
        client.post(f"/customers/consent/disclosures/{got_chan.pk}/", {"references": "C-100"}).status_code
        == 403
    )
    assert not ExchangeCustomer.objects.exists()
