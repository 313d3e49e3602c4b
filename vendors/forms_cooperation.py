"""Forms of the cooperation pages (interfaces, shared documents, ideas, third-party staff, reviews).
They parse input only; every rule is checked by ``vendors.cooperation``."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from django import forms

from accounts.models import User
from vendors.cooperation import MilestoneSpec
from vendors.forms import DATE, ActionFormSet
from vendors.models import (
    CooperationReview,
    GovernanceItem,
    Idea,
    ImprovementMilestone,
    SystemInterface,
    Vendor,
)

__all__ = ["ActionFormSet"]

TEXT = forms.Textarea(attrs={"rows": 3})


class InterfaceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = SystemInterface
        fields = [
            "our_system",
            "their_system",
            "direction",
            "data_exchanged",
            "channel",
            "protocol",
            "frequency",
            "our_owner",
            "their_owner",
            "status",
            "contract",
            "notes",
        ]
        widgets = {"notes": TEXT}

    def __init__(self, *args: Any, contracts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["contract"]).queryset = contracts  # type: ignore[type-arg]
        cast(forms.ModelChoiceField, self.fields["our_owner"]).queryset = User.objects.filter(  # type: ignore[type-arg]
            is_active=True, vendor__isnull=True
        ).order_by("username")


class GovernanceForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = GovernanceItem
        fields = [
            "kind",
            "position",
            "title",
            "frequency",
            "from_party",
            "our_role",
            "vendor_role",
            "response_time",
            "notes",
        ]


class SharedDocumentForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(max_length=500, required=False)
    shared_with_vendor = forms.BooleanField(required=False, label="Show it in the vendor's portal")
    file = forms.FileField(label="File (PDF, PNG, JPEG, XLSX, CSV or TXT, at most 10 MB)")
    change_note = forms.CharField(max_length=500, initial="First version.")


class VersionForm(forms.Form):
    file = forms.FileField(label="New version (PDF, PNG, JPEG, XLSX, CSV or TXT, at most 10 MB)")
    change_note = forms.CharField(max_length=500, label="What changed")


class IdeaForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=TEXT, max_length=8000)
    expected_benefit = forms.CharField(max_length=500, required=False)


class StaffIdeaForm(IdeaForm):
    vendor = forms.ModelChoiceField(queryset=Vendor.objects.none())

    def __init__(self, *args: Any, vendors: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["vendor"]).queryset = vendors  # type: ignore[type-arg]


class IdeaDecisionForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(s, label) for s, label in Idea.Status.choices if s != Idea.Status.NEW]
    )
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=4000, required=False)
    proposal_reference = forms.CharField(
        max_length=100, required=False, help_text="For “turned into a proposal”: the proposal's reference."
    )


class WorkerForm(forms.Form):
    name = forms.CharField(max_length=200)
    email = forms.EmailField(required=False)
    role = forms.CharField(max_length=200)
    onboarded_on = forms.DateField(widget=DATE)
    user = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, help_text="Their portal login, if they have one."
    )

    def __init__(self, *args: Any, vendor_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        users = User.objects.filter(vendor_id=vendor_id, is_active=True).order_by("username")
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = users  # type: ignore[type-arg]


class OffboardForm(forms.Form):
    offboarded_on = forms.DateField(widget=DATE, label="Last day")
    reason = forms.CharField(max_length=300)


class GrantForm(forms.Form):
    system = forms.CharField(max_length=200)
    access_level = forms.CharField(max_length=100)
    granted_on = forms.DateField(widget=DATE)


class RevokeForm(forms.Form):
    revoked_on = forms.DateField(widget=DATE)


class TrainingForm(forms.Form):
    course = forms.CharField(max_length=200)
    completed_on = forms.DateField(widget=DATE)
    expires_on = forms.DateField(widget=DATE, required=False)


class AcknowledgementForm(forms.Form):
    document_title = forms.CharField(max_length=200)
    document_version = forms.CharField(max_length=40)
    acknowledged_on = forms.DateField(widget=DATE)


class ReviewScheduleForm(forms.Form):
    kind = forms.ChoiceField(choices=CooperationReview.Kind.choices)
    period_start = forms.DateField(widget=DATE)
    period_end = forms.DateField(widget=DATE)
    scheduled_on = forms.DateField(widget=DATE)


class DecisionForm(forms.Form):
    """The decision, and, for an improvement plan, the plan: its milestones one a line as
    ``YYYY-MM-DD what is done by then``."""

    decision = forms.ChoiceField(choices=CooperationReview.Decision.choices)
    rationale = forms.CharField(widget=TEXT, max_length=8000)
    minutes = forms.CharField(widget=TEXT, max_length=20000, required=False)
    plan_title = forms.CharField(max_length=200, required=False, label="Plan title")
    plan_objective = forms.CharField(widget=TEXT, max_length=4000, required=False, label="Plan objective")
    plan_due_on = forms.DateField(widget=DATE, required=False, label="Plan due")
    plan_milestones = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "placeholder": "2025-08-31 Weekend roster at 95% of plan"}),
        max_length=8000,
        required=False,
        label="Milestones (one a line: date, then what)",
    )

    def clean_plan_milestones(self) -> list[MilestoneSpec]:
        specs = []
        for number, line in enumerate(str(self.cleaned_data.get("plan_milestones") or "").splitlines(), 1):
            line = line.strip()
            if not line:
                continue
            day, _, text = line.partition(" ")
            try:
                due = date.fromisoformat(day)
            except ValueError:
                raise forms.ValidationError(f"Line {number}: start with a date as YYYY-MM-DD.") from None
            if not text.strip():
                raise forms.ValidationError(f"Line {number}: say what is done by {due:%d %b %Y}.")
            specs.append(MilestoneSpec(text.strip()[:300], due))
        return specs

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("decision") == CooperationReview.Decision.IMPROVEMENT_PLAN:
            for name in ("plan_title", "plan_objective", "plan_due_on"):
                if not data.get(name):
                    self.add_error(name, "An improvement plan needs this.")
            if "plan_milestones" in data and not data["plan_milestones"]:
                self.add_error("plan_milestones", "An improvement plan has at least one milestone.")
        return data


class MilestoneForm(forms.Form):
    status = forms.ChoiceField(choices=ImprovementMilestone.Status.choices)
