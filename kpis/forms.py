"""Forms of the KPI pages. They only parse input; every rule is checked by the service they feed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms

from kpis.models import KpiReview, KpiVersion, Measure, Scorecard, Standing, StandingScheme, Subject

MAX_BANDS = 5
MAX_FORM_LINES = 8


class KpiVersionForm(forms.Form):
    """A KPI version's content, with up to five threshold bands as rows."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), help_text="Shown beside the number."
    )
    formula = forms.CharField(
        max_length=500,
        widget=forms.TextInput(
            attrs={"placeholder": "e.g. sla_met / (sla_met + sla_breached) * 100", "size": 60}
        ),
    )
    unit = forms.CharField(max_length=40, initial="%")
    direction = forms.ChoiceField(choices=KpiVersion.Direction.choices)
    statistic = forms.ChoiceField(choices=KpiVersion.Statistic.choices, required=False)
    target = forms.DecimalField(max_digits=20, decimal_places=6)
    weight = forms.DecimalField(
        max_digits=5, decimal_places=2, initial=Decimal(10), min_value=0, max_value=100
    )
    min_sample_size = forms.IntegerField(min_value=0, initial=0)
    effective_from = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), required=False)
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), help_text="Why; kept with the version."
    )
    target_band = forms.TypedChoiceField(
        choices=[(str(i), str(i + 1)) for i in range(MAX_BANDS)], coerce=int, widget=forms.RadioSelect
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in range(MAX_BANDS):
            n = i + 1
            self.fields[f"band_label_{i}"] = forms.CharField(
                max_length=60, required=False, widget=forms.TextInput(attrs={"aria-label": f"Band {n} label"})
            )
            self.fields[f"band_lower_{i}"] = forms.DecimalField(
                max_digits=20,
                decimal_places=6,
                required=False,
                widget=forms.NumberInput(attrs={"aria-label": f"Band {n} from (included)"}),
            )
            self.fields[f"band_upper_{i}"] = forms.DecimalField(
                max_digits=20,
                decimal_places=6,
                required=False,
                widget=forms.NumberInput(attrs={"aria-label": f"Band {n} below (excluded)"}),
            )
            self.fields[f"band_score_{i}"] = forms.DecimalField(
                max_digits=5,
                decimal_places=2,
                required=False,
                min_value=0,
                max_value=100,
                widget=forms.NumberInput(attrs={"aria-label": f"Band {n} score"}),
            )

    def band_rows(self) -> list[dict[str, Any]]:
        """Bound fields per band row, for the template."""
        return [
            {
                "index": i,
                "label": self[f"band_label_{i}"],
                "lower": self[f"band_lower_{i}"],
                "upper": self[f"band_upper_{i}"],
                "score": self[f"band_score_{i}"],
                "is_target": str(self["target_band"].value()) == str(i),
            }
            for i in range(MAX_BANDS)
        ]

    def bands(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        rows = []
        for i in range(MAX_BANDS):
            label = data.get(f"band_label_{i}")
            score = data.get(f"band_score_{i}")
            if not label and score is None:
                continue
            rows.append(
                {
                    "label": label or f"Band {i + 1}",
                    "lower": data.get(f"band_lower_{i}"),
                    "upper": data.get(f"band_upper_{i}"),
                    "score": score,
                    "is_target": data.get("target_band") == i,
                }
            )
        return rows

    def version_fields(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "name": data["name"],
            "description": data["description"],
            "formula": data["formula"],
            "unit": data["unit"],
            "direction": data["direction"],
            "statistic": data.get("statistic") or KpiVersion.Statistic.NONE,
            "target": data["target"],
            "bands": self.bands(),
            "weight": data["weight"],
            "min_sample_size": data["min_sample_size"],
        }

    @staticmethod
    def initial_from(version: KpiVersion) -> dict[str, Any]:
        initial: dict[str, Any] = {
            name: getattr(version, name)
            for name in (
                "name",
                "description",
                "formula",
                "unit",
                "direction",
                "statistic",
                "target",
                "weight",
                "min_sample_size",
            )
        }
        for i, band in enumerate(version.bands[:MAX_BANDS]):
            initial[f"band_label_{i}"] = band.get("label")
            initial[f"band_lower_{i}"] = band.get("lower")
            initial[f"band_upper_{i}"] = band.get("upper")
            initial[f"band_score_{i}"] = band.get("score")
            if band.get("is_target"):
                initial["target_band"] = str(i)
        return initial


class KpiCreateForm(KpiVersionForm):
    code = forms.SlugField(max_length=60, help_text="lower_snake_case, e.g. first_response_median")
    field_order = ["code"]


class VersionDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    note = forms.CharField(required=False, max_length=4000)


class ScorecardForm(forms.Form):
    """A scorecard with up to eight KPI rows (weight, critical service level, pool allocation)."""

    name = forms.CharField(max_length=200)
    subject = forms.ModelChoiceField(queryset=Subject.objects.none())
    granularity = forms.ChoiceField(
        choices=Scorecard.Granularity.choices, initial=Scorecard.Granularity.MONTH
    )
    standing_scheme = forms.ModelChoiceField(queryset=StandingScheme.objects.none(), required=False)

    def __init__(self, *args: Any, subjects: Any, kpis: Any, schemes: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["subject"].queryset = subjects  # type: ignore[attr-defined]
        self.fields["standing_scheme"].queryset = schemes  # type: ignore[attr-defined]
        for i in range(MAX_FORM_LINES):
            self.fields[f"kpi_{i}"] = forms.ModelChoiceField(queryset=kpis, required=False, label="KPI")
            self.fields[f"weight_{i}"] = forms.DecimalField(
                max_digits=5, decimal_places=2, required=False, min_value=0, max_value=100
            )
            self.fields[f"critical_{i}"] = forms.BooleanField(required=False)
            self.fields[f"allocation_{i}"] = forms.DecimalField(
                max_digits=5, decimal_places=2, required=False, min_value=0, max_value=100
            )

    def line_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "kpi": self[f"kpi_{i}"],
                "weight": self[f"weight_{i}"],
                "critical": self[f"critical_{i}"],
                "allocation": self[f"allocation_{i}"],
            }
            for i in range(MAX_FORM_LINES)
        ]

    def lines(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        return [
            {
                "kpi": data[f"kpi_{i}"],
                "weight": data.get(f"weight_{i}") or Decimal(0),
                "critical": bool(data.get(f"critical_{i}")),
                "allocation_pct": data.get(f"allocation_{i}") or Decimal(0),
            }
            for i in range(MAX_FORM_LINES)
            if data.get(f"kpi_{i}") is not None
        ]


class MultipliersField(forms.CharField):
    """Escalation multipliers typed as "1, 1.5, 2"; shown the same way from the stored list."""

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]


class CreditTermsForm(forms.Form):
    monthly_fee = forms.DecimalField(max_digits=14, decimal_places=2, min_value=0, label="Monthly fee (HKD)")
    at_risk_pct = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, label="At risk %"
    )
    pool_pct = forms.DecimalField(
        max_digits=6, decimal_places=2, min_value=0, max_value=500, initial=100, label="Pool allocation %"
    )
    earn_back_periods = forms.IntegerField(min_value=0, max_value=12, initial=0)
    bonus_cap_pct = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, initial=0)
    chronic_misses = forms.IntegerField(min_value=0, max_value=24, initial=0)
    escalation_window = forms.IntegerField(
        min_value=0, max_value=24, initial=0, required=False, label="Escalation window (months, 0: off)"
    )
    escalation_multipliers = MultipliersField(
        max_length=100,
        required=False,
        label="Multipliers for the 1st, 2nd, 3rd… miss",
        help_text="e.g. 1, 1.5, 2",
    )

    def clean_escalation_window(self) -> int:
        return self.cleaned_data.get("escalation_window") or 0


