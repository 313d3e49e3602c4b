"""Writes for business calendars, holidays and SLA policies (issue 4 items 2 and 3).

Pages, the API, the demo seed and the management command all call these. Every function is
keyword-only, runs in one transaction and audits in that transaction; a broken rule
(overlapping timeframes, a holiday file in the wrong format, an unknown time zone) raises
``ValidationError`` before anything is written. A change that can move SLA results queues a
recompute of the tickets it can affect once the transaction commits (``service.tasks``,
eager in the demo). ``actor=None`` is the system (the demo seed, Celery).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from core import audit
from core.models import AuditEvent
from service.models import (
    MAX_TARGET_MINUTES,
    MINUTES_PER_DAY,
    BusinessCalendar,
    BusinessTimeframe,
    CalendarHoliday,
    Priority,
    SlaPolicy,
    Team,
    TicketChannel,
    Weekday,
)

MANAGE_CALENDARS = "service.change_businesscalendar"
MANAGE_POLICIES = "service.change_slapolicy"
RECOMPUTE = "service.change_ticketsla"
MAX_HOLIDAY_ROWS = 2000
HOLIDAY_FILE_MAX_BYTES = 256 * 1024
HOLIDAY_COLUMNS = "date,name[,kind]"


def _require(actor: Any, perm: str, message: str) -> None:
    """People need the permission; ``actor=None`` is the system."""
    if actor is not None and not actor.has_perm(perm):
        raise PermissionDenied(message)


# --- Timeframes -----------------------------------------------------------------------------------

_CLOCK = re.compile(r"^([01]\d|2[0-4]):([0-5]\d)$")


def parse_clock(text: str, *, field: str = "time") -> int:
    """ "09:30" as minutes after midnight; "24:00" is the end of the day."""
    match = _CLOCK.match(text.strip())
    minutes = int(match.group(1)) * 60 + int(match.group(2)) if match else -1
    if not match or minutes > MINUTES_PER_DAY:
        raise ValidationError({field: f"“{text}” is not a time of day as HH:MM (00:00 to 24:00)."})
    return minutes


def clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class Timeframe:
    """One stretch of business time on a weekday (0 = Monday), in minutes after local midnight."""

    weekday: int
    start_minute: int
    end_minute: int

    def label(self) -> str:
        return f"{Weekday(self.weekday).label} {clock(self.start_minute)}–{clock(self.end_minute)}"


def check_timeframes(timeframes: Sequence[Timeframe]) -> list[Timeframe]:
    """Sorted timeframes, or a ValidationError naming every bad or overlapping one.

    Touching timeframes (13:00 end, 13:00 start) are fine; overlapping ones are refused, because
    counting the shared minutes twice or once would be a silent guess.
    """
    problems: list[str] = []
    for frame in timeframes:
        if frame.weekday not in Weekday.values:
            problems.append(f"{frame.weekday} is not a weekday (0 = Monday … 6 = Sunday).")
        elif not 0 <= frame.start_minute < frame.end_minute <= MINUTES_PER_DAY:
            problems.append(f"{frame.label()}: the end must come after the start, within the day.")
    ordered = sorted(timeframes, key=lambda f: (f.weekday, f.start_minute, f.end_minute))
    for previous, current in zip(ordered, ordered[1:], strict=False):
        if previous.weekday == current.weekday and current.start_minute < previous.end_minute:
            problems.append(f"{current.label()} overlaps {previous.label()}.")
    if problems:
        raise ValidationError({"timeframes": problems})
    return ordered


def _write_timeframes(calendar: BusinessCalendar, timeframes: Sequence[Timeframe]) -> None:
    calendar.timeframes.all().delete()
    BusinessTimeframe.objects.bulk_create(
        BusinessTimeframe(
            calendar=calendar, weekday=f.weekday, start_minute=f.start_minute, end_minute=f.end_minute
        )
        for f in timeframes
    )


def _timeframe_labels(calendar: BusinessCalendar) -> list[str]:
    return [Timeframe(f.weekday, f.start_minute, f.end_minute).label() for f in calendar.timeframes.all()]


def _check_dates(effective_from: date | None, effective_to: date | None) -> None:
    if effective_from and effective_to and effective_to < effective_from:
        raise ValidationError({"effective_to": "The end of the effective dates comes before their start."})


# --- Recompute triggers -------------------------------------------------------------------------------


def _recompute_later(ranges: Sequence[tuple[date | None, date | None]]) -> None:
    """After commit, recompute the tickets opened within the union of RANGES (None: unbounded)."""
    if not ranges:
        return
    starts = [start for start, _ in ranges]
    ends = [end for _, end in ranges]
    first = None if None in starts else min(d for d in starts if d is not None)
    last = None if None in ends else max(d for d in ends if d is not None)

    def queue() -> None:
        from service import tasks

        tasks.recompute_sla_opened_between.delay(
            first.isoformat() if first else None, last.isoformat() if last else None
        )

    transaction.on_commit(queue)


def _policy_ranges(calendar: BusinessCalendar) -> list[tuple[date | None, date | None]]:
    return [(p.effective_from, p.effective_to) for p in calendar.policies.all()]


# --- Calendars ----------------------------------------------------------------------------------------


@transaction.atomic
def calendar_create(
    *,
    actor: Any,
    name: str,
    time_zone: str = "Asia/Hong_Kong",
    description: str = "",
    hk_public_holidays: bool = True,
    effective_from: date | None = None,
    effective_to: date | None = None,
    timeframes: Sequence[Timeframe] = (),
) -> BusinessCalendar:
    """A business-hours calendar with its weekly timeframes (no policy uses it yet)."""
    _require(
        actor, "service.add_businesscalendar", "Defining calendars needs the customer-service manager role."
    )
    _check_dates(effective_from, effective_to)
    frames = check_timeframes(timeframes)
    calendar = BusinessCalendar(
        name=name,
        description=description,
        time_zone=time_zone,
        hk_public_holidays=hk_public_holidays,
        effective_from=effective_from,
        effective_to=effective_to,
    )
    calendar.full_clean()
    calendar.save()
    _write_timeframes(calendar, frames)
    audit.record_change(AuditEvent.Action.CREATE, calendar, actor=actor)
    return calendar


@transaction.atomic
def calendar_update(
    *, actor: Any, calendar: BusinessCalendar, timeframes: Sequence[Timeframe] | None = None, **changes: Any
) -> BusinessCalendar:
    """Change a calendar's settings and (when given) replace its timeframes; recompute its tickets."""
    _require(actor, MANAGE_CALENDARS, "Changing calendars needs the customer-service manager role.")
    allowed = {"name", "description", "time_zone", "hk_public_holidays", "effective_from", "effective_to"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    before = audit.snapshot(calendar)
    for key, value in changes.items():
        setattr(calendar, key, value)
    _check_dates(calendar.effective_from, calendar.effective_to)
    calendar.full_clean()
    calendar.save()
    audit.record_change(AuditEvent.Action.UPDATE, calendar, before=before, actor=actor)
    if timeframes is not None:
        old = _timeframe_labels(calendar)
        _write_timeframes(calendar, check_timeframes(timeframes))
        audit.record_event(
            AuditEvent.Action.UPDATE,
            object_type=audit.object_type_of(calendar),
            object_id=str(calendar.pk),
            object_repr=str(calendar),
            detail={"before": {"timeframes": old}, "after": {"timeframes": _timeframe_labels(calendar)}},
            actor=actor,
        )
    _recompute_later(_policy_ranges(calendar))
    return calendar


@transaction.atomic
def calendar_delete(*, actor: Any, calendar: BusinessCalendar) -> None:
    """Remove a calendar that no policy uses."""
    _require(
        actor,
        "service.delete_businesscalendar",
        "Removing calendars needs the customer-service manager role.",
    )
    if calendar.policies.exists():
        names = ", ".join(calendar.policies.values_list("name", flat=True))
        raise ValidationError({"calendar": f"SLA policies use this calendar: {names}. Change them first."})
    audit.record_change(AuditEvent.Action.DELETE, calendar, actor=actor)
    calendar.delete()


@transaction.atomic
def holiday_set(
    *, actor: Any, calendar: BusinessCalendar, day: date, name: str, kind: str = CalendarHoliday.Kind.CLOSED
) -> CalendarHoliday:
    """Close the calendar on DAY (a custom holiday) or, with kind "worked", work a public holiday."""
    _require(actor, MANAGE_CALENDARS, "Changing calendars needs the customer-service manager role.")
    holiday = CalendarHoliday.objects.filter(calendar=calendar, day=day).first()
    before = audit.snapshot(holiday) if holiday else None
    holiday = holiday or CalendarHoliday(calendar=calendar, day=day)
    holiday.name, holiday.kind = name, kind
    holiday.full_clean()
    holiday.save()
    action = AuditEvent.Action.UPDATE if before else AuditEvent.Action.CREATE
    audit.record_change(action, holiday, before=before, actor=actor)
    _recompute_later(_policy_ranges(calendar))
    return holiday


@transaction.atomic
def holiday_remove(*, actor: Any, holiday: CalendarHoliday) -> None:
    """Take a custom or worked day off the calendar: the date follows the weekly timeframes again."""
    _require(actor, MANAGE_CALENDARS, "Changing calendars needs the customer-service manager role.")
    calendar = holiday.calendar
    audit.record_change(AuditEvent.Action.DELETE, holiday, actor=actor)
    holiday.delete()
    _recompute_later(_policy_ranges(calendar))


def parse_holiday_file(content: bytes, *, filename: str = "holidays.csv") -> list[tuple[date, str, str]]:
    """Rows of a holiday file: CSV with a header ``date,name`` and an optional ``kind`` column
    (``closed``, the default, or ``worked``). Dates are ISO (2026-12-24). Every problem is
    reported with its line number; a file with any problem is refused as a whole."""
    if len(content) > HOLIDAY_FILE_MAX_BYTES:
        raise ValidationError({"file": f"The file is larger than {HOLIDAY_FILE_MAX_BYTES // 1024} KB."})
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ValidationError(
            {"file": f"“{filename}” is not a UTF-8 text file; send CSV ({HOLIDAY_COLUMNS})."}
        ) from None
    if text.lstrip().upper().startswith("BEGIN:VCALENDAR"):
        raise ValidationError(
            {
                "file": f"“{filename}” is an iCalendar (ICS) file; holiday files are CSV "
                f"with the columns {HOLIDAY_COLUMNS}."
            }
        )
    reader = csv.reader(io.StringIO(text))
    header = [cell.strip().lower() for cell in next(reader, [])]
    if header[:2] != ["date", "name"] or header[2:] not in ([], ["kind"]):
        raise ValidationError(
            {"file": f"Line 1 must be the header date,name (optionally ,kind); found “{','.join(header)}”."}
        )
    rows: list[tuple[date, str, str]] = []
    problems: list[str] = []
    seen: dict[date, int] = {}
    for line, cells in enumerate(reader, start=2):
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) != len(header):
            problems.append(f"Line {line}: expected {len(header)} columns, found {len(cells)}.")
            continue
        try:
            day = date.fromisoformat(cells[0].strip())
        except ValueError:
            problems.append(f"Line {line}: “{cells[0]}” is not a date as YYYY-MM-DD.")
            continue
        name = cells[1].strip()
        kind = (
            cells[2].strip().lower() if len(cells) > 2 and cells[2].strip() else CalendarHoliday.Kind.CLOSED
        )
        if not name or len(name) > 120:
            problems.append(f"Line {line}: give a name of 1 to 120 characters.")
        elif kind not in CalendarHoliday.Kind.values:
            problems.append(f"Line {line}: kind “{kind}” is neither “closed” nor “worked”.")
        elif day in seen:
            problems.append(f"Line {line}: {day} is already on line {seen[day]}.")
        else:
            seen[day] = line
            rows.append((day, name, str(kind)))
    if len(rows) > MAX_HOLIDAY_ROWS:
        problems.append(f"At most {MAX_HOLIDAY_ROWS} dates per file.")
    if problems:
        raise ValidationError({"file": problems})
    if not rows:
        raise ValidationError({"file": "The file holds no dates."})
    return rows


