"""Forms of the privacy pages. They parse input only; every rule is checked by the services."""

from __future__ import annotations

from typing import Any

from django import forms

from customers.models import (
    ChecklistItem,
    CollectedField,
    CollectionChannel,
    CollectionForm,
    ConsentEntry,
    Customer,
    DataKind,
    MarketingChannel,
    MarketingPurpose,
    ModelClauses,
    ProcessorCheck,
    SuppressionChannel,
    Transferee,
)
from vendors.models import DataFlow

DATE = forms.DateInput(attrs={"type": "date"})
LEVELS = [("", "Not collected"), ("obligatory", "Obligatory"), ("voluntary", "Voluntary")]


class StatementForm(forms.Form):
    """A PICS draft; each collectable field gets a level and, when obligatory, a consequence."""

    title = forms.CharField(max_length=200)
    purposes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    transferee_classes = forms.CharField(
        label="Classes of transferees", widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )
    direct_marketing = forms.CharField(
        label="Direct-marketing notice",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=4000,
        required=False,
    )
    access_contact = forms.CharField(
        label="Access and correction contact", widget=forms.Textarea(attrs={"rows": 2}), max_length=4000
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in CollectedField.choices:
            self.fields[f"level_{value}"] = forms.ChoiceField(label=label, choices=LEVELS, required=False)
            self.fields[f"consequence_{value}"] = forms.CharField(
                label=f"If “{label}” is not supplied", max_length=300, required=False
            )

    @staticmethod
    def initial_for(statement: Any) -> dict[str, Any]:
        initial = {
            name: getattr(statement, name)
            for name in ("title", "purposes", "transferee_classes", "direct_marketing", "access_contact")
        }
        for item in statement.items:
            initial[f"level_{item['field']}"] = "obligatory" if item["obligatory"] else "voluntary"
            initial[f"consequence_{item['field']}"] = item.get("consequence", "")
        return initial

    def field_rows(self) -> list[tuple[Any, Any]]:
        return [(self[f"level_{v}"], self[f"consequence_{v}"]) for v in CollectedField.values]

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        items = [
            {
                "field": value,
                "obligatory": data[f"level_{value}"] == "obligatory",
                "consequence": data[f"consequence_{value}"],
            }
            for value in CollectedField.values
            if data.get(f"level_{value}")
        ]
        base = ("title", "purposes", "transferee_classes", "direct_marketing", "access_contact")
        return {"items": items, **{name: data[name] for name in base}}


class CollectionFormForm(forms.Form):
    name = forms.CharField(max_length=200)
    channel = forms.ChoiceField(choices=CollectionChannel.choices)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for value, label in CollectedField.choices:
            self.fields[f"level_{value}"] = forms.ChoiceField(label=label, choices=LEVELS, required=False)

    def level_fields(self) -> list[Any]:
        return [self[f"level_{v}"] for v in CollectedField.values]

    def chosen(self) -> list[dict[str, Any]]:
        return [
            {"field": v, "obligatory": self.cleaned_data[f"level_{v}"] == "obligatory"}
            for v in CollectedField.values
            if self.cleaned_data.get(f"level_{v}")
        ]


class PolicyForm(forms.Form):
    hkid_enabled = forms.BooleanField(label="Collect HKID numbers", required=False)
    legal_basis = forms.CharField(label="Legal basis", max_length=500, required=False)


class PurposeForm(forms.Form):
    code = forms.SlugField(max_length=40)
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=4000, required=False)