class CloseForm(forms.Form):
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), label="Period starting")


class AdjustmentDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("approve", "Approve"), ("override", "Override"), ("reject", "Reject")]
    )
    amount = forms.DecimalField(max_digits=14, decimal_places=2, required=False, label="Amount (HKD)")
    reason = forms.CharField(required=False, max_length=4000)


class SubmissionForm(forms.Form):
    measure = forms.ModelChoiceField(queryset=Measure.objects.none())
    subject = forms.ModelChoiceField(queryset=Subject.objects.none())
    start = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(
        widget=forms.DateInput(attrs={"type": "date"}), help_text="The first day after the period."
    )
    value = forms.DecimalField(max_digits=24, decimal_places=6)
    sample_size = forms.IntegerField(min_value=0, required=False)
    evidence = forms.FileField()
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, measures: Any, subjects: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["measure"].queryset = measures  # type: ignore[attr-defined]
        self.fields["subject"].queryset = subjects  # type: ignore[attr-defined]


class SubmissionDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", "Approve"), ("reject", "Reject")])
    reason = forms.CharField(required=False, max_length=4000)


class RecommendationDecisionForm(forms.Form):
    final = forms.ChoiceField(choices=Standing.Recommendation.choices)
    reason = forms.CharField(required=False, max_length=4000)


class ReviewDecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=KpiReview.Decision.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}))
    target = forms.DecimalField(max_digits=20, decimal_places=6, required=False, label="New target")


# --- Subjects, standings, scorecard lines, improvement plans (manage pages) -------------------------


