"""Forms of the vendor pages. They parse input only; every rule is checked by ``vendors.services``."""

from __future__ import annotations

from typing import Any, cast

from django import forms
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from kpis.models import KpiDefinition
from vendors.models import (
    ActionItem,
    BusinessFunction,
    Contract,
    ContractVersion,
    DataFlow,
    FeeItem,
    LiaisonEntry,
    Obligation,
    ObligationInstance,
    Party,
    Raci,
    RenewalType,
    RiskQuestionnaire,
    ScopeAssignment,
    ScopeItem,
    ServiceCategory,
    ServiceLevel,
    ServiceModel,
    Vendor,
    VendorContact,
    VendorDocument,
)

DATE = forms.DateInput(attrs={"type": "date"})
MONEY = {"max_digits": 14, "decimal_places": 2, "min_value": 0}
PCT = {"max_digits": 5, "decimal_places": 2, "min_value": 0, "max_value": 100}


class VendorForm(forms.Form):
    code = forms.SlugField(max_length=40, help_text="Short identifier, e.g. 'harbourcall'.")
    name = forms.CharField(max_length=200)
    status = forms.ChoiceField(choices=Vendor.Status.choices, initial=Vendor.Status.PROSPECT)
    category = forms.ChoiceField(choices=[("", "—"), *ServiceCategory.choices], required=False)
    service_model = forms.ChoiceField(choices=[("", "—"), *ServiceModel.choices], required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("category")) != bool(data.get("service_model")):
            raise forms.ValidationError("Give both the service category and the service model, or neither.")
        return data


class StatusForm(forms.Form):
    status = forms.ChoiceField(choices=Vendor.Status.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=2000)

    def __init__(self, *args: Any, vendor: Vendor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        allowed = vendor.allowed_statuses()
        status = cast(forms.ChoiceField, self.fields["status"])
        status.choices = [(s, Vendor.Status(s).label) for s in allowed]


class ServiceForm(forms.Form):
    category = forms.ChoiceField(choices=ServiceCategory.choices)
    service_model = forms.ChoiceField(choices=ServiceModel.choices)
    description = forms.CharField(max_length=300, required=False)


class RiskForm(forms.Form):
    """One choice per question of the questionnaire, and notes."""

    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)

    def __init__(self, *args: Any, questionnaire: RiskQuestionnaire, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for question in questionnaire.questions:
            self.fields[f"q_{question['code']}"] = forms.ChoiceField(
                label=question["text"],
                choices=[(o["code"], o["label"]) for o in question["options"]],
                widget=forms.RadioSelect,
            )
        self.fields["notes"] = self.fields.pop("notes")

    def answers(self) -> dict[str, str]:
        return {name[2:]: value for name, value in self.cleaned_data.items() if name.startswith("q_")}


class ContactForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = VendorContact
        fields = ["name", "job_title", "email", "phone", "escalation_level", "is_primary"]


class DocumentForm(forms.Form):
    kind = forms.ChoiceField(choices=VendorDocument.Kind.choices)
    title = forms.CharField(max_length=200)
    reference = forms.CharField(max_length=100, required=False)
    issuer = forms.CharField(max_length=200, required=False)
    issued_on = forms.DateField(required=False, widget=DATE)
    expires_on = forms.DateField(required=False, widget=DATE)
    upload = forms.FileField(required=False, label="File (PDF, PNG, JPEG, XLSX, CSV or TXT)")
    replaces = forms.ModelChoiceField(queryset=VendorDocument.objects.none(), required=False)

    def __init__(self, *args: Any, documents: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if documents is not None:
            self.fields["replaces"].queryset = documents.filter(replaced_by__isnull=True)  # type: ignore[attr-defined]


def _staff() -> Any:
    return User.objects.filter(is_active=True, vendor__isnull=True).order_by("username")


class TermsForm(forms.Form):
    start = forms.DateField(widget=DATE)
    end = forms.DateField(widget=DATE, help_text="The last day of the term.")
    signed_on = forms.DateField(widget=DATE, required=False)
    monthly_fee = forms.DecimalField(label="Monthly fee (HK$)", **MONEY)  # type: ignore[arg-type]
    total_value = forms.DecimalField(
        label="Total contract value (HK$)", required=False, max_digits=16, decimal_places=2, min_value=0
    )
    at_risk_pct = forms.DecimalField(label="At risk (% of the monthly fee)", initial=0, **PCT)  # type: ignore[arg-type]
    renewal_type = forms.ChoiceField(choices=RenewalType.choices, initial=RenewalType.BY_AGREEMENT)
    renewal_term_months = forms.IntegerField(required=False, min_value=1, max_value=120)
    notice_period_days = forms.IntegerField(initial=90, min_value=0, max_value=730)
    data_sharing = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=4000)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000)


