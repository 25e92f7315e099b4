import re

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from assumptions.choices import TYPE_EXAMPLES, AssumptionStatus, AssumptionType, Confidence, ObjectType
from assumptions.services import review_source_from_reference
from productops.errors import DomainError

_DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def style_widgets(form, size: str = "") -> None:
    """Bootstrap classes on the widgets (the templates render bare ``{{ field }}``)."""
    suffix = f" form-control-{size}" if size else ""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple):
            continue
        if isinstance(widget, forms.Select | forms.SelectMultiple):
            css = "form-select" + (f" form-select-{size}" if size else "")
        else:
            css = "form-control" + suffix
        widget.attrs["class"] = f"{widget.attrs.get('class', '')} {css}".strip()


def _split(text: str) -> list[str]:
    return [part for part in re.split(r"[\s,;]+", text or "") if part]


def type_help() -> str:
    return " ".join(f"{AssumptionType(key).label}: {example}" for key, example in TYPE_EXAMPLES.items())


class AssumptionForm(forms.Form):
    """What an assumption says (playbook 14.2). The status is not here: it moves by review.

    The form only shapes input; ``assumption_create`` / ``assumption_update`` apply the rules
    and name the field at fault, which the view puts back on the form.
    """

    capability = forms.ModelChoiceField(label=_("Capability"), queryset=None, to_field_name="slug")
    statement = forms.CharField(
        label=_("Statement"),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One belief the roadmap or business case rests on, stated so evidence can test it."),
    )
    type = forms.ChoiceField(label=_("Type"), choices=AssumptionType.choices)
    owner = forms.ModelChoiceField(label=_("Owner"), queryset=None, to_field_name="username")
    evidence = forms.CharField(
        label=_("Evidence"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Markdown. What the belief rests on so far, with its source and evidence level (E1-E5)."),
    )
    confidence = forms.ChoiceField(
        label=_("Confidence"), choices=Confidence.choices, initial=Confidence.MEDIUM
    )
    expires_on = forms.DateField(
        label=_("Expiry"),
        widget=_DATE,
        help_text=_("The last day the ledger may rely on it without a new review."),
    )
    decision_impact = forms.CharField(
        label=_("Decision impact"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("What decision or roadmap item depends on it, and what changes if it fails."),
    )
    tested_by_contracts = forms.CharField(
        label=_("Tested by contracts"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Metric contract ids, one per line or separated by commas, e.g. cc_agent_assist.repeat_contact_7d."
        ),
    )
    depends_on_object_types = forms.MultipleChoiceField(
        label=_("Depends on"),
        required=False,
        choices=ObjectType.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("When a release changes one of these, the assumption turns expired."),
    )

    def __init__(self, *args, capabilities=None, owners=None, assumption=None, **kwargs):
        if assumption is not None:
            kwargs.setdefault(
                "initial",
                {
                    "statement": assumption.statement,
                    "type": assumption.type,
                    "owner": assumption.owner,
                    "evidence": assumption.evidence,
                    "confidence": assumption.confidence,
                    "expires_on": assumption.expires_on,
                    "decision_impact": assumption.decision_impact,
                    "tested_by_contracts": "\n".join(assumption.tested_by_contracts),
                    "depends_on_object_types": assumption.depends_on_object_types,
                },
            )
        super().__init__(*args, **kwargs)
        self.fields["type"].help_text = type_help()
        if assumption is not None:
            # An assumption stays on its capability; only what it says can be edited.
            del self.fields["capability"]
            self.fields["owner"].queryset = owners_for(assumption.capability)
        else:
            self.fields["capability"].queryset = capabilities
            self.fields["owner"].queryset = owners if owners is not None else owners_for(None)
        style_widgets(self)

    def clean_tested_by_contracts(self):
        return _split(self.cleaned_data["tested_by_contracts"])

    def service_arguments(self) -> dict:
        return dict(self.cleaned_data)


def owners_for(capability):
    """People who may own an assumption: those with a role on the capability or everywhere
    (any role holder when the capability is not chosen yet)."""
    people = get_user_model().objects.filter(is_active=True)
    if capability is None:
        people = people.filter(role_assignments__isnull=False)
    else:
        people = people.filter(
            Q(role_assignments__capability=capability) | Q(role_assignments__capability__isnull=True)
        )
    return people.distinct().order_by("first_name", "last_name", "username")


class ReviewForm(forms.Form):
    """One assumption review (playbook 21.4): new evidence, new status, roadmap impact, next review."""

    new_status = forms.ChoiceField(label=_("New status"), choices=AssumptionStatus.choices)
    new_evidence = forms.CharField(
        label=_("New evidence"),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Markdown. What was observed, where, and its evidence level."),
    )
    roadmap_impact = forms.CharField(
        label=_("Roadmap impact"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Backlog items, releases or decisions this changes."),
    )
    next_review = forms.DateField(label=_("Next review"), required=False, widget=_DATE)
    expires_on = forms.DateField(
        label=_("New expiry date"),
        required=False,
        widget=_DATE,
        help_text=_(
            "Required to re-open an expired assumption; otherwise leave empty to keep the current one."
        ),
    )
    confidence = forms.ChoiceField(
        label=_("Confidence"),
        required=False,
        choices=[("", _("Unchanged"))] + list(Confidence.choices),
    )
    source = forms.CharField(
        label=_("Where"),
        required=False,
        max_length=40,
        help_text=_("The decision or forum session this review happened in, e.g. DEC-0007 (optional)."),
    )

    def __init__(self, *args, assumption, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # Any status is accepted here and the model says whether the move is allowed (so a
        # stale page gets the ledger's own message); the menu offers only the allowed ones.
        allowed = set(assumption.allowed_statuses())
        self.fields["new_status"].widget.choices = [("", _("Choose…"))] + [
            (value, label) for value, label in AssumptionStatus.choices if value in allowed
        ]
        style_widgets(self)

    def clean_source(self):
        try:
            return review_source_from_reference(user=self.user, reference=self.cleaned_data["source"])
        except DomainError as error:
            raise forms.ValidationError(error.message) from error

    def service_arguments(self) -> dict:
        data = dict(self.cleaned_data)
        data["confidence"] = data.get("confidence") or None
        return data