class SubjectForm(forms.Form):
    """A subject: a vendor (pick the vendor), a team, or an agent (pick the staff member)."""

    KINDS = [(k, label) for k, label in Subject.Kind.choices if k != Subject.Kind.VENDOR_CONTRACT]

    kind = forms.ChoiceField(choices=KINDS)
    label = forms.CharField(max_length=200)
    vendor = forms.ModelChoiceField(queryset=Subject.objects.none(), required=False)
    user = forms.ModelChoiceField(queryset=Subject.objects.none(), required=False, label="Agent")

    def __init__(self, *args: Any, vendors: Any, agents: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = vendors  # type: ignore[attr-defined]
        self.fields["user"].queryset = agents  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind")
        if kind == Subject.Kind.VENDOR and not data.get("vendor"):
            self.add_error("vendor", "Choose the vendor this subject is.")
        if kind == Subject.Kind.AGENT and not data.get("user"):
            self.add_error("user", "Choose the agent this subject is.")
        return data


class StandingSchemeForm(forms.Form):
    name = forms.CharField(max_length=100)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class StandingForm(forms.Form):
    """One coloured band of a standing scheme and what happens to a subject that lands in it."""

    name = forms.CharField(max_length=60)
    colour = forms.CharField(max_length=7, initial="#5b6875", widget=forms.TextInput(attrs={"type": "color"}))
    lower = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, label="From")
    upper = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100, label="Below")
    notify_roles = forms.MultipleChoiceField(
        choices=[], required=False, widget=forms.CheckboxSelectMultiple, label="Notify"
    )
    flag_vendor_for_review = forms.BooleanField(required=False, label="Flag vendor for review")
    require_improvement_plan = forms.BooleanField(required=False, label="Require improvement plan")
    staff_recommendation = forms.ChoiceField(
        choices=Standing.Recommendation.choices, initial=Standing.Recommendation.NO_ACTION
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from accounts.roles import ROLES

        super().__init__(*args, **kwargs)
        self.fields["notify_roles"].choices = [  # type: ignore[attr-defined]
            (code, role.label) for code, role in ROLES.items() if role.staff
        ]


StandingFormSet = forms.formset_factory(StandingForm, extra=5, max_num=10, absolute_max=10)


def _parse_tiers(text: str) -> list[dict[str, str]]:
    """Parse "99.9:10, 99:20" into [{"threshold": "99.9", "pct_of_fee": "10"}, …]; the service checks them."""
    tiers = []
    for part in (p.strip() for p in text.replace(";", ",").split(",")):
        if not part:
            continue
        threshold, sep, pct = part.partition(":")
        if not sep:
            raise forms.ValidationError("Write tiers as threshold:% of fee, e.g. 99.9:10, 99:20.")
        tiers.append({"threshold": threshold.strip(), "pct_of_fee": pct.strip()})
    return tiers


class ScorecardLineForm(forms.Form):
    """One KPI on a scorecard with its weight and, for contracts, its credit terms."""

    kpi = forms.ModelChoiceField(queryset=Subject.objects.none(), label="KPI")
    weight = forms.DecimalField(max_digits=5, decimal_places=2, min_value=0, max_value=100)
    critical = forms.BooleanField(required=False, label="Critical service level")
    allocation_pct = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, label="Pool allocation %"
    )
    tiers = forms.CharField(
        max_length=200,
        required=False,
        help_text="Tiered credits as threshold:% of fee, e.g. 99.9:10, 99:20.",
    )
    earn_back_target = forms.DecimalField(max_digits=20, decimal_places=6, required=False)
    bonus_target = forms.DecimalField(max_digits=20, decimal_places=6, required=False)
    bonus_pct = forms.DecimalField(
        max_digits=5, decimal_places=2, min_value=0, max_value=100, required=False, label="Bonus % of fee"
    )

    def __init__(self, *args: Any, kpis: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kpi"].queryset = kpis  # type: ignore[attr-defined]

    def clean_tiers(self) -> list[dict[str, str]]:
        return _parse_tiers(self.cleaned_data.get("tiers") or "")

    def spec(self) -> dict[str, Any]:
        data = self.cleaned_data
        return {
            "kpi": data["kpi"],
            "weight": data["weight"],
            "critical": bool(data.get("critical")),
            "allocation_pct": data.get("allocation_pct") or Decimal(0),
            "tiers": tuple(data.get("tiers") or ()),
            "earn_back_target": data.get("earn_back_target"),
            "bonus_target": data.get("bonus_target"),
            "bonus_pct": data.get("bonus_pct") or Decimal(0),
        }

    @staticmethod
    def initial_from(line: Any) -> dict[str, Any]:
        return {
            "kpi": line.kpi_id,
            "weight": line.weight,
            "critical": line.critical,
            "allocation_pct": line.allocation_pct,
            "tiers": ", ".join(f"{t['threshold']}:{t['pct_of_fee']}" for t in line.tiers),
            "earn_back_target": line.earn_back_target,
            "bonus_target": line.bonus_target,
            "bonus_pct": line.bonus_pct,
        }


ScorecardLineFormSet = forms.formset_factory(
    ScorecardLineForm, extra=2, can_delete=True, max_num=20, absolute_max=20
)


class ImprovementPlanForm(forms.Form):
    plan = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}), max_length=10000, help_text="What will change, and by when."
    )
