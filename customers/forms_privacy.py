"""Forms of the data-protection pages (privacy requests, retention, breaches, quality, duplicates)."""

from __future__ import annotations

from typing import Any

from django import forms

from customers import privacy
from customers.privacy_models import Breach, PrivacyRequest, RetentionRule


class RequestForm(forms.Form):
    kind = forms.ChoiceField(choices=PrivacyRequest.Kind.choices)
    customer = forms.IntegerField(min_value=1, label="Customer id")
    requester_name = forms.CharField(max_length=200)
    requester_contact = forms.CharField(max_length=254, help_text="E-mail or postal address for the reply.")
    on_behalf = forms.BooleanField(required=False, label="Made by a relevant person on the customer's behalf")
    received_at = forms.DateTimeField(widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    correction_field = forms.ChoiceField(
        required=False,
        choices=[("", "—"), *[(f, f.replace("_", " ")) for f in privacy.CORRECTABLE_FIELDS]],
        label="Field to correct",
    )
    correction_value = forms.CharField(required=False, max_length=300, label="Corrected value")

    def changes(self) -> dict[str, str]:
        field = self.cleaned_data.get("correction_field")
        return {field: self.cleaned_data.get("correction_value", "")} if field else {}


class IdentityForm(forms.Form):
    method = forms.CharField(max_length=300, label="How the identity was verified")


class FeeForm(forms.Form):
    amount = forms.DecimalField(min_value=0, max_digits=8, decimal_places=2, label="Fee (HKD)")
    basis = forms.CharField(max_length=300, required=False, label="What it covers")


class ReasonsForm(forms.Form):
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class RefuseForm(forms.Form):
    ground = forms.ChoiceField(choices=[])
    reasons = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ground"].choices = privacy.grounds_for(kind)  # type: ignore[attr-defined]


class RetentionRuleForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = RetentionRule
        fields = ["category", "months", "action", "basis", "active"]


class BreachForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Breach
        fields = [
            "data_user",
            "data_user_address",
            "contact_name",
            "contact_title",
            "contact_phone",
            "contact_email",
            "title",
            "occurred_at",
            "discovered_at",
            "description",
            "data_kinds",
            "affected_count",
            "cause",
            "harm_assessment",
            "containment",
            "remedial_action",
        ]
        widgets = {
            "occurred_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "discovered_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "description": forms.Textarea(attrs={"rows": 3}),
            "harm_assessment": forms.Textarea(attrs={"rows": 3}),
            "containment": forms.Textarea(attrs={"rows": 2}),
            "remedial_action": forms.Textarea(attrs={"rows": 2}),
        }


class NotificationForm(forms.Form):
    pcpd_notified_at = forms.DateTimeField(
        required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), label="PCPD notified at"
    )
    pcpd_reference = forms.CharField(max_length=100, required=False, label="PCPD reference")
    subjects_notified_at = forms.DateTimeField(
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        label="Data subjects notified at",
    )