@transaction.atomic
def holidays_import(*, actor: Any, calendar: BusinessCalendar, content: bytes, filename: str) -> int:
    """Add or replace the dates of a holiday file (all of them, or none when any line is wrong)."""
    _require(actor, MANAGE_CALENDARS, "Changing calendars needs the customer-service manager role.")
    rows = parse_holiday_file(content, filename=filename)
    existing = {
        h.day: h for h in CalendarHoliday.objects.filter(calendar=calendar, day__in=[r[0] for r in rows])
    }
    new, changed = [], []
    for day, name, kind in rows:
        holiday = existing.get(day)
        if holiday is None:
            new.append(CalendarHoliday(calendar=calendar, day=day, name=name, kind=kind))
        elif (holiday.name, holiday.kind) != (name, kind):
            holiday.name, holiday.kind = name, kind
            changed.append(holiday)
    CalendarHoliday.objects.bulk_create(new)
    CalendarHoliday.objects.bulk_update(changed, ["name", "kind"])
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type=audit.object_type_of(calendar),
        object_id=str(calendar.pk),
        object_repr=str(calendar),
        detail={"holiday_file": filename[:200], "added": len(new), "changed": len(changed)},
        actor=actor,
    )
    _recompute_later(_policy_ranges(calendar))
    return len(new) + len(changed)


