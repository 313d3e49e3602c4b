"""Pages: calendars with timeframes and holidays, SLA policies in order, the ticket SLA fragment."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing.factories import UserFactory
from service import sla
from service.models import BusinessCalendar, BusinessTimeframe, CalendarHoliday, SlaPolicy
from service.tests.sla_helpers import office_calendar, policy, ticket

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(client):
    user = UserFactory(username="carmen", roles=["cs_manager"])
    client.force_login(user)
    return user


def test_manager_sees_every_page(client, manager):
    calendar = office_calendar()
    p = policy(calendar, "Standard")
    for url in [
        "/service/sla/",
        "/service/sla/policies/new/",
        f"/service/sla/policies/{p.pk}/edit/",
        "/service/sla/calendars/",
        "/service/sla/calendars/new/",
        f"/service/sla/calendars/{calendar.pk}/",
        f"/service/sla/calendars/{calendar.pk}/edit/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
    page = client.get(f"/service/sla/calendars/{calendar.pk}/?year=2026").content.decode()
    assert "Chinese New Year" in page and "Christmas Day" in page
    assert "How SLA results are computed" in client.get("/service/sla/").content.decode()


def test_calendar_form_refuses_overlapping_timeframes(client, manager):
    data = {
        "name": "Overlap",
        "time_zone": "Asia/Hong_Kong",
        "timeframes": "Mon 09:00-13:00\nMon 12:00-18:00",
    }
    response = client.post("/service/sla/calendars/new/", data)
    assert response.status_code == 200
    assert "Monday 12:00–18:00 overlaps Monday 09:00–13:00" in response.content.decode()
    assert not BusinessCalendar.objects.exists() and not BusinessTimeframe.objects.exists()


def test_calendar_form_defines_a_calendar_with_lunch_break(client, manager):
    data = {
        "name": "Mong Kok shop",
        "time_zone": "Asia/Hong_Kong",
        "hk_public_holidays": "on",
        "timeframes": "Mon 09:00-13:00\nMon 14:00-18:00\nSat 09:00-13:00",
    }
    response = client.post("/service/sla/calendars/new/", data)
    calendar = BusinessCalendar.objects.get()
    assert response.status_code == 302
    assert calendar.timeframes.count() == 3


def test_public_holiday_toggled_to_worked_and_back(client, manager):
    calendar = office_calendar()
    url = f"/service/sla/calendars/{calendar.pk}/public/2026-12-26/"
    client.post(url, {"name": "The first weekday after Christmas Day"})
    assert calendar.holidays.get().kind == CalendarHoliday.Kind.WORKED
    client.post(url)
    assert not calendar.holidays.exists()


def test_custom_holiday_added_and_a_bad_file_refused(client, manager):
    calendar = office_calendar()
    client.post(
        f"/service/sla/calendars/{calendar.pk}/holidays/",
        {"day": "2026-06-12", "name": "Anniversary", "kind": "closed"},
    )
    assert calendar.holidays.get().name == "Anniversary"
    ics = SimpleUploadedFile("hk.ics", b"BEGIN:VCALENDAR\nEND:VCALENDAR\n")
    response = client.post(
        f"/service/sla/calendars/{calendar.pk}/holidays/import/", {"file": ics}, follow=True
    )
    assert "iCalendar (ICS)" in response.content.decode()
    assert calendar.holidays.count() == 1


def test_policy_form_and_reorder(client, manager):
    calendar = office_calendar()
    policy(calendar, "Standard")
    data = {
        "name": "VIP",
        "active": "on",
        "customer_tiers": "vip",
        "calendar": calendar.pk,
        "first_response_minutes": "30",
    }
    assert client.post("/service/sla/policies/new/", data).status_code == 302
    vip = SlaPolicy.objects.get(name="VIP")
    assert vip.customer_tiers == ["vip"]
    client.post(f"/service/sla/policies/{vip.pk}/move/", {"direction": "up"})
    assert list(SlaPolicy.objects.values_list("name", flat=True)) == ["VIP", "Standard"]


def test_ticket_sla_fragment(client, manager):
    calendar = office_calendar()
    policy(calendar, "High", targets=(60, 120, 240))
    t = ticket("2026-03-02 09:00", [("agent_reply", "2026-03-03 09:00")])
    sla.recompute_tickets([t.pk])
    response = client.get(f"/service/tickets/{t.pk}/sla/", HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in text
    assert "breached" in text and "Policy: <strong>High</strong>" in text
    assert "<html" in client.get(f"/service/tickets/{t.pk}/sla/").content.decode()


def test_agent_reads_policies_but_cannot_change_them(client):
    calendar = office_calendar()
    p = policy(calendar, "Standard")
    client.force_login(UserFactory(username="kelvin", roles=["cs_agent"]))
    assert client.get("/service/sla/").status_code == 200
    assert client.get(f"/service/sla/policies/{p.pk}/edit/").status_code in (403, 404)
    assert client.post("/service/sla/recompute/").status_code == 403


@pytest.mark.parametrize("persona", ["outsider", "no_role_user"])
def test_outsider_reaches_no_sla_page(client, persona, request):
    calendar = office_calendar()
    p = policy(calendar, "Standard")
    t = ticket("2026-03-02 09:00")
    client.force_login(request.getfixturevalue(persona))
    for url in [
        "/service/sla/",
        "/service/sla/calendars/",
        f"/service/sla/calendars/{calendar.pk}/",
        f"/service/sla/policies/{p.pk}/edit/",
        f"/service/tickets/{t.pk}/sla/",
    ]:
        assert client.get(url).status_code in (403, 404), url
    assert client.post(
        f"/service/sla/calendars/{calendar.pk}/holidays/", {"day": "2026-06-12", "name": "x"}
    ).status_code in (403, 404)
    assert not calendar.holidays.exists()
