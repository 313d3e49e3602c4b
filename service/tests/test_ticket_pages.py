"""Pages: the ticket list (filters, paging, flat query count) and a ticket with its events and SLA."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.urls import reverse

from core.testing.factories import UserFactory
from service.importing import ingest
from service.models import Ticket, TicketSla
from service.tests.ingest_helpers import conversation, make_teams, numbered

pytestmark = pytest.mark.django_db


@pytest.fixture
def tickets(vendor):
    make_teams(vendor)
    rows = []
    for n in range(30):
        team = "harbourcall-hotline" if n % 3 == 0 else "hk-email"
        agent = f"hc-{n % 4}" if n % 3 == 0 else f"a-{n % 5}"
        rows += conversation(
            f"T-{n:02d}", day=f"2026-{9 + n % 2:02d}-{10 + n % 15:02d}", team=team, agent=agent
        )
    ingest(numbered(rows), actor=None, via="test")
    return Ticket.objects.all()


def test_the_list_filters_and_pages(client, tickets, vendor):
    client.force_login(UserFactory(username="cheryl", roles=["cs_manager"]))
    page = client.get(reverse("service:home")).content.decode()
    assert "Page 1 of 1 (30 tickets)" in page
    only_vendor = client.get(
        reverse("service:home"), {"vendor": vendor.pk, "period": "2026-09"}
    ).content.decode()
    assert "(5 tickets)" in only_vendor
    in_house = client.get(reverse("service:home"), {"vendor": "in-house"}, HTTP_HX_REQUEST="true")
    assert "(20 tickets)" in in_house.content.decode()
    assert "<html" not in in_house.content.decode()  # HTMX gets the table only


def test_the_list_costs_the_same_queries_at_any_size(client, tickets, django_assert_max_num_queries, vendor):
    client.force_login(UserFactory(username="cheryl", roles=["cs_manager"]))
    client.get(reverse("service:home"))  # warm the session and permission caches
    with django_assert_max_num_queries(12) as small:
        client.get(reverse("service:home"), {"period": "2026-09"})
    more = [row for n in range(40) for row in conversation(f"X-{n}", day="2026-09-20", agent=f"x-{n}")]
    ingest(numbered(more), actor=None, via="test")
    with django_assert_max_num_queries(len(small.captured_queries)):
        client.get(reverse("service:home"), {"period": "2026-09"})


def test_a_ticket_shows_its_events_and_sla_results(client, tickets):
    ticket = Ticket.objects.get(external_id="T-01")
    TicketSla.objects.create(
        ticket=ticket,
        target="first_response",
        target_minutes=60,
        due_at=datetime(2026, 10, 11, 2, 0, tzinfo=UTC),
        met=False,
        breached_at=datetime(2026, 10, 11, 2, 0, tzinfo=UTC),
        business_minutes=75,
    )
    client.force_login(UserFactory(username="kelvin", roles=["cs_agent"]))
    page = client.get(reverse("service:ticket", args=[ticket.pk])).content.decode()
    assert "Internal note" in page and "Bot reply" in page
    assert page.index("Created") < page.index("Agent public reply") < page.index("Resolved</td>")
    assert "breached" in page and "75" in page and "11 Oct 2026 10:00" in page


def test_portal_users_see_their_vendors_tickets_and_outsiders_nothing(
    client, tickets, portal_user, outsider, no_role_user
):
    theirs = Ticket.objects.filter(vendor__isnull=False).first()
    ours = Ticket.objects.filter(vendor__isnull=True).first()
    assert theirs is not None and ours is not None
    client.force_login(portal_user)
    assert "(10 tickets)" in client.get(reverse("service:home")).content.decode()
    assert client.get(reverse("service:ticket", args=[theirs.pk])).status_code == 200
    assert client.get(reverse("service:ticket", args=[ours.pk])).status_code == 404
    client.force_login(outsider)
    assert "(0 tickets)" in client.get(reverse("service:home")).content.decode()
    assert client.get(reverse("service:ticket", args=[theirs.pk])).status_code == 404
    client.force_login(no_role_user)
    assert client.get(reverse("service:home")).status_code == 403
    assert client.get(reverse("service:ticket", args=[theirs.pk])).status_code == 404


def test_the_navigation_shows_service_to_those_who_may_read_tickets(client, portal_user, no_role_user):
    client.force_login(portal_user)
    assert 'href="/service/"' in client.get("/").content.decode()
    client.force_login(no_role_user)
    assert 'href="/service/"' not in client.get("/").content.decode()