# --- Policies -----------------------------------------------------------------------------------------


def _check_conditions(priorities: Sequence[str], channels: Sequence[str]) -> None:
    errors: dict[str, str] = {}
    if bad := [p for p in priorities if p not in Priority.values]:
        errors["priorities"] = f"Unknown priorities: {', '.join(bad)} (use {', '.join(Priority.values)})."
    if bad := [c for c in channels if c not in TicketChannel.values]:
        errors["channels"] = f"Unknown channels: {', '.join(bad)} (use {', '.join(TicketChannel.values)})."
    if errors:
        raise ValidationError(errors)


def _check_targets(targets: dict[str, int | None]) -> None:
    errors = {
        name: f"Give a target from 1 to {MAX_TARGET_MINUTES} business minutes, or leave it empty."
        for name, value in targets.items()
        if value is not None and not 1 <= value <= MAX_TARGET_MINUTES
    }
    if not any(v is not None for v in targets.values()):
        errors["first_response_minutes"] = "Set at least one target."
    if errors:
        raise ValidationError(errors)


_POLICY_FIELDS = (
    "name",
    "description",
    "active",
    "priorities",
    "channels",
    "customer_tiers",
    "calendar",
    "first_response_minutes",
    "next_response_minutes",
    "resolution_minutes",
    "effective_from",
    "effective_to",
)