class ContractForm(TermsForm):
    reference = forms.CharField(max_length=60, help_text="e.g. HC-CS-2025")
    title = forms.CharField(max_length=200)
    our_entity = forms.CharField(max_length=200, initial="Steward Trading (HK) Ltd")
    vendor_entity = forms.CharField(max_length=200, required=False, help_text="Empty: the vendor's name.")
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    alert_days = forms.CharField(
        initial="120, 90, 30", help_text="Days ahead of the notice deadline and the end."
    )

    field_order = ["reference", "title", "our_entity", "vendor_entity", "owner", "alert_days"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = _staff()  # type: ignore[attr-defined]

    def clean_alert_days(self) -> list[int]:
        raw = self.cleaned_data["alert_days"]
        try:
            return [int(part) for part in raw.replace(";", ",").split(",") if part.strip()]
        except ValueError:
            raise forms.ValidationError("Whole numbers of days, separated by commas.") from None


class NewVersionForm(forms.Form):
    kind = forms.ChoiceField(
        choices=[(ContractVersion.Kind.AMENDMENT, "Amendment"), (ContractVersion.Kind.RENEWAL, "Renewal")]
    )
    start = forms.DateField(widget=DATE)
    end = forms.DateField(widget=DATE, required=False, help_text="Empty: the current end.")
    summary = forms.CharField(max_length=4000, help_text="What this version changes, and why.")


class FeeForm(forms.Form):
    description = forms.CharField(max_length=300)
    basis = forms.ChoiceField(choices=FeeItem.Basis.choices)
    amount = forms.DecimalField(label="Amount (HK$)", **MONEY)  # type: ignore[arg-type]
    unit = forms.CharField(max_length=60, required=False)


class ScopeForm(forms.Form):
    kind = forms.ChoiceField(choices=ScopeItem.Kind.choices)
    description = forms.CharField(max_length=500)
    due_on = forms.DateField(widget=DATE, required=False)
    acceptance = forms.CharField(max_length=500, required=False)


class RaciForm(forms.Form):
    activity = forms.CharField(max_length=200)
    company_role = forms.ChoiceField(label="Us", choices=Raci.choices)
    vendor_role = forms.ChoiceField(label="Vendor", choices=Raci.choices)


class ServiceLevelForm(forms.Form):
    kpi = forms.ModelChoiceField(queryset=KpiDefinition.objects.none(), label="KPI")
    kind = forms.ChoiceField(choices=ServiceLevel.Kind.choices)
    weight = forms.DecimalField(
        label="Scorecard weight", max_digits=5, decimal_places=2, min_value=0, max_value=100
    )
    allocation_pct = forms.DecimalField(label="Pool allocation %", initial=0, **PCT)  # type: ignore[arg-type]
    clause = forms.CharField(max_length=100, required=False)

    def __init__(self, *args: Any, kpis: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = kpis  # type: ignore[attr-defined]


PART_FORMS: dict[str, type[forms.Form]] = {
    "fees": FeeForm,
    "scope": ScopeForm,
    "raci": RaciForm,
    "service_levels": ServiceLevelForm,
}


class ObligationForm(forms.Form):
    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=4000)
    clause = forms.CharField(max_length=100, required=False)
    owner_party = forms.ChoiceField(choices=Party.choices, initial=Party.VENDOR)
    owner = forms.ModelChoiceField(queryset=User.objects.none(), required=False)
    recurrence = forms.ChoiceField(choices=Obligation.Recurrence.choices)
    first_due_on = forms.DateField(widget=DATE)
    until = forms.DateField(widget=DATE, required=False, help_text="Empty: until the term ends.")
    evidence_required = forms.BooleanField(required=False, initial=True)
    evidence_description = forms.CharField(max_length=300, required=False)

    def __init__(self, *args: Any, vendor: Vendor, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        people = User.objects.filter(is_active=True).filter(Q(vendor__isnull=True) | Q(vendor=vendor))
        self.fields["owner"].queryset = people.order_by("username")  # type: ignore[attr-defined]


class EvidenceForm(forms.Form):
    file = forms.FileField(label="Evidence (PDF, PNG, JPEG, XLSX, CSV or TXT, at most 10 MB)")
    note = forms.CharField(max_length=500, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=2000)


class NoteForm(forms.Form):
    note = forms.CharField(max_length=2000, required=False)


class LiaisonForm(forms.Form):
    kind = forms.ChoiceField(choices=LiaisonEntry.Kind.choices)
    occurred_at = forms.DateTimeField(
        label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), initial=timezone.now
    )
    title = forms.CharField(max_length=200)
    contract = forms.ModelChoiceField(queryset=Contract.objects.none(), required=False)
    participants = forms.CharField(max_length=500, required=False)
    minutes = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), required=False, max_length=20000)
    decisions = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), required=False, max_length=20000)

    def __init__(self, *args: Any, contracts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contract"].queryset = contracts  # type: ignore[attr-defined]


class ActionForm(forms.Form):
    description = forms.CharField(max_length=500, required=False)
    owner_party = forms.ChoiceField(choices=Party.choices, initial=Party.VENDOR)
    due_on = forms.DateField(widget=DATE, required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("description") and not data.get("due_on"):
            self.add_error("due_on", "An action has a due date.")
        return data


ActionFormSet = forms.formset_factory(ActionForm, extra=3, max_num=20)


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionItem.Status.choices)
    progress_note = forms.CharField(max_length=4000, required=False)


class UpdateRequestForm(forms.Form):
    title = forms.CharField(max_length=200)
    details = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=8000)
    due_on = forms.DateField(widget=DATE)


