"""Forms of the service pages. They parse input only; every rule is checked by ``service.services``."""

from __future__ import annotations

from django import forms

from service.models import ImportJob

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
