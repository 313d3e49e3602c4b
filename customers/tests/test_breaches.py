"""The breach register: the PCPD form's four parts, voluntary today, ready for mandatory notification."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers import breaches
from customers.privacy_models import Breach

pytestmark = pytest.mark.django_db
API = "/api/v1/customers/breaches"

BODY = {
    "data_user": "Steward Trading (HK) Ltd",
    "data_user_address": "8/F, 1 Harbour Road, Wan Chai",
    "contact_name": "Daniel Ho",
    "contact_title": "Data-protection officer",
    "contact_phone": "+852 2123 4567",
    "contact_email": "dpo@example.hk",
    "title": "Campaign list e-mailed to the wrong agency",
    "occurred_at": "2026-11-18T09:30:00+08:00",
    "discovered_at": "2026-11-19T11:00:00+08:00",
    "description": "A spreadsheet of 1,200 customers was sent to an agency that is not our processor.",
    "data_kinds": "names, e-mail addresses, mobile numbers",
    "affected_count": 1200,
    "cause": "wrong_recipient",
    "harm_assessment": "Low: contact details only; the agency confirmed deletion.",
    "containment": "Recall requested, deletion confirmed in writing.",
    "remedial_action": "Marketing exports now go through the suppression-checked export only.",
}


def test_a_breach_records_all_four_parts_and_the_notifications(client, dpo):
    response = api_call(client, "post", API, dpo, BODY)
    assert response.status_code == 201, response.content
    data = response.json()
    for field in ("data_user", "contact_name", "data_kinds", "affected_count", "cause", "remedial_action"):
        assert data[field] == BODY[field]
    assert data["pcpd_notified"] is False and data["notify_by"] is None  # voluntary today
    pk = data["id"]
    notified = api_call(
        client,
        "post",
        f"{API}/{pk}/notification",
        dpo,
        {
            "pcpd_notified_at": "2026-11-20T10:00:00+08:00",
            "pcpd_reference": "DBN-2026-118",
            "subjects_notified_at": "2026-11-20T12:00:00+08:00",
        },
    )
    assert notified.status_code == 200, notified.content
    assert notified.json()["pcpd_notified"] and notified.json()["subjects_notified"]
    assert notified.json()["pcpd_reference"] == "DBN-2026-118"


def test_mandatory_notification_gives_deadlines_without_changing_the_records(dpo, settings):
    discovered = timezone.now() - timedelta(days=10)
    old = breaches.breach_create(
        actor=dpo,
        data_user="Steward",
        contact_name="Daniel",
        title="Lost laptop",
        discovered_at=discovered,
        description="Unencrypted laptop lost on the MTR",
        data_kinds="names",
        affected_count=30,
        cause="loss",
    )
    assert old.notify_by is None and not breaches.overdue(user=dpo).exists()
    settings.STEWARD_BREACH_NOTIFICATION_MANDATORY = True
    settings.STEWARD_BREACH_NOTIFY_DAYS = 5
    assert breaches.breach_deadlines_apply(actor=dpo) == 1
    old.refresh_from_db()
    assert old.notify_by == discovered + timedelta(days=5)
    assert list(breaches.overdue(user=dpo)) == [old]
    new = breaches.breach_create(
        actor=dpo,
        data_user="Steward",
        contact_name="Daniel",
        title="Phishing",
        discovered_at=timezone.now(),
        description="Staff account phished",
        data_kinds="orders",
        affected_count=5,
        cause="hacking",
    )
    assert new.notify_by is not None


def test_impossible_dates_are_refused_and_nothing_is_written(client, dpo):
    headers = bearer(dpo)
    with nothing_written(Breach):
        response = client.post(
            API,
            data=json.dumps({**BODY, "occurred_at": "2026-11-20T09:30:00+08:00"}),
            content_type="application/json",
            **headers,
        )
    assert_problem(response, 422)
    with pytest.raises(ValidationError):
        breaches.breach_create(
            actor=dpo,
            **{k: v for k, v in BODY.items() if k not in ("occurred_at", "discovered_at")},
            discovered_at=timezone.now() + timedelta(days=3),
        )


def test_outsiders_cannot_reach_the_register(client, dpo, outsider, no_role_user):
    pk = api_call(client, "post", API, dpo, BODY).json()["id"]
    for user in (outsider, no_role_user):
        assert_outsider_blocked(client, user, "GET", f"{API}/{pk}", secrets=("wrong agency",))
        assert_outsider_blocked(client, user, "GET", API, secrets=("wrong agency",))


def test_the_dpo_records_a_breach_on_the_page(client, dpo):
    client.force_login(dpo)
    form = {k: v for k, v in BODY.items()}
    form["occurred_at"] = "2026-11-18T09:30"
    form["discovered_at"] = "2026-11-19T11:00"
    response = client.post("/customers/breaches/new/", form)
    breach = Breach.objects.get()
    assert response.url == f"/customers/breaches/{breach.pk}/"
    assert "Campaign list" in client.get("/customers/breaches/").content.decode()
