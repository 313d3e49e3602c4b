from __future__ import annotations

from django import forms

from core.models import AuditEvent


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, label="User")
    action = forms.ChoiceField(required=False, choices=[("", "any")] + list(AuditEvent.Action.choices))
    object_type = forms.CharField(
        required=False,
        max_length=100,
        label="Record type",
        widget=forms.TextInput(attrs={"placeholder": "e.g. vendors.vendor"}),
    )
    object_id = forms.CharField(required=False, max_length=64, label="Record id")
    request_id = forms.CharField(required=False, max_length=64, label="Request id")
    since = forms.DateTimeField(
        required=False, label="From", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    until = forms.DateTimeField(
        required=False, label="Before", widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