def _validate_policy(policy: SlaPolicy) -> None:
    _check_dates(policy.effective_from, policy.effective_to)
    _check_conditions(policy.priorities, policy.channels)
    _check_targets(
        {
            "first_response_minutes": policy.first_response_minutes,
            "next_response_minutes": policy.next_response_minutes,
            "resolution_minutes": policy.resolution_minutes,
        }
    )
    policy.customer_tiers = sorted({t.strip() for t in policy.customer_tiers if t.strip()})
    policy.full_clean()


@transaction.atomic
def policy_create(*, actor: Any, teams: Sequence[Team] = (), **fields: Any) -> SlaPolicy:
    """An SLA policy, placed last in the matching order; recomputes the tickets it can match."""
    _require(actor, "service.add_slapolicy", "Defining SLA policies needs the customer-service manager role.")
    unknown = set(fields) - set(_POLICY_FIELDS)
    if unknown:
        raise ValidationError({field: "Unknown field." for field in sorted(unknown)})
    last = SlaPolicy.objects.order_by("-position").values_list("position", flat=True).first()
    policy = SlaPolicy(position=(last or 0) + 1, **fields)
    _validate_policy(policy)
    policy.save()
    policy.teams.set(teams)
    audit.record_change(AuditEvent.Action.CREATE, policy, actor=actor)
    _recompute_later([(policy.effective_from, policy.effective_to)])
    return policy


