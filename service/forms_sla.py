"""Forms of the calendar and SLA policy pages. They only parse; the services check every rule."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from service.models import BusinessCalendar, CalendarHoliday, Priority, Team, TicketChannel, Weekday
from service.sla_services import Timeframe, clock, parse_clock

_DAY_NAMES = {label.lower()[:3]: value for value, label in Weekday.choices}
_LINE = re.compile(r"^\s*([A-Za-z]{3})[a-z]*\s+(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})\s*$")
DATE = forms.DateInput(attrs={"type": "date"})


def timeframes_text(calendar: BusinessCalendar) -> str:
    return "\n".join(
        f"{f.get_weekday_display()[:3]} {clock(f.start_minute)}-{clock(f.end_minute)}"
        for f in calendar.timeframes.all()
    )


def parse_timeframes(text: str) -> list[Timeframe]:
    """One timeframe per line, "Mon 09:00-13:00"; every unreadable line is named."""
    frames, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        match = _LINE.match(line)
        day = _DAY_NAMES.get(match.group(1).lower()) if match else None
        if not match or day is None:
            problems.append(f"Line {number}: write a weekday and two times, e.g. “Mon 09:00-13:00”.")
            continue
        try:
            start = parse_clock(match.group(2).zfill(5), field="timeframes")
            end = parse_clock(match.group(3).zfill(5), field="timeframes")
        except ValidationError:
            problems.append(f"Line {number}: times run from 00:00 to 24:00.")
            continue
        frames.append(Timeframe(day, start, end))
    if problems:
        raise ValidationError(problems)
    return frames


class CalendarForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=500, required=False)
    time_zone = forms.CharField(
        max_length=64, initial="Asia/Hong_Kong", help_text="IANA name, e.g. Europe/Berlin."
    )
    hk_public_holidays = forms.BooleanField(
        required=False, initial=True, label="Closed on Hong Kong general holidays"
    )
    effective_from = forms.DateField(required=False, widget=DATE)
    effective_to = forms.DateField(required=False, widget=DATE)
    timeframes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 10, "cols": 30}),
        help_text=(
            "One per line, e.g. “Mon 09:00-13:00” and “Mon 14:00-18:00” for lunch; 24:00 ends the day."
        ),
    )

    def clean_timeframes(self) -> list[Timeframe]:
        return parse_timeframes(self.cleaned_data["timeframes"])


class HolidayForm(forms.Form):
    day = forms.DateField(widget=DATE)
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(choices=CalendarHoliday.Kind.choices, initial=CalendarHoliday.Kind.CLOSED)


class HolidayFileForm(forms.Form):
    file = forms.FileField(
        help_text="CSV with the header date,name and an optional kind column (closed or worked)."
    )


class PolicyForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=500, required=False)
    active = forms.BooleanField(required=False, initial=True)
    priorities = forms.MultipleChoiceField(
        choices=Priority.choices, required=False, widget=forms.CheckboxSelectMultiple, help_text="None: any."
    )
    channels = forms.MultipleChoiceField(
        choices=TicketChannel.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None: any.",
    )
    customer_tiers = forms.CharField(
        max_length=200, required=False, help_text="Comma-separated, e.g. “vip, gold”; empty: any."
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None: any.",
    )
    calendar = forms.ModelChoiceField(queryset=BusinessCalendar.objects.none())
    first_response_minutes = forms.IntegerField(
        required=False, min_value=1, label="First response (business min)"
    )
    next_response_minutes = forms.IntegerField(
        required=False, min_value=1, label="Next response (business min)"
    )
    resolution_minutes = forms.IntegerField(required=False, min_value=1, label="Resolution (business min)")
    effective_from = forms.DateField(required=False, widget=DATE)
    effective_to = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args: Any, calendars: Any, teams: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["calendar"].queryset = calendars  # type: ignore[attr-defined]
        self.fields["teams"].queryset = teams  # type: ignore[attr-defined]

    def clean_customer_tiers(self) -> list[str]:
        return [t.strip() for t in self.cleaned_data["customer_tiers"].split(",") if t.strip()]
