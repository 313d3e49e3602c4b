"""API: business calendars (timeframes, holidays, holiday files), SLA policies, per-ticket SLA results.

Endpoints only parse, fetch through a selector (``restrict``) and call a service in
``service.sla_services``; the rules are written out in ``docs/service_sla.md``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from accounts.models import User
from core.api import InputSchema, ObjectId, actor, paginate
from service import sla_selectors as selectors
from service import sla_services as services
from service.models import (
    MAX_TARGET_MINUTES,
    BusinessCalendar,
    BusinessTimeframe,
    CalendarHoliday,
    Priority,
    SlaPolicy,
    SlaTarget,
    Team,
    Ticket,
    TicketChannel,
    TicketSla,
)
from service.sla import FIGURE_FIELDS

router = Router(tags=["service: SLA"])

Clock = Field(..., pattern=r"^([01]\d|2[0-4]):[0-5]\d$", description="HH:MM local time; 24:00 ends the day.")
Target = Field(None, ge=1, le=MAX_TARGET_MINUTES, description="Business minutes; null: not measured.")


# --- Schemas ----------------------------------------------------------------------------------------


class SlaTimeframeIn(InputSchema):
    weekday: int = Field(..., ge=0, le=6, description="0 = Monday … 6 = Sunday.")
    start: str = Clock
    end: str = Clock


class SlaTimeframeOut(Schema):
    weekday: int
    weekday_label: str
    start: str
    end: str

    @staticmethod
    def resolve_weekday_label(obj: BusinessTimeframe) -> str:
        return obj.get_weekday_display()


class SlaHolidayIn(InputSchema):
    day: date
    name: str = Field(..., min_length=1, max_length=120)
    kind: CalendarHoliday.Kind = CalendarHoliday.Kind.CLOSED


class SlaHolidayOut(Schema):
    id: int
    day: date
    name: str
    kind: CalendarHoliday.Kind


class SlaCalendarIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=500)
    time_zone: str = Field("Asia/Hong_Kong", min_length=1, max_length=64)
    hk_public_holidays: bool = True
    effective_from: date | None = None
    effective_to: date | None = None
    timeframes: list[SlaTimeframeIn] = Field(..., max_length=200)


class SlaCalendarPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=500)
    time_zone: str | None = Field(None, min_length=1, max_length=64)
    hk_public_holidays: bool | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    timeframes: list[SlaTimeframeIn] | None = Field(None, max_length=200)


class SlaCalendarOut(Schema):
    id: int
    name: str
    description: str
    time_zone: str
    hk_public_holidays: bool
    effective_from: date | None
    effective_to: date | None
    timeframes: list[SlaTimeframeOut]
    holidays: list[SlaHolidayOut]

    @staticmethod
    def resolve_timeframes(obj: BusinessCalendar) -> list[Any]:
        return list(obj.timeframes.all())

    @staticmethod
    def resolve_holidays(obj: BusinessCalendar) -> list[Any]:
        return list(obj.holidays.all())


class SlaPublicHolidayOut(Schema):
    day: date
    name: str
    worked: bool


class SlaImportOut(Schema):
    dates: int


class SlaPolicyIn(InputSchema):
    name: str = Field(..., min_length=1, max_length=120)
    description: str = Field("", max_length=500)
    active: bool = True
    priorities: list[Priority] = Field(default_factory=list, description="Empty: any priority.")
    channels: list[TicketChannel] = Field(default_factory=list, description="Empty: any channel.")
    customer_tiers: list[str] = Field(default_factory=list, max_length=20, description="Empty: any tier.")
    team_ids: list[ObjectId] = Field(default_factory=list, max_length=100, description="Empty: any team.")
    calendar_id: ObjectId
    first_response_minutes: int | None = Target
    next_response_minutes: int | None = Target
    resolution_minutes: int | None = Target
    effective_from: date | None = None
    effective_to: date | None = None


class SlaPolicyPatch(InputSchema):
    name: str | None = Field(None, min_length=1, max_length=120)
    description: str | None = Field(None, max_length=500)
    active: bool | None = None
    priorities: list[Priority] | None = None
    channels: list[TicketChannel] | None = None
    customer_tiers: list[str] | None = Field(None, max_length=20)
    team_ids: list[ObjectId] | None = Field(None, max_length=100)
    calendar_id: ObjectId | None = None
    first_response_minutes: int | None = Target
    next_response_minutes: int | None = Target
    resolution_minutes: int | None = Target
    effective_from: date | None = None
    effective_to: date | None = None


class SlaPolicyOut(Schema):
    id: int
    position: int
    name: str
    description: str
    active: bool
    priorities: list[str]
    channels: list[str]
    customer_tiers: list[str]
    team_ids: list[int]
    calendar_id: int
    calendar_name: str
    first_response_minutes: int | None
    next_response_minutes: int | None
    resolution_minutes: int | None
    effective_from: date | None
    effective_to: date | None

    @staticmethod
    def resolve_team_ids(obj: SlaPolicy) -> list[int]:
        return [team.pk for team in obj.teams.all()]

    @staticmethod
    def resolve_calendar_name(obj: SlaPolicy) -> str:
        return obj.calendar.name


class SlaOrderIn(InputSchema):
    order: list[ObjectId] = Field(
        ..., min_length=1, max_length=500, description="Every policy id, first match first."
    )


class SlaResultOut(Schema):
    target: SlaTarget
    target_minutes: int
    due_at: datetime | None
    met: bool | None = Field(..., description="null while the target is still running.")
    breached_at: datetime | None
    business_minutes: int | None


class TicketSlaOut(Schema):
    ticket_id: int
    policy_id: int | None
    policy_name: str | None
    opened_at: datetime
    first_response_business_minutes: int | None
    first_response_calendar_minutes: int | None
    first_resolution_business_minutes: int | None
    first_resolution_calendar_minutes: int | None
    resolution_business_minutes: int | None
    resolution_calendar_minutes: int | None
    results: list[SlaResultOut]


class SlaRecomputeIn(InputSchema):
    ticket_ids: list[ObjectId] | None = Field(None, max_length=10_000, description="Null: by opening date.")
    opened_from: date | None = None
    opened_to: date | None = None


class SlaRecomputeOut(Schema):
    tickets: int


class SlaYearQuery(Schema):
    year: int = Field(..., ge=2000, le=2100)


# --- Helpers ------------------------------------------------------------------------------------------


def _frames(frames: list[SlaTimeframeIn]) -> list[services.Timeframe]:
    return [
        services.Timeframe(
            f.weekday,
            services.parse_clock(f.start, field="timeframes"),
            services.parse_clock(f.end, field="timeframes"),
        )
        for f in frames
    ]


def _need(request: HttpRequest, perm: str) -> User:
    """Refuse before parsing anything that could itself be refused (an outsider learns nothing)."""
    user = actor(request)
    if not user.has_perm(perm):
        raise PermissionDenied("Managing SLA calendars and policies needs the customer-service manager role.")
    return user


def _teams(ids: list[int]) -> list[Team]:
    teams = list(Team.objects.filter(pk__in=ids))
    if len(teams) != len(set(ids)):
        missing = sorted(set(ids) - {t.pk for t in teams})
        raise ValidationError({"team_ids": f"No such teams: {', '.join(map(str, missing))}."})
    return teams


def _calendar_for_policy(request: HttpRequest, pk: int) -> BusinessCalendar:
    calendar = selectors.calendar_list(user=request.user).filter(pk=pk).first()
    if calendar is None:
        raise ValidationError({"calendar_id": "No such calendar."})
    return calendar


# --- Calendars ----------------------------------------------------------------------------------------


@router.get("/sla/calendars", response=list[SlaCalendarOut], summary="Business-hours calendars")
@paginate
def calendar_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.calendar_list(user=request.user)


@router.post("/sla/calendars", response={201: SlaCalendarOut}, summary="Define a business-hours calendar")
def calendar_create(request: HttpRequest, payload: SlaCalendarIn) -> Status[BusinessCalendar]:
    user = _need(request, "service.add_businesscalendar")
    data = payload.dict(exclude={"timeframes"})
    calendar = services.calendar_create(actor=user, timeframes=_frames(payload.timeframes), **data)
    return Status(201, calendar)


@router.get("/sla/calendars/{calendar_id}", response=SlaCalendarOut, summary="One calendar")
def calendar_detail(request: HttpRequest, calendar_id: ObjectId) -> BusinessCalendar:
    return selectors.calendar_get(user=request.user, pk=calendar_id)


@router.patch(
    "/sla/calendars/{calendar_id}",
    response=SlaCalendarOut,
    summary="Change a calendar (timeframes, when given, replace the old ones); recomputes its tickets",
)
def calendar_update(
    request: HttpRequest, calendar_id: ObjectId, payload: SlaCalendarPatch
) -> BusinessCalendar:
    calendar = selectors.calendar_get(user=request.user, pk=calendar_id, action="change")
    changes = payload.dict(exclude_unset=True, exclude={"timeframes"})
    frames = _frames(payload.timeframes) if payload.timeframes is not None else None
    return services.calendar_update(actor=actor(request), calendar=calendar, timeframes=frames, **changes)


@router.delete(
    "/sla/calendars/{calendar_id}", response={204: None}, summary="Remove a calendar no policy uses"
)
def calendar_delete(request: HttpRequest, calendar_id: ObjectId) -> Status[None]:
    calendar = selectors.calendar_get(user=request.user, pk=calendar_id, action="delete")
    services.calendar_delete(actor=actor(request), calendar=calendar)
    return Status(204, None)


@router.get(
    "/sla/calendars/{calendar_id}/public-holidays",
    response=list[SlaPublicHolidayOut],
    summary="Hong Kong general holidays of a year, marked worked where the calendar removed them",
)
def calendar_public_holidays(
    request: HttpRequest, calendar_id: ObjectId, query: Query[SlaYearQuery]
) -> list[selectors.PublicHoliday]:
    calendar = selectors.calendar_get(user=request.user, pk=calendar_id)
    return selectors.public_holidays(calendar=calendar, year=query.year)


@router.post(
    "/sla/calendars/{calendar_id}/holidays",
    response={201: SlaHolidayOut},
    summary="Close a date (kind closed) or work a public holiday (kind worked)",
)
def holiday_set(
    request: HttpRequest, calendar_id: ObjectId, payload: SlaHolidayIn
) -> Status[CalendarHoliday]:
    calendar = selectors.calendar_get(user=request.user, pk=calendar_id, action="change")
    return Status(201, services.holiday_set(actor=actor(request), calendar=calendar, **payload.dict()))


@router.delete(
    "/sla/calendars/{calendar_id}/holidays/{holiday_id}",
    response={204: None},
    summary="Remove a custom or worked date",
)
def holiday_remove(request: HttpRequest, calendar_id: ObjectId, holiday_id: ObjectId) -> Status[None]:
    calendar = selectors.calendar_get(user=request.user, pk=calendar_id, action="change")
    holiday = selectors.holiday_get(user=request.user, calendar=calendar, pk=holiday_id)
    services.holiday_remove(actor=actor(request), holiday=holiday)
    return Status(204, None)


@router.post(
    "/sla/calendars/{calendar_id}/holiday-file",
    response=SlaImportOut,
    summary="Import a holiday file: CSV with the header date,name[,kind] (multipart/form-data, field 'file')",
)
def holidays_import(request: HttpRequest, calendar_id: ObjectId, file: File[UploadedFile]) -> dict[str, int]:
    calendar = selectors.calendar_get(user=request.user, pk=calendar_id, action="change")
    count = services.holidays_import(
        actor=actor(request), calendar=calendar, content=file.read(), filename=file.name or "holidays.csv"
    )
    return {"dates": count}


# --- Policies -----------------------------------------------------------------------------------------


@router.get("/sla/policies", response=list[SlaPolicyOut], summary="SLA policies in matching order")
@paginate
def policy_list(request: HttpRequest):  # type: ignore[no-untyped-def]
    return selectors.policy_list(user=request.user)


@router.post("/sla/policies", response={201: SlaPolicyOut}, summary="Define an SLA policy (placed last)")
def policy_create(request: HttpRequest, payload: SlaPolicyIn) -> Status[SlaPolicy]:
    user = _need(request, "service.add_slapolicy")
    data = payload.dict(exclude={"team_ids", "calendar_id"})
    policy = services.policy_create(
        actor=user,
        calendar=_calendar_for_policy(request, payload.calendar_id),
        teams=_teams(payload.team_ids),
        **data,
    )
    return Status(201, policy)


@router.get("/sla/policies/{policy_id}", response=SlaPolicyOut, summary="One SLA policy")
def policy_detail(request: HttpRequest, policy_id: ObjectId) -> SlaPolicy:
    return selectors.policy_get(user=request.user, pk=policy_id)


@router.patch(
    "/sla/policies/{policy_id}", response=SlaPolicyOut, summary="Change an SLA policy; recomputes its tickets"
)
def policy_update(request: HttpRequest, policy_id: ObjectId, payload: SlaPolicyPatch) -> SlaPolicy:
    policy = selectors.policy_get(user=request.user, pk=policy_id, action="change")
    changes = payload.dict(exclude_unset=True, exclude={"team_ids", "calendar_id"})
    if payload.calendar_id is not None:
        changes["calendar"] = _calendar_for_policy(request, payload.calendar_id)
    teams = _teams(payload.team_ids) if payload.team_ids is not None else None
    return services.policy_update(actor=actor(request), policy=policy, teams=teams, **changes)


@router.delete("/sla/policies/{policy_id}", response={204: None}, summary="Remove an SLA policy")
def policy_delete(request: HttpRequest, policy_id: ObjectId) -> Status[None]:
    policy = selectors.policy_get(user=request.user, pk=policy_id, action="delete")
    services.policy_delete(actor=actor(request), policy=policy)
    return Status(204, None)


@router.post(
    "/sla/policy-order", response=list[SlaPolicyOut], summary="Set the matching order of the policies"
)
def policies_reorder(request: HttpRequest, payload: SlaOrderIn) -> list[SlaPolicy]:
    return services.policies_reorder(actor=actor(request), order=payload.order)


# --- Results ------------------------------------------------------------------------------------------


@router.get(
    "/tickets/{ticket_id}/sla", response=TicketSlaOut, summary="A ticket's SLA results and stored minutes"
)
def ticket_sla(request: HttpRequest, ticket_id: ObjectId) -> dict[str, Any]:
    view = selectors.ticket_sla(user=request.user, pk=ticket_id)
    ticket: Ticket = view.ticket
    results: list[TicketSla] = view.results
    return {
        "ticket_id": ticket.pk,
        "policy_id": view.policy.id if view.policy else None,
        "policy_name": view.policy.name if view.policy else None,
        "opened_at": ticket.opened_at,
        **{name: getattr(ticket, name) for name in FIGURE_FIELDS},
        "results": results,
    }


@router.post(
    "/sla/recompute", response=SlaRecomputeOut, summary="Recompute SLA results now (ids, or by opening date)"
)
def recompute(request: HttpRequest, payload: SlaRecomputeIn) -> dict[str, int]:
    count = services.sla_recompute(
        actor=actor(request),
        ticket_ids=payload.ticket_ids,
        opened_from=payload.opened_from,
        opened_to=payload.opened_to,
    )
    return {"tickets": count}
