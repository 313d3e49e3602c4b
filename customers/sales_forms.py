"""Forms of the sales-activity pages: import upload, the purpose of a profile read, segments."""

from __future__ import annotations

from typing import Any

from django import forms

from customers.analytics import SEGMENT_LABELS
from customers.models import Channel, Customer, ImportJob

PURPOSES = [
    ("customer enquiry", "Answering the customer's enquiry or complaint"),
    ("order follow-up", "Following up an order, delivery or refund"),
    ("sales analysis", "Sales and preference analysis"),
    ("data protection", "A data access, correction or privacy matter"),
    ("other", "Other (say what)"),
]


class PurposeForm(forms.Form):
    """Why the reader opens a customer's details (DPP4): recorded with the read."""

    purpose = forms.ChoiceField(choices=PURPOSES)
    detail = forms.CharField(required=False, max_length=150, label="Details")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("purpose") == "other" and not (data.get("detail") or "").strip():
            self.add_error("detail", "Say why you need this customer's details.")
        return data

    def stated_purpose(self) -> str:
        chosen = self.cleaned_data["purpose"]
        detail = (self.cleaned_data.get("detail") or "").strip()
        return f"{chosen}: {detail}"[:200] if detail else chosen


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=ImportJob.Kind.choices)
    mode = forms.ChoiceField(
        choices=ImportJob.Mode.choices,
        initial=ImportJob.Mode.ALL_OR_NOTHING,
        widget=forms.RadioSelect,
        help_text="All or nothing loads nothing if any row is bad; otherwise good rows load and bad ones "
        "are listed in the error report.",
    )
    source = forms.CharField(
        max_length=40,
        initial="steward",
        help_text="The system the records come from; its ids make replays harmless.",
    )
    file = forms.FileField(help_text="NDJSON (.ndjson, .jsonl) or CSV with a header row, UTF-8.")


SCORES = [("", "any")] + [(str(n), str(n)) for n in range(1, 6)]


class SegmentForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)
    segment = forms.ChoiceField(
        required=False,
        choices=[("", "any")] + [(k, v) for k, v in SEGMENT_LABELS.items() if k],
        label="RFM segment",
    )
    r_min = forms.ChoiceField(required=False, choices=SCORES, label="Recency from")
    r_max = forms.ChoiceField(required=False, choices=SCORES, label="Recency to")
    f_min = forms.ChoiceField(required=False, choices=SCORES, label="Frequency from")
    f_max = forms.ChoiceField(required=False, choices=SCORES, label="Frequency to")
    m_min = forms.ChoiceField(required=False, choices=SCORES, label="Monetary from")
    m_max = forms.ChoiceField(required=False, choices=SCORES, label="Monetary to")
    category = forms.CharField(required=False, max_length=80, label="Top category")
    channel = forms.ChoiceField(
        required=False, choices=[("", "any"), *Channel.choices], label="Preferred channel"
    )
    district = forms.CharField(required=False, max_length=60)
    tier = forms.ChoiceField(required=False, choices=[("", "any"), *Customer.Tier.choices])
    last_order_after = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    last_order_before = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    FILTERS = (
        "segment",
        "r_min",
        "r_max",
        "f_min",
        "f_max",
        "m_min",
        "m_max",
        "category",
        "channel",
        "district",
        "tier",
        "last_order_after",
        "last_order_before",
    )

    def filters(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in self.FILTERS:
            value: Any = self.cleaned_data.get(key)
            if value is None or value == "":
                continue
            out[key] = value.isoformat() if hasattr(value, "isoformat") else value
        return out
