"""Imported tickets are linked to a known customer (issue 4 items 1 and 4): by the shop's customer id
first, else by e-mail, through the API, the file import and the webhook alike. Unknown customers are
not created and ambiguous e-mails are not guessed; both are counted. A linked ticket gets its
survey after resolution and shows on the customer's profile timeline."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from core.models import AuditEvent
from core.testing.factories import UserFactory
from core.testing.personas import api_call, assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, nothing_written
from customers.models import Customer
from service.importing import ingest
from service.models import ImportJob, SurveyInvitation, Ticket
from service.services import SIGNATURE_HEADER, webhook_signature
from service.tests.ingest_helpers import as_csv, as_ndjson, call, conversation, make_teams, numbered
from service.tests.quality_factories import CustomerFactory, make_user

pytestmark = pytest.mark.django_db
TICKETS = "/api/v1/service/tickets"
WEBHOOK = "/api/v1/service/webhooks/helpdesk"
SECRET = "s3cret-shared-with-the-helpdesk"


@pytest.fixture(autouse=True)
def teams(vendor):
    return make_teams(vendor)


@pytest.fixture
def cs_manager():
    return UserFactory(username="cheryl", roles=["cs_manager"])


@pytest.fixture
def shoppers() -> dict[str, Customer]:
    """Customers as the customers package collected them, from two shops (ids unique per source)."""
    return {
        "wong": customer(source="shopify", external_id="C-1", email="Tai.Man.Wong@example.hk"),
        "chan": customer(source="shopify", external_id="C-2", email="siu.ming@example.hk"),
        "twin_a": customer(source="shopify", external_id="C-3", email="family@example.hk"),
        "twin_b": customer(source="pos", external_id="P-9", email="FAMILY@example.hk"),
        "other_shop": customer(source="pos", external_id="C-1", email="pos.c1@example.hk"),
        "merged": customer(source="shopify", external_id="C-8", email="old@example.hk"),
        "gone": customer(
            source="shopify", external_id="C-9", email="gone@example.hk", anonymised_at=timezone.now()
        ),
    }


def customer(**fields: Any) -> Customer:
    made: Any = CustomerFactory(**fields)
    return made  # type: ignore[no-any-return]


def api_ticket(ticket_id: str, **fields: Any) -> dict[str, Any]:
    return {
        "source": "zendesk",
        "ticket_id": ticket_id,
        "subject": f"Parcel {ticket_id}",
        "team": "hk-email",
        "agent": "zd-7",
        "events": [
            {"event_id": "1", "kind": "created", "occurred_at": "2026-10-05T09:00:00+08:00"},
            {
                "event_id": "2",
                "kind": "agent_reply",
                "occurred_at": "2026-10-05T09:12:00+08:00",
                "agent": "zd-7",
            },
            {
                "event_id": "3",
                "kind": "resolved",
                "occurred_at": "2026-10-05T09:30:00+08:00",
                "agent": "zd-7",
            },
        ],
        **fields,
    }


def customer_of(ticket_id: str) -> int | None:
    return Ticket.objects.get(external_id=ticket_id).customer_id


# --- the REST API -------------------------------------------------------------------------------


def test_the_api_links_by_customer_id_then_by_e_mail(client, cs_manager, shoppers):
    one = api_call(
        client, "POST", TICKETS, cs_manager, api_ticket("Z-1", customer_source="shopify", customer_id="C-1")
    )
    assert one.status_code == 200, one.content
    assert one.json()["customers_linked"] == 1 and one.json()["ticket"]["customer_id"] == shoppers["wong"].pk
    bulk = api_call(
        client,
        "POST",
        f"{TICKETS}/bulk",
        cs_manager,
        {
            "tickets": [
                api_ticket("Z-2", customer_email="  SIU.MING@example.hk "),  # case and spaces do not matter
                # an id that matches nobody falls back to the e-mail
                api_ticket("Z-3", customer_id="C-404", customer_email="tai.man.wong@example.hk"),
                api_ticket("Z-4", customer_id="C-2"),  # no source: unique across sources, so linked
            ]
        },
    ).json()
    assert (bulk["customers_linked"], bulk["customers_unmatched"], bulk["customers_ambiguous"]) == (3, 0, 0)
    assert customer_of("Z-2") == shoppers["chan"].pk
    assert customer_of("Z-3") == shoppers["wong"].pk
    assert customer_of("Z-4") == shoppers["chan"].pk


def test_unknown_and_ambiguous_references_stay_unlinked_and_are_counted(client, cs_manager, shoppers):
    shoppers["merged"].merged_into = shoppers["chan"]
    shoppers["merged"].save()
    customers_before = Customer.objects.count()
    bulk = api_call(
        client,
        "POST",
        f"{TICKETS}/bulk",
        cs_manager,
        {
            "tickets": [
                api_ticket("Z-1", customer_email="family@example.hk"),  # two customers share it
                api_ticket("Z-2", customer_id="C-1"),  # C-1 in two shops, no source named
                api_ticket("Z-3", customer_id="C-77", customer_email="nobody@example.hk"),
                api_ticket("Z-4", customer_id="C-8"),  # merged into another record
                api_ticket("Z-5", customer_email="gone@example.hk"),  # anonymised
                api_ticket("Z-6"),  # no reference: not counted at all
            ]
        },
    ).json()
    assert (bulk["tickets_created"], bulk["customers_linked"]) == (6, 0)
    assert (bulk["customers_unmatched"], bulk["customers_ambiguous"]) == (3, 2)
    assert not Ticket.objects.filter(customer__isnull=False).exists()
    assert Customer.objects.count() == customers_before  # an unknown customer is not created


def test_a_replay_changes_nothing_and_a_linked_ticket_keeps_its_customer(client, cs_manager, shoppers):
    body = api_ticket("Z-1", customer_source="shopify", customer_id="C-1")
    api_call(client, "POST", TICKETS, cs_manager, body)
    before = list(Ticket.objects.values_list())
    ingest_audits = AuditEvent.objects.filter(object_type="service.ticket")
    audits = ingest_audits.count()
    replay = api_call(client, "POST", TICKETS, cs_manager, body).json()
    assert (replay["customers_linked"], replay["customers_unmatched"], replay["events_created"]) == (0, 0, 0)
    assert list(Ticket.objects.values_list()) == before and ingest_audits.count() == audits
    # A later row naming someone else does not move a ticket that already has its customer.
    api_call(client, "POST", TICKETS, cs_manager, {**body, "customer_id": "C-2", "customer_source": ""})
    assert customer_of("Z-1") == shoppers["wong"].pk


def test_a_ticket_imported_before_its_customer_is_linked_by_a_later_delivery(client, cs_manager):
    body = api_ticket("Z-1", customer_email="late@example.hk")
    first = api_call(client, "POST", TICKETS, cs_manager, body).json()
    assert first["customers_unmatched"] == 1
    late = customer(source="shopify", external_id="C-50", email="late@example.hk")
    again = api_call(client, "POST", TICKETS, cs_manager, body).json()
    assert again["customers_linked"] == 1 and customer_of("Z-1") == late.pk
    event = AuditEvent.objects.filter(object_type="service.ticket").latest("id")
    assert event.changes["customers_linked"] == 1 and "late@example.hk" not in json.dumps(event.changes)


def test_a_malformed_e_mail_is_refused_and_writes_nothing(client, cs_manager, shoppers):
    headers = bearer(cs_manager)  # made before: the token is not what is watched
    with nothing_written(Ticket):
        response = call(client, "POST", TICKETS, headers, api_ticket("Z-1", customer_email="not-an-email"))
    problem = assert_problem(response, 422, kind="rule")
    assert "not-an-email" not in response.content.decode()
    assert any(e["field"] == "tickets.0.customer_email" for e in problem["errors"])


def test_the_outsider_and_an_agent_still_cannot_send_tickets(client, outsider, shoppers):
    agent = make_user(username="kelvin", roles=["cs_agent"])
    body = api_ticket("Z-1", customer_email="siu.ming@example.hk")
    assert_outsider_blocked(client, outsider, "POST", TICKETS, body=body)
    assert_problem(api_call(client, "POST", TICKETS, agent, body), 403)
    assert_problem(api_call(client, "POST", f"{TICKETS}/bulk", agent, {"tickets": [body]}), 403)
    assert not Ticket.objects.exists()


# --- the file import ----------------------------------------------------------------------------


def upload(client, content: bytes, name: str, capture) -> ImportJob:
    data = {"file": SimpleUploadedFile(name, content), "mode": "keep_good", "source": "zendesk"}
    with capture(execute=True):
        client.post(reverse("service:imports"), data)
    return ImportJob.objects.latest("id")


@pytest.mark.parametrize("fmt", ["csv", "ndjson"])
def test_a_file_import_links_by_id_and_by_e_mail_and_reports_the_counts(
    client, cs_manager, shoppers, django_capture_on_commit_callbacks, fmt
):
    rows = [
        *conversation("T-1", customer_source="shopify", customer_id="C-2"),
        *conversation("T-2", customer_email="Tai.Man.Wong@EXAMPLE.hk"),
        *conversation("T-3", customer_email="family@example.hk"),
        *conversation("T-4", customer_id="C-404"),
    ]
    content = as_csv(rows) if fmt == "csv" else as_ndjson(rows)
    client.force_login(cs_manager)
    job = upload(client, content, f"export.{fmt}", django_capture_on_commit_callbacks)
    assert job.status == ImportJob.Status.DONE, job.message
    assert (job.customers_linked, job.customers_unmatched, job.customers_ambiguous) == (2, 1, 1)
    assert customer_of("T-1") == shoppers["chan"].pk and customer_of("T-2") == shoppers["wong"].pk
    assert customer_of("T-3") is None and customer_of("T-4") is None
    page = client.get(reverse("service:import", args=[job.pk])).content.decode()
    assert "Customers linked" in page and "matching nobody" in page
    listed = api_call(client, "GET", f"/api/v1/service/imports/{job.pk}", cs_manager).json()
    assert (listed["customers_linked"], listed["customers_unmatched"], listed["customers_ambiguous"]) == (
        2,
        1,
        1,
    )
    # The same file again: every ticket is stored, nothing changes and nothing new is counted.
    before = list(Ticket.objects.order_by("id").values_list())
    again = upload(client, content, f"export.{fmt}", django_capture_on_commit_callbacks)
    assert (again.customers_linked, again.tickets_created, again.events_created) == (0, 0, 0)
    assert list(Ticket.objects.order_by("id").values_list()) == before


def test_the_shared_path_takes_the_newest_row_naming_a_customer(shoppers):
    rows = conversation("T-1")
    rows[0]["customer_id"] = "C-2"  # the first row names one customer…
    rows[-1]["customer_id"] = "C-3"  # …the newest row another: the newest wins
    rows[-1]["customer_source"] = "shopify"
    result = ingest(numbered(rows), actor=None, via="test")
    assert result.customers_linked == 1 and customer_of("T-1") == shoppers["twin_a"].pk


# --- the webhook --------------------------------------------------------------------------------


def deliver(client, body: dict[str, Any]) -> Any:
    raw = json.dumps(body).encode()
    return client.post(
        WEBHOOK,
        data=raw,
        content_type="application/json",
        **{"HTTP_" + SIGNATURE_HEADER.upper().replace("-", "_"): webhook_signature(raw, SECRET)},
    )


def test_the_webhook_links_by_id_and_by_e_mail(client, settings, shoppers):
    settings.STEWARD_HELPDESK_WEBHOOK_SECRET = SECRET
    by_id = deliver(client, api_ticket("W-1", customer_source="pos", customer_id="C-1"))
    assert by_id.status_code == 200, by_id.content
    assert by_id.json()["customers_linked"] == 1
    by_email = deliver(client, api_ticket("W-2", customer_email="siu.ming@example.hk")).json()
    ambiguous = deliver(client, api_ticket("W-3", customer_email="family@example.hk")).json()
    unknown = deliver(client, api_ticket("W-4", customer_id="C-404")).json()
    assert customer_of("W-1") == shoppers["other_shop"].pk and customer_of("W-2") == shoppers["chan"].pk
    assert (
        by_email["customers_linked"],
        ambiguous["customers_ambiguous"],
        unknown["customers_unmatched"],
    ) == (
        1,
        1,
        1,
    )
    assert customer_of("W-3") is None and customer_of("W-4") is None


def test_an_unsigned_delivery_links_nothing(client, settings, shoppers):
    settings.STEWARD_HELPDESK_WEBHOOK_SECRET = SECRET
    raw = json.dumps(api_ticket("W-1", customer_email="siu.ming@example.hk")).encode()
    response = client.post(WEBHOOK, data=raw, content_type="application/json")
    assert_problem(response, 401)
    assert not Ticket.objects.exists()  # (the refusal itself is audited, as for every bad signature)


# --- what the link is for: the survey and the customer's timeline ------------------------------


def test_a_linked_imported_ticket_once_resolved_gets_its_survey_e_mail(
    client, cs_manager, shoppers, django_capture_on_commit_callbacks
):
    day = (timezone.localdate() - timedelta(days=1)).isoformat()  # resolved yesterday: in the window
    rows = [*conversation("T-1", day=day, customer_id="C-2"), *conversation("T-2", day=day)]
    ingest(numbered(rows), actor=None, via="test")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("send_surveys")
    linked = Ticket.objects.get(external_id="T-1")
    assert linked.status == Ticket.Status.RESOLVED
    assert list(SurveyInvitation.objects.values_list("ticket_id", flat=True)) == [linked.pk]
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["siu.ming@example.hk"]


def test_the_customer_profile_timeline_shows_the_imported_ticket(client, admin_user, shoppers):
    ingest(
        numbered(conversation("T-1", subject="Lipstick shade mix-up", customer_id="C-2")), actor=None, via="t"
    )
    client.force_login(admin_user)
    page = client.get(f"/customers/{shoppers['chan'].pk}/", {"purpose": "data protection"}).content.decode()
    assert "Lipstick shade mix-up" in page
    other = client.get(f"/customers/{shoppers['wong'].pk}/", {"purpose": "data protection"}).content.decode()
    assert "Lipstick shade mix-up" not in other


def test_the_ticket_page_says_whether_the_ticket_has_a_customer(client, cs_manager, shoppers):
    ingest(numbered([*conversation("T-1", customer_id="C-2"), *conversation("T-2")]), actor=None, via="t")
    linked, unlinked = (Ticket.objects.get(external_id=t) for t in ("T-1", "T-2"))
    profile = reverse("customers:detail", args=[shoppers["chan"].pk])
    client.force_login(cs_manager)  # may not open customer records: told only that there is one
    page = client.get(reverse("service:ticket", args=[linked.pk])).content.decode()
    assert "Linked to a customer record" in page and profile not in page
    assert (
        "Not linked: no survey can be sent"
        in client.get(reverse("service:ticket", args=[unlinked.pk])).content.decode()
    )
    client.force_login(make_user(username="kelvin", roles=["cs_agent"]))  # may: the link to the profile
    page = client.get(reverse("service:ticket", args=[linked.pk])).content.decode()
    assert f'href="{profile}"' in page