@transaction.atomic
def policy_update(
    *, actor: Any, policy: SlaPolicy, teams: Sequence[Team] | None = None, **changes: Any
) -> SlaPolicy:
    """Change a policy; recomputes the tickets opened within its old and new effective dates."""
    _require(actor, MANAGE_POLICIES, "Changing SLA policies needs the customer-service manager role.")
    unknown = set(changes) - set(_POLICY_FIELDS)
    if unknown:
        raise ValidationError({field: "This field cannot be changed here." for field in sorted(unknown)})
    before = audit.snapshot(policy)
    old_teams = sorted(policy.teams.values_list("code", flat=True))
    old_range = (policy.effective_from, policy.effective_to)
    for key, value in changes.items():
        setattr(policy, key, value)
    _validate_policy(policy)
    policy.save()
    audit.record_change(AuditEvent.Action.UPDATE, policy, before=before, actor=actor)
    if teams is not None:
        policy.teams.set(teams)
        new_teams = sorted(t.code for t in teams)
        if new_teams != old_teams:
            audit.record_event(
                AuditEvent.Action.UPDATE,
                object_type=audit.object_type_of(policy),
                object_id=str(policy.pk),
                object_repr=str(policy),
                detail={"before": {"teams": old_teams}, "after": {"teams": new_teams}},
                actor=actor,
            )
    _recompute_later([old_range, (policy.effective_from, policy.effective_to)])
    return policy


@transaction.atomic
def policy_delete(*, actor: Any, policy: SlaPolicy) -> None:
    """Remove a policy; its tickets fall to the next matching policy (or none)."""
    _require(
        actor, "service.delete_slapolicy", "Removing SLA policies needs the customer-service manager role."
    )
    old_range = (policy.effective_from, policy.effective_to)
    audit.record_change(AuditEvent.Action.DELETE, policy, actor=actor)
    policy.delete()
    _recompute_later([old_range])


@transaction.atomic
def policies_reorder(*, actor: Any, order: Sequence[int]) -> list[SlaPolicy]:
    """Put the policies in ORDER (every policy id once): the first match wins."""
    _require(actor, MANAGE_POLICIES, "Changing SLA policies needs the customer-service manager role.")
    policies = {p.pk: p for p in SlaPolicy.objects.select_for_update()}
    if sorted(order) != sorted(policies):
        raise ValidationError({"order": "List every SLA policy id exactly once."})
    before = [policies[pk].name for pk in sorted(policies, key=lambda pk: policies[pk].position)]
    ordered = [policies[pk] for pk in order]
    for position, policy in enumerate(ordered, start=1):
        policy.position = position
    SlaPolicy.objects.bulk_update(ordered, ["position"])
    audit.record_event(
        AuditEvent.Action.UPDATE,
        object_type="service.slapolicy",
        object_repr="SLA policy order",
        detail={"before": before, "after": [p.name for p in ordered]},
        actor=actor,
    )
    _recompute_later([(p.effective_from, p.effective_to) for p in ordered])
    return ordered


# --- Recompute on request -----------------------------------------------------------------------------


@transaction.atomic
def sla_recompute(
    *,
    actor: Any,
    ticket_ids: Sequence[int] | None = None,
    opened_from: date | None = None,
    opened_to: date | None = None,
) -> int:
    """Recompute SLA results now: the given tickets, or every ticket opened in the date range.
    Returns how many tickets were recomputed."""
    from service import sla

    _require(actor, RECOMPUTE, "Recomputing SLA results needs the customer-service manager role.")
    _check_dates(opened_from, opened_to)
    if ticket_ids is not None:
        count = sla.recompute_tickets(ticket_ids)
    else:
        count = sla.recompute_opened_between(opened_from, opened_to)
    audit.record_event(
        AuditEvent.Action.OTHER,
        object_type="service.ticketsla",
        object_repr="SLA recompute",
        detail={
            "tickets": count,
            "opened_from": opened_from.isoformat() if opened_from else None,
            "opened_to": opened_to.isoformat() if opened_to else None,
            "by_id": ticket_ids is not None,
        },
        actor=actor,
    )
    return count
