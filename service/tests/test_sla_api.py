"""API of calendars, holidays, SLA policies and per-ticket results; bad input and permissions."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from core.testing.factories import UserFactory
from core.testing.personas import assert_outsider_blocked, bearer
from core.testing.problems import assert_problem, error_fields, nothing_written
from service.models import BusinessCalendar, BusinessTimeframe, CalendarHoliday, SlaPolicy, TicketSla
from service.tests.sla_helpers import office_calendar, policy, ticket

pytestmark = pytest.mark.django_db
BASE = "/api/v1/service"

OFFICE = {
    "name": "Causeway Bay office",
    "time_zone": "Asia/Hong_Kong",
    "timeframes": [
        {"weekday": 0, "start": "09:00", "end": "13:00"},
        {"weekday": 0, "start": "14:00", "end": "18:00"},
        {"weekday": 5, "start": "09:00", "end": "13:00"},
    ],
}


@pytest.fixture
def cs_manager():
    return UserFactory(username="carmen", roles=["cs_manager"])


@pytest.fixture
def api(client):
    """API calls with one token per user, issued before the call (issuing one is itself audited)."""
    headers: dict[int, dict[str, str]] = {}

    def call(method, url, user, body=None):
        if user.pk not in headers:
            headers[user.pk] = bearer(user)
        kwargs = {"content_type": "application/json", **headers[user.pk]}
        if body is not None:
            kwargs["data"] = json.dumps(body)
        return getattr(client, method)(url, **kwargs)

    return call


@pytest.fixture
def cs_agent():
    return UserFactory(username="kelvin", roles=["cs_agent"])


def test_manager_defines_a_calendar_with_a_lunch_break(api, cs_manager):
    response = api("post", f"{BASE}/sla/calendars", cs_manager, OFFICE)
    assert response.status_code == 201, response.content
    body = response.json()
    assert [(f["weekday_label"], f["start"], f["end"]) for f in body["timeframes"]] == [
        ("Monday", "09:00", "13:00"),
        ("Monday", "14:00", "18:00"),
        ("Saturday", "09:00", "13:00"),
    ]
    assert body["hk_public_holidays"] is True


def test_overlapping_timeframes_are_refused_and_nothing_is_written(api, cs_manager):
    body = {**OFFICE, "timeframes": [*OFFICE["timeframes"], {"weekday": 0, "start": "12:00", "end": "15:00"}]}
    api("get", f"{BASE}/sla/calendars", cs_manager)  # issues the token before the count starts
    with nothing_written(BusinessCalendar, BusinessTimeframe):
        response = api("post", f"{BASE}/sla/calendars", cs_manager, body)
    data = assert_problem(response, 422, kind="rule")
    assert "timeframes" in error_fields(data)
    assert "Monday 12:00–15:00 overlaps Monday 09:00–13:00" in str(data["errors"])


def test_unknown_time_zone_is_refused(api, cs_manager):
    api("get", f"{BASE}/sla/calendars", cs_manager)
    with nothing_written(BusinessCalendar):
        response = api("post", f"{BASE}/sla/calendars", cs_manager, {**OFFICE, "time_zone": "HKT"})
    assert "time_zone" in error_fields(assert_problem(response, 422))


def test_end_before_start_is_refused(api, cs_manager):
    body = {**OFFICE, "timeframes": [{"weekday": 1, "start": "18:00", "end": "09:00"}]}
    api("get", f"{BASE}/sla/calendars", cs_manager)
    with nothing_written(BusinessCalendar):
        assert_problem(api("post", f"{BASE}/sla/calendars", cs_manager, body), 422)


def test_public_holidays_list_shows_christmas_and_lunar_new_year_and_worked_days(api, cs_manager):
    calendar = office_calendar()
    api(
        "post",
        f"{BASE}/sla/calendars/{calendar.pk}/holidays",
        cs_manager,
        {"day": "2026-12-26", "name": "Boxing Day sale", "kind": "worked"},
    )
    response = api("get", f"{BASE}/sla/calendars/{calendar.pk}/public-holidays?year=2026", cs_manager)
    days = {row["day"]: row for row in response.json()}
    assert days["2026-12-25"]["worked"] is False
    assert days["2026-02-17"]["name"] == "Chinese New Year"
    assert days["2026-12-26"]["worked"] is True


def test_custom_holiday_added_and_removed(api, cs_manager):
    calendar = office_calendar()
    response = api(
        "post",
        f"{BASE}/sla/calendars/{calendar.pk}/holidays",
        cs_manager,
        {"day": "2026-06-12", "name": "Company anniversary"},
    )
    assert response.status_code == 201
    holiday_id = response.json()["id"]
    assert response.json()["kind"] == "closed"
    response = api("delete", f"{BASE}/sla/calendars/{calendar.pk}/holidays/{holiday_id}", cs_manager)
    assert response.status_code == 204
    assert not CalendarHoliday.objects.exists()


def _upload(client, headers, calendar, name, content):
    return client.post(
        f"{BASE}/sla/calendars/{calendar.pk}/holiday-file",
        {"file": SimpleUploadedFile(name, content)},
        **headers,
    )


def test_holiday_csv_import(client, cs_manager):
    calendar = office_calendar()
    headers = bearer(cs_manager)
    content = b"date,name,kind\n2026-06-12,Company anniversary,closed\n2026-12-26,Boxing Day sale,worked\n"
    response = _upload(client, headers, calendar, "holidays.csv", content)
    assert response.status_code == 200, response.content
    assert response.json() == {"dates": 2}
    assert set(calendar.holidays.values_list("kind", flat=True)) == {"closed", "worked"}
    # The same file again changes nothing.
    assert _upload(client, headers, calendar, "holidays.csv", content).json() == {"dates": 0}


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("hk.ics", b"BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n", "iCalendar (ICS)"),
        ("hk.csv", b"day;title\n2026-06-12;Anniversary\n", "Line 1 must be the header date,name"),
        ("hk.csv", b"date,name\n2026-06-12,Anniversary\n12/06/2026,Bad date\n", "Line 3"),
        ("hk.csv", b"\xff\xfe\x00binary", "not a UTF-8 text file"),
    ],
)
def test_wrong_holiday_file_is_refused_whole(client, cs_manager, name, content, message):
    calendar = office_calendar()
    headers = bearer(cs_manager)
    with nothing_written(CalendarHoliday):
        response = _upload(client, headers, calendar, name, content)
    data = assert_problem(response, 422)
    assert message in str(data["errors"])


def test_policies_created_reordered_and_the_first_match_wins(
    api, cs_manager, django_capture_on_commit_callbacks
):
    calendar = office_calendar()
    body = {"name": "Standard", "calendar_id": calendar.pk, "first_response_minutes": 480}
    standard = api("post", f"{BASE}/sla/policies", cs_manager, body).json()
    body = {
        "name": "VIP",
        "calendar_id": calendar.pk,
        "customer_tiers": ["vip"],
        "first_response_minutes": 60,
    }
    vip = api("post", f"{BASE}/sla/policies", cs_manager, body).json()
    t = ticket("2026-03-02 09:00", customer_tier="vip")
    api("post", f"{BASE}/sla/recompute", cs_manager, {"ticket_ids": [t.pk]})
    assert (
        TicketSla.objects.get(ticket=t).target_minutes == 480
    )  # "Standard" comes first and matches anything
    with django_capture_on_commit_callbacks(execute=True):
        response = api("post", f"{BASE}/sla/policy-order", cs_manager, {"order": [vip["id"], standard["id"]]})
    assert [p["name"] for p in response.json()] == ["VIP", "Standard"]
    response = api("get", f"{BASE}/tickets/{t.pk}/sla", cs_manager)
    assert response.json()["policy_name"] == "VIP"
    assert response.json()["results"][0]["target_minutes"] == 60  # recomputed after the reorder


def test_policy_change_recomputes_its_tickets(api, cs_manager, django_capture_on_commit_callbacks):
    calendar = office_calendar()
    p = policy(calendar, "Standard", targets=(60, 120, 240))
    t = ticket("2026-03-02 09:00", [("agent_reply", "2026-03-02 10:30")])
    api("post", f"{BASE}/sla/recompute", cs_manager, {})
    assert TicketSla.objects.get(ticket=t, target="first_response").met is False
    with django_capture_on_commit_callbacks(execute=True):
        response = api("patch", f"{BASE}/sla/policies/{p.pk}", cs_manager, {"first_response_minutes": 120})
    assert response.status_code == 200, response.content
    assert TicketSla.objects.get(ticket=t, target="first_response").met is True


def test_ticket_sla_endpoint(api, cs_agent):
    calendar = office_calendar()
    policy(calendar, "Standard", targets=(60, 120, 240))
    t = ticket("2026-03-02 09:00", [("agent_reply", "2026-03-02 09:40"), ("resolved", "2026-03-02 11:00")])
    from service.sla import recompute_tickets

    recompute_tickets([t.pk])
    body = api("get", f"{BASE}/tickets/{t.pk}/sla", cs_agent).json()
    assert body["first_response_business_minutes"] == 40
    assert body["resolution_business_minutes"] == 120
    assert [(r["target"], r["met"]) for r in body["results"]] == [
        ("first_response", True),
        ("resolution", True),
    ]


def test_bad_policy_input(api, cs_manager):
    calendar = office_calendar()
    api("get", f"{BASE}/sla/calendars", cs_manager)
    with nothing_written(SlaPolicy):
        no_target = api("post", f"{BASE}/sla/policies", cs_manager, {"name": "X", "calendar_id": calendar.pk})
        bad_priority = api(
            "post",
            f"{BASE}/sla/policies",
            cs_manager,
            {
                "name": "X",
                "calendar_id": calendar.pk,
                "priorities": ["critical"],
                "first_response_minutes": 5,
            },
        )
        dates = api(
            "post",
            f"{BASE}/sla/policies",
            cs_manager,
            {
                "name": "X",
                "calendar_id": calendar.pk,
                "first_response_minutes": 5,
                "effective_from": "2026-05-01",
                "effective_to": "2026-04-01",
            },
        )
    assert "first_response_minutes" in error_fields(assert_problem(no_target, 422))
    assert_problem(bad_priority, 422, kind="validation")
    assert "effective_to" in error_fields(assert_problem(dates, 422))


def test_agent_reads_but_cannot_change(api, cs_agent):
    calendar = office_calendar()
    assert api("get", f"{BASE}/sla/calendars", cs_agent).json()["count"] == 1  # also issues the token
    # Refusals are themselves audited (access denied), so count the calendars rather than all rows.
    assert_problem(api("post", f"{BASE}/sla/calendars", cs_agent, OFFICE), 403)
    response = api("patch", f"{BASE}/sla/calendars/{calendar.pk}", cs_agent, {"name": "Mine"})
    assert response.status_code in (403, 404)
    assert_problem(api("post", f"{BASE}/sla/recompute", cs_agent, {}), 403)
    assert list(BusinessCalendar.objects.values_list("name", flat=True)) == ["HK office"]


def test_outsider_is_blocked(client, outsider, no_role_user):
    calendar = office_calendar()
    p = policy(calendar, "Standard")
    t = ticket("2026-03-02 09:00")
    for person in (outsider, no_role_user):
        assert_outsider_blocked(client, person, "get", f"{BASE}/sla/calendars", secrets=("HK office",))
        assert_outsider_blocked(
            client, person, "get", f"{BASE}/sla/calendars/{calendar.pk}", secrets=("HK office",)
        )
        assert_outsider_blocked(client, person, "get", f"{BASE}/sla/policies", secrets=("Standard",))
        assert_outsider_blocked(client, person, "patch", f"{BASE}/sla/policies/{p.pk}", body={"name": "Mine"})
        assert_outsider_blocked(client, person, "get", f"{BASE}/tickets/{t.pk}/sla")
        assert_outsider_blocked(client, person, "post", f"{BASE}/sla/recompute", body={})
