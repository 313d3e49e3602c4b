"""Forms of the service-quality pages. They parse input; the services decide the rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import RegexValidator

from service.models import CodeItem, QaReview, StaffReview

MONTH = RegexValidator(r"^\d{4}-(0[1-9]|1[0-2])$", "Give a month as YYYY-MM.")


class SurveyAnswerForm(forms.Form):
    """The customer's answers; the scales come from the invitation."""

    csat = forms.TypedChoiceField(
        label="How satisfied are you with how we handled your enquiry?",
        choices=[(str(n), str(n)) for n in range(1, 6)],
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    nps = forms.TypedChoiceField(
        label="How likely are you to recommend us to a friend or colleague?",
        choices=[(str(n), str(n)) for n in range(0, 11)],
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    ces = forms.TypedChoiceField(
        label="How easy was it to get your issue solved?",
        choices=[],
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(
        label="Anything else you would like to tell us? (optional)",
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, ces_scale: int = 7, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["ces"].choices = [(str(n), str(n)) for n in range(1, ces_scale + 1)]  # type: ignore[attr-defined]
        self.ces_scale = ces_scale


class CodeOfPracticeForm(forms.Form):
    code = forms.SlugField(max_length=40, help_text="A short identifier, e.g. service-ethics.")
    title = forms.CharField(max_length=200)
    summary = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class CodeItemForm(forms.Form):
    code = forms.CharField(max_length=20, help_text="e.g. PRIV-2")
    title = forms.CharField(max_length=200)
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
    category = forms.ChoiceField(choices=CodeItem.Category.choices)


class RubricForm(forms.Form):
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=4000)


class CategoryForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)
    weight = forms.DecimalField(max_digits=6, decimal_places=2, required=False)
    scale_min = forms.IntegerField(initial=0, required=False)
    scale_max = forms.IntegerField(initial=4, required=False)
    critical = forms.BooleanField(required=False)
    pass_mark = forms.DecimalField(max_digits=5, decimal_places=2, initial=100, required=False)


CategoryFormSet = forms.formset_factory(CategoryForm, extra=6, max_num=20)


class AssignForm(forms.Form):
    ticket = forms.IntegerField(min_value=1, label="Ticket id")
    reviewer = forms.TypedChoiceField(coerce=int, choices=[])
    rubric = forms.TypedChoiceField(coerce=int, choices=[])
    due_on = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


class DisputeForm(forms.Form):
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class ResolveForm(forms.Form):
    outcome = forms.ChoiceField(choices=QaReview.Outcome.choices)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)


class StaffReviewForm(forms.Form):
    agent = forms.TypedChoiceField(coerce=int, choices=[])
    month = forms.CharField(
        max_length=7, validators=[MONTH], help_text="YYYY-MM", widget=forms.TextInput(attrs={"type": "month"})
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=StaffReview.Recommendation.choices)
    reason = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=4000)
