"""Per-ticket SLA results: first response, next response, resolution, pauses, reopen (issue 4 item 3)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from service import sla, sla_services
from service.models import Ticket, TicketSla
from service.sla_services import Timeframe
from service.tests.sla_helpers import hk, office_calendar, policy, results, ticket

pytestmark = pytest.mark.django_db
BERLIN = ZoneInfo("Europe/Berlin")
NOW = hk("2026-04-30 12:00")


@pytest.fixture
def office():
    calendar = office_calendar()
    policy(calendar, "High", targets=(60, 120, 240), priorities=["high"])
    policy(calendar, "Standard", targets=(480, 480, 2400))
    return calendar


def computed(t: Ticket, now=NOW) -> Ticket:
    sla.recompute_tickets([t.pk], now=now)
    t.refresh_from_db()
    return t


def test_first_response_ignores_bot_replies_and_internal_notes(office):
    t = ticket(
        "2026-03-02 09:00",
        [
            ("bot_reply", "2026-03-02 09:01"),
            ("internal_note", "2026-03-02 09:10"),
            ("agent_reply", "2026-03-02 09:45"),
        ],
        priority="high",
    )
    t = computed(t)
    assert t.first_response_business_minutes == 45
    assert t.first_response_calendar_minutes == 45
    assert results(t)["first_response"] == {
        "due": "2026-03-02 10:00",
        "met": True,
        "breached": None,
        "minutes": 45,
    }


def test_ticket_created_outside_business_hours(office):
    t = computed(ticket("2026-03-01 22:00", [("agent_reply", "2026-03-02 09:30")]))
    assert t.first_response_business_minutes == 30
    assert t.first_response_calendar_minutes == 11 * 60 + 30
    assert results(t)["first_response"]["due"] == "2026-03-02 18:00"  # 8 h after Monday 09:00, lunch skipped


def test_late_first_response_is_breached_at_the_due_time(office):
    t = computed(ticket("2026-03-02 09:00", [("agent_reply", "2026-03-03 09:00")], priority="high"))
    assert t.first_response_business_minutes == 480
    assert t.first_response_calendar_minutes == 24 * 60
    assert results(t)["first_response"] == {
        "due": "2026-03-02 10:00",
        "met": False,
        "breached": "2026-03-02 10:00",
        "minutes": 480,
    }


def test_pending_time_is_paused_for_resolution(office):
    t = ticket(
        "2026-03-02 09:00",
        [
            ("agent_reply", "2026-03-02 09:30"),
            ("status_change", "2026-03-02 10:00", "pending"),
            ("customer_message", "2026-03-03 10:00"),
            ("status_change", "2026-03-03 10:00", "open"),
            ("resolved", "2026-03-03 11:00"),
        ],
        priority="high",
    )
    t = computed(t)
    assert t.resolution_business_minutes == 120
    assert t.resolution_calendar_minutes == 120
    assert t.first_resolution_business_minutes == 120
    # 240 business minutes from Monday 09:00 is 13:00; the pending day moves it to Tuesday 13:00.
    assert results(t)["resolution"] == {
        "due": "2026-03-03 13:00",
        "met": True,
        "breached": None,
        "minutes": 120,
    }


def test_while_pending_the_resolution_clock_is_stopped(office):
    t = ticket(
        "2026-03-02 09:00",
        [("agent_reply", "2026-03-02 09:30"), ("status_change", "2026-03-02 10:00", "pending")],
        priority="high",
    )
    t = computed(t, now=hk("2026-03-10 12:00"))
    assert results(t)["resolution"] == {"due": None, "met": None, "breached": None, "minutes": None}


def test_reopen_after_close_pauses_the_closed_time(office):
    t = ticket(
        "2026-03-02 09:00",
        [
            ("agent_reply", "2026-03-02 09:30"),
            ("resolved", "2026-03-02 10:00"),
            ("status_change", "2026-03-02 12:00", "closed"),
            ("reopened", "2026-03-04 10:00"),
            ("agent_reply", "2026-03-04 10:30"),
            ("resolved", "2026-03-04 11:00"),
        ],
        priority="high",
    )
    t = computed(t)
    assert t.first_resolution_business_minutes == 60
    assert t.first_resolution_calendar_minutes == 60
    assert t.resolution_business_minutes == 120
    assert t.resolution_calendar_minutes == 120
    assert results(t)["resolution"]["met"] is True


def test_reopened_ticket_has_no_full_resolution_yet(office):
    t = ticket(
        "2026-03-02 09:00",
        [
            ("agent_reply", "2026-03-02 09:30"),
            ("resolved", "2026-03-02 10:00"),
            ("reopened", "2026-03-04 10:00"),
        ],
        priority="high",
    )
    t = computed(t, now=hk("2026-03-04 10:30"))
    assert t.first_resolution_business_minutes == 60
    assert t.resolution_business_minutes is None
    # Due: 240 business minutes, the closed Monday 10:00 → Wednesday 10:00 skipped: Wednesday 13:00.
    assert results(t)["resolution"] == {
        "due": "2026-03-04 13:00",
        "met": None,
        "breached": None,
        "minutes": None,
    }


def test_next_response_keeps_the_worst_gap_and_the_first_breach(office):
    t = ticket(
        "2026-03-02 09:00",
        [
            ("agent_reply", "2026-03-02 09:30"),
            ("customer_message", "2026-03-02 10:00"),
            ("customer_message", "2026-03-02 10:20"),  # still the same wait: counted from 10:00
            ("agent_reply", "2026-03-02 14:30"),  # 3 h 30 of business time (lunch skipped)
            ("customer_message", "2026-03-02 15:00"),
            ("agent_reply", "2026-03-02 15:10"),
        ],
        priority="high",
    )
    t = computed(t)
    assert results(t)["next_response"] == {
        "due": "2026-03-02 17:00",
        "met": False,
        "breached": "2026-03-02 12:00",
        "minutes": 210,
    }


def test_no_customer_message_after_the_first_reply_means_no_next_response_row(office):
    t = computed(ticket("2026-03-02 09:00", [("agent_reply", "2026-03-02 09:30")], priority="high"))
    assert "next_response" not in results(t)


def test_unanswered_ticket_breaches_once_now_passes_the_due_time(office):
    t = ticket("2026-03-02 09:00", priority="high")
    assert results(computed(t, now=hk("2026-03-02 09:30")))["first_response"]["met"] is None
    assert results(computed(t, now=hk("2026-03-02 11:00")))["first_response"] == {
        "due": "2026-03-02 10:00",
        "met": False,
        "breached": "2026-03-02 10:00",
        "minutes": None,
    }


@pytest.mark.parametrize("flag", ["is_merged", "is_spam"])
def test_merged_and_spam_tickets_get_no_sla_rows(office, flag):
    t = computed(ticket("2026-03-02 09:00", [("agent_reply", "2026-03-02 09:30")]))
    assert TicketSla.objects.filter(ticket=t).exists()
    Ticket.objects.filter(pk=t.pk).update(**{flag: True})
    t = computed(t)
    assert not TicketSla.objects.filter(ticket=t).exists()
    assert t.first_response_business_minutes is None


def test_merge_event_also_removes_the_rows(office):
    t = computed(
        ticket("2026-03-02 09:00", [("agent_reply", "2026-03-02 09:30"), ("merged", "2026-03-02 10:00")])
    )
    assert not TicketSla.objects.filter(ticket=t).exists()


def test_first_matching_policy_in_order_wins_and_effective_dates_count(office):
    vip = policy(
        office, "VIP", targets=(15, 30, 120), customer_tiers=["vip"], effective_from=date(2026, 4, 1)
    )
    sla_services.policies_reorder(
        actor=None, order=[vip.pk, *[p.pk for p in office.policies.exclude(pk=vip.pk)]]
    )
    before = computed(ticket("2026-03-31 09:00", customer_tier="vip", priority="high"))
    after = computed(ticket("2026-04-01 09:00", customer_tier="vip", priority="high"))
    assert TicketSla.objects.get(ticket=before, target="first_response").target_minutes == 60  # "High"
    assert TicketSla.objects.get(ticket=after, target="first_response").target_minutes == 15  # "VIP"


def test_calendar_effective_dates_decide_whether_its_policy_applies():
    old = office_calendar("Old hours", effective_to=date(2026, 3, 31))
    new = office_calendar("New hours", effective_from=date(2026, 4, 1))
    policy(old, "Old", targets=(60, 60, 60))
    policy(new, "New", targets=(30, 30, 30))
    march = computed(ticket("2026-03-31 09:00"))
    april = computed(ticket("2026-04-01 09:00"))
    assert TicketSla.objects.get(ticket=march, target="first_response").target_minutes == 60
    assert TicketSla.objects.get(ticket=april, target="first_response").target_minutes == 30


def test_berlin_calendar_across_the_spring_forward_night():
    berlin = sla_services.calendar_create(
        actor=None,
        name="Berlin desk",
        time_zone="Europe/Berlin",
        hk_public_holidays=False,
        timeframes=[Timeframe(d, 8 * 60, 20 * 60) for d in range(7)],
    )
    policy(berlin, "Berlin", targets=(120, 120, 24 * 60))
    t = ticket("2026-03-28 19:00", [("agent_reply", "2026-03-29 09:00", "")], zone=BERLIN)
    t = computed(t)
    assert t.first_response_business_minutes == 120
    assert t.first_response_calendar_minutes == 13 * 60  # 14 wall-clock hours, one of them skipped
    due = TicketSla.objects.get(ticket=t, target="first_response").due_at
    assert due is not None
    assert due.astimezone(BERLIN).strftime("%Y-%m-%d %H:%M") == "2026-03-29 09:00"


def test_no_matching_policy_leaves_calendar_minutes_only():
    t = computed(ticket("2026-03-02 09:00", [("agent_reply", "2026-03-02 09:30")]))
    assert t.first_response_calendar_minutes == 30
    assert t.first_response_business_minutes is None
    assert not TicketSla.objects.filter(ticket=t).exists()


def test_ticket_events_changed_signal_recomputes_after_commit(office, django_capture_on_commit_callbacks):
    from service.signals import ticket_events_changed

    t = ticket("2026-03-02 09:00", [("agent_reply", "2026-03-02 09:45")], priority="high")
    assert not TicketSla.objects.filter(ticket=t).exists()
    with django_capture_on_commit_callbacks(execute=True):
        ticket_events_changed.send(sender=Ticket, ticket_ids=[t.pk])
    t.refresh_from_db()
    assert t.first_response_business_minutes == 45
    assert TicketSla.objects.get(ticket=t, target="first_response").met is True


def test_recompute_sla_command(office):
    from io import StringIO

    from django.core.management import call_command

    t = ticket("2026-03-02 09:00", [("agent_reply", "2026-03-02 09:45")])
    out = StringIO()
    call_command("recompute_sla", "--opened-from", "2026-03-01", "--opened-to", "2026-03-31", stdout=out)
    assert "Recomputed SLA results of 1 tickets" in out.getvalue()
    assert TicketSla.objects.filter(ticket=t).count() == 2  # first response and resolution (running)
