"""DPP2(1) data quality: rules, scores, the review queue, and the customer's self-service link."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.utils import timezone

from core.testing.factories import UserFactory
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers import quality
from customers.models import Customer
from customers.privacy_models import QualityIssue, QualityScore, SelfServiceLink
from customers.tests.dpo_fixtures import make_customer

pytestmark = pytest.mark.django_db


def _rules(customer):
    return set(QualityIssue.objects.filter(customer=customer, status="open").values_list("rule", flat=True))


@pytest.mark.parametrize(
    ("phone", "valid"),
    [
        ("+85291234567", True),
        ("+852 6123 4567", True),
        ("91234567", True),  # read as a Hong Kong number
        ("+852 2123 4567", True),  # a fixed line
        ("+8529123456", False),  # 7 digits
        ("+852912345678", False),  # 9 digits
        ("+852 1234 5678", False),  # no Hong Kong number starts with 1
        ("+44 20 7946 0958", True),  # London
        ("call me", False),
    ],
)
def test_phone_numbers_are_checked_with_phonenumbers(phone, valid):
    assert (quality.phone_problem(phone, "HK") == "") is valid


def test_invalid_values_are_kept_and_flagged_not_fixed(dpo):
    customer = make_customer(email="siuming.chan@example", phone="+852 1234 567")
    quality.quality_check(actor=dpo)
    customer.refresh_from_db()
    assert customer.email == "siuming.chan@example" and customer.phone == "+852 1234 567"
    assert {"invalid_email", "invalid_phone"} <= _rules(customer)


def test_missing_stale_conflicting_and_excessive_data_are_found(dpo, settings):
    settings.STEWARD_STALE_MONTHS = 12
    nameless = make_customer(given_name="", family_name="", chinese_name="", email="", phone="")
    partial_address = make_customer(district="")
    stale = make_customer()
    Customer.objects.filter(pk=stale.pk).update(updated_at=timezone.now() - timedelta(days=500))
    conflict = make_customer(phone="+447946095800", country="HK")
    excessive = make_customer(address_line="Flat 1, HKID A123456(7), 3 Hill Road")
    good = make_customer()
    quality.quality_check(actor=dpo)
    assert {"missing_name", "missing_contact"} <= _rules(nameless)
    assert "address_incomplete" in _rules(partial_address)
    assert "stale" in _rules(stale)
    assert "conflict" in _rules(conflict) or "invalid_phone" in _rules(conflict)
    assert "excessive" in _rules(excessive)
    assert _rules(good) == set()
    score = QualityScore.objects.get(customer=good)
    assert score.completeness == 100 and score.accuracy == 100
    assert QualityScore.objects.get(customer=nameless).completeness < 50
    overall = quality.overall(user=dpo)
    assert overall["customers"] == 6 and overall["completeness"] < 100


def test_an_issue_no_longer_found_is_resolved_and_a_rerun_adds_no_duplicates(dpo):
    customer = make_customer(email="bad-address")
    quality.quality_check(actor=dpo)
    quality.quality_check(actor=dpo)
    assert QualityIssue.objects.filter(customer=customer, rule="invalid_email").count() == 1
    Customer.objects.filter(pk=customer.pk).update(email="good@example.hk")
    result = quality.quality_check(actor=dpo)
    assert result["resolved"] == 1
    assert QualityIssue.objects.get(customer=customer, rule="invalid_email").status == "resolved"


def test_the_review_queue_assigns_and_closes(client, dpo):
    make_customer(email="nope")
    quality.quality_check(actor=dpo)
    issue = QualityIssue.objects.get()
    assigned = api_call(
        client, "post", f"/api/v1/customers/quality/issues/{issue.pk}/assign", dpo, {"assignee_id": dpo.pk}
    )
    assert assigned.json()["assigned_to_id"] == dpo.pk
    mine = api_call(client, "get", "/api/v1/customers/quality/issues?mine=true", dpo)
    assert [i["id"] for i in mine.json()["items"]] == [issue.pk]
    marketing: Any = UserFactory(username="mandy", roles=["marketing"])
    refused = api_call(
        client,
        "post",
        f"/api/v1/customers/quality/issues/{issue.pk}/assign",
        dpo,
        {"assignee_id": marketing.pk},
    )
    assert_problem(refused, 422)
    closed = api_call(
        client,
        "post",
        f"/api/v1/customers/quality/issues/{issue.pk}/close",
        dpo,
        {"note": "Called the customer", "dismiss": False},
    )
    assert closed.json()["status"] == "resolved"


# --- The self-service link ----------------------------------------------------------------------------


def _send(dpo, customer, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        link, url = quality.self_service_link_send(actor=dpo, customer=customer, channel="email")
    return link, url.split("/customers/update/")[1].rstrip("/")


def test_a_customer_corrects_their_details_through_the_link_once(
    client, dpo, mailoutbox, django_capture_on_commit_callbacks
):
    customer = make_customer(phone="+852 1234 567")
    link, token = _send(dpo, customer, django_capture_on_commit_callbacks)
    assert mailoutbox[0].to == ["siuming.chan@example.hk"] and token in mailoutbox[0].body
    page = client.get(f"/customers/update/{token}/")
    assert page.status_code == 200 and "Check your details" in page.content.decode()
    form = {f: getattr(customer, f) for f in quality.SELF_SERVICE_FIELDS}
    form["phone"] = "6123 4567"
    done = client.post(f"/customers/update/{token}/", form)
    assert "corrected" in done.content.decode()
    customer.refresh_from_db()
    assert customer.phone == "+85261234567"
    link.refresh_from_db()
    assert link.outcome == "corrected" and link.changed_fields == ["phone"]
    # Single use.
    again = client.get(f"/customers/update/{token}/")
    assert again.status_code == 410 and "already been used" in again.content.decode()


def test_a_forged_or_expired_link_gets_a_clear_error(
    client, dpo, settings, django_capture_on_commit_callbacks
):
    customer = make_customer()
    link, token = _send(dpo, customer, django_capture_on_commit_callbacks)
    forged = token[:-3] + ("abc" if not token.endswith("abc") else "xyz")
    response = client.get(f"/customers/update/{forged}/")
    assert response.status_code == 400 and "not valid" in response.content.decode()
    other = signing.dumps({"l": link.pk, "n": "guessed"}, salt=quality.SIGNING_SALT)
    assert client.get(f"/customers/update/{other}/").status_code == 400
    SelfServiceLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(minutes=1))
    response = client.get(f"/customers/update/{token}/")
    assert response.status_code == 410 and "expired" in response.content.decode()
    with nothing_written(Customer):
        client.post(f"/customers/update/{token}/", {"given_name": "Hacker"})
    customer.refresh_from_db()
    assert customer.given_name == "Siu Ming"


def test_links_go_only_to_valid_addresses_and_are_logged(client, dpo):
    bad = make_customer(email="not-an-email", phone="")
    response = api_call(
        client, "post", "/api/v1/customers/quality/links", dpo, {"customer_id": bad.pk, "channel": "email"}
    )
    assert_problem(response, 422)
    sms = api_call(
        client, "post", "/api/v1/customers/quality/links", dpo, {"customer_id": bad.pk, "channel": "sms"}
    )
    assert_problem(sms, 422)
    assert not SelfServiceLink.objects.exists()
    good = make_customer()
    sent = api_call(client, "post", "/api/v1/customers/quality/links", dpo, {"customer_id": good.pk})
    assert sent.status_code == 201 and sent.json()["channel"] == "email"
    from core.models import AuditEvent

    row = AuditEvent.objects.filter(object_type="customers.selfservicelink").get()
    assert row.purpose == "self-service link by email"
    assert "siuming" not in json.dumps(row.changes)


def test_no_link_goes_through_a_channel_the_customer_opted_out_of(client, dpo):
    from django.utils import timezone

    from customers.models import Suppression

    customer = make_customer()
    Suppression.objects.create(
        customer=customer, channel="email", occurred_at=timezone.now(), source="unsubscribe link"
    )
    response = api_call(
        client,
        "post",
        "/api/v1/customers/quality/links",
        dpo,
        {"customer_id": customer.pk, "channel": "email"},
    )
    assert "opted out" in str(assert_problem(response, 422))
    assert not SelfServiceLink.objects.exists()
    Suppression.objects.update(lifted_at=timezone.now())
    sent = api_call(client, "post", "/api/v1/customers/quality/links", dpo, {"customer_id": customer.pk})
    assert sent.status_code == 201


def test_outsiders_and_marketing_cannot_reach_the_quality_queue(client, dpo, outsider, no_role_user):
    make_customer(email="nope")
    quality.quality_check(actor=dpo)
    issue = QualityIssue.objects.get()
    marketing: Any = UserFactory(username="mandy", roles=["marketing"])
    for user in (outsider, no_role_user, marketing):
        assert_outsider_blocked(client, user, "GET", "/api/v1/customers/quality/issues")
        assert_outsider_blocked(
            client, user, "POST", f"/api/v1/customers/quality/issues/{issue.pk}/close", body={"note": "x"}
        )
    headers = bearer(no_role_user)
    assert client.post("/api/v1/customers/quality/check", **headers).status_code == 403
