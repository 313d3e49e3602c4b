"""Forms of the service pages. They parse input only; every rule is checked by ``service.services``."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import QuerySet

from accounts.models import User
from service.models import ImportJob, Team
from vendors.models import Vendor

# --- ingest (issue 4 item 1) ---


class ImportForm(forms.Form):
    file = forms.FileField(
        label="File", help_text="CSV or NDJSON in the flat format of docs/service.md (one row per event)."
    )
    mode = forms.ChoiceField(
        label="If some rows are bad",
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
    )
    source = forms.CharField(
        label="Source",
        initial="steward",
        max_length=40,
        help_text="The helpdesk the ids come from, when the file has no source column (e.g. zendesk).",
    )


# --- teams and agents (issue 4 item 1) ---


class TeamForm(forms.Form):
    """Create (with a code) or change (without one) a team; ``vendor`` empty means in-house."""

    code = forms.SlugField(
        label="Code",
        max_length=40,
        help_text="What helpdesk files call the team (the team column); fixed once set up.",
    )
    name = forms.CharField(label="Name", max_length=120)
    vendor = forms.ModelChoiceField(
        label="Outsourced to",
        queryset=Vendor.objects.none(),
        required=False,
        empty_label="Nobody: in-house team",
        help_text="Agents the imports create in this team count for this vendor.",
    )

    def __init__(self, *args: Any, vendors: QuerySet[Vendor], editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = vendors  # type: ignore[attr-defined]
        if editing:
            del self.fields["code"]


class AgentForm(forms.Form):
    """Create or change an agent; the helpdesk id (source and id) is set only on creation."""

    name = forms.CharField(label="Name", max_length=120)
    source = forms.CharField(
        label="Source",
        max_length=40,
        initial="steward",
        help_text="The helpdesk the id comes from, as imports name it (e.g. helpdesk, zendesk).",
    )
    external_id = forms.CharField(
        label="Helpdesk id", max_length=100, help_text="The agent's id in that helpdesk (the agent column)."
    )
    email = forms.EmailField(label="Work e-mail", max_length=254, required=False)
    team = forms.ModelChoiceField(
        label="Team", queryset=Team.objects.none(), required=False, empty_label="No team"
    )
    vendor = forms.ModelChoiceField(
        label="Employed by",
        queryset=Vendor.objects.none(),
        required=False,
        empty_label="Us (in-house), or the team's vendor",
        help_text="Left empty, an outsourced team's agent counts for the team's vendor.",
    )
    user = forms.ModelChoiceField(
        label="Steward login",
        queryset=User.objects.none(),
        required=False,
        empty_label="No login",
        help_text="The agent signs in with it to see their own scorecard (customer-service agents only).",
    )

    def __init__(
        self,
        *args: Any,
        teams: QuerySet[Team],
        vendors: QuerySet[Vendor],
        logins: QuerySet[User],
        editing: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team"].queryset = teams  # type: ignore[attr-defined]
        self.fields["vendor"].queryset = vendors  # type: ignore[attr-defined]
        self.fields["user"].queryset = logins  # type: ignore[attr-defined]
        self.fields["user"].label_from_instance = _login_label  # type: ignore[attr-defined]
        if editing:
            del self.fields["source"]
            del self.fields["external_id"]


def _login_label(user: User) -> str:
    name = user.get_full_name()
    return f"{user.username} ({name})" if name else user.username