class CollectionRecordForm(forms.Form):
    form = forms.ModelChoiceField(queryset=CollectionForm.objects.none(), label="Form")
    supplied = forms.MultipleChoiceField(
        choices=CollectedField.choices, widget=forms.CheckboxSelectMultiple, label="Supplied", required=False
    )
    hkid = forms.CharField(label="HKID number", max_length=20, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["form"].queryset = CollectionForm.objects.restrict(user).filter(active=True)  # type: ignore[attr-defined]


class ConsentForm(forms.Form):
    purpose = forms.ModelChoiceField(queryset=MarketingPurpose.objects.none())
    channel = forms.ChoiceField(choices=MarketingChannel.choices)
    data_kind = forms.ChoiceField(choices=DataKind.choices, label="Kind of data")
    method = forms.ChoiceField(
        choices=[(m.value, m.label) for m in ConsentEntry.Method if m != ConsentEntry.Method.OPT_OUT]
    )
    transferee = forms.ModelChoiceField(
        queryset=Transferee.objects.none(), required=False, label="Transferee"
    )
    for_gain = forms.BooleanField(required=False, label="For gain")
    notice_text = forms.CharField(
        label="Notice shown", widget=forms.Textarea(attrs={"rows": 3}), max_length=8000
    )
    source = forms.CharField(max_length=200)
    evidence = forms.CharField(max_length=300, required=False, label="Evidence (recording, scan)")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = MarketingPurpose.objects.restrict(user).filter(active=True)  # type: ignore[attr-defined]
        self.fields["transferee"].queryset = Transferee.objects.restrict(user)  # type: ignore[attr-defined]


class OptOutForm(forms.Form):
    channel = forms.ChoiceField(choices=SuppressionChannel.choices)
    source = forms.CharField(max_length=200)
    note = forms.CharField(max_length=500, required=False)


class PhoneOptOutForm(forms.Form):
    """What an agent records when a caller says "stop marketing to me" (s35G)."""

    channel = forms.ChoiceField(
        choices=SuppressionChannel.choices, initial=SuppressionChannel.ALL, label="Stop marketing by"
    )
    note = forms.CharField(max_length=500, required=False, label="Note (ticket number, words used)")


class TransitionalForm(forms.Form):
    pre_2013_data = forms.BooleanField(
        required=False, label="Used for direct marketing before 1 April 2013 (s35D)"
    )
    purposes = forms.ModelMultipleChoiceField(queryset=MarketingPurpose.objects.none(), required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purposes"].queryset = MarketingPurpose.objects.restrict(user)  # type: ignore[attr-defined]


class RevealForm(forms.Form):
    REASONS = [
        ("", "Choose…"),
        ("Handling the customer's enquiry or complaint", "Handling the customer's enquiry or complaint"),
        ("Data access or correction request", "Data access or correction request"),
        ("Investigating a suspected breach", "Investigating a suspected breach"),
        ("Legal or regulatory requirement", "Legal or regulatory requirement"),
    ]
    reason = forms.ChoiceField(choices=REASONS, required=False, label="Purpose")
    detail = forms.CharField(max_length=150, required=False, label="Details (case or request number)")

    def stated_purpose(self) -> str:
        reason = self.cleaned_data.get("reason") or ""
        detail = (self.cleaned_data.get("detail") or "").strip()
        return f"{reason}: {detail}" if reason and detail else (reason or detail)


class MarketingListForm(forms.Form):
    channel = forms.ChoiceField(choices=MarketingChannel.choices)
    purpose = forms.ModelChoiceField(queryset=MarketingPurpose.objects.none())
    tier = forms.ChoiceField(choices=[("", "Any tier"), *Customer.Tier.choices], required=False)
    district = forms.CharField(max_length=60, required=False)
    customer_ids = forms.CharField(
        label="Customer ids (optional)",
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        max_length=200_000,
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["purpose"].queryset = MarketingPurpose.objects.restrict(user).filter(active=True)  # type: ignore[attr-defined]

    def clean_customer_ids(self) -> list[int]:
        raw = self.cleaned_data["customer_ids"].replace(",", " ").split()
        if not all(part.isdigit() and len(part) < 19 for part in raw):
            raise forms.ValidationError("Give customer ids as numbers separated by spaces or commas.")
        return [int(part) for part in raw]


class ExportForm(MarketingListForm):
    transferee = forms.ModelChoiceField(queryset=Transferee.objects.none(), required=False)
    data_flow = forms.ModelChoiceField(
        queryset=DataFlow.objects.none(),
        required=False,
        label="Register line (when the list goes to the transferee's vendor)",
    )
    file_format = forms.ChoiceField(choices=[("csv", "CSV"), ("xlsx", "Excel (XLSX)")], label="Format")

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from customers.marketing import export_flows  # marketing imports the models this module does

        super().__init__(*args, user=user, **kwargs)
        self.fields["transferee"].queryset = Transferee.objects.restrict(user)  # type: ignore[attr-defined]
        self.fields["data_flow"].queryset = export_flows(user=user)  # type: ignore[attr-defined]
        self.fields["data_flow"].label_from_instance = lambda f: f"{f.vendor.name}: {f.title}"  # type: ignore[attr-defined]


class ExchangeCustomersForm(forms.Form):
    """Whose data an exchange carried: the shop's customer ids, as in the file or feed sent."""

    references = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=200_000,
        label="Customer ids as sent (the shop's ids, one per line or separated by commas)",
    )

    def clean_references(self) -> list[str]:
        tokens = [t.strip() for t in self.cleaned_data["references"].replace(",", "\n").splitlines()]
        refs = sorted({t for t in tokens if t})
        if not refs:
            raise forms.ValidationError("Give at least one customer id.")
        if len(refs) > 10_000:
            raise forms.ValidationError("At most 10,000 ids at a time.")
        return refs


class SendForm(MarketingListForm):
    subject = forms.CharField(max_length=200, required=False)
    message = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=8000)
    opt_out_notice = forms.CharField(
        max_length=1000,
        initial="To stop receiving these messages, reply STOP or write to privacy@example.hk; it is free.",
        label="Opt-out notice (s35F)",
    )


class ProcessorForm(forms.Form):
    vendor: forms.ModelChoiceField[Any] = forms.ModelChoiceField(queryset=None)
    processing = forms.CharField(max_length=300)
    contract_clause = forms.CharField(max_length=300)
    location = forms.CharField(max_length=100, initial="Hong Kong")
    model_clauses = forms.ChoiceField(choices=ModelClauses.choices)
    data_flows: forms.ModelMultipleChoiceField[Any] = forms.ModelMultipleChoiceField(
        queryset=None, required=False
    )

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        from vendors.models import DataFlow, Vendor

        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = Vendor.objects.restrict(user)  # type: ignore[attr-defined]
        self.fields["data_flows"].queryset = (  # type: ignore[attr-defined]
            DataFlow.objects.restrict(user).filter(personal_data=True).select_related("vendor")
        )


class CheckForm(forms.Form):
    item = forms.ChoiceField(choices=ChecklistItem.choices)
    answer = forms.ChoiceField(choices=ProcessorCheck.Answer.choices)
    evidence = forms.CharField(max_length=500, required=False)
    evidence_date = forms.DateField(widget=DATE, required=False)


class AcknowledgeForm(forms.Form):
    note = forms.CharField(max_length=500)