class ResponseForm(forms.Form):
    response = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=8000)


class CalendarFilterForm(forms.Form):
    start = forms.DateField(widget=DATE, required=False)
    end = forms.DateField(widget=DATE, required=False)
    status = forms.ChoiceField(
        choices=[("", "Any status"), *ObligationInstance.Status.choices], required=False
    )


class FunctionForm(forms.Form):
    area = forms.CharField(max_length=100)
    name = forms.CharField(max_length=200)
    description = forms.CharField(max_length=4000, required=False)


class AssignmentForm(forms.Form):
    function = forms.ModelChoiceField(queryset=BusinessFunction.objects.none())
    mode = forms.ChoiceField(choices=ScopeAssignment.Mode.choices)
    vendor = forms.ModelChoiceField(
        queryset=Vendor.objects.none(), required=False, help_text="Empty for in-house."
    )
    contract = forms.ModelChoiceField(queryset=Contract.objects.none(), required=False)
    notes = forms.CharField(max_length=500, required=False)

    def __init__(self, *args: Any, functions: Any, vendors: Any, contracts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["function"]).queryset = functions  # type: ignore[type-arg]
        cast(forms.ModelChoiceField, self.fields["vendor"]).queryset = vendors  # type: ignore[type-arg]
        cast(forms.ModelChoiceField, self.fields["contract"]).queryset = contracts  # type: ignore[type-arg]


class DataFlowForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = DataFlow
        fields = [
            "direction",
            "title",
            "data_categories",
            "personal_data",
            "frequency",
            "channel",
            "legal_basis",
            "retention",
            "location",
            "transfer_clauses",
            "contract",
        ]

    def __init__(self, *args: Any, contracts: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["contract"]).queryset = contracts  # type: ignore[type-arg]


class ExchangeForm(forms.Form):
    occurred_at = forms.DateTimeField(
        label="When", widget=forms.DateTimeInput(attrs={"type": "datetime-local"}), initial=timezone.now
    )
    record_count = forms.IntegerField(min_value=0, max_value=2_000_000_000)
    reference = forms.CharField(max_length=200, required=False)
    note = forms.CharField(max_length=500, required=False)
