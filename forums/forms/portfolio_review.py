"""Forms of the quarterly portfolio review: open a quarter, rate a dimension, take a decision.

They only shape input; the rules (who may, what is required, what a decided row allows) live in
``forums.portfolio_review``'s services, which report a broken rule on the field at fault."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from forums.choices import PortfolioDecision, ScorecardDimension
from forums.portfolio_review import quarter_of


class PortfolioReviewOpenForm(forms.Form):
    quarter = forms.CharField(
        label=_("Quarter"),
        max_length=20,
        help_text=_("YYYY-QN, e.g. 2026-Q4"),
        widget=forms.TextInput(attrs={"placeholder": "2026-Q4", "size": 8}),
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {"quarter": quarter_of(timezone.localdate())})
        super().__init__(*args, **kwargs)


class ScorecardRatingForm(forms.Form):
    """One dimension: accept the data's suggestion, or give a rating 1-5 with a note."""

    dimension = forms.ChoiceField(choices=ScorecardDimension.choices, widget=forms.HiddenInput)
    accept = forms.BooleanField(required=False, widget=forms.HiddenInput)
    rating = forms.TypedChoiceField(
        label=_("Rating"),
        choices=[("", "—")] + [(value, str(value)) for value in range(1, 6)],
        coerce=int,
        empty_value=None,
        required=False,
    )
    note = forms.CharField(
        label=_("Why"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Required when you differ from the data, or when no data speaks to it."),
    )


class ScorecardDecisionForm(forms.Form):
    """The decision of 9.3 and the output row of 9.4."""

    decision = forms.ChoiceField(
        label=_("Decision"), choices=PortfolioDecision.choices, widget=forms.RadioSelect
    )
    evidence_basis = forms.CharField(
        label=_("Evidence basis"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. cycle time down in low-risk retail, EDD defects unchanged"),
    )
    funding_change = forms.CharField(
        label=_("Funding change"),
        required=False,
        max_length=300,
        help_text=_("e.g. fund 2 engineers for workflow integration; stop funding at quarter end"),
    )
    platform_dependency = forms.CharField(
        label=_("Platform dependency"),
        required=False,
        max_length=300,
        help_text=_("e.g. document extraction quality dashboard"),
    )
    risk_condition = forms.CharField(
        label=_("Risk condition"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("e.g. no expansion to complex entity until false-pass sample remains clean"),
    )
    next_review = forms.CharField(
        label=_("Next review"),
        required=False,
        max_length=100,
        help_text=_("e.g. 2027-Q1 monthly value review"),
    )
    supersede = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        return {
            "decision": data["decision"],
            "evidence_basis": data["evidence_basis"],
            "funding_change": data["funding_change"],
            "platform_dependency": data["platform_dependency"],
            "risk_condition": data["risk_condition"],
            "next_review": data["next_review"],
            "supersede": data["supersede"],
        }
